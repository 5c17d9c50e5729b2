import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// What says that the listings of one paste are of different moments when no command between
/// them does: a new message of a thread copied from a chat, an issue or a mail (its header, or a
/// quote of an earlier message), a prompt that shows a failed status or a git branch before the
/// command that changed things, and a prompt's clock written with its day, in braces or glued to
/// the prompt's character. Each paste holds a tuntaposx `closed` block and, later, the split
/// default of the VPN that reconnected since: tun0 is unknown and nothing is planned, where one
/// moment would plan the four routes away.
@Suite struct CaptureThreadTests {
    /// The judgement of a fixture: tun0 (or `name`) unknown, no critical finding, nothing planned.
    static func expectOtherMoments(_ fixture: String, _ name: String = "tun0") throws {
        let text = try CaptureProofTests.fixture(fixture)
        let assessment = CapturePasteTests.assess(text, file: fixture)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(fixture): \(assessment.findings.map(\.evidence))")
        let entry = try #require(assessment.interfaces.first { $0.interface.name == name }, "\(fixture)")
        #expect(entry.state == .unknown, "\(fixture): \(entry.state) \(entry.reason)")
        #expect(CaptureHoardTests.reapCommands(text).isEmpty, "\(fixture): \(CaptureHoardTests.reapCommands(text))")
    }

    /// The judgement of one moment: the closed tun0's split default is critical and its four
    /// routes are planned away.
    static func expectOneMoment(_ text: String, _ label: String) {
        let assessment = CapturePasteTests.assess(text)
        #expect(assessment.findings.contains { $0.severity == .critical && $0.id == FindingID.splitDefault && $0.ifname == "tun0" }, "\(label): \(assessment.findings.map(\.evidence))")
        #expect(CaptureHoardTests.reapCommands(text).contains("route -n delete -net 0.0.0.0/1 10.8.0.5"), "\(label)")
    }

    /// fish's default prompt shows the last status (`~ [2]> `, a pipestatus `[0|1]>`) and the
    /// git branch (`~/s/vpn-debug (main)> `), PowerShell with posh-git `[main ≡]> `: the
    /// `open -a Tunnelblick` typed after one starts a new moment, as after `~> `.
    @Test(arguments: ["fish-status-prompt-open-a.txt", "fish-git-prompt-open-a.txt", "pwsh-poshgit-prompt-open-a.txt",
                      "fish-status-prompt-blank-dir.txt"])
    func aFishPromptWithItsStatusOrBranchIsAPrompt(fixture: String) throws {
        try Self.expectOtherMoments(fixture)
    }

    /// The control: the same prompts with a command that changes nothing are one moment, so
    /// the prompts are read as prompts and not merely dropped.
    @Test func aStatusPromptBeforeAReadingCommandKeepsTheMoment() throws {
        let text = try CaptureProofTests.fixture("fish-status-prompt-open-a.txt").replacingOccurrences(of: "open -a Tunnelblick", with: "echo hi")
        Self.expectOneMoment(text, "echo hi")
    }

    /// A `>` after a bracket is a prompt's only after a directory: prose and output are not.
    @Test(arguments: [("jane@MacBook-Pro ~ [2]> open -a Tunnelblick", 2, true), ("~/vpn (main) [1]> ls", 2, true),
                      ("PS /Users/jane/vpn [main ≡]> ls", 3, true), ("jane@mbp ~ 17:02:11> ls", 2, true),
                      ("see the note [2]> open it", 3, false), ("[1]> open -a Tunnelblick", 0, false), ("lo0 (up)> x", 1, false)])
    func aBracketBeforeTheArrowEndsAPromptOnlyAfterADirectory(line: String, position: Int, prompt: Bool) {
        #expect(ShellCommand.endsDecoratedPrompt(CaptureText(file: "paste.txt", text: line), at: position) == prompt, "\(line)")
    }

    /// A prompt's clock with the day (`[Sat Dec 05 17:02]`, zsh's `%D{…}`), in braces, glued to
    /// `$` or fish's `>`, or on the first line of parrot's two-line prompt (whose second line
    /// glues `$` to the command, `└──╼ $ifconfig -a`): 39 minutes between the listings are
    /// another moment.
    @Test(arguments: ["prompt-clock-with-day.txt", "prompt-clock-in-braces.txt", "prompt-clock-glued-to-dollar.txt",
                      "prompt-clock-zsh-date.txt", "prompt-clock-fish.txt", "prompt-clock-two-line.txt"])
    func aPromptClockWithItsDayOrGluedIsRead(fixture: String) throws {
        try Self.expectOtherMoments(fixture)
    }

    /// The control: a minute on, the clock says the listings are of one moment.
    @Test func aPromptClockThatBarelyMovedKeepsTheMoment() throws {
        let text = try CaptureProofTests.fixture("prompt-clock-with-day.txt").replacingOccurrences(of: "17:41", with: "17:03")
        Self.expectOneMoment(text, "17:03")
    }

    /// The clock of a two-line prompt is on its first line (`┌─[jane@mbp]─[~]─[17:02:11]`).
    @Test func theClockOnTheFirstLineOfATwoLinePromptIsRead() {
        let session = try! CaptureProofTests.fixture("prompt-clock-with-day.txt")
            .replacingOccurrences(of: "[Sat Dec 05 17:02] jane@MacBook-Pro ~ % ", with: "┌─[jane@MacBook-Pro]─[~]─[17:02:11]\n└──╼ $ ")
            .replacingOccurrences(of: "[Sat Dec 05 17:41] jane@MacBook-Pro ~ % ", with: "┌─[jane@MacBook-Pro]─[~]─[17:41:30]\n└──╼ $ ")
        let contents = CaptureReader.read(CaptureText(file: "paste.txt", text: session))
        #expect(contents.notes.contains { $0.contains("the prompt's clock moved from 17:02 to 17:41") }, "\(contents.notes)")
    }

    /// A new message of a chat (Slack's time under the name, `Jane Doe  10:41 AM`, Teams'
    /// `[10:41 AM] Jane Doe`, Discord's `Jane — Today at 10:41 AM`), a mail's `On … wrote:` or
    /// GitHub's `jane commented yesterday` is another moment.
    @Test(arguments: ["chat-thread-slack-b12shape.md", "chat-thread-slack.md", "chat-thread-teams.md", "chat-thread-discord.md",
                      "chat-thread-mail-headers.md", "chat-thread-gh-comments.md"])
    func aNewMessageIsAnotherMoment(fixture: String) throws {
        try Self.expectOtherMoments(fixture)
    }

    /// The control: one message holding both listings is one moment. (Its words between them no
    /// longer say "after reconnecting", which makes another moment: round 37 F2.)
    @Test func bothListingsInOneMessageAreOneMoment() throws {
        let text = try CaptureProofTests.fixture("chat-thread-slack.md").split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("10:41 AM") }.joined(separator: "\n")
            .replacingOccurrences(of: "and now the routes, after reconnecting:", with: "and the routes:")
        Self.expectOneMoment(text, "one message")
    }

    /// Lines that head a message, and lines that only look a little like one.
    @Test(arguments: [("Jane Doe  10:41 AM", true), ("  10:02 AM", true), ("[10:41 AM] Jane Doe", true), ("Jane — Today at 10:41 AM", true),
                      ("On Fri, Dec 4, 2026 at 9:12 PM Bob <bob@example.com> wrote:", true), ("**jane** commented yesterday", true),
                      ("jane commented 2 days ago", true), ("Updated at 10:41", false), ("status: active", false), ("Connected", false),
                      ("root 112 0.0 0.1 4330484 9920 ?? Ss 9:14PM 0:01.23 /usr/sbin/zerotier-one", false), ("I commented out the line", false)])
    func aMessageHeaderIsToldFromOtherLines(line: String, header: Bool) {
        let text = CaptureText(file: "paste.txt", text: line)
        #expect((CaptureReader.messageHeader((0..<text.count).map { text[$0] }) != nil) == header, "\(line)")
    }

    /// Output quoted from an earlier message (`> ` under "On … wrote:", a GitHub reply's quote)
    /// is of another moment than the reply around it.
    @Test(arguments: ["quoted-reply-github.md", "quoted-reply-mail.md"])
    func aQuoteOfAnEarlierMessageIsAnotherMoment(fixture: String) throws {
        try Self.expectOtherMoments(fixture)
    }

    /// The control: both listings quoted from one earlier message are of its one moment.
    @Test func listingsQuotedFromOneMessageAreOneMoment() throws {
        Self.expectOneMoment(try CaptureProofTests.fixture("quoted-reply-both-quoted.md"), "both quoted")
    }
}
