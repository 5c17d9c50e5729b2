import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Two-line prompts whose first line holds the directory (pure, starship, spaceship) and whose
/// second starts with the prompt character and the command (`❯ netstat -rn`): the first line
/// is the prompt's, not a line that stands between two listings (round 38 F3).
@Suite struct CaptureTwoLinePromptTests {
    /// The first lines such themes print, and the prompt character of their second line.
    static let prompts: [(above: String, prompt: String)] = [
        ("~", "❯ "), ("~/src/vpn main*", "❯ "), ("~/src/vpn main* ⇡ 3s", "❯ "), ("jane@MacBook-Pro ~", "❯ "),
        ("~ on ☁️  (eu-west-1) ", "❯ "), ("~ took 2s ", "❯ "), ("jane@MacBook-Pro in ~ ", "❯ "),
        ("~/src/vpn on  main [!?] via 🐹 v1.21.0 ", "❯ "), ("jane at MacBook-Pro in ~ ", "➜ "), ("~/vpn", "$ "),
    ]

    static func session(_ above: String, _ prompt: String, between: String = "", blank: Bool = true) -> String {
        let shown = (blank ? "\n" : "") + above + "\n" + prompt
        return CaptureMomentTests.ifconfig.replacingOccurrences(of: "user@mbp ~ % ", with: shown) + between
            + CaptureMomentTests.netstat.replacingOccurrences(of: "user@mbp ~ % ", with: shown)
    }

    /// With nothing between the listings, the split default into utun6, which the listing of
    /// every interface lacks, is critical, as under a one-line prompt; a command between them
    /// at such a prompt (`open -a ClashX`) makes utun6 unknown.
    @Test(arguments: prompts.indices)
    func theFirstLineOfATwoLinePromptIsThePrompts(index: Int) {
        let (above, prompt) = Self.prompts[index]
        for blank in [true, false] {
            let assessment = CapturePasteTests.assess(Self.session(above, prompt, blank: blank))
            #expect(assessment.status == .critical, "\(above): \(assessment.findings.map(\.evidence)) \(assessment.snapshot.readingNotes)")
            #expect(!assessment.snapshot.readingNotes.contains { $0.contains("stands between two listings") }, "\(above)")
        }
        let changed = CapturePasteTests.assess(Self.session(above, prompt, between: "\n" + above + "\n" + prompt + "open -a ClashX\n"))
        #expect(!changed.findings.contains { $0.severity == .critical }, "\(above)")
        #expect(changed.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(above)")
    }

    /// A line that says time passed, or names a change, above such a prompt is no prompt's: what
    /// follows is of another moment.
    @Test(arguments: ["After a reboot, in ~", "Then I ran `open -a ClashX` in ~/vpn"])
    func proseAboveAPromptStillSplitsMoments(line: String) {
        let text = CaptureMomentTests.ifconfig + "\n" + line + "\n❯ " + CaptureMomentTests.netstat.replacingOccurrences(of: "user@mbp ~ % ", with: "")
        let assessment = CapturePasteTests.assess(text)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(line): \(assessment.findings.map(\.evidence))")
    }

    /// The hoard under pure's prompt: the same finding and plan as under the one-line prompt.
    @Test func aHoardUnderPuresPromptIsPlannedAsUnderAOneLinePrompt() throws {
        let text = try CaptureProofTests.fixture("hoard-whole-table-unscoped-v6-default.txt")
        let pure = text.replacingOccurrences(of: "jane@mbp ~ % ", with: "\n~/src/vpn main*\n❯ ")
        #expect(CaptureProofTests.verdict(pure) == CaptureProofTests.verdict(text))
        #expect(CaptureHoardTests.reapCommands(pure) == CaptureHoardTests.reapCommands(text))
        #expect(!CaptureHoardTests.reapCommands(pure).isEmpty)
    }
}
