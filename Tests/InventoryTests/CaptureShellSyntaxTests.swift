import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A command line typed at a prompt runs a program however its command word is written: an
/// expansion (`sudo $(brew --prefix openvpn)/sbin/openvpn`), a history reference, a job spec,
/// shell syntax around the command, `su … -c` with the command as its argument. Each may have
/// opened the tun again, so a tuntaposx `closed` read before it says nothing of routes read
/// after it. A pipeline goes on past the line's end (`ps auxww |` then zsh's `pipe> head -6`),
/// and a listing run through a word that runs it (`command ps auxww | head -6`) is cut by the
/// line's pipe as the bare one is.
@Suite struct CaptureShellSyntaxTests {
    /// The tuntaposx session of `CaptureReconnectTests` with `line` between the `closed` block and
    /// the routes.
    static func reconnect(_ line: String) throws -> String {
        withoutPs(try CaptureProofTests.fixture("tunnelblick-closed-then-reconnect.txt"))
            .replacingOccurrences(of: "MacBook-Pro:~ bob$ open -a Tunnelblick\nMacBook-Pro:~ bob$ sleep 20\n", with: line)
    }

    /// The session without its closing `ps -axww -o pid,comm`, whose running openvpn doubts
    /// `closed` at any moment of the block or after it (round 37 F4).
    static func withoutPs(_ text: String) -> String {
        guard let start = text.range(of: "MacBook-Pro:~ bob$ ps -axww") else { return text }
        return String(text[..<start.lowerBound]) + "MacBook-Pro:~ bob$ \n"
    }

    static func expectNothingPlanned(_ text: String, _ label: String) throws {
        let assessment = CapturePasteTests.assess(text)
        let tun0 = try CaptureTuntaposxTests.verdict(assessment)
        #expect(tun0.state == .unknown, "\(label): \(tun0.state) \(tun0.reason)")
        #expect(!assessment.findings.contains { $0.severity == .critical || $0.reapable }, "\(label): \(assessment.findings.map(\.evidence))")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty, "\(label)")
    }

    static func expectClosedStands(_ text: String, _ label: String) throws {
        let assessment = CapturePasteTests.assess(text)
        #expect(try CaptureTuntaposxTests.verdict(assessment).state == .orphaned, "\(label)")
        #expect(CaptureTuntaposxTests.plan(assessment).items.map(\.ifname) == ["tun0"], "\(label)")
    }

    /// The reviewer's pastes: Homebrew's OpenVPN started through `$(brew --prefix openvpn)`, and
    /// Tunnelblick opened as an admin user with `su - admin -c`.
    @Test(arguments: ["brew-prefix-openvpn-daemon.txt", "su-dash-c-open-tunnelblick.txt"])
    func theReviewersSessionsPlanNothing(fixture: String) throws {
        try Self.expectNothingPlanned(try CaptureProofTests.fixture(fixture), fixture)
    }

    /// Command words that are expansions, history references, job specs or shell syntax, and
    /// `su`'s `-c` command: each runs a program that may have opened the tun again.
    @Test(arguments: [
        "sudo $(brew --prefix openvpn)/sbin/openvpn --config ~/client.ovpn --daemon", "sudo `brew --prefix`/sbin/openvpn --config c.ovpn --daemon",
        "$OPENVPN --config ~/client.ovpn --daemon", "\"$VPN_UP\"", "sudo \"$VPN_UP\"", "!open", "!-2", "!?Tunnel?", "^down^up",
        "sudo !!\nsudo openvpn --config ~/client.ovpn --daemon", "%1", "%+", "%%", "%sudo", "(open -a Tunnelblick)", "{ open -a Tunnelblick; }",
        "[ -d /Applications/Tunnelblick.app ] && open -a Tunnelblick", "[[ -d /Applications/Tunnelblick.app ]] && open -a Tunnelblick",
        "(( 1 )) && open -a Tunnelblick", "echo $(open -a Tunnelblick)", "vpn() { open -a Tunnelblick; }; vpn",
        "VPN=\"Work VPN\"; scutil --nc start \"$VPN\"", ": ; open -a Tunnelblick", "! open -a Tunnelblick", "2fa-vpn connect",
        "su admin -c 'sudo /usr/local/sbin/openvpn --config /etc/openvpn/client.ovpn --daemon'", "su - admin -c \"open -a Tunnelblick\"\nPassword:",
        "sudo su -c 'open -a Tunnelblick'", "sudo su root -c 'launchctl kickstart -k system/net.tunnelblick.tunnelblick.tunnelblickd'",
        // Commands that let minutes pass.
        "top -l 60 -s 10", "nettop -L 120 -s 5", "git clone https://github.com/Tunnelblick/Tunnelblick.git", "sudo log collect --last 1h",
        "scp big.img studio:",
    ])
    func aCommandWrittenAnyWayStartsAMoment(line: String) throws {
        try Self.expectNothingPlanned(try Self.reconnect("MacBook-Pro:~ bob$ \(line)\n"), line)
    }

    /// The controls: commands that only read, whatever their shape (`su` alone starts a shell,
    /// a substituted `date` only prints, one sample of top or nettop is over at once), keep the
    /// moment, and `closed` stands for the routes.
    @Test(arguments: ["su -", "su admin", "echo $(date)", "top -l 1", "nettop -L 1", "git status", "su admin -c 'ls /tmp'", "log show --last 1m"])
    func aReadingCommandKeepsTheMoment(line: String) throws {
        try Self.expectClosedStands(try Self.reconnect("MacBook-Pro:~ bob$ \(line)\n"), line)
    }

    /// Without prompts (a fence of commands and outputs, Warp's blocks), a command that changes
    /// the tables alone on its line between bare listings starts a moment, as at a prompt.
    @Test(arguments: ["open -a Tunnelblick", "sleep 20", "sudo killall -9 openvpn", "```\n```\nopen -a Tunnelblick\n```\n```"])
    func aBareChangeCommandStartsAMoment(line: String) throws {
        let text = try CaptureProofTests.fixture("bare-lines-open-tunnelblick-between.txt")
            .replacingOccurrences(of: "\nopen -a Tunnelblick\n", with: "\n\(line)\n")
        try Self.expectNothingPlanned(text, line)
    }

    /// The hoard form: `sudo killall -9 nesessionmanager` and `scutil --nc start` between the
    /// listing and lsof, without prompts: the killed pid's holders are tied to no unit.
    @Test func aBareKillBeforeLsofTiesNoHolders() throws {
        let text = try CaptureProofTests.fixture("bare-lines-hoard-killall-between.txt")
        #expect(!CaptureProofTests.verdict(text).findings.contains("warning utun-hoard -"), "\(CaptureProofTests.verdict(text))")
        #expect(CaptureHoardTests.reapCommands(text).isEmpty)
    }

    /// Prose alone on its line, and a line without a prompt outside any code block before any
    /// command, are no commands; but prose between two listings may stand for any time and any
    /// change ("I opened it again"): `closed` no longer stands for the routes (round 37 F2).
    @Test(arguments: ["I opened it again", "open the app", "sleep on it.", "then killall openvpn, as the guide says"])
    func proseBetweenBareListingsIsNoCommand(line: String) throws {
        let text = try CaptureProofTests.fixture("bare-lines-open-tunnelblick-between.txt")
            .replacingOccurrences(of: "\nopen -a Tunnelblick\n", with: "\n\(line)\n")
        try Self.expectNothingPlanned(text, line)
        #expect(!CapturePasteTests.assess(text).snapshot.readingNotes.contains { $0.contains("command `\(line)") })
        #expect(ShellCommand.bareChange(in: CaptureText(file: "", text: "open -a Tunnelblick\n"), lineAt: 0, inContext: false) == nil)
    }

    /// The ZeroTier session of `zsh-pipe-continued-ps-head.txt` with `lines` for its ps command
    /// line (the reviewer's own has zsh's `ps auxww |` and `pipe> head -6`).
    static func zeroTier(_ lines: String) throws -> String {
        try CaptureProofTests.fixture("zsh-pipe-continued-ps-head.txt")
            .replacingOccurrences(of: "alex@MacBook-Air ~ % ps auxww |\npipe> head -6\n", with: lines)
    }

    static func expectFethUnknown(_ text: String, _ label: String) {
        let assessment = CapturePasteTests.assess(text)
        #expect(!assessment.findings.contains { $0.reapable }, "\(label): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.filter { $0.interface.name.hasPrefix("feth") }.allSatisfy { $0.state == .unknown }, "\(label)")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty, "\(label)")
    }

    /// A pipeline continued on the next line, with zsh's or bash's continuation prompt or none
    /// (a mail program's wrap), and a ps run through `command`, `env`, `time`, a group or a
    /// substitution before `| head -6`: five rows are not every process.
    @Test(arguments: [
        "alex@MacBook-Air ~ % ps auxww |\npipe> head -6\n", "MacBook-Air:~ alex$ ps auxww |\n> head -6\n",
        "MacBook-Air:~ alex$ ps auxww |\n> grep -v zerotier\n", "alex@MacBook-Air ~ % ps -axo pid,comm |\npipe> head -6\n",
        "MacBook-Air:~ alex$ ps -axww -o pid,comm |\ngrep -v -E \"com.apple|/System/Library\" | head -6\n",
        "MacBook-Air:~ alex$ ps auxww\n| head -6\n", "MacBook-Air:~ alex$ command ps auxww | head -6\n",
        "MacBook-Air:~ alex$ env ps auxww | head -6\n", "MacBook-Air:~ alex$ time ps auxww | head -6\n",
        "MacBook-Air:~ alex$ echo \"$(ps auxww)\" | head -6\n", "MacBook-Air:~ alex$ { ps auxww; } | head -6\n",
    ])
    func aCutProcessListingDecidesNoFeth(lines: String) throws {
        Self.expectFethUnknown(try Self.zeroTier(lines), lines)
    }

    @Test func theReviewersCommandPsPasteDecidesNoFeth() throws {
        Self.expectFethUnknown(try CaptureProofTests.fixture("command-ps-head.txt"), "command-ps-head.txt")
    }

    /// The control: the same rows under a plain `ps auxww` (or `command ps auxww`) are every
    /// process, and no zerotier-one runs.
    @Test(arguments: ["alex@MacBook-Air ~ % ps auxww\n", "alex@MacBook-Air ~ % command ps auxww\n"])
    func aWholeProcessListingStillDecides(lines: String) throws {
        let assessment = CapturePasteTests.assess(try Self.zeroTier(lines))
        #expect(assessment.findings.contains { $0.id == FindingID.orphanedFeth && $0.reapable }, "\(lines): \(assessment.findings.map(\.evidence))")
    }
}
