#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// Stopping and reloading a reaping watcher while its reap acts, against the real kernel, as
/// root, in throwaway namespaces. The reap's own signal handlers must not swallow the watcher's
/// stop or reload: a SIGTERM stops the watcher with the reap rolled back (or never started), and
/// a SIGHUP's new settings hold before anything else is deleted.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct WatchSignalTests {
    /// Makes `count` persistent taps named PREFIX0… at once (`ip -batch`).
    func makeTaps(_ ns: TestNamespace, prefix: String, count: Int, state: TemporaryDirectory) throws {
        let batch = state.path + "/taps.batch"
        try (0..<count).map { "tuntap add dev \(prefix)\($0) mode tap\n" }.joined().write(toFile: batch, atomically: true, encoding: .utf8)
        try ns.ip("-batch", batch)
    }

    /// Waits until the journal at `path` has its first bytes (the reap's intents), polling
    /// closely, at most `seconds`; whether it did.
    func awaitIntents(_ path: String, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var info = stat()
            if stat(path, &info) == 0, info.st_size > 0 { return true }
            usleep(300)
        }
        return false
    }

    func devices(_ ns: TestNamespace, prefix: String) throws -> Int {
        try ns.ip("-o", "link", "show").split(separator: "\n").count { $0.contains(": \(prefix)") }
    }

    /// The runs the journal at `path` holds, with how many of their results are deletions.
    func runs(_ path: String) throws -> [String: Int] {
        var deleted: [String: Int] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            guard let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let run = record["run"] as? String else { continue }
            deleted[run, default: 0] += record["result"] as? String == "deleted" ? 1 : 0
        }
        return deleted
    }

    /// SIGTERM the moment the reap has journaled its plan: the watcher stops, and no device is
    /// deleted, neither by that reap (rolled back, or never past its first step) nor by another.
    @Test func aStopDuringTheReapStopsTheWatcherAndDeletesNothing() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let journal = state.path + "/journal.jsonl"
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--reap", "--min-age", "1s", "--journal", journal])
        try makeTaps(ns, prefix: "wsgt", count: 200, state: state)
        #expect(awaitIntents(journal), "no reap began: \(watcher.log)")
        let (seconds, status) = watcher.terminate()
        #expect(seconds < 10 && status == 0, "took \(seconds) s, status \(status): \(watcher.log)")
        #expect(watcher.log.contains("stopping on signal"), "\(watcher.log)")
        #expect(try devices(ns, prefix: "wsgt") == 200, "\(watcher.log)")
        let journaled = try runs(journal)
        #expect(journaled.count == 1 && journaled.values.allSatisfy { $0 == 0 }, "\(journaled)\n\(watcher.log)")
    }

    /// A reap started under `nohup` keeps ignoring the hang-up it was protected from: a SIGHUP
    /// as it acts neither rolls it back nor stops it.
    @Test func aReapStartedUnderNohupIgnoresTheHangUp() throws {
        guard let nohup = Shell.which("nohup") else { return }
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let journal = state.path + "/journal.jsonl"
        try makeTaps(ns, prefix: "wsgn", count: 200, state: state)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nohup)
        process.arguments = [Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--journal", journal,
                             "--min-age", "0", "--yes"]
        process.environment = Shell.hermetic(ProcessInfo.processInfo.environment)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.currentDirectoryURL = URL(fileURLWithPath: state.path)
        try process.run()
        #expect(awaitIntents(journal), "no reap began")
        kill(process.processIdentifier, SIGHUP)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try devices(ns, prefix: "wsgn") == 0)
        let journaled = try runs(journal)
        #expect(journaled.count == 1 && journaled.values.allSatisfy { $0 == 200 }, "\(journaled)")
    }

    /// SIGHUP after the configuration file came to protect a device the reap in hand would
    /// delete: the reload takes effect, the protected device stays, and the rest are reaped.
    @Test func aReloadDuringTheReapIsNotLostAndItsProtectionHolds() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let journal = state.path + "/journal.jsonl", config = state.path + "/tunwarden.conf"
        try "limit: 500\n".write(toFile: config, atomically: true, encoding: .utf8)
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--config", config, "--reap", "--min-age", "1s", "--journal", journal])
        try makeTaps(ns, prefix: "wsgh", count: 200, state: state)
        #expect(awaitIntents(journal), "no reap began: \(watcher.log)")
        try "limit: 500\nprotect: [\"wsgh7\"]\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(watcher.process.processIdentifier, SIGHUP)
        try watcher.wait("the reload", seconds: 10) { $0.contains("configuration reloaded") }
        try watcher.wait("the other devices reaped", seconds: 20) { _ in ((try? devices(ns, prefix: "wsgh")) ?? -1) == 1 }
        #expect(try ns.ip("-o", "link", "show").contains(": wsgh7"), "\(watcher.log)")
        #expect(watcher.terminate().status == 0)
    }
}
#endif

#if os(Linux)
/// A state directory that becomes read-only under a running watcher and then writable again, in
/// a private mount namespace the test makes for the watcher (gone with it): what the watcher
/// alerted while it could not record is not alerted again once it can.
@Suite(.enabled(if: TestNamespace.available && Shell.which("unshare") != nil && Shell.which("nsenter") != nil,
                "needs root, /dev/net/tun, ip, python3, unshare and nsenter"))
struct WatchStateOutageTests {
    @Test func anOutageEndsWithoutAlertingAgain() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory(), outside = try TemporaryDirectory()
        defer { ns.remove(); state.remove(); outside.remove() }
        let alerts = outside.path + "/alerts", log = outside.path + "/watch.err"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        // The watcher starts over a read-only bind of the state directory, in a mount namespace
        // of its own.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.which("unshare")!)
        let watch = ["--netns", ns.name, "watch", "--state-dir", state.path, "--alert-exec", "cat >> \(alerts); echo >> \(alerts)"]
        process.arguments = ["--mount", "--propagation", "private", "sh", "-c",
                             "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && exec \"$@\"", state.path, Shell.tunwardenBinary] + watch
        process.environment = Shell.hermetic(ProcessInfo.processInfo.environment)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) }; process.waitUntilExit() }
        func text() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        func wait(_ what: String, _ condition: (String) -> Bool) throws {
            let deadline = Date().addingTimeInterval(10)
            while !condition(text()) {
                guard Date() < deadline else { throw ShellError(command: "waiting for \(what)", status: -1, output: text()) }
                usleep(20_000)
            }
        }
        try wait("watching") { $0.contains("watch: watching namespace") }
        try ns.ip("tuntap", "add", "dev", "wso1", "mode", "tun")
        try wait("wso1 without the state") { $0.contains("new orphans: wso1") && $0.contains("alerting without the state") }
        // Writable again (a remount to read-write is allowed whatever is open).
        try Shell.run(["nsenter", "-t", "\(process.processIdentifier)", "-m", "mount", "-o", "remount,bind,rw", state.path])
        try ns.ip("tuntap", "add", "dev", "wso2", "mode", "tun")
        try wait("wso2") { $0.contains("wso2") && $0.contains("2 tunnel interfaces") }
        let sent = WatchTests.newOrphansSent(to: alerts, atLeast: 3)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(sent == ["wso1", "wso2"], "\(text())")
        #expect(FileManager.default.fileExists(atPath: state.path + "/state.db"), "\(text())")
    }
}
#endif

#if os(Linux)
/// The watcher's view of vxlans of other namespaces that send from the watched one, against the
/// real kernel, as root, in throwaway namespaces: a vxlan moved into another namespace (a
/// container) still sends from the tap whose address it has as `local`, so the tap stays suspect,
/// and is neither alerted as a new orphan nor tried by a reap.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchForeignVxlanTests {
    @Test func aVxlanMovedAwayStillTiesItsTap() throws {
        let ns = try TestNamespace(), container = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); container.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wfx0", "mode", "tap")
        try ns.ip("link", "set", "wfx0", "up")
        try ns.ip("addr", "add", "10.57.0.1/32", "dev", "wfx0")
        let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", "wfxvx", "type", "vxlan", "id", "57", "dstport", "4846",
                                      "local", "10.57.0.1", "remote", "192.0.2.2"])
        guard made.status == 0 else { return }  // no vxlan driver here
        let alerts = state.path + "/alerts"
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--reap", "--min-age", "1s", "--stats-interval", "1s",
                                                                       "--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        try ns.ip("link", "set", "wfxvx", "netns", container.name)
        sleep(3)
        let log = watcher.log
        #expect(watcher.terminate().status == 0)
        #expect(!log.contains("new orphans: wfx0") && !log.contains("reap: wfx0"), "\(log)")
        #expect(WatchTests.newOrphansSent(to: alerts, atLeast: 1).isEmpty, "\(log)")
        #expect(try ns.ip("-o", "link", "show").contains(": wfx0"))
    }
}
#endif
