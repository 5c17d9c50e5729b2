import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Storage

/// The metrics file is written through a new file of its own, created exclusively: whatever
/// someone who can write the textfile directory plants there (a symbolic link or a FIFO at the
/// old fixed temporary name `NAME.prom.tmp`, a link at the final name) makes tunwarden neither
/// write through a link nor hang.
@Suite struct TextfileWriterTests {
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tw-textfile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func mode(_ path: String) -> mode_t? {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode : nil
    }

    /// Runs `body` on a thread of its own; false when it took more than five seconds, after
    /// which `fifo` is opened for reading, so that a write blocked on it ends.
    static func finishes(freeing fifo: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            body()
            done.signal()
        }
        if done.wait(timeout: .now() + 5) == .success { return true }
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        _ = done.wait(timeout: .now() + 5)
        if reader >= 0 { close(reader) }
        return false
    }

    @Test(arguments: ["tmp-link", "final-link", "both-links"])
    func plantedLinksAreNotFollowed(_ plant: String) throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let victim = directory + "/victim", path = directory + "/tunwarden.prom"
        try Data("root's secret\n".utf8).write(to: URL(fileURLWithPath: victim))
        chmod(victim, 0o600)
        if plant != "final-link" { #expect(symlink(victim, path + ".tmp") == 0) }
        if plant != "tmp-link" { #expect(symlink(victim, path) == 0) }
        try TextfileWriter.write("tunwarden_status 1\n", to: path)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "root's secret\n")
        #expect(Self.mode(victim).map { $0 & 0o777 } == 0o600)
        // The final name is now a regular file of its own, mode 0644, with the metrics.
        #expect(Self.mode(path).map { $0 & S_IFMT } == S_IFREG)
        #expect(Self.mode(path).map { $0 & 0o777 } == 0o644)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "tunwarden_status 1\n")
        // No temporary file is left behind (the planted link, if any, is left as it was).
        let left = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("tunwarden.prom.") }
        #expect(left == (plant == "final-link" ? [] : ["tunwarden.prom.tmp"]), "\(left)")
    }

    @Test func aPlantedFIFODoesNotHangTheWrite() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/tunwarden.prom"
        #expect(mkfifo(path + ".tmp", 0o666) == 0)
        let finished = Self.finishes(freeing: path + ".tmp") { try? TextfileWriter.write("tunwarden_status 0\n", to: path) }
        #expect(finished, "the write waited on the FIFO")
        // (Only then: a write that went into the FIFO renamed it over the final name.)
        if finished { #expect((try? String(contentsOfFile: path, encoding: .utf8)) == "tunwarden_status 0\n") }
    }

    /// Each write makes a new temporary file, so two writes never share one, and the file is
    /// replaced whole, with the mode node_exporter needs, whatever the umask.
    @Test func writesReplaceTheFileWholeWithItsMode() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/tunwarden.prom"
        let old = umask(0o077)
        defer { umask(old) }
        for round in 0..<20 { try TextfileWriter.write("round \(round)\n", to: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "round 19\n")
        #expect(Self.mode(path).map { $0 & 0o777 } == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["tunwarden.prom"])
    }

    /// A directory that is missing or is not a directory is named in the error.
    @Test func aMissingDirectoryIsNamed() throws {
        let missing = "/nonexistent-\(UUID().uuidString)"
        let error = #expect(throws: StorageError.self) { try TextfileWriter.write("x\n", to: missing + "/tunwarden.prom") }
        #expect(error?.path == missing && error?.problem == "does not exist", "\(String(describing: error))")
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data().write(to: URL(fileURLWithPath: directory + "/file"))
        let notDirectory = #expect(throws: StorageError.self) { try TextfileWriter.write("x\n", to: directory + "/file/tunwarden.prom") }
        #expect(notDirectory?.problem.hasPrefix("cannot be opened as a directory") == true, "\(String(describing: notDirectory))")
    }
}
