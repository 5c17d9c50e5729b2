#if os(Linux)
import Foundation
import Inventory
import Netlink
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// The reaper's last look at tc filters that match a target as the packets' input device, on a
/// scripted kernel: one there only from the step after the fresh judgement on stops that
/// target's deletion; a filter whose device cannot be told, or that compares with a range of
/// devices, stops every deletion.
@Suite struct TcFilterLastLookTests {
    typealias Link = ScriptedKernel.Link

    func reap(_ reaper: LinuxReaper, _ plan: ReapPlan) throws -> [ReapResult] {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        return try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "tc-filters")
    }

    @Test func aFilterSeenOnlyAtTheLastLookKeepsTheTarget() throws {
        let kernel = ScriptedKernel([Link(2, "twl6f2", tap: true), Link(3, "twl6f3", tap: true)])
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            if step == "grouped" { kernel.tcFilters = TrafficFilters.Found(matches: [2: ["u32 indev, on eth0 egress"]]) }
        }
        let results = try reap(reaper, try kernel.plan())
        #expect(results.first { $0.ifname == "twl6f2" }?.outcome == .skipped, "\(results)")
        #expect(results.first { $0.ifname == "twl6f2" }?.detail?.contains("a tc filter now matches it (u32 indev, on eth0 egress)") == true, "\(results)")
        #expect(kernel.link(2) != nil && kernel.link(3) == nil)
    }

    @Test func aFilterWhoseDeviceCannotBeToldStopsEveryDeletion() throws {
        let kernel = ScriptedKernel([Link(2, "twl6f4", tap: true), Link(3, "twl6f5", tap: true)])
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            if step == "grouped" { kernel.tcFilters = TrafficFilters.Found(unresolved: ["gone0"]) }
        }
        let results = try reap(reaper, try kernel.plan())
        #expect(results.allSatisfy { $0.outcome != .deleted }, "\(results)")
        #expect(results.first?.detail?.contains("input device gone0 by index") == true, "\(results)")
        #expect(kernel.link(2) != nil && kernel.link(3) != nil)
    }

    @Test func aFilterComparingWithARangeStopsEveryDeletion() throws {
        let kernel = ScriptedKernel([Link(2, "twl6f6", tap: true), Link(3, "twl6f7", tap: true)])
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            if step == "grouped" { kernel.tcFilters = TrafficFilters.Found(ranges: ["basic meta(rt_iif gt 1), on eth0 egress"]) }
        }
        let results = try reap(reaper, try kernel.plan())
        #expect(results.allSatisfy { $0.outcome != .deleted }, "\(results)")
        #expect(results.first?.detail?.contains("a range of indexes or names (basic meta(rt_iif gt 1), on eth0 egress)") == true, "\(results)")
        #expect(kernel.link(2) != nil && kernel.link(3) != nil)
    }
}
#endif
