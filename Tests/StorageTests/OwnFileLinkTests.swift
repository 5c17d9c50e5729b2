import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Storage

/// A symbolic link or a FIFO planted where tunwarden keeps its own files (the state directory's
/// lock and database) is refused, not followed or waited on: the link's target is left as it was.
@Suite struct OwnFileLinkTests {
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tw-ownlink-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aLinkAtTheLockIsRefusedAndItsTargetKept() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let victim = directory + "/victim"
        try "keep\n".write(toFile: victim, atomically: true, encoding: .utf8)
        #expect(symlink(victim, directory + "/lock") == 0)
        let error = #expect(throws: StorageError.self) {
            try RunLock.acquire(directory: directory, command: "reap", purpose: .reaping, patience: 0)
        }
        #expect(error?.problem == "is a symbolic link, which tunwarden's lock never is", "\(String(describing: error))")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep\n")
    }

    @Test func aFIFOAtTheLockIsRefusedAtOnce() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(mkfifo(directory + "/lock", 0o600) == 0)
        let error = #expect(throws: StorageError.self) {
            try RunLock.acquire(directory: directory, command: "audit", purpose: .observing, patience: 0)
        }
        #expect(error?.problem == "is not a regular file, which tunwarden's lock always is", "\(String(describing: error))")
    }

    @Test func aLinkAtTheDatabaseIsRefusedAndItsTargetKept() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let victim = directory + "/victim"
        try "keep\n".write(toFile: victim, atomically: true, encoding: .utf8)
        #expect(symlink(victim, directory + "/state.db") == 0)
        #expect(throws: (any Error).self) { _ = try SQLiteConnection(path: directory + "/state.db", create: true) }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep\n")
    }
}
