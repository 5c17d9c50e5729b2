#if os(Linux)
import Foundation
import Inventory
import Netlink
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// A device that is not a target and joins a batch's private link group after the last look
/// (F3 of review 53), on a scripted kernel: one whose joining the notifications tell of before
/// the deletion stops it; one that joins unannounced (a regroup in place of a device that is
/// down sends none) goes with the group deletion, and the reap reports it, failed.
@Suite struct GroupStrangerTests {
    typealias Link = ScriptedKernel.Link

    func reap(_ reaper: LinuxReaper, _ plan: ReapPlan) throws -> (results: [ReapResult], journal: [JournalRecord]) {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let results = try reaper.execute(plan, journal: journal, runID: "strangers")
        return (results, try journal.read())
    }

    /// Old code: the group deletion was sent, and took twl7v9 with the targets.
    @Test func aDeviceAnnouncedInTheGroupAfterTheLastLookStopsTheDeletion() throws {
        let kernel = ScriptedKernel([Link(2, "twl7a2", tap: true), Link(3, "twl7a3", tap: true), Link(9, "twl7v9", tap: true)])
        var reaper = kernel.reaper()
        var planned = try kernel.plan()
        planned.items.removeAll { $0.ifname == "twl7v9" }
        reaper.stepHook = { step in
            guard step == "verified", let group = kernel.link(2)?.group else { return }
            kernel.change(9) { $0.group = group }
            kernel.groupJoiners[9] = "twl7v9"
        }
        let (results, _) = try reap(reaper, planned)
        #expect(results.count == 2 && results.allSatisfy { $0.outcome == .failed && $0.detail?.contains("twl7v9 (ifindex 9) joined group") == true }, "\(results)")
        #expect(kernel.link(2) != nil && kernel.link(3) != nil && kernel.link(9) != nil)
        #expect(kernel.deletions.isEmpty)
    }

    /// Old code: the results were those of the two targets alone, both deleted, and nothing
    /// said twl7w9 went too.
    @Test func aDeviceDeletedWithTheGroupIsReportedAsAFailure() throws {
        let kernel = ScriptedKernel([Link(2, "twl7b2", tap: true), Link(3, "twl7b3", tap: true), Link(9, "twl7w9", tap: true)])
        var reaper = kernel.reaper()
        var planned = try kernel.plan()
        planned.items.removeAll { $0.ifname == "twl7w9" }
        reaper.stepHook = { step in
            guard step == "verified", let group = kernel.link(2)?.group else { return }
            kernel.change(9) { $0.group = group }     // unannounced
        }
        let (results, journal) = try reap(reaper, planned)
        #expect(results.filter { $0.outcome == .deleted }.map(\.ifname).sorted() == ["twl7b2", "twl7b3"], "\(results)")
        let stranger = try #require(results.first { $0.ifname == "twl7w9" }, "\(results)")
        #expect(stranger.outcome == .failed && stranger.unplanned && stranger.ifindex == 9 && stranger.kind == .tap)
        #expect(stranger.detail?.hasPrefix("not a target, but deleted with the batch: it joined the reap's private link group") == true, "\(stranger)")
        #expect(journal.contains { $0.type == .result && $0.ifname == "twl7w9" && $0.result == .failed }, "\(journal)")
        #expect(kernel.link(9) == nil)
    }
}
#endif
