import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// The state file is read back as input from outside: numbers in it are checked before use.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct StateFileBoundsTests {
    /// Numbers in the state file beyond what tunwarden writes (a count of -2^63, a reaped total of
    /// 2^63-1) made `history` and the leak-growth judgement overflow, and a reap overflow after it
    /// had deleted. Such a file is damaged: `history` and `reap` stop with exit 3 before acting,
    /// `audit` moves it aside and starts afresh.
    @Test func outOfRangeNumbersInTheStateFileMakeItDamaged() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "stnum0", "mode", "tun")
        #expect(try HostileRun.run(in: ns, ["audit", "--state-dir", state.path]).status == 1)
        let path = state.path + "/state.json"
        func rewrite(_ change: (inout [String: Any]) -> Void) throws {
            var history = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            var histories = try #require(history["histories"] as? [String: [String: Any]])
            let key = try #require(histories.keys.first)
            var entry = try #require(histories[key])
            change(&entry)
            histories[key] = entry
            history["histories"] = histories
            try JSONSerialization.data(withJSONObject: history).write(to: URL(fileURLWithPath: path))
        }
        try rewrite { $0["counts"] = [["time": "2026-01-01T00:00:00Z", "count": Int.min], ["time": "2026-01-01T00:01:00Z", "count": 5]] }
        let history = try HostileRun.run(in: ns, ["history", "--state-dir", state.path])
        #expect(history.status == 3 && !history.signalled, "status \(history.status), stderr: \(history.stderr)")
        #expect(history.stderr.contains("a tunnel count in the history of"), "\(history.stderr)")
        #expect(history.stderr.contains("is -9223372036854775808, outside 0 to 2147483647"), "\(history.stderr)")
        let audit = try HostileRun.run(in: ns, ["audit", "--state-dir", state.path])
        #expect(audit.status == 1 && !audit.signalled, "status \(audit.status), stderr: \(audit.stderr)")
        #expect(audit.stderr.contains("moved to"), "\(audit.stderr)")

        try rewrite { $0["reaped_total"] = Int.max }
        let reap = try HostileRun.run(in: ns, ["reap", "--yes", "--min-age", "0", "--state-dir", state.path])
        #expect(reap.status == 3 && !reap.signalled, "status \(reap.status), stderr: \(reap.stderr)")
        #expect(reap.stderr.contains("the reaped total"), "\(reap.stderr)")
        #expect(try ns.ip("link", "show", "stnum0").contains("stnum0"), "reaped on a damaged state file")
    }
}
