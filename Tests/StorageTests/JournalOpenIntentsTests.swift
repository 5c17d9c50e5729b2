import Foundation
import Testing
import Storage
import TunwardenCore

/// The look for intents no result answers (what reaps killed outright left): it finds them
/// whatever was appended after them, never finds an answered one, and reads back only as far as
/// the last checkpoint plus the open runs' own intents.
@Suite struct JournalOpenIntentsTests {
    /// A journal in a fresh directory, removed with it by the caller.
    func journal() throws -> (Journal, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-open-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (Journal(path: directory + "/journal.jsonl"), directory)
    }

    func intent(_ run: String, _ ifindex: Int, netns: String = "a", padding: Int = 0) -> JournalRecord {
        JournalRecord(time: Date(timeIntervalSince1970: 1_700_000_000), run: run, type: .intent, netns: netns, ifname: "tap\(ifindex)",
                      ifindex: ifindex, recreate: padding > 0 ? [String(repeating: "#", count: padding)] : nil,
                      fenceGroup: 0x1234_5678, fenceName: "tw000000000000\(ifindex % 10)")
    }

    func result(_ run: String, _ ifindex: Int, netns: String = "a") -> JournalRecord {
        JournalRecord(time: Date(timeIntervalSince1970: 1_700_000_001), run: run, type: .result, netns: netns, ifname: "tap\(ifindex)",
                      ifindex: ifindex, result: .deleted)
    }

    /// A whole run, as a reaper holding the journal's lock appends it: intents, then results,
    /// each append with the checkpoint of the open intents found right before.
    func completeRun(_ journal: Journal, _ run: String, devices: ClosedRange<Int>, netns: String = "b", padding: Int = 0) throws {
        let known = try journal.openIntents()
        try journal.append(devices.map { intent(run, $0, netns: netns, padding: padding) }, after: known)
        try journal.append(devices.map { result(run, $0, netns: netns) }, after: known)
    }

    /// The finding's first case: a run killed in one namespace, then runs of another namespace
    /// (and of the watcher) appended after it. Its intents are still found, by run and device.
    @Test func aKilledRunsIntentsAreFoundWhateverWasAppendedAfterThem() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try completeRun(journal, "before", devices: 2...3)
        try journal.append([intent("killed", 7), intent("killed", 8)], after: try journal.openIntents())
        for run in 0..<5 { try completeRun(journal, "later-\(run)", devices: 2...4) }
        let open = try journal.openIntents()
        #expect(open.records.map(\.run) == ["killed", "killed"])
        #expect(open.records.map(\.ifindex) == [7, 8])
        // The last record names them: where they lie and that both are open.
        let last = try #require(try journal.read().last)
        #expect(last.openRuns?.map(\.run) == ["killed"] && last.openRuns?.first?.ifindexes == nil, "\(String(describing: last.openRuns))")
    }

    /// A run repaired (or answered in part) is not found again: its results answer its intents,
    /// and the checkpoint after them names only what is left.
    @Test func answeredIntentsAreNeverFoundAgain() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try journal.append([intent("killed", 7), intent("killed", 8), intent("killed", 9)], after: try journal.openIntents())
        try completeRun(journal, "other", devices: 2...2)
        // A repair that answered two of the three.
        try journal.append([result("killed", 7), result("killed", 9)], after: try journal.openIntents())
        try completeRun(journal, "later", devices: 3...3)
        var open = try journal.openIntents()
        #expect(open.records.map(\.ifindex) == [8])
        #expect(try journal.read().last?.openRuns == [OpenRun(run: "killed", at: 0, ifindexes: [8], leftOpen: [])])
        try journal.append([result("killed", 8)], after: open)
        open = try journal.openIntents()
        #expect(open.records.isEmpty)
        #expect(try journal.read().last?.openRuns == [])
        try completeRun(journal, "last", devices: 2...2)
        #expect(try journal.openIntents().records.isEmpty)
    }

    /// The look is bounded: past the last checkpoint it reads only the open runs' intents, where
    /// the checkpoint says they lie, however much was journaled in between or before.
    @Test func theLookReadsOnlyTheTailAndTheOpenRuns() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for run in 0..<20 { try completeRun(journal, "early-\(run)", devices: 2...21, padding: 2_000) }
        try journal.append([intent("killed", 7)], after: try journal.openIntents())
        for run in 0..<20 { try completeRun(journal, "later-\(run)", devices: 2...21, padding: 2_000) }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? Int)
        #expect(size > 1_500_000)
        let open = try journal.openIntents()
        #expect(open.records.map(\.run) == ["killed"])
        #expect(open.bytesRead <= 2 * 64 * 1024, "read \(open.bytesRead) of \(size) bytes")
    }

    /// A journal written before checkpoints is read back to its start, and still gives every open
    /// intent; once a reaper's append puts a checkpoint in, the next look is short.
    @Test func aJournalWithoutCheckpointsIsReadWholeOnce() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try journal.append([intent("killed", 7)])
        for run in 0..<10 {
            try journal.append((2...21).map { intent("old-\(run)", $0, padding: 2_000) })
            try journal.append((2...21).map { result("old-\(run)", $0) })
        }
        var open = try journal.openIntents()
        #expect(open.records.map(\.run) == ["killed"])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? Int)
        #expect(open.bytesRead == size)
        try completeRun(journal, "new", devices: 2...2)
        open = try journal.openIntents()
        #expect(open.records.map(\.run) == ["killed"])
        #expect(open.bytesRead <= 2 * 64 * 1024, "read \(open.bytesRead) bytes")
    }

    /// A checkpoint whose open run is not where it says (the journal was cut or rewritten under
    /// it) is not trusted: the whole journal is read, and what it holds decides.
    @Test func aCheckpointThatPointsAmissIsNotTrusted() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try completeRun(journal, "first", devices: 2...3)
        try journal.append([intent("killed", 7)], after: try journal.openIntents())
        try completeRun(journal, "later", devices: 2...3)
        // The first run's lines taken out: the checkpoints' offsets now point into other records.
        let lines = try String(contentsOfFile: journal.path, encoding: .utf8).split(separator: "\n")
        try (lines.dropFirst(4).joined(separator: "\n") + "\n").write(toFile: journal.path, atomically: true, encoding: .utf8)
        let open = try journal.openIntents()
        #expect(open.records.map(\.run) == ["killed"])
    }

    /// A record cut short at the end (a write that did not finish) is skipped; what is before it
    /// stands.
    @Test func aTornLastRecordIsSkipped() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try journal.append([intent("killed", 7)], after: try journal.openIntents())
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"time\":\"2025-12-03T00:00:00Z\",\"run\":\"cut".utf8))
        try handle.close()
        #expect(try journal.openIntents().records.map(\.run) == ["killed"])
        #expect(try Journal(path: directory + "/none.jsonl").openIntents().records.isEmpty)
    }

    /// After a rotation (the journal renamed to `PATH.1`, a new one made), the rotated journal's
    /// open intents are found there, and a result in the new journal (a run that spanned the
    /// rotation, or a repair since) answers them; other runs' results there do not.
    @Test func aRotatedJournalsOpenIntentsAreFoundAndAnsweredFromTheNewJournal() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try completeRun(journal, "done", devices: 1...2)
        try journal.append([intent("killed", 3), intent("spanning", 4), intent("spanning", 5)], after: try journal.openIntents())
        #expect(rename(journal.path, journal.rotated.path) == 0)
        #expect(journal.rotated.path == journal.path + ".1")
        #expect(journal.rotatedOpenIntents().map(\.run) == ["killed", "spanning", "spanning"])
        #expect(try journal.openIntents().records.isEmpty)

        try journal.append([result("spanning", 4), result("other", 3)])
        let open = try journal.unanswered(journal.rotatedOpenIntents())
        #expect(open.map { "\($0.run) \($0.ifindex)" } == ["killed 3", "spanning 5"])
        // Without a new journal (not made yet), nothing answers them.
        #expect(try Journal(path: directory + "/none.jsonl").unanswered(open) == open)
    }

    /// Round "faults 53" F3: a line of NULs among a killed run's intents (a torn sector, a crash)
    /// is skipped, and the intents after it are still found, in the journal and in the one
    /// rotated away; the look names the line as one among that run's intents. One after the
    /// run's last intent is not among them. Until then the look stopped at the line, and the
    /// intents after it were lost for good.
    @Test func aNulLineAmongARunsIntentsHidesNoneAfterIt() throws {
        let (journal, directory) = try journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try completeRun(journal, "before", devices: 2...3)
        let start = try Data(contentsOf: URL(fileURLWithPath: journal.path)).count
        try journal.append([intent("killed", 7), intent("killed", 8), intent("killed", 9)], after: try journal.openIntents())
        var bytes = try Data(contentsOf: URL(fileURLWithPath: journal.path))
        let firstEnd = try #require(bytes[start...].firstIndex(of: UInt8(ascii: "\n")))
        let nuls = [UInt8](repeating: 0, count: 64) + [UInt8(ascii: "\n")]
        bytes.insert(contentsOf: nuls, at: firstEnd + 1)
        bytes.append(contentsOf: nuls)
        try bytes.write(to: URL(fileURLWithPath: journal.path))

        let open = try journal.openIntents()
        #expect(open.records.map(\.ifindex) == [7, 8, 9])
        #expect(open.skippedLines["killed"] == [TornRecord(path: journal.path, offset: firstEnd + 1, length: 64)], "\(open.skippedLines)")
        // A later append's checkpoint still names all three.
        try completeRun(journal, "later", devices: 2...2)
        #expect(try journal.openIntents().records.map(\.ifindex) == [7, 8, 9])

        #expect(rename(journal.path, journal.rotated.path) == 0)
        let rotated = journal.rotatedOpenLook()
        #expect(rotated.records.map(\.ifindex) == [7, 8, 9])
        #expect(rotated.skippedLines["killed"]?.map(\.offset) == [firstEnd + 1])
    }
}
