import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// HTML's `<br>` is a line break (round 46 F3): the only way to put several lines into a
/// Markdown table's cell, and what a web editor writes at each line's end. `netstat -nr -f inet`
/// pasted in one cell with `<br>` between its rows, or with `<br>` ending each row, is read as
/// those rows: a default into the gone ppp0 is critical. The old code took `<br>` for markup
/// that stands for nothing, glued the rows around it (`ppp0default`), and read none (unknown).
/// Numeric entities of blanks (`&#x20;`, `&#32;`) between a table's cells are blanks too.
@Suite struct CaptureLineBreakTagTests {
    @Test(arguments: ["round46/html-br-cell-ppp0.txt", "round46/html-br-lines-ppp0.txt", "round46/markdown-br-cell-ppp0.md"])
    func rowsPartedByLineBreakTagsAreRead(fixture: String) throws {
        let assessment = CapturePasteTests.assess(try CaptureProofTests.fixture(fixture), file: fixture)
        #expect(assessment.status == .critical, "\(fixture): \(assessment.findings.map(\.evidence))")
        #expect(assessment.findings.contains { $0.severity == .critical && $0.id == FindingID.splitDefault && $0.ifname == "ppp0" }, "\(fixture)")
    }

    /// A plain paste whose lines each end in `<br>`, and an HTML table whose cells are parted by
    /// `&#x20;`: utun5's split default, which the listing lacks, is critical.
    @Test(arguments: ["round46/br-line-ends-split-default.txt", "round46/html-hex-space-split-default.txt"])
    func rowsWithTagsOrEntitiesAtTheirEndsAreRead(fixture: String) throws {
        let assessment = CapturePasteTests.assess(try CaptureProofTests.fixture(fixture), file: fixture)
        #expect(CaptureLostIndentTests.isDeadSplitCritical(assessment), "\(fixture): \(assessment.findings.map(\.evidence))")
    }

    /// Each form of the tag is a line break; one that ends its line leaves the line count as it
    /// was. A flag list (`<BROADCAST,…>`) is no tag.
    @Test func eachFormOfTheTagBreaksTheLine() {
        #expect(CaptureText.withLineBreakTags("a<br>b<BR/>c<br />d") == "a\nb\nc\nd")
        #expect(CaptureText.withLineBreakTags("a <br>\nb<br/>  \nc") == "a\nb\nc")
        #expect(CaptureText.withLineBreakTags("en0: flags=8863<BROADCAST,UP> mtu 1500") == "en0: flags=8863<BROADCAST,UP> mtu 1500")
    }

    /// Numeric entities: a blank's between cells, any printable character's in a cell; a
    /// control character's stays as written.
    @Test func numericEntitiesAreDecoded() {
        #expect(CaptureText.withBlankEntities("a&#x20;b&#32;c") == "a b c")
        #expect(CaptureText.decodedEntities("0&#x2F;1 &#47; &#x27;x&#39; &#1; &amp;#39;") == "0/1 / 'x' &#1; &#39;")
    }
}
