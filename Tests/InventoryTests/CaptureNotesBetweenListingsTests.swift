import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A note between `ifconfig -a` and `netstat -rn` parts their moments however it is written
/// (round 46, `Fixtures/darwin-pastes/round46`). F1: a note shaped like a key and its values
/// (`UPDATE: (after reconnecting)`, `wait: 600 sec`, `vpn: 10.8.0.1`) is no line of the last
/// interface block, least of all after a block whose lines kept their tab indents or after the
/// fence that closes its code block; the old code read it as one, made the routes of the
/// listing's moment, and called a live VPN's split default critical with delete commands.
@Suite struct CaptureNotesBetweenListingsTests {
    static let post = "round46/fenced-post-split-default.md"
    static let control = "UPDATE: after reconnecting"

    /// The fenced post (`ifconfig -a` without utun5, then `netstat -rn` with a split default
    /// into utun5) with `line` between its two code blocks.
    static func post(with line: String) throws -> String {
        let text = try CaptureProofTests.fixture(post)
        #expect(text.contains("```\n\(control)\n```"))
        return text.replacingOccurrences(of: "```\n\(control)\n```", with: "```\n\(line)\n```")
    }

    /// The same listings as a prompt transcript, with `line` between them.
    static func transcript(with line: String) throws -> String {
        let text = try CaptureProofTests.fixture(post).replacingOccurrences(of: "```\n", with: "").replacingOccurrences(of: "```", with: "")
        return text.replacingOccurrences(of: "$ ", with: "jane@mbp ~ % ").replacingOccurrences(of: control + "\n", with: line.isEmpty ? "" : line + "\n")
    }

    static func reading(_ assessment: Assessment) -> [String] {
        assessment.snapshot.readingNotes + assessment.snapshot.readingProblems
    }

    /// Notes between the listings, as a fenced post and as a transcript: utun5 may have come up
    /// between them, so its split default is unknown, never critical, and nothing is to delete.
    @Test(arguments: [
        "UPDATE: (after reconnecting)", "EDIT: (after reboot)", "wait: 600 sec", "now: 1733414531", "vpn: 10.8.0.1", "VPN: on", "run: 2",
        "EDIT: [after sleep]", "UPDATE: <after reconnecting>", "update: (next morning)", "after: 600 sec", "later: 1", "time: 1733414531",
        "sleep: 600", "vpn: on", "wifi: off", "tunnel: 10.8.0.2", "wg: 10.8.0.2/24", "tailscale: 100.101.102.103", "attempt: 2",
        "exit code: 0", "error: 0", "elapsed: 120 sec", "tunnel up, routes now:", "link went down after sleep",
    ])
    func aNoteBetweenTheListingsPartsTheirMoments(line: String) throws {
        for (form, text) in [("post", try Self.post(with: line)), ("transcript", try Self.transcript(with: line))] {
            let assessment = CapturePasteTests.assess(text)
            #expect(assessment.status == .unknown, "\(form) '\(line)': \(assessment.findings.map(\.evidence))")
            #expect(!assessment.findings.contains { $0.severity == .critical }, "\(form) '\(line)'")
            // (A line that starts with a word of ifconfig's, `link …`, is read as a block's
            // body whose header is cut off: the listing is partial, which is unknown too.)
            guard !Section.isBodyWord(line.prefix { $0 != " " }) else { continue }
            #expect(Self.reading(assessment).contains { $0.contains("stands between two listings") }, "\(form) '\(line)': \(Self.reading(assessment))")
        }
    }

    /// The control: with nothing between the listings, utun5's split default is critical.
    @Test func withoutANoteTheSplitIsCritical() throws {
        let text = try Self.post(with: "").replacingOccurrences(of: "```\n\n```\n", with: "")
        #expect(CapturePasteTests.assess(text).status == .critical)
        #expect(CapturePasteTests.assess(try Self.transcript(with: "")).status == .critical)
    }

    /// The same notes after an `ifconfig -a -vv` that lost its indents still part the listings:
    /// their keys are none of ifconfig's, or they say time passed.
    @Test(arguments: ["UPDATE: (after reconnecting)", "wait: 600 sec", "vpn: 10.8.0.1", "now: 1733414531", "run: 2", "VPN: on", "in: 2 hours"])
    func aNoteAfterAListingWithoutIndentsPartsThem(line: String) throws {
        let text = try CaptureProofTests.fixture("round45/noindent-bridge-dead-split.txt")
            .replacingOccurrences(of: "status: active\njane@Janes-MacBook-Pro ~ % netstat -rn", with: "status: active\n\(line)\njane@Janes-MacBook-Pro ~ % netstat -rn")
        #expect(text.contains("\n\(line)\n"))
        let assessment = CapturePasteTests.assess(text)
        #expect(!CaptureLostIndentTests.isDeadSplitCritical(assessment), "\(line): \(assessment.findings.map(\.evidence))")
    }

    /// Notes in a key's shape are no ifconfig lines; ifconfig's own keys still are.
    @Test func notesAreNoKeyValueLines() {
        func words(_ line: String) -> [Substring] { line.split(separator: " ") }
        for line in ["UPDATE: (after reconnecting)", "EDIT: (after reboot)", "wait: 600 sec", "now: 1733414531", "vpn: 10.8.0.1", "VPN: on", "run: 2",
                     "in: 2 hours", "status: 17:02:11", "link quality: 2026-12-05"] {
            #expect(!Section.isKeyValueLine(words(line)), "\(line)")
        }
        for line in ["in: IPv4=120 IPv6=0 UDP=40 TCP=80", "link quality: 100 (good)", "state rrc: 1 (connected) availability: 0 (true)"] {
            #expect(Section.isKeyValueLine(words(line)), "\(line)")
        }
    }
}
