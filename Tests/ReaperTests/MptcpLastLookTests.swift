#if os(Linux)
import Foundation
import Inventory
import Netlink
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// The reaper's last look at MPTCP endpoints that name a target by index (F1 of review 53), on a
/// scripted kernel.
@Suite struct MptcpLastLookTests {
    typealias Link = ScriptedKernel.Link

    func reap(_ reaper: LinuxReaper, _ plan: ReapPlan) throws -> [ReapResult] {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        return try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "mptcp")
    }

    /// An MPTCP endpoint that names a target by index, there only from the step after the fresh
    /// judgement on, stops its deletion; endpoints that cannot be read stop every deletion. Old
    /// code: the last look did not ask, and twl7m2 was deleted.
    @Test func anMptcpEndpointSeenOnlyAtTheLastLookKeepsTheTarget() throws {
        let kernel = ScriptedKernel([Link(2, "twl7m2", tap: true), Link(3, "twl7m3", tap: true)])
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            if step == "grouped" { kernel.mptcpEndpoints = [2: ["10.9.0.1 id 1 subflow"]] }
        }
        let results = try reap(reaper, try kernel.plan())
        #expect(results.first { $0.ifname == "twl7m2" }?.outcome == .skipped, "\(results)")
        #expect(results.first { $0.ifname == "twl7m2" }?.detail?.contains("an MPTCP endpoint now names it by index (10.9.0.1 id 1 subflow)") == true, "\(results)")
        #expect(kernel.link(2) != nil && kernel.link(3) == nil)

        let unreadable = ScriptedKernel([Link(2, "twl7m4", tap: true)])
        var blind = unreadable.reaper()
        blind.stepHook = { step in if step == "grouped" { unreadable.mptcpEndpoints = nil } }
        let refused = try reap(blind, try unreadable.plan())
        #expect(refused.first?.outcome == .failed && refused.first?.detail?.contains("cannot tell whether an MPTCP endpoint names it") == true, "\(refused)")
        #expect(unreadable.link(2) != nil)
    }
}
#endif
