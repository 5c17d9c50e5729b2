#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// What a batch says of its targets and of the devices deleted around its deletion, when other
/// devices' removals share a target's ifindex or fall in the deletion's window (review 36,
/// findings 1, 5, 10 and 11), against the real kernel as root in throwaway namespaces. Each
/// change is made by the reaper's step hook at the exact step named.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct TargetRemovalKernelTests {
    func links(_ ns: TestNamespace) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try ns.ip("-d", "-j", "link", "show").utf8)) as? [[String: Any]] ?? []
    }

    /// The name of the device at `index` in `ns` now (a multi-queue target's is its private one).
    func name(at index: Int, in ns: TestNamespace) throws -> String {
        try #require(links(ns).first { $0["ifindex"] as? Int == index }?["ifname"] as? String)
    }

    /// Makes `devices` in `ns` (each by its `ip tuntap add` mode words), plans the reap of
    /// them alone, runs each of `hooks` once at its step with the planned ifindexes by name, and
    /// reaps; the results and this run's journal records.
    func reap(_ ns: TestNamespace, _ devices: [(name: String, mode: [String])], targetByTarget: Bool = false,
              hooks: [String: ([String: Int]) throws -> Void]) throws -> (results: [ReapResult], journal: [JournalRecord]) {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        for device in devices {
            if device.mode.count > 1 {
                try ns.ip("tuntap", "add", "dev", device.name, "mode", device.mode[0], device.mode[1])
            } else {
                try ns.ip("tuntap", "add", "dev", device.name, "mode", device.mode[0])
            }
        }
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        var plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        plan.items.removeAll { item in !devices.contains { $0.name == item.ifname } }
        try #require(plan.items.count == devices.count, "\(plan.items.map(\.ifname))")
        let indices = Dictionary(plan.items.map { ($0.ifname, $0.interface.index) }, uniquingKeysWith: { a, _ in a })
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.lookTargetByTarget = targetByTarget
        let done = Locked(Set<String>())
        reaper.stepHook = { step in
            guard let hook = hooks[step], !done.value.contains(step) else { return }
            done.mutate { _ = $0.insert(step) }
            #expect(throws: Never.self) { try hook(indices) }
        }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let results = try reaper.execute(plan, journal: journal, runID: "removals")
        #expect(done.value == Set(hooks.keys), "\(done.value)")
        return (results, try journal.read().filter { $0.run == "removals" && $0.type == .result })
    }

    /// A target moved to another namespace right before the deletion, while a veth that had
    /// the same ifindex in a sandbox moves in and is deleted: the veth's removal is not the
    /// target's. The result says where it went and its fence is given back there; the veth's
    /// deletion, not the batch's doing, gets no result. Old code: the target was reported and
    /// journaled deleted (the last removal of its ifindex was the veth's), still fenced there.
    @Test(arguments: [false, true])
    func aTargetMovedAwayIsNotTakenForAnotherDeviceDeletedAtItsIfindex(multiQueue: Bool) throws {
        let a = try TestNamespace(), b = try TestNamespace(), x = try TestNamespace()
        defer { a.remove(); b.remove(); x.remove() }
        let (victim, companion) = multiQueue ? ("r1vq", "r1cq") : ("r1vs", "r1cs")
        let mode = multiQueue ? ["tap", "multi_queue"] : ["tap"]
        let (results, journal) = try reap(a, [(victim, mode), (companion, mode)], hooks: ["deleting": { indices in
            let index = try #require(indices[victim])
            try a.ip("link", "set", "dev", try name(at: index, in: a), "netns", b.name)
            try x.ip("link", "add", "r1x", "index", "\(index)", "type", "veth", "peer", "name", "r1y", "index", "50")
            try x.ip("link", "set", "dev", "r1x", "netns", a.name)
            try a.ip("link", "del", "r1x")
        }])
        let result = try #require(results.first { $0.ifname == victim }, "\(results)")
        #expect(result.outcome == .skipped, "\(result)")
        #expect(result.detail?.contains("it moved to network namespace '\(b.name)'") == true, "\(result)")
        #expect(journal.first { $0.ifname == victim }?.result == .skipped)
        let there = try #require(links(b).first { $0["ifname"] as? String == victim }, "\((try? links(b)) ?? [])")
        #expect(there["altnames"] == nil && there["group"] as? String == "default", "\(there)")
        #expect(results.first { $0.ifname == companion }?.outcome == .deleted, "\(results)")
        #expect(results.filter(\.unplanned).isEmpty, "\(results)")
        #expect(try links(a).compactMap { $0["ifname"] as? String } == ["lo"])
    }

    /// The same with a tun that had the target's ifindex in its sandbox: two removals of a tun
    /// there, and nothing (no hardware address) tells them apart. It is not said to be deleted:
    /// a single-queue target's own queue finds it where it went, and it is given back there; a
    /// multi-queue one is failed, "not known to be deleted", and its intent left open. Old code:
    /// both were reported and journaled deleted.
    @Test(arguments: [false, true])
    func removalsThatCannotBeToldApartNeverMakeADeletion(multiQueue: Bool) throws {
        let a = try TestNamespace(), b = try TestNamespace(), x = try TestNamespace()
        defer { a.remove(); b.remove(); x.remove() }
        let (victim, companion) = multiQueue ? ("r2vq", "r2cq") : ("r2vs", "r2cs")
        let (results, journal) = try reap(a, [(victim, multiQueue ? ["tun", "multi_queue"] : ["tun"]), (companion, ["tap"])], hooks: ["deleting": { indices in
            let index = try #require(indices[victim])
            try a.ip("link", "set", "dev", try name(at: index, in: a), "netns", b.name)
            // Fresh namespaces number their devices alike: x's first tun takes the victim's ifindex.
            try x.ip("tuntap", "add", "dev", "r2x", "mode", "tun")
            try #require(try links(x).first { $0["ifname"] as? String == "r2x" }?["ifindex"] as? Int == index)
            try x.ip("link", "set", "dev", "r2x", "netns", a.name)
            try a.ip("link", "del", "r2x")
        }])
        let result = try #require(results.first { $0.ifname == victim }, "\(results)")
        #expect(result.outcome != .deleted && journal.first { $0.ifname == victim }?.result != .deleted, "\(result)")
        let there = try #require(links(b).first { $0["ifindex"] as? Int != 1 }, "\((try? links(b)) ?? [])")
        if multiQueue {
            #expect(result.outcome == .failed && result.leftFenced, "\(result)")
            #expect(result.detail?.contains("not known to be deleted") == true, "\(result)")
            #expect(result.detail?.contains("nothing tells which of them was its") == true, "\(result)")
            #expect(journal.first { $0.ifname == victim }?.leftFenced == true)
            #expect(there["ifname"] as? String != victim, "\(there)")
        } else {
            #expect(result.outcome == .skipped && !result.leftFenced, "\(result)")
            #expect(result.detail?.contains("not deleted: it left this namespace before the deletion (tunwarden's queue on it says so)") == true, "\(result)")
            #expect(result.detail?.contains("it moved to network namespace '\(b.name)'") == true, "\(result)")
            #expect(there["ifname"] as? String == victim && there["altnames"] == nil && there["group"] as? String == "default", "\(there)")
        }
        #expect(results.first { $0.ifname == companion }?.outcome == .deleted, "\(results)")
    }

    /// Devices deleted by something else while the batch's deletion runs are not the batch's:
    /// an unrelated veth pair, and a target given back earlier, get no result (the target keeps
    /// its one, skipped); a macvlan stacked on a target after the last look, which the kernel
    /// deletes with it, is still reported, failed, not planned. Old code: the veths and the
    /// given-back target were each journaled "failed, not a target, but deleted with the batch".
    @Test func onlyWhatWentWithTheBatchIsReportedAsDeletedWithIt() throws {
        let a = try TestNamespace()
        defer { a.remove() }
        try a.ip("link", "add", "r5u0", "type", "veth", "peer", "name", "r5u1")
        let (results, journal) = try reap(a, [("r5t1", ["tap"]), ("r5t2", ["tap"])], hooks: [
            "grouped": { _ in try a.ip("link", "set", "dev", "r5t2", "group", "7") },
            "deleting": { _ in
                try a.ip("link", "add", "link", "r5t1", "name", "r5m", "type", "macvlan")
                try a.ip("link", "del", "r5u0")
                try a.ip("link", "del", "r5t2")
            },
        ])
        #expect(try links(a).compactMap { $0["ifname"] as? String } == ["lo"])
        #expect(results.first { $0.ifname == "r5t1" }?.outcome == .deleted, "\(results)")
        #expect(results.filter { $0.ifname == "r5t2" }.map(\.outcome) == [.skipped], "\(results)")
        let unplanned = results.filter(\.unplanned)
        #expect(unplanned.map(\.ifname) == ["r5m"], "\(results)")
        #expect(unplanned.first?.detail?.contains("a macvlan stacked on r5t1") == true, "\(unplanned)")
        #expect(journal.filter { $0.unplanned == true }.map(\.ifname) == ["r5m"], "\(journal)")
    }

    /// A vxlan bound to a target (`dev`) after the last look, which the kernel deletes with it:
    /// its notification names the target in IFLA_VXLAN_LINK, not IFLA_LINK, and it is reported
    /// deleted with the batch, failed, not planned, whether the batch deletes the group or each
    /// target by itself. Old code: nothing said it was deleted.
    @Test(arguments: [false, true])
    func aVxlanBoundToATargetAfterTheLastLookIsReportedDeletedWithTheBatch(targetByTarget: Bool) throws {
        let a = try TestNamespace()
        defer { a.remove() }
        let (target, vxlan) = targetByTarget ? ("fa3s", "fa3sx") : ("fa3g", "fa3gx")
        let (results, journal) = try reap(a, [(target, ["tun"])], targetByTarget: targetByTarget, hooks: ["deleting": { _ in
            try a.ip("link", "add", vxlan, "type", "vxlan", "id", "73", "dev", target, "dstport", "4862")
        }])
        #expect(try links(a).compactMap { $0["ifname"] as? String } == ["lo"])
        #expect(results.first { $0.ifname == target }?.outcome == .deleted, "\(results)")
        let unplanned = results.filter(\.unplanned)
        #expect(unplanned.map(\.ifname) == [vxlan], "\(results)")
        #expect(unplanned.first?.outcome == .failed && unplanned.first?.kindWord == "vxlan", "\(unplanned)")
        #expect(unplanned.first?.detail == "not a target, but deleted with the batch: a vxlan bound to \(target), which the batch's deletion took, so the kernel deleted it too",
                "\(unplanned)")
        #expect(journal.filter { $0.unplanned == true }.map(\.ifname) == [vxlan], "\(journal)")
    }

    /// A vxlan bound to a target that something moves to another namespace in the deleting
    /// window: the kernel deletes the vxlan for the move (its lower device unregisters from here),
    /// not for the batch's deletion, which never took that target. Only what went with a target
    /// found deleted is the batch's doing: nothing is reported deleted with the batch. Old code:
    /// the names came from every target the deletion was sent for, and the vxlan was reported
    /// "deleted with the batch: a vxlan bound to fa3mv".
    @Test func aVxlanBoundToATargetMovedAwayBeforeTheDeletionIsNotReportedDeletedWithTheBatch() throws {
        let a = try TestNamespace(), x = try TestNamespace()
        defer { try? x.ip("link", "del", "fa3mv"); a.remove(); x.remove() }
        let (results, _) = try reap(a, [("fa3mv", ["tun"]), ("fa3mk", ["tun"])], hooks: ["deleting": { indices in
            let index = try #require(indices["fa3mv"])
            let name = try name(at: index, in: a)
            try a.ip("link", "add", "fa3mx", "type", "vxlan", "id", "74", "dev", name, "dstport", "4863")
            try a.ip("link", "set", "dev", name, "netns", x.name)
        }])
        #expect(results.first { $0.ifname == "fa3mk" }?.outcome == .deleted, "\(results)")
        #expect(results.first { $0.ifname == "fa3mv" }?.outcome == .skipped, "\(results)")
        #expect(results.filter(\.unplanned).isEmpty, "\(results)")
        #expect(try links(a).compactMap { $0["ifname"] as? String } == ["lo"])
    }

    /// A target moved out and back under another ifindex after the last check of the group,
    /// right before the deletion, which takes it there (by the group, or by its private name):
    /// it is reported deleted, once, and saying so. Old code: "not deleted: it left this
    /// namespace", and with the group deletion also an unplanned failed result for itself.
    @Test(arguments: [false, true])
    func aTargetBackUnderAnotherIfindexBeforeTheDeletionIsReportedDeletedOnce(targetByTarget: Bool) throws {
        let a = try TestNamespace(), x = try TestNamespace()
        defer { a.remove(); x.remove() }
        let device = targetByTarget ? "r10t" : "r10g"
        let (results, journal) = try reap(a, [(device, ["tap"])], targetByTarget: targetByTarget, hooks: ["deleting": { indices in
            let index = try #require(indices[device])
            try x.ip("link", "add", "r10x", "index", "\(index)", "type", "veth", "peer", "name", "r10y", "index", "50")
            try a.ip("link", "set", "dev", device, "netns", x.name)
            try x.ip("link", "set", "dev", device, "netns", a.name)
            try #require(try links(a).first { $0["ifname"] as? String == device }?["ifindex"] as? Int != index)
        }])
        #expect(results.count == 1, "\(results)")
        let result = try #require(results.first)
        #expect(result.outcome == .deleted && !result.unplanned, "\(result)")
        #expect(result.detail?.contains("it left this namespace and came back as ifindex") == true, "\(result)")
        #expect(journal.map(\.result) == [.deleted], "\(journal)")
        #expect(try links(a).compactMap { $0["ifname"] as? String } == ["lo"])
    }

    /// A single-queue target renamed after its fence and deleted one by one, by its private
    /// alternative name: the result says so. Old code: "deleted under that name", which the
    /// per-target deletion never used.
    @Test func aRenamedTargetDeletedByItsPrivateNameIsSaidToBe() throws {
        let a = try TestNamespace()
        defer { a.remove() }
        let (results, _) = try reap(a, [("r11s", ["tap"])], targetByTarget: true, hooks: ["dependents-read": { _ in
            try a.ip("link", "set", "dev", "r11s", "name", "r11r")
        }])
        let result = try #require(results.first { $0.ifname == "r11s" }, "\(results)")
        #expect(result.outcome == .deleted, "\(result)")
        #expect(result.detail?.contains("renamed r11r by something else since it was fenced, and deleted as r11r by its private alternative name") == true, "\(result)")
        #expect(try links(a).compactMap { $0["ifname"] as? String } == ["lo"])
    }
}
#endif
