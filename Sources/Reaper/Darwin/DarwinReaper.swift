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
        for item in verified {
            var failure: String?
            for command in DarwinCommands.reap(item) {
                do {
                    let output = try tools.run(command)
                    if output.status != 0 {
                        failure = "`\(command.joined(separator: " "))` exited \(output.status): \(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
                        break
                    }
                } catch {
                    failure = "`\(command.joined(separator: " "))` could not run: \(error)"
                    break
                }
            }
            results.append(ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind,
                                      outcome: failure == nil ? .deleted : .failed, detail: failure))
        }
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
}
