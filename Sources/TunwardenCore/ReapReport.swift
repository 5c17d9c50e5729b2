import Foundation

/// A date written as ISO 8601 text whatever the encoder (tunwarden's streaming writer included),
/// and read back by a decoder using the `.iso8601` date strategy.
@propertyWrapper
public struct ISO8601Text: Codable, Sendable, Equatable {
    public var wrappedValue: Date

    public init(wrappedValue: Date) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Date.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Timestamp.format(wrappedValue))
    }
}

/// The outcome of one item, as a reap report shows it.
/// What became of one planned item: the same three words in the journal, the JSON report and
/// the text for people.
public enum ReapOutcome: String, Codable, Sendable {
    case deleted, skipped, failed
}

public struct ReapItemResult: Encodable, Sendable, Equatable {
    public var ifname: String
    public var ifindex: Int
    public var kind: InterfaceKind
    public var result: ReapOutcome
    public var detail: String?

    public init(ifname: String, ifindex: Int, kind: InterfaceKind, result: ReapOutcome, detail: String?) {
        self.ifname = ifname
        self.ifindex = ifindex
        self.kind = kind
        self.result = result
        self.detail = detail
    }
}

/// A reap as JSON: the plan, what was left out and why, and after a real run the results.
public struct ReapReport: Encodable, Sendable {
    struct PlannedEntry: Encodable, Sendable {
        var action: ReapAction
        var ifindex: Int
        var ifname: String
        var kind: InterfaceKind
        var evidence: String
        var orphanedSince: String?
        var addresses: [InterfaceAddress]
        var routes: [Route]
        var recreate: [String]

        enum CodingKeys: String, CodingKey {
            case action, ifindex, ifname, kind, evidence, orphanedSince = "orphaned_since", addresses = "addr_info", routes, commands, recreate
        }

        var commands: [String]?
    }

    struct ExcludedEntry: Encodable, Sendable {
        var ifname: String
        var reason: String
        var reapableAt: String?
        var pattern: String?

        enum CodingKeys: String, CodingKey { case ifname, reason, reapableAt = "reapable_at", pattern }
    }

    struct Summary: Encodable, Sendable {
        var planned: Int
        var deleted: Int
        var skipped: Int
        var failed: Int
    }

    var version = 1
    var netns: String?
    var dryRun: Bool
    var plan: [PlannedEntry]
    var excluded: [ExcludedEntry]
    var results: [ReapItemResult]?
    var summary: Summary

    enum CodingKeys: String, CodingKey { case version, netns, dryRun = "dry_run", plan, excluded, results, summary }

    public init(plan: ReapPlan, results: [ReapItemResult]?) {
        netns = plan.namespace
        dryRun = results == nil
        self.plan = plan.items.map { item in
            let darwin = item.interface.kind == .utun || item.interface.kind == .feth
            return PlannedEntry(action: item.action, ifindex: item.interface.index, ifname: item.ifname, kind: item.interface.kind, evidence: item.evidence,
                                orphanedSince: item.orphanedSince.map(Timestamp.format), addresses: item.interface.addresses, routes: item.routes,
                                recreate: darwin ? DarwinCommands.recreate(item) : RecreateCommands.commands(for: item.interface, routes: item.routes, namespace: plan.namespace),
                                commands: darwin ? DarwinCommands.reap(item).map { $0.joined(separator: " ") } : nil)
        }
        excluded = plan.excluded.map { exclusion in
            switch exclusion.reason {
            case let .tooYoung(at): ExcludedEntry(ifname: exclusion.ifname, reason: "too-young", reapableAt: Timestamp.format(at))
            case let .protected(pattern): ExcludedEntry(ifname: exclusion.ifname, reason: "protected", pattern: pattern)
            case .kindNotSelected: ExcludedEntry(ifname: exclusion.ifname, reason: "kind-not-selected")
            }
        }
        self.results = results
        summary = Summary(planned: plan.items.count, deleted: results?.count { $0.result == .deleted } ?? 0,
                          skipped: results?.count { $0.result == .skipped } ?? 0, failed: results?.count { $0.result == .failed } ?? 0)
    }

    public func json(pretty: Bool) throws -> [UInt8] { try JSONWriter.encode(self, pretty: pretty) }
}
