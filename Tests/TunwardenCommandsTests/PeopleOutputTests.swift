import Foundation
import Testing
import TestSupport

/// What people read: colour on request only, a first alert that says it is the first, and reap
/// plans that say why nothing is reapable.
@Suite struct PeopleOutputTests {
    static let fethCapture = """
    feth1207: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 2800
    \tinet 10.242.18.7 netmask 0xffff0000 broadcast 10.242.255.255
    \tpeer: feth6207
    feth6207: flags=8943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 2800
    \tpeer: feth1207
    """

    @Test func colourOnlyWhenAskedForOrOnATerminal() throws {
        let capture = try TemporaryDirectory()
        defer { capture.remove() }
        try Data(Self.fethCapture.utf8).write(to: URL(fileURLWithPath: capture.path + "/ifconfig.txt"))
        try Data("  PID COMM\n    1 /sbin/launchd\n".utf8).write(to: URL(fileURLWithPath: capture.path + "/ps.txt"))
        let piped = try Shell.capture([Shell.tunwardenBinary, "audit", "--from", capture.path])
        #expect(!piped.stdout.contains("\u{1B}["))
        let always = try Shell.capture([Shell.tunwardenBinary, "audit", "--from", capture.path, "--color", "always"])
        #expect(always.stdout.contains("\u{1B}[33mWARNING\u{1B}[0m"), "\(always.stdout)")
        let never = try Shell.capture([Shell.tunwardenBinary, "audit", "--from", capture.path, "--color", "never"])
        #expect(!never.stdout.contains("\u{1B}["))
        let bad = try Shell.capture([Shell.tunwardenBinary, "audit", "--from", capture.path, "--color", "sometimes"])
        #expect(bad.status == 64)
    }

    /// A conflict names where each value came from, and a default is called a default.
    @Test func aConflictWithADefaultSaysItIsTheDefault() throws {
        let capture = try TemporaryDirectory()
        defer { capture.remove() }
        try Data(Self.fethCapture.utf8).write(to: URL(fileURLWithPath: capture.path + "/ifconfig.txt"))
        try Data("warn: 200\n".utf8).write(to: URL(fileURLWithPath: capture.path + "/tunwarden.conf"))
        let result = try Shell.capture([Shell.tunwardenBinary, "--config", capture.path + "/tunwarden.conf", "audit", "--from", capture.path])
        #expect(result.status == 64)
        #expect(result.stderr.contains("is above the limit (the default --limit: 95)"), "\(result.stderr)")
    }
}

@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct PeopleOutputKernelTests {
    @Test func theFirstAlertSaysItIsTheFirst() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "first0", "mode", "tun")
        let first = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path,
                                       "--alert-exec", "true", "--format", "nagios"])
        #expect(first.status == 1)
        #expect(first.stderr.contains("alert: transition: WARNING (first audit here); new orphans: first0."), "\(first.stderr)")
    }

    @Test func aPlanSaysWhyNothingIsReapable() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["pkeep0", "young0", "young1"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tun") }
        let protected = try HostileRun.run(in: ns, ["reap", "--dry-run", "--no-state", "--min-age", "0", "--protect", "*"])
        #expect(protected.status == 0, "\(protected.stderr)")
        #expect(protected.stdout.contains("Protected pkeep0 (matches the protect pattern '*')."))
        #expect(protected.stdout.contains("Nothing to reap: every reapable orphan is protected."), "\(protected.stdout)")
        let noClock = try HostileRun.run(in: ns, ["reap", "--dry-run", "--no-state", "--min-age", "15m"])
        // "Reapable" means what the audit's [reapable] tag means; the grace period is what waits.
        #expect(noClock.stdout.contains("3 reapable orphaned interfaces are waiting out the grace period (--min-age), counted from when tunwarden first saw each orphaned"), "\(noClock.stdout)")
        #expect(noClock.stdout.contains("with --no-state no clock runs, so their grace period never ends"), "\(noClock.stdout)")
        #expect(!noClock.stdout.contains("not reapable"))
        #expect(!noClock.stdout.contains(" is due at"))
        let clock = try HostileRun.run(in: ns, ["reap", "--dry-run", "--state-dir", state.path, "--min-age", "15m"])
        for name in ["pkeep0", "young0", "young1"] { #expect(clock.stdout.contains(name), "\(clock.stdout)") }
        #expect(clock.stdout.contains(" is due at "), "\(clock.stdout)")
        #expect(!clock.stdout.contains("not reapable"), "\(clock.stdout)")
    }

    /// A plan with nothing in it because a tunnel is unknown names that tunnel and why, rather
    /// than only saying no orphan is reapable.
    @Test func aPlanNamesTheUnknownTunnelsItLeavesAlone() throws {
        let ns = try TestNamespace(), other = try TestNamespace()
        defer { ns.remove(); other.remove() }
        try ns.ip("tuntap", "add", "dev", "unk0", "mode", "tap")
        // A holder of a device of the same name elsewhere: whether it holds this one cannot be told.
        try other.hold("unk0", mode: "tap")
        let plan = try HostileRun.run(in: ns, ["reap", "--dry-run", "--no-state", "--min-age", "0"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("Nothing to reap: no orphaned interface is reapable."), "\(plan.stdout)")
        #expect(plan.stdout.contains("1 tunnel interface is unknown, and none is reaped until it can be told orphaned (`tunwarden audit` says why for each): unk0: "),
                "\(plan.stdout)")
    }
}

@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct NamespaceNamingKernelTests {
    /// A holder of the same name in another namespace is named the way `ip netns` names that
    /// namespace, not only by the kernel's `net:[INODE]`.
    @Test func aHolderElsewhereIsNamedByItsNamespacesName() throws {
        let here = try TestNamespace(), there = try TestNamespace()
        defer { here.remove(); there.remove() }
        try here.ip("tuntap", "add", "dev", "same0", "mode", "tun")
        try there.ip("tuntap", "add", "dev", "same0", "mode", "tun")
        let holder = try there.hold("same0")
        defer { there.release(holder) }
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", here.name, "audit", "--no-state", "--format", "json"])
        #expect(audit.stdout.contains("in namespace \(there.name) (net:["), "\(audit.stdout)")
    }
}
