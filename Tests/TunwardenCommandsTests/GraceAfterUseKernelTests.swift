#if os(Linux)
import Foundation
import Testing
import TestSupport

/// The grace period (`--min-age`) against use that no single look catches, against the real
/// kernel, as root, in throwaway namespaces: a process that attaches to a tap, writes a few frames
/// and goes, between two looks (review linux54 F2) or while `reap` waits at its question (F1). A
/// tun/tap's packet counters move only while a queue is attached, so their moving proves the use,
/// and the orphaned run, with its grace period, starts again from the look that saw it.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct GraceAfterUseKernelTests {
    /// Attaches to the tap `argv[1]`, writes five frames, and detaches (by exiting).
    static let briefUser = """
    import fcntl, os, struct, sys
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0002 | 0x1000))
    frame = b"\\xff" * 6 + b"\\x02\\x00\\x00\\x00\\x00\\x01" + b"\\x08\\x06" + b"\\x00" * 46
    for _ in range(5):
        os.write(fd, frame)
    """

    func useBriefly(_ device: String, in ns: TestNamespace) throws {
        try Shell.run(["ip", "netns", "exec", ns.name, "python3", "-c", Self.briefUser, device])
    }

    /// An hourly audit, a VM that ran between two of them, and a reap from a timer: the second
    /// audit saw the counters move, so the reap finds the tap orphaned for less than --min-age.
    @Test func countersThatMovedBetweenTwoLooksRestartTheOrphanClock() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "gau0", "mode", "tap")
        try ns.ip("link", "set", "gau0", "up")
        let audit = [Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "-q"]
        _ = try Shell.capture(audit)
        Thread.sleep(forTimeInterval: 3)
        try useBriefly("gau0", in: ns)
        _ = try Shell.capture(audit)
        let reap = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "3s", "--yes"])
        #expect(reap.status == 0, "\(reap.stdout)\(reap.stderr)")
        #expect(reap.stdout.contains("Nothing to reap now"), "\(reap.stdout)")
        #expect(try ns.ip("-o", "link", "show").contains(": gau0:"), "\(reap.stdout)")
        // Unused since, it comes of age again, and is reaped as any orphan.
        Thread.sleep(forTimeInterval: 3.2)
        let later = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "3s", "--yes"])
        #expect(later.stdout.contains("Deleted tap gau0"), "\(later.stdout)\(later.stderr)")
    }

    /// Runs `reap ARGS…` on a pseudo-terminal, runs `sh -c COMMAND` at its question, answers y,
    /// and prints everything the reap wrote.
    static let ptyReap = """
    import os, pty, select, subprocess, sys, time
    command, argv = sys.argv[1], sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    seen = b""
    def more(timeout):
        global seen
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        seen += data
        return bool(data)
    deadline = time.time() + 60
    while b"[y/N]" not in seen and time.time() < deadline and more(0.5):
        pass
    subprocess.run(command, shell=True, check=True)
    os.write(fd, b"y\\n")
    while more(30) and b"Reaped" not in seen and b"Skipped" not in seen:
        pass
    while more(1):
        pass
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode("utf-8", "replace"))
    sys.exit(os.waitstatus_to_exitcode(status))
    """

    /// A VM that attaches while the question waits, and goes before the answer: the plan said
    /// "orphaned for 4s", but the look after the question sees the counters moved, and the tap is
    /// skipped with its grace period started again.
    @Test func useWhileTheQuestionWaitsRestartsTheGracePeriod() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "gaq0", "mode", "tap")
        try ns.ip("link", "set", "gaq0", "up")
        try ns.ip("tuntap", "add", "dev", "gaq1", "mode", "tap")
        _ = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "-q"])
        Thread.sleep(forTimeInterval: 3)
        let use = "ip netns exec \(ns.name) python3 -c '\(Self.briefUser.replacingOccurrences(of: "'", with: "'\\''"))' gaq0"
        let reap = try Shell.capture(["python3", "-c", Self.ptyReap, use, Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path,
                                      "--min-age", "3s"])
        // (On the pseudo-terminal the text is wrapped at its width.)
        let flat = reap.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(reap.stdout.contains("Would delete tap gaq0"), "\(reap.stdout)\(reap.stderr)")
        #expect(flat.contains("Skipped tap gaq0 (ifindex 2): its packet counters moved while the question waited"), "\(reap.stdout)")
        #expect(flat.contains("its grace period (--min-age) starts again"), "\(reap.stdout)")
        #expect(reap.stdout.contains("Deleted tap gaq1"), "\(reap.stdout)")
        let left = try ns.ip("-o", "link", "show")
        #expect(left.contains(": gaq0:") && !left.contains(": gaq1:"), "\(reap.stdout)\n\(left)")
    }
}
#endif
