#if os(Linux)
import Foundation
@testable import Reaper
import Storage
import Testing
import TestSupport
import TunwardenCore

/// A fenced target gone from the namespace before the deletion, against a scripted kernel: the
/// result says it was deleted only when the kernel said so (tunwarden's queue on it detached, or
/// its removal notification naming no namespace), and says "deleted, or moved" when nothing tells.
@Suite struct GoneTargetTests {
    typealias Link = ScriptedKernel.Link

    func reap(_ kernel: ScriptedKernel, removing index: Int32, at step: String, notificationsLost: Bool) throws -> [Int32: ReapResult] {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        var reaper = kernel.reaper()
        reaper.stepHook = { now in
            guard now == step else { return }
            kernel.remove(index)
            kernel.departuresLost = notificationsLost
        }
        let results = try reaper.execute(try kernel.plan(), journal: Journal(path: state.path + "/journal.jsonl"), runID: "gone")
        return Dictionary(uniqueKeysWithValues: results.map { (Int32($0.ifindex), $0) })
    }

    /// Deleted by something else after the fence: the single-queue tun's own queue says so even
    /// with the notifications lost; the multi-queue tap's notification says so.
    @Test(arguments: ["fenced", "grouped"])
    func aDeletionIsSaidWhenTheKernelSaysIt(step: String) throws {
        let single = ScriptedKernel([Link(2, "gd0"), Link(3, "gd1")])
        let byQueue = try reap(single, removing: 2, at: step, notificationsLost: true)
        #expect(byQueue[2]?.outcome == .skipped && byQueue[2]?.detail?.contains("deleted by something else meanwhile (the kernel detached tunwarden's queue") == true, "\(byQueue)")
        #expect(byQueue[3]?.outcome == .deleted, "\(byQueue)")

        let multi = ScriptedKernel([Link(2, "gdmq", multiQueue: true), Link(3, "gd2")])
        let byNotice = try reap(multi, removing: 2, at: step, notificationsLost: false)
        #expect(byNotice[2]?.outcome == .skipped && byNotice[2]?.detail?.contains("deleted by something else meanwhile (the kernel's notification of its removal") == true,
                "\(byNotice)")
    }

    /// A multi-queue tap gone while the notifications were lost: nothing tells a deletion from a
    /// move, so the result says both may be, is failed, and names the commands that give the fence
    /// back wherever it lives on. Until round 48 it said "deleted by something else".
    @Test(arguments: ["fenced", "grouped"])
    func nothingTellingSaysDeletedOrMoved(step: String) throws {
        let kernel = ScriptedKernel([Link(2, "gu0mq", multiQueue: true), Link(3, "gu1")])
        let results = try reap(kernel, removing: 2, at: step, notificationsLost: true)
        let gone = try #require(results[2])
        #expect(gone.outcome == .failed, "\(gone)")
        #expect(gone.detail?.contains("it is gone from this namespace: deleted, or moved to another by something else") == true, "\(gone)")
        #expect(gone.detail?.contains("ip link set dev tw") == true && gone.detail?.contains("name gu0mq") == true, "\(gone)")
        #expect(gone.detail?.contains("it was deleted") == false, "\(gone)")
        #expect(results[3]?.outcome == .deleted, "\(results)")
    }
}
#endif
