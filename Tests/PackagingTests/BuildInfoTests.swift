#if os(Linux)
import Foundation
import Testing
import TestSupport

/// The script that records the commit a build is made from (Plugins/BuildInfoPlugin/commit.sh): a
/// git checkout gives its commit; a tarball, one unpacked inside another repository, or a machine
/// without git gives none, and the build goes on.
@Suite(.enabled(if: Shell.which("git") != nil, "needs git"))
struct BuildInfoTests {
    static let script = PackagingTests.repository.appendingPathComponent("Plugins/BuildInfoPlugin/commit.sh").path

    /// Runs the script for `repo`, with `path` as PATH, and returns what it wrote.
    static func record(_ repo: String, into out: String, path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = path
        let result = try Shell.capture(["/bin/sh", script, repo, out], environment: environment)
        try #require(result.status == 0, "\(result.stderr)")
        return try String(contentsOfFile: out + "/BuildCommit.swift", encoding: .utf8)
    }

    static func git(_ repo: String, _ arguments: String...) throws -> String {
        try Shell.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@localhost"] + arguments)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aCheckoutGivesItsCommitAndAnUnchangedCommitRewritesNothing() throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let repo = work.path + "/src"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        _ = try Self.git(repo, "init", "-q")
        _ = try Self.git(repo, "commit", "-q", "--allow-empty", "-m", "first")
        let commit = try Self.git(repo, "rev-parse", "--short=7", "HEAD")
        let out = work.path + "/out"
        #expect(try Self.record(repo, into: out).contains("let generatedCommit: String? = \"\(commit)\""))

        let file = out + "/BuildCommit.swift"
        let before = try #require(try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date)
        Thread.sleep(forTimeInterval: 0.05)
        _ = try Self.record(repo, into: out)
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date == before,
                "an unchanged commit rewrote the file, which rebuilds the target")

        _ = try Self.git(repo, "commit", "-q", "--allow-empty", "-m", "second")
        let next = try Self.git(repo, "rev-parse", "--short=7", "HEAD")
        #expect(next != commit)
        #expect(try Self.record(repo, into: out).contains("\"\(next)\""))
    }

    @Test func aTarballInsideAnotherRepositoryHasNoCommit() throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        _ = try Self.git(work.path, "init", "-q")
        _ = try Self.git(work.path, "commit", "-q", "--allow-empty", "-m", "someone else's")
        let unpacked = work.path + "/vendor/tunwarden-0.1.0"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        #expect(try Self.record(unpacked, into: work.path + "/out").contains("let generatedCommit: String? = nil"))
    }

    @Test func withoutGitThereIsNoCommit() throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        _ = try Self.git(work.path, "init", "-q")
        _ = try Self.git(work.path, "commit", "-q", "--allow-empty", "-m", "first")
        // A PATH with the script's other tools and no git.
        let bin = work.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for tool in ["mkdir", "cat"] {
            try FileManager.default.createSymbolicLink(atPath: bin + "/" + tool, withDestinationPath: try #require(Shell.which(tool)))
        }
        #expect(try Self.record(work.path, into: work.path + "/out", path: bin).contains("let generatedCommit: String? = nil"))
    }
}
#endif
