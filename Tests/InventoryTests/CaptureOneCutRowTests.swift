import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A ps listing cut at the terminal's width in which only ZeroTier's row reaches the cut
/// (`/Library/Application`) cannot show ZeroTier is not running (round 41 F8): its feth pair is
/// unknown, and no `ifconfig fethN destroy` is planned.
@Suite struct CaptureOneCutRowTests {
    static let cutRow = "  312     1 root             Sat Dec  5 09:58:12 2026     /Library/Application"

    @Test(arguments: [cutRow, cutRow + " Supp", "  312     1 root    Sat Dec  5 09:58:12 2026     /Library/Application Support/ZeroTier/On"])
    func aLoneCutRowOfZeroTierPlansNothing(row: String) throws {
        let text = try CaptureLsofColumnTests.fixture("zt-ps-lstart-onecut.txt").replacingOccurrences(of: Self.cutRow, with: row)
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(commands.isEmpty, "'\(row)': \(commands)")
        let verdict = CaptureProofTests.verdict(text)
        #expect(verdict.states.contains("feth4017 unknown") && verdict.states.contains("feth9017 unknown"), "\(verdict)")
    }

    /// The control: the same listing with another program in that row shows ZeroTier is not
    /// running, and the pair is planned for removal.
    @Test func anotherProgramInTheRowLeavesThePairOrphaned() throws {
        let text = try CaptureLsofColumnTests.fixture("zt-ps-lstart-onecut.txt")
            .replacingOccurrences(of: Self.cutRow, with: "  312     1 root             Sat Dec  5 09:58:12 2026     /usr/sbin/cfprefsd") + "$ \n"
        #expect(CaptureHoardTests.reapCommands(text).contains("ifconfig feth4017 destroy"))
    }
}
