#if os(Linux)
import Foundation
import Testing
import TestSupport

/// What an `--alert-exec` command prints never reaches tunwarden's standard output, which is the
/// report a script, Nagios or cron reads: a relay such as `curl` prints the server's answer on
/// every alert. Its standard error is passed on; its standard output is shown on standard error
/// only when it failed. As root, in a throwaway namespace.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct AlertExecOutputTests {
    @Test func theCommandsStandardOutputStaysOutOfEveryFormatsReport() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let relay = "echo '{\"ok\":true}'; echo relay-note >&2"
        func audit(_ extra: [String]) throws -> Shell.Result {
            try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--alert-exec", relay] + extra)
        }

        try ns.ip("tuntap", "add", "dev", "relay0", "mode", "tun")
        let json = try audit(["--format", "json"])
        #expect(json.status == 1, "\(json.stderr)")
        #expect(json.stderr.contains("alert: transition: WARNING"), "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["netns"] as? String == ns.name, "stdout: \(json.stdout)")
        // It succeeded: what it printed on its standard output is dropped, its standard error passed on.
        #expect(!json.stderr.contains("{\"ok\":true}"), "\(json.stderr)")
        #expect(json.stderr.contains("relay-note"), "\(json.stderr)")

        try ns.ip("tuntap", "add", "dev", "relay1", "mode", "tun")
        let nagios = try audit(["--format", "nagios"])
        #expect(nagios.stderr.contains("alert: new-orphan"), "\(nagios.stderr)")
        #expect(nagios.stdout.hasPrefix("TUNWARDEN WARNING: 2 orphaned-tun"), "stdout: \(nagios.stdout)")

        try ns.ip("tuntap", "add", "dev", "relay2", "mode", "tun")
        let quiet = try audit(["-q"])
        #expect(quiet.stderr.contains("alert: new-orphan"), "\(quiet.stderr)")
        #expect(quiet.stdout.isEmpty, "stdout: \(quiet.stdout)")
    }

    /// A command that failed has what it printed shown on standard error, the first 4 KiB of it,
    /// for whoever reads the log to see why.
    @Test func aFailedCommandsOutputIsShownOnStandardErrorCutShort() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "relayf0", "mode", "tun")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "-q",
                                        "--alert-exec", "echo 'HTTP 403: bad token'; head -c 100000 /dev/zero | tr '\\0' x; exit 22"])
        #expect(result.status == 1)
        #expect(result.stdout.utf8.count == 0, "stdout: \(result.stdout.prefix(200))")
        #expect(result.stderr.contains("--alert-exec exited 22"), "\(result.stderr.prefix(2000))")
        #expect(result.stderr.contains("--alert-exec printed on its standard output:\nHTTP 403: bad token\n"), "\(result.stderr.prefix(2000))")
        #expect(result.stderr.contains("… (cut at 4096 bytes)"))
        #expect(result.stderr.utf8.count < 6000, "\(result.stderr.utf8.count) bytes on standard error")
    }
}
#endif
