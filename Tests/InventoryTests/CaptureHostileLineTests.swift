import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// `--from -` reads whatever is piped in: a command line of thousands of nested substitutions
/// (`echo "$(echo "$(echo …`) must neither overflow the stack nor take minutes. Beyond a few
/// levels the words are ones tunwarden cannot follow, which may change the tables.
@Suite struct CaptureHostileLineTests {
    static func nested(_ open: String, _ close: String, _ levels: Int) -> String {
        "jane@MacBook-Pro ~ % echo " + String(repeating: open, count: levels) + "x" + String(repeating: close, count: levels) + "\n"
    }

    /// Seconds `body` took.
    static func seconds(_ body: () -> Void) -> Double {
        let start = Date()
        body()
        return Date().timeIntervalSince(start)
    }

    /// The reviewer's crash: 2,000 nested `"$(echo ` before the hoard session. Read, not crashed,
    /// and the hoard after it still read.
    @Test func twoThousandNestedSubstitutionsDoNotCrash() throws {
        let text = Self.nested("\"$(echo ", ")\"", 2_000) + (try CaptureProofTests.fixture("nesession-hoard-shared-unit.txt"))
        var verdict: CaptureProofTests.Verdict?
        let took = Self.seconds { verdict = CaptureProofTests.verdict(text) }
        #expect(verdict?.findings.contains { $0.hasPrefix("warning utun-hoard") } == true, "\(String(describing: verdict))")
        #expect(took < 10, "\(took) s")
    }

    /// Deep nesting is words tunwarden cannot follow: it may change the tables, whatever the
    /// innermost command is.
    @Test func deepNestingMayChangeTheTables() {
        let words = ["echo"] + Array(repeating: "\"$(echo", count: 50) + ["x" + String(repeating: ")\"", count: 50)]
        #expect(ShellCommand.mayChangeTables(line: words))
        // A few levels are followed: an echo in an echo changes nothing; `open -a` in one does.
        #expect(!ShellCommand.mayChangeTables(line: ["echo", "\"$(echo", "\"$(echo", "x)\")\""]))
        #expect(ShellCommand.mayChangeTables(line: ["echo", "\"$(echo", "\"$(open", "-a", "Tunnelblick)\")\""]))
    }

    /// Large hostile lines finish in time linear in their size: 50,000 `$(`, 20,000 `$((`,
    /// 20,000 `<(cat `, 20,000 `"$(echo `, and a word of 20,000 `'a';`.
    @Test(arguments: [("$(", ")", 50_000), ("$((", "))", 20_000), ("<(cat ", ")", 20_000), ("\"$(echo ", ")\"", 20_000), ("'a';", "", 20_000)])
    func largeHostileLinesFinishQuickly(open: String, close: String, levels: Int) {
        let text = Self.nested(open, close, levels) + "jane@MacBook-Pro ~ % ifconfig -a\nlo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384\n"
        let took = Self.seconds { _ = CaptureProofTests.verdict(text) }
        #expect(took < 15, "\(open) ×\(levels): \(took) s")
    }
}
