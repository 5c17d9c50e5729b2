import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// What `reap` checks before it acts: privileges before any file is created, and, in a dry run,
/// everything the real run checks, so that it exits as the real run would.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct ReapPreflightTests {
    /// A reap without privileges refuses before it creates anything: no state directory, no
    /// journal, for a real run and a dry run alike.
    @Test func anUnprivilegedReapCreatesNoFiles() throws {
        let ns = try TestNamespace(), parent = try TemporaryDirectory()
        defer { ns.remove(); parent.remove() }
        chmod(parent.path, 0o777)
        try ns.ip("tuntap", "add", "dev", "unpriv0", "mode", "tun")
        let existing = parent.path + "/existing"
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false)
        chmod(existing, 0o777)
        for arguments in [["--yes"], ["--dry-run"]] {
            for stateDirectory in [parent.path + "/state", existing] {
                let result = try Shell.capture(["ip", "netns", "exec", ns.name, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                                Shell.tunwardenBinary, "reap", "--min-age", "0", "--state-dir", stateDirectory] + arguments)
                #expect(result.status == 3, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("reaping needs root"), "\(result.stderr)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["existing"], "\(arguments) created files")
                #expect(try FileManager.default.contentsOfDirectory(atPath: existing).isEmpty, "\(arguments) created files")
            }
        }
        #expect(try ns.ip("link", "show", "unpriv0").contains("unpriv0"))
    }

    /// Root without CAP_NET_ADMIN (a container, a unit's bounding set) cannot fence or delete: the
    /// reap refuses before acting, as it does without root, instead of journaling a plan whose
    /// every step the kernel then refuses; a dry run says the same.
    @Test func rootWithoutNetAdminRefusesBeforeActing() throws {
        let ns = try TestNamespace(), parent = try TemporaryDirectory()
        defer { ns.remove(); parent.remove() }
        try ns.ip("tuntap", "add", "dev", "nocap0", "mode", "tun")
        for arguments in [["--yes"], ["--dry-run"]] {
            let result = try Shell.capture(["ip", "netns", "exec", ns.name, "setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin",
                                            Shell.tunwardenBinary, "reap", "--min-age", "0", "--state-dir", parent.path + "/state"] + arguments)
            #expect(result.status == 3, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("reaping needs CAP_NET_ADMIN"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: parent.path + "/state/journal.jsonl"), "\(arguments) journaled")
        }
        #expect(try ns.ip("link", "show", "nocap0").contains("nocap0"))
    }

    /// Root without CAP_SYS_ADMIN (the watcher's packaged unit as it was: CAP_NET_ADMIN and the
    /// holder-scanning pair) cannot enter other network namespaces to look for devices stacked
    /// on a tun: the reap deletes nothing, and says which capability is missing and how to give
    /// it, not only which namespaces it could not read.
    @Test func rootWithoutSysAdminSaysWhyNothingIsReaped() throws {
        let ns = try TestNamespace(), elsewhere = try TestNamespace(), parent = try TemporaryDirectory()
        defer { ns.remove(); elsewhere.remove(); parent.remove() }
        try ns.ip("tuntap", "add", "dev", "nosysadm0", "mode", "tun")
        let result = try Shell.capture(["ip", "netns", "exec", ns.name, "setpriv", "--inh-caps=-all", "--bounding-set=-all,+net_admin,+sys_ptrace,+dac_read_search",
                                        Shell.tunwardenBinary, "reap", "--yes", "--min-age", "0", "--state-dir", parent.path + "/state"])
        let output = result.stdout + result.stderr
        #expect(output.contains("entering them needs CAP_SYS_ADMIN, which this process lacks"), "\(output)")
        #expect(output.contains("RestrictNamespaces=net"), "\(output)")
        #expect(try ns.ip("link", "show", "nosysadm0").contains("nosysadm0"))
    }

    /// A dry run checks what the real run checks before acting and exits as it would: a journal
    /// whose last record is damaged (a reap reads only the journal's tail) stops both with exit 3,
    /// and one whose directory does not exist both with exit 64; neither touches the journal or
    /// creates one.
    @Test func aDryRunRefusesWhatTheRealRunRefuses() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "dryj0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "dryj1", "mode", "tap")
        let journal = state.path + "/journal.jsonl"
        let damaged = "{\"time\":\"2026-01-01T00:00:00Z\",\"run\":\"r\",\"type\":\"result\",\"ifname\":\"x\",\"ifindex\":1,\"result\":\"deleted\"}\nnot a record\n"
        try Data(damaged.utf8).write(to: URL(fileURLWithPath: journal))
        let dry = try HostileRun.run(in: ns, ["reap", "--dry-run", "--min-age", "0", "--state-dir", state.path])
        let real = try HostileRun.run(in: ns, ["reap", "--yes", "--min-age", "0", "--state-dir", state.path])
        #expect(real.status == 3)
        #expect(dry.status == real.status, "dry run: \(dry.status) \(dry.stdout)")
        #expect(!dry.stdout.contains("interfaces to delete"))
        #expect(dry.stderr.contains("line 2 is not a journal record"), "\(dry.stderr)")
        #expect(try String(contentsOfFile: journal, encoding: .utf8) == damaged)
        #expect(try ns.ip("-o", "link", "show").contains("dryj1"))

        // A file where the journal's directory should be, and a directory that does not exist:
        // a path given with --journal is never made (a mistyped one would hold the only record of
        // the reap where `tunwarden journal` never looks), so both are bad usage, and nothing is
        // planned or made.
        let blocked = state.path + "/blocked"
        try Data().write(to: URL(fileURLWithPath: blocked))
        for (mode, path) in [("--dry-run", blocked + "/sub/journal.jsonl"), ("--yes", blocked + "/sub/journal.jsonl"),
                             ("--dry-run", state.path + "/new/dir/journal.jsonl"), ("--yes", state.path + "/new/dir/journal.jsonl")] {
            let result = try HostileRun.run(in: ns, ["reap", mode, "--min-age", "0", "--state-dir", state.path, "--journal", path])
            #expect(result.status == 64 && (result.stderr.contains("does not exist") || result.stderr.contains("is a file, not a directory")),
                    "\(mode) \(path): \(result.stderr)")
            #expect(!result.stdout.contains("interfaces to delete"), "\(mode) \(path): \(result.stdout)")
        }
        #expect(!FileManager.default.fileExists(atPath: state.path + "/new"))

        // A journal that can be made in a directory that exists: the dry run plans and exits 0,
        // and does not make the journal.
        let fresh = state.path + "/fresh-journal.jsonl"
        let plan = try HostileRun.run(in: ns, ["reap", "--dry-run", "--min-age", "0", "--state-dir", state.path, "--journal", fresh])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("2 interfaces to delete."))
        #expect(!FileManager.default.fileExists(atPath: fresh))
        #expect(try ns.ip("-o", "link", "show").contains("dryj1"))
    }
}
