import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// Output that cannot be written (a closed stream, a full disk, a reader that went away) is a
/// quiet failure: never a crash or a death by SIGPIPE, never a reason to skip saving state or
/// firing alerts. Lost standard output turns exit 0 into 1; any other status stands.
@Suite struct OutputFailureTests {
    /// `journal` and `history` write their reports like every command: a reader that went away
    /// or a full disk makes a quiet failure and exit 1, never a crash or a death by SIGPIPE.
    @Test func journalAndHistoryFailQuietlyWhenTheirOutputCannotBeWritten() throws {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        for command in [["journal"], ["journal", "--format", "json"], ["history"], ["history", "--format", "json"]] {
            for stream in [HostileRun.Stream.brokenPipe, .full, .closed] {
                let result = try HostileRun.run(command + ["--state-dir", state.path], stdout: stream, timeout: 10)
                #expect(result.status == 1 && !result.signalled, "\(command) with stdout \(stream): status \(result.status), stderr: \(result.stderr)")
            }
            #expect(try HostileRun.run(command + ["--state-dir", state.path], timeout: 10).status == 0)
        }
    }
}

@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct OutputFailureKernelTests {
    /// Standard error closed, full, or a pipe nobody reads: the audit still saves its observations
    /// and fires its alert (whose log line on standard error is what used to crash or kill it
    /// first), and exits as it would have (1: an orphan).
    @Test(arguments: [HostileRun.Stream.closed, .full, .brokenPipe])
    func anAuditWhoseStandardErrorFailsStillSavesAndAlerts(stream: HostileRun.Stream) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "errorph0", "mode", "tun")
        let alerted = state.path + "/alerted"
        let result = try HostileRun.run(in: ns, ["audit", "--state-dir", state.path, "--alert-exec", "cat > \(alerted)"], stderr: stream)
        #expect(result.status == 1 && !result.signalled, "stderr \(stream): status \(result.status)")
        #expect(result.stdout.contains("errorph0") && result.stdout.contains("orphaned"))
        #expect(FileManager.default.fileExists(atPath: state.path + "/state.db"), "observations not saved with stderr \(stream)")
        #expect((try? String(contentsOfFile: alerted, encoding: .utf8))?.contains("errorph0") == true, "alert not fired with stderr \(stream)")
    }

    /// Standard output closed, full, or a pipe nobody reads: the run completes (observations
    /// saved) and exits 1 instead of 0, so a report that was lost is never taken for a clean one;
    /// a status that is not 0 stands as it is.
    @Test(arguments: [HostileRun.Stream.closed, .full, .brokenPipe])
    func anAuditWhoseStandardOutputFailsCompletesAndSaysSo(stream: HostileRun.Stream) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.hold("outheld0")
        for format in ["table", "json", "nagios"] {
            #expect(try HostileRun.run(in: ns, ["audit", "--state-dir", state.path, "--format", format]).status == 0)
            try? FileManager.default.removeItem(atPath: state.path + "/state.db")
            let lost = try HostileRun.run(in: ns, ["audit", "--state-dir", state.path, "--format", format], stdout: stream)
            #expect(lost.status == 1 && !lost.signalled, "\(format) to stdout \(stream): status \(lost.status), stderr: \(lost.stderr)")
            #expect(FileManager.default.fileExists(atPath: state.path + "/state.db"), "\(format) to stdout \(stream): observations not saved")
        }
        try ns.ip("tuntap", "add", "dev", "outorph0", "mode", "tun")
        let warning = try HostileRun.run(in: ns, ["audit", "--state-dir", state.path], stdout: stream)
        #expect(warning.status == 1 && !warning.signalled)
        let critical = try HostileRun.run(in: ns, ["audit", "--state-dir", state.path, "--limit", "2"], stdout: stream)
        #expect(critical.status == 2 && !critical.signalled, "status \(critical.status)")
        let plan = try HostileRun.run(in: ns, ["reap", "--dry-run", "--min-age", "0", "--state-dir", state.path], stdout: stream)
        #expect(plan.status == 1 && !plan.signalled, "reap --dry-run to stdout \(stream): status \(plan.status), stderr: \(plan.stderr)")
        #expect(try ns.ip("link", "show", "outorph0").contains("outorph0"))
    }
}
