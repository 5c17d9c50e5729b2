import Foundation
import Testing
@testable import Inventory
import TunwardenCore

/// Pastes as editors save them: TextEdit's RTF (its default format), and lines that end in a
/// backslash (Markdown's hard break, an RTF copied as its source). Each must read as the plain
/// text does; a routing table that cannot be read must never pass for one with no routes.
@Suite struct CaptureEditorFormatTests {
    static func data(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/darwin-pastes/\(name)", withExtension: nil))
        return try Data(contentsOf: url)
    }

    /// What a user relies on: status, findings, and the plan's commands.
    static func outcome(_ assessment: Assessment) -> (String, [String], [String]) {
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: assessment.snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        return ("\(assessment.status)", assessment.findings.map { "\($0.severity) \($0.id) \($0.ifname ?? "")" }.sorted(),
                plan.items.flatMap(DarwinCommands.reap).map { $0.joined(separator: " ") })
    }

    /// TextEdit's RTF of a session with a dead split default into a gone utun7, and of a closed
    /// tun0's: the same status, findings and plan as the plain text (CRITICAL, not OK).
    @Test(arguments: [("textedit-gone-utun7-split.rtf", "gone-utun7-split.txt"), ("textedit-tun0-closed.rtf", "tun0-closed-nops.txt"),
                      ("hard-breaks-gone-utun7-split.txt", "gone-utun7-split.txt")])
    func anEditorsPasteReadsAsThePlainText(saved: String, plain: String) throws {
        let expected = Self.outcome(CapturePasteTests.assess(data: try Self.data(plain)))
        let read = Self.outcome(CapturePasteTests.assess(data: try Self.data(saved)))
        #expect(read.0 == expected.0 && read.1 == expected.1 && read.2 == expected.2, "\(read) vs \(expected)")
        #expect(expected.0 == "critical", "\(expected)")
        #expect(!read.2.isEmpty)
    }

    /// The RTF reader: header groups left out, `\` before a line end (LF or CRLF) a line break,
    /// escapes unescaped, `\'xx` in the document's code page, `\uN` with its fallback skipped,
    /// a surrogate pair joined.
    @Test func theTextOfAnRTFDocument() {
        let rtf = "{\\rtf1\\ansi\\ansicpg1252\\cocoartf2761\r\n\\cocoatextscaling0\\cocoaplatform0{\\fonttbl\\f0\\fswiss\\fcharset0 Helvetica;}\r\n"
            + "{\\colortbl;\\red255\\green255\\blue255;}\r\n{\\*\\expandedcolortbl;;}\r\n\\pard\\tx566\\pardirnatural\\partightenfactor0\r\n\r\n"
            + "\\f0\\fs24 \\cf0 caf\\'e9 \\{x\\} a\\\\b \\uc0\\u26085 \\u26412  \\u-10179 \\u-8704 \\\r\nnext\\tab col\\\n"
            + "\\uc1\\u8217 ?s end\\\n}"
        #expect(CaptureRTF.isRTF(Array(rtf.utf8)))
        #expect(CaptureRTF.plainText(Array(rtf.utf8)) == "café {x} a\\b 日本 😀\nnext\tcol\n’s end\n")
        // A code page other than Windows-1252 (`\ansicpg1251`: Cyrillic).
        #expect(CaptureRTF.plainText(Array("{\\rtf1\\ansi\\ansicpg1251 \\'cf\\'f0\\'e8\\par}".utf8)) == "При\n")
        #expect(!CaptureRTF.isRTF(Array("jane@mbp ~ % ifconfig -a\n".utf8)))
    }

    /// A whole session saved as RTF with CRLF line ends and prose holding non-ASCII text
    /// (`\'e9`, `\uN`), built from the plain paste: read as the plain paste is.
    @Test func anRTFWithCRLFAndNonASCIIProse() throws {
        let plain = try #require(String(data: try Self.data("gone-utun7-split.txt"), encoding: .utf8))
        let lines = plain.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "{", with: "\\{").replacingOccurrences(of: "}", with: "\\}")
        }
        let body = ["R\\'e9sum\\'e9 \\uc0\\u8212  \\u26085 \\u26412 \\u35486 : mon Mac apr\\'e8s le crash"] + lines
        let rtf = "{\\rtf1\\ansi\\ansicpg1252\\cocoartf2761\r\n{\\fonttbl\\f0\\fmodern\\fcharset0 Menlo-Regular;}\r\n{\\colortbl;\\red255\\green255\\blue255;}\r\n"
            + "\\pard\\tx560\\pardirnatural\\partightenfactor0\r\n\r\n\\f0\\fs22 \\cf0 " + body.joined(separator: "\\\r\n") + "}"
        let read = Self.outcome(CapturePasteTests.assess(data: Data(rtf.utf8)))
        let expected = Self.outcome(CapturePasteTests.assess(plain))
        #expect(read.0 == expected.0 && read.1 == expected.1 && read.2 == expected.2, "\(read) vs \(expected)")
    }

    /// Backslash-ended lines in the other listings only (ifconfig's blocks, lsof's rows, ps's
    /// rows), with CRLF line ends: each is read as without them.
    @Test(arguments: ["ifconfig -a", "sudo lsof -nP", "ps -axww"])
    func hardBreaksInOneListing(listing: String) throws {
        let plain = try #require(String(data: try Self.data("gone-utun7-split.txt"), encoding: .utf8))
        var inside = false
        let marked = plain.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.contains(" % ") { inside = line.contains(listing) }
            return inside ? line + "\\\r" : line + "\r"
        }.joined(separator: "\n")
        #expect(marked.contains("\\\r\n"))
        let read = Self.outcome(CapturePasteTests.assess(marked))
        let expected = Self.outcome(CapturePasteTests.assess(plain))
        #expect(read.0 == expected.0 && read.1 == expected.1 && read.2 == expected.2, "\(listing): \(read) vs \(expected)")
    }

    /// A shell's continuation keeps its backslash: the next line continues the command (an
    /// option, a pipe, `> `), and a lone backslash-ended line is not a run of editor breaks.
    @Test func aShellContinuationIsKept() {
        for text in ["% sudo lsof -nP \\\n  -c nesession \\\n  | grep utun\n", "% sudo lsof -nP \\\n> -c nesession \\\n> | grep utun\n",
                     "% ifconfig -a \\\n| head -57\nlo0: flags=8049<UP>\n", "a\\\\\nb\\\\\n",
                     "jane@mbp ~ % sudo lsof -nP \\\n∙ -c nesession \\\n∙ -a -d 0-999\nnesession 448 root\n",
                     "$ sudo lsof -nP \\\ncmdsubst> -c nesession \\\nquote> x\n", "sudo lsof -nP \\\n    +c 0 \\\n    -c nesession\n"] {
            #expect(CaptureText.withoutHardBreaks(text).removed == 0, "\(text)")
        }
        #expect(CaptureText.withoutHardBreaks("0/1 utun7 USc utun7\\\n128.0/1 utun7 USc utun7 \\\r\n").text == "0/1 utun7 USc utun7\n128.0/1 utun7 USc utun7 \r\n")
    }

    /// `sudo lsof -nP \` continued over `-c nesession \` and `-a -d 0-999`, behind whatever
    /// continuation prompt the shell printed (Starship's `∙ `, `> `, `... `, zsh's `cmdsubst> `
    /// and `quote> `, a custom PS2, none, an indent), in the hoard whose idle utun11 another app
    /// also holds: the listing is filtered, never the whole `sudo lsof -nP`, so utun11 is never
    /// planned (the whole listing, shown, plans 14 and leaves utun11 out as co-held). Also with
    /// every line of the paste ending in an editor's backslash.
    @Test(arguments: ["∙ ", "> ", "... ", "cmdsubst> ", "quote> ", "dquote> ", "pipe> ", "· ", "→ ", "%_> ", "", "    ", "\t"])
    func aContinuedCommandKeepsItsFilters(prompt: String) throws {
        let starship = try #require(String(data: try Self.data("hoard-lsof-c-starship-continuation.txt"), encoding: .utf8))
        let text = starship.replacingOccurrences(of: "\n∙ ", with: "\n" + prompt)
        #expect(text.contains("\n\(prompt)-c nesession \\\n"))
        #expect(CaptureText.withoutHardBreaks(text).removed == 0, "\(prompt)")
        for variant in [text, text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : $0 + " \\" }.joined(separator: "\n")] {
            let read = Self.outcome(CapturePasteTests.assess(variant))
            #expect(!read.2.contains { $0.contains("utun11") }, "\(prompt): \(read.2)")
            #expect(read.2.count <= 14, "\(prompt): \(read.2)")
        }
        let whole = try #require(String(data: try Self.data("hoard-lsof-whole-coheld-utun11.txt"), encoding: .utf8))
        let read = Self.outcome(CapturePasteTests.assess(whole))
        #expect(read.2.count == 14 && !read.2.contains { $0.contains("utun11") }, "\(read.2)")
    }

    /// A `netstat -rn` table under its command whose rows cannot be read (every Netif glued to a
    /// mark), but for a few that can (`… en0 !`): the rows of the gone utun7's split default are
    /// named under `capture-missing`, most of the table is said to be unreadable, and the status
    /// is never OK.
    @Test(arguments: [";", ",", "\u{2026}"])
    func aMostlyUnreadableTableIsMissingNeverOK(mark: String) throws {
        let plain = try #require(String(data: try Self.data("gone-utun7-split.txt"), encoding: .utf8))
        var inside = false
        let damaged = plain.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.contains(" % ") { inside = line.contains("netstat -rn") }
            guard inside, !line.contains(" % "), !line.hasSuffix("!"), let last = line.split(separator: " ").last,
                  line.split(separator: " ").count >= 4 else { return String(line) }
            return String(line) + (last.hasSuffix(":") ? "" : mark)
        }.joined(separator: "\n")
        let assessment = CapturePasteTests.assess(damaged)
        let missing = try #require(assessment.findings.first { $0.id == FindingID.captureMissing }, "\(assessment.findings.map(\.evidence))")
        #expect(missing.evidence.contains("readable netstat -rn rows"), "\(missing.evidence)")
        #expect(missing.evidence.contains("utun7"), "\(missing.evidence)")
        #expect(assessment.status != .ok)
        #expect(Self.outcome(assessment).2.allSatisfy { !$0.contains("utun7") && !$0.contains("0.0.0.0/1") })
    }
}
