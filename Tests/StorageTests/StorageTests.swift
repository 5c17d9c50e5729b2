import Foundation
import Testing
import Storage
import TunwardenCore

@Suite struct StorageTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-storage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func stateRoundTripsAndMissingFileIsEmpty() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StateStore(directory: directory + "/nested/state")
        #expect(try store.load() == Observations())
        var observations = Observations()
        observations.record(Heuristics.assess(Snapshot(platform: "linux", interfaces: [
            NetworkInterface(index: 7, name: "t0", kind: .tun, carrier: false, tun: TunDetails(persistent: true)),
        ], routes: [], holders: HolderScan(complete: true, attachments: [], processesScanned: 1))), namespace: "net:[9]", at: Date(timeIntervalSince1970: 1_800_000_000))
        try store.save(observations)
        #expect(try store.load() == observations)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/nested/state") == ["state.json"])
    }

    @Test func corruptStateIsAnErrorNamingTheFileAndNothingIsOverwritten() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StateStore(directory: directory)
        try Data("{\"version\": 1, \"namespaces\": [".utf8).write(to: URL(fileURLWithPath: store.path))
        let error = #expect(throws: StorageError.self) { try store.load() }
        #expect(error?.path == store.path)
        #expect(error?.description.contains("is not a valid tunwarden state file") == true)
        #expect(String(decoding: FileManager.default.contents(atPath: store.path) ?? Data(), as: UTF8.self) == "{\"version\": 1, \"namespaces\": [")
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
        let cut = Journal(path: directory + "/cut.jsonl")
        try Data("{\"run\":".utf8).write(to: URL(fileURLWithPath: cut.path))
        #expect(throws: StorageError.self) { try cut.read() }
    }

    @Test func unwritableJournalIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A file where the journal's directory should be.
        try Data().write(to: URL(fileURLWithPath: directory + "/file"))
        let journal = Journal(path: directory + "/file/journal.jsonl")
        #expect(throws: StorageError.self) { try journal.checkWritable() }
    }
}
