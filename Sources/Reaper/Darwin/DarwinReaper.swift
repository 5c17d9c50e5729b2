import Foundation
import Inventory
import Storage
import TunwardenCore

/// Carries out a reap plan on macOS with the system's own tools: `ifconfig fethN destroy` for
/// orphaned feth interfaces, `route -n delete …` for the link-local routes of hoarded idle utuns
/// and for the routes into closed tuntaposx tun and tap devices. A utun itself is never destroyed
/// (it cannot be: it exists while its holder keeps it), nor is a tuntaposx device (its kext owns
/// it: `ifconfig tunN destroy` fails).
///
/// Right before acting it re-inventories and plans again; an item is carried out only if the
/// fresh plan still holds it (a feth still orphaned, a route still there on a still idle utun).
/// `route` exits 0 whether or not the kernel did the request, so a route command is done only
/// when it printed its success line (`RouteReply`), and the routing table is read again after
/// acting (`lookAgain`). A utun gone before the act (`-ifscope` names no interface) took its
/// routes with it: its item is skipped, saying so.
/// Every item gets an intent record in the journal before anything runs and a result record after.
/// When the result records cannot be written the commands have run all the same: `execute` then
/// throws `ReapJournalIncomplete` with every result.
public struct DarwinReaper {
    public var tools: DarwinTools
    /// Whether the process runs as root (lsof must see every process, route and ifconfig need it).
    public var privileged: Bool
    public var policy: AuditPolicy

    public init(tools: DarwinTools = DarwinTools(), privileged: Bool, policy: AuditPolicy = AuditPolicy()) {
        self.tools = tools
        self.privileged = privileged
        self.policy = policy
    }

    /// Carries out `plan` and returns one result per item, in plan order. Throws `ReapRefusal`
    /// when nothing was changed, `ReapJournalIncomplete` when the commands ran but their result
    /// records could not be journaled.
    public func execute(_ plan: ReapPlan, journal: Journal, runID: String) throws -> [ReapResult] {
        guard privileged else {
            throw ReapRefusal("reaping needs root (lsof must see every process; route and ifconfig need it to change anything); nothing was changed")
        }
        guard !plan.items.isEmpty else { return [] }
        let fresh: ReapPlan
        do {
            let snapshot = try DarwinInventory(tools: tools, privileged: true).snapshot()
            let assessment = Heuristics.assess(snapshot, policy: policy)
            fresh = ReapPlan.make(assessment, observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                  policy: ReapPolicy(minimumAge: 0), now: snapshot.takenAt)
        } catch {
            throw ReapRefusal("cannot re-verify the plan: \(ReapRefusal.clause(error)); nothing was changed")
        }
        var results: [ReapResult] = []
        var verified: [ReapItem] = []
        for item in plan.items {
            guard var current = fresh.items.first(where: { $0.ifname == item.ifname && $0.action == item.action }) else {
                let detail = item.action == .deleteInterface ? "no longer orphaned or gone since the plan was made"
                    : item.interface.kind == .utun ? "no longer an idle hoarded utun since the plan was made"
                    : "no longer closed, or its routes gone, since the plan was made"
                results.append(ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind, outcome: .skipped,
                                          detail: detail))
                continue
            }
            if item.action == .removeRoutes {
                current.routes = current.routes.filter { item.routes.contains($0) }
                guard !current.routes.isEmpty else {
                    results.append(ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind, outcome: .skipped,
                                              detail: "its routes are gone since the plan was made"))
                    continue
                }
            }
            verified.append(current)
        }
        let now = Date()
        try journal.append(verified.map { item in
            JournalRecord(time: now, run: runID, type: .intent, netns: nil, ifname: item.ifname, ifindex: item.interface.index,
                          prior: PriorState(item.interface, routes: item.routes), recreate: DarwinCommands.recreate(item))
        })
        var looked: [(position: Int, item: ReapItem)] = []
        for item in verified {
            var failure: String?
            var gone: String?
            var done = 0
            for command in DarwinCommands.reap(item) {
                let line = command.joined(separator: " ")
                let output: DarwinTools.Output
                do {
                    output = try tools.run(command)
                } catch {
                    failure = "`\(line)` could not run: \(error)"
                    break
                }
                // route(8) exits 0 whether or not the kernel did the request: only what it
                // printed says (see `RouteReply`). ifconfig's exit status is its answer.
                guard command.first == "route" else {
                    if output.status != 0 {
                        failure = "`\(line)` exited \(output.status): \(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
                        break
                    }
                    done += 1
                    continue
                }
                switch RouteReply.judge(command, output) {
                case .done:
                    done += 1
                    continue
                case .refused(let why):
                    failure = "`\(line)` \(why)"
                case .interfaceGone(let said):
                    gone = "`\(line)`: \(said)"
                }
                break
            }
            let result: ReapResult
            if let failure {
                result = ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind, outcome: .failed, detail: failure)
            } else if let gone {
                // The holder closed the utun (or the tun went) between the last look and the act:
                // the kernel removed every route of the interface with it, so nothing of this item
                // is left, but this reap did not remove it.
                let detail = "\(item.ifname) no longer exists (\(gone)): it went away before "
                    + (done == 0 ? "its routes were deleted" : "its last \(item.routes.count - done == 1 ? "route was" : "\(item.routes.count - done) routes were") deleted")
                    + ", and an interface that goes takes its routes with it"
                result = ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind,
                                    outcome: done == 0 ? .skipped : .deleted, detail: detail)
            } else {
                result = ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind, outcome: .deleted)
            }
            if item.action == .removeRoutes, result.outcome != .failed { looked.append((results.count, item)) }
            results.append(result)
        }
        lookAgain(at: looked, results: &results)
        let order = Dictionary(plan.items.enumerated().map { ($1.ifname, $0) }, uniquingKeysWith: { a, _ in a })
        let ordered = results.sorted { (order[$0.ifname] ?? 0) < (order[$1.ifname] ?? 0) }
        let end = Date()
        do {
            try journal.append(ordered.map {
                JournalRecord(time: end, run: runID, type: .result, netns: nil, ifname: $0.ifname, ifindex: $0.ifindex, result: $0.outcome, detail: $0.detail)
            })
        } catch {
            throw ReapJournalIncomplete(results: ordered, reason: "\(error)")
        }
        return ordered
    }

    /// Reads the routing table once more after acting, and turns the result of an item whose
    /// route `netstat -rn` still lists (the same destination, interface and scope) into a
    /// failure: what route printed is checked, and so is what the kernel now holds. When the
    /// table cannot be read, each result says it was not verified.
    func lookAgain(at looked: [(position: Int, item: ReapItem)], results: inout [ReapResult]) {
        guard !looked.isEmpty else { return }
        let rows: [DarwinParsers.NetstatRow]
        do {
            let output = try tools.run(["netstat", "-rn"])
            guard output.status == 0 else {
                throw ReapRefusal("`netstat -rn` exited \(output.status): \(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            rows = try DarwinParsers.netstat(output.stdout)
        } catch {
            for (position, _) in looked {
                let note = "not verified afterwards: the routing table could not be read again (\(ReapRefusal.clause(error)))"
                results[position].detail = results[position].detail.map { "\($0); \(note)" } ?? note
            }
            return
        }
        for (position, item) in looked {
            let left = item.routes.filter { route in
                rows.contains { row in
                    row.destination == route.destination && row.netif == item.interface.name
                        && row.flags.contains("I") == route.isInterfaceScoped
                }
            }
            guard !left.isEmpty else { continue }
            let said = results[position].outcome == .deleted && results[position].detail == nil ? "route reported every deletion done, but " : ""
            results[position].outcome = .failed
            results[position].detail = (results[position].detail.map { "\($0); " } ?? "") + said
                + "`netstat -rn` afterwards still lists \(left.map(\.display).joined(separator: ", "))"
        }
    }
}
