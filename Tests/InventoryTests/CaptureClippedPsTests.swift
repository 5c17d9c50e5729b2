import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A ps listing is taken as every process only when the paste shows where ps ended: a prompt or
/// another command's output after its last row, or more rows than a part of a Mac's listing holds.
/// A mail client's clip note, a forum's "continued" note, or a paste that simply stops after a
/// few rows shows no such end, and a live ZeroTier pair whose zerotier-one is in the part not
/// shown must stay unknown, never be planned for `ifconfig … destroy` (review round 42, F1).
@Suite struct CaptureClippedPsTests {
    typealias Verdict = CaptureProofTests.Verdict

    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round42/\(name)") }

    /// The Gmail paste up to its last shown ps row: ifconfig with the pair, `% ps aux`, header
    /// and 11 rows (launchd first), zerotier-one not among them.
    static func rows() throws -> String {
        let text = try fixture("gmail-clipped.txt")
        let end = try #require(text.range(of: "\n\n[Message clipped]"))
        return String(text[..<end.lowerBound]) + "\n"
    }

    /// The feth pair is unknown with a reason that says the listing may be partial, and nothing
    /// is planned for it.
    static func expectUnknownPair(_ text: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let assessment = CapturePasteTests.assess(text)
        let verdict = Verdict(assessment)
        #expect(verdict.states.contains("feth9312 unknown") && verdict.states.contains("feth4312 unknown"), "\(label): \(verdict)", sourceLocation: sourceLocation)
        #expect(!verdict.findings.contains { $0.contains("orphaned-feth") }, "\(label): \(verdict)", sourceLocation: sourceLocation)
        #expect(verdict.status == .unknown && verdict.exit == 3, "\(label): \(verdict)", sourceLocation: sourceLocation)
        let reason = assessment.interfaces.first { $0.interface.name == "feth9312" }?.reason ?? ""
        #expect(reason.contains("partial"), "\(label): \(reason)", sourceLocation: sourceLocation)
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty, "\(label)", sourceLocation: sourceLocation)
    }

    /// The review's two pastes as they came.
    @Test func theClippedMailAndTheSplitCommentLeaveThePairUnknown() throws {
        for name in ["gmail-clipped.txt", "gh-continued.txt"] {
            Self.expectUnknownPair(try Self.fixture(name), name)
        }
    }

    /// Whatever the note after the last row says, in whatever language: a line that is no row and
    /// no prompt, with nothing after it, shows no end of ps's output.
    @Test func anyNoteThatEndsTheListingLeavesItPartial() throws {
        let rows = try Self.rows()
        let notes = ["[Message clipped]  View entire message", "[Message clipped]", "View entire message",
                     "[Mensaje recortado]  Ver todo el mensaje", "[Message tronqué]  Afficher l'intégralité du message",
                     "[メッセージの一部が表示されています]  メッセージ全体を表示", "(continued in next comment)", "[continued below]",
                     "-- output continues --", "Part 1/2", "(more)", "cont'd ↓", "Thanks for looking!"]
        for note in notes {
            Self.expectUnknownPair(rows + "\n" + note + "\n", note)
            Self.expectUnknownPair(rows + note + "\n\n", "\(note), no blank line")
        }
    }

    /// A listing that stops after a few rows, with its command line or without it, and with
    /// launchd among them (`ps aux` sorts by CPU, so launchd is often in the first rows).
    @Test func aFewRowsThatEndThePasteAreNoWholeListing() throws {
        Self.expectUnknownPair(try Self.fixture("headless-ps-head.txt"), "headless head -6")
        Self.expectUnknownPair(try Self.fixture("ps-ends-after-2-rows.txt"), "2 rows")
        let rows = try Self.rows()
        Self.expectUnknownPair(rows, "11 rows, paste ends")
        let headless = rows.replacingOccurrences(of: "jana@Janas-MBP ~ % ps aux\n", with: "")
        #expect(headless != rows)
        Self.expectUnknownPair(headless, "11 rows without the command line")
        Self.expectUnknownPair("```\n" + rows + "```\n", "in a closed code block")
    }

    /// The controls, which stay as they were: a prompt right after the rows, or the next command
    /// and its output, shows that ps ended, and a listing as long as a Mac's is taken as whole
    /// even when the paste ends with it. zerotier-one absent from such a listing: orphaned.
    @Test func aShownEndOrAWholeSizedListingStillProvesTheOwnerAbsent() throws {
        let rows = try Self.rows()
        let filler = (0..<120).map { "jana             \(2000 + $0)   0.0  0.1 408123456   8123   ??  S     8:03AM   0:00.\(String(format: "%02d", $0 % 100)) /usr/libexec/helper\($0)\n" }.joined()
        let closed = [("prompt after", rows + "jana@Janas-MBP ~ % \n"),
                      ("next command", rows + "jana@Janas-MBP ~ % date\nSun Dec  6 08:15:02 CET 2026\n"),
                      ("120 more rows, paste ends", rows + filler),
                      ("120 more rows in a code block", "```\n" + rows + filler + "```\n"),
                      ("120 more rows, then markup", "<details>\n\n" + rows + filler + "\n</details>\n")]
        for (label, text) in closed {
            let assessment = CapturePasteTests.assess(text)
            let verdict = Verdict(assessment)
            #expect(verdict.states.contains("feth9312 orphaned") && verdict.states.contains("feth4312 orphaned"), "\(label): \(verdict)")
            #expect(CaptureTuntaposxTests.plan(assessment).items.count == 2, "\(label)")
        }
        // A long listing that a note ends is partial all the same.
        Self.expectUnknownPair(rows + filler + "\n[Message clipped]  View entire message\n", "120 more rows, then the clip note")
    }

    /// zerotier-one among the rows shown: the pair is live, clipped paste or not.
    @Test func theOwnerShownIsLiveWhateverFollows() throws {
        let row = "root               402   2.8  0.5 432436494  62531   ??  Ss    8:02AM   0:53.91 /Library/Application Support/ZeroTier/One/zerotier-one\n"
        for tail in ["", "\n[Message clipped]  View entire message\n", "(continued in next comment)\n"] {
            let verdict = CaptureProofTests.verdict(try Self.rows() + row + tail)
            #expect(verdict.states.contains("feth9312 live") && verdict.states.contains("feth4312 live"), "\(tail): \(verdict)")
        }
    }

    /// The reason quotes the mark the paste holds, not a `...` it lacks (F6d).
    @Test func theReasonQuotesTheMarkSeen() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("ps-message-truncated.txt"))
        let reason = try #require(assessment.interfaces.first { $0.interface.name == "feth9312" }).reason
        #expect(reason.contains("'[Message truncated]'") && !reason.contains("('...')"), "\(reason)")
        let dots = CapturePasteTests.assess(try Self.rows() + "...\n" + "jana@Janas-MBP ~ % \n")
        let dotted = try #require(dots.interfaces.first { $0.interface.name == "feth9312" }).reason
        #expect(dotted.contains("'...'"), "\(dotted)")
    }
}
