import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// Numbers from the command line and the configuration file that once crashed tunwarden (a Swift
/// trap, exit 132) or slipped through unchecked: each is refused with exit 64 and a message naming
/// the value and the range allowed, before anything is inspected. Every run names a namespace that
/// does not exist, so even a regression never inspects or changes this host.
@Suite struct OptionBoundsTests {
    @Test(arguments: [
        (["audit", "--limit", "9223372036854775807"], "--limit must be from 1 to 1000000; got 9223372036854775807"),
        (["audit", "--limit", "0"], "--limit must be from 1 to 1000000; got 0"),
        (["audit", "--warn", "9223372036854775807"], "--warn must be from 1 to 1000000; got 9223372036854775807"),
        (["audit", "--growth", "9223372036854775807"], "--growth must be from 1 to 1000000"),
        (["audit", "--growth-window", "99999999999999999999d"], "--growth-window must be at most 36500d (100 years); got '99999999999999999999d'"),
        (["reap", "--dry-run", "--min-age", "36501d"], "--min-age must be at most 36500d (100 years); got '36501d'"),
        (["reap", "--dry-run", "--min-age", "99999999999999999999d"], "--min-age must be at most 36500d (100 years); got '99999999999999999999d'"),
        (["reap", "--dry-run", "--min-age", "inf"], "--min-age takes a duration like"),
        (["reap", "--dry-run", "--min-age", "0x10m"], "--min-age takes a duration like"),
        (["watch", "--stats-interval", "1e3s"], "--stats-interval takes a duration like"),
        (["watch", "--stats-interval", "36501d"], "--stats-interval must be at most 36500d"),
        (["watch", "--min-age", "36501d"], "--min-age must be at most 36500d"),
        (["watch", "--limit", "9223372036854775807"], "--limit must be from 1 to 1000000"),
        (["watch", "--event-buffer", "9223372036854775807"], "--event-buffer must be from 1024 to 1073741824; got 9223372036854775807"),
        (["watch", "--coalesce", "60001"], "--coalesce must be from 0 to 60000; got 60001"),
        (["reap", "--dry-run", "--min-age", "15"], "--min-age needs a unit; got '15': write 15s, 15m, 15h or 15d"),
        (["audit", "--growth-window", "90"], "--growth-window needs a unit; got '90': write 90s, 90m, 90h or 90d"),
        (["watch", "--stats-interval", "30"], "--stats-interval needs a unit; got '30'"),
        (["watch", "--reap", "--min-age", "15"], "--min-age needs a unit; got '15'"),
    ] as [([String], String)])
    func outOfRangeOptionsAreUsageErrors(arguments: [String], message: String) throws {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let extra = arguments.contains("--state-dir") ? [] : ["--state-dir", state.path]
        let result = try HostileRun.run(["--netns", HostileRun.missingNamespace] + arguments + extra, timeout: 10)
        #expect(result.status == 64 && !result.signalled, "\(arguments): status \(result.status), stderr: \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): stderr was: \(result.stderr)")
    }

    /// 0 is the one duration that needs no unit, on the command line and in the file.
    @Test func zeroNeedsNoUnit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = directory.path + "/tunwarden.conf"
        try Data("min-age: 0\n".utf8).write(to: URL(fileURLWithPath: config))
        let result = try HostileRun.run(["--config", config, "--netns", HostileRun.missingNamespace, "reap", "--dry-run", "--min-age", "0",
                                         "--state-dir", directory.path], timeout: 10)
        #expect(result.status != 64, "\(result.stderr)")
        #expect(!result.stderr.contains("needs a unit"), "\(result.stderr)")
    }

    @Test func historyChecksItsWindowToo() throws {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let result = try HostileRun.run(["history", "--state-dir", state.path, "--growth-window", "36501d"], timeout: 10)
        #expect(result.status == 64)
        #expect(result.stderr.contains("--growth-window must be at most 36500d (100 years); got '36501d'"), "\(result.stderr)")
    }

    @Test(arguments: [
        ("reap:\n  min-age: 36501d\n", "reap.min-age': must be at most 36500d (100 years); got '36501d'"),
        ("min-age: 99999999999999999999d\n", "'min-age': must be at most 36500d (100 years); got '99999999999999999999d'"),
        ("watch:\n  stats-interval: 36501d\n", "'watch.stats-interval': must be at most 36500d"),
        ("growth-window: 99999999999999999999d\n", "'growth-window': must be at most 36500d"),
        ("limit: 9223372036854775807\n", "'limit': must be from 1 to 1000000; got 9223372036854775807"),
        ("min-age: 15\n", "'min-age': needs a unit; got '15': write 15s, 15m, 15h or 15d"),
        ("reap:\n  min-age: 15\n", "'reap.min-age': needs a unit; got '15'"),
        ("growth-window: 90\n", "'growth-window': needs a unit; got '90'"),
    ])
    func outOfRangeSettingsInTheFileAreUsageErrors(text: String, message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = directory.path + "/tunwarden.conf"
        try Data(text.utf8).write(to: URL(fileURLWithPath: config))
        for command in [["reap", "--dry-run"], ["audit"], ["watch"]] {
            let result = try HostileRun.run(["--config", config, "--netns", HostileRun.missingNamespace] + command + ["--state-dir", directory.path], timeout: 10)
            #expect(result.status == 64 && !result.signalled, "\(command) with \(text): status \(result.status), stderr: \(result.stderr)")
            #expect(result.stderr.contains(message), "\(command) with \(text): \(result.stderr)")
        }
    }
}

/// The crashes themselves, in throwaway namespaces where the values used to reach arithmetic.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct OptionBoundsKernelTests {
    /// A grace period too long to format crashed the dry run's "is due … (in …)" line.
    @Test func anEnormousMinimumAgeIsRefusedBeforeItCanCrashThePlan() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "huge0", "mode", "tun")
        for age in ["36501d", "99999999999999999999d"] {
            let result = try HostileRun.run(in: ns, ["reap", "--dry-run", "--state-dir", state.path, "--min-age", age])
            #expect(result.status == 64 && !result.signalled, "--min-age \(age): status \(result.status), stderr: \(result.stderr)")
            let config = state.path + "/tunwarden.conf"
            try Data("reap:\n  min-age: \(age)\n".utf8).write(to: URL(fileURLWithPath: config))
            let fromFile = try HostileRun.run(in: ns, ["--config", config, "reap", "--dry-run", "--state-dir", state.path])
            #expect(fromFile.status == 64 && !fromFile.signalled, "min-age: \(age) in the file: status \(fromFile.status), stderr: \(fromFile.stderr)")
        }
        // The longest grace period allowed plans, and says when in plain words.
        let longest = try HostileRun.run(in: ns, ["reap", "--dry-run", "--state-dir", state.path, "--min-age", "36500d"])
        #expect(longest.status == 0, "\(longest.stderr)")
        #expect(longest.stdout.contains("huge0 is due at"))
        #expect(try ns.ip("link", "show", "huge0").contains("huge0"))
    }

    @Test func aHugeLimitIsRefusedBeforeTheCountIsJudged() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "lim0", "mode", "tun")
        let result = try HostileRun.run(in: ns, ["audit", "--state-dir", state.path, "--limit", "9223372036854775807"])
        #expect(result.status == 64 && !result.signalled, "status \(result.status), stderr: \(result.stderr)")
        #expect(try HostileRun.run(in: ns, ["audit", "--state-dir", state.path, "--limit", "1000000"]).status == 1)
    }
}
