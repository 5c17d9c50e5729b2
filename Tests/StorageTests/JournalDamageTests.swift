import Foundation
import Testing
import Storage
import TunwardenCore

/// A damaged record anywhere in the journal stops a reap, as it stops `tunwarden journal`: the
/// look for a killed run's intents never skips a line that is neither a record nor a record cut
/// short, and the check before a reap finds damage before the last checkpoint too, naming the line.
@Suite struct JournalDamageTests {
    let base = JournalOpenIntentsTests()

    /// `bytes` with the byte at the first `marker` (plus `shift`) replaced by `byte`.
    func damaging(_ bytes: [UInt8], at marker: String, shift: Int = 1, with byte: UInt8 = 0) throws -> [UInt8] {
        let needle = Array(marker.utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<$0 + needle.count]) == needle })
        var copy = bytes
        copy[at + shift] = byte
        return copy
    }

    func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
    func write(_ bytes: [UInt8], to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// The reviewer's case: a killed run's intent (with its fence) damaged by one byte in its
    /// middle, and a whole record of a later run after it. The look throws, naming line 1, rather
    /// than finding no intent; so do the check before a reap and `contents()`, which `journal` reads.
    @Test func aDamagedIntentInTheMiddleIsDamageNotNothing() throws {
        let (journal, directory) = try base.journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try journal.append([base.intent("killed", 7)], after: try journal.openIntents())
        try journal.append([base.result("later", 9)])
        try write(try damaging(try bytes(journal.path), at: "\"fence_group\""), to: journal.path)
        let look = #expect(throws: StorageError.self) { try journal.openIntents() }
        #expect(look?.description.contains("line 1 is not a journal record") == true)
        #expect(look?.description.contains("move the journal aside") == true)
        let check = #expect(throws: StorageError.self) { try journal.checkWritable() }
        #expect(check?.description.contains("line 1 is not a journal record") == true)
        let shown = #expect(throws: StorageError.self) { try journal.contents() }
        #expect(shown?.description.contains("line 1 is not a journal record") == true)
    }

    /// Damage before the last checkpoint (a reaper's append that the look does not read back
    /// past): a block of NULs in an old, answered record, or a line that is no JSON object, is
    /// found by the check before a reap, with its line; the look alone does not read there.
    @Test func damageBeforeTheLastCheckpointStopsTheReapToo() throws {
        let (journal, directory) = try base.journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for run in 0..<4 { try base.completeRun(journal, "run-\(run)", devices: 2...3) }
        let whole = try bytes(journal.path)
        try #require(try journal.checkWritable().isEmpty)
        // Line 3: run-1's first intent.
        let lines = whole.split(separator: UInt8(ascii: "\n"))
        let third = lines[0].count + lines[1].count + 2
        var nuls = whole
        for offset in third + 40..<third + 56 { nuls[offset] = 0 }
        try write(nuls, to: journal.path)
        #expect(try journal.openIntents().records.isEmpty, "the look stops at the last checkpoint")
        let error = #expect(throws: StorageError.self) { try journal.checkWritable() }
        #expect(error?.description.contains("line 3 is not a journal record (it holds bytes no record holds, such as NULs); it starts at byte \(third)") == true)
        #expect(throws: StorageError.self) { try journal.checkWritableWithoutCreating() }
        var unclosed = whole
        unclosed[third + lines[2].count - 1] = UInt8(ascii: "]")
        try write(unclosed, to: journal.path)
        let shape = #expect(throws: StorageError.self) { try journal.checkWritable() }
        #expect(shape?.description.contains("line 3 is not a journal record") == true)
    }

    /// A record cut short in the middle (a write that did not finish, then a later append on a
    /// new line) is not damage: the look and the check skip it, as `journal` does.
    @Test func aRecordCutShortInTheMiddleIsNotDamage() throws {
        let (journal, directory) = try base.journal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try journal.append([base.intent("killed", 7)], after: try journal.openIntents())
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"time\":\"2025-12-03T00:00:00Z\",\"run\":\"cut".utf8))
        try handle.close()
        try journal.append([base.result("later", 9)])
        #expect(try journal.openIntents().records.map(\.run) == ["killed"])
        #expect(try journal.checkWritable().isEmpty)
        #expect(try journal.contents().torn.count == 1)
    }
}
