import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Listings that look whole under their command line and are not: blocks trimmed off the top,
/// addresses of one family only, a header a lost line break glued into the block before it, a
/// listing whose right prompt's clock shows it is of another moment. In each, the tunnel utun6
/// that routes go into must not be called gone, nor a live unit idle; each has its control.
@Suite struct CaptureHiddenGapTests {
    static let netstat = CaptureMomentTests.netstat

    static func expectNotGone(_ text: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        CaptureEvidenceTests.expectNotGone(text, label, sourceLocation: sourceLocation)
    }

    static func unlistedReason(_ text: String) -> String {
        CapturePasteTests.assess(text).interfaces.first { $0.interface.name == "utun6" }?.reason ?? ""
    }

    // MARK: Blocks trimmed off the top

    /// `ifconfig -a` starts with lo0, gif0 and stf0 on every macOS: a listing under its command
    /// line that starts elsewhere had its top trimmed, and says so. (The controls: the same
    /// listing whole, Sequoia's shape with anpi and bridge blocks, and the corpus's listings of
    /// real Macs, 10.14 to Apple silicon, are all every interface.)
    @Test func aListingWithItsTopTrimmedIsNotEveryInterface() throws {
        let blocks = CapturePasteTests.loAndEn0.split(separator: "\n").map(String.init)
        for command in ["user@mbp ~ % ifconfig -a\n", "user@mbp ~ % ifconfig\n", "user@mbp ~ % sudo ifconfig -a -v\n", "% ifconfig -a\n",
                        "### ifconfig -a\n```\n", "user@mbp ~ % date; ifconfig -a\nFri Dec  4 10:02:44 CET 2026\n"] {
            let whole = command + blocks.joined(separator: "\n") + "\n" + Self.netstat
            #expect(CapturePasteTests.assess(whole).status == .critical, "the control: \(command)")
            // Without lo0's block; without gif0's too (starting at stf0); without all three.
            for trimmed in [2, 3, 4] {
                let text = command + blocks.dropFirst(trimmed).joined(separator: "\n") + "\n" + Self.netstat
                Self.expectNotGone(text, "\(command) without its first \(trimmed) lines")
                #expect(Self.unlistedReason(text).contains("does not start with lo0"), "\(Self.unlistedReason(text))")
            }
        }
        let sequoia = "user@mbp ~ % ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n" + """
        anpi0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
        \toptions=400<CHANNEL_IO>
        \tether 2a:11:22:33:44:55
        \tmedia: none
        \tstatus: inactive
        bridge100: flags=8a63<UP,BROADCAST,SMART,RUNNING,ALLMULTI,SIMPLEX,MULTICAST> mtu 1500
        \toptions=3<RXCSUM,TXCSUM>
        \tether 3e:22:33:44:55:64
        \tinet 192.168.64.1 netmask 0xffffff00 broadcast 192.168.64.255
        \tConfiguration:
        \t\tid 0:0:0:0:0:0 priority 0 hellotime 0 fwddelay 0
        \tmember: vmenet0 flags=3<LEARNING,DISCOVER>
        \t        ifmaxaddr 0 port 24 priority 0 path cost 0
        \tAddress cache:
        \tstatus: active

        """ + Self.netstat
        #expect(CapturePasteTests.assess(sequoia).status == .critical, "\(CapturePasteTests.assess(sequoia).snapshot.readingNotes)")
        let (root, expectations) = try CaptureCorpusTests.corpus()
        for expectation in expectations {
            let directory = root.appendingPathComponent(expectation.case)
            let paste = directory.appendingPathComponent("paste.txt")
            let path = FileManager.default.fileExists(atPath: paste.path) ? paste.path : directory.path
            guard let snapshot = try? CapturedInventory(path: path).snapshot() else { continue }
            #expect(!snapshot.readingNotes.contains { $0.contains("does not start with lo0") }, "\(expectation.case)")
        }
    }

    // MARK: One address family

    /// `ifconfig -a inet6` prints no IPv4 address: a connected VPN's utun looks like an idle
    /// unit, and must not be one of a hoard whose routes are proposed for deletion.
    @Test(arguments: ["ifconfig -a inet6", "ifconfig inet6", "ifconfig -a inet", "ifconfig -a link", "ifconfig -a ether", "date; ifconfig -a inet6"])
    func aListingOfOneFamilyProvesNoUnitIdle(command: String) {
        func hoard(_ command: String) -> Set<String> {
            var text = "% \(command)\n" + CapturePasteTests.loAndEn0 + "\n"
            for unit in 4..<8 {
                text += "utun\(unit): flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::\(unit)%utun\(unit) prefixlen 64 scopeid 0x\(unit + 10)\n"
            }
            text += "% netstat -rn\nRouting tables\n\nInternet:\nDestination        Gateway            Flags               Netif Expire\n"
            text += "\nInternet6:\nDestination                             Gateway                                 Flags               Netif Expire\n"
            for unit in 4..<8 { text += "default                                 fe80::%utun\(unit)                            UGcIg               utun\(unit)\n" }
            text += "% sudo lsof -nP\nCOMMAND     PID USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME\n"
            for unit in 4..<8 { text += "nesession 454 root   \(unit)u  systm 0x9a1c33e1a3c1b7c\(unit)      0t0      [ctl com.apple.net.utun_control id 6 unit \(unit + 1)]\n" }
            let finding = CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard }
            return Set(finding?.routes?.compactMap { $0.nextHops.first?.interfaceName } ?? [])
        }
        #expect(hoard("ifconfig -a") == ["utun4", "utun5", "utun6", "utun7"], "the control")
        #expect(hoard(command).isEmpty, "\(command)")
    }

    // MARK: A header glued into the block before it

    /// utun3's block, then utun6's (alive: it has the routes' gateway as its peer).
    static let tunnels = """
    utun3: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet6 fe80::1015:2003:ab03:1%utun3 prefixlen 64 scopeid 0x11
    \tnd6 options=201<PERFORMNUD,DAD>
    utun6: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet 10.66.66.2 --> 10.66.66.1 netmask 0xffffffff
    \tinet6 fe80::101c:2004:ab04:1%utun6 prefixlen 64 scopeid 0x12
    \tnd6 options=201<PERFORMNUD,DAD>
    """

    static func listing(_ tunnels: String, trailer: String = "") -> String {
        "user@mbp ~ % ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n" + trailer + tunnels + "\n" + netstat
    }

    /// A line break lost after a flag list (`…<PERFORMNUD,DAD>utun6: flags=…`): the header is
    /// split off and utun6 read as the block of its own it is.
    @Test(arguments: ["\tnd6 options=201<PERFORMNUD,DAD>utun6:", "\tnd6 options=201<PERFORMNUD,DAD>\n\toptions=6460<TSO4,TSO6,CHANNEL_IO>utun6:"])
    func aHeaderGluedAfterAFlagListIsSplitOff(glued: String) {
        let tunnels = Self.tunnels.replacingOccurrences(of: "\tnd6 options=201<PERFORMNUD,DAD>\nutun6:", with: glued)
        #expect(tunnels.contains(">utun6: flags="))
        let assessment = CapturePasteTests.assess(Self.listing(tunnels))
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(assessment.findings.map(\.evidence))")
        let utun6 = assessment.snapshot.interfaces.first { $0.name == "utun6" }
        #expect(utun6 != nil && utun6?.unlisted == false && utun6?.addresses.count == 2)
        #expect(assessment.snapshot.interfaces.first { $0.name == "utun3" }?.addresses.count == 1)
        #expect(assessment.snapshot.readingNotes.contains { $0.contains("utun6's header is glued") })
    }

    /// Glued after a word that does not end in `>` (`status: activeutun6:`, `scopeid
    /// 0x11utun6:`), the name's start cannot be told; and a header lost whole leaves its body's
    /// `%utun6` zone inside utun3's block. The listing is partial: utun6 is unknown, not gone.
    /// (The first two lose utun6's link-local line too, so that only the glued header tells. A
    /// bridge's `member: vmenet0 flags=3<…>` is the control: no header is glued there.)
    @Test(arguments: [
        ("\tnd6 options=201<PERFORMNUD,DAD>\nutun6:", "\tstatus: activeutun6:", true),
        ("prefixlen 64 scopeid 0x11\n\tnd6 options=201<PERFORMNUD,DAD>\nutun6:", "prefixlen 64 scopeid 0x11utun6:", true),
        ("utun6: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n", "", false),
    ])
    func aHeaderGluedOrLostWithoutAMarkMakesTheListingPartial(plain: String, damaged: String, dropZone: Bool) {
        var tunnels = Self.tunnels
        if dropZone { tunnels = tunnels.replacingOccurrences(of: "\tinet6 fe80::101c:2004:ab04:1%utun6 prefixlen 64 scopeid 0x12\n", with: "") }
        #expect(CapturePasteTests.assess(Self.listing(tunnels)).status != .critical, "the control")
        #expect(tunnels.contains(plain))
        Self.expectNotGone(Self.listing(tunnels.replacingOccurrences(of: plain, with: damaged)), "\(damaged.debugDescription)")
        // A bridge's member line holds `flags=` after a name, and is no header glued on.
        let bridge = "bridge100: flags=8a63<UP,BROADCAST,SMART,RUNNING,ALLMULTI,SIMPLEX,MULTICAST> mtu 1500\n\tmember: vmenet0 flags=3<LEARNING,DISCOVER>\n\tstatus: active\n"
        #expect(CapturePasteTests.assess(Self.listing("", trailer: bridge)).status == .critical, "a bridge's member line")
    }

    // MARK: A right prompt's clock

    /// A theme's right prompt shows the time as a left prompt does (powerlevel10k's `at
    /// 10:02:11`, a bare clock, a clock glyph, a 12-hour clock): 45 minutes between the listings
    /// is another moment, a minute is not.
    @Test(arguments: [("at 10:02:11", "at 10:47:30", "at 10:03:02"), ("10:02:11", "10:47:30", "10:03:02"),
                      ("\u{F017} 10:02:11", "\u{F017} 10:47:30", "\u{F017} 10:03:02"), ("10:02:11 AM", "10:47:30 AM", "10:03:02 AM"),
                      ("✔ at 10:02:11", "✔ at 10:47:30", "✔ at 10:03:02")])
    func aRightPromptsClockSplitsMoments(first: String, later: String, soon: String) {
        for prompt in ["~ ❯", "user@mbp ~ %"] {
            func transcript(_ second: String) -> String {
                CaptureMomentTests.ifconfig.replacingOccurrences(of: "user@mbp ~ % ifconfig -a", with: "\(prompt) ifconfig -a                                   \(first)")
                    + Self.netstat.replacingOccurrences(of: "user@mbp ~ % netstat -rn -f inet", with: "\(prompt) netstat -rn -f inet                           \(second)")
            }
            Self.expectNotGone(transcript(later), "\(prompt) … \(first), then \(later)")
            let close = CapturePasteTests.assess(transcript(soon))
            #expect(close.status == .critical, "\(prompt) … \(first), then \(soon): \(close.findings.map(\.evidence))")
        }
    }

    // MARK: A listing interrupted with ^C

    /// `^C` under a listing (a slow `lsof` without -n, a `ps` or `netstat` stopped early): the
    /// command was stopped before its end, and its listing is partial, whether `^C` has a line of
    /// its own or starts the prompt's (`^Cuser@mbp ~ %`).
    @Test(arguments: ["^C\n% netstat -rn\n", "^C% netstat -rn\n"])
    func anLsofInterruptedWithCtrlCIsPartial(after: String) {
        let whole = CaptureWidthTests.utunHoard(lsofRows: { $0 })
        #expect(CapturePasteTests.assess(whole).snapshot.holders.complete, "the control")
        let cut = whole.replacingOccurrences(of: "\n% netstat -rn\n", with: "\n" + after)
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasSuffix("unit 15]") && !$0.hasSuffix("unit 16]") }
            .joined(separator: "\n")
        let holders = CapturePasteTests.assess(cut).snapshot.holders
        #expect(!holders.complete)
        #expect(holders.incompleteReason?.contains("interrupted with ^C") == true, "\(holders.incompleteReason ?? "")")
    }

    /// A ps stopped with `^C` proves no daemon absent: the ZeroTier pair is not orphaned.
    @Test func aPsInterruptedWithCtrlCProvesNothingAbsent() {
        let rows = [CaptureOwnerTests.launchd, "root                86   0.0  0.1 410000000  12000   ??  Ss    8:01AM   0:01.00 /usr/libexec/logd"]
        #expect(CaptureOwnerTests.orphaned(CaptureOwnerTests.pair("feth8846", "feth3846", psRows: rows) + "\n") == ["feth3846", "feth8846"], "the control")
        #expect(CaptureOwnerTests.orphaned(CaptureOwnerTests.pair("feth8846", "feth3846", psRows: rows + ["^C"]) + "\n").isEmpty)
    }

    /// A routing table stopped with `^C` is not every route: it neither says which interfaces
    /// had none nor takes the place of a whole listing before it.
    @Test func aNetstatInterruptedWithCtrlCSupersedesNothing() {
        let later = "user@mbp ~ % netstat -rn -f inet\nRouting tables\n\nInternet:\nDestination        Gateway            Flags               Netif Expire\ndefault            192.168.2.1        UGScg                 en0\n"
        let whole = CaptureMomentTests.ifconfig + Self.netstat + later + "user@mbp ~ % \n"
        #expect(CapturePasteTests.assess(whole).status != .critical, "the control: the later whole table stands")
        let cut = CaptureMomentTests.ifconfig + Self.netstat + later + "^C\nuser@mbp ~ % \n"
        let assessment = CapturePasteTests.assess(cut)
        #expect(assessment.findings.contains { $0.id == FindingID.splitDefault && $0.ifname == "utun6" }, "\(assessment.findings.map(\.evidence))")
    }
}
