import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Listings the paste itself shows to be incomplete, and answers that prove less than they seem:
/// an lsof of one process or cut short cannot rule out a second holder of a hoard's unit; half a
/// split default read through a cut is no residue; a page's "Show more" is a cut; rows written
/// with `&nbsp;` or as a Markdown table are read; ifconfig's "does not exist" for a name with a
/// blank in it says nothing of the tunnel; zerotier-cli's JSON answer shows zerotier-one runs.
@Suite struct CaptureCutEvidenceTests {
    static func assess(_ fixture: String) throws -> (text: String, assessment: Assessment) {
        let text = try CaptureProofTests.fixture(fixture)
        return (text, CapturePasteTests.assess(text, file: fixture))
    }

    /// Round 34's Sonoma session, where utun6 has only its link-local address because
    /// WireGuard's provider is still bringing it up: an lsof that selects nesessionmanager's
    /// rows (`-c`, `-p`, `| grep nesession`), is cut (`| head -8`) or ran without sudo cannot
    /// show the provider holding utun6 too, so no unit is known idle and nothing is planned.
    @Test(arguments: ["hoard-lsof-head-cuts-coholder.txt", "hoard-lsof-c-nesession.txt", "hoard-lsof-p-pid.txt",
                      "hoard-lsof-grep-nesession.txt", "hoard-lsof-no-sudo.txt"])
    func anLsofThatCannotShowACoHolderLeavesNoUnitIdle(fixture: String) throws {
        let (text, assessment) = try Self.assess(fixture)
        let hoard = try #require(assessment.findings.first { $0.id == FindingID.utunHoard }, "\(fixture)")
        #expect(!hoard.reapable && hoard.routes == nil, "\(fixture): \(hoard.evidence)")
        #expect(hoard.evidence.contains("but none known idle: the capture's lsof does not show every holder"), "\(fixture): \(hoard.evidence)")
        #expect(CaptureHoardTests.reapCommands(text).isEmpty, "\(fixture): \(CaptureHoardTests.reapCommands(text))")
    }

    /// The control: the whole lsof shows the provider holding utun6, and plans only the
    /// link-local routes of utun4 and utun5.
    @Test func theWholeLsofStillPlansTheIdleUnits() throws {
        let (text, _) = try Self.assess("hoard-lsof-whole-coholder.txt")
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(commands.contains("route -n delete -inet6 default fe80::%utun4 -ifscope utun4") && commands.contains("route -n delete -inet6 default fe80::%utun5 -ifscope utun5"), "\(commands)")
        #expect(!commands.contains { $0.contains("utun6") }, "\(commands)")
    }

    /// Half a split default read through `| head`, a `^C`, a paste that ends inside the other
    /// half's row, or lines numbered `N. ` is no residue: no warning, no "Remove it with".
    @Test(arguments: ["split-half-netstat-head.txt", "split-half-netstat-ctrl-c.txt", "split-half-paste-ends-in-row.txt",
                      "split-half-numbered-lines.txt", "split-half-head-whole-ifconfig.txt"])
    func halfASplitDefaultFromACutListingIsNoResidue(fixture: String) throws {
        let (_, assessment) = try Self.assess(fixture)
        let splits = assessment.findings.filter { $0.id == FindingID.splitDefault && $0.ifname == "utun7" }
        #expect(!splits.isEmpty, "\(fixture)")
        for split in splits {
            #expect(split.severity == .info, "\(fixture): \(split.evidence)")
            #expect(!split.evidence.contains("residue of a split default (") && !split.evidence.contains("Remove it with")
                    && !split.evidence.contains("the rest follows the default route"), "\(fixture): \(split.evidence)")
        }
    }

    /// Lines numbered `N. ` are read as the lines they number: the whole listing's split
    /// default into utun7 is whole (both halves read).
    @Test func linesNumberedAsAListAreReadWhole() throws {
        let (_, assessment) = try Self.assess("split-whole-numbered-lines.txt")
        let split = try #require(assessment.findings.first { $0.id == FindingID.splitDefault && $0.ifname == "utun7" })
        #expect(split.evidence.hasPrefix("All IPv4 traffic"), "\(split.evidence)")
        #expect(!assessment.snapshot.readingProblems.contains { $0.contains("not a route row") }, "\(assessment.snapshot.readingProblems)")
    }

    /// A page's collapsed-block text (`Click to expand...`, `Show more`, `Expand 12 lines`,
    /// `Mehr anzeigen`, `显示更多`) left in a copied listing is a cut: utun7 is unknown, not gone.
    @Test(arguments: ["collapsed-block-xenforo.md", "collapsed-block-slack-more.md", "collapsed-block-de.md", "collapsed-block-expand.md",
                      "collapsed-block-see-full.md", "collapsed-block-zh.md", "collapsed-block-ja.md", "collapsed-block-ru.md",
                      "collapsed-block-gitlab.md", "collapsed-block-slack-more-after-fence.md"])
    func aCollapsedBlockIsACut(fixture: String) throws {
        let (_, assessment) = try Self.assess(fixture)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(fixture): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun7" }?.state == .unknown, "\(fixture)")
        #expect(assessment.status == .unknown, "\(fixture)")
    }

    /// The control: without such a line the listing is whole, and the split default into the
    /// utun7 it lacks is critical.
    @Test func aListingWithoutACollapsedBlockIsWhole() throws {
        let (_, assessment) = try Self.assess("collapsed-block-none.md")
        #expect(assessment.findings.contains { $0.severity == .critical && $0.id == FindingID.splitDefault && $0.ifname == "utun7" })
    }

    /// A page's note is the whole line; prose that asks for more is none.
    @Test(arguments: [("Show more", true), ("Click to expand...", true), ("Expand 12 lines", true), ("Show all 68 lines", true),
                      ("This snippet was truncated for display; see it in full", true), ("Mostrar más", true), ("Показать ещё", true),
                      ("Can you show more output?", false), ("expand the routes", false), ("status: active", false)])
    func aCollapsedBlockNoteIsTheWholeLine(line: String, note: Bool) {
        let text = CaptureText(file: "paste.txt", text: line)
        #expect(Section.isCollapsedBlockNote((0..<text.count).map { text[$0] }) == note, "\(line)")
    }

    /// Route rows whose blanks are `&nbsp;` entities are read: utun7's split default is named
    /// (unknown: the interface listing is cut), and the whole session judges as the plain one.
    @Test func rowsWrittenWithNbspEntitiesAreRead() throws {
        let (_, cut) = try Self.assess("html-nbsp-entities-cut.txt")
        #expect(cut.findings.contains { $0.id == FindingID.splitDefault && $0.ifname == "utun7" }, "\(cut.findings.map(\.evidence))")
        #expect(cut.status == .unknown)
        let (_, base) = try Self.assess("html-nbsp-entities-base.txt")
        #expect(base.findings.contains { $0.id == FindingID.utunHoard } && base.findings.contains { $0.id == FindingID.splitDefault && $0.ifname == "utun7" },
                "\(base.findings.map(\.evidence))")
    }

    /// Route rows written as a Markdown table are read: a split default into a utun the whole
    /// listing lacks is critical, never status OK; through a cut listing it is unknown.
    @Test func rowsOfAMarkdownTableAreRead() throws {
        let (_, gone) = try Self.assess("markdown-table-routes-gone.md")
        #expect(gone.findings.contains { $0.severity == .critical && $0.id == FindingID.splitDefault && $0.ifname == "utun7" }, "\(gone.findings.map(\.evidence))")
        let (_, cut) = try Self.assess("markdown-table-routes-cut.md")
        #expect(cut.status == .unknown && cut.interfaces.first { $0.interface.name == "utun7" }?.state == .unknown)
    }

    /// `netstat -nr -f inet` written as an HTML table (round 45 F2; adrienverge/openfortivpn#534
    /// has this shape): a row's `<tr>`, cells and `</tr>` on lines of their own, a row on each
    /// line, or a cell on each line with `<th>`, `<code>` and entities. Each is read as the rows
    /// it holds: the default into the gone ppp0 is critical. The old code read no row (unknown).
    @Test(arguments: ["round45/html-table-rows-on-lines.txt", "round45/html-table-row-per-line.txt", "round45/html-table-cell-per-line.txt"])
    func rowsOfAnHTMLTableAreRead(fixture: String) throws {
        let (_, assessment) = try Self.assess(fixture)
        #expect(assessment.status == .critical, "\(fixture): \(assessment.findings.map(\.evidence))")
        #expect(assessment.findings.contains { $0.severity == .critical && $0.id == FindingID.splitDefault && $0.ifname == "ppp0" }, "\(fixture)")
    }

    /// A table's tag named in prose (`` `<tr>` ``) starts no row that takes the lines after it:
    /// they stay lines of their own, and only a line with a table's tags is changed.
    @Test func aTagInProseTakesNoLinesAfterIt() {
        let text = "I tried wrapping it in a <tr> like the docs say\nlo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384\n\tinet 127.0.0.1 netmask 0xff000000\n"
        let read = CaptureText.withHTMLTableRows(text)
        #expect(read.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n") == text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n"))
        #expect(CaptureText.withHTMLTableRows("<tr><td>0/1</td><td>utun7</td><td>USc</td><td>utun7</td></tr>\nnext &amp; line")
                == " 0/1  utun7  USc  utun7 \nnext &amp; line")
    }

    /// `ifconfig 'utun7 '` and `ifconfig utun7` with a no-break space after it ask for another
    /// name: "does not exist" says nothing of utun7.
    @Test(arguments: ["does-not-exist-quoted-blank.txt", "does-not-exist-nbsp.txt"])
    func doesNotExistForAnotherNameProvesNothing(fixture: String) throws {
        let (_, assessment) = try Self.assess(fixture)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(fixture): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun7" }?.state == .unknown, "\(fixture)")
    }

    /// The control: `ifconfig utun7` answered "does not exist" shows utun7 gone.
    @Test func doesNotExistForTheNameProvesItGone() throws {
        let (_, assessment) = try Self.assess("does-not-exist-plain.txt")
        #expect(assessment.findings.contains { $0.severity == .critical && $0.id == FindingID.splitDefault && $0.ifname == "utun7" })
    }

    /// `zerotier-cli -j listnetworks` answered in JSON: zerotier-one runs, whatever ps says.
    @Test(arguments: ["zerotier-cli-json-after-ps.txt", "zerotier-cli-json-before-ps.txt"])
    func zerotierCliJSONShowsTheDaemonRuns(fixture: String) throws {
        let (text, assessment) = try Self.assess(fixture)
        #expect(!assessment.findings.contains { $0.id == FindingID.orphanedFeth && $0.reapable }, "\(fixture): \(assessment.findings.map(\.evidence))")
        #expect(CaptureHoardTests.reapCommands(text).isEmpty, "\(fixture)")
    }

    /// The control: without the answer, the ps that lacks zerotier-one makes the pair orphaned.
    @Test func withoutTheAnswerThePairIsOrphaned() throws {
        var lines = try CaptureProofTests.fixture("zerotier-cli-json-after-ps.txt").split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.contains("zerotier-cli -j") })
        let end = try #require(lines[start...].firstIndex { $0 == "]" })
        lines.removeSubrange(start...end)
        let text = lines.joined(separator: "\n")
        #expect(CaptureHoardTests.reapCommands(text).contains("ifconfig feth7466 destroy"), "\(CaptureHoardTests.reapCommands(text))")
    }
}
