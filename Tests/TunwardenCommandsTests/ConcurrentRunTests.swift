#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// Runs that share a state directory at the same moment: the watcher and audits from a timer
/// alert once per event between them, and a reap that finds another acting says so and changes
/// nothing. As root, in throwaway namespaces.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct ConcurrentRunTests {
    /// The alerts an exec sink appended to `path`, one JSON object per line.
    func alerts(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// A new orphan seen at once by the watcher and three audits: one alert. The sink takes a
    /// second over each alert, so every run has judged before any alert is delivered.
    @Test func aNewOrphanSeenByTheWatcherAndAuditsAtOnceAlertsOnce() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let log = state.path + "/alerts"
        let sink = "cat >> \(log); echo >> \(log); sleep 1"
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--alert-exec", sink])
        #expect(watcher.log.contains("0 tunnel interfaces"))

        try ns.ip("tuntap", "add", "dev", "conc0", "mode", "tun")
        let audits = try (0..<3).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Shell.tunwardenBinary)
            process.arguments = ["--netns", ns.name, "audit", "--state-dir", state.path, "--alert-exec", sink, "--format", "nagios"]
            process.environment = Shell.hermetic(ProcessInfo.processInfo.environment)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        for audit in audits {
            audit.waitUntilExit()
            #expect(audit.terminationStatus == 1)
        }
        try watcher.wait("the watcher's judgement") { $0.contains("1 tunnel interface, 1 orphaned") }
        // Every sink that was started has had its second.
        sleep(2)
        let sent = alerts(log)
        #expect(sent.count == 1, "\(sent.map { "\($0["event"] ?? "?") \($0["new_orphans"] ?? "?")" })")
        #expect(sent.first?["new_orphans"] as? [String] == ["conc0"])
        #expect(watcher.terminate().status == 0)
    }

    /// A second reap while the first is in its act phase (held there with SIGSTOP): it names the
    /// first, exits 3 and changes nothing; the first then finishes alone.
    @Test func aReapThatFindsAnotherActingSaysSoAndChangesNothing() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let count = 500
        let batch = state.path + "/create"
        try Data((0..<count).map { "tuntap add dev cr\($0) mode tun\n" }.joined().utf8).write(to: URL(fileURLWithPath: batch))
        try ns.ip("-batch", batch)

        let first = Process()
        first.executableURL = URL(fileURLWithPath: Shell.tunwardenBinary)
        first.arguments = ["--netns", ns.name, "reap", "--yes", "--min-age", "0", "--state-dir", state.path]
        first.environment = Shell.hermetic(ProcessInfo.processInfo.environment)
        first.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/null"))
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer {
            kill(first.processIdentifier, SIGCONT)
            if first.isRunning { first.waitUntilExit() }
        }
        let holding = "\(first.processIdentifier) reap reaping\n"
        func lockLine() -> String { (try? String(contentsOfFile: state.path + "/lock", encoding: .utf8)) ?? "" }
        let start = Date()
        while lockLine() != holding, first.isRunning, Date().timeIntervalSince(start) < 60 { usleep(500) }
        kill(first.processIdentifier, SIGSTOP)
        try #require(lockLine() == holding, "the first reap was not caught acting (it ran \(Date().timeIntervalSince(start)) s)")

        let second = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--yes", "--min-age", "0", "--state-dir", state.path])
        #expect(second.status == 3)
        #expect(second.stderr.contains("another tunwarden reap (pid \(first.processIdentifier)) is running; nothing was changed"), "\(second.stderr)")
        #expect(!second.stdout.contains("Deleted"))

        kill(first.processIdentifier, SIGCONT)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(try ns.ip("-o", "link", "show").split(separator: "\n").count == 1)
        let runs = Set(((try? String(contentsOfFile: state.path + "/journal.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["run"] as? String
        })
        #expect(runs.count == 1, "only the first reap journaled: \(runs)")
    }

    /// The watcher, audits, dry-run reaps and a real reap, all at once against one state
    /// directory while 40 orphans appear and are reaped: no run loses another's update (the reaped
    /// total counts every deletion, every orphan has its row), no orphan is alerted twice, and no
    /// run went without its observations.
    @Test func auditsReapsAndTheWatcherAtOnceLoseNothingAndAlertOnce() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let log = state.path + "/alerts"
        let sink = "cat >> \(log); echo >> \(log)"
        // (Improvements alerted at once, as the audits alert them: whichever run records the
        // reap's outcome first alerts "resolved", once.)
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--alert-exec", sink, "--coalesce", "20", "--resolve-after", "0"])
        let count = 40
        let batch = state.path + "/create"
        try Data((0..<count).map { "tuntap add dev par\($0) mode tun\n" }.joined().utf8).write(to: URL(fileURLWithPath: batch))
        try ns.ip("-batch", batch)

        func start(_ arguments: [String]) throws -> (Process, String) {
            let errors = state.path + "/run-\(UUID().uuidString).err"
            _ = FileManager.default.createFile(atPath: errors, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Shell.tunwardenBinary)
            process.arguments = ["--netns", ns.name] + arguments + ["--state-dir", state.path]
            process.environment = Shell.hermetic(ProcessInfo.processInfo.environment)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
            try process.run()
            return (process, errors)
        }
        // Every orphan is recorded (and alerted, by one of them) before the reap may act on it.
        var runs = try (0..<4).map { _ in try start(["audit", "--alert-exec", sink, "--format", "nagios"]) }
        runs += try (0..<2).map { _ in try start(["reap", "--dry-run", "--min-age", "0"]) }
        for (process, _) in runs { process.waitUntilExit() }
        let reap = try start(["reap", "--yes", "--min-age", "0", "--format", "json"])
        runs = try (0..<4).map { _ in try start(["audit", "--alert-exec", sink, "--format", "nagios"]) } + [try start(["reap", "--dry-run", "--min-age", "0"])]
        reap.0.waitUntilExit()
        for (process, _) in runs { process.waitUntilExit() }
        #expect(reap.0.terminationStatus == 0, "\((try? String(contentsOfFile: reap.1, encoding: .utf8)) ?? "")")
        for (_, errors) in runs + [reap] {
            let text = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            #expect(!text.contains("observations not") && !text.contains("error"), "\(text)")
        }
        try watcher.wait("the watcher's judgement after the reap") { $0.contains("0 tunnel interfaces") }
        #expect(try ns.ip("-o", "link", "show").split(separator: "\n").count == 1)
        // Deletions counted once each, whoever wrote in between.
        #expect(try StateSQL.integers(state.path, "SELECT reaped_total FROM namespaces") == [Int64(count)])
        sleep(1)
        let sent = alerts(log)
        let named = sent.flatMap { ($0["new_orphans"] as? [String]) ?? [] }
        #expect(named.count == count && Set(named).count == count, "\(sent.map { "\($0["event"] ?? "?") \($0["new_orphans"] ?? "?")" })")
        #expect(sent.filter { $0["event"] as? String == "resolved" }.count == 1, "\(sent.map { $0["event"] ?? "?" })")
        #expect(watcher.terminate().status == 0)
    }
}
#endif
