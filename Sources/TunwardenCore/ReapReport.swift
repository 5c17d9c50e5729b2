import Foundation

/// What became of one planned item: the same three words in the journal, the JSON report and
/// the text for people.
public enum ReapOutcome: String, Decodable, Sendable {
    case deleted, skipped, failed
}

/// The outcome of one item, as a reap report shows it.
public struct ReapItemResult: JSONRecord, Sendable, Equatable {
    public var ifname: String
    public var ifindex: Int
    public var kind: InterfaceKind
    public var result: ReapOutcome
    public var detail: String?
    /// The device was not planned but went with the deletion of a batch (see the reaper's
    /// `ReapResult.unplanned`); its result is `failed`.
    public var unplanned: Bool

    public init(ifname: String, ifindex: Int, kind: InterfaceKind, result: ReapOutcome, detail: String?, unplanned: Bool = false) {
        self.unplanned = unplanned
        self.ifname = ifname
        self.ifindex = ifindex
        self.kind = kind
        self.result = result
        self.detail = detail
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("ifname", ifname)
            json.field("ifindex", ifindex)
            json.field("kind", kind.rawValue)
            json.field("result", result.rawValue)
            json.field("detail", detail)
            json.field("unplanned", unplanned ? true : nil)
        }
    }
}

/// What the repair of a reap killed outright (SIGKILL, a power cut) did to one device it had
/// left fenced or down, as the next reap reports it before planning: `skipped` when the device was
/// given back (or had nothing to undo), `failed` when it could not be, or lacks what it had,
/// `deleted` when it is gone. The same words the journal's result record for it has.
public struct ReapRepair: JSONRecord, Sendable, Equatable {
    /// The id of the run that was killed, as its journal records name it.
    public var run: String
    public var ifname: String
    public var ifindex: Int
    public var result: ReapOutcome
    public var detail: String

    public init(run: String, ifname: String, ifindex: Int, result: ReapOutcome, detail: String) {
        self.run = run
        self.ifname = ifname
        self.ifindex = ifindex
        self.result = result
        self.detail = detail
    }

    /// Whether the device could not be given back as it was: the reap exits 1 for it.
    public var failed: Bool { result == .failed }

    /// The repair in one line for people.
    public var line: String { "\(failed ? "Could not repair" : "Repaired") \(ifname) (ifindex \(ifindex)): \(detail)" }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("run", run)
            json.field("ifname", ifname)
            json.field("ifindex", ifindex)
            json.field("result", result.rawValue)
            json.field("detail", detail)
        }
    }
}

/// A device a reap killed outright left fenced or down, which the next real reap gives back
/// before planning: what a dry run reports of it, since it repairs nothing.
public struct PendingRepair: JSONRecord, Sendable, Equatable {
    public var run: String
    public var ifname: String
    public var ifindex: Int

    public init(run: String, ifname: String, ifindex: Int) {
        self.run = run
        self.ifname = ifname
        self.ifindex = ifindex
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("run", run)
            json.field("ifname", ifname)
            json.field("ifindex", ifindex)
        }
    }
}

/// A reap that stopped before its report, as JSON: the audit's error object (`version`, `status`
/// "unknown", `error`), with what the repair of a killed reap had already given back, when it
/// had, under `repairs` as in the report.
public struct ReapFailure: JSONRecord, Sendable {
    public var error: String
    public var repairs: [ReapRepair]

    public init(error: String, repairs: [ReapRepair]) {
        self.error = error
        self.repairs = repairs
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("version", 1)
            json.field("status", "unknown")
            json.field("error", error)
            json.field("repairs", repairs.isEmpty ? nil : repairs)
        }
    }
}

/// A reap as JSON: what the repair of a killed reap did, the plan, what was left out and why, and
/// after a real run the results.
public struct ReapReport: JSONRecord, Sendable {
    /// An item of the plan: what would be done (or was attempted), to which device, why, and the
    /// commands that would make it again.
    struct PlannedEntry: JSONRecord, Sendable {
        var action: ReapAction
        var ifindex: Int
        var ifname: String
        var kind: InterfaceKind
        var evidence: String
        var orphanedSince: Date?
        var addresses: [InterfaceAddress]
        var routes: [Route]
        /// The macOS commands that carry the item out; nil for Linux, which acts over rtnetlink.
        var commands: [String]?
        var recreate: [String]

        func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("action", action.rawValue)
                json.field("ifindex", ifindex)
                json.field("ifname", ifname)
                json.field("kind", kind.rawValue)
                json.field("evidence", evidence)
                json.field("orphaned_since", orphanedSince)
                json.field("addr_info", addresses)
                json.field("routes", routes)
                json.field("commands", commands)
                json.field("recreate", recreate)
            }
        }
    }

    /// A device the plan leaves out, and why.
    struct ExcludedEntry: JSONRecord, Sendable {
        var ifname: String
        var reason: String
        var reapableAt: Date?
        var pattern: String?
        /// The routes a fence would make live (`carrier-would-wake-routes`).
        var routes: [String]?
        /// The pair peer the plan keeps, and the word for why (`peer-kept`; no word when the
        /// peer is no target at all).
        var peer: String?
        var peerReason: String?

        func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("ifname", ifname)
                json.field("reason", reason)
                json.field("reapable_at", reapableAt)
                json.field("pattern", pattern)
                json.field("routes", routes)
                json.field("peer", peer)
                json.field("peer_reason", peerReason)
            }
        }

        init(_ exclusion: ReapExclusion) {
            ifname = exclusion.ifname
            reason = Self.word(exclusion.reason)
            switch exclusion.reason {
            case let .tooYoung(at): reapableAt = at
            case let .protected(pattern): self.pattern = pattern
            case let .carrierWouldWakeRoutes(woken): routes = woken.all
            case let .peerKept(peer, because):
                self.peer = peer
                peerReason = because.map(Self.word)
                reapableAt = because?.reapableAt
                if case let .protected(pattern) = because { self.pattern = pattern }
            case .kindNotSelected, .repairFailed: break
            }
        }

        /// The reason's one word, as the JSON report gives it.
        static func word(_ reason: ReapExclusion.Reason) -> String {
            switch reason {
            case .tooYoung: "too-young"
            case .protected: "protected"
            case .kindNotSelected: "kind-not-selected"
            case .repairFailed: "repair-failed"
            case .carrierWouldWakeRoutes: "carrier-would-wake-routes"
            case .peerKept: "peer-kept"
            }
        }
    }

    struct Summary: JSONRecord, Sendable {
        var planned: Int
        var deleted: Int
        var skipped: Int
        var failed: Int

        func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("planned", planned)
                json.field("deleted", deleted)
                json.field("skipped", skipped)
                json.field("failed", failed)
            }
        }
    }

    var version = 1
    var netns: String?
    var dryRun: Bool
    /// Left out when there was nothing to repair (always for a dry run, which repairs nothing).
    var repairs: [ReapRepair]?
    /// A dry run's: what the next real run would repair first; left out when nothing.
    var pendingRepairs: [PendingRepair]?
    var plan: [PlannedEntry]
    var excluded: [ExcludedEntry]
    var results: [ReapItemResult]?
    var summary: Summary

    public init(plan: ReapPlan, results: [ReapItemResult]?, repairs: [ReapRepair] = [], pendingRepairs: [PendingRepair] = []) {
        // Named as the journal names it: the caller's namespace too, by its name under /run/netns.
        netns = plan.recreatePlace.netns
        dryRun = results == nil
        self.repairs = repairs.isEmpty ? nil : repairs
        self.pendingRepairs = pendingRepairs.isEmpty ? nil : pendingRepairs
        // Linux commands are written for the whole run, as the journal has them (see `RecreateCommands.commands(forRun:…)`).
        let linux = plan.items.filter { !$0.onMacOS }
        let linuxRecreate = RecreateCommands.commands(forRun: linux.map { RecreateCommands.RunDevice($0.interface, routes: $0.routes, neighbours: $0.neighbours,
                                                                                                         sharedRouteKeys: $0.sharedRouteKeys) },
                                                      place: plan.recreatePlace)
        var recreateByIndex: [Int: [String]] = [:]
        for (item, commands) in zip(linux, linuxRecreate) { recreateByIndex[item.interface.index] = commands }
        self.plan = plan.items.map { item in
            let darwin = item.onMacOS
            return PlannedEntry(action: item.action, ifindex: item.interface.index, ifname: item.ifname, kind: item.interface.kind, evidence: item.evidence,
                                orphanedSince: item.orphanedSince, addresses: item.interface.addresses, routes: item.routes,
                                commands: darwin ? DarwinCommands.reap(item).map { $0.joined(separator: " ") } : nil,
                                recreate: darwin ? DarwinCommands.recreate(item) : recreateByIndex[item.interface.index] ?? [])
        }
        excluded = plan.excluded.map(ExcludedEntry.init)
        self.results = results
        summary = Summary(planned: plan.items.count, deleted: results?.count { $0.result == .deleted } ?? 0,
                          skipped: results?.count { $0.result == .skipped } ?? 0, failed: results?.count { $0.result == .failed } ?? 0)
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("version", version)
            json.field("netns", netns)
            json.field("dry_run", dryRun)
            json.field("repairs", repairs)
            json.field("pending_repairs", pendingRepairs)
            json.field("plan", plan)
            json.field("excluded", excluded)
            json.field("results", results)
            json.field("summary", summary)
        }
    }
}
