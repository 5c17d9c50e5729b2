#if os(Linux)
import Foundation
import Testing
import TestSupport

/// State that root's runs made, read by another user: the package makes /var/lib/tunwarden 0750,
/// and a source install leaves root's files 0644 in a 0755 directory. Neither may be taken for an
/// empty history, and the advice is to run as root (or, for an audit, to keep no state), not to
/// change permissions. The built binary runs as nobody, against throwaway namespaces.
@Suite(.enabled(if: TestNamespace.available && NamespacePrivilegeTests.asNobody != nil, "needs root, a namespace and setpriv or runuser"))
struct StatePermissionTests {
    /// A state directory root's audit of `ns` filled, inside a directory nobody may search.
    func rootsState(_ ns: TestNamespace, in parent: TemporaryDirectory) throws -> String {
        chmod(parent.path, 0o755)
        let state = parent.path + "/state"
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state, "--format", "nagios"])
        #expect(FileManager.default.fileExists(atPath: state + "/state.db"), "\(audit.stderr)")
        return state
    }

    @Test func historyAndJournalOfRootsStateSayToRunAsRoot() throws {
        let ns = try TestNamespace(), parent = try TemporaryDirectory()
        defer { ns.remove(); parent.remove() }
        try ns.ip("tuntap", "add", "dev", "nc46p0", "mode", "tun")
        let state = try rootsState(ns, in: parent)
        FileManager.default.createFile(atPath: state + "/journal.jsonl", contents: Data(), attributes: [.posixPermissions: 0o640])
        chmod(state, 0o750)

        let asNobody = try #require(NamespacePrivilegeTests.asNobody)
        let history = try Shell.capture(asNobody + [Shell.tunwardenBinary, "history", "--state-dir", state])
        #expect(history.status == 3, "\(history.stdout)\(history.stderr)")
        #expect(!history.stdout.contains("No history yet"), "\(history.stdout)")
        #expect(history.stderr.contains("\(state)/state.db cannot be read (Permission denied)"), "\(history.stderr)")
        #expect(history.stderr.contains("sudo tunwarden history"), "\(history.stderr)")

        let journal = try Shell.capture(asNobody + [Shell.tunwardenBinary, "journal", "--state-dir", state])
        #expect(journal.status == 3, "\(journal.stdout)\(journal.stderr)")
        #expect(journal.stderr.contains("\(state)/journal.jsonl cannot be read (Permission denied)"), "\(journal.stderr)")
        #expect(journal.stderr.contains("sudo tunwarden journal"), "\(journal.stderr)")

        // Root reads the same directory.
        let asRoot = try Shell.capture([Shell.tunwardenBinary, "history", "--state-dir", state])
        #expect(asRoot.status == 0 && asRoot.stdout.contains("Tunnel-style interfaces"), "\(asRoot.stdout)\(asRoot.stderr)")
    }

    /// A source install's state (root's files, readable by all) read by another user's audit:
    /// SQLite refuses to write it, and the note says to run as root or keep no state.
    @Test func auditOfRootsStateAdvisesRootOrNoState() throws {
        let ns = try TestNamespace(), parent = try TemporaryDirectory()
        defer { ns.remove(); parent.remove() }
        try ns.ip("tuntap", "add", "dev", "nc46p1", "mode", "tun")
        let state = try rootsState(ns, in: parent)
        let asNobody = try #require(NamespacePrivilegeTests.asNobody)
        let audit = try Shell.capture(["ip", "netns", "exec", ns.name] + asNobody + [Shell.tunwardenBinary, "audit", "--state-dir", state, "--format", "nagios"])
        #expect(audit.stderr.contains("Run as root (sudo), or use --no-state."), "\(audit.stderr)")
        #expect(!audit.stderr.contains("Check the disk"), "\(audit.stderr)")
    }
}

/// A `--state-dir` given to `history` that is no directory is a mistyped path (exit 64), as it is
/// for `journal`, not an empty history.
@Suite struct HistoryStateDirectoryTests {
    @Test func aMissingStateDirectoryIsBadUsage() throws {
        let parent = try TemporaryDirectory()
        defer { parent.remove() }
        let missing = parent.path + "/nope"
        let history = try Shell.capture([Shell.tunwardenBinary, "history", "--state-dir", missing])
        #expect(history.status == 64, "\(history.stdout)\(history.stderr)")
        #expect(history.stderr.contains("--state-dir \(missing): the directory \(missing) does not exist"), "\(history.stderr)")
        #expect(!history.stdout.contains("No history yet"))

        let file = parent.path + "/file"
        FileManager.default.createFile(atPath: file, contents: Data())
        let notADirectory = try Shell.capture([Shell.tunwardenBinary, "history", "--state-dir", file])
        #expect(notADirectory.status == 64, "\(notADirectory.stderr)")
        #expect(notADirectory.stderr.contains("\(file) is not a directory"), "\(notADirectory.stderr)")

        // An existing directory no run has used yet is an empty history.
        let empty = try Shell.capture([Shell.tunwardenBinary, "history", "--state-dir", parent.path])
        #expect(empty.status == 0 && empty.stdout.hasPrefix("No history yet"), "\(empty.stdout)\(empty.stderr)")
    }
}
#endif
