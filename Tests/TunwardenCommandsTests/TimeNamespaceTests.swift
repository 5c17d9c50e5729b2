#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Inventory

/// The grace period before a reap counts on the host's boot clock, whatever time namespace a run
/// is in: a time namespace (`unshare --time --boottime N`, a container CRIU restored) moves the
/// boot clock its processes see by an offset of its own, which a reading is taken back by.
struct BootClockOffsetTests {
    @Test func theBoottimeLineGivesTheOffset() {
        #expect(BootClock.offset(in: "monotonic           0         0\nboottime            0         0\n") == 0)
        #expect(BootClock.offset(in: "monotonic        -5         0\nboottime         7200 500000000\n") == 7200.5)
        #expect(BootClock.offset(in: "boottime -36000 0\n") == -36000)
        #expect(BootClock.offset(in: "monotonic 0 0\n") == nil)
        #expect(BootClock.offset(in: "boottime x 0\n") == nil)
    }

    @Test func aMissingFileIsNoOffsetAndAnUnreadableOneNoReading() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(BootClock.offset(at: directory.path + "/none") == 0)
        try "boottime 3600 0\n".write(toFile: directory.path + "/offsets", atomically: true, encoding: .utf8)
        #expect(BootClock.offset(at: directory.path + "/offsets") == 3600)
        try "garbage\n".write(toFile: directory.path + "/bad", atomically: true, encoding: .utf8)
        #expect(BootClock.now(offsetsPath: directory.path + "/bad") == nil)
        let host = try #require(BootClock.now(offsetsPath: directory.path + "/none"))
        let shifted = try #require(BootClock.now(offsetsPath: directory.path + "/offsets"))
        #expect(abs(host - shifted - 3600) < 1)
    }
}

/// Against the real kernel, as root, in a throwaway namespace, with `unshare --time`.
@Suite(.enabled(if: TestNamespace.available && Shell.which("unshare") != nil, "needs root, /dev/net/tun, ip, python3 and unshare"))
struct TimeNamespaceKernelTests {
    /// An orphan seen a moment ago is not reapable by a reap run where the boot clock is two
    /// hours ahead, and one first seen from a namespace ten hours ahead is as old, seen from the
    /// host, as it is.
    @Test func aReapInAnotherTimeNamespaceCountsTheSameAge() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "tns0", "mode", "tap")
        let base = ["--netns", ns.name, "reap", "--state-dir", state.path, "--journal", state.path + "/journal.jsonl"]
        let first = try Shell.capture([Shell.tunwardenBinary] + base + ["--min-age", "1h", "--yes"])
        #expect(first.status == 0 && first.stdout.contains("Nothing to reap"), "\(first.stdout)\n\(first.stderr)")
        let ahead = try Shell.capture(["unshare", "--time", "--boottime", "7200", Shell.tunwardenBinary] + base + ["--min-age", "1h", "--yes"])
        #expect(ahead.status == 0 && ahead.stdout.contains("Nothing to reap"), "\(ahead.stdout)\n\(ahead.stderr)")
        #expect(try ns.ip("-o", "link", "show").contains(": tns0"))

        try ns.ip("tuntap", "add", "dev", "tns1", "mode", "tap")
        let seen = try Shell.capture(["unshare", "--time", "--boottime", "36000", Shell.tunwardenBinary, "--netns", ns.name, "audit",
                                      "--state-dir", state.path])
        #expect(seen.status == 1, "\(seen.stdout)\n\(seen.stderr)")
        sleep(2)
        let dry = try Shell.capture([Shell.tunwardenBinary] + base + ["--min-age", "1s", "--dry-run"])
        #expect(dry.stdout.contains("Would delete tap tns1"), "\(dry.stdout)\n\(dry.stderr)")
    }
}
#endif
