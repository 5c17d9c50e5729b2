#if os(Linux)
import Foundation
import Testing
import TestSupport

/// What the look after reap's question says of a planned tap it skips, against the real kernel,
/// as root, in throwaway namespaces (review diff36, finding 9): each reason in its own words.
/// Until session 37 every device whose orphaned run had started again was told "seen held, its
/// packet counters moved, or another device took its place", whichever it was.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct RecheckWordsKernelTests {
    /// Runs `reap --min-age 3s` on a pseudo-terminal in `ns` three seconds after an audit, runs
    /// `command` at its question and answers y; everything it wrote, its whitespace made single spaces.
    func reapAnswered(_ ns: TestNamespace, state: TemporaryDirectory, at command: String) throws -> String {
        _ = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "-q"])
        Thread.sleep(forTimeInterval: 3)
        let reap = try Shell.capture(["python3", "-c", GraceAfterUseKernelTests.ptyReap, command, Shell.tunwardenBinary, "--netns", ns.name, "reap",
                                      "--state-dir", state.path, "--min-age", "3s"])
        #expect(reap.stdout.contains("Would delete tap"), "\(reap.stdout)\(reap.stderr)")
        return reap.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Replaced while the question waits by another tap under its name and ifindex (one made in
    /// another namespace, where it got the same number, and moved in): the reaper's own words,
    /// "replaced", not a grace period that the planned device never had restarted.
    @Test func aTapReplacedWhileTheQuestionWaitsIsSaidReplaced() throws {
        let ns = try TestNamespace(), other = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); other.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "grw0", "mode", "tap")
        let index = try #require(try ns.ip("-o", "link", "show", "grw0").split(separator: ":").first.map(String.init))
        let replace = "ip -n \(ns.name) tuntap del dev grw0 mode tap && ip -n \(other.name) tuntap add dev grw0 mode tap "
            + "&& ip -n \(other.name) -o link show grw0 | grep -q '^\(index):' && ip -n \(other.name) link set dev grw0 netns \(ns.name)"
        let flat = try reapAnswered(ns, state: state, at: replace)
        #expect(flat.contains("Skipped tap grw0 (ifindex \(index)): replaced since the plan was made"), "\(flat)")
        #expect(!flat.contains("grace period"), "\(flat)")
        #expect(try ns.ip("-o", "link", "show").contains(": grw0:"))
    }

    /// Held while the question waits, and seen held by an audit then, by a process that has gone
    /// by the answer (a down tap: its counters stay still): said to have been found not orphaned
    /// by that look, with the holder it saw.
    @Test func aTapAnotherLookSawHeldIsSaidSo() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "grw1", "mode", "tap")
        let holder = "import fcntl, os, struct, time; fd = os.open('/dev/net/tun', os.O_RDWR); "
            + "fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'grw1', 0x0002 | 0x1000)); time.sleep(60)"
        let audit = "\(Shell.tunwardenBinary) --netns \(ns.name) audit --state-dir \(state.path) -q"
        let hold = "ip netns exec \(ns.name) python3 -c \"\(holder)\" & p=$!; sleep 1; \(audit); kill -9 $p; wait $p; true"
        let flat = try reapAnswered(ns, state: state, at: hold)
        #expect(flat.contains("Skipped tap grw1 (ifindex 2): another look since the plan was made (a watcher's or an audit's) found it not orphaned"), "\(flat)")
        #expect(flat.contains("the last holder tunwarden saw was python3["), "\(flat)")
        #expect(flat.contains("its grace period (--min-age) starts again"), "\(flat)")
        #expect(try ns.ip("-o", "link", "show").contains(": grw1:"))
    }
}
#endif
