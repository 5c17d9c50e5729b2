import Foundation
import Testing
import TestSupport
@testable import TunwardenCommands

/// `tunwarden` as a user runs it: the built binary, its output and its exit codes.
@Suite struct UsageTests {
    func run(_ arguments: String...) throws -> Shell.Result {
        try Shell.capture([Shell.tunwardenBinary] + arguments)
    }

    @Test func versionAndHelp() throws {
        let version = try run("--version")
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == Tunwarden.versionText)
        let help = try run("audit", "--help")
        #expect(help.status == 0)
        for word in ["--format", "--limit", "--warn", "--netns", "orphaned", "suspect", "dead-tunnel-route", "leak-growth", "stacked-tun"] {
            #expect(help.stdout.contains(word), "audit --help should mention \(word)")
        }
        #expect(try run("--help").stdout.contains("Exit codes"))
    }

    #if os(Linux)
    /// `snapshot` runs macOS's tools: elsewhere it is a command used in the wrong place (bad
    /// usage), and it writes nothing.
    @Test func snapshotOffMacOSIsBadUsage() throws {
        let result = try run("snapshot", "/tmp/tw-usage-snapshot-never")
        #expect(result.status == 64 && result.stderr.contains("runs on macOS"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/tw-usage-snapshot-never"))
    }
    #endif

    /// `watch --help` lists --reap beside the options that act only with it, and not --no-state,
    /// which the watcher always refuses.
    @Test func watchHelpGroupsReapingAndOffersNoRefusedOption() throws {
        let help = try run("watch", "--help").stdout
        #expect(!help.contains("--no-state"), "\(help)")
        let section = try #require(help.range(of: "REAPING:"), "\(help)")
        let rest = help[section.upperBound...]
        let nextSection = rest.range(of: "\n\n[A-Z]", options: .regularExpression)?.lowerBound ?? rest.endIndex
        let reaping = rest[..<nextSection]
        for option in ["--reap", "--min-age", "--protect", "--only", "--journal"] {
            #expect(reaping.contains(option), "\(option) is not under REAPING:\n\(help)")
        }
    }

    @Test(arguments: [
        (["audit", "--limit", "0"], "--limit must be from 1 to 1000000; got 0"),
        (["audit", "--limit", "10", "--warn", "11"], "--warn must be between 1 and --limit"),
        (["audit", "--format", "xml"], "xml"),
        (["--netns", "../x", "audit"], "not a network namespace name"),
        (["audit", "--bogus"], "--bogus"),
        (["--netns", "tw-usage-a", "audit", "--netns", "tw-usage-b"], "--netns is given 2 times ('tw-usage-a', 'tw-usage-b')"),
        (["audit", "--no-state", "--state-dir", "/tmp/tw-usage-never"], "--state-dir '/tmp/tw-usage-never' would be ignored"),
        // (A namespace that does not exist: were the options not refused, the watcher would stop at it.)
        (["--netns", "tw-usage-none", "watch", "--min-age", "1h", "--protect", "wg*"], "--min-age, --protect act only when the watcher reaps"),
        (["--netns", "tw-usage-none", "watch", "--no-state"], "watch keeps observations"),
        (["audit", "--growth-window", "-1h"], "--growth-window takes no negative value; got '-1h'"),
        (["audit", "--limit", "-5"], "--limit takes no negative value; got '-5'"),
        (["--netns", "tw-usage-none", "reap", "--dry-run", "--journal", "/tmp"], "--journal '/tmp' is a directory"),
        (["--netns", "tw-usage-none", "reap", "--dry-run", "--journal", "/tw-usage-none/j.jsonl"], "the directory /tw-usage-none does not exist"),
    ])
    func badUsageExits64WithAMessage(arguments: [String], message: String) throws {
        let result = try Shell.capture([Shell.tunwardenBinary] + arguments)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "stderr was: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}

/// End-to-end audits of real namespaces, as root.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct AuditCommandTests {
    /// Audits with a throwaway state directory: tests never write to the host's /var/lib/tunwarden.
    func audit(_ ns: TestNamespace, _ extra: String...) throws -> Shell.Result {
        let state = try TemporaryDirectory()
        return try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path] + extra)
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func splitDefaultIntoAnOrphanIsCriticalInEveryFormat() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "kure_tub", "mode", "tun")
        try ns.ip("link", "set", "kure_tub", "up")
        try ns.ip("route", "add", "0.0.0.0/1", "dev", "kure_tub")
        try ns.ip("route", "add", "128.0.0.0/1", "dev", "kure_tub")
        try ns.ip("tuntap", "add", "dev", "vpn0", "mode", "tun")
        try ns.hold("vpn0")

        let table = try audit(ns)
        #expect(table.status == 2)
        #expect(table.stdout.contains("kure_tub  tun   orphaned"))
        #expect(table.stdout.split(separator: "\n").first?.split(separator: " ").last == "AGE")
        #expect(table.stdout.contains("python3["))
        #expect(table.stdout.contains("CRITICAL dead-tunnel-route kure_tub"))
        #expect(table.stdout.contains("WARNING orphaned-tun kure_tub [reapable]"))
        #expect(table.stdout.hasSuffix("2 tunnel interfaces, 1 orphaned, 1 critical finding; status CRITICAL.\n"))

        let report = try audit(ns, "--format", "json")
        #expect(report.status == 2)
        let object = try json(report.stdout)
        #expect(object["status"] as? String == "critical")
        #expect(object["netns"] as? String == ns.name)
        let interfaces = try #require(object["interfaces"] as? [[String: Any]])
        let orphan = try #require(interfaces.first { $0["ifname"] as? String == "kure_tub" })
        #expect(orphan["kind"] as? String == "tun")
        #expect(orphan["info_kind"] as? String == "tun")
        #expect(orphan["state"] as? String == "orphaned")
        #expect(orphan["ifindex"] is Int)
        #expect((orphan["holders"] as? [Any])?.isEmpty == true)
        #expect((orphan["routes"] as? [[String: Any]])?.contains { $0["dst"] as? String == "0.0.0.0/1" } == true)
        let held = try #require(interfaces.first { $0["ifname"] as? String == "vpn0" })
        let holder = try #require((held["holders"] as? [[String: Any]])?.first)
        #expect(holder["comm"] as? String == "python3")
        #expect(holder["pid"] is Int)
        let findings = try #require(object["findings"] as? [[String: Any]])
        let dead = try #require(findings.first { $0["id"] as? String == "dead-tunnel-route" })
        #expect(dead["severity"] as? String == "critical")
        #expect(dead["ifname"] as? String == "kure_tub")
        #expect(dead["reapable"] as? Bool == false)
        #expect(findings.contains { $0["id"] as? String == "orphaned-tun" && $0["reapable"] as? Bool == true })

        let nagios = try audit(ns, "--format", "nagios")
        #expect(nagios.status == 2)
        #expect(nagios.stdout.hasPrefix("TUNWARDEN CRITICAL: 1 dead-tunnel-route (kure_tub); 1 orphaned-tun (kure_tub) | "))
        #expect(nagios.stdout.contains("tunnels=2;76;95;0"))
        #expect(nagios.stdout.contains("orphaned=1;1;;0"))
        #expect(nagios.stdout.split(separator: "\n").count == 1)
    }

    @Test func cleanNamespaceIsOk() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.hold("cvpn0")
        let result = try audit(ns, "--format", "nagios")
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("TUNWARDEN OK: 1 tunnel interfaces, none orphaned |"))
    }

    @Test func countThresholdsFollowTheOptions() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        for i in 0..<4 { try ns.hold("hold\(i)") }
        #expect(try audit(ns, "--limit", "10").status == 0)
        let warning = try audit(ns, "--limit", "10", "--warn", "4", "--format", "json")
        #expect(warning.status == 1)
        let findings = try #require(try json(warning.stdout)["findings"] as? [[String: Any]])
        #expect(findings.map { $0["id"] as? String } == ["tunnel-count"])
        #expect(try audit(ns, "--limit", "4").status == 2)
    }

    @Test func unprivilegedAuditCallsNothingOrphaned() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "kure_tuc", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "tap0", "mode", "tap")
        try ns.hold("uvpn0")
        let result = try Shell.capture(["ip", "netns", "exec", ns.name, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                        Shell.tunwardenBinary, "audit", "--no-state", "--format", "json"])
        #expect(result.status == 3)
        let object = try json(result.stdout)
        #expect(object["status"] as? String == "unknown")
        let interfaces = try #require(object["interfaces"] as? [[String: Any]])
        #expect(interfaces.count == 3)
        #expect(!interfaces.contains { $0["state"] as? String == "orphaned" })
        #expect(interfaces.allSatisfy { $0["holders_known"] as? Bool == false })
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(!findings.contains { $0["reapable"] as? Bool == true })
        #expect(findings.contains { $0["id"] as? String == "holder-unknown" })
        // The held device is still recognisably live: its carrier is on.
        #expect(interfaces.first { $0["ifname"] as? String == "uvpn0" }?["state"] as? String == "live")
    }

    /// A state directory this user may not write, which holds no lock yet: the note says the
    /// permission was refused, not that a file is missing.
    @Test func anUnwritableStateDirectoryIsNamedAsRefused() throws {
        let ns = try TestNamespace(), work = try TemporaryDirectory()
        defer { ns.remove(); work.remove() }
        let state = work.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: work.path)
        let result = try Shell.capture(["ip", "netns", "exec", ns.name, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                        Shell.tunwardenBinary, "audit", "--state-dir", state, "-q"])
        #expect(result.stderr.contains("\(state)/lock: cannot be opened (Permission denied)"), "\(result.stderr)")
        #expect(!result.stderr.contains("No such file"), "\(result.stderr)")
    }

    /// A reap that stops before its report (here: its namespace is gone) prints the audit's
    /// error object for a program reading its JSON, as the audit does.
    @Test func aReapThatStopsPrintsAnErrorObjectInJSON() throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let name = "twtest-missing-\(getpid())"
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", name, "reap", "--dry-run", "--no-state", "--journal", work.path + "/j.jsonl",
                                        "--format", "json"])
        #expect(result.status == 3)
        let object = try json(result.stdout)
        #expect(object["version"] as? Int == 1 && object["status"] as? String == "unknown", "\(result.stdout)")
        #expect((object["error"] as? String)?.contains("no network namespace named '\(name)'") == true, "\(result.stdout)")
        #expect(object["repairs"] == nil)
    }

    @Test func missingNamespaceIsUnknownWithAClearMessage() throws {
        let name = "twtest-missing-\(getpid())"
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", name, "audit", "--no-state", "--format", "nagios"])
        #expect(result.status == 3)
        #expect(result.stdout.hasPrefix("TUNWARDEN UNKNOWN: no network namespace named '\(name)'"))
        #expect(result.stderr.contains("ip netns list"))
        let json = try Shell.capture([Shell.tunwardenBinary, "audit", "--netns", name, "--no-state", "--format", "json"])
        #expect(json.status == 3)
        #expect(try self.json(json.stdout)["status"] as? String == "unknown")
    }
}
