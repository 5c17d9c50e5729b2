import Foundation
import Testing
import Storage

/// A dry run proves the journal writable as the real run does, without creating anything.
@Suite struct JournalProbeTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-bounds-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theJournalIsProvenWritableWithoutCreatingIt() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Journal(path: directory + "/a/b/journal.jsonl").checkWritableWithoutCreating()
        try Journal(path: directory + "/journal.jsonl").checkWritableWithoutCreating()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)

        try Data().write(to: URL(fileURLWithPath: directory + "/file"))
        let blocked = #expect(throws: StorageError.self) { try Journal(path: directory + "/file/sub/journal.jsonl").checkWritableWithoutCreating() }
        #expect(blocked?.description.contains("is not a directory") == true)

        try Data("not json\n{}\n".utf8).write(to: URL(fileURLWithPath: directory + "/damaged.jsonl"))
        #expect(throws: StorageError.self) { try Journal(path: directory + "/damaged.jsonl").checkWritableWithoutCreating() }

        try Data().write(to: URL(fileURLWithPath: directory + "/readonly.jsonl"))
        chmod(directory + "/readonly.jsonl", 0o444)
        if geteuid() != 0 {
            #expect(throws: StorageError.self) { try Journal(path: directory + "/readonly.jsonl").checkWritableWithoutCreating() }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["damaged.jsonl", "file", "readonly.jsonl"])
    }

    /// A journal that is not a file (/dev/null, a FIFO) keeps nothing: the dry run and the real
    /// run both refuse it, the same way, and neither waits on a FIFO with no writer.
    @Test func aJournalThatIsNotAFileIsRefusedByBothRuns() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(mkfifo(directory + "/fifo", 0o600) == 0)
        try FileManager.default.createDirectory(atPath: directory + "/dir", withIntermediateDirectories: false)
        for path in ["/dev/null", directory + "/fifo", directory + "/dir"] {
            for dryRun in [true, false] {
                let refused = #expect(throws: StorageError.self) {
                    let journal = Journal(path: path)
                    _ = try dryRun ? journal.checkWritableWithoutCreating() : journal.checkWritable()
                }
                #expect(refused?.description.contains("not a regular file") == true, "\(path): \(refused?.description ?? "")")
            }
        }
    }

    /// Root is not told to run as root (faults 54, F5): a journal it cannot write (here, a file
    /// /proc refuses to make) is to be chosen elsewhere. Old code: "…, or run as root."
    @Test(.enabled(if: geteuid() == 0, "needs root")) func rootIsNotToldToRunAsRoot() throws {
        let journal = Journal(path: "/proc/self/tunwarden-\(UUID().uuidString).jsonl")
        let refused = #expect(throws: StorageError.self) { try journal.checkWritable() }
        #expect(refused?.advice == "Choose another --journal path.", "\(refused?.description ?? "-")")
    }
}
