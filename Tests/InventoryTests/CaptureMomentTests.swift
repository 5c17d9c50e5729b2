import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A transcript's listings are one moment only when nothing that changes the tables ran between
/// them: a VPN started after `ifconfig -a` makes a tunnel that listing could not show.
@Suite struct CaptureMomentTests {
    static let ifconfig = "user@mbp ~ % ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n"
    static let netstat = """
    user@mbp ~ % netstat -rn -f inet
    Routing tables

    Internet:
    Destination        Gateway            Flags               Netif Expire
    0/1                10.66.66.1         UGSc                utun6
    default            192.168.2.1        UGScg                 en0
    128.0/1            10.66.66.1         UGSc                utun6

    """

    /// Commands that start or stop a tunnel, or change routes, between the two listings.
    @Test(arguments: [
        "user@mbp ~ % sudo wg-quick up wg0\n[+] Interface for wg0 is utun6\n[#] route -q -n add -inet 0.0.0.0/1 -interface utun6\n",
        "user@mbp ~ % open -a \"ClashX Pro\"\n",
        "user@mbp ~ % sudo openvpn --config client.ovpn --daemon\n",
        "user@mbp ~ % sudo route -n add -net 0.0.0.0/1 10.66.66.1\nadd net 0.0.0.0: gateway 10.66.66.1\n",
        "user@mbp ~ % scutil --nc start \"Work VPN\"\n",
        "user@mbp ~ % sudo ifconfig utun6 up\n",
        "user@mbp ~ % clear; sudo openvpn --config corp.ovpn --daemon\n",
        "user@mbp ~ % cd ~/vpn && sudo openvpn --config corp.ovpn --daemon\n",
        // oh-my-zsh and lambda themes show the directory (and git status) after their arrow.
        "➜  ~ open -a ClashX\n", "➜  vpn git:(main) ✗ sudo wg-quick up wg0\n", "λ ~/ sudo openvpn --daemon\n",
        // agnoster's segments end in a powerline glyph.
        "user@MacBook-Pro \u{E0B0} ~ \u{E0B0} open -a ClashX\n",
        // Listings saved before a change and shown after it: their moments are not told.
        "user@mbp ~ % open -a ClashX\nuser@mbp ~ % cat /tmp/saved.txt\n",
    ])
    func aTunnelMadeBetweenTheListingsIsNotGone(between: String) {
        let assessment = CapturePasteTests.assess(Self.ifconfig + between + Self.netstat)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(between)")
        // Listed again after the command, the listing speaks for the routes' moment; unless the
        // command's own output says the tunnel is there (`[+] Interface for wg0 is utun6`), which
        // that listing then disputes.
        let again = CapturePasteTests.assess(Self.ifconfig + between + Self.ifconfig + Self.netstat)
        if between.contains("Interface for wg0 is utun6") {
            #expect(again.status != .critical, "\(between) then ifconfig -a again")
        } else {
            #expect(again.status == .critical, "\(between) then ifconfig -a again")
        }
    }

    /// Theme prompts whose commands were once skipped as prose, so that `open -a ClashX` between
    /// the listings went unseen and utun6 was called gone: each as the theme shows it, with the
    /// line a two-line theme puts above.
    static let themePrompts: [(theme: String, above: String, prompt: String)] = [
        ("prezto sorin", "", "~ ❯❯❯ "), ("gnzh", "╭─jane@Janes-MacBook-Pro ~\n", "╰─➤ "), ("crunch", "", "10:02 ~ ➭ "),
        ("simple", "", "~/ ⇒ "), ("cloud", "", "☁  ~ "), ("kennethreitz", "", "~ "), ("minimal", "", "jane ~ "),
        ("jonathan", "┌─(~)─┐\n", "└─(10:02:~)── "), ("agnoster as root, glyphs lost", "", "⚡ jane@mbp  ~  "), ("an emoji", "", "🍎 ~ "),
        ("xonsh", "", "jane@Janes-MacBook-Pro ~ @ "), ("a path", "", "jane /usr/local/src "),
    ]

    @Test(arguments: themePrompts.indices)
    func aThemePromptShowsTheCommandBetweenTheListings(index: Int) {
        let (theme, above, prompt) = Self.themePrompts[index]
        func session(_ between: String) -> String {
            let ifconfig = Self.ifconfig.replacingOccurrences(of: "user@mbp ~ % ", with: above + prompt)
            let netstat = Self.netstat.replacingOccurrences(of: "user@mbp ~ % ", with: above + prompt)
            return ifconfig + between + netstat
        }
        #expect(CapturePasteTests.assess(session("")).status == .critical, "\(theme): the control")
        let assessment = CapturePasteTests.assess(session(above + prompt + "open -a ClashX\n"))
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(theme): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(theme)")
    }

    /// Output and prose whose lines start like such a prompt are no command lines: a ps row of a
    /// path, a route row, prose naming a directory.
    @Test func linesThatOnlyLookLikeThemePromptsAreNoCommands() {
        for line in ["  412 /Library/Application Support/ZeroTier/One/zerotier-one", "rapportd 669 jane cwd DIR 1,4 640 2 /",
                     "The file is in ~/Downloads now.", "default            192.168.2.1        UGScg                 en0", "❯ is the prompt",
                     "[jane@mbp ~]$ ifconfig -a"] {
            let text = CaptureText(file: "t.txt", text: line)
            #expect(ShellCommand.directoryPromptEnd(in: text, at: 0) == nil, "\(line)")
        }
        for word in ["❯❯❯", "➤", "➭", "⇒", "╰─➤", "└─(10:02:~)──"] { #expect(ShellCommand.isPrompt(word), "\(word)") }
        for word in ["┌─(~)─┐", "->", ">>>", "(10:02)"] { #expect(!ShellCommand.isPrompt(word), "\(word)") }
    }

    /// Prose that names a directory, and output rows that start with a path (`mount`'s, the
    /// `ps -axo command` rows of agents), were once read as a theme prompt and a command: a
    /// command between the listings, whose routes then went unjudged. Nothing ran between them.
    @Test(arguments: [
        "so in ~/Downloads run this next\n", "so in ~/Downloads open the dmg\n", "in ~/Downloads run this next\n",
        "user@mbp ~ % mount\n/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)\ndevfs on /dev (devfs, local, nobrowse)\n"
            + "/dev/disk3s6 on /System/Volumes/VM (apfs, local, noexec, journaled, noatime, nobrowse)\nmap auto_home on /System/Volumes/Data/home (autofs, automounted, nobrowse)\n",
        "user@mbp ~ % ps -axo command\nCOMMAND\n/sbin/launchd\n/usr/sbin/cfprefsd agent\n/usr/libexec/trustd agent\n/usr/sbin/distnoted agent\n",
    ])
    func linesWithAPathBetweenTheListingsAreNoCommand(between: String) {
        let assessment = CapturePasteTests.assess(Self.ifconfig + between + Self.netstat)
        // (Prose between the listings is no command, but may stand for any time: round 37 F2.)
        let prose = !between.contains("%")
        #expect(assessment.status == (prose ? .unknown : .critical), "\(between): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.snapshot.readingNotes.contains { $0.contains("command `open") || $0.contains("command `run") })
        for line in between.split(separator: "\n") where !line.contains("%") {
            #expect(ShellCommand.directoryPromptEnd(in: CaptureText(file: "t.txt", text: String(line)), at: 0) == nil, "\(line)")
        }
    }

    /// A sentence that names a directory above a paste with no prompt is no command line: the
    /// listing under it is still `ifconfig -a`'s, every interface.
    @Test func proseWithADirectoryAboveAPasteIsNoCommand() {
        let listing = CapturePasteTests.loAndEn0 + "\n" + Self.netstat.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"
        let text = "so in ~/Downloads i ran ifconfig -a and got\n" + listing
        #expect(ShellCommand.directoryPromptEnd(in: CaptureText(file: "t.txt", text: text), at: 0) == nil)
        let contents = CaptureReader.read(CaptureText(file: "t.txt", text: text))
        #expect(!contents.notes.contains { $0.contains("command `i ran") }, "\(contents.notes)")
    }

    /// One line running a listing, a command that may change the tables and more (`ifconfig -a &&
    /// open -a ClashX && netstat -rn`) prints more than one moment with nothing to tell them
    /// apart; and `clear; ifconfig | head` pipes its listing on: neither listing is whole.
    @Test(arguments: ["% ifconfig -a && open -a ClashX && sleep 5 && netstat -rn -f inet\n", "% ifconfig -a; sudo wg-quick up wg0; netstat -rn -f inet\n",
                      "% clear; ifconfig | head -9\n", "% netstat -rn; ifconfig | head -9\n"])
    func severalCommandsOnOneLineAreNotOneListing(line: String) {
        let listing = CapturePasteTests.loAndEn0 + "\n" + Self.netstat.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"
        let text = line.contains("head") ? line + CapturePasteTests.loAndEn0 + "\n" + Self.netstat.replacingOccurrences(of: "user@mbp ~ % ", with: "% ") : line + listing
        let assessment = CapturePasteTests.assess(text)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(line): \(assessment.findings.map(\.evidence))")
    }

    /// Changes before every listing of a line only start the moment its output is of.
    @Test func changesBeforeEveryListingOfALineStartItsMoment() {
        let deleted = CapturePasteTests.assess(Self.ifconfig + Self.netstat + "% sudo route -n delete -net 0.0.0.0/1 && netstat -rn -f inet\n"
            + "Destination        Gateway            Flags               Netif Expire\ndefault            192.168.2.1        UGScg                 en0\n128.0/1            10.66.66.1         UGSc                utun6\n")
        // (the later listing is whole: the route deleted on its line is gone from the picture)
        #expect(!deleted.findings.contains { $0.routes?.contains { $0.destination.description == "0.0.0.0/1" } == true }, "\(deleted.findings.map(\.evidence))")
        #expect(deleted.snapshot.routes.contains { $0.destination.description == "128.0.0.0/1" })
    }

    /// Listings saved to files before a change and shown together after it are of moments the
    /// capture does not tell; with no change, they are one.
    @Test func savedListingsShownAfterAChangeAreNotOneMoment() {
        let shown = "user@mbp ~ % ifconfig -a > /tmp/if.txt\nuser@mbp ~ % open -a ClashX\nuser@mbp ~ % netstat -rn -f inet > /tmp/ns.txt\n"
            + "user@mbp ~ % cat /tmp/if.txt /tmp/ns.txt\n" + CapturePasteTests.loAndEn0 + "\n" + Self.netstat.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"
        #expect(!CapturePasteTests.assess(shown).findings.contains { $0.severity == .critical })
        #expect(CapturePasteTests.assess(shown.replacingOccurrences(of: "user@mbp ~ % open -a ClashX\n", with: "")).status == .critical)
    }

    /// `bat` shows saved files as `cat` does: listings saved at one moment and shown with it are
    /// that moment, and a listing saved before a change and shown after it is of none told.
    @Test(arguments: ["bat -pp", "bat --paging=never", "bat -P", "bat --style=plain --paging=never", "/opt/homebrew/bin/bat -pp"])
    func savedListingsShownWithBatKeepTheirMoment(bat: String) {
        let rows = Self.netstat.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"
        let shown = "user@mbp ~ % ifconfig -a > if.txt\nuser@mbp ~ % netstat -rn -f inet > rt.txt\nuser@mbp ~ % \(bat) if.txt\n"
            + CapturePasteTests.loAndEn0 + "\nuser@mbp ~ % \(bat) rt.txt\n" + rows
        #expect(CapturePasteTests.assess(shown).status == .critical, "\(bat): \(CapturePasteTests.assess(shown).findings.map(\.evidence))")
        let afterChange = "user@mbp ~ % ifconfig -a > if.txt\nuser@mbp ~ % open -a ClashX\n" + Self.netstat + "user@mbp ~ % \(bat) if.txt\n" + CapturePasteTests.loAndEn0 + "\n"
        #expect(!CapturePasteTests.assess(afterChange).findings.contains { $0.severity == .critical }, "\(bat) after a change")
    }

    /// Quotes with a separator glued on, a user named like a command, powerline path segments
    /// and files saved at the same moment they are shown: none hides a change or makes one.
    @Test func commandLinesAreReadAsTheShellReadsThem() {
        #expect(ShellCommand.mayChangeTables(line: ["netstat", "-rn", "|", "grep", "'utun';", "open", "-a", "ClashX"]))
        #expect(ShellCommand.mayChangeTables(line: ["echo", "\"hi\";", "sudo", "route", "add", "x"]))
        #expect(!ShellCommand.mayChangeTables(line: ["echo", "'a", "b';", "ping", "-c", "1", "x"]))
        // (`pingu@mbp ~ % ping …`: the command is `ping`, which reads, not the user `pingu@mbp`.)
        let pingu = Self.ifconfig + "pingu@mbp ~ % ping -c 1 1.1.1.1\n" + Self.netstat
        #expect(CapturePasteTests.assess(pingu).status == .critical)
        // Quoted separators and quotes with separators glued on.
        #expect(!ShellCommand.mayChangeTables(line: ["cut", "-d", "';'", "-f1", "x"]))
        #expect(ShellCommand.mayChangeTables(line: ["grep", "'a", "b'&&", "open", "-a", "ClashX"]))
        #expect(ShellCommand.mayChangeTables(line: ["grep", "'x'|xargs", "sudo", "route", "delete"]))
        // A listing piped on after another command is cut; the line's other listings are whole.
        #expect(ShellCommand.listingsPipedOn(line: ["netstat", "-rn;", "ifconfig", "|", "head", "-20"]) == [.ifconfig])
        #expect(ShellCommand.listingsPipedOn(line: ["ifconfig", "-a;", "netstat", "-rn", "|", "grep", "utun"]) == [.netstat])
        #expect(ShellCommand.listingsPipedOn(line: ["netstat", "-rn;", "sudo", "lsof", "-nP", "|", "head", "-40"]) == [.lsof])
        let lsofCut = CaptureReader.read(CaptureText(file: "p", text: "% netstat -rn; sudo lsof -nP | head -3\nCOMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nopenvpn 42 root 7u systm 0x1 0t0 [ctl com.apple.net.utun_control id 2 unit 5]\nrapportd 402 mia 9u systm 0x2 0t0 [ctl com.apple.net.utun_control id 2 unit 1]\n"))
        #expect(!lsofCut.lsofWhole)
        let bothWhole = "% ifconfig -a; netstat -rn | grep utun\n" + CapturePasteTests.loAndEn0 + "\n0/1                10.66.66.1         UGSc                utun6\n128.0/1            10.66.66.1         UGSc                utun6\n"
        #expect(CapturePasteTests.assess(bothWhole).status == .critical, "\(CapturePasteTests.assess(bothWhole).findings.map(\.evidence))")
        let powerline = Self.ifconfig + "user@mbp \u{E0B0} ~ \u{E0B0} src \u{E0B0} vpn \u{E0B0} ping -c 1 1.1.1.1\n" + Self.netstat
        #expect(CapturePasteTests.assess(powerline).status == .critical)
        let savedThenShown = "user@mbp ~ % sudo route -n delete -net 10.0.0.0/8\nuser@mbp ~ % ifconfig -a > if.txt\nuser@mbp ~ % netstat -rn -f inet > ns.txt\nuser@mbp ~ % cat if.txt ns.txt\n"
            + CapturePasteTests.loAndEn0 + "\n" + Self.netstat.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"
        #expect(CapturePasteTests.assess(savedThenShown).status == .critical)
    }

    /// Another machine's output (after `ssh host`, a one-line `ssh host cmd`, or under a prompt
    /// naming another host) is of no moment of this one's.
    @Test(arguments: ["user@mbp ~ % ssh admin@studio.local\nadmin@Studio ~ % ifconfig -a\n", "user@mbp ~ % ssh admin@studio.local ifconfig -a\n",
                      "admin@Studio ~ % ifconfig -a\n", "user@mbp ~ % LC_ALL=C ssh studio\n% ifconfig -a\n", "Studio:~ admin$ ifconfig -a\n"])
    func anotherMachinesListingIsNotThisOnes(remote: String) {
        let text = Self.netstat + remote + CapturePasteTests.loAndEn0 + "\n"
        #expect(!CapturePasteTests.assess(text).findings.contains { $0.severity == .critical }, "\(remote)")
        // Back on this machine after `exit`, a listing is of a moment of its own again.
        #expect(CapturePasteTests.assess(Self.ifconfig + Self.netstat).status == .critical)
        #expect(ShellCommand.promptHost(["mike@Work-MBP", "~", "%"]) == "work-mbp" && ShellCommand.promptHost(["Work-MBP:~", "mike$"]) == "work-mbp"
                && ShellCommand.promptHost(["[mike@host", "~]$"]) == "host" && ShellCommand.promptHost(["%"]) == nil
                && ShellCommand.promptHost(["mike@MacBook-Pro.local", "~", "%"]) == "macbook-pro")
        // The same machine however its prompt names it, and ssh that never leaves the shell.
        for between in ["", "mike@MacBook-Pro.local ~ % ssh -V\nOpenSSH_9.0p1, LibreSSL 3.3.6\n", "mike@MacBook-Pro ~ % ssh -T git@github.com\nHi mike!\n",
                        "mike@MacBook-Pro ~ % ssh -fN -D 1080 studio\n"] {
            let same = Self.ifconfig.replacingOccurrences(of: "user@mbp ~ % ", with: "mike@MacBook-Pro ~ % ") + between
                + Self.netstat.replacingOccurrences(of: "user@mbp ~ % ", with: "MacBook-Pro:~ mike$ ")
            #expect(CapturePasteTests.assess(same).status == .critical, "\(between)")
        }
    }

    /// A prompt's words before its last (`(base) user@host ~ %`, `[user@host ~]$`) are the
    /// prompt's, not a note left in the listing above it; and reading commands, wherever the
    /// line puts them, keep one moment.
    @Test(arguments: ["(base) user@MacBook-Pro ~ % ", "[user@host ~]$ ", "[host:~] user% ", "(venv) ~/proj % "])
    func promptDecorationsAreThePrompts(prompt: String) {
        let text = Self.ifconfig.replacingOccurrences(of: "user@mbp ~ % ", with: prompt) + Self.netstat.replacingOccurrences(of: "user@mbp ~ % ", with: prompt)
        #expect(CapturePasteTests.assess(text).status == .critical, "\(prompt)")
        // The routes first, and the paste ending at a prompt with nothing typed after it.
        let reversed = Self.netstat.replacingOccurrences(of: "user@mbp ~ % ", with: prompt) + Self.ifconfig.replacingOccurrences(of: "user@mbp ~ % ", with: prompt)
            + prompt.trimmingCharacters(in: .whitespaces) + "\n"
        #expect(CapturePasteTests.assess(reversed).status == .critical, "\(prompt) at the end")
    }

    /// Reading commands between them change nothing: the tunnel missing from a whole listing
    /// is gone.
    @Test(arguments: ["user@mbp ~ % route -n get default\n   route to: default\n  interface: en0\n", "user@mbp ~ % sw_vers\nProductName:\tmacOS\n",
                      "user@mbp ~ % ping -c 1 1.1.1.1\nPING 1.1.1.1 (1.1.1.1): 56 data bytes\n", "user@mbp ~ % ifconfig en0\n", ""])
    func readingBetweenTheListingsKeepsOneMoment(between: String) {
        let assessment = CapturePasteTests.assess(Self.ifconfig + between + Self.netstat)
        #expect(assessment.status == .critical, "\(between): \(assessment.findings.map(\.evidence))")
    }

    /// A second round of listings is the table of now. After a command that may have removed a
    /// tunnel only the first `ifconfig -a` showed, it is gone, and routes still naming it lead
    /// nowhere; with none between, the two listings of one moment disagree (the tunnel went away,
    /// or the second paste was cut at a block's end), and the tunnel is unknown. Prose between the
    /// rounds ("ClashX crashed here") is another moment as a command is (round 37 F2).
    @Test(arguments: [("user@mbp ~ % sudo killall -9 ClashX\n", true), ("ClashX crashed here, then I ran the same commands again:\n", nil),
                      ("user@mbp ~ % ping -c 1 1.1.1.1\n", false)])
    func aLaterRoundOfListingsIsTheTableOfNow(between: String, removing: Bool?) {
        let withTunnel = Self.ifconfig.replacingOccurrences(of: "\tstatus: active", with: "\tstatus: active\nutun6: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1500\n\tinet 10.66.66.2 --> 10.66.66.1 netmask 0xffffffff")
        let assessment = CapturePasteTests.assess(withTunnel + Self.netstat + between + Self.ifconfig + Self.netstat)
        #expect(!assessment.interfaces.contains { $0.interface.name == "utun6" && $0.state == .live })
        if removing == nil {
            #expect(!assessment.findings.contains { $0.severity == .critical }, "\(between): \(assessment.findings.map(\.evidence))")
            #expect(assessment.snapshot.readingNotes.contains { $0.contains("stands between two listings") })
        } else if removing == true {
            #expect(assessment.status == .critical, "\(between): \(assessment.findings.map(\.evidence))")
        } else {
            #expect(!assessment.findings.contains { $0.severity == .critical }, "\(between): \(assessment.findings.map(\.evidence))")
            #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown)
            #expect(assessment.snapshot.readingProblems.contains { $0.contains("whether it went away or the paste was cut is unknown") })
        }
        // Routes read only before the tunnel went, and never again, prove nothing gone.
        let routesBefore = CapturePasteTests.assess(withTunnel + Self.netstat + between + Self.ifconfig)
        #expect(!routesBefore.findings.contains { $0.severity == .critical }, "\(between): \(routesBefore.findings.map(\.evidence))")
        // Both rounds with the tunnel in each: a live tunnel.
        #expect(CapturePasteTests.assess(withTunnel + Self.netstat + between + withTunnel + Self.netstat).status == .ok)
    }

    /// Every process at another moment than the feth pair's listing says nothing of whether
    /// ZeroTier runs with it.
    @Test func aPsListingOfAnotherMomentDecidesNoFeth() {
        let ps = "user@mbp ~ % ps auxww\nUSER               PID  %CPU %MEM      VSZ    RSS   TT  STAT STARTED      TIME COMMAND\n"
            + CaptureOwnerTests.launchd + "\n"
        let pair = CaptureOwnerTests.pair("feth1207", "feth6207", psRows: []).components(separatedBy: "% ps auxww")[0]
        let later = ps + "user@mbp ~ % sudo launchctl load /Library/LaunchDaemons/com.zerotier.one.plist\n" + pair
        #expect(!CapturePasteTests.assess(later).findings.contains { $0.id == FindingID.orphanedFeth })
        #expect(CapturePasteTests.assess(ps + pair).findings.contains { $0.id == FindingID.orphanedFeth })
        // So does a filtered one, and one taken after the pair's listing.
        let grep = "user@mbp ~ % ps auxww | grep -i zerotier\nmia               5120   0.0  0.0 408626880   1360 s000  S+    9:41AM   0:00.00 grep -i zerotier\n"
        let kickstart = "user@mbp ~ % sudo launchctl kickstart system/com.zerotier.one\n"
        #expect(!CapturePasteTests.assess(grep + kickstart + pair).findings.contains { $0.id == FindingID.orphanedFeth })
        #expect(!CapturePasteTests.assess(pair + "user@mbp ~ % sudo killall zerotier-one\n" + grep).findings.contains { $0.id == FindingID.orphanedFeth })
        #expect(CapturePasteTests.assess(pair + grep).findings.contains { $0.id == FindingID.orphanedFeth })
    }

    /// ping's `100.0% packet loss` ends in `%` like a zsh prompt but is output: the listings
    /// around it stay one moment.
    @Test func aPercentageIsNotAPrompt() {
        let ping = "user@mbp ~ % ping -c 2 1.1.1.1\nPING 1.1.1.1 (1.1.1.1): 56 data bytes\nRequest timeout for icmp_seq 0\n\n--- 1.1.1.1 ping statistics ---\n2 packets transmitted, 0 packets received, 100.0% packet loss\n"
        #expect(CapturePasteTests.assess(Self.ifconfig + ping + Self.netstat).status == .critical)
        #expect(!ShellCommand.isPrompt("100.0%") && !ShellCommand.isPrompt("50%") && ShellCommand.isPrompt("%") && ShellCommand.isPrompt("host%"))
    }

    @Test func whichCommandsMayChangeTheTables() {
        func changes(_ line: String) -> Bool { ShellCommand.mayChangeTables(line: line.split(separator: " ").map(String.init)) }
        for line in ["wg-quick up wg0", "open -a Tailscale", "sudo route delete default", "ifconfig feth0 create", "networksetup -setv6off Wi-Fi",
                     "launchctl kickstart -k system/com.zerotier.one", "tunwarden reap --from x", "killall openvpn", "tailscale up",
                     "brew services restart zerotier-one", "pfctl -f /etc/pf.conf", "ipconfig set en0 DHCP", "sudo ifconfig utun6 up",
                     // Every command of a compound line counts.
                     "clear; sudo openvpn --config corp.ovpn --daemon", "clear;sudo openvpn --daemon", "cd ~/vpn && sudo openvpn --daemon",
                     "ifconfig utun6 || sudo wg-quick up wg0", "netstat -rn | awk '/utun6/ {print $1}' | xargs -n1 sudo route -n delete",
                     "sleep 5 & sudo wg-quick up wg0", "(sudo openvpn --daemon)", "sudo -u root openvpn",
                     // Time let pass, in which anything may have changed them.
                     "ping -c 2 1.1.1.1 && sleep 1", "sudo tcpdump -ni utun4 -c 3", "route -n monitor", "ping 10.8.0.1", "ping -c 100 1.1.1.1",
                     "top -o cpu", "tail -f /var/log/system.log", "log stream --predicate x", "sudo -u root sleep 30",
                     // A transfer lasts as long as the network takes (a 4 GB image, minutes).
                     "scp notes.txt studio:"] {
            #expect(changes(line), "\(line)")
        }
        for line in ["route -n get default", "ifconfig utun3", "ifconfig -a inet", "netstat -rn", "sudo lsof -nP", "ps auxww", "scutil --nc list",
                     "networksetup -listallnetworkservices", "launchctl list", "cat /etc/hosts", "tunwarden audit", "tailscale status",
                     "brew services list", "pfctl -s rules", "ipconfig getifaddr en0", "sudo dscacheutil -flushcache; sudo killall -HUP mDNSResponder",
                     "networksetup -setdnsservers Wi-Fi 1.1.1.1", "netstat -rn | grep utun | head -5", "ifconfig -a; netstat -rn", "ping -c 2 1.1.1.1 && ping6 -c3 ::1",
                     "exit", "sudo su -", "export LANG=C", "sudo zerotier-cli listnetworks", "sudo -u alice netstat -rn",
                     "netstat -rn | awk '{print $1; print $2}'", "ifconfig en0 inet", "ifconfig -a > if.txt; cat if.txt",
                     "sudo killall -HUP mDNSResponder mDNSResponderHelper", "for i in 0 1 2; do ifconfig -v utun$i; done",
                     "git remote -v", "ssh-add -l", "ssh-keygen -lf ~/.ssh/id_ed25519.pub"] {
            #expect(!changes(line), "\(line)")
        }
    }

    /// The routes of one moment into utun4, then a listing of every interface at a later one.
    static let utun4Rows = "0/1                utun4              USc                 utun4\n128.0/1            utun4              USc                 utun4\n"
    static let utun5Rows = "0/1                utun5              USc                 utun5\n128.0/1            utun5              USc                 utun5\n"
    static let ifconfigWithUtun5 = ifconfig + "utun5: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1420\n\tinet 10.64.0.2 --> 10.64.0.2 netmask 0xffffffff\n"

    /// A tunnel routes showed before time passed (a wait, a capture or ping left running until
    /// ^C, `route monitor` watching the table change) and a later listing lacks may have been
    /// replaced meanwhile (a VPN that reconnected on another utun): unknown, and no route is
    /// advised away.
    @Test(arguments: [
        "user@mbp ~ % sleep 60\n",
        "user@mbp ~ % sudo tcpdump -ni utun4 -c 3\nPassword:\nlistening on utun4, link-type NULL (BSD loopback), snapshot length 524288 bytes\ntcpdump: pcap_loop: The interface disappeared\n0 packets captured\n",
        "user@mbp ~ % route -n monitor\n\ngot message of size 168 on Tue Mar 12 09:20:41 2024\nRTM_DELETE: Delete Route: len 168, pid: 0, seq 0, errno 0, ifscope 0, flags:<UP,DONE,STATIC,PRCLONING>\nlocks:  inits: \nsockaddrs: <DST,GATEWAY,NETMASK>\n 0.0.0.0 link#24 (0) 8000\n^C\n",
        "user@mbp ~ % ping 10.64.0.1\nPING 10.64.0.1 (10.64.0.1): 56 data bytes\nRequest timeout for icmp_seq 0\n^C\n",
        "user@mbp ~ % date; sleep 30; date\nTue Mar 12 09:20:31 CET 2024\nTue Mar 12 09:21:01 CET 2024\n",
        // nettop without a sample count runs until it is quit.
        "user@mbp ~ % nettop -P -J bytes_in,bytes_out\n", "user@mbp ~ % sudo nettop -m route\n",
    ])
    func timePassingBetweenTheListingsIsAnotherMoment(between: String) {
        let routes = "user@mbp ~ % netstat -rn -f inet | grep utun\n" + Self.utun4Rows
        let assessment = CapturePasteTests.assess(routes + between + Self.ifconfigWithUtun5)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.findings.contains { $0.evidence.contains("route -n delete") }, "\(between)")
        #expect(assessment.interfaces.first { $0.interface.name == "utun4" }?.state == .unknown, "\(between)")
        // With nothing between, the same listings are one moment and utun4 is gone.
        #expect(CapturePasteTests.assess(routes + Self.ifconfigWithUtun5).status == .critical)
    }

    /// Commands that can take minutes, waiting on the network or on a person, let time pass as
    /// `sleep` does: a ping counted out over minutes, a traceroute through silent hops, a read
    /// of the keyboard, an editor, a pager, a download. A tunnel the earlier routes showed may
    /// have been replaced meanwhile: unknown, and no route is advised away.
    @Test(arguments: [
        "user@mbp ~ % traceroute -n 8.8.8.8\ntraceroute to 8.8.8.8 (8.8.8.8), 64 hops max, 52 byte packets\n 1  * * *\n 2  * * *\n 3  10.0.0.1  9.334 ms  8.902 ms  9.114 ms\n",
        "user@mbp ~ % ping -c 5 -i 60 8.8.8.8\nPING 8.8.8.8 (8.8.8.8): 56 data bytes\n64 bytes from 8.8.8.8: icmp_seq=0 ttl=117 time=14.1 ms\n",
        "user@mbp ~ % ping -c10 -i30 1.1.1.1\n", "user@mbp ~ % ping -c 5 -W 5000 1.1.1.1\n", "user@mbp ~ % sudo ping -qc 20 10.64.0.1\n",
        "user@mbp ~ % ping -t 60 1.1.1.1\n",
        "user@mbp ~ % read '?reconnect ClashX, then press enter '\nreconnect ClashX, then press enter \n",
        "user@mbp ~ % sudo vim /etc/hosts\n", "user@mbp ~ % nano ~/.ssh/config\n", "user@mbp ~ % man ifconfig\n",
        "user@mbp ~ % less /var/log/system.log\n", "user@mbp ~ % cat notes.txt | more\n",
        "user@mbp ~ % curl -m 120 -sS https://example.com -o /dev/null\ncurl: (28) Connection timed out after 120002 milliseconds\n",
        "user@mbp ~ % curl -sS https://example.com -o /dev/null\n", "user@mbp ~ % nc -v 10.64.0.1 22\n",
        "user@mbp ~ % wget https://example.com/big.iso\n",
        // A limit longer than a few seconds, bundled with other letters; `-o`'s value is no limit.
        "user@mbp ~ % curl -sm 120 https://example.com\n", "user@mbp ~ % curl -sSm60 https://example.com\n",
        "user@mbp ~ % curl -so m3 https://example.com\n",
        // nc listening, probing several ports, without a timeout, or with a long one; `-G` bounds
        // only the connect of a probe, not a session.
        "user@mbp ~ % nc -l 7890\n", "user@mbp ~ % nc -l -w 2 7890\n", "user@mbp ~ % nc -z -w 2 10.0.0.1 20-1000\n",
        "user@mbp ~ % nc -z -w 2 10.0.0.1 22 80 443\n", "user@mbp ~ % nc -z 10.0.0.1 22\n", "user@mbp ~ % nc -zw 30 10.0.0.1 22\n",
        "user@mbp ~ % nc -G 2 10.0.0.1 22\n",
    ])
    func waitingOnTheNetworkOrAPersonIsAnotherMoment(between: String) {
        let routes = "user@mbp ~ % netstat -rn -f inet | grep utun\n" + Self.utun4Rows
        let assessment = CapturePasteTests.assess(routes + between + Self.ifconfigWithUtun5)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.findings.contains { $0.evidence.contains("route -n delete") }, "\(between)")
        #expect(assessment.interfaces.first { $0.interface.name == "utun4" }?.state == .unknown, "\(between)")
    }

    /// Commands over in a few seconds leave the listings around them one moment: a short ping
    /// (its count times its interval, with `-W`'s wait, at most `-t`), a bounded curl, the text
    /// tools, a lookup.
    @Test(arguments: ["ping -c 3 1.1.1.1", "ping -c3 1.1.1.1", "ping -qc3 1.1.1.1", "ping -n -c 3 1.1.1.1", "ping -c 3 -W 1000 1.1.1.1",
                      "ping -c 3 -t 5 1.1.1.1", "ping -c 50 -t 3 1.1.1.1", "ping -c 10 -i 0.2 1.1.1.1", "curl -m 3 -sI https://example.com",
                      "cat /etc/hosts", "grep utun notes.txt", "head -3 notes.txt", "echo done", "date", "dig +short example.com"])
    func shortCommandsBetweenTheListingsKeepOneMoment(command: String) {
        let routes = "user@mbp ~ % netstat -rn -f inet | grep utun\n" + Self.utun4Rows
        let assessment = CapturePasteTests.assess(routes + "user@mbp ~ % \(command)\n" + Self.ifconfigWithUtun5)
        #expect(assessment.status == .critical, "\(command): \(assessment.findings.map(\.evidence))")
        #expect(ShellCommand.pingDuration(["-c", "5", "-i", "60", "x"]) == 300 && ShellCommand.pingDuration(["-qc3", "x"]) == 3
                && ShellCommand.pingDuration(["-c", "5", "-W", "5000", "x"]) == 10 && ShellCommand.pingDuration(["-c", "9", "-t", "4", "x"]) == 4
                && ShellCommand.pingDuration(["x"]) == nil)
    }

    /// curl's own time limit bounds it however its options are written: `-m` clustered with other
    /// letters, with its value in the same word or the next, as getopt reads them.
    @Test(arguments: ["curl -sm 3 https://ifconfig.me", "curl -sSm3 https://ifconfig.me", "curl -Im 3 https://www.apple.com",
                      "curl -fsSLm 2 -o /dev/null https://example.com", "curl -o /dev/null -sm2 https://example.com"])
    func curlsBundledTimeLimitKeepsOneMoment(command: String) {
        let routes = "user@mbp ~ % netstat -rn -f inet | grep utun\n" + Self.utun4Rows
        let assessment = CapturePasteTests.assess(routes + "user@mbp ~ % \(command)\n" + Self.ifconfigWithUtun5)
        #expect(assessment.status == .critical, "\(command): \(assessment.findings.map(\.evidence))")
    }

    /// nc probing one port with a connect timeout of a few seconds (`-w`, macOS's `-G`, with `-z`),
    /// or closing a connection idle for `-w`'s few seconds, is over in moments.
    @Test(arguments: ["nc -z -G 2 -w 2 127.0.0.1 7890", "nc -zw2 127.0.0.1 7890", "nc -z -G 3 10.0.0.1 22", "nc -vz -w 1 10.64.0.1 51820",
                      "ncat -z -w 2 127.0.0.1 7890", "nc -w 2 my-router.local 80", "nc -zvG2 localhost 7890"])
    func ncWithAShortTimeoutKeepsOneMoment(command: String) {
        let routes = "user@mbp ~ % netstat -rn -f inet | grep utun\n" + Self.utun4Rows
        let assessment = CapturePasteTests.assess(routes + "user@mbp ~ % \(command)\n" + Self.ifconfigWithUtun5)
        #expect(assessment.status == .critical, "\(command): \(assessment.findings.map(\.evidence))")
    }

    /// nettop told how many samples to take, to the screen (`-l`) or as CSV (`-L`), exits after them.
    @Test(arguments: ["nettop -L 1", "nettop -P -L 1 -J bytes_in,bytes_out", "sudo nettop -m route -L1", "nettop -l 1 -P"])
    func nettopWithASampleCountKeepsOneMoment(command: String) {
        let routes = "user@mbp ~ % netstat -rn -f inet | grep utun\n" + Self.utun4Rows
        let assessment = CapturePasteTests.assess(routes + "user@mbp ~ % \(command)\n" + Self.ifconfigWithUtun5)
        #expect(assessment.status == .critical, "\(command): \(assessment.findings.map(\.evidence))")
    }

    /// A pager waits on its reader after it has shown what it shows: what follows it is of a
    /// later moment, unless its output was piped on or it was told not to page.
    @Test func aPagerWaitsAfterItsOutput() {
        let routes = "user@mbp ~ % netstat -rn -f inet | grep utun\n" + Self.utun4Rows
        let after = CapturePasteTests.assess(routes + "user@mbp ~ % less notes.txt\nnothing here\n" + Self.ifconfigWithUtun5)
        #expect(after.interfaces.first { $0.interface.name == "utun4" }?.state == .unknown, "\(after.findings.map(\.evidence))")
        #expect(!ShellCommand.waitsAfterItsOutput(line: ["less", "notes.txt", "|", "grep", "x"]) && !ShellCommand.waitsAfterItsOutput(line: ["bat", "-pp", "if.txt"]))
        #expect(ShellCommand.waitsAfterItsOutput(line: ["ifconfig", "-a", "|", "less"]) && ShellCommand.waitsAfterItsOutput(line: ["bat", "if.txt"]))
    }

    /// A loop, or one line with a wait between its listings, prints tables of several moments
    /// with nothing to tell where one ends; what follows is of another moment again.
    @Test(arguments: [
        "user@mbp ~ % while true; do netstat -rn -f inet | grep utun; sleep 5; done\n",
        "user@mbp ~ % while true; do date; netstat -rn -f inet | grep utun; sleep 5; done\nTue Mar 12 09:20:31 CET 2024\n",
        "user@mbp ~ % for i in 1 2 3; do netstat -rn -f inet | grep utun; done\n",
        "user@mbp ~ % until false; do sudo netstat -rn -f inet | grep utun; done\n",
        "user@mbp ~ % repeat 3 netstat -rn -f inet | grep utun\n",
        "user@mbp ~ % watch -n 5 'netstat -rn -f inet | grep utun'\n",
        "user@mbp ~ % netstat -rn -f inet | grep utun; sleep 30; netstat -rn -f inet | grep utun\n",
        // Typed over several lines, with zsh's continuation prompts.
        "user@mbp ~ % while true\nwhile> do netstat -rn -f inet | grep utun; sleep 5\nwhile> done\n",
    ])
    func aLoopsOutputIsOfSeveralMoments(line: String) {
        // (Rounds that all show utun4: no row of them says the table changed.)
        let assessment = CapturePasteTests.assess(line + Self.utun4Rows + Self.utun4Rows + "^C\n" + Self.ifconfigWithUtun5)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(line): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.findings.contains { $0.evidence.contains("route -n delete") }, "\(line)")
        #expect(assessment.interfaces.first { $0.interface.name == "utun4" }?.state == .unknown, "\(line)")
        // The loop's listing is no whole one either, before a listing of every interface.
        let before = CapturePasteTests.assess(Self.ifconfigWithUtun5 + line + Self.utun4Rows + Self.utun4Rows)
        #expect(!before.findings.contains { $0.severity == .critical }, "\(line) after ifconfig -a: \(before.findings.map(\.evidence))")
    }

    /// Without a command line to tell, one table that sends the same general destination into
    /// two interfaces is two tables of two moments; the same rows into one interface are not.
    @Test func oneDestinationIntoTwoInterfacesIsTwoMoments() {
        let twice = CapturePasteTests.assess(Self.utun4Rows + Self.utun5Rows + Self.ifconfigWithUtun5)
        #expect(!twice.findings.contains { $0.severity == .critical }, "\(twice.findings.map(\.evidence))")
        #expect(twice.interfaces.first { $0.interface.name == "utun4" }?.state == .unknown)
        #expect(CapturePasteTests.assess(Self.utun4Rows + Self.utun4Rows + Self.ifconfigWithUtun5).status == .critical)
        // Interface-scoped defaults (flag I), one per interface, are one table.
        let scoped = "default            192.168.2.1        UGScg                 en0\ndefault            10.66.66.1         UGScIg              utun6\n"
            + "0/1                utun4              USc                 utun4\n128.0/1            utun4              USc                 utun4\n"
        #expect(CapturePasteTests.assess(scoped + Self.ifconfigWithUtun5).status == .critical)
    }

    /// A listing through one grep shows every row the grep would certainly let through: rows into
    /// utun4 an earlier `| grep utun` showed and a later one does not are gone by then, and
    /// neither critical nor advised away (their `route -n delete` would take the new tunnel's).
    @Test func aLaterGrepThatWouldShowARowSupersedesIt() {
        let first = "user@mbp ~ % netstat -rn -f inet | grep utun\n" + Self.utun4Rows
        for second in ["user@mbp ~ % netstat -rn -f inet | grep utun   # after reconnecting\n", "user@mbp ~ % netstat -rn -f inet | grep -i UTUN\n"] {
            let assessment = CapturePasteTests.assess(first + second + Self.utun5Rows + Self.ifconfigWithUtun5)
            #expect(assessment.status == .ok, "\(second): \(assessment.findings.map(\.evidence))")
            #expect(!assessment.snapshot.routes.contains { $0.nextHops.first?.interfaceName == "utun4" }, "\(second)")
        }
        // A grep that would not show utun4's rows says nothing of them.
        let other = CapturePasteTests.assess(first + "user@mbp ~ % netstat -rn -f inet | grep utun5\n" + Self.utun5Rows + Self.ifconfigWithUtun5)
        #expect(other.snapshot.routes.contains { $0.nextHops.first?.interfaceName == "utun4" })
    }
}
