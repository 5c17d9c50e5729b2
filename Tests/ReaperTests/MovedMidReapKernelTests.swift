#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// Fenced targets moved about between the fence and the last look, against the real kernel in
/// throwaway namespaces (Linux 55 F1–F5): each result follows the last thing the kernel said of
/// the device, and the fence is given back wherever the device is.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct MovedMidReapKernelTests {
    func links(_ ns: TestNamespace) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try ns.ip("-d", "-j", "link", "show").utf8)) as? [[String: Any]] ?? []
    }

    /// The name of the device at `index` in `ns` now (a multi-queue target's is its private one).
    func name(at index: Int, in ns: TestNamespace) throws -> String {
        try #require(links(ns).first { $0["ifindex"] as? Int == index }?["ifname"] as? String)
    }

    /// Makes `device` in `ns`, plans the reap of it, runs `change` once with its ifindex at
    /// `step`, and reaps; the result, and the journal's outcome for it.
    func reap(_ ns: TestNamespace, _ device: String, multiQueue: Bool, at step: String,
              _ change: @escaping (Int) throws -> Void) throws -> (ReapResult, JournalRecord.Outcome?) {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        if multiQueue { try ns.ip("tuntap", "add", "dev", device, "mode", "tap", "multi_queue") } else { try ns.ip("tuntap", "add", "dev", device, "mode", "tap") }
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        let item = try #require(plan.items.first { $0.ifname == device })
        var reaper = LinuxReaper(namespaceName: ns.name)
        let done = Locked(false)
        reaper.stepHook = { now in
            guard now == step, !done.value else { return }
            done.mutate { $0 = true }
            #expect(throws: Never.self) { try change(item.interface.index) }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "mid")
        #expect(done.value)
        let journaled = try Journal(path: state.path + "/journal.jsonl").read().first { $0.type == .result && $0.ifname == device }
        return (try #require(results.first { $0.ifname == device }), journaled?.result)
    }

    /// Moved out and straight back before the last look, which sees it back with the fence's
    /// marks: the reap's group deletion deletes it, and it is reported and journaled deleted.
    /// Until round 55 the first move's notification made it "not deleted: it left this namespace".
    @Test(arguments: [false, true])
    func aTargetMovedOutAndBackBeforeTheLastLookIsDeleted(multiQueue: Bool) throws {
        let a = try TestNamespace(), x = try TestNamespace()
        defer { a.remove(); x.remove() }
        let device = multiQueue ? "l55f1q" : "l55f1s"
        let (result, journaled) = try reap(a, device, multiQueue: multiQueue, at: "dependents-read") { index in
            let now = try name(at: index, in: a)
            try a.ip("link", "set", "dev", now, "netns", x.name)
            try x.ip("link", "set", "dev", now, "netns", a.name)
        }
        #expect(result.outcome == .deleted, "\(result)")
        #expect(journaled == .deleted)
        #expect(try links(a).compactMap { $0["ifname"] as? String } == ["lo"])
        #expect(try links(x).compactMap { $0["ifname"] as? String } == ["lo"])
    }

    /// Moved out and back under another ifindex (its own was taken where it went): not deleted,
    /// found here by its private name and given back here, and said so. Until round 55 it was
    /// left fenced and said to live on, unfenced, where it had gone.
    @Test(arguments: [false, true])
    func aTargetBackUnderAnotherIfindexIsGivenBackHere(multiQueue: Bool) throws {
        let a = try TestNamespace(), x = try TestNamespace()
        defer { a.remove(); x.remove() }
        let device = multiQueue ? "l55f2q" : "l55f2s"
        let (result, journaled) = try reap(a, device, multiQueue: multiQueue, at: "dependents-read") { index in
            try x.ip("link", "add", "l55f2x", "index", "\(index)", "type", "veth", "peer", "name", "l55f2y", "index", "50")
            let now = try name(at: index, in: a)
            try a.ip("link", "set", "dev", now, "netns", x.name)
            try x.ip("link", "set", "dev", now, "netns", a.name)
        }
        #expect(result.outcome == .skipped, "\(result)")
        #expect(journaled == .skipped)
        #expect(result.detail?.contains("it left this namespace and came back meanwhile") == true, "\(result)")
        #expect(result.detail?.contains("lives on here as \(device)") == true, "\(result)")
        let back = try #require(links(a).first { $0["ifname"] as? String == device }, "\((try? links(a)) ?? [])")
        #expect(back["altnames"] == nil && back["group"] as? String == "default", "\(back)")
        #expect(back["ifindex"] as? Int != result.ifindex)
    }

    /// Moved to another namespace while that namespace's device moves in under its ifindex:
    /// the result says where it went, and its fence is given back there. Until round 55 it was
    /// left fenced there, unsaid.
    @Test(arguments: [false, true])
    func aTargetSwappedForAnotherNamespacesDeviceIsGivenBackWhereItWent(multiQueue: Bool) throws {
        let a = try TestNamespace(), x = try TestNamespace()
        defer { a.remove(); x.remove() }
        let device = multiQueue ? "l55f3q" : "l55f3s"
        let taken = Locked(0)
        let (result, _) = try reap(a, device, multiQueue: multiQueue, at: "dependents-read") { index in
            taken.mutate { $0 = index }
            try x.ip("link", "add", "l55f3x", "index", "\(index)", "type", "veth", "peer", "name", "l55f3y", "index", "50")
            try a.ip("link", "set", "dev", try name(at: index, in: a), "netns", x.name)
            try x.ip("link", "set", "dev", "l55f3x", "netns", a.name)
        }
        #expect(result.outcome == .skipped, "\(result)")
        #expect(result.detail?.contains("it moved to network namespace '\(x.name)'") == true, "\(result)")
        let there = try #require(links(x).first { $0["ifname"] as? String == device }, "\((try? links(x)) ?? [])")
        #expect(there["altnames"] == nil && there["group"] as? String == "default", "\(there)")
        #expect(try links(a).first { $0["ifindex"] as? Int == taken.value }?["ifname"] as? String == "l55f3x")
    }

    /// Put into another link group by someone after its fence: skipped, and that group is left.
    /// Until round 55 the give-back set it to 0.
    @Test(arguments: [false, true])
    func aGroupSetSinceTheFenceIsLeft(multiQueue: Bool) throws {
        let a = try TestNamespace()
        defer { a.remove() }
        let device = multiQueue ? "l55f4q" : "l55f4s"
        let (result, _) = try reap(a, device, multiQueue: multiQueue, at: "grouped") { index in
            try a.ip("link", "set", "dev", try name(at: index, in: a), "group", "7")
        }
        #expect(result.outcome == .skipped && result.detail?.contains("its link group, 7, was set by something else") == true, "\(result)")
        let kept = try #require(links(a).first { $0["ifname"] as? String == device })
        #expect(kept["group"] as? String == "7" && kept["altnames"] == nil, "\(kept)")
    }

    /// A single-queue target renamed in place after its fence is deleted, reported under the
    /// name it was deleted by too.
    @Test func aRenamedTargetIsReportedUnderTheNameItWasDeletedBy() throws {
        let a = try TestNamespace()
        defer { a.remove() }
        let (result, journaled) = try reap(a, "l55f5s", multiQueue: false, at: "dependents-read") { _ in
            try a.ip("link", "set", "dev", "l55f5s", "name", "l55f5r")
        }
        #expect(result.outcome == .deleted && journaled == .deleted, "\(result)")
        #expect(result.detail?.contains("renamed l55f5r by something else since it was fenced, and deleted as l55f5r with the reap's private link group") == true, "\(result)")
        #expect(try links(a).compactMap { $0["ifname"] as? String } == ["lo"])
    }
}
#endif
