import Foundation
import Testing
@testable import Storage
import TunwardenCore

@Suite struct StorageTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-storage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A state directory that cannot be made is named with the system's own words for why, not
    /// Foundation's "The operation could not be completed".
    @Test func aDirectoryThatCannotBeMadeSaysWhy() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tw-notdir-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let error = #expect(throws: StorageError.self) { try StorageError.createDirectory(file + "/state", advice: "Choose another.") }
        #expect(error?.problem == "cannot be created (\(file) exists and is not a directory)", "\(String(describing: error))")
        let below = #expect(throws: StorageError.self) { try StorageError.createDirectory(file + "/state/more", advice: "Choose another.") }
        #expect(below?.problem == "cannot be created (\(file) exists and is not a directory)", "\(String(describing: below))")
        // What can be made is made, mode 0755 whatever the umask, and making it again is no error.
        let fresh = file + "-dir/a/b"
        defer { try? FileManager.default.removeItem(atPath: file + "-dir") }
        let mask = umask(0o077)
        defer { umask(mask) }
        try StorageError.createDirectory(fresh, advice: "")
        try StorageError.createDirectory(fresh + "/", advice: "")
        for made in [file + "-dir", file + "-dir/a", fresh] {
            let mode = try FileManager.default.attributesOfItem(atPath: made)[.posixPermissions] as? Int
            #expect(mode == 0o755, "\(made): \(String(describing: mode))")
        }
    }

    @Test func journalAppendsAndReadsBack() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = Journal(path: directory + "/j/journal.jsonl")
        #expect(try journal.read().isEmpty)
        try journal.checkWritable()
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        let intent = JournalRecord(time: time, run: "r1", type: .intent, netns: "blue", ifname: "t0", ifindex: 7,
                                   prior: PriorState(NetworkInterface(index: 7, name: "t0", kind: .tun, mtu: 1500, tun: TunDetails(persistent: true)), routes: []),
                                   recreate: ["ip -n blue tuntap add dev t0 mode tun"])
        let result = JournalRecord(time: time, run: "r1", type: .result, netns: "blue", ifname: "t0", ifindex: 7, result: .deleted)
        try journal.append([intent])
        try journal.append([result])
        #expect(try journal.read() == [intent, result])
        let text = String(decoding: FileManager.default.contents(atPath: journal.path)!, as: UTF8.self)
        #expect(text.split(separator: "\n").count == 2)
        #expect(text.hasSuffix("\n"))
    }

    @Test func damagedJournalIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = Journal(path: directory + "/journal.jsonl")
        try Data("not json\n".utf8).write(to: URL(fileURLWithPath: journal.path))
        let error = #expect(throws: StorageError.self) { try journal.checkWritable() }
        #expect(error?.description.contains("line 1 is not a journal record") == true)
        // Complete JSON that is not a record is damage too, as is a line cut short and then
        // written over with something else.
        for text in ["{\"run\":1}\n", "{\"run\":\"r1\",\"type\":XX\n"] {
            let other = Journal(path: directory + "/other.jsonl")
            try Data(text.utf8).write(to: URL(fileURLWithPath: other.path))
            #expect(throws: StorageError.self) { try other.read() }
            #expect(throws: StorageError.self) { try other.checkWritable() }
        }
    }

    @Test func unwritableJournalIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A file where the journal's directory should be.
        try Data().write(to: URL(fileURLWithPath: directory + "/file"))
        let journal = Journal(path: directory + "/file/journal.jsonl")
        #expect(throws: StorageError.self) { try journal.checkWritable() }
    }

    func record(_ name: String, _ index: Int, run: String = "r1", type: JournalRecord.Kind = .intent, detail: String? = nil) -> JournalRecord {
        JournalRecord(time: Date(timeIntervalSince1970: 1_800_000_000), run: run, type: type, netns: "blue", ifname: name, ifindex: index,
                      prior: type == .intent ? PriorState(NetworkInterface(index: index, name: name, kind: .tun, mtu: 1500, tun: TunDetails(persistent: true)), routes: []) : nil,
                      recreate: type == .intent ? ["ip -n blue tuntap add dev \(name) mode tun"] : nil, result: type == .result ? .deleted : nil, detail: detail)
    }

    func bytes(_ path: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: path) ?? Data())
    }

    /// A write cut short (a full disk, a signal) leaves the start of a record without a line end:
    /// reading reports where it is and keeps every other record, and the next append starts on a
    /// line of its own, after which the cut record is still only reported, not taken for damage.
    @Test func aRecordCutShortIsReportedAndTheNextAppendStartsOnANewLine() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = Journal(path: directory + "/journal.jsonl")
        let first = record("t0", 7), second = record("t1", 8)
        try journal.append([first, second])
        let whole = bytes(journal.path)
        let cutAt = whole.count
        let cut = record("t0", 7, type: .result)
        let full = cut.json()
        // The write stopped 20 bytes into the result record.
        try Data(whole + full.prefix(20)).write(to: URL(fileURLWithPath: journal.path))

        let contents = try journal.contents()
        #expect(contents.records == [first, second])
        #expect(contents.torn == [TornRecord(path: journal.path, offset: cutAt, length: 20)])
        #expect(contents.torn.first?.description.contains("\(journal.path): the record at byte \(cutAt) was cut short") == true)
        #expect(try journal.checkWritable() == [TornRecord(path: journal.path, offset: cutAt, length: 20)])

        let later = record("t2", 9, run: "r2", type: .result)
        try journal.append([later])
        let after = bytes(journal.path)
        #expect(Array(after.prefix(cutAt + 21)) == whole + full.prefix(20) + [10])
        let again = try journal.contents()
        #expect(again.records == [first, second, later])
        #expect(again.torn.map(\.offset) == [cutAt])
        // A reap's check reads only the journal's last record, which is whole again.
        #expect(try journal.checkWritable().isEmpty)
    }

    /// A line that is not a record and was not cut short is damage wherever it is: `read` refuses
    /// the whole journal, and so does a reap's check when it is the last line.
    @Test func aDamagedLineIsRefusedEvenBetweenGoodRecords() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = Journal(path: directory + "/journal.jsonl")
        try journal.append([record("t0", 7)])
        let good = bytes(journal.path)
        try Data(good + Array("{\"time\":\"2027-01-15T08:00:00Z\",\"run\":\"r1\",\"type\":\"intent\",\u{7}\n".utf8) + good)
            .write(to: URL(fileURLWithPath: journal.path))
        let error = #expect(throws: StorageError.self) { try journal.read() }
        #expect(error?.description.contains("line 2 is not a journal record") == true)
        #expect(error?.description.contains("it starts at byte \(good.count)") == true)

        try Data(good + Array("not a record\n".utf8)).write(to: URL(fileURLWithPath: journal.path))
        let last = #expect(throws: StorageError.self) { try journal.checkWritable() }
        #expect(last?.description.contains("line 2 is not a journal record") == true)
        // Without a line end it is still damage, not a record cut short.
        try Data(good + Array("not a record".utf8)).write(to: URL(fileURLWithPath: journal.path))
        #expect(throws: StorageError.self) { try journal.checkWritable() }
        #expect(throws: StorageError.self) { try journal.read() }
    }

    /// A reap's check finds damage however far back it lies, as `tunwarden journal` does, and
    /// names its line; a last record longer than one read is still read whole.
    @Test func checkingBeforeAReapFindsDamageFarBack() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = Journal(path: directory + "/journal.jsonl")
        try Data("damaged far back\n".utf8).write(to: URL(fileURLWithPath: journal.path))
        try journal.append((0..<3000).map { record("t\($0)", $0 + 2) })
        #expect(bytes(journal.path).count > 600 * 1024)
        #expect(throws: StorageError.self) { try journal.read() }
        let far = #expect(throws: StorageError.self) { try journal.checkWritable() }
        #expect(far?.description.contains("line 1 is not a journal record") == true)
        #expect(throws: StorageError.self) { try journal.checkWritableWithoutCreating() }
        try Data(bytes(journal.path).dropFirst("damaged far back\n".utf8.count)).write(to: URL(fileURLWithPath: journal.path))
        #expect(try journal.checkWritable().isEmpty)

        // One record of 300 KB (its detail), after which the file ends without a line end in a
        // record cut short: both are judged, however far back the long one starts.
        let long = record("t1", 3, type: .result, detail: String(repeating: "x", count: 300 * 1024))
        try journal.append([long])
        let before = bytes(journal.path)
        try Data(before + Array("{\"time\":\"20".utf8)).write(to: URL(fileURLWithPath: journal.path))
        #expect(try journal.checkWritable() == [TornRecord(path: journal.path, offset: before.count, length: 11)])
        // The long record damaged at its start is found as well.
        var damaged = before
        damaged[before.count - long.json().count - 1] = UInt8(ascii: "X")
        try Data(damaged).write(to: URL(fileURLWithPath: journal.path))
        let error = #expect(throws: StorageError.self) { try journal.checkWritable() }
        #expect(error?.description.contains("the last line is not a journal record") == true)
    }

    /// Every prefix of a real record is recognised as cut short; complete JSON and bytes no JSON
    /// text has are not; random bytes never crash the check.
    @Test func cutShortRecordsAreToldFromDamage() throws {
        var sample = record("t0", 7)
        sample.detail = "quote \" backslash \\ unicode \u{e9} \u{1}"
        let line = sample.json()
        for length in 1..<line.count {
            #expect(CutShortJSON.isCutShort(line.prefix(length)), "prefix of \(length) bytes")
        }
        #expect(CutShortJSON.isCutShort(line.prefix(40) + [0, 0, 0]))
        #expect(CutShortJSON.isCutShort([0, 0]))
        #expect(!CutShortJSON.isCutShort(line))
        for damaged in ["garbage", "[1,2", "{\"a\" 1", "{\"a\":tru e", "{\"a\":01", "{\"a\":\"\\x", "{\"a\":1}}", "{\"a\":\"\u{1}\"",
                        "{\"a\":-", "{\"a\":1.e", "{\"a\":[1,,", String(repeating: "{\"a\":[", count: 100)] {
            let bytes = Array(damaged.utf8)
            let expectCut = damaged == "{\"a\":-"
            #expect(CutShortJSON.isCutShort(bytes) == expectCut, "\(damaged)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<64, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator) { bytes = Array(line.prefix(count)) + bytes }
            _ = CutShortJSON.isCutShort(bytes)
        }
    }

    /// The state directory's lock: a second taker waits, gives up when told to by who holds it,
    /// and learns the holder's pid, command and purpose; once released it can be taken again.
    @Test func theRunLockNamesItsHolderAndIsExclusive() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let held = try RunLock.acquire(directory: directory + "/state", command: "reap", purpose: .reaping, patience: 1)
        #expect(String(decoding: bytes(directory + "/state/lock"), as: UTF8.self) == "\(getpid()) reap reaping\n")
        let refused = #expect(throws: RunLock.Busy.self) {
            try RunLock.acquire(directory: directory + "/state", command: "reap", purpose: .observing, patience: 5) { $0.purpose == .reaping }
        }
        #expect(refused?.holder == RunLock.Holder(pid: getpid(), command: "reap", purpose: .reaping))
        #expect(refused?.waited == nil)
        #expect(refused?.description == "another tunwarden reap (pid \(getpid())) is running")
        let started = Date()
        let timedOut = #expect(throws: RunLock.Busy.self) {
            try RunLock.acquire(directory: directory + "/state", command: "audit", purpose: .observing, patience: 0.2)
        }
        #expect(Date().timeIntervalSince(started) >= 0.2)
        #expect(timedOut?.description.hasPrefix("\(directory)/state/lock has been held by tunwarden reap (pid \(getpid())) for more than") == true)
        // A run that gave up leaves the holder's line alone.
        #expect(String(decoding: bytes(directory + "/state/lock"), as: UTF8.self) == "\(getpid()) reap reaping\n")
        held.release()
        #expect(bytes(directory + "/state/lock").isEmpty)
        let next = try RunLock.acquire(directory: directory + "/state", command: "audit", purpose: .observing, patience: 0)
        next.release()
    }

    /// A journal's lock is the journal file's own, apart from any state directory's, and one
    /// however the journal is named: two reaps with different state directories sharing one
    /// journal (through a symbolic or a hard link, too) never both hold it. Taking it writes
    /// nothing into the journal.
    @Test func aJournalsLockIsTheFilesOwnAndExclusive() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/shared", withIntermediateDirectories: true)
        let journal = directory + "/shared/journal.jsonl"
        let record = Data("{\"run\":\"r\"}\n".utf8)
        try record.write(to: URL(fileURLWithPath: journal))
        try FileManager.default.createSymbolicLink(atPath: directory + "/symlink.jsonl", withDestinationPath: journal)
        #expect(link(journal, directory + "/hardlink.jsonl") == 0)
        let state = try RunLock.acquire(directory: directory + "/state", command: "reap", purpose: .reaping, patience: 1)
        let held = try RunLock.acquire(journal: journal, patience: 1)
        for alias in [journal, directory + "/symlink.jsonl", directory + "/hardlink.jsonl"] {
            let refused = #expect(throws: RunLock.Busy.self) {
                try RunLock.acquire(journal: alias, patience: 5) { $0.purpose == .reaping }
            }
            #expect(refused?.description == "another tunwarden reap (pid unknown) is running", "\(alias)")
        }
        held.release()
        #expect(bytes(journal) == Array(record))
        let next = try RunLock.acquire(journal: directory + "/symlink.jsonl", patience: 0)
        next.release()
        state.release()
        #expect(throws: StorageError.self) { try RunLock.acquire(journal: directory + "/missing.jsonl", patience: 0) }
    }
}
