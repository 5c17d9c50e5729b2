import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A listing saved to a file (`> FILE`, `| tee FILE`, `| pbcopy`) and shown later (`cat`, `grep
/// … FILE`, `pbpaste`) is of the moment it was saved at, not of the line that shows it: its
/// `closed` says nothing of routes read after a change, and its lsof rows tie no holder to
/// units listed after a kill.
@Suite struct CaptureSavedFileTests {
    /// The reviewer's pastes: an lsof saved before `sudo killall -9 nesessionmanager`, and an
    /// `ifconfig -a` saved before `open -a Tunnelblick`, each shown after the change.
    @Test func theReviewersSavedListingsPlanNothing() throws {
        let lsof = try CaptureProofTests.fixture("saved-lsof-before-killall-cat.txt")
        #expect(!CaptureProofTests.verdict(lsof).findings.contains("warning utun-hoard -"), "\(CaptureProofTests.verdict(lsof))")
        #expect(CaptureHoardTests.reapCommands(lsof).isEmpty)
        try CaptureShellSyntaxTests.expectNothingPlanned(try CaptureProofTests.fixture("saved-ifconfig-before-open-cat.txt"), "saved ifconfig")
    }

    /// Other ways to save the listing and show it back after the change.
    @Test(arguments: [
        ("ifconfig -a | tee ~/if-before.txt > /dev/null", "cat ~/if-before.txt"), ("ifconfig -a > ~/if-before.txt", "grep -A2 tun0 ~/if-before.txt"),
        ("ifconfig -a | pbcopy", "pbpaste"),
    ] as [(String, String)])
    func aListingSavedBeforeAChangeIsOfItsMoment(save: String, show: String) throws {
        let text = try CaptureProofTests.fixture("saved-ifconfig-before-open-cat.txt")
            .replacingOccurrences(of: "bob$ ifconfig -a > ~/if-before.txt\n", with: "bob$ \(save)\n")
            .replacingOccurrences(of: "bob$ cat ~/if-before.txt\n", with: "bob$ \(show)\n")
        #expect(text.contains(save) && text.contains(show))
        try CaptureShellSyntaxTests.expectNothingPlanned(text, save)
    }

    /// The control: saved and shown with no change between, the listing is of the routes' moment
    /// and `closed` stands.
    @Test func aListingSavedWithNoChangeSinceStands() throws {
        let text = try CaptureProofTests.fixture("saved-ifconfig-before-open-cat.txt")
            .replacingOccurrences(of: "MacBook-Pro:~ bob$ open -a Tunnelblick\n", with: "")
        try CaptureShellSyntaxTests.expectClosedStands(text, "no change")
    }
}
