import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// An empty path or pattern is a usage error (exit 64), on the command line and in the file: an
/// empty state directory used to mean the filesystem's root, and an empty pattern protects nothing.
@Suite struct EmptyValueTests {
    @Test(arguments: [
        (["audit", "--state-dir", ""], "--state-dir takes a path; got an empty one"),
        (["reap", "--dry-run", "--state-dir", ""], "--state-dir takes a path; got an empty one"),
        (["reap", "--dry-run", "--protect", "wg*", "--protect", ""], "--protect takes a shell pattern"),
        (["reap", "--dry-run", "--protect", "["], "--protect '[': its '[' has no ']' to close it"),
        (["reap", "--dry-run", "--protect", "wg\\"], "it ends with a backslash, which matches nothing"),
        (["reap", "--dry-run", "--journal", ""], "--journal takes a path; got an empty one"),
        (["audit", "--from", ""], "--from takes a path; got an empty one"),
        (["journal", "--journal", ""], "--journal takes a path; got an empty one"),
    ] as [([String], String)])
    func emptyValuesAreUsageErrors(arguments: [String], message: String) throws {
        let result = try HostileRun.run(["--netns", HostileRun.missingNamespace] + arguments, timeout: 10)
        #expect(result.status == 64 && !result.signalled, "\(arguments): status \(result.status), stderr: \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): stderr was: \(result.stderr)")
    }

    @Test(arguments: [
        ("protect: ['wg*', '']\n", "'protect': a pattern cannot be empty"),
        ("state-dir: ''\n", "'state-dir': expected an absolute path"),
    ])
    func emptyValuesInTheFileAreUsageErrors(text: String, message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = directory.path + "/tunwarden.conf"
        try Data(text.utf8).write(to: URL(fileURLWithPath: config))
        for command in [["reap", "--dry-run"], ["audit"]] {
            let result = try HostileRun.run(["--config", config, "--netns", HostileRun.missingNamespace] + command + ["--state-dir", directory.path], timeout: 10)
            #expect(result.status == 64, "\(command) with \(text): status \(result.status), stderr: \(result.stderr)")
            #expect(result.stderr.contains(message), "\(command) with \(text): \(result.stderr)")
        }
    }
}
