import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// The state database is read back as input from outside: numbers in it are checked before use.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct StateFileBoundsTests {
    /// Numbers in the state beyond what tunwarden writes (a count of -2^63, a reaped total of
    /// 2^63-1) made `history` and the leak-growth judgement overflow, and a reap overflow after it
    /// had deleted. The database's CHECK constraints refuse them; put there all the same (by a
    /// hand at the file), they make it damaged: `history` and `reap` stop with exit 3 before
    /// acting, `audit` moves it aside and starts afresh.
    @Test func outOfRangeNumbersInTheStateMakeItDamaged() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "stnum0", "mode", "tun")
        #expect(try HostileRun.run(in: ns, ["audit", "--state-dir", state.path]).status == 1)
        try StateSQL.execute(state.path, "PRAGMA ignore_check_constraints = ON; INSERT INTO counts (namespace, time, count) SELECT id, 1767225600, -9223372036854775808 FROM namespaces")
        let history = try HostileRun.run(in: ns, ["history", "--state-dir", state.path])
        #expect(history.status == 3 && !history.signalled, "status \(history.status), stderr: \(history.stderr)")
        // SQLite's own check (history runs it) finds the constraint broken before tunwarden's bounds do.
        #expect(history.stderr.contains("state.db: is not a valid tunwarden state database (CHECK constraint failed in counts)"), "\(history.stderr)")
        let audit = try HostileRun.run(in: ns, ["audit", "--state-dir", state.path])
        #expect(audit.status == 1 && !audit.signalled, "status \(audit.status), stderr: \(audit.stderr)")
        #expect(audit.stderr.contains("moved to"), "\(audit.stderr)")

        try StateSQL.execute(state.path, "PRAGMA ignore_check_constraints = ON; UPDATE namespaces SET reaped_total = 9223372036854775807")
        let reap = try HostileRun.run(in: ns, ["reap", "--yes", "--min-age", "0", "--state-dir", state.path])
        #expect(reap.status == 3 && !reap.signalled, "status \(reap.status), stderr: \(reap.stderr)")
        #expect(reap.stderr.contains("is not a valid tunwarden state database (CHECK constraint failed in namespaces)"), "\(reap.stderr)")
        #expect(try ns.ip("link", "show", "stnum0").contains("stnum0"), "reaped on a damaged state")
    }
}
