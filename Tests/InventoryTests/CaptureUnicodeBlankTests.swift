import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Blanks and line breaks beyond ASCII that word processors, mail and chat put into a paste
/// (round 41, MINOR 9): until then U+202F made the whole routing table unreadable, and the
/// capture's critical split default into a gone utun7 was invisible, status OK.
@Suite struct CaptureUnicodeBlankTests {
    /// NARROW NO-BREAK SPACE between columns, NEXT LINE between lines: the table is read, and the
    /// blackholed default is critical, as in the capture without them.
    @Test(arguments: ["v-nnbsp.txt", "v-nel.txt"])
    func theTableIsReadAndTheDefaultIntoAGoneUtunIsCritical(fixture: String) throws {
        let verdict = CaptureProofTests.verdict(try CaptureLsofColumnTests.fixture(fixture))
        #expect(verdict.status == .critical && verdict.exit == 2, "\(fixture): \(verdict)")
        #expect(verdict.findings.contains { $0.hasPrefix("critical") && $0.contains("utun7") }, "\(fixture): \(verdict)")
    }

    /// Each of the other blanks separates columns as a space does.
    @Test(arguments: ["\u{2000}", "\u{2002}", "\u{2003}", "\u{2007}", "\u{2009}", "\u{200A}", "\u{202F}", "\u{205F}", "\u{3000}", "\u{00A0}"])
    func everyUnicodeBlankSeparatesWords(blank: String) {
        let text = CaptureText(file: "paste", text: "utun7:\(blank)flags=8051<UP>\(blank)mtu\(blank)1380\n")
        #expect((0..<text.count).map { String(text[$0]) } == ["utun7:", "flags=8051<UP>", "mtu", "1380"], "\(blank.unicodeScalars.first!.value)")
    }

    /// NEXT LINE ends a line as a line feed does: the words after it are on the next line.
    @Test func nextLineEndsALine() {
        let text = CaptureText(file: "paste", text: "ifconfig -a\u{0085}utun7: flags=8051<UP> mtu 1380\n")
        #expect((0..<text.count).map { String(text[$0]) } == ["ifconfig", "-a", "utun7:", "flags=8051<UP>", "mtu", "1380"])
        #expect(text.startsLine(2))
    }
}
