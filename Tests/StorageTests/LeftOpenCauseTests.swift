import Foundation
import Testing
import Storage
import TunwardenCore

/// Why a result left its intent open (`JournalRecord.leftOpen`) reaches the repair that takes the
/// intent up however much was appended since: the checkpoints carry it past the records the look
/// reads, so that a repair never takes a run that said what it left for one killed outright.
@Suite struct LeftOpenCauseTests {
    func journal() throws -> (Journal, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-left-open-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (Journal(path: directory + "/journal.jsonl"), directory)
    }

    func intent(_ run: String, _ ifindex: Int) -> JournalRecord {
        JournalRecord(time: Date(timeIntervalSince1970: 1_700_000_000), run: run, type: .intent, netns: "a", ifname: "tap\(ifindex)",
                      ifindex: ifindex, fenceGroup: 0x1234_5678, fenceName: "tw000000000000\(ifindex % 10)")
    }

    func result(_ run: String, _ ifindex: Int, leftOpen: LeftOpen? = nil, leftFenced: Bool = false) -> JournalRecord {
        JournalRecord(time: Date(timeIntervalSince1970: 1_700_000_001), run: run, type: .result, netns: "a", ifname: "tap\(ifindex)",
                      ifindex: ifindex, result: leftFenced ? .failed : .deleted, leftFenced: leftFenced ? true : nil, leftOpen: leftOpen)
    }

    /// Appends `records` as a reaper holding the lock does when `checkpoints`, else bare.
    func append(_ journal: Journal, _ records: [JournalRecord], checkpoints: Bool) throws {
        try journal.append(records, after: checkpoints ? try journal.openIntents() : nil)
    }

    /// A run that left one intent open because where its device went could not be told,
    /// another because the check after a lost answer failed, one with an older result that gave no
    /// reason, and a run killed outright: each is told apart after other runs' appends, with
    /// checkpoints or without. Old code: nothing kept why, and the repair said of each that the
    /// run "journaled no result for it (it was killed …)".
    @Test(arguments: [true, false])
    func whyAResultLeftAnIntentOpenIsFoundAfterLaterAppends(checkpoints: Bool) throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try append(journal, [intent("left", 6), intent("left", 7), intent("left", 8), intent("left", 9)], checkpoints: checkpoints)
        try append(journal, [result("left", 6, leftOpen: .whereabouts, leftFenced: true), result("left", 7, leftOpen: .unchecked, leftFenced: true),
                             result("left", 8, leftFenced: true), result("left", 9)], checkpoints: checkpoints)
        try append(journal, [intent("killed", 5)], checkpoints: checkpoints)
        for run in 0..<3 {
            try append(journal, [intent("later-\(run)", 2)], checkpoints: checkpoints)
            try append(journal, [result("later-\(run)", 2)], checkpoints: checkpoints)
        }
        var open = try journal.openIntents()
        #expect(open.records.map(\.ifindex) == [6, 7, 8, 5])
        #expect(open.leftOpen(run: "left", ifindex: 6) == .whereabouts)
        #expect(open.leftOpen(run: "left", ifindex: 7) == .unchecked)
        #expect(open.leftOpen(run: "left", ifindex: 8) == .unsaid)
        #expect(open.leftOpen(run: "killed", ifindex: 5) == nil)
        if checkpoints {
            let last = try #require(try journal.read().last?.openRuns?.first { $0.run == "left" })
            #expect(last.leftOpen == [LeftOpenDevice(ifindex: 6, cause: .whereabouts), LeftOpenDevice(ifindex: 7, cause: .unchecked),
                                      LeftOpenDevice(ifindex: 8, cause: .unsaid)], "\(last)")
        }

        // A repair that leaves 6 open in turn, for another reason, and answers 7: the newest says.
        try append(journal, [result("left", 6, leftOpen: .giveBack, leftFenced: true), result("left", 7)], checkpoints: checkpoints)
        try append(journal, [intent("later-9", 2)], checkpoints: checkpoints)
        try append(journal, [result("later-9", 2)], checkpoints: checkpoints)
        open = try journal.openIntents()
        #expect(open.records.map(\.ifindex) == [6, 8, 5])
        #expect(open.leftOpen(run: "left", ifindex: 6) == .giveBack)
        #expect(open.leftOpen(run: "left", ifindex: 7) == nil)
    }

    /// A reason this tunwarden does not know (a newer one wrote it), in a result and in a
    /// checkpoint, is read as `unsaid`, and the intent stays open. Old code: the line was
    /// damage, and every reap stopped on it.
    @Test func anUnknownReasonIsReadAsUnsaid() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try append(journal, [intent("new", 4)], checkpoints: true)
        let line = #"{"time":"2023-11-14T22:13:21Z","run":"new","type":"result","netns":"a","ifname":"tap4","ifindex":4,"result":"failed","left_fenced":true,"left_open":"some-newer-reason","open_runs":[{"run":"new","at":0,"left_open":[{"ifindex":4,"cause":"another-newer-reason"}]}]}"#
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((line + "\n").utf8))
        try handle.close()
        #expect(try journal.read().last?.leftOpen == .unsaid)
        #expect(try journal.read().last?.openRuns?.first?.leftOpen == [LeftOpenDevice(ifindex: 4, cause: .unsaid)])
        let open = try journal.openIntents()
        #expect(open.records.map(\.ifindex) == [4])
        #expect(open.leftOpen(run: "new", ifindex: 4) == .unsaid)
    }

    /// A checkpoint an older tunwarden wrote (no `left_open`) after a result that left an intent
    /// open: why it is open is not known, not "no result" (which makes the repair say the run
    /// was killed); a checkpoint this one writes says so in turn by leaving the field out. Old
    /// code: the intent was taken for one no result answered.
    @Test func anOlderCheckpointLeavesTheReasonUnknown() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try append(journal, [intent("old", 4)], checkpoints: false)
        let older = #"{"time":"2023-11-14T22:13:21Z","run":"old","type":"result","netns":"a","ifname":"tap4","ifindex":4,"result":"failed","left_fenced":true,"open_runs":[{"run":"old","at":0}]}"#
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((older + "\n").utf8))
        try handle.close()
        try append(journal, [intent("killed", 5)], checkpoints: true)
        for run in 0..<2 {
            try append(journal, [intent("later-\(run)", 2)], checkpoints: true)
            try append(journal, [result("later-\(run)", 2)], checkpoints: true)
        }
        let open = try journal.openIntents()
        #expect(open.records.map(\.ifindex) == [4, 5])
        #expect(open.leftOpen(run: "old", ifindex: 4) == nil && !open.causeKnown(run: "old", ifindex: 4))
        #expect(open.causeKnown(run: "killed", ifindex: 5))
        let last = try #require(try journal.read().last?.openRuns)
        #expect(last.first { $0.run == "old" }?.leftOpen == nil && last.first { $0.run == "killed" }?.leftOpen == [], "\(last)")
    }
}
