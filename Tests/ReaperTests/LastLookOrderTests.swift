#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
@testable import Reaper
import Storage
import Testing
import TestSupport
import TunwardenCore

/// The order of the reaper's last look, against a scripted kernel, without root: the checks whose
/// cost grows with the host (tc, nftables, forwarding entries, addresses and routes) come first,
/// and the links last, right before the deletion, so that a target made a port of a bridge or
/// given a stacked device while those checks read is kept. A kernel tunnel made or changed
/// while they read (what the routes' check judged by) sends the look back to be taken again.
@Suite struct LastLookOrderTests {
    typealias Link = ScriptedKernel.Link

    func reap(_ reaper: LinuxReaper, _ plan: ReapPlan) throws -> [ReapResult] {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        return try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "order")
    }

    /// A kernel with two orphan taps (ifindex 3 and 4) and a bridge (5) that is no target.
    func kernel() -> ScriptedKernel {
        var bridge = Link(5, "lkbr")
        bridge.kind = "bridge"
        return ScriptedKernel([Link(3, "lk0", tap: true), Link(4, "lk1", tap: true), bridge])
    }

    /// What a VM start script does to a tap (`ip link set tap master br0`), or a macvlan made on
    /// it, while the last look lists the nftables rules (one of the checks before the links), is
    /// seen: that tap is kept and given back, the other deleted. With the links looked at before
    /// those checks (as the reaper did until round 46), the tap was deleted with the bridge port or
    /// the macvlan on it. Both with one dump of every link and target by target.
    @Test(arguments: [("master", false), ("macvlan", false), ("master", true), ("macvlan", true)])
    func aTapEnslavedOrStackedOnDuringTheSlowChecksIsKept(action: String, byTarget: Bool) throws {
        let kernel = kernel()
        let plan = try kernel.plan()
        #expect(Set(plan.items.map(\.ifname)) == ["lk0", "lk1"])
        var reaper = kernel.reaper()
        reaper.lookTargetByTarget = byTarget
        var listings = 0
        reaper.system.forwards = { _ in
            listings += 1
            if listings == 1 {
                if action == "master" {
                    kernel.change(3) { $0.master = 5 }
                } else {
                    var macvlan = Link(6, "lkmv")
                    macvlan.kind = "macvlan"
                    macvlan.lower = 3
                    kernel.add(macvlan)
                }
            }
            return .success(NftablesForwards.Found())
        }
        let results = try reap(reaper, plan)
        let kept = try #require(results.first { $0.ifname == "lk0" })
        #expect(kept.outcome == .skipped, "\(results)")
        let why = action == "master" ? "it became a port of ifindex 5" : "lkmv now sits on it"
        #expect(kept.detail?.contains(why) == true, "\(results)")
        #expect(results.first { $0.ifname == "lk1" }?.outcome == .deleted, "\(results)")
        #expect(kernel.link(3)?.name == Array("lk0".utf8) && kernel.link(3)?.group == 0, "lk0 is back as it was")
        if action == "macvlan" { #expect(kernel.link(6) != nil, "the macvlan is still there") }
        #expect(kernel.link(4) == nil)
    }

    /// The request right after the last look's slow checks is the look at the links, and the one
    /// after it the deletion: nothing else stands between them.
    @Test func theLinksAreLookedAtLastRightBeforeTheDeletion() throws {
        let kernel = kernel()
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        var read: Int?
        var listedAt: Int?
        reaper.system.forwards = { _ in
            listedAt = kernel.requests.count
            return .success(NftablesForwards.Found())
        }
        reaper.stepHook = { if $0 == "dependents-read" { read = kernel.requests.count } }
        let results = try reap(reaper, plan)
        #expect(results.allSatisfy { $0.outcome == .deleted }, "\(results)")
        let after = try kernel.requests[#require(read)...]
        #expect(after.count >= 2)
        #expect(after.first.map { $0.type == NetlinkType.getLink && $0.isDump && $0.kindFilter == nil } == true, "\(after)")
        #expect(after.dropFirst().first.map { $0.type == NetlinkType.delLink && $0.group != nil } == true, "\(after)")
        // The nftables listing came before it, and no link dump of every link between the two.
        let between = try kernel.requests[#require(listedAt)..<read!]
        #expect(!between.contains { $0.type == NetlinkType.getLink && $0.kindFilter == nil }, "\(between)")
    }

    /// A kernel tunnel made while the slow checks read (one the routes' check may not have
    /// judged by) makes the look not settled: it is taken again, and acted on once the links show
    /// the tunnels the checks read. One made at every look leaves nothing deleted.
    @Test func aTunnelMadeDuringTheSlowChecksSendsTheLookBack() throws {
        let kernel = kernel()
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        var listings = 0
        reaper.system.forwards = { _ in
            listings += 1
            if listings == 1 {
                var gre = Link(7, "lkgre")
                gre.kind = "gre"
                kernel.add(gre)
            }
            return .success(NftablesForwards.Found())
        }
        let results = try reap(reaper, plan)
        #expect(listings == 2, "the look was taken again once")
        #expect(results.allSatisfy { $0.outcome == .deleted }, "\(results)")
        #expect(kernel.requests.contains { $0.kindFilter == "gre" })

        let churning = self.kernel()
        var restless = churning.reaper()
        var made: Int32 = 20
        restless.system.forwards = { _ in
            made += 1
            var vxlan = Link(made, "lkvx\(made)")
            vxlan.kind = "vxlan"
            churning.add(vxlan)
            return .success(NftablesForwards.Found())
        }
        let refused = try reap(restless, try churning.plan())
        #expect(churning.deletions.isEmpty, "\(churning.deletions)")
        #expect(refused.allSatisfy { $0.outcome == .failed && $0.detail?.contains("kept changing while being verified; nothing deleted") == true }, "\(refused)")
        #expect(churning.link(3)?.group == 0 && churning.link(4)?.group == 0, "both are given back")
    }

    /// Where the kernel has no driver for most kinds (it then answers a kind-filtered dump with
    /// every link), the look at the kernel tunnels and, target by target, at the stacking kinds
    /// takes such an answer for "none of that kind", not for links of it: the targets are
    /// deleted, and a macvlan made during the slow checks is still seen.
    @Test(arguments: [false, true])
    func kindsWithoutADriverAreNoneOfThatKind(byTarget: Bool) throws {
        let kernel = kernel()
        kernel.registeredKinds = ["tun", "bridge", "macvlan"]
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        reaper.lookTargetByTarget = byTarget
        let results = try reap(reaper, plan)
        #expect(results.allSatisfy { $0.outcome == .deleted }, "\(results)")
        #expect(kernel.requests.contains { $0.kindFilter == "gre" } && kernel.requests.contains { $0.kindFilter == "vxlan" })

        let stacked = self.kernel()
        stacked.registeredKinds = ["tun", "bridge", "macvlan"]
        var stacking = stacked.reaper()
        stacking.lookTargetByTarget = byTarget
        stacking.stepHook = { step in
            guard step == "dependents-read" else { return }
            var macvlan = Link(6, "lkmv")
            macvlan.kind = "macvlan"
            macvlan.lower = 4
            stacked.add(macvlan)
        }
        let kept = try reap(stacking, try stacked.plan())
        #expect(kept.first { $0.ifname == "lk1" }?.detail?.contains("lkmv now sits on it") == true, "\(kept)")
        #expect(kept.first { $0.ifname == "lk0" }?.outcome == .deleted, "\(kept)")
        #expect(stacked.link(4) != nil && stacked.link(6) != nil)
    }
}
#endif
