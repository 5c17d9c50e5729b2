#if os(Linux)
import Foundation
import Testing
import TestSupport

/// The grace period (`--min-age`) against a holder that attaches and lets go without sending a
/// packet, against the real kernel, as root, in throwaway namespaces: while `reap` waits at its
/// question (review linux56 F1), and within one of the watcher's bursts (F2). Such a holder leaves
/// no holder, no packet and no carrier behind; the kernel's count of carrier-ons, and the
/// notifications sent while it held the device, tell it all the same. Changes that attach nothing
/// (an MTU, an address, a device set down and up) restart nothing: a reap with no holder about
/// still deletes.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct GraceAfterAttachKernelTests {
    /// Sleeps `argv[1]` seconds attached to each tap `NAME:sq` or `NAME:mq` after it, then lets go
    /// of them all (by exiting), writing nothing.
    static let attacher = """
    import fcntl, os, struct, sys, time
    fds = []
    for spec in sys.argv[2:]:
        name, queues = spec.split(":")
        fd = os.open("/dev/net/tun", os.O_RDWR)
        flags = 0x0002 | 0x1000 | (0x0100 if queues == "mq" else 0)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), flags))
        fds.append(fd)
    time.sleep(float(sys.argv[1]))
    """

    /// The shell command that runs `attacher` in `ns`.
    static func attach(for seconds: Double, _ devices: [String], in ns: TestNamespace) -> String {
        "ip netns exec \(ns.name) python3 -c '\(attacher.replacingOccurrences(of: "'", with: "'\\''"))' \(seconds) \(devices.joined(separator: " "))"
    }

    /// Changes that attach nothing, made to `device` in `ns`.
    static func benign(_ device: String, in ns: TestNamespace) -> String {
        ["link set \(device) mtu 1400", "address add 10.99.0.1/24 dev \(device)", "link set \(device) down", "link set \(device) up"]
            .map { "ip -n \(ns.name) \($0)" }.joined(separator: " && ")
    }

    /// A holder that attaches while the question waits and goes before the answer, sending
    /// nothing: to a single-queue tap that is up, a multi-queue one, and one that is down. Each is
    /// skipped with its grace period started again, and recorded so: a reap right after finds them
    /// too young. A fourth tap, only reconfigured meanwhile, is deleted.
    @Test func anAttachWithoutTrafficWhileTheQuestionWaitsRestartsTheGracePeriod() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "gaa0", "mode", "tap")
        try ns.ip("link", "set", "gaa0", "up")
        try ns.ip("tuntap", "add", "dev", "gaa1", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "gaa1", "up")
        try ns.ip("tuntap", "add", "dev", "gaa2", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "gaa3", "mode", "tap")
        try ns.ip("link", "set", "gaa3", "up")
        _ = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "-q"])
        Thread.sleep(forTimeInterval: 3)
        let meanwhile = Self.attach(for: 0.3, ["gaa0:sq", "gaa1:mq", "gaa2:sq"], in: ns) + " && " + Self.benign("gaa3", in: ns)
        let reap = try Shell.capture(["python3", "-c", GraceAfterUseKernelTests.ptyReap, meanwhile, Shell.tunwardenBinary, "--netns", ns.name, "reap",
                                      "--state-dir", state.path, "--min-age", "3s"])
        // (On the pseudo-terminal the text is wrapped at its width.)
        let flat = reap.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(reap.status == 0, "\(reap.stdout)\(reap.stderr)")
        for device in ["gaa0", "gaa1", "gaa2"] {
            #expect(reap.stdout.contains("Would delete tap \(device)"), "\(reap.stdout)\(reap.stderr)")
            #expect(flat.range(of: "Skipped tap \(device) \\(ifindex [0-9]+\\): a process attached to it while the question waited \\(its carrier came on once "
                               + "since the plan was made\\); its grace period \\(--min-age\\) starts again", options: .regularExpression) != nil, "\(reap.stdout)")
        }
        #expect(reap.stdout.contains("Deleted tap gaa3"), "\(reap.stdout)")
        let left = try ns.ip("-o", "link", "show")
        #expect(["gaa0", "gaa1", "gaa2"].allSatisfy { left.contains(": \($0):") } && !left.contains(": gaa3:"), "\(reap.stdout)\n\(left)")
        // Recorded as a hold seen: the next reap finds their orphaned runs restarted.
        let next = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "3s", "--yes"])
        #expect(next.stdout.contains("Nothing to reap now"), "\(next.stdout)\(next.stderr)")
        #expect(try ["gaa0", "gaa1", "gaa2"].allSatisfy { try ns.ip("-o", "link", "show").contains(": \($0):") })
    }

    /// `watch --reap` and a holder that attaches for 0.1 s, less than the coalescing window,
    /// sending nothing: the notifications of its attach and of its going land in one burst, and
    /// the link read after it shows the tap orphaned again; the tap's orphaned run starts again
    /// all the same, and it is deleted a whole --min-age after the attach. A tap only reconfigured
    /// at the same moment is deleted on its first schedule.
    @Test func aWatcherRestartsTheOrphanClockOfAnAttachShorterThanABurst() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory(), journal = try TemporaryDirectory()
        defer { ns.remove(); state.remove(); journal.remove() }
        try ns.ip("tuntap", "add", "dev", "gab0", "mode", "tap")
        try ns.ip("link", "set", "gab0", "up")
        try ns.ip("tuntap", "add", "dev", "gab1", "mode", "tap")
        try ns.ip("link", "set", "gab1", "up")
        let minAge = 6.0
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--reap", "--min-age", "6s", "--journal", journal.path + "/journal.jsonl"])
        let started = Date()
        Thread.sleep(forTimeInterval: 2.5)
        _ = try Shell.run(["sh", "-c", Self.attach(for: 0.1, ["gab0:sq"], in: ns) + " && " + Self.benign("gab1", in: ns)])
        let released = Date()
        func present(_ device: String) throws -> Bool { try ns.ip("-o", "link", "show").contains(": \(device):") }
        while try present("gab1"), Date().timeIntervalSince(started) < minAge + 5 { usleep(50_000) }
        #expect(try !present("gab1"), "the reconfigured tap was not reaped on its first schedule: \(watcher.log)")
        #expect(try present("gab0"), "the tap attached \(Date().timeIntervalSince(released))s ago was reaped with --min-age 6s: \(watcher.log)")
        while try present("gab0"), Date().timeIntervalSince(released) < minAge + 5 { usleep(50_000) }
        let gone = Date().timeIntervalSince(released)
        #expect(try !present("gab0"), "\(watcher.log)")
        #expect(gone >= minAge - 0.5, "reaped \(gone)s after its holder let go: \(watcher.log)")
        #expect(watcher.terminate().status == 0)
    }
}
#endif
