import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// What else in a paste speaks for or against a listing being the whole truth of its moment: a
/// pager's pages, notes that the rest was left out in any language, a session that ended and
/// another that began, output other than ifconfig that shows a tunnel exists, routes that only
/// an existing interface has. In each, the tunnel utun6 that the listing lacks must not be called
/// gone (a CRITICAL advising `route -n delete` on a live VPN's routes); each has its control,
/// where it is.
@Suite struct CaptureEvidenceTests {
    static let ifconfig = CaptureMomentTests.ifconfig
    static let netstat = CaptureMomentTests.netstat

    static func expectNotGone(_ text: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let assessment = CapturePasteTests.assess(text)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(label): \(assessment.findings.map(\.evidence))", sourceLocation: sourceLocation)
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(label)", sourceLocation: sourceLocation)
    }

    @Test func theControlIsCritical() {
        #expect(CapturePasteTests.assess(Self.ifconfig + Self.netstat).status == .critical)
    }

    /// A note after the listing that the rest was left out, however it is written.
    @Test(arguments: ["（后面的省略了）", "（以下略）", "【以下省略】", "后面省略", "以下略", "(이하 생략)", "rest omitted", "etc.", "and so on",
                      "and 3 more interfaces like the above", "...more...", "…snip…", ". . .", "[truncated]"])
    func aNoteThatTheRestWasLeftOut(note: String) {
        Self.expectNotGone(Self.ifconfig + note + "\n" + Self.netstat, note)
        // After the code block that held the listing, too.
        Self.expectNotGone("```\n" + Self.ifconfig + "```\n" + note + "\n" + Self.netstat, "fenced, then \(note)")
    }

    /// A pager shows the pages scrolled past, and one quit early leaves no mark in what was
    /// copied (a `:` prompt at most).
    @Test(arguments: ["ifconfig -a | more", "ifconfig -a | less", "ifconfig | less -S"])
    func aListingThroughAPager(command: String) {
        let listing = "user@mbp ~ % \(command)\n" + CapturePasteTests.loAndEn0 + "\n"
        Self.expectNotGone(listing + Self.netstat, command)
        Self.expectNotGone(listing + ":\n" + Self.netstat, "\(command), paused")
    }

    /// A session that ended and one that began: the terminal's banners, `script`'s, `exit`.
    @Test(arguments: ["user@mbp ~ % exit\n\nSaving session...\n...completed.\n\n[Process completed]\n\nLast login: Fri Dec  4 10:02:44 on ttys001\n",
                      "Last login: Fri Dec  4 10:02:44 on ttys002\n",
                      "user@mbp ~ % exit\n\nScript done on Thu Dec  3 09:12:09 2026\nScript started on Fri Dec  4 10:02:44 2026\n",
                      "user@mbp ~ % logout\n", "\nSession ended, press any key to close the tab\n"])
    func aNewSession(between: String) {
        Self.expectNotGone(Self.ifconfig + between + Self.netstat, between)
    }

    /// Prose that only looks like a note stays prose: 策略 ("policy"), 忽略 ("ignore"), a question
    /// about more interfaces, "more" with no count. (After the last listing: between two, prose
    /// is a moment's end, see `CaptureGapTests`.)
    @Test(arguments: ["以下是策略路由：", "忽略这个警告", "Why are there more utun interfaces now?", "Let me know if you need more lines.",
                      "No more utun4 anymore."])
    func proseIsNoNote(prose: String) {
        let assessment = CapturePasteTests.assess(Self.netstat + Self.ifconfig + prose + "\n")
        #expect(assessment.status == .critical, "\(prose): \(assessment.findings.map(\.evidence))")
    }

    /// More ways of saying the rest was left out.
    @Test(arguments: ["중략", "(후략)", "이하 동일", "以下同様", "等等", "usw.", "и т.д.", "⋮", "--- abridged ---", "Shortened for brevity",
                      "+ 37 similar utun interfaces not shown", "…and 30 others", "not all interfaces shown", "— more —", "· · ·",
                      "many more utuns follow", "…and more", "more of the same", "same for the rest", "ecc.", "..", "✂️"])
    func moreNotesThatTheRestWasLeftOut(note: String) {
        Self.expectNotGone(Self.ifconfig + note + "\n" + Self.netstat, note)
    }

    /// A line between rows of a ps listing is a hand edit whatever it says: the listing is
    /// partial, and the ZeroTier pair it would call orphaned is unknown.
    @Test(arguments: ["중략", "usw.", "(some rows removed)", "the rest are system daemons"])
    func aLineBetweenPsRowsMakesThePsListingPartial(note: String) {
        let rows = [CaptureOwnerTests.launchd, "root                86   0.0  0.1 410000000  12000   ??  Ss    8:01AM   0:01.00 /usr/libexec/logd"]
        let control = CaptureOwnerTests.pair("feth8846", "feth3846", psRows: rows) + "\n"
        #expect(CaptureOwnerTests.orphaned(control) == ["feth3846", "feth8846"], "the control")
        let edited = CaptureOwnerTests.pair("feth8846", "feth3846", psRows: [rows[0], note, rows[1]]) + "\n"
        #expect(CaptureOwnerTests.orphaned(edited).isEmpty, "\(note)")
    }

    /// Two `date` outputs hours apart are two moments; a minute apart, one.
    @Test func datesFarApart() {
        func date(_ shown: String) -> String { "user@mbp ~ % date\n\(shown)\n" }
        Self.expectNotGone(date("Thu Dec  3 09:00:00 CET 2026") + Self.ifconfig + date("Fri Dec  4 18:40:55 CET 2026") + Self.netstat, "a day apart")
        Self.expectNotGone(date("Fri Dec  4 10:00:00 CET 2026") + Self.ifconfig + date("Fri Dec  4 18:40:55 CET 2026") + Self.netstat, "hours apart")
        let close = CapturePasteTests.assess(date("Fri Dec  4 10:00:00 CET 2026") + Self.ifconfig + date("Fri Dec  4 10:01:02 CET 2026") + Self.netstat)
        #expect(close.status == .critical, "a minute apart: \(close.findings.map(\.evidence))")
        // Other forms, and zones: `date -u` a minute after a CET `date` is a minute.
        Self.expectNotGone(date("2026-12-05T09:02:11+01:00") + Self.ifconfig + date("2026-12-05T17:45:03+01:00") + Self.netstat, "ISO")
        Self.expectNotGone(date("Sa.  5 Dez. 09:02:11 CET 2026") + Self.ifconfig + date("Sa.  5 Dez. 17:45:03 CET 2026") + Self.netstat, "German")
        Self.expectNotGone(date("Sat, 05 Dec 2026 09:02:11 +0100") + Self.ifconfig + date("Sat, 05 Dec 2026 17:45:03 +0100") + Self.netstat, "RFC 2822")
        let zones = CapturePasteTests.assess(date("Sat Dec  5 09:02:11 CET 2026") + Self.ifconfig + date("Sat Dec  5 08:03:02 UTC 2026") + Self.netstat)
        #expect(zones.status == .critical, "a minute apart across zones: \(zones.findings.map(\.evidence))")
    }

    /// More shapes of time: Japanese clock units, a zone of two digits, 12-hour prompt clocks,
    /// a bare clock before the prompt.
    @Test func moreShapesOfTime() {
        func date(_ shown: String) -> String { "user@mbp ~ % date\n\(shown)\n" }
        Self.expectNotGone(date("2026年 12月 5日 土曜日 09時02分11秒 JST") + Self.ifconfig + date("2026年 12月 5日 土曜日 09時45分11秒 JST") + Self.netstat, "Japanese")
        Self.expectNotGone(date("2026年12月 5日 星期六 09时02分11秒 CST") + Self.ifconfig + date("2026年12月 5日 星期六 09时45分11秒 CST") + Self.netstat, "Chinese")
        Self.expectNotGone(date("sam.  5 déc. 2026 09:02:11 CET") + Self.ifconfig + date("sam.  5 déc. 2026 17:45:03 CET") + Self.netstat, "French")
        Self.expectNotGone(date("Sat Dec  5 09:02:11 +03 2026") + Self.ifconfig + date("Sat Dec  5 09:05:11 UTC 2026") + Self.netstat, "+03 then UTC, 3 h")
        let close = CapturePasteTests.assess(date("Sat Dec  5 09:02:11 +03 2026") + Self.ifconfig + date("Sat Dec  5 06:05:11 UTC 2026") + Self.netstat)
        #expect(close.status == .critical, "+03 then UTC, 3 min: \(close.findings.map(\.evidence))")
        func prompted(_ first: String, _ second: String) -> String {
            Self.ifconfig.replacingOccurrences(of: "user@mbp ~ %", with: "\(first) user@mbp ~ %")
                + Self.netstat.replacingOccurrences(of: "user@mbp ~ %", with: "\(second) user@mbp ~ %")
        }
        Self.expectNotGone(prompted("[11:55 AM]", "[11:58 PM]"), "12-hour, 12 h apart")
        #expect(CapturePasteTests.assess(prompted("[12:58 PM]", "[1:05 PM]")).status == .critical, "12-hour, 7 min across noon")
        Self.expectNotGone(prompted("09:02:11", "17:45:03"), "zsh %* before the prompt")
    }

    /// `zerotier-cli` answering (200) shows zerotier-one runs: its pairs are not orphaned, whatever
    /// a ps listing beside it says.
    @Test func zerotierCliAnswering() {
        let whole = CaptureOwnerTests.pair("feth8846", "feth3846", psRows: [CaptureOwnerTests.launchd]) + "\n"
        #expect(CaptureOwnerTests.orphaned(whole) == ["feth3846", "feth8846"], "the control")
        let answered = whole + "% sudo zerotier-cli info\n200 info 8056c2e21c 1.14.0 ONLINE\n"
        #expect(CaptureOwnerTests.orphaned(answered).isEmpty)
        let refused = whole + "% sudo zerotier-cli info\nzerotier-cli: missing port and zerotier-one.port not found in /Library/Application Support/ZeroTier/One\n"
        #expect(CaptureOwnerTests.orphaned(refused) == ["feth3846", "feth8846"])
    }

    /// A grep that stops after its first match, and a saved listing shown through a pager or head.
    @Test func cutsThroughOtherCommands() {
        let rows = [CaptureOwnerTests.launchd]
        let m1 = CaptureOwnerTests.pair("feth8846", "feth3846", psRows: rows).replacingOccurrences(of: "% ps auxww", with: "% ps auxww | grep -m1 zerotier") + "\n"
        #expect(CaptureOwnerTests.orphaned(m1).isEmpty, "grep -m1")
        for shown in ["cat if.txt | less", "cat if.txt | head -40", "pbpaste | more"] {
            Self.expectNotGone("user@mbp ~ % \(shown)\n" + CapturePasteTests.loAndEn0 + "\n" + Self.netstat, shown)
        }
    }

    /// Prompts that show the time: hours apart, or back past midnight, are two moments.
    @Test func promptClocksFarApart() {
        let late = Self.ifconfig.replacingOccurrences(of: "user@mbp ~ %", with: "[09:02:11] user@mbp ~ %")
            + Self.netstat.replacingOccurrences(of: "user@mbp ~ %", with: "[17:45:03] user@mbp ~ %")
        Self.expectNotGone(late, "prompt clocks 8 h apart")
        let soon = Self.ifconfig.replacingOccurrences(of: "user@mbp ~ %", with: "[09:02:11] user@mbp ~ %")
            + Self.netstat.replacingOccurrences(of: "user@mbp ~ %", with: "[09:03:40] user@mbp ~ %")
        #expect(CapturePasteTests.assess(soon).status == .critical)
    }

    /// Output other than ifconfig that shows utun6 exists at the listing's moment or later.
    static let sightings = [
        "user@mbp ~ % sudo wg show\ninterface: utun6\n  public key: AbCd=\n  listening port: 51820\n",
        "user@mbp ~ % netstat -in\nName       Mtu   Network       Address            Ipkts Ierrs    Opkts Oerrs  Coll\nlo0        16384 <Link#1>                        4096     0     4096     0     0\nutun6      1420  <Link#24>                     110293     0    93321     0     0\n",
        "user@mbp ~ % sudo wg show interfaces\nutun6\n",
        "user@mbp ~ % scutil --nc status \"Work VPN\"\nConnected\nExtended Status <dictionary> {\n  IPv4 : <dictionary> {\n    InterfaceName : utun6\n  }\n}\n",
        "user@mbp ~ % ipconfig getifaddr utun6\n10.66.66.2\n",
    ]

    @Test(arguments: sightings)
    func aTunnelOtherOutputShows(sighting: String) {
        Self.expectNotGone(Self.ifconfig + Self.netstat + sighting, "after: \(sighting)")
        Self.expectNotGone(Self.ifconfig + sighting + Self.netstat, "between: \(sighting)")
        // Seen before a command that may have taken it away, it proves nothing of the listing after.
        let before = CapturePasteTests.assess(sighting + "user@mbp ~ % sudo wg-quick down wg0\n" + Self.ifconfig + Self.netstat)
        #expect(before.status == .critical, "before a change: \(sighting)")
    }

    /// What configd keeps of the services VPNs publish outlives their tunnels: a VPN killed
    /// before it withdraws its state leaves `State:/Network/Service/…/IPv4` (which `scutil`'s
    /// `show` prints, from a here-string or at its `>` prompt), `scutil --nwi`'s interface list
    /// and the names `scutil --dns` stored with its resolvers. None shows utun6 exists, and the
    /// note says what was read instead of naming other tools.
    static let configdState = [
        "user@mbp ~ % scutil <<< \"show State:/Network/Service/utun6/IPv4\"\n<dictionary> {\n  Addresses : <array> {\n    0 : 10.66.66.2\n  }\n  InterfaceName : utun6\n}\n",
        "user@mbp ~ % scutil\n> show State:/Network/Service/net.tunnelblick.openvpn/IPv4\n<dictionary> {\n  InterfaceName : utun6\n  Router : 10.66.66.1\n}\n> quit\n",
        "user@mbp ~ % echo 'show State:/Network/Service/8A1F/IPv4' | scutil\n<dictionary> {\n  InterfaceName : utun6\n}\n",
        "user@mbp ~ % scutil --nwi\nNetwork information\n\nIPv4 network interface information\n     utun6 : flags      : 0x5 (IPv4,DNS)\n\n   Network interfaces: utun6 en0\n",
        "user@mbp ~ % scutil --dns\nDNS configuration\n\nresolver #1\n  nameserver[0] : 10.66.66.1\n  if_index : 24 (utun6)\n  flags    : Request A records\n  reach    : 0x00000003 (Reachable,Transient Connection)\n",
    ]

    @Test(arguments: configdState)
    func configdStateShowsNoTunnel(state: String) {
        for text in [Self.ifconfig + Self.netstat + state, Self.ifconfig + state + Self.netstat] {
            let assessment = CapturePasteTests.assess(text)
            #expect(assessment.status == .critical, "\(state): \(assessment.findings.map(\.evidence))")
            #expect(assessment.snapshot.readingNotes.contains { $0.contains("does not show utun6") }, "\(assessment.snapshot.readingNotes)")
            #expect(!assessment.snapshot.readingProblems.contains { $0.contains("utun6 is not in the listing") })
        }
    }

    /// Real pastes: a VPN killed with its configd state left behind, read with `scutil`, is as
    /// critical as the same capture without it; a sighting's reason names the output it read.
    @Test(arguments: ["openconnect-killed-scutil-state.txt", "anyconnect-crashed.txt"])
    func aKilledVPNsConfigdStateLeavesItsDefaultCritical(fixture: String) throws {
        let verdict = CaptureProofTests.verdict(try CaptureProofTests.fixture(fixture))
        #expect(verdict.status == .critical && verdict.exit == 2, "\(verdict)")
        #expect(verdict.findings == ["critical split-default utun4", "warning dead-tunnel-route utun4"], "\(verdict)")
        #expect(verdict.states == (0...3).map { "utun\($0) live" }, "\(verdict)")
    }

    @Test(arguments: ["scutil-herestring-stale.txt", "scutil-show-stale.txt", "control-no-scutil.txt"])
    func aKilledVPNsConfigdStateLeavesItsSplitCritical(fixture: String) throws {
        let verdict = CaptureProofTests.verdict(try CaptureProofTests.fixture(fixture))
        #expect(verdict.status == .critical && verdict.exit == 2, "\(verdict)")
        // (No lsof: who held utun0 and utun1 is unknown, which capture-missing says.)
        #expect(verdict.findings == ["critical split-default utun3", "info capture-missing -", "warning dead-tunnel-route utun3"], "\(verdict)")
        #expect(verdict.states == ["utun0 live", "utun1 live"], "\(verdict)")
    }

    @Test func aSightingNamesTheOutputThatShowedIt() throws {
        let text = try CaptureProofTests.fixture("control-no-scutil.txt") + "jane@mbp ~ % scutil --nc status \"Work VPN\"\nConnected\nExtended Status <dictionary> {\n  IPv4 : <dictionary> {\n    InterfaceName : utun3\n  }\n}\n"
        let assessment = CapturePasteTests.assess(text)
        #expect(assessment.status != .critical, "\(assessment.findings.map(\.evidence))")
        let problem = assessment.snapshot.readingProblems.first { $0.contains("utun3 is not in the listing") }
        #expect(problem?.contains("(`scutil --nc status \"Work VPN\"` at paste.txt:") == true, "\(problem ?? "none")")
        #expect(problem?.contains("netstat -i") == false)
    }

    /// A route only an existing interface has (no S flag), read at the listing's moment, into a
    /// tunnel the listing lacks: the listing is not all of that moment, so it proves no other
    /// tunnel gone either.
    @Test func aListingContradictedByTheRoutes() {
        let netstat = Self.netstat + """
        Internet6:
        Destination                             Gateway                                 Flags               Netif Expire
        fe80::%utun3/64                         fe80::ce81:b1c:bd2c:69e%utun3           UcI                 utun3

        """
        Self.expectNotGone(Self.ifconfig + netstat, "utun3's link-local route")
    }

    /// lsof cuts its COMMAND column to 9 characters, and the kernel keeps 16 of a name.
    @Test func systemDaemonsUnderCutNames() {
        for name in ["identityservicesd", "identitys", "identityservices", "networkse", "networkservicepr", "rapportd"] {
            #expect(Heuristics.isSystemUtunHolder(name), "\(name)")
        }
        for name in ["identity", "openvpn", "nesessionmanager", "networkservicez", "Tunnelblick"] {
            #expect(!Heuristics.isSystemUtunHolder(name), "\(name)")
        }
    }

    /// An address masked in the paste is an address all the same: the interface's addresses are
    /// not known, and it is never an idle unit of a hoard.
    @Test(arguments: ["inet 10.x.x.x --> 10.x.x.x netmask 0xff000000", "inet xxx.xxx.xxx.xxx netmask 0xffffff00", "inet6 <redacted> prefixlen 64"])
    func aMaskedAddress(line: String) {
        let text = CapturePasteTests.loAndEn0 + "\nutun5: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\t\(line)\n"
            + "utun7: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::1%utun7 prefixlen 64 scopeid 0x14\n"
        let assessment = CapturePasteTests.assess(text)
        #expect(assessment.interfaces.first { $0.interface.name == "utun5" }?.interface.addressesUnknown == true, "\(line)")
        #expect(assessment.interfaces.first { $0.interface.name == "utun7" }?.interface.addressesUnknown == false)
    }

    /// A paste's control characters are never shown again: a backspace takes back the character
    /// before it (a typescript's typo), and BEL, C1 controls and a right-to-left override go.
    @Test func controlCharactersAreNotShownAgain() {
        #expect(CaptureText.clean(Data("a\u{07}b\u{202E}c\u{08}d\ne\u{9B}f\u{08}\u{08}\tg".utf8)) == "abd\n\tg")
        let paste = "user@mbp ~ % ps -axww -o pid,comm\n  PID COMM\n    1 /sbin/launchd\nnote \u{07}\u{202E}gnp.exe\n"
            + "user@mbp ~ % ifconfig -v utun4\nutun4: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tagent domain:NetworkExtension type:VPN flags:0x3 desc:\"VPN: \u{202E}Evil\u{07}\"\n"
        let assessment = CapturePasteTests.assess(paste)
        let shown = assessment.snapshot.readingNotes + assessment.snapshot.readingProblems + assessment.findings.map(\.evidence)
            + assessment.interfaces.map(\.reason)
        for text in shown {
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" || (0x202A...0x202E).contains($0.value) }, "\(text.debugDescription)")
        }
    }

    /// `ifconfig utun6` answered `ifconfig: interface utun6 does not exist`, as macOS's ifconfig
    /// does for a name no interface has: at that moment utun6 is gone, so the split default
    /// into it is a blackhole, though no listing of every interface shows it; and the capture
    /// does not lack ifconfig output.
    static let doesNotExist = "user@mbp ~ % ifconfig utun6\nifconfig: interface utun6 does not exist\n"

    @Test func ifconfigSayingATunnelDoesNotExistShowsItGone() {
        for (label, text) in [("before netstat", Self.doesNotExist + Self.netstat), ("after netstat", Self.netstat + Self.doesNotExist),
                              ("quoted", (Self.netstat + Self.doesNotExist).split(separator: "\n").map { "> " + $0 }.joined(separator: "\n"))] {
            let assessment = CapturePasteTests.assess(text)
            #expect(assessment.status == .critical, "\(label): \(assessment.findings.map(\.evidence))")
            #expect(assessment.findings.contains { $0.id == FindingID.splitDefault && $0.ifname == "utun6" && $0.evidence.contains("no longer exists") }, "\(label)")
            #expect(!assessment.interfaces.contains { $0.interface.name == "utun6" }, "\(label)")
            #expect(!assessment.snapshot.missingSources.contains { $0.contains("ifconfig") }, "\(label): \(assessment.snapshot.missingSources)")
        }
        // The control: without ifconfig's answer, the tunnel is unknown.
        #expect(CapturePasteTests.assess(Self.netstat).status != .critical)
        // Another interface's absence says nothing of utun6.
        let other = Self.doesNotExist.replacingOccurrences(of: "utun6", with: "utun5")
        #expect(CapturePasteTests.assess(other + Self.netstat).status != .critical)
    }

    /// ifconfig's answer speaks for its own moment only: a command between it and the routes may
    /// have made the tunnel, and routes or a holder that show it exist contradict the answer.
    @Test(arguments: [
        ("made between", doesNotExist + "user@mbp ~ % open -a ClashX\n" + netstat),
        ("one line of several moments", "user@mbp ~ % ifconfig utun6; sudo wg-quick up wg0; netstat -rn -f inet\nifconfig: interface utun6 does not exist\n"
            + netstat.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"),
        ("a route only an existing interface has", doesNotExist + netstat + "198.18.0.1         198.18.0.1         UH                  utun6\n"),
        ("a holder", doesNotExist + netstat + "user@mbp ~ % sudo lsof -nP | grep utun\n"
            + "nesession  412  root    6u  systm 0x3d1a2b3c4d5e6f70      0t0      [ctl com.apple.net.utun_control id 9 unit 7]\n"),
        ("sighted at that moment", doesNotExist + "user@mbp ~ % scutil --nc status Work\nInterfaceName : utun6\n" + netstat),
    ])
    func ifconfigSayingATunnelDoesNotExistIsOfItsMomentOnly(label: String, text: String) {
        let assessment = CapturePasteTests.assess(text)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(label): \(assessment.findings.map(\.evidence))")
        // (A holder shows it exists: live, not unknown.)
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == (label == "a holder" ? .live : .unknown), "\(label)")
    }
}
