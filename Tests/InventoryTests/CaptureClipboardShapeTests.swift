import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// What a web page or an app does to a paste on its way (round 49): typographic quotes where the
/// shell had ASCII ones (f3, `grep ‘utun_control’` copied from a blog), and classic-Mac line ends,
/// lone carriage returns, on the clipboard (f4). Each paste reads as the same output pasted
/// plainly. The pastes are in `Fixtures/darwin-pastes/round49`.
@Suite struct CaptureClipboardShapeTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round49/\(name)") }

    /// The hoard's lsof command, pasted as a web page renders it, lists every utun control socket
    /// as the ASCII-quoted one does: the idle units are known idle, and their routes reapable.
    @Test func typographicQuotesAroundAGrepPatternAreTheShellsQuotes() throws {
        let smart = try Self.fixture("hoard-smart-quotes.txt")
        let plain = smart.replacingOccurrences(of: "‘utun_control’", with: "'utun_control'")
        for text in [smart, smart.replacingOccurrences(of: "‘utun_control’", with: "“utun_control”")] {
            let hoard = try #require(CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard })
            #expect(hoard.reapable && hoard.evidence.contains("9 of them idle"), "\(hoard.evidence)")
            #expect(!hoard.evidence.contains("may have filtered out"), "\(hoard.evidence)")
        }
        let reference = try #require(CapturePasteTests.assess(plain).findings.first { $0.id == FindingID.utunHoard })
        let read = try #require(CapturePasteTests.assess(smart).findings.first { $0.id == FindingID.utunHoard })
        #expect(read.routes == reference.routes && read.severity == reference.severity)
    }

    /// Only quotes that pair around words on one line are the shell's: an apostrophe in a word, a
    /// quote with no partner, and one that closes nothing stay as they are.
    @Test func onlyPairedQuotesAroundWordsAreStraightened() {
        #expect(CaptureText.withStraightQuotes("sudo lsof -nP | grep ‘utun_control’|wc -l") == "sudo lsof -nP | grep 'utun_control'|wc -l")
        #expect(CaptureText.withStraightQuotes("grep -E “utun|ipsec” x; ps -o comm=“”") == "grep -E \"utun|ipsec\" x; ps -o comm=\"\"")
        #expect(CaptureText.withStraightQuotes("/Applications/Bob’s VPN.app/Contents/MacOS/Bob’s VPN") == "/Applications/Bob’s VPN.app/Contents/MacOS/Bob’s VPN")
        #expect(CaptureText.withStraightQuotes("grep ‘utun\nx’") == "grep ‘utun\nx’")
        #expect(CaptureText.withStraightQuotes("a‘b’ ‘c") == "a‘b’ ‘c")
        #expect(CaptureText.withStraightQuotes("grep ‘a’\r\ngrep ‘b’\r\n") == "grep 'a'\r\ngrep 'b'\r\n")
    }

    /// The feth paste with classic-Mac line ends reads as with line feeds: the prompt after `ps`
    /// is seen, and both ZeroTier pairs are orphaned (a warning), not unknown.
    @Test func loneCarriageReturnsAreLineEnds() throws {
        let text = try Self.fixture("feth-cr-only.txt")
        #expect(!text.contains("\n") && text.contains("\r"))
        let assessment = CapturePasteTests.assess(text)
        let orphaned = assessment.interfaces.filter { $0.state == .orphaned }.map(\.interface.name)
        #expect(Set(orphaned) == ["feth7481", "feth2481", "feth5248", "feth248"], "\(assessment.interfaces.map { "\($0.interface.name) \($0.state): \($0.reason)" })")
        #expect(assessment.status == .warning)
        let lines = CaptureText(file: "paste.txt", text: text).lineCount
        #expect(lines == CaptureText(file: "paste.txt", text: text.replacingOccurrences(of: "\r", with: "\n")).lineCount && lines > 60)
    }

    /// Carriage returns beside line feeds keep their meaning: CRLF and a typescript's `\r\r\n`
    /// are line ends once, never twice.
    @Test func carriageReturnsBesideLineFeedsStayAsTheyWere() {
        #expect(CaptureText.withClassicLineEnds("a\r\nb\r\r\n") == "a\r\nb\r\r\n")
        #expect(CaptureText.withClassicLineEnds("a\rb\r") == "a\nb\n")
        #expect(CaptureText.withClassicLineEnds("a\rb\u{85}c") == "a\rb\u{85}c")
    }
}
