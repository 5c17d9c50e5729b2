#if os(Linux)
import Foundation
@testable import Reaper
import Storage
import Testing
import TestSupport
import TunwardenCore

/// What something else changes on a fenced target, against a scripted kernel (Linux 55 F4, F5):
/// a link group set since is not taken for tunwarden's and set back, and a single-queue target
/// renamed after its fence, deleted all the same, is reported under the name it was deleted by.
@Suite struct ChangedAfterFenceTests {
    typealias Link = ScriptedKernel.Link

    func reap(_ kernel: ScriptedKernel, at step: String, _ change: @escaping () -> Void) throws -> [Int32: ReapResult] {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        var reaper = kernel.reaper()
        reaper.stepHook = { now in if now == step { change() } }
        let results = try reaper.execute(try kernel.plan(), journal: Journal(path: state.path + "/journal.jsonl"), runID: "changed")
        return Dictionary(uniqueKeysWithValues: results.map { (Int32($0.ifindex), $0) })
    }

    /// Put into link group 7 by someone after its fence: skipped, and group 7 is left on it and
    /// said. Until round 55 the give-back set it to 0.
    @Test(arguments: [false, true])
    func aGroupSetSinceTheFenceIsLeft(multiQueue: Bool) throws {
        let kernel = ScriptedKernel([Link(2, "cg0", tap: true, multiQueue: multiQueue), Link(3, "cg1")])
        let results = try reap(kernel, at: "grouped") { kernel.change(2) { $0.group = 7 } }
        let result = try #require(results[2])
        #expect(result.outcome == .skipped, "\(results)")
        #expect(result.detail?.contains("its link group, 7, was set by something else since it was fenced, and is left as it is") == true, "\(result)")
        #expect(kernel.link(2)?.group == 7)
        #expect(kernel.link(2)?.name == Array("cg0".utf8) && kernel.link(2)?.altNames == [])
        #expect(results[3]?.outcome == .deleted, "\(results)")
    }

    /// Renamed in place after its fence: deleted (tunwarden holds its only queue), and the result
    /// names the name the kernel deleted it under as well as the planned one.
    @Test func aRenamedSingleQueueTargetIsReportedUnderBothNames() throws {
        let kernel = ScriptedKernel([Link(2, "cr0", tap: true)])
        let results = try reap(kernel, at: "grouped") { kernel.change(2) { $0.name = Array("vm\"q'f".utf8) } }
        let result = try #require(results[2])
        #expect(result.outcome == .deleted && result.ifname == "cr0", "\(results)")
        #expect(result.detail?.contains("renamed vm\"q'f by something else since it was fenced, and deleted as vm\"q'f with the reap's private link group") == true, "\(result)")
        #expect(kernel.link(2) == nil)
    }
}
#endif
