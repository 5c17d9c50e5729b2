#if os(Linux)
import Foundation
import Testing
import TestSupport

/// Swift on Linux reads `CommandLine` from /proc/self/cmdline. Where the process has no /proc of
/// its own (none mounted, as in a chroot or a minimal container, or a container's after `nsenter
/// -m`), tunwarden must still read its arguments: it ignored them, printed its help and exited 0,
/// so a Nagios check of a namespace with a dead default route read "OK". Each run is made in a
/// mount namespace of the test's own (`unshare -m`) with an empty tmpfs on /proc, so the host's
/// /proc is never touched.
@Suite(.enabled(if: TestNamespace.available && Shell.which("unshare") != nil && Shell.which("mount") != nil,
                "needs root, /dev/net/tun, ip, unshare and mount"))
struct WithoutProcTests {
    /// Runs tunwarden with `arguments` where /proc is an empty tmpfs.
    func runWithoutProc(_ arguments: [String]) throws -> Shell.Result {
        try Shell.capture(["unshare", "-m", "--propagation", "private", "sh", "-c",
                           #"mount -t tmpfs none /proc && exec "$0" "$@""#, Shell.tunwardenBinary] + arguments)
    }

    @Test func theArgumentsAreReadWithoutProc() throws {
        let bogus = try runWithoutProc(["--no-such-option"])
        #expect(bogus.status == 64, "status \(bogus.status): \(bogus.stderr)")
        #expect(bogus.stderr.contains("--no-such-option"), "\(bogus.stderr)")
        let version = try runWithoutProc(["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("tunwarden "), "\(version.status): \(version.stdout)")
        #expect(!version.stdout.contains("OVERVIEW"), "\(version.stdout)")
    }

    /// An audit that cannot look at processes says so (unknown), and still reports the dead
    /// route it can see; it never reads OK.
    @Test func anAuditWithoutProcIsNeverOK() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "noproc0", "mode", "tun")
        try ns.ip("link", "set", "noproc0", "up")
        try ns.ip("route", "add", "default", "dev", "noproc0")
        let result = try runWithoutProc(["--netns", ns.name, "audit", "--format", "nagios", "--no-state"])
        #expect(result.status == 2 || result.status == 3, "status \(result.status): \(result.stdout) \(result.stderr)")
        #expect(result.stdout.hasPrefix("TUNWARDEN CRITICAL") || result.stdout.hasPrefix("TUNWARDEN UNKNOWN"), "\(result.stdout)")
    }
}
#endif
