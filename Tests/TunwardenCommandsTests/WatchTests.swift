#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// `tunwarden watch` against the real kernel, as root, in throwaway namespaces.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchTests {
    /// A running watcher whose standard error goes to a file, killed and reaped at the end.
    final class Watcher {
        let process = Process()
        let errorLog: String

        init(_ ns: TestNamespace, state: TemporaryDirectory, extra: [String] = [], environment: [String: String] = [:]) throws {
            errorLog = state.path + "/watch-\(UUID().uuidString).err"
            _ = FileManager.default.createFile(atPath: errorLog, contents: nil)
            process.executableURL = URL(fileURLWithPath: Shell.tunwardenBinary)
            process.arguments = ["--netns", ns.name, "watch", "--state-dir", state.path] + extra
            process.environment = Shell.hermetic(ProcessInfo.processInfo.environment.merging(environment) { _, new in new })
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorLog))
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            try wait("watching") { $0.contains("watch: watching namespace") }
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        var log: String { (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? "" }

        /// Waits until the log satisfies `condition`, at most `seconds`; returns how long it took.
        @discardableResult
        func wait(_ what: String, seconds: Double = 5, _ condition: (String) -> Bool) throws -> Double {
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                if condition(log) { return Date().timeIntervalSince(start) }
                usleep(20_000)
            }
            throw ShellError(command: "waiting for \(what)", status: -1, output: log)
        }

        /// Sends SIGTERM and returns how long the watcher took to exit, and its status.
        func terminate() -> (seconds: Double, status: Int32) {
            let start = Date()
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            return (Date().timeIntervalSince(start), process.terminationStatus)
        }
    }

    /// A watcher whose namespace is deleted (`ip netns del`) stops and exits 3 within a stats
    /// interval, saying why: its sockets would otherwise keep the namespace, and the devices in
    /// it, alive with no name to reach them by.
    @Test func aWatcherOfADeletedNamespaceStopsAndExits3() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wgone0", "mode", "tun")
        let watcher = try Watcher(ns, state: state, extra: ["--stats-interval", "1s"])
        ns.remove()
        let deadline = Date().addingTimeInterval(10)
        while watcher.process.isRunning, Date() < deadline { usleep(20_000) }
        #expect(!watcher.process.isRunning, "still watching a deleted namespace: \(watcher.log)")
        watcher.process.waitUntilExit()
        #expect(watcher.process.terminationStatus == 3)
        #expect(watcher.log.contains("watch: stopping: the namespace watched was deleted"), "\(watcher.log)")
    }

    /// The new orphans of the alerts an `--alert-exec 'cat >> FILE; echo >> FILE'` wrote, in
    /// order, once at least `count` are there (or after 3 s: the exec sink writes after the log line).
    /// Whether a file appears at `path` within 5 s (an alert command's marker that it started).
    static func appears(_ path: String) -> Bool {
        let start = Date()
        while !FileManager.default.fileExists(atPath: path), Date().timeIntervalSince(start) < 5 { usleep(20_000) }
        return FileManager.default.fileExists(atPath: path)
    }

    static func newOrphansSent(to path: String, atLeast count: Int) -> [String] {
        func sent() -> [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["new_orphans"] as? [String]
            }.flatMap { $0 }
        }
        let start = Date()
        while sent().count < count, Date().timeIntervalSince(start) < 3 { usleep(20_000) }
        return sent()
    }

    /// A state that cannot be recorded (here `state.db` is a directory) loses no alert: the
    /// watcher alerts each change all the same, once, and says it alerts without the state.
    @Test func aStateThatCannotBeRecordedLosesNoAlert() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try FileManager.default.createDirectory(atPath: state.path + "/state.db/in-the-way", withIntermediateDirectories: true)
        let alerts = state.path + "/alerts"
        let watcher = try Watcher(ns, state: state, extra: ["--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        try ns.ip("tuntap", "add", "dev", "rs0", "mode", "tun")
        try watcher.wait("first alert") { $0.contains("new orphans: rs0") }
        try ns.ip("tuntap", "add", "dev", "rs1", "mode", "tun")
        try watcher.wait("second alert") { $0.contains("new orphans: rs1") }
        #expect(watcher.log.contains("watch: alerting without the state, which could not record this judgement"))
        let sent = Self.newOrphansSent(to: alerts, atLeast: 2)
        #expect(watcher.terminate().status == 0)
        // Each new orphan once: the watcher remembers what it alerted.
        #expect(sent == ["rs0", "rs1"], "\(watcher.log)")
    }

    /// A state that breaks while the watcher runs (its file replaced by a directory) loses no
    /// alert and repeats none: what was alerted before is remembered, and only the new orphan is.
    @Test func aStateThatBreaksMidwayRepeatsNoAlert() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let alerts = state.path + "/alerts"
        let watcher = try Watcher(ns, state: state, extra: ["--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        for name in ["br0", "br1"] {
            try ns.ip("tuntap", "add", "dev", name, "mode", "tun")
            try watcher.wait(name) { $0.contains("new orphans: \(name)") }
        }
        // Delivered (alerts are delivered off the event loop): the state removed below takes
        // an alert still undelivered with it.
        _ = Self.newOrphansSent(to: alerts, atLeast: 2)
        for file in ["state.db", "state.db-wal", "state.db-shm"] { try? FileManager.default.removeItem(atPath: state.path + "/" + file) }
        try FileManager.default.createDirectory(atPath: state.path + "/state.db/in-the-way", withIntermediateDirectories: true)
        try ns.ip("tuntap", "add", "dev", "br2", "mode", "tun")
        try watcher.wait("br2") { $0.contains("new orphans: br2") }
        let sent = Self.newOrphansSent(to: alerts, atLeast: 3)
        #expect(watcher.terminate().status == 0)
        #expect(sent == ["br0", "br1", "br2"], "\(watcher.log)")
    }

    /// A state database emptied in place under a running watcher (`: > state.db`) is kept aside
    /// and the state recorded again: other runs do not wait on it, and what the watcher alerted is
    /// not alerted again by an audit.
    @Test func aStateDatabaseEmptiedInPlaceIsStartedAgainWithoutRepeatingAlerts() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let alerts = state.path + "/alerts"
        let watcher = try Watcher(ns, state: state, extra: ["--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        try ns.ip("tuntap", "add", "dev", "em0", "mode", "tun")
        try watcher.wait("em0") { $0.contains("new orphans: em0") }
        // Delivered first: the emptied file is then met by the loop, not by the courier.
        _ = Self.newOrphansSent(to: alerts, atLeast: 1)
        #expect(truncate(state.path + "/state.db", 0) == 0)
        // Any event wakes the watcher (a quiet one notices at its next stats interval).
        try ns.ip("link", "add", "ev0", "type", "veth", "peer", "name", "ev1")
        try Self.expectRecordedAgain(watcher, ns, state, alerts: alerts, orphan: "em0", tunnels: 3)
    }

    /// A database emptied while an alert command runs, with no event after it: whichever meets
    /// it first, the loop at a look or the courier marking the alert delivered, says so; the
    /// delivery under way is not lost, and the fresh database is recorded whole at once.
    @Test func aStateDatabaseEmptiedUnderADeliveryIsStartedAgainAtOnce() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let alerts = state.path + "/alerts"
        let started = state.path + "/exec-started"
        let watcher = try Watcher(ns, state: state, extra: ["--alert-exec", "touch \(started); sleep 1; cat >> \(alerts); echo >> \(alerts)"])
        try ns.ip("tuntap", "add", "dev", "ed0", "mode", "tun")
        try watcher.wait("ed0") { $0.contains("new orphans: ed0") }
        #expect(Self.appears(started), "the alert command did not start: \(watcher.log)")
        #expect(truncate(state.path + "/state.db", 0) == 0)
        try Self.expectRecordedAgain(watcher, ns, state, alerts: alerts, orphan: "ed0", tunnels: 1)
    }

    /// After a watcher's database was emptied in place: the watcher says so, records everything
    /// again into a fresh database at once (`tunnels` interfaces, one of them `orphan`), keeps the
    /// emptied file aside, and an audit then does not alert the orphan again. Stops the watcher.
    static func expectRecordedAgain(_ watcher: Watcher, _ ns: TestNamespace, _ state: TemporaryDirectory, alerts: String, orphan: String, tunnels: Int) throws {
        try watcher.wait("emptied") { $0.contains("state.db was emptied in place") }
        let emptied = Date()
        var history = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "history", "--state-dir", state.path])
        while history.stdout.contains("No history"), Date().timeIntervalSince(emptied) < 8 {
            usleep(100_000)
            history = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "history", "--state-dir", state.path])
        }
        // Recorded again at once, not after the watcher's window for changes that cannot alert.
        #expect(history.status == 0 && !history.stdout.contains("No history") && Date().timeIntervalSince(emptied) < 2.5,
                "\(history.stdout) \(history.stderr) \(watcher.log)")
        let auditAlerts = state.path + "/audit-alerts"
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--alert-exec", "cat >> \(auditAlerts); echo >> \(auditAlerts)"])
        #expect(audit.status == 1, "\(audit.stderr)")
        #expect(audit.stdout.contains("\(tunnels) tunnel interface"), "\(audit.stdout)")
        #expect(Self.newOrphansSent(to: alerts, atLeast: 1) == [orphan], "\(watcher.log)")
        #expect(watcher.terminate().status == 0)
        #expect(!FileManager.default.fileExists(atPath: auditAlerts), "the audit alerted again: \((try? String(contentsOfFile: auditAlerts, encoding: .utf8)) ?? "") \(watcher.log)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: state.path).filter { $0.hasPrefix("state.db.corrupt-") }
        #expect(!kept.isEmpty, "the emptied file is kept aside")
    }

    /// SIGTERM stops a watcher at once even while its --alert-exec hangs: the command (and what
    /// it started) is stopped, and the alert stays undelivered for a later run.
    @Test func aHangingAlertExecHoldsNoStopUp() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let marker = state.path + "/exec-started"
        let watcher = try Watcher(ns, state: state, extra: ["--alert-exec", "touch \(marker); sleep 30"])
        try ns.ip("tuntap", "add", "dev", "hang0", "mode", "tun")
        try watcher.wait("the alert") { $0.contains("new orphans: hang0") }
        _ = Self.appears(marker)
        let (seconds, status) = watcher.terminate()
        #expect(status == 0)
        #expect(seconds < 2, "SIGTERM took \(seconds) s while --alert-exec hung: \(watcher.log)")
        #expect(watcher.log.contains("--alert-exec was stopped: tunwarden was asked to stop"), "\(watcher.log)")
    }

    @Test func holderExitAlertsWithinASecondAndSigtermExitsCleanly() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wheld0", "mode", "tun")
        let holder = try ns.hold("wheld0")
        let alerts = state.path + "/alerts"
        let watcher = try Watcher(ns, state: state, extra: ["--alert-exec", "cat >> \(alerts); echo >> \(alerts)", "--limit", "3", "--warn", "2"])
        #expect(watcher.log.contains("1 tunnel interface, 0 orphaned; status OK."))

        // The holder dies: the device (down, so no rtnetlink event) is orphaned.
        let killed = Date()
        ns.release(holder)
        try watcher.wait("orphan alert", seconds: 3) { $0.contains("new orphans: wheld0") }
        let latency = Date().timeIntervalSince(killed)
        #expect(latency < 1.0, "holder exit to alert took \(latency) s")

        // A second device crosses --warn... and a third --limit: one alert per transition.
        try ns.ip("tuntap", "add", "dev", "wnew1", "mode", "tun")
        try watcher.wait("new orphan") { $0.contains("new orphans: wnew1") }
        try ns.ip("tuntap", "add", "dev", "wnew2", "mode", "tun")
        try watcher.wait("critical") { $0.contains("transition: CRITICAL (was WARNING)") }
        // The log line comes first; the exec sink then writes its file.
        func sent() -> [String?] {
            ((try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.map { $0["event"] as? String }
        }
        let start = Date()
        while sent().count < 3, Date().timeIntervalSince(start) < 3 { usleep(20_000) }
        #expect(sent() == ["transition", "new-orphan", "transition"])

        let (seconds, status) = watcher.terminate()
        #expect(status == 0)
        #expect(seconds < 1.0)
        #expect(watcher.log.contains("watch: stopping on signal"))

        // The state survives a restart: the unchanged condition does not alert again.
        let again = try Watcher(ns, state: state, extra: ["--alert-exec", "cat >> \(alerts); echo >> \(alerts)", "--limit", "3", "--warn", "2"])
        #expect(!again.log.contains("alert:"))
        #expect(again.terminate().status == 0)
    }

    @Test func systemdNotificationsWhenNotifySocketIsSet() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let notifier = try NotifyListener(in: state.path)
        defer { notifier.stop() }
        let socketPath = notifier.socketPath
        let watcher = try Watcher(ns, state: state, environment: ["NOTIFY_SOCKET": socketPath])
        let messages = notifier.messages
        let start = Date()
        while !messages().contains("READY=1"), Date().timeIntervalSince(start) < 3 { usleep(20_000) }
        #expect(messages().contains("READY=1"))
        #expect(messages().contains { $0.hasPrefix("STATUS=0 tunnel interfaces") })
        #expect(watcher.terminate().status == 0)
        usleep(100_000)
        #expect(messages().last == "STOPPING=1")
    }

    @Test func lostEventsResynchroniseAndAStormEndsWithTheSamePictureAsAnAudit() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let metrics = state.path + "/w.prom"
        let watcher = try Watcher(ns, state: state, extra: ["--event-buffer", "4096", "--textfile", metrics])
        // A storm: 3000 creations and 1000 deletions in two batches.
        let create = (0..<3000).map { "tuntap add dev s\($0) mode tun" }.joined(separator: "\n") + "\n"
        let delete = (0..<1000).map { "link del s\($0)" }.joined(separator: "\n") + "\n"
        for batch in [create, delete] {
            let file = state.path + "/batch-\(UUID().uuidString)"
            try Data(batch.utf8).write(to: URL(fileURLWithPath: file))
            try ns.ip("-batch", file)
        }
        try watcher.wait("resynchronisation", seconds: 10) { $0.contains("events were lost (ENOBUFS); resynchronising") }
        try watcher.wait("final picture", seconds: 10) { $0.contains("2000 tunnel interfaces, 2000 orphaned") }
        // The same as a fresh audit.
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])
        #expect((object["summary"] as? [String: Any])?["orphaned"] as? Int == 2000)
        // The metrics follow within a second (the number of orphans changed).
        let line = "tunwarden_interfaces{kind=\"tun\",state=\"orphaned\",netns=\"\(ns.name)\"} 2000"
        #expect(try Self.waitForMetrics(metrics, seconds: 3) { $0.contains(line) })
        #expect(watcher.terminate().status == 0)
    }

    /// Waits until the metrics file says what `condition` looks for; false after `seconds`.
    static func waitForMetrics(_ path: String, seconds: Double, _ condition: (String) -> Bool) throws -> Bool {
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), condition(text) { return true }
            usleep(20_000)
        }
        return false
    }

    /// How many interfaces of `kind` the metrics count, whatever their state.
    static func metricsCount(_ text: String, kind: String) -> Int {
        text.split(separator: "\n").filter { $0.hasPrefix("tunwarden_interfaces{kind=\"\(kind)\",") }
            .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
    }

    @Test func metricsFollowAStatusOrOrphanWithinASecondAndOtherChangesAtMostEveryFiveSeconds() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let metrics = state.path + "/m.prom"
        // Each rewrite renames a new file over the old one: count the renames. The kernel merges
        // an event with an identical one not read yet, so they are read as they come.
        let notify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        try #require(notify >= 0)
        defer { close(notify) }
        try #require(inotify_add_watch(notify, state.path, UInt32(IN_MOVED_TO)) >= 0)
        func rewrites() -> Int {
            var count = 0
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let length = buffer.withUnsafeMutableBytes { read(notify, $0.baseAddress, $0.count) }
                guard length > 0 else { return count }
                var offset = 0
                while offset + 16 <= length {
                    let nameLength = Int(buffer[offset + 12]) | Int(buffer[offset + 13]) << 8 | Int(buffer[offset + 14]) << 16 | Int(buffer[offset + 15]) << 24
                    let name = String(decoding: buffer[(offset + 16)..<(offset + 16 + nameLength)].prefix { $0 != 0 }, as: UTF8.self)
                    if name == "m.prom" { count += 1 }
                    offset += 16 + nameLength
                }
            }
        }
        func text() -> String { (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? "" }
        // (No leak growth: a finding it adds is written at once.)
        let watcher = try Watcher(ns, state: state, extra: ["--textfile", metrics, "--coalesce", "20", "--growth", "1000"])
        #expect(try Self.waitForMetrics(metrics, seconds: 3) { $0.contains("tunwarden_last_run_timestamp_seconds") })
        let firstWrite = Date()
        _ = rewrites()
        // Ten judgements, 200 ms apart, of veth pairs, which change no status and no finding.
        let start = Date()
        var written = 0
        for number in 0..<10 {
            _ = try ns.ip("link", "add", "ma\(number)", "type", "veth", "peer", "name", "mb\(number)")
            while Date() < start.addingTimeInterval(Double(number + 1) * 0.2) {
                written += rewrites()
                usleep(5_000)
            }
        }
        try watcher.wait("the last judgement", seconds: 3) { $0.contains("watch: 20 tunnel interfaces") }
        written += rewrites()
        // Within five seconds of the first write, none (a write between would be one a burst).
        if Date().timeIntervalSince(firstWrite) < 4.5 {
            #expect(written == 0, "\(written) rewrites for 10 judgements in 2 s")
            #expect(Self.metricsCount(text(), kind: "veth") < 20)
        }
        // Then the last judgement's counts, once.
        #expect(try Self.waitForMetrics(metrics, seconds: 6) { Self.metricsCount($0, kind: "veth") == 20 }, "\(text())")
        written += rewrites()
        #expect(written >= 1 && written <= 2, "\(written) rewrites for 10 judgements")

        // A new orphan changes the orphans and the status: written within a second, though the
        // last write is under five seconds old.
        let made = Date()
        _ = try ns.ip("tuntap", "add", "dev", "mo0", "mode", "tun")
        let orphan = "tunwarden_interfaces{kind=\"tun\",state=\"orphaned\",netns=\"\(ns.name)\"} 1"
        #expect(try Self.waitForMetrics(metrics, seconds: 3) { $0.contains(orphan) && $0.contains("tunwarden_status{netns=\"\(ns.name)\"} 1") })
        #expect(Date().timeIntervalSince(made) < 1.5, "the orphan's metrics came after \(Date().timeIntervalSince(made)) s")
        #expect(watcher.terminate().status == 0)
    }

    /// Leak growth comes from the count history, not the snapshot: the watcher keeps it among the
    /// findings as bursts come (once, in its alerts, in every rewrite of its metrics), and drops it
    /// when the growth goes.
    @Test func leakGrowthComesAndGoesWithTheCountHistory() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let metrics = state.path + "/m.prom", alerts = state.path + "/alerts"
        let watcher = try Watcher(ns, state: state, extra: ["--textfile", metrics, "--coalesce", "20", "--limit", "50", "--warn", "40",
                                                            "--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        let growth = "tunwarden_findings{id=\"leak-growth\",severity=\"warning\",netns=\"\(ns.name)\"} 1\n"
        #expect(try Self.waitForMetrics(metrics, seconds: 3) { $0.contains("tunwarden_last_run_timestamp_seconds") && !$0.contains("leak-growth") })
        // Five net new within the window (the default growth), one burst each: the fifth's alert
        // (a new orphan) carries the finding.
        for number in 0..<5 {
            _ = try ns.ip("tuntap", "add", "dev", "g\(number)", "mode", "tun")
            try watcher.wait("g\(number)", seconds: 3) { $0.contains("watch: \(number + 1) tunnel interface") }
        }
        #expect(try Self.waitForMetrics(metrics, seconds: 4) { $0.contains(growth) }, "\(watcher.log)")
        #expect(try Self.waitForMetrics(alerts, seconds: 3) { $0.contains("\"leak-growth\"") })
        // A burst that adds orphans is written at once, from the judgement itself: every
        // rewrite that shows the new count shows the growth too.
        usleep(1_100_000)
        let batch = state.path + "/three"
        try (5..<8).map { "tuntap add dev g\($0) mode tun\n" }.joined().write(toFile: batch, atomically: true, encoding: .utf8)
        _ = try ns.ip("-batch", batch)
        let eight = "tunwarden_interfaces{kind=\"tun\",state=\"orphaned\",netns=\"\(ns.name)\"} 8\n"
        var seen = 0
        let start = Date()
        while Date().timeIntervalSince(start) < 1.5 {
            if let text = try? String(contentsOfFile: metrics, encoding: .utf8), text.contains(eight) {
                seen += 1
                let once = text.contains(growth) && text.components(separatedBy: "leak-growth").count == 2
                #expect(once, "\(text)")
                if !once { break }
            }
            usleep(5_000)
        }
        #expect(seen > 0)
        // Back below five net new: the finding goes.
        for number in 0..<8 { _ = try ns.ip("link", "del", "g\(number)") }
        #expect(try Self.waitForMetrics(metrics, seconds: 4) { !$0.contains("leak-growth") && $0.contains("tunwarden_status{netns=\"\(ns.name)\"} 0") },
                "\((try? String(contentsOfFile: metrics, encoding: .utf8)) ?? "")")
        #expect(watcher.terminate().status == 0)
    }

    /// A count hovering at the growth threshold (a veth pair made and deleted, again and again)
    /// raises one leak-growth alert and keeps it, rather than raising and resolving it at every
    /// change; it resolves once no more than half the threshold remain.
    @Test func aCountHoveringAtTheGrowthThresholdAlertsOnce() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let alerts = state.path + "/alerts"
        // (Improvements alerted at once: the growth going is what this test waits for.)
        let watcher = try Watcher(ns, state: state, extra: ["--coalesce", "20", "--resolve-after", "0", "--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        func occurrences(_ text: String, _ part: String) -> Int { text.components(separatedBy: part).count - 1 }
        func sent() -> String { (try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "" }
        // Two pairs: four net new, below the default growth of five.
        for pair in 0..<2 { _ = try ns.ip("link", "add", "ha\(pair)", "type", "veth", "peer", "name", "hb\(pair)") }
        try watcher.wait("four", seconds: 3) { $0.contains("watch: 4 tunnel interfaces") }
        func recordings() throws -> Int64 { try StateSQL.integers(state.path, "SELECT count(*) FROM counts").first ?? 0 }
        let before = try recordings()
        // Six times: a third pair made (six net new) and deleted (four).
        for round in 0..<6 {
            _ = try ns.ip("link", "add", "hc\(round)", "type", "veth", "peer", "name", "hd\(round)")
            try watcher.wait("six, round \(round)", seconds: 3) { occurrences($0, "watch: 6 tunnel interfaces") == round + 1 }
            _ = try ns.ip("link", "del", "hc\(round)")
            try watcher.wait("four, round \(round)", seconds: 3) { occurrences($0, "watch: 4 tunnel interfaces") == round + 2 }
        }
        // Recorded when the growth came (with its alert), and then at most every five seconds:
        // the finding's evidence tells the count, but its coming or going alone is news.
        let during = try recordings() - before
        #expect(during >= 1 && during <= 3, "\(during) recordings for 12 changes")
        #expect(try Self.waitForMetrics(alerts, seconds: 3) { $0.contains("\"leak-growth\"") })
        usleep(300_000)
        #expect(occurrences(sent(), "\"event\":\"transition\"") == 1, "\(sent())")
        #expect(occurrences(sent(), "\"event\":\"resolved\"") == 0, "\(sent())")
        #expect(watcher.log.hasSuffix("watch: 4 tunnel interfaces, 0 orphaned; status WARNING.\n"), "\(watcher.log)")
        // Down to two net new, no more than half of five: resolved, once.
        _ = try ns.ip("link", "del", "ha0")
        try watcher.wait("resolved", seconds: 3) { $0.contains("watch: 2 tunnel interfaces, 0 orphaned; status OK.") }
        #expect(try Self.waitForMetrics(alerts, seconds: 3) { occurrences($0, "\"event\":\"resolved\"") == 1 })
        #expect(watcher.terminate().status == 0)
    }

    /// Changes that cannot alert (veth pairs coming and going) are recorded at most every five
    /// seconds, not at every burst; one that can (a new orphan) is recorded, and alerted, at once; and what
    /// waits is recorded when the watcher stops.
    @Test func changesThatCannotAlertWaitUpToFiveSecondsAndAreSavedAtExit() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let alerts = state.path + "/alerts"
        // (No leak growth: a finding it adds or drops is recorded at once.)
        let watcher = try Watcher(ns, state: state, extra: ["--coalesce", "20", "--growth", "1000", "--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        // One count sample per recording.
        func recordings() throws -> Int64 { try StateSQL.integers(state.path, "SELECT count(*) FROM counts").first ?? 0 }
        func recorded(_ name: String) throws -> Bool {
            try StateSQL.integers(state.path, "SELECT count(*) FROM interfaces WHERE ifname = '\(name)'").first == 1
        }
        let before = try recordings()
        // Twenty bursts, 100 ms apart: a pair made, the one before deleted.
        let start = Date()
        for pair in 0..<20 {
            _ = try ns.ip("link", "add", "va\(pair)", "type", "veth", "peer", "name", "vb\(pair)")
            if pair > 0 { _ = try ns.ip("link", "del", "va\(pair - 1)") }
            let next = start.addingTimeInterval(Double(pair + 1) * 0.1)
            if next > Date() { usleep(useconds_t(next.timeIntervalSinceNow * 1_000_000)) }
        }
        usleep(300_000)
        let elapsed = Date().timeIntervalSince(start)
        let during = try recordings() - before
        // At most one (the first burst's, were the watcher's first recording five seconds old),
        // never one a burst.
        #expect(during <= 1, "\(during) recordings for 20 bursts in \(elapsed) s")
        // What waited is recorded five seconds after the last recording.
        let waited = Date()
        while try !recorded("va19"), Date().timeIntervalSince(waited) < 6 { usleep(50_000) }
        #expect(try recorded("va19") && recorded("vb19") && !recorded("va18"))

        // A new orphan is recorded and alerted at once, however recent the last recording.
        let made = Date()
        _ = try ns.ip("tuntap", "add", "dev", "wo0", "mode", "tun")
        try watcher.wait("the orphan's alert", seconds: 3) { $0.contains("new orphans: wo0") }
        #expect(Date().timeIntervalSince(made) < 1, "the new orphan was alerted after \(Date().timeIntervalSince(made)) s")
        #expect(try recorded("wo0"))
        // Deleted while another orphan keeps the status, and made again within the second: the
        // removal of an orphan is recorded at once too, so the orphan is new again and alerted again.
        _ = try ns.ip("tuntap", "add", "dev", "wo1", "mode", "tun")
        try watcher.wait("the second orphan's alert", seconds: 3) { $0.contains("new orphans: wo1") }
        _ = try ns.ip("link", "del", "wo0")
        try watcher.wait("the orphan's removal", seconds: 3) { $0.hasSuffix("watch: 3 tunnel interfaces, 1 orphaned; status WARNING.\n") }
        _ = try ns.ip("tuntap", "add", "dev", "wo0", "mode", "tun")
        try watcher.wait("the orphan's second alert", seconds: 3) { $0.components(separatedBy: "new orphans: wo0").count == 3 }
        let alerted = Date()

        // A pair made now is judged but waits (the orphan's recording is under five seconds old),
        // and is recorded when the watcher stops.
        _ = try ns.ip("link", "add", "vz0", "type", "veth", "peer", "name", "vz1")
        try watcher.wait("the pair's judgement", seconds: 3) { $0.contains("watch: 6 tunnel interfaces") }
        if Date().timeIntervalSince(alerted) < 4.5 { #expect(try !recorded("vz0")) }
        #expect(watcher.terminate().status == 0)
        #expect(try recorded("vz0") && recorded("vz1"))
    }
}
#endif
