import Foundation
import Testing
import TestSupport

/// `--quiet` for scripts and timers: no report, the same exit code and the same side effects.
@Suite struct QuietUsageTests {
    @Test(arguments: [
        (["audit", "-q", "--format", "json"], "--quiet prints no report and --format json chooses one"),
        (["audit", "--quiet", "--from", "/tmp", "-v"], "--quiet and --verbose contradict each other"),
        (["reap", "--quiet"], "--quiet shows no plan to consent to: add --yes (or --dry-run)"),
        (["reap", "-q", "--yes", "--format", "table"], "--quiet prints no report and --format table chooses one"),
    ])
    func contradictionsAreUsageErrors(arguments: [String], message: String) throws {
        let result = try Shell.capture([Shell.tunwardenBinary] + arguments)
        #expect(result.status == 64, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}

#if os(Linux)
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct QuietKernelTests {
    /// An audit with --quiet prints nothing and exits as the report would have; its observations
    /// and metrics are written all the same.
    @Test func aQuietAuditPrintsNothingAndExitsWithTheStatus() throws {
        let ns = try TestNamespace()
        let state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "qorph0", "mode", "tun")
        let metrics = state.path + "/tunwarden.prom"
        let loud = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state"])
        let quiet = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "-q", "--state-dir", state.path, "--textfile", metrics])
        #expect(loud.status == 1 && loud.stdout.contains("qorph0"), "\(loud.stdout)\(loud.stderr)")
        #expect(quiet.status == loud.status, "\(quiet.stderr)")
        #expect(quiet.stdout.isEmpty, "\(quiet.stdout)")
        #expect(FileManager.default.fileExists(atPath: state.path + "/state.db"))
        #expect(try String(contentsOfFile: metrics, encoding: .utf8).contains("tunwarden_status"))
    }

    /// A reap with --quiet --yes prints nothing when all goes well, removes what it would have
    /// removed, and journals it.
    @Test func aQuietReapPrintsNothingWhenAllIsWellAndStillJournals() throws {
        let ns = try TestNamespace()
        let state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "qreap0", "mode", "tun")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--quiet", "--yes", "--min-age", "0", "--state-dir", state.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        #expect(!(try ns.ip("link", "show")).contains("qreap0"), "the quiet reap did not remove qreap0")
        let journal = try String(contentsOfFile: state.path + "/journal.jsonl", encoding: .utf8)
        #expect(journal.contains("\"result\":\"deleted\"") && journal.contains("qreap0"), "\(journal)")
    }
}
#endif
