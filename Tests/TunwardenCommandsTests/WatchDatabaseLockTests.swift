#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// A watcher whose `state.db` another process holds write-locked (someone's `sqlite3` shell left
/// in a transaction): its loop waits a moment, not SQLite's 15 s, alerts each change once without
/// the state, and stops at once on SIGTERM while it waits. As root, in a throwaway namespace.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchDatabaseLockTests {
    /// A process holding `BEGIN IMMEDIATE` on the database for `seconds`, killed (SIGKILL) at the end.
    final class LockHolder {
        let process = Process()
        let output = Pipe()

        init(_ database: String, seconds: Double) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", """
                import sqlite3, sys, time
                c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
                c.execute("BEGIN IMMEDIATE"); print("locked", flush=True)
                time.sleep(float(sys.argv[2])); c.execute("COMMIT")
                """, database, "\(seconds)"]
            process.standardOutput = output
            try process.run()
            let line = output.fileHandleForReading.availableData
            guard String(decoding: line, as: UTF8.self).hasPrefix("locked") else {
                throw ShellError(command: "lock \(database)", status: -1, output: String(decoding: line, as: UTF8.self))
            }
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        func waitUntilReleased() { process.waitUntilExit() }
    }

    @Test func aLockedDatabaseHoldsUpNoAlertSendsNoneTwiceAndStopsNoStop() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let events = state.path + "/events"
        func sent() -> [String] { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        func waitSent(_ count: Int, seconds: Double) -> Double {
            let start = Date()
            while sent().count < count, Date().timeIntervalSince(start) < seconds { usleep(20_000) }
            return Date().timeIntervalSince(start)
        }
        let watcher = try WatchTests.Watcher(ns, state: state, extra: [
            "--alert-exec", "echo \"$TUNWARDEN_EVENT $TUNWARDEN_PREVIOUS_STATUS $TUNWARDEN_NEW_ORPHANS\" >> \(events)"])
        let made = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: state.path + "/state.db"), Date() < made { usleep(20_000) }
        sleep(1)

        // Locked for 9 s: o1's transition and o2's new orphan each come within a few seconds,
        // alerted without the state.
        var holder: LockHolder? = try LockHolder(state.path + "/state.db", seconds: 9)
        try ns.ip("tuntap", "add", "dev", "lk1", "mode", "tun")
        #expect(waitSent(1, seconds: 8) < 5, "\(watcher.log)")
        try ns.ip("tuntap", "add", "dev", "lk2", "mode", "tun")
        #expect(waitSent(2, seconds: 8) < 5, "\(watcher.log)")
        #expect(watcher.log.contains("watch: alerting without the state"), "\(watcher.log)")
        // Released: the watcher records what it alerted, and alerts none of it again.
        holder?.waitUntilReleased()
        holder = nil
        // (A recording that failed is tried again within 5 s.)
        sleep(7)
        #expect(sent() == ["transition ok lk1", "new-orphan warning lk2"], "\(watcher.log)")
        #expect(try StateSQL.integers(state.path, "SELECT count(*) FROM alerted_orphans") == [2], "\(watcher.log)")

        // Locked again, a change waiting on it: SIGTERM stops the watcher at once.
        holder = try LockHolder(state.path + "/state.db", seconds: 60)
        try ns.ip("tuntap", "add", "dev", "lk3", "mode", "tun")
        usleep(700_000)
        let stop = watcher.terminate()
        #expect(stop.status == 0)
        #expect(stop.seconds < 1.5, "SIGTERM took \(stop.seconds) s: \(watcher.log)")
        #expect(!sent().contains { $0.hasPrefix("transition") && $0 != "transition ok lk1" }, "\(sent())")
    }
}
#endif
