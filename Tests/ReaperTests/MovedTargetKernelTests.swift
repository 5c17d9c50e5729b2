#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// A fenced target moved into another namespace mid-reap, against the real kernel, as root, in
/// throwaway namespaces: what a VM or container runtime does when it moves a tap it made into its
/// sandbox's namespace. The device is alive there, so it is never reported or journaled as
/// deleted, and tunwarden's fence (its private alternative name and link group, or, for a
/// multi-queue tap, its private name) is taken off it there.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct MovedTargetKernelTests {
    func links(_ ns: TestNamespace) throws -> [[String: Any]] {
        let json = try ns.ip("-d", "-j", "link", "show")
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
    }

    /// A single-queue tun and a multi-queue tap, both up, moved into another namespace right
    /// after the fence (the tun with its private alternative name and tunwarden's queue on it,
    /// the tap renamed to its private name and down) or right after grouping: each result says
    /// where it went, neither is deleted nor said to be, and there it has its own name, no
    /// alternative name and its own link group again. Until round 48 the results said "deleted
    /// by something else" and the marks stayed.
    @Test(arguments: ["fenced", "grouped"])
    func aTargetMovedMidReapIsGivenBackWhereItWent(step: String) throws {
        let ns = try TestNamespace(), other = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); other.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "l48mt0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "l48mq0", "mode", "tap", "multi_queue")
        for device in ["l48mt0", "l48mq0"] { try ns.ip("link", "set", device, "up") }
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        try #require(Set(plan.items.map(\.ifname)) == ["l48mt0", "l48mq0"])
        let indices = Set(plan.items.map { $0.interface.index })
        var reaper = LinuxReaper(namespaceName: ns.name)
        let moved = Locked(0)
        reaper.stepHook = { now in
            guard now == step, let here = try? links(ns) else { return }
            // By ifindex: the tap is under its private name by now.
            for link in here {
                guard let index = link["ifindex"] as? Int, indices.contains(index), let name = link["ifname"] as? String else { continue }
                if (try? ns.ip("link", "set", "dev", name, "netns", other.name)) != nil { moved.mutate { $0 += 1 } }
            }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "moved")
        #expect(moved.value == 2)
        for result in results {
            #expect(result.outcome != .deleted, "\(result)")
            #expect(result.detail?.contains("it moved to network namespace '\(other.name)'") == true, "\(result)")
            #expect(result.detail?.contains("deleted by something else") == false, "\(result)")
        }
        let journaled = try Journal(path: state.path + "/journal.jsonl").read().filter { $0.type == .result }
        #expect(journaled.count == 2 && journaled.allSatisfy { $0.result != .deleted && $0.detail?.contains("it moved to network namespace '\(other.name)'") == true },
                "\(journaled)")
        let there = try links(other)
        let names = Set(there.compactMap { $0["ifname"] as? String })
        #expect(names == ["lo", "l48mt0", "l48mq0"], "\(there)")
        for link in there where link["ifname"] as? String != "lo" {
            #expect(link["altnames"] == nil, "\(link)")
            #expect(link["group"] as? String == "default", "\(link)")
        }
        #expect(try links(ns).compactMap { $0["ifname"] as? String } == ["lo"])
    }
}
#endif
