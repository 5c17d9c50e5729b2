#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// The watcher's hold-down of improvements against the real kernel: a daemon restarting in a
/// loop on its persistent tun (closing it and attaching again) raises one alert, not a "resolved"
/// and a "new orphan" per restart.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchFlapTests {
    /// Attaches to the persistent tun `argv[1]` and lets go `argv[2]` times, 0.3 s each way, then
    /// attaches for good, prints "ready" and sleeps until killed.
    static let flapper = """
    import fcntl, os, struct, sys, time
    name, rounds = sys.argv[1], int(sys.argv[2])
    def attach():
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))
        return fd
    for _ in range(rounds):
        fd = attach()
        time.sleep(0.3)
        os.close(fd)
        time.sleep(0.3)
    fd = attach()
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    time.sleep(3600)
    """

    /// The events of the alerts an `--alert-exec 'cat >> FILE; echo >> FILE'` wrote, in order.
    static func events(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["event"] as? String
        }
    }

    static func occurrences(_ text: String, _ part: String) -> Int { text.components(separatedBy: part).count - 1 }

    /// Starts a watcher, holding improvements for `resolveAfter`, over a persistent, up tun
    /// `device` nobody holds, and waits for its first alert; returns it and its alerts' file.
    func start(_ ns: TestNamespace, state: TemporaryDirectory, device: String, resolveAfter: String) throws -> (WatchTests.Watcher, String) {
        try ns.ip("tuntap", "add", "dev", device, "mode", "tun")
        try ns.ip("link", "set", device, "up")
        let alerts = state.path + "/alerts"
        let watcher = try watch(ns, state: state, alerts: alerts, resolveAfter: resolveAfter)
        try watcher.wait("the first alert") { $0.contains("new orphans: \(device)") }
        return (watcher, alerts)
    }

    func watch(_ ns: TestNamespace, state: TemporaryDirectory, alerts: String, resolveAfter: String) throws -> WatchTests.Watcher {
        try WatchTests.Watcher(ns, state: state, extra: ["--coalesce", "20", "--resolve-after", resolveAfter, "--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
    }

    @Test func aTunClosedAndAttachedAgainAndAgainAlertsOnceThenResolvesOnceItLasts() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let (watcher, alerts) = try start(ns, state: state, device: "flapa0", resolveAfter: "3s")
        let flapper = try ns.python(Self.flapper, ["flapa0", "5"])
        defer { ns.release(flapper) }
        // Every attach and close was judged (the device live, then orphaned again) ...
        try watcher.wait("the last attach", seconds: 3) { Self.occurrences($0, "1 tunnel interface, 0 orphaned") >= 6 }
        #expect(Self.occurrences(watcher.log, "1 tunnel interface, 1 orphaned") >= 6, "\(watcher.log)")
        // ... and alerted nothing: the device orphaned again was alerted before.
        usleep(300_000)
        #expect(Self.events(alerts) == ["transition"], "\(watcher.log)")
        #expect(Self.occurrences(watcher.log, "new orphans: flapa0") == 1, "\(watcher.log)")
        // Attached for good: resolved once it has lasted the hold-down, and once only.
        let waited = try watcher.wait("resolved", seconds: 6) { $0.contains("alert: resolved") }
        #expect(waited > 2, "resolved after \(waited) s: \(watcher.log)")
        usleep(500_000)
        #expect(Self.events(alerts) == ["transition", "resolved"], "\(watcher.log)")
        #expect(watcher.terminate().status == 0)
    }

    /// Another orphan keeps the status at WARNING while a daemon restarts in a loop on its
    /// persistent tun, so no improvement is ever held: each close is still no new orphan (a
    /// device alerted stays remembered for the hold-down, whatever the status does), and neither
    /// is the other orphan renamed (the same device, at its ifindex).
    @Test func aCrashLoopBesideAnotherOrphanAlertsOnceAndARenameIsNoNewOrphan() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "flapc0", "mode", "tun")
        try ns.ip("link", "set", "flapc0", "up")
        try ns.ip("tuntap", "add", "dev", "stalec0", "mode", "tun")
        let alerts = state.path + "/alerts"
        let watcher = try watch(ns, state: state, alerts: alerts, resolveAfter: "60s")
        try watcher.wait("the first alert") { $0.contains("new orphans: flapc0, stalec0") }
        let flapper = try ns.python(Self.flapper, ["flapc0", "4"])
        defer { ns.release(flapper) }
        try watcher.wait("the last attach", seconds: 4) { Self.occurrences($0, "2 tunnel interfaces, 1 orphaned") >= 5 }
        #expect(Self.occurrences(watcher.log, "2 tunnel interfaces, 2 orphaned") >= 5, "\(watcher.log)")
        usleep(300_000)
        #expect(Self.events(alerts) == ["transition"], "\(watcher.log)")
        #expect(!watcher.log.contains("alert: new-orphan"), "\(watcher.log)")
        try ns.ip("link", "set", "stalec0", "name", "stalec9")
        usleep(1_000_000)
        try ns.ip("link", "set", "stalec9", "name", "stalec0")
        usleep(1_000_000)
        #expect(Self.events(alerts) == ["transition"], "\(watcher.log)")
        #expect(watcher.terminate().status == 0)
    }

    /// While the state cannot record (its database replaced by a directory in the way), what was
    /// alerted stays remembered with the improvement held back: the daemon's crash within the
    /// hold-down is no new orphan, as it is none with the state.
    @Test func aRelapseWhileTheStateCannotRecordIsNoNewOrphan() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let (watcher, alerts) = try start(ns, state: state, device: "flapd0", resolveAfter: "60s")
        let holder = try ns.hold("flapd0")
        try watcher.wait("attached", seconds: 3) { $0.contains("1 tunnel interface, 0 orphaned") }
        let database = state.path + "/state.db"
        for suffix in ["", "-wal", "-shm"] { _ = rename(database + suffix, state.path + "/moved" + suffix) }
        try FileManager.default.createDirectory(atPath: database + "/in-the-way", withIntermediateDirectories: true)
        ns.release(holder)
        try watcher.wait("orphaned again", seconds: 3) { Self.occurrences($0, "1 tunnel interface, 1 orphaned") >= 2 }
        usleep(500_000)
        #expect(Self.events(alerts) == ["transition"], "\(watcher.log)")
        #expect(!watcher.log.contains("alert: new-orphan"), "\(watcher.log)")
        #expect(watcher.terminate().status == 0)
    }

    /// An audit (the hourly timer's) over the same state during the hold alerts "resolved" at
    /// once, as it always did, and the watcher then does not alert it again; a watcher stopped
    /// while an improvement is held alerts nothing.
    @Test func anAuditMayResolveDuringTheHoldAndAStopAlertsNothing() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let (first, alerts) = try start(ns, state: state, device: "flapb0", resolveAfter: "2s")
        var watcher = first
        let holder = try ns.hold("flapb0")
        try watcher.wait("attached", seconds: 3) { $0.contains("1 tunnel interface, 0 orphaned") }
        _ = try? Shell.run([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--format", "nagios",
                            "--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        #expect(Self.events(alerts) == ["transition", "resolved"], "\(watcher.log)")
        sleep(3)
        #expect(Self.events(alerts) == ["transition", "resolved"], "\(watcher.log)")
        #expect(watcher.terminate().status == 0)

        // Orphaned again, alerted at once; attached again, and stopped within the hold-down.
        ns.release(holder)
        watcher = try watch(ns, state: state, alerts: alerts, resolveAfter: "30s")
        try watcher.wait("orphaned again") { $0.contains("new orphans: flapb0") }
        let again = try ns.hold("flapb0")
        defer { ns.release(again) }
        try watcher.wait("attached again", seconds: 3) { Self.occurrences($0, "1 tunnel interface, 0 orphaned") >= 1 }
        usleep(300_000)
        #expect(watcher.terminate().status == 0)
        #expect(Self.events(alerts) == ["transition", "resolved", "transition"], "\(watcher.log)")
    }
}
#endif
