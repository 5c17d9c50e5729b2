#if os(Linux)
import Foundation
import Glibc
import Storage
import Testing
import TestSupport
import TunwardenCore

/// The configuration file as the commands use it: precedence, bad files, and the watcher's SIGHUP
/// reload, `--reap` and traffic sampling. As root, in throwaway namespaces.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct ConfigCommandTests {
    func run(_ arguments: [String], config: String? = nil) throws -> Shell.Result {
        try Shell.capture([Shell.tunwardenBinary] + (config.map { ["--config", $0] } ?? []) + arguments)
    }

    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func theFileSetsOptionsAndTheCommandLineBeatsIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "cfga0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "keepc0", "mode", "tun")
        let config = state.path + "/tunwarden.conf"
        try write("""
        # a file as a sysadmin writes it
        state-dir: \(state.path)/from-file
        limit: 2
        protect: ["keep*"]
        audit:
          format: json
        reap:
          min-age: 0
        """, to: config)

        // From the file: JSON, a limit of 2 (reached: critical), the state directory.
        let audit = try run(["--netns", ns.name, "audit"], config: config)
        #expect(audit.status == 2, "stderr: \(audit.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["id"] as? String == "tunnel-count" && $0["severity"] as? String == "critical" })
        #expect(FileManager.default.fileExists(atPath: state.path + "/from-file/state.db"))

        // The command line wins: a table, a limit of 10 (two orphans: warning).
        let table = try run(["--netns", ns.name, "audit", "--limit", "10", "--format", "table"], config: config)
        #expect(table.status == 1, "stderr: \(table.stderr)")
        #expect(table.stdout.contains("IFNAME"))
        #expect(!table.stdout.contains("tunnel-count"))

        // Reap takes protect and min-age from the file; --protect replaces the file's list.
        let plan = try run(["--netns", ns.name, "reap", "--dry-run"], config: config)
        #expect(plan.stdout.contains("Would delete tun cfga0"), "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("Protected keepc0 (matches the protect pattern 'keep*')."))
        let replaced = try run(["--netns", ns.name, "reap", "--dry-run", "--protect", "cfga*"], config: config)
        #expect(replaced.stdout.contains("Would delete tun keepc0"))
        #expect(replaced.stdout.contains("Protected cfga0"))

        // TUNWARDEN_CONFIG names the file when --config does not.
        let viaEnvironment = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state"],
                                               environment: ProcessInfo.processInfo.environment.merging(["TUNWARDEN_CONFIG": config]) { _, new in new })
        #expect(viaEnvironment.status == 2)
        #expect(viaEnvironment.stdout.hasPrefix("{"))
    }

    /// `audit:` and `watch:` judging with different thresholds over one state directory would
    /// alert each other's status back at every run: the watcher says so as it starts, naming the
    /// lines (the hourly audit does not, into cron mail); the same thresholds, or separate state
    /// directories, say nothing.
    @Test func differentThresholdsForAuditAndWatchOverOneStateAreWarnedOf() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let config = state.path + "/tunwarden.conf"
        func watchLog(_ text: String) throws -> String {
            try write(text, to: config)
            let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--config", config])
            _ = watcher.terminate()
            return watcher.log
        }
        let warned = try watchLog("audit:\n  limit: 4\nwatch:\n  limit: 100\n")
        #expect(warned.contains("warning: the configuration sets limit differently for audit and watch (audit's at \(config):2, watch's at \(config):4)"),
                "\(warned)")
        #expect(!(try run(["--netns", ns.name, "audit", "--state-dir", state.path], config: config)).stderr.contains("differently"))
        #expect(!(try watchLog("limit: 4\naudit:\n  growth: 3\nwatch:\n  growth: 3\n")).contains("differently"))
        #expect(!(try watchLog("audit:\n  limit: 4\n  state-dir: \(state.path)/a\nwatch:\n  limit: 100\n  state-dir: \(state.path)/w\n")).contains("differently"))
    }

    @Test func aBadFileIsExit64NamingTheLineAndKeyAndNothingIsDone() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "cfgb0", "mode", "tun")
        let config = state.path + "/bad.conf"
        try write("state-dir: \(state.path)/never\nreap:\n  min-age: 0\n  protect: [\"x*\"]\n  limit: many\n", to: config)
        for command in [["audit"], ["reap", "--yes"], ["watch"]] {
            let result = try run(["--netns", ns.name] + command, config: config)
            #expect(result.status == 64, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("\(config):5: 'reap.limit': reap has no such option"), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: state.path + "/never"))
        #expect(try ns.ip("link", "show", "cfgb0").contains("cfgb0"))

        let missing = try run(["audit"], config: state.path + "/nonexistent.conf")
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("nonexistent.conf: no such file"))

        // Valid settings that contradict each other name where each came from.
        try write("warn: 50\n", to: config)
        let conflict = try run(["--netns", ns.name, "audit", "--no-state", "--limit", "10"], config: config)
        #expect(conflict.status == 64)
        #expect(conflict.stderr.contains("warn in \(config):1"), "\(conflict.stderr)")
        #expect(conflict.stderr.contains("(--limit: 10)"))
    }

    @Test func aReloadThatDropsTheTextfileLeavesTheWatcherAsleep() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let config = state.path + "/tunwarden.conf"
        try write("textfile: \(state.path)/m.prom\nwatch:\n  coalesce: 10\n", to: config)
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--config", config])
        // A judgement within a second of the first: its metrics wait for that second to pass,
        // and the reload comes before it has.
        try ns.ip("tuntap", "add", "dev", "m0", "mode", "tun")
        try watcher.wait("the judgement") { $0.contains("1 tunnel interface, 1 orphaned") }
        try write("watch:\n  coalesce: 10\n", to: config)
        kill(watcher.process.processIdentifier, SIGHUP)
        try watcher.wait("reload") { $0.contains("SIGHUP: configuration reloaded") }
        func cpu() throws -> Double {
            let fields = try String(contentsOfFile: "/proc/\(watcher.process.processIdentifier)/stat", encoding: .utf8)
                .split(separator: ")").last!.split(separator: " ")
            return (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        let before = try cpu()
        usleep(1_500_000)
        #expect(try cpu() - before < 0.3, "a watcher with nothing to do kept running")
        #expect(watcher.terminate().status == 0)
    }

    @Test func sighupReloadsTheFileAndABadReloadKeepsTheRunningConfiguration() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "hup0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "hup1", "mode", "tun")
        let config = state.path + "/tunwarden.conf", alerts = state.path + "/alerts"
        try write("limit: 10\nalert-exec: cat >> \(alerts); echo >> \(alerts)\n", to: config)
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--config", config])
        #expect(watcher.log.contains("2 tunnel interfaces, 2 orphaned; status WARNING."))

        try write("limit: 2\nalert-exec: cat >> \(alerts); echo >> \(alerts)\n", to: config)
        kill(watcher.process.processIdentifier, SIGHUP)
        try watcher.wait("reload") { $0.contains("SIGHUP: configuration reloaded (limit 2, reap off)") }
        try watcher.wait("critical under the new limit") { $0.contains("transition: CRITICAL (was WARNING)") }

        try write("limit: 2\nwatch:\n  coalesce: fast\n", to: config)
        kill(watcher.process.processIdentifier, SIGHUP)
        try watcher.wait("refused reload") {
            $0.contains("configuration not reloaded, keeping the running one: \(config):3: 'watch.coalesce': expected a whole number; got 'fast'")
        }
        // Still running, still on the old settings: a new device alerts through the old sink.
        try ns.ip("tuntap", "add", "dev", "hup2", "mode", "tun")
        try watcher.wait("new orphan") { $0.contains("new orphans: hup2") }
        let start = Date()
        while !(((try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "").contains("hup2")), Date().timeIntervalSince(start) < 3 { usleep(20_000) }
        #expect(((try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "").contains("hup2"))
        #expect(watcher.terminate().status == 0)
    }

    @Test func watchReapRemovesOrphansOnceDueAndNeverAHeldDevice() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wrheld0", "mode", "tun")
        try ns.hold("wrheld0")
        let config = state.path + "/tunwarden.conf"
        try write("watch:\n  reap: true\n  min-age: 2s\n", to: config)
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--config", config])
        #expect(watcher.log.contains("reaping orphans after 2s"))
        try ns.ip("tuntap", "add", "dev", "wrorph0", "mode", "tun")
        try watcher.wait("new orphan") { $0.contains("new orphans: wrorph0") }
        #expect(try ns.ip("link", "show", "wrorph0").contains("wrorph0"), "reaped before --min-age")
        // Nothing else happens in the namespace: the watcher wakes by itself when the orphan is due.
        try watcher.wait("reap", seconds: 6) { $0.contains("watch: reap: wrorph0 deleted") }
        let links = try ns.ip("-o", "link", "show")
        #expect(!links.contains("wrorph0"))
        #expect(links.contains("wrheld0"))
        let journal = try String(contentsOfFile: state.path + "/journal.jsonl", encoding: .utf8)
        #expect(journal.contains("\"wrorph0\""))
        try watcher.wait("picture after the reap") { $0.contains("1 tunnel interface, 0 orphaned; status OK.") }
        #expect(watcher.terminate().status == 0)
    }

    @Test func trafficIsSampledBetweenEventsAndKeptAsLastTrafficChange() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wtraf0", "mode", "tun")
        // A holder that reads its tunnel, as a VPN daemon does: the kernel counts a packet as sent
        // when the holder reads it.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: Shell.which("ip") ?? "/usr/sbin/ip")
        reader.arguments = ["netns", "exec", ns.name, "python3", "-c", """
        import fcntl, os, struct
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"wtraf0", 0x0001 | 0x1000))
        print("ready", flush=True)
        while True: os.read(fd, 65536)
        """]
        let ready = Pipe()
        reader.standardOutput = ready
        try reader.run()
        defer { kill(reader.processIdentifier, SIGKILL); reader.waitUntilExit() }
        #expect(String(decoding: ready.fileHandleForReading.readData(ofLength: 6), as: UTF8.self) == "ready\n")
        try ns.ip("addr", "add", "10.77.0.1/24", "dev", "wtraf0")
        try ns.ip("link", "set", "wtraf0", "up")
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--stats-interval", "1s"])
        func observation() throws -> [String: Any]? {
            // The observation as the JSON report shows it.
            let store = StateStore(directory: state.path)
            defer { store.close() }
            guard let database = try store.database(create: false),
                  let identity = try database.namespaceRecords().first?.identity,
                  let found = try database.observations(namespace: identity).namespaces[identity]?.values.first(where: { $0.ifname == "wtraf0" }) else { return nil }
            return try JSONSerialization.jsonObject(with: Data(found.json())) as? [String: Any]
        }
        try watcher.wait("first judgement") { $0.contains("1 tunnel interface, 0 orphaned") }
        #expect(try observation()?["last_traffic_change"] == nil)
        #expect((try observation()?["holders_seen"] as? [String])?.first?.hasPrefix("python3[") == true)
        // Packets towards the tunnel's peer go into the tun and its holder reads them. No rtnetlink
        // event says so: only the sampling sees it.
        _ = try Shell.run(["ip", "netns", "exec", ns.name, "python3", "-c",
                           "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range(3): s.sendto(b'x', ('10.77.0.2', 9))"])
        let start = Date()
        while try observation()?["last_traffic_change"] == nil, Date().timeIntervalSince(start) < 4 { usleep(100_000) }
        #expect(try observation()?["last_traffic_change"] is String)
        // An audit shows it as idle_since.
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--format", "json"])
        #expect(audit.stdout.contains("\"idle_since\""))
        #expect(watcher.terminate().status == 0)
    }
}
#endif
