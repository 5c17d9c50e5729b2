import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A command word is read as the shell reads it: `\ifconfig` (a backslash that skips an alias),
/// `"ifconfig"` and `'ifconfig'` run ifconfig, so the `| head` after them cuts its listing. A
/// listing read as whole when it was cut calls a live tunnel gone.
@Suite struct CaptureCommandWordTests {
    /// `\ifconfig -a | head -57`, whose output stops before utun7's block, then wg-quick's split
    /// default into utun7: a live tunnel the listing does not reach.
    static func session(_ commandLine: String) throws -> String {
        try CaptureProofTests.fixture("backslash-ifconfig-head.txt")
            .replacingOccurrences(of: "jane@MacBook-Pro ~ % \\ifconfig -a | head -57\n", with: commandLine + "\n")
    }

    static func expectCutListing(_ text: String, _ label: String) throws {
        let assessment = CapturePasteTests.assess(text)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(label): \(assessment.findings.map(\.evidence))")
        let utun7 = try #require(assessment.interfaces.first { $0.interface.name == "utun7" }, "\(label)")
        #expect(utun7.state == .unknown, "\(label): \(utun7.state) \(utun7.reason)")
        #expect(assessment.status == .unknown, "\(label): \(assessment.status)")
    }

    @Test func theReviewersPasteIsACutListing() throws {
        try Self.expectCutListing(try CaptureProofTests.fixture("backslash-ifconfig-head.txt"), "fixture")
    }

    /// Every way of writing the command word that runs ifconfig, at a prompt or alone on its line.
    @Test(arguments: [
        "jane@MacBook-Pro ~ % \\ifconfig -a | head -57", "jane@MacBook-Pro ~ % \"ifconfig\" -a | head -57",
        "jane@MacBook-Pro ~ % 'ifconfig' -a | head -57", "jane@MacBook-Pro ~ % \\sudo ifconfig -a | head -57",
        "jane@MacBook-Pro ~ % sudo \\ifconfig -a | head -57", "jane@MacBook-Pro ~ % i\\fconfig -a | head -57",
        "jane@MacBook-Pro ~ % \"/sbin/ifconfig\" -a | head -57", "jane@MacBook-Pro ~ % command \\ifconfig -a | head -57",
        "jane@MacBook-Pro ~ % \"sudo\" ifconfig -a | \\head -57", "jane@MacBook-Pro ~ % 'if'\"config\" -a | head -57",
        "\\ifconfig -a | head -57", "$ \\ifconfig -a | grep -A2 flags", "➜  ~ \\ifconfig -a | head -57",
    ])
    func aQuotedOrEscapedCommandWordRunsTheTool(commandLine: String) throws {
        try Self.expectCutListing(try Self.session(commandLine), commandLine)
    }

    /// Prompts of shells people run on macOS: nushell's `〉` (its older default, glued to the
    /// command, after the directory or alone) and a bare emoji prompt (`PS1='🍺 '`). (Where a
    /// prompt is not known at all, see `CaptureIntroducedCommandTests`.)
    @Test(arguments: ["〉ifconfig -a | head -57", "~/src〉ifconfig -a | head -57", "🍺 ifconfig -a | head -57", "🍺 \\ifconfig -a | head -57"])
    func otherShellsPromptsKeepTheFilter(commandLine: String) throws {
        try Self.expectCutListing(try Self.session(commandLine), commandLine)
    }

    /// Only a pictograph alone is such a prompt: a bullet or a dash starts an item of prose, whose
    /// words are no command between the listings; prose between them is another moment (round
    /// 37 F2), so utun6 is unknown either way, and only the notes tell the two apart.
    @Test(arguments: ["• open -a ClashX is what I tried first\n", "– open -a ClashX did nothing\n"])
    func aBulletIsNoPrompt(line: String) {
        let assessment = CapturePasteTests.assess(CaptureMomentTests.ifconfig + line + CaptureMomentTests.netstat)
        #expect(!assessment.snapshot.readingNotes.contains { $0.contains("command `open") }, "\(line): \(assessment.snapshot.readingNotes)")
        #expect(assessment.snapshot.readingNotes.contains { $0.contains("stands between two listings") }, "\(line)")
        #expect(CapturePasteTests.assess(CaptureMomentTests.ifconfig + "🍺 open -a ClashX\n" + CaptureMomentTests.netstat).status != .critical)
    }

    /// The control: `ifconfig -a` lists every interface, and utun7 is gone.
    @Test(arguments: ["jane@MacBook-Pro ~ % ifconfig -a", "jane@MacBook-Pro ~ % \\ifconfig -a", "jane@MacBook-Pro ~ % \"ifconfig\" -a", "🍺 ifconfig -a"])
    func aWholeListingStillShowsATunnelGone(commandLine: String) throws {
        let assessment = CapturePasteTests.assess(try Self.session(commandLine))
        #expect(assessment.status == .critical, "\(commandLine): \(assessment.findings.map(\.evidence))")
    }

    /// The other tools: a `\netstat -rn | head` leaves out rows, so no hoarded unit is known idle.
    @Test(arguments: ["\\netstat -rn | head -30", "\"netstat\" -rn | head -30", "'netstat' -rn | head -30"])
    func aCutRouteListingUnderAnEscapedCommandIsCut(command: String) throws {
        let head = try CaptureHoardTests.routesFiltered(command, keeping: { !$0.contains("utun5") && !$0.contains("utun6") && !$0.contains("utun7") })
        #expect(CaptureHoardTests.reapCommands(head).isEmpty, "\(command): \(CaptureHoardTests.reapCommands(head))")
    }

    /// And `\ps auxww | head -2` cuts the process listing, so no ZeroTier is proven absent.
    @Test(arguments: ["% \\ps auxww | head -2\n", "% \"ps\" auxww | head -2\n", "% sudo \\ps auxww | head -2\n"])
    func aCutProcessListingUnderAnEscapedCommandIsCut(commandLine: String) {
        let pair = CaptureOwnerTests.pair("feth1207", "feth6207", psRows: [CaptureOwnerTests.launchd])
        #expect(CaptureOwnerTests.orphaned(pair) == ["feth1207", "feth6207"])
        #expect(CaptureOwnerTests.orphaned(pair.replacingOccurrences(of: "% ps auxww\n", with: commandLine)).isEmpty, "\(commandLine)")
    }

    /// Commands between the listings are seen however their word is written: `\sleep 600` lets
    /// time pass, `"open" -a ClashX` may start a VPN.
    @Test(arguments: ["user@mbp ~ % \\sleep 600\n", "user@mbp ~ % \"open\" -a ClashX\n", "user@mbp ~ % 'sudo' wg-quick up wg0\n",
                      "user@mbp ~ % \\sudo \\wg-quick up wg0\n"])
    func anEscapedCommandBetweenTheListingsStartsAnotherMoment(between: String) {
        let assessment = CapturePasteTests.assess(CaptureMomentTests.ifconfig + between + CaptureMomentTests.netstat)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(between)")
    }

    /// A command typed by its path or with capitals is a command the reader does not know, which
    /// may change the tables: the listings before and after it are of two moments. Prose after
    /// a prompt (`Password:`) is none.
    @Test(arguments: ["user@mbp ~ % /Applications/WireGuard.app/Contents/MacOS/WireGuard &\n", "user@mbp ~ % OpenVPNConnect\n",
                      "user@mbp ~ % \"/Applications/Cisco/Cisco AnyConnect Secure Mobility Client.app/Contents/MacOS/Cisco AnyConnect Secure Mobility Client\"\n",
                      "user@mbp ~ % ~/bin/Reconnect-VPN.sh\n", "user@mbp ~ % sudo /Library/PrivilegedHelperTools/com.nordvpn.macos.helper\n"])
    func aCommandByItsPathOrWithCapitalsStartsAnotherMoment(between: String) {
        let assessment = CapturePasteTests.assess(CaptureMomentTests.ifconfig + between + CaptureMomentTests.netstat)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(between)")
        #expect(!ShellCommand.isRunnableWord("Password:") && !ShellCommand.isRunnableWord("done.") && ShellCommand.isRunnableWord("Tunnelblick"))
    }

    /// bash's and zsh's `$'…'` (with its escapes), `$"…"`, and zsh's `=ifconfig` run ifconfig too,
    /// at a prompt or alone on the line (the reviewer's paste is the first): the `| head` cuts it.
    @Test(arguments: [
        "jane@MacBook-Pro ~ % $'ifconfig' -a | head -57", "jane@MacBook-Pro ~ % $'\\x69fconfig' -a | head -57",
        "jane@MacBook-Pro ~ % $\"ifconfig\" -a | head -57", "jane@MacBook-Pro ~ % =ifconfig -a | head -57",
        "jane@MacBook-Pro ~ % $'\\151fconfig' -a | head -57", "jane@MacBook-Pro ~ % sudo $'ifconfig' -a | head -57",
        "$'ifconfig' -a | head -57", "$'\\x69fconfig' -a | head -57", "$\"ifconfig\" -a | head -57", "=ifconfig -a | head -57",
    ])
    func aCommandWordInAShellsOwnQuotingRunsTheTool(commandLine: String) throws {
        try Self.expectCutListing(try Self.session(commandLine), commandLine)
    }

    @Test func theReviewersAnsiCQuotedPasteIsACutListing() throws {
        try Self.expectCutListing(try CaptureProofTests.fixture("ansi-c-quoted-ifconfig-head.txt"), "fixture")
    }

    /// The control: so written without the cut, the listing is every interface, and utun7 is gone.
    @Test(arguments: ["jane@MacBook-Pro ~ % $'ifconfig' -a", "jane@MacBook-Pro ~ % =ifconfig -a", "$'\\x69fconfig' -a", "$\"ifconfig\" -a"])
    func aWholeListingInAShellsOwnQuotingStillShowsATunnelGone(commandLine: String) throws {
        let assessment = CapturePasteTests.assess(try Self.session(commandLine))
        #expect(assessment.status == .critical, "\(commandLine): \(assessment.findings.map(\.evidence))")
    }

    /// What the shell makes of a word: quotes taken away, a backslash dropped before what it
    /// escapes; a quote left open leaves no word of its own.
    @Test func theShellWordOfAWord() {
        #expect(ShellCommand.shellWord("\\ifconfig") == "ifconfig")
        #expect(ShellCommand.shellWord("\"ifconfig\"") == "ifconfig")
        #expect(ShellCommand.shellWord("'if'\"config\"") == "ifconfig")
        #expect(ShellCommand.shellWord("i\\fconfig") == "ifconfig")
        #expect(ShellCommand.shellWord("a\\\\b") == "a\\b")
        #expect(ShellCommand.shellWord("'a\\b'") == "a\\b")
        #expect(ShellCommand.shellWord("\"unclosed") == nil)
        #expect(ShellCommand.shellWord("netstat") == "netstat")
        #expect(ShellCommand.shellWord("$'\\x69fconfig'") == "ifconfig")
        #expect(ShellCommand.shellWord("$'\\151f'\"config\"") == "ifconfig")
        #expect(ShellCommand.shellWord("$'a\\'b'") == "a'b")
        #expect(ShellCommand.shellWord("$\"ifconfig\"") == "ifconfig")
        #expect(ShellCommand.shellWord("$'unclosed") == nil)
        #expect(ShellCommand.commandName("=ifconfig") == "ifconfig" && ShellCommand.commandName("=") == "=")
    }
}
