import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A listing pasted without its command line is of the moment its blocks were read at, not of
/// the one a stamp or a line of prose after it started (round 46 F2,
/// `Fixtures/darwin-pastes/round46`): the routes after that line are of another moment.
@Suite struct CaptureBareListingMomentTests {
    /// Listings pasted without their command lines, parted by a script's stamp or by
    /// "After connecting the VPN:" between code blocks: the routes are of another moment than
    /// the listing, so utun5's split default is unknown. The old code recorded the listing at
    /// the routes' moment when its section ended, and called it critical.
    @Test(arguments: ["round46/bare-stamps-split-default.txt", "round46/bare-after-connecting-split-default.md"])
    func aListingWithoutItsCommandLineIsOfItsOwnMoment(fixture: String) throws {
        let assessment = CapturePasteTests.assess(try CaptureProofTests.fixture(fixture), file: fixture)
        #expect(assessment.status == .unknown, "\(fixture): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(fixture)")
        #expect((assessment.snapshot.readingNotes + assessment.snapshot.readingProblems).contains { $0.contains("stands between two listings") }, "\(fixture)")
    }

    /// The control: the same script's output without the stamp between is one moment.
    @Test func withoutTheStampTheBareListingsAreOneMoment() throws {
        let text = try CaptureProofTests.fixture("round46/bare-stamps-split-default.txt")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let second = try #require(lines.lastIndex { $0.hasPrefix("=== ") })
        let joined = (lines[..<second] + lines[(second + 1)...]).joined(separator: "\n")
        #expect(CapturePasteTests.assess(joined).status == .critical)
    }
}
