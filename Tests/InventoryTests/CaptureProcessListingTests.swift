import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Several process listings in one paste: whatever their order, a whole one (`ps auxww | grep`)
/// settles what a cut one (`ps aux | grep`, whose rows ps may have cut at the terminal's width)
/// left open, when both were taken at the feth pair's moment; one taken after a command that may
/// start or stop processes settles nothing of that moment.
@Suite struct CaptureProcessListingTests {
    typealias Verdict = CaptureProofTests.Verdict

    static let cut = "MacBook-Air:~ alex$ ps aux | grep -i zerotier\nalex              2231   0.0  0.0  4268040    820 s000  S+    9:41PM   0:00.00 grep -i zerotier\n"
    static let whole = "MacBook-Air:~ alex$ ps auxww | grep -i zerotier\nalex              2240   0.0  0.0  4268040    812 s000  S+    9:41PM   0:00.00 grep -i zerotier\n"

    /// The Mojave paste before its two listings: ifconfig with a ZeroTier pair, and netstat.
    static func listings() throws -> String {
        let text = try CaptureProofTests.fixture("zerotier-ps-cut-then-whole.txt")
        #expect(text.hasSuffix(Self.cut + Self.whole + "MacBook-Air:~ alex$ \n"))
        return String(text.dropLast((Self.cut + Self.whole + "MacBook-Air:~ alex$ \n").count))
    }

    /// ZeroTier crashed on Mojave: `ps aux | grep -i zerotier` shows only the grep, but its rows
    /// may be cut; `ps auxww | grep -i zerotier` on the next line shows the same, whole.
    @Test func aWholeListingSettlesACutOne() throws {
        let text = try CaptureProofTests.fixture("zerotier-ps-cut-then-whole.txt")
        let verdict = CaptureProofTests.verdict(text)
        #expect(verdict.status == .warning, "\(verdict)")
        #expect(verdict.exit == 1)
        #expect(verdict.findings == ["info capture-missing -", "warning dead-tunnel-route feth2466", "warning orphaned-feth feth2466", "warning orphaned-feth feth7466"], "\(verdict)")
        #expect(verdict.states == ["feth2466 orphaned", "feth7466 orphaned", "utun0 live"], "\(verdict)")
        let plan = CapturePasteTests.assess(text).findings.filter { $0.id == FindingID.orphanedFeth }.map(\.evidence)
        #expect(plan.contains { $0.hasSuffix("ifconfig feth7466 destroy") } && plan.contains { $0.hasSuffix("ifconfig feth2466 destroy") })

        let listings = try Self.listings()
        let end = "MacBook-Air:~ alex$ \n"
        #expect(CaptureProofTests.verdict(listings + Self.whole + Self.cut + end) == verdict, "the other order")
        #expect(CaptureProofTests.verdict(listings + Self.whole + end) == verdict, "the whole one alone")
        #expect(CaptureProofTests.verdict(listings + Self.cut + Self.whole + Self.cut + end) == verdict, "a cut one on either side")
        // The control: the cut one alone leaves ZeroTier unknown.
        let cutAlone = CaptureProofTests.verdict(listings + Self.cut + end)
        #expect(cutAlone.status == .unknown, "\(cutAlone)")
        #expect(cutAlone.states.contains("feth7466 unknown"), "\(cutAlone)")
    }

    /// A whole listing taken after a command that may have stopped ZeroTier speaks of another
    /// moment than the pair's listing: it settles nothing, before or after the cut one.
    @Test func aWholeListingOfAnotherMomentSettlesNothing() throws {
        let listings = try Self.listings()
        let stop = "MacBook-Air:~ alex$ sudo launchctl unload /Library/LaunchDaemons/com.zerotier.one.plist\n"
        for text in [listings + Self.cut + stop + Self.whole, listings + stop + Self.whole + Self.cut] {
            let verdict = CaptureProofTests.verdict(text)
            #expect(!verdict.findings.contains { $0.contains("orphaned-feth") }, "\(verdict)")
            #expect(verdict.states.contains("feth7466 unknown"), "\(verdict)")
        }
    }

    /// ZeroTier runs: the cut listing shows its row cut before its name, the whole one in full.
    /// The cut row does not take the whole one's place, in either order.
    @Test func aCutRowDoesNotHideTheWholeOne() throws {
        let listings = try Self.listings()
        let cutRow = "MacBook-Air:~ alex$ ps aux | grep -i zerotier\nroot                88   0.3  0.1  4312000   9000   ??  Ss    9:02PM   0:04.11 /Library/Application Support/ZeroTier/On\n"
        let wholeRow = "MacBook-Air:~ alex$ ps auxww | grep -i zerotier\nroot                88   0.3  0.1  4312000   9000   ??  Ss    9:02PM   0:04.11 /Library/Application Support/ZeroTier/One/zerotier-one\n"
        for (label, text) in [("cut first", listings + cutRow + wholeRow), ("whole first", listings + wholeRow + cutRow)] {
            let verdict = CaptureProofTests.verdict(text)
            #expect(verdict.states.contains("feth7466 live") && verdict.states.contains("feth2466 live"), "\(label): \(verdict)")
        }
    }
}
