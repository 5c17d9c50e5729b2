import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Two listings are one moment only when the paste shows them side by side (round 37 F1–F3):
/// a line between them that is no tool output, prompt or command (a message's header of any
/// chat, forum or mail client, a stamp a script printed, prose that says time passed, a change
/// command named in prose) makes what follows another moment, and nothing read across it is
/// planned. The reviewer's pastes are in `Fixtures/darwin-pastes/round37`.
@Suite struct CaptureGapTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round37/\(name)") }

    /// The tuntaposx session split by a header, prose or a stamp: tun0 unknown, nothing planned.
    @Test(arguments: [
        // F1: message headers of threads.
        "c-outlook-en.txt", "c-outlook-de.txt", "c-mail-fr.txt", "c-whatsapp.txt", "c-telegram.txt", "c-irc.txt", "c-jira.txt",
        "c-slack-yesterday.txt", "cf-gh-edited.md", "cf-mail-ja.md", "cf-apple-forums.md", "cf-discourse.md", "cf-teams-new.md",
        // F2: prose that says time passed, and change commands named in prose.
        "c-edit-plain.txt", "c-next-day.txt", "c-update.txt", "cf-so-edit.md", "p-span-open.md", "p-span-wg.md", "p-bullets.md",
        "p-heading.md", "p-clicked.md", "p-reboot.md", "p-details-before-after.md", "p-before-after.md",
        // F3: times printed without a prompt.
        "dtb-control-datecmd.txt", "dtb-eq.txt", "dtb-iso-bare.txt", "dtb-epoch.txt", "dt-eq.txt", "dt-ts-iso.txt", "dt-brk.txt",
    ])
    func aLineBetweenTheListingsIsAnotherMoment(fixture: String) throws {
        try CaptureShellSyntaxTests.expectNothingPlanned(try Self.fixture(fixture), fixture)
    }

    /// The hoard session split the same way: lsof after the line is tied to no listed unit.
    @Test(arguments: ["hc-outlook-en.txt", "hc-zendesk.txt", "hc-reddit.txt", "p-hoard-span-killall.md", "p-hoard-steps.md"])
    func aLineBetweenTheListingAndLsofTiesNoHolders(fixture: String) throws {
        let text = try Self.fixture(fixture)
        #expect(CaptureHoardTests.reapCommands(text).isEmpty, "\(fixture): \(CaptureHoardTests.reapCommands(text))")
        #expect(!CapturePasteTests.assess(text).findings.contains { $0.reapable }, "\(fixture)")
    }

    /// The controls: the hoard post without the prose is planned; lines that only introduce or
    /// caption a listing, a fence's info string, a rule, markup, and a comment between a post's
    /// code blocks with no time, handle or change in it keep one moment.
    @Test func linesThatOnlyIntroduceAListingKeepOneMoment() throws {
        #expect(!CaptureHoardTests.reapCommands(try Self.fixture("p-hoard-control.md")).isEmpty)
        let base = try Self.fixture("c-outlook-en.txt")
        let lines = base.split(separator: "\n", omittingEmptySubsequences: false)
        let first = try #require(lines.firstIndex { $0.hasPrefix("____") })
        let last = try #require(lines.firstIndex { $0.hasPrefix("Subject:") })
        for between in ["and the routes:", "Next, the routing table:", "以下是策略路由：", "---", "</details>", "--- netstat -nr -f inet ---", "^ that was `ifconfig -a`"] {
            let text = (lines[..<first] + [Substring(between)] + lines[(last + 1)...]).joined(separator: "\n")
            CaptureThreadTests.expectOneMoment(text, between)
        }
        for between in ["Edit: here is netstat", "UPDATE: after reconnecting, netstat shows:", "Then I clicked Connect in Tunnelblick.",
                        "Then I ran `open -a Tunnelblick`:", "[10:41] <bob> routes now:", "Bob Smith, [05.12.26 10:41]", "Sat Dec  5 17:41:30 CET 2026"] {
            let text = (lines[..<first] + [Substring(between)] + lines[(last + 1)...]).joined(separator: "\n")
            try CaptureShellSyntaxTests.expectNothingPlanned(text, between)
        }
    }
}

/// A `closed` tun0 with a process listing of the same moment that shows Tunnelblick's openvpn
/// running, before or after the block (`ps -axww -o pid,comm`, `pgrep -lf openvpn` with `--dev
/// tun0`, `ps auxww | grep [o]penvpn`): the VPN may have closed and reopened the device with no
/// command typed, and the routes be the ones it adds again (round 37 F4).
@Suite struct CaptureClosedOwnerTests {
    @Test(arguments: ["o-closed-ns-ps.txt", "o-closed-ns-pgrep.txt", "o-closed-ns-psgrep.txt", "o-ps-closed-ns.txt", "o-pgrep-closed-ns.txt",
                      "o-psgrep-closed-ns.txt"])
    func aRunningOpenVPNOfTheSameMomentDoubtsClosed(fixture: String) throws {
        let text = try CaptureGapTests.fixture(fixture)
        try CaptureShellSyntaxTests.expectNothingPlanned(text, fixture)
        let tun0 = try CaptureTuntaposxTests.verdict(CapturePasteTests.assess(text))
        #expect(tun0.reason.contains("a process listing of the paste shows") && tun0.reason.contains("openvpn["), "\(fixture): \(tun0.reason)")
        if fixture.contains("pgrep") { #expect(tun0.reason.contains("whose arguments name tun0"), "\(tun0.reason)") }
    }
}

/// Prompts that show a history number that jumps (`[502] …$ ifconfig -a`, `[517] …$ netstat`):
/// fourteen commands ran between the listings and were left out of the paste (round 37 F9).
@Suite struct CaptureHistoryNumberTests {
    @Test(arguments: ["o-histjump.txt", "o-histjump-bang.txt"])
    func aJumpInTheHistoryNumberIsAnotherMoment(fixture: String) throws {
        let text = try CaptureGapTests.fixture(fixture)
        try CaptureShellSyntaxTests.expectNothingPlanned(text, fixture)
        // The control: numbers one apart are one moment.
        try CaptureShellSyntaxTests.expectClosedStands(text.replacingOccurrences(of: "517", with: "503"), "\(fixture) one apart")
    }
}

/// lsof's selections and its options with a number (round 37 F5, F7).
@Suite struct CaptureLsofOptionTests {
    /// `-d 0-100`, `-d ^150` and `-g 448` select descriptors or process groups (and `-r 2`, `+r 2`
    /// repeat the listing, rows of several moments in one): a co-holder left
    /// out would make its unit look idle, so no unit is known idle and nothing is planned.
    @Test(arguments: ["ld2-d.txt", "ld2-dnot.txt", "ld2-g.txt", "ld-d-range.txt", "ld-r.txt", "ld-plus-r.txt"])
    func aSelectionOfDescriptorsOrGroupsIsNoEveryHolderListing(fixture: String) throws {
        let text = try CaptureGapTests.fixture(fixture)
        #expect(CaptureHoardTests.reapCommands(text).isEmpty, "\(fixture): \(CaptureHoardTests.reapCommands(text))")
        #expect(CapturePasteTests.assess(text).findings.contains { $0.id == FindingID.holderUnknown && ($0.evidence.contains("lists only") || $0.evidence.contains("repeats its listing")) }, "\(fixture)")
    }

    /// `+c 0`, `+c 15`, `+c 30` and `-S 5` take their number: the listing is whole, the hoard is
    /// planned as under `-nP`, and the command is quoted as typed.
    @Test(arguments: ["h-lsof-c0.txt", "h-lsof-c15.txt", "h2-c0-after.txt", "h2-cmdlen.txt", "h2-s-flag.txt"])
    func anOptionsNumberIsItsValue(fixture: String) throws {
        let text = try CaptureGapTests.fixture(fixture)
        #expect(!CaptureHoardTests.reapCommands(text).isEmpty, "\(fixture)")
        let notes = CapturePasteTests.assess(text).snapshot.readingNotes
        #expect(notes.contains { $0.contains("command `sudo lsof") && ($0.contains("+c 0") || $0.contains("+c 15") || $0.contains("+c 30") || $0.contains("-S 5")) }, "\(notes)")
        #expect(!notes.contains { $0.contains("cannot follow") }, "\(fixture)")
    }

    @Test func onlyExclusionsOfNonSocketsKeepEveryHolder() {
        #expect(Section.excludesOnlyNonSockets("^txt,^cwd,^mem"))
        #expect(!Section.excludesOnlyNonSockets("^150"))
        #expect(!Section.excludesOnlyNonSockets("0-100"))
    }
}

/// `route get` answering through a closed tun0, with no routing table: not "status OK"
/// (round 37 F8). Without `route get`, the closed tun with no routes read stays orphaned.
@Suite struct CaptureRouteGetTests {
    @Test(arguments: ["l-routeget-only.txt", "l-routeget-default.txt"])
    func aRouteIntoAClosedTunShownByRouteGetIsNotOK(fixture: String) throws {
        let assessment = CapturePasteTests.assess(try CaptureGapTests.fixture(fixture))
        #expect(assessment.status == .unknown, "\(fixture): \(assessment.status)")
        let tun0 = try CaptureTuntaposxTests.verdict(assessment)
        #expect(tun0.state == .unknown && tun0.reason.contains("`route get`"), "\(tun0.reason)")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty)
        let control = CapturePasteTests.assess(try CaptureGapTests.fixture("l-ifconfig-only.txt"))
        #expect(try CaptureTuntaposxTests.verdict(control).state == .orphaned)
    }
}

/// Round 37 F10: an address line not as ifconfig prints it is noted and leaves its unit not
/// known idle; a colon ending a prose line is no part of the command it names.
@Suite struct CaptureOddLineTests {
    @Test func anUppercaseAddressLineLeavesItsUnitNotIdle() throws {
        let text = try CaptureGapTests.fixture("ad-upper.txt")
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(!commands.contains { $0.contains("utun5") }, "\(commands)")
        #expect(CapturePasteTests.assess(text).snapshot.readingProblems.contains { $0.contains("INET6 FD7A") && $0.contains("utun5") })
    }

    @Test func aColonEndingAProseLineIsNoPartOfItsCommand() throws {
        let notes = CapturePasteTests.assess(try CaptureGapTests.fixture("cf-whatsapp.md")).snapshot.readingNotes
        #expect(notes.contains { $0.hasSuffix("command `netstat -nr -f inet`") }, "\(notes)")
        #expect(!notes.contains { $0.contains("inet:`") }, "\(notes)")
    }
}

/// ps rows whose pid a tab follows (`1<TAB>/sbin/launchd`) under a `PID COMM` header are rows,
/// not lines numbered by `cat -n` (round 37 F10); a `cat -n` of the whole listing still is.
@Suite struct CapturePsTabTests {
    @Test func aPidAndATabUnderAPsHeaderAreARow() throws {
        let text = try CaptureGapTests.fixture("zp-pid-comm-tab.txt")
        let contents = CaptureReader.read(CaptureText(file: "t.txt", text: text))
        #expect(contents.processes[112]?.contains("zerotier-one") == true, "\(contents.processes)")
        #expect(!contents.notes.contains { $0.contains("not a ps row") }, "\(contents.notes.filter { $0.contains("ps") })")
        let numbered = "     1\t% ps -axo pid,comm\n     2\t  PID COMM\n     3\t    1 /sbin/launchd\n     4\t  112 /usr/sbin/zerotier-one\n"
        let read = CaptureReader.read(CaptureText(file: "n.txt", text: numbered))
        #expect(read.processes[112] != nil && read.processes[4] == nil, "\(read.processes)")
    }
}
