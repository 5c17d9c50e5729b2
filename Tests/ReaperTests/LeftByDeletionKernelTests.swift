#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// A target the batch's deletion left in place, against the real kernel as root in throwaway
/// namespaces (session 38, leftover 1): its result says it is still there and still fenced, and
/// where; its intent stays open; and the next reap's repair gives it back.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct LeftByDeletionKernelTests {
    func links(_ ns: TestNamespace) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try ns.ip("-d", "-j", "link", "show").utf8)) as? [[String: Any]] ?? []
    }

    /// Something takes a target out of the private link group right before the group deletion
    /// (another target keeps the group, so the deletion goes ahead): the deletion leaves it, fenced
    /// (a single-queue tap by its private alternative name, a multi-queue one that was up renamed
    /// and down).
    /// Old code: "still present after RTM_DELLINK", failed, and the result answered the intent:
    /// no repair ever gave the device back.
    @Test(arguments: [false, true])
    func aTargetTheDeletionLeftKeepsItsIntentOpenAndTheRepairGivesItBack(multiQueue: Bool) throws {
        let a = try TestNamespace(), state = try TemporaryDirectory()
        defer { a.remove(); state.remove() }
        let (left, deleted) = multiQueue ? ("fa1lq", "fa1dq") : ("fa1ls", "fa1ds")
        for device in [left, deleted] {
            if multiQueue {
                try a.ip("tuntap", "add", "dev", device, "mode", "tap", "multi_queue")
            } else {
                try a.ip("tuntap", "add", "dev", device, "mode", "tap")
            }
        }
        if multiQueue { try a.ip("link", "set", "dev", left, "up") }
        let snapshot = try LinuxInventory(namespaceName: a.name).snapshot()
        var plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        plan.items.removeAll { ![left, deleted].contains($0.ifname) }
        try #require(plan.items.count == 2, "\(plan.items.map(\.ifname))")
        let index = try #require(plan.items.first { $0.ifname == left }?.interface.index)
        let journal = Journal(path: state.path + "/journal.jsonl")
        var reaper = LinuxReaper(namespaceName: a.name)
        let fenced = Locked("")
        reaper.stepHook = { step in
            guard step == "deleting", fenced.value.isEmpty else { return }
            #expect(throws: Never.self) {
                let name = try #require(try links(a).first { $0["ifindex"] as? Int == index }?["ifname"] as? String)
                try a.ip("link", "set", "dev", name, "group", "0")
                fenced.mutate { $0 = name }
            }
        }
        let results = try reaper.execute(plan, journal: journal, runID: "left")
        #expect(results.first { $0.ifname == deleted }?.outcome == .deleted, "\(results)")
        let result = try #require(results.first { $0.ifname == left }, "\(results)")
        #expect(result.outcome == .failed && result.leftFenced && result.leftOpen == .stillPresent, "\(result)")
        let fenceName = try #require(journal.read().first { $0.type == .intent && $0.ifname == left }?.fenceName)
        let marks = multiQueue ? "its private name \(fenceName), out of the reap's private link group" : "its private alternative name \(fenceName), out of the reap's private link group"
        #expect(result.detail?.hasPrefix("still present after RTM_DELLINK: not deleted, and it is still fenced (\(marks)") == true, "\(result)")
        #expect(result.detail?.contains("something else set its group to 0\(multiQueue ? ", down" : ""))") == true, "\(result)")
        #expect(result.detail?.contains("at ifindex \(index) in network namespace '\(a.name)': `ip -n \(a.name) link show dev \(multiQueue ? fenceName : left)` shows it") == true, "\(result)")
        #expect(result.detail?.contains("its intent stays open, so that the next reap in this namespace gives it back") == true, "\(result)")
        let record = try #require(try journal.read().last { $0.type == .result && $0.ifname == left })
        #expect(record.leftFenced == true && record.leftOpen == .stillPresent, "\(record)")
        #expect(try journal.openIntents().records.map(\.ifindex) == [index])

        // The repair gives it back, says why the intent was open, and answers it.
        let repair = try #require(try LinuxReaper(namespaceName: a.name).repairInterrupted(journal: journal).first)
        #expect(repair.ifindex == index && repair.result == .skipped, "\(repair)")
        #expect(repair.detail.hasPrefix("run left left it fenced, and a result left its intent open: its deletion left the device in place, still fenced; "), "\(repair)")
        #expect(!repair.detail.contains("killed"), "\(repair)")
        let back = try #require(try links(a).first { $0["ifindex"] as? Int == index }, "\((try? links(a)) ?? [])")
        #expect(back["ifname"] as? String == left && back["altnames"] == nil && back["group"] as? String == "default", "\(back)")
        #expect((back["flags"] as? [String])?.contains("UP") == multiQueue, "\(back)")
        #expect(try journal.openIntents().records.isEmpty)
        #expect(try links(a).compactMap { $0["ifname"] as? String }.sorted() == [left, "lo"])
    }
}
#endif
