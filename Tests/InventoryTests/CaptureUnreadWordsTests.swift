import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// The words a command line leaves unread count for every listing tool (ifconfig, netstat, lsof,
/// ps), on a line with a prompt or without one (the first line of a Markdown fence): a pipe
/// glued to its stage (`ps aux |head -6`), a `2>&1` before the pipe, a listing saved to a file
/// and shown cut (`> ps.txt; head -6 ps.txt`, `>if.txt; head if.txt`, `| tee f >/dev/null; head
/// f`, `| pbcopy && pbpaste | head`). Such a listing may be any part of the whole: read as whole,
/// it proves a live ZeroTier absent or a live VPN's tunnel gone.
@Suite struct CaptureUnreadWordsTests {
    /// Ways of typing a ps listing cut to its first rows, with and without a prompt.
    static let cutProcessListings = [
        "% ps aux |head -6", "% ps auxww |head -6", "% ps auxww > ps.txt; head -6 ps.txt", "% ps auxww >ps.txt; head -6 ps.txt",
        "% ps aux 2>&1 | head -6", "% ps auxww | tee ps.txt >/dev/null; head -6 ps.txt", "% ps auxww | pbcopy && pbpaste | head -6",
        "% ps auxww |& head -6", "% ps -ax -o pid,comm |head -6",
        "ps aux |head -6", "ps auxww > ps.txt; head -6 ps.txt", "ps aux 2>&1 | head -6", "ps auxww 1>ps.txt; head -6 ps.txt",
    ]

    /// A feth pair beside a ps listing cut before ZeroTier's row: the pair is not proven
    /// abandoned, and nothing is planned for it.
    @Test(arguments: cutProcessListings)
    func aCutProcessListingProvesNoOwnerAbsent(commandLine: String) {
        let pair = CaptureOwnerTests.pair("feth7466", "feth2466", psRows: [CaptureOwnerTests.launchd])
        #expect(CaptureOwnerTests.orphaned(pair) == ["feth2466", "feth7466"])
        let cut = pair.replacingOccurrences(of: "% ps auxww\n", with: commandLine + "\n")
        #expect(CaptureOwnerTests.orphaned(cut).isEmpty, "\(commandLine)")
    }

    /// The control: the listing shown back whole (`cat` of the file, `pbpaste` alone) is whole.
    @Test(arguments: ["% ps auxww > ps.txt; cat ps.txt", "% ps auxww | pbcopy && pbpaste", "% ps auxww 2>&1"])
    func aListingShownBackWholeIsWhole(commandLine: String) {
        let pair = CaptureOwnerTests.pair("feth7466", "feth2466", psRows: [CaptureOwnerTests.launchd])
            .replacingOccurrences(of: "% ps auxww\n", with: commandLine + "\n")
        #expect(CaptureOwnerTests.orphaned(pair) == ["feth2466", "feth7466"], "\(commandLine)")
    }

    /// A route listing cut so: no hoarded unit is known idle, and no route is planned away.
    @Test(arguments: ["netstat -rn |head -30", "netstat -rn > rt.txt; head -30 rt.txt", "netstat -rn >rt.txt; head -30 rt.txt",
                      "netstat -rn 2>&1 | head -30", "netstat -rn | tee rt.txt >/dev/null; head -30 rt.txt", "netstat -rn | pbcopy; pbpaste | head -30"])
    func aCutRouteListingLeavesNoUnitIdle(command: String) throws {
        let head = try CaptureHoardTests.routesFiltered(command, keeping: { !$0.contains("utun5") && !$0.contains("utun6") && !$0.contains("utun7") })
        #expect(CaptureHoardTests.reapCommands(head).isEmpty, "\(command): \(CaptureHoardTests.reapCommands(head))")
    }

    /// A glued `|grep utun` is the same filter as `| grep utun`, which shows every row into a
    /// utun: the units stay known idle.
    @Test func aGluedGrepIsAFilterItCanFollow() throws {
        let utun = try CaptureHoardTests.routesFiltered("netstat -rn |grep utun", keeping: { $0.contains("utun") })
        #expect(CaptureHoardTests.reapCommands(utun).count == 14, "\(CaptureHoardTests.reapCommands(utun))")
    }

    /// An lsof listing saved and shown cut, or cut by a glued pipe, is not every holder.
    @Test(arguments: ["% sudo lsof -nP > lsof.txt; grep utun lsof.txt | head -3", "% sudo lsof -nP | grep utun |head -3",
                      "sudo lsof -nP |head -3", "% sudo lsof -nP >lsof.txt; head -3 lsof.txt"])
    func aCutLsofListingIsNotEveryHolder(commandLine: String) {
        let row = "nesession   448 root   12u  systm 0xb2c54e8b3c2c1d47       0t0      [ctl com.apple.net.utun_control id 7 unit 5]\n"
        let lsof = { (line: String) in CaptureReader.read(CaptureText(file: "p", text: line + "\nCOMMAND     PID USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME\n" + row)) }
        #expect(lsof("% sudo lsof -nP").lsofWhole)
        let cut = lsof(commandLine)
        #expect(!cut.lsofWhole && !cut.lsofLimits.isEmpty, "\(commandLine)")
    }

    /// An interface listing saved and shown cut, or cut on a line without a prompt: utun7, which
    /// the cut left out, is not gone, and its split default is not dead.
    @Test(arguments: [
        "jane@MacBook-Pro ~ % ifconfig -a >if.txt; head -57 if.txt", "jane@MacBook-Pro ~ % ifconfig -a >>if.txt; head -57 if.txt",
        "jane@MacBook-Pro ~ % ifconfig >if.txt; head -57 if.txt", "jane@MacBook-Pro ~ % ifconfig -a 1>/tmp/if.txt; head -57 /tmp/if.txt",
        "jane@MacBook-Pro ~ % ifconfig -a >/tmp/if.txt; sed -n 1,57p /tmp/if.txt", "jane@MacBook-Pro ~ % ifconfig -a | tee if.txt >/dev/null; head -57 if.txt",
        "jane@MacBook-Pro ~ % ifconfig -a | pbcopy && pbpaste | head -57", "jane@MacBook-Pro ~ % ifconfig -a | pbcopy; pbpaste | head -57",
        "ifconfig -a |head -57", "ifconfig -a 2>&1 | head -57", "ifconfig -a > if.txt; head -57 if.txt", "ifconfig -a >if.txt; head -57 if.txt",
        "ifconfig |head -57", "sudo ifconfig -a 2>/dev/null |head -57",
    ])
    func aSavedOrBareCutInterfaceListingIsPartial(commandLine: String) throws {
        try CaptureCommandWordTests.expectCutListing(try CaptureCommandWordTests.session(commandLine), commandLine)
    }

    /// A listing fed by a substitution to a command that cuts it, on a line without a prompt (a
    /// fence's first line; the reviewer's paste is the first) as with one: partial.
    @Test(arguments: ["head -57 <<< \"$(ifconfig -a)\"", "head -57 < <(ifconfig -a)", "echo \"$(ifconfig -a)\" | head -57",
                      "sed -n 1,57p <<< \"$(ifconfig)\"", "jane@MacBook-Pro ~ % head -57 <<< \"$(ifconfig -a)\""])
    func aSubstitutedListingThatIsCutIsPartial(commandLine: String) throws {
        try CaptureCommandWordTests.expectCutListing(try CaptureCommandWordTests.session(commandLine), commandLine)
    }

    @Test func theReviewersBareHereStringIsACutListing() throws {
        try CaptureCommandWordTests.expectCutListing(try CaptureProofTests.fixture("bare-herestring-ifconfig-head.txt"), "fixture")
    }

    /// The control: a substitution shown whole (`echo`, `cat`) cuts nothing, and utun7 is gone.
    @Test(arguments: ["echo \"$(ifconfig -a)\"", "cat <<< \"$(ifconfig -a)\""])
    func aSubstitutedListingShownWholeIsWhole(commandLine: String) throws {
        let assessment = CapturePasteTests.assess(try CaptureCommandWordTests.session(commandLine))
        #expect(assessment.status == .critical, "\(commandLine): \(assessment.findings.map(\.evidence))")
    }

    /// The parser's view: what follows the arguments of a bare line is kept, and a glued pipe
    /// starts the pipeline.
    @Test func theWordsAfterTheArgumentsAreKept() throws {
        let bare = try #require(ShellCommand.recognize(in: CaptureText(file: "p", text: "ps aux |head -6\n"), at: 0))
        #expect(bare.tool == .ps && bare.reshaping == ["head -6"], "\(bare.display)")
        let grep = try #require(ShellCommand.recognize(in: CaptureText(file: "p", text: "% netstat -rn |grep utun\n"), at: 0))
        #expect(grep.filters.count == 1 && grep.unread.isEmpty, "\(grep.display)")
        let saved = try #require(ShellCommand.recognize(in: CaptureText(file: "p", text: "ifconfig -a >if.txt; head if.txt\n"), at: 0))
        #expect(saved.unread == [">if.txt;", "head", "if.txt"] && saved.followedBy.isEmpty, "\(saved.display)")
    }
}
