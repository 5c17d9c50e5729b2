import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A command named in the line that introduces a Markdown code block ("Output of `ifconfig -a |
/// head -57`:", GitHub's `<details><summary><code>…</code></summary>`) is the command of the
/// block's output, as a prompt's would be: its `| head` cuts the listing. And a line that names a
/// listing's command with a pipeline that may cut it makes the listing after it partial, however
/// it is written: a cut listing read as whole calls a live tunnel gone.
@Suite struct CaptureIntroducedCommandTests {
    static let introLine = "Output of `ifconfig -a | head -57` (the rest is just more of the same):\n"

    /// The issue's text (`ifconfig -a | head -57` output that stops before utun7's block, then
    /// the split default into the live utun7) with `intro` in place of the line before the first
    /// code block, and `fence` in place of its opening.
    static func issue(intro: String = introLine, fence: String = "```\n") throws -> String {
        let text = try CaptureProofTests.fixture("issue-prose-command-head.md")
        #expect(text.contains(introLine + "\n```\nlo0:"))
        return text.replacingOccurrences(of: introLine + "\n```\nlo0:", with: intro + fence + "lo0:")
    }

    static func expectCutListing(_ text: String, _ label: String) throws {
        let assessment = CapturePasteTests.assess(text)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(label): \(assessment.findings.map(\.evidence))")
        let utun7 = try #require(assessment.interfaces.first { $0.interface.name == "utun7" }, "\(label)")
        #expect(utun7.state == .unknown, "\(label): \(utun7.state) \(utun7.reason)")
    }

    @Test(arguments: ["issue-prose-command-head.md", "issue-details-summary-head.md"])
    func theReviewersIssuesAreCutListings(fixture: String) throws {
        let text = try CaptureProofTests.fixture(fixture)
        try Self.expectCutListing(text, fixture)
        let assessment = CapturePasteTests.assess(text, file: fixture)
        #expect(assessment.snapshot.readingNotes.contains { $0.contains("command `ifconfig -a | head -57`") }, "\(assessment.snapshot.readingNotes)")
        // The routes' command is read too: one IPv4 table, through `grep utun`.
        #expect(assessment.snapshot.routeFamilies == [.inet], "\(String(describing: assessment.snapshot.routeFamilies))")
        #expect(assessment.snapshot.routeFilter?.description.contains("grep utun") == true, "\(String(describing: assessment.snapshot.routeFilter))")
    }

    /// Ways an issue, a wiki or a forum post introduces a code block with its command.
    @Test(arguments: [
        introLine + "\n", "**`ifconfig -a | head -57`**\n\n", "`$ ifconfig -a | head -57`\n", "Here is ``ifconfig -a | grep -A3 flags`` for you:\n\n",
        "<details>\n<summary>ifconfig -a | head -57</summary>\n\n", "<details><summary>Output of <code>ifconfig -a | head -57</code></summary>\n\n",
        "### Output of `ifconfig -a | head -57`\n\n", "`sudo ifconfig -a | head -n 57`:\n", "<details><summary><code>\\ifconfig -a | head -57</code></summary>\n</summary>\n\n",
        "Output of `ifconfig -a | sed -n 1,57p`:\n\n",
    ])
    func aCommandIntroducingACodeBlockIsItsOutputsCommand(intro: String) throws {
        try Self.expectCutListing(try Self.issue(intro: intro), intro)
    }

    /// Code blocks opened with an info string, or with tildes.
    @Test(arguments: ["```console\n", "```text\n", "~~~\n", "```sh\n"])
    func theFenceMayNameItsLanguage(fence: String) throws {
        var text = try Self.issue(fence: fence)
        if fence.hasPrefix("~~~") { text = text.replacingOccurrences(of: "utun6 prefixlen 64 scopeid 0x15 \n\tnd6 options=201<PERFORMNUD,DAD>\n```", with: "utun6 prefixlen 64 scopeid 0x15 \n\tnd6 options=201<PERFORMNUD,DAD>\n~~~") }
        try Self.expectCutListing(text, fence)
    }

    /// Without a code block, in words without code spans, or after a prompt not known (Windows'
    /// `C:\>`): a line that names the listing's command with a pipeline that may cut it makes the
    /// listing after it partial.
    @Test(arguments: [("Output of `ifconfig -a | head -57`:\n", ""), ("I ran ifconfig -a | head -57 and got:\n", ""),
                      ("I ran ifconfig -a | head -57 and got:\n", "```\n"), ("Output of \"ifconfig -a|head -57\":\n", ""),
                      ("C:\\> ifconfig -a | head -57\n", ""), ("PS C:\\Users\\jane> ifconfig -a | head -60\n", "")])
    func aLineNamingACutMakesTheListingAfterItPartial(intro: String, fence: String) throws {
        try Self.expectCutListing(try Self.issue(intro: intro, fence: fence), intro + fence)
    }

    /// The other listings too: a route table named with `| head` in prose leaves no hoarded unit
    /// known idle, and a ps listing named with `| head` proves no ZeroTier absent.
    @Test func otherListingsNamedWithACutArePartial() throws {
        let head = try CaptureHoardTests.routesFiltered("netstat -rn | head -30", keeping: { !$0.contains("utun5") && !$0.contains("utun6") && !$0.contains("utun7") })
        for line in ["and here is netstat -rn | head -30:\n", "Routes (`netstat -rn|head -30`):\n"] {
            let named = head.replacingOccurrences(of: "jane@mbp ~ % netstat -rn | head -30\n", with: line)
            #expect(named != head)
            #expect(CaptureHoardTests.reapCommands(named).isEmpty, "\(line): \(CaptureHoardTests.reapCommands(named))")
        }
        let pair = CaptureOwnerTests.pair("feth1207", "feth6207", psRows: [CaptureOwnerTests.launchd])
        #expect(CaptureOwnerTests.orphaned(pair.replacingOccurrences(of: "% ps auxww\n", with: "and `ps auxww | head -2`:\n")).isEmpty)
        #expect(CaptureOwnerTests.orphaned(pair.replacingOccurrences(of: "% ps auxww\n", with: "and `ps auxww`:\n")) == ["feth1207", "feth6207"])
    }

    /// The controls: a plain `ifconfig -a` introduced so is every interface, and utun7 is gone;
    /// a line naming several commands (whose outputs the block may hold in any order) introduces
    /// none, and the block is read by its shape.
    @Test(arguments: ["Output of `ifconfig -a`:\n\n", "<details><summary><code>ifconfig -a</code></summary>\n\n", "Output of `ifconfig -a` and `netstat -rn`:\n\n"])
    func aWholeListingIntroducedSoIsWhole(intro: String) throws {
        let text = try Self.issue(intro: intro)
        #expect(CapturePasteTests.assess(text).status == .critical, "\(intro): \(CapturePasteTests.assess(text).findings.map(\.evidence))")
    }

    /// A cut note on the line that introduces the block, with the command in a code span or in
    /// plain prose: the issue writer says there that the output was cut.
    @Test(arguments: ["Output of `ifconfig -a` (output trimmed):\n\n", "`ifconfig -a` (first 57 lines):\n\n", "Relevant part of `ifconfig -a`:\n\n",
                      "`ifconfig -a` (rest omitted):\n\n", "`ifconfig -a` (...)\n\n", "Excerpt of `ifconfig -a`:\n\n", "`ifconfig -a` (snip)\n\n",
                      "Output of ifconfig -a (output trimmed):\n\n", "Beginning of ifconfig -a:\n\n", "<details><summary><code>ifconfig -a</code> (truncated)</summary>\n\n"])
    func aCutNoteOnTheIntroducingLineMakesTheListingPartial(intro: String) throws {
        try Self.expectCutListing(try Self.issue(intro: intro), intro)
    }

    /// The reviewer's issues: Jira's `{{ifconfig -a | head -57}}` before a `{noformat}` block, a
    /// command and its filter in two code spans ("`ifconfig -a`, piped through `head -57`"), and
    /// a caption under the block ("^ that was `ifconfig -a | head -57`").
    @Test(arguments: ["issue-jira-noformat-head.md", "issue-span-piped-through-span.md", "issue-caption-after-fence.md"])
    func theReviewersOtherWaysOfNamingACutAreCutListings(fixture: String) throws {
        try Self.expectCutListing(try CaptureProofTests.fixture(fixture), fixture)
    }

    /// Jira's monospace is a code span, and a span of its own naming a command that cuts what it
    /// reads is a stage of the named command's pipeline, before a block or before plain output.
    @Test(arguments: [("Output of {{ifconfig -a | head -57}}:\n\n", "```\n"), ("{{ifconfig -a|head -57}}\n\n", "```\n"),
                      ("Here is `ifconfig -a`, piped through `head -57`:\n\n", "```\n"), ("`ifconfig -a` into `sed -n 1,57p`:\n\n", "```\n"),
                      ("I ran `ifconfig -a`, piped through `head -57`, and got:\n", "")])
    func aJiraSpanOrACuttingSpanBesideTheCommandCutsTheListing(intro: String, fence: String) throws {
        try Self.expectCutListing(try Self.issue(intro: intro, fence: fence), intro + fence)
    }

    /// A caption under the block that names the listing's command with a cut says the block was
    /// cut, as a cut note there does.
    @Test(arguments: ["^ that was `ifconfig -a | head -57`\n", "(that was {{ifconfig -a | head -57}})\n", "\n^ ifconfig -a | head -57\n"])
    func aCaptionUnderTheBlockNamingACutMakesItPartial(caption: String) throws {
        let text = try Self.issue(intro: "Output:\n\n").replacingOccurrences(of: "<PERFORMNUD,DAD>\n```\n", with: "<PERFORMNUD,DAD>\n```\n" + caption)
        #expect(text.contains(caption))
        try Self.expectCutListing(text, caption)
    }

    /// The controls: Jira's span of a plain `ifconfig -a`, a span of a command that cuts nothing,
    /// and a caption naming the plain command leave the listing whole, and utun7 gone.
    @Test(arguments: [("Output of {{ifconfig -a}}:\n\n", ""), ("Output of `ifconfig -a` (I ran it with `sudo`):\n\n", ""),
                      ("Output:\n\n", "^ that was `ifconfig -a`\n"), ("Output of `ifconfig -a`:\n\n", "and `netstat -rn -f inet | grep utun` below:\n")])
    func aWholeListingSpannedOrCaptionedSoIsWhole(intro: String, caption: String) throws {
        let text = try Self.issue(intro: intro).replacingOccurrences(of: "<PERFORMNUD,DAD>\n```\n", with: "<PERFORMNUD,DAD>\n```\n" + caption)
        #expect(CapturePasteTests.assess(text).status == .critical, "\(intro)\(caption): \(CapturePasteTests.assess(text).findings.map(\.evidence))")
    }

    /// A command introducing a block that holds its own prompt line leaves that line the command.
    @Test func aPromptInsideTheBlockStaysItsCommand() throws {
        let text = try Self.issue(intro: "Output of `ifconfig -a`:\n\n", fence: "```\n% ifconfig -a | head -57\n")
        try Self.expectCutListing(text, "prompt inside")
    }
}
