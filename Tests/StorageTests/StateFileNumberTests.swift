import Foundation
import Testing
import Storage
import TunwardenCore

/// The state file read as input from outside: numbers beyond what tunwarden writes make it damaged.
@Suite struct StateFileNumberTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-bounds-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(arguments: [
        (#""counts":[{"time":"2026-01-01T00:00:00Z","count":-9223372036854775808}]"#, "a tunnel count in the history of net:[9] is -9223372036854775808"),
        (#""counts":[],"reaped_total":9223372036854775807"#, "the reaped total of net:[9] is 9223372036854775807"),
    ])
    func outOfBoundsNumbersMakeTheStateFileDamaged(history: String, problem: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StateStore(directory: directory)
        let text = #"{"version":1,"namespaces":{},"histories":{"net:[9]":{"#+history+#"}}}"#
        try Data(text.utf8).write(to: URL(fileURLWithPath: store.path))
        let error = #expect(throws: StorageError.self) { try store.load() }
        #expect(error?.isCorrupt == true)
        #expect(error?.description.contains(problem) == true, "\(String(describing: error))")
    }

    @Test func anOutOfBoundsIfindexMakesTheStateFileDamagedOnTheFastPathToo() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StateStore(directory: directory)
        let text = #"{"version":1,"namespaces":{"net:[9]":{"-5:t0":{"ifindex":-5,"ifname":"t0","kind":"tun","first_seen":"2026-01-01T00:00:00Z","last_seen":"2026-01-01T00:00:00Z"}}}}"#
        try Data(text.utf8).write(to: URL(fileURLWithPath: store.path))
        let error = #expect(throws: StorageError.self) { try store.load() }
        #expect(error?.isCorrupt == true)
        #expect(error?.description.contains("the ifindex of t0 in net:[9] is -5") == true, "\(String(describing: error))")
    }

    @Test func stateNumbersOutsideTheirBoundsAreNamed() {
        var observations = Observations()
        #expect(observations.numberOutOfBounds == nil)
        var history = NamespaceHistory()
        history.addSample(CountSample(time: Date(timeIntervalSince1970: 1_800_000_000), count: 3))
        history.reapedTotal = 1 << 53
        observations.histories["net:[1]"] = history
        #expect(observations.numberOutOfBounds == nil)
        observations.histories["net:[1]"]?.reapedTotal = Int.max
        #expect(observations.numberOutOfBounds == "the reaped total of net:[1] is \(Int.max), outside 0 to \(1 << 53)")
        observations.histories["net:[1]"]?.reapedTotal = 0
        observations.histories["net:[1]"]?.addSample(CountSample(time: Date(timeIntervalSince1970: 1_800_000_060), count: -1))
        #expect(observations.numberOutOfBounds == "a tunnel count in the history of net:[1] is -1, outside 0 to 2147483647")
        observations.histories = [:]
        observations.namespaces["net:[1]"] = ["0:t0": InterfaceObservation(ifindex: 0, ifname: "t0", kind: .tun, firstSeen: Date(), lastSeen: Date(), orphanedSince: nil)]
        #expect(observations.numberOutOfBounds == "the ifindex of t0 in net:[1] is 0, outside 1 to 2147483647")
    }
}
