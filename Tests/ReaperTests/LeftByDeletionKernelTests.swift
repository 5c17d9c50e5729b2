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
/// namespaces (session 38, leftover 1): it is given back in the same run, and its result says it
/// was not deleted and was given back.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct LeftByDeletionKernelTests {
    func links(_ ns: TestNamespace) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try ns.ip("-d", "-j", "link", "show").utf8)) as? [[String: Any]] ?? []
    }

    /// Something takes a target out of the private link group right before the group deletion
    /// (another target keeps the group, so the deletion goes ahead): the deletion leaves it, fenced
    /// (a single-queue tap by its private alternative name, a multi-queue one that was up renamed
    /// and down).
    /// It is given back in the same run, as one whose deletion's answer was lost is, and its
    /// result says so. Old code (session 38): "still present after RTM_DELLINK: not deleted, and
    /// it is still fenced", its intent left open until some later reap's repair.
    @Test(arguments: [false, true])
    func aTargetTheDeletionLeftIsGivenBackInTheSameRun(multiQueue: Bool) throws {
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
        #expect(result.outcome == .failed && !result.leftFenced && result.leftOpen == nil, "\(result)")
        let group = try #require(journal.read().first { $0.type == .intent && $0.ifname == left }?.fenceGroup)
        #expect(result.detail?.hasPrefix("not deleted: still present after RTM_DELLINK (something took it out of the reap's private link group \(group) just before the deletion); "
                                         + "given back from its fence") == true, "\(result)")
        let record = try #require(try journal.read().last { $0.type == .result && $0.ifname == left })
        #expect(record.leftFenced == nil && record.leftOpen == nil, "\(record)")
        // Given back in this run: nothing is left for a repair.
        #expect(try journal.openIntents().records.isEmpty)
        let back = try #require(try links(a).first { $0["ifindex"] as? Int == index }, "\((try? links(a)) ?? [])")
        #expect(back["ifname"] as? String == left && back["altnames"] == nil && back["group"] as? String == "default", "\(back)")
        #expect((back["flags"] as? [String])?.contains("UP") == multiQueue, "\(back)")
        #expect(try LinuxReaper(namespaceName: a.name).repairInterrupted(journal: journal).isEmpty)
        #expect(try links(a).compactMap { $0["ifname"] as? String }.sorted() == [left, "lo"])
    }
}
#endif
