import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Captures with something put before every line: a CI log's timestamp, a chat log's nick,
/// `ts`, `grep -n`, `less -N`. Each once ended every interface block after its header, so that a
/// connected VPN's utun looked idle and a reap planned to delete its routes.
@Suite struct CaptureLinePrefixTests {
    /// nesessionmanager holds utun4 to utun7; utun7 is a connected VPN (`inet 10.8.0.2`), the
    /// others are idle. The routing table shows each unit's link-local address.
    static let session: String = {
        var text = "jane@mbp ~ % ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n"
        for unit in 4..<8 {
            text += "utun\(unit): flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n"
            if unit == 7 { text += "\tinet 10.8.0.2 --> 10.8.0.1 netmask 0xffffffff\n" }
            text += "\tinet6 fe80::10\(unit)%utun\(unit) prefixlen 64 scopeid 0x\(unit + 10) \n\tnd6 options=201<PERFORMNUD,DAD>\n"
        }
        text += "jane@mbp ~ % netstat -rn\nRouting tables\n\nInternet:\n"
        text += "Destination        Gateway            Flags               Netif Expire\n127.0.0.1          127.0.0.1          UH                    lo0\n"
        text += "10.8.0.1           10.8.0.2           UH                  utun7\n\nInternet6:\n"
        text += "Destination                             Gateway                                 Flags               Netif Expire\n"
        for unit in 4..<8 { text += "default                                 fe80::%utun\(unit)                            UGcIg               utun\(unit)\n" }
        for unit in 4..<8 { text += "fe80::%utun\(unit)/64                      fe80::10\(unit)%utun\(unit)                       UcI                 utun\(unit)\n" }
        text += "jane@mbp ~ % sudo lsof -nP | grep utun_control\n"
        for unit in 4..<8 {
            text += "nesession  412 root   \(unit)u  systm 0x9a1c33e1a3c1b7c\(unit)      0t0      [ctl com.apple.net.utun_control id 6 unit \(unit + 1)]\n"
        }
        return text
    }()

    /// The units whose routes the hoard finding proposes to delete.
    static func reaped(_ text: String) -> Set<String> {
        let finding = CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard }
        return Set(finding?.routes?.compactMap { $0.nextHops.first?.interfaceName } ?? [])
    }

    /// `session` with `prefix(n)` before its line n (counted from 0).
    static func prefixed(_ prefix: (Int) -> String, _ text: String = session) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { prefix($0.offset) + $0.element }.joined(separator: "\n")
    }

    static let prefixes: [(String, @Sendable (Int) -> String)] = [
        ("GitHub Actions", { "2024-12-05T10:02:11.\(1_234_567 + $0)Z " }),
        ("GitLab's raw log, its stream after the stamp", { "2024-12-05T10:02:11.\(123_456 + $0)Z 0\($0 % 2 == 0 ? "0O" : "1E")\($0 % 5 == 4 ? "+" : "") " }),
        ("Jenkins Timestamper", { String(format: "[10:%02d:%02d] ", 2 + $0 / 60, $0 % 60) }),
        ("ts", { String(format: "Dec 05 10:%02d:%02d ", 2 + $0 / 60, $0 % 60) }),
        ("irssi", { String(format: "10:%02d < jane> ", $0 % 60) }),
        ("a chat nick", { _ in "<jane> " }),
        ("grep -n", { "\($0 + 1):" }),
        ("less -N", { String(format: "%7d ", $0 + 1) }),
        ("vim's numbers", { String(format: "%3d ", $0 + 1) }),
    ]

    @Test(arguments: prefixes.indices)
    func aPrefixOnEveryLineIsTakenOff(index: Int) {
        let (name, prefix) = Self.prefixes[index]
        #expect(Self.reaped(Self.session) == ["utun4", "utun5", "utun6"], "the control")
        let text = Self.prefixed(prefix)
        #expect(Self.reaped(text) == ["utun4", "utun5", "utun6"], "\(name)")
        let snapshot = CapturedInventory.snapshot(from: CaptureReader.read(CaptureText(file: "log.txt", text: text)), label: "log.txt")
        #expect(snapshot.readingNotes.contains { $0.contains("every line starts with") }, "\(name)")
        #expect(snapshot.interfaces.first { $0.name == "utun7" }?.addresses.count == 2, "\(name)")
    }

    /// The stamps of a log whose listings are hours or days apart: `ifconfig -a` at 10:02 on
    /// Dec 5, `netstat -rn` later (the line of `user@mbp ~ % netstat` and after it). Each once
    /// lost its time with its prefix, so that both listings counted as one moment and utun6,
    /// which a VPN may have made again since, was called gone.
    static let jumpingStamps: [(String, @Sendable (Int, Bool) -> String)] = [
        ("ts, hours", { line, later in String(format: "Dec 05 %02d:02:%02d ", later ? 14 : 10, line % 60) }),
        ("ts, days", { line, later in String(format: "Dec %02d 10:02:%02d ", later ? 9 : 5, line % 60) }),
        ("GitHub Actions, a day", { line, later in String(format: "2024-12-%02dT10:02:%02d.1234567Z ", later ? 6 : 5, line % 60) }),
        ("Jenkins", { line, later in String(format: "[%02d:02:%02d] ", later ? 16 : 10, line % 60) }),
        ("irssi", { _, later in later ? "16:41 < jane> " : "10:02 < jane> " }),
    ]

    @Test(arguments: jumpingStamps.indices)
    func listingsWhoseStampsJumpAreOfTwoMoments(index: Int) {
        let (name, stamp) = Self.jumpingStamps[index]
        let session = CaptureMomentTests.ifconfig + CaptureMomentTests.netstat
        let netstatLine = session.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("% netstat") }!
        func stamped(jump: Bool) -> String {
            Self.prefixed({ stamp($0, jump && $0 >= netstatLine) }, session)
        }
        #expect(CapturePasteTests.assess(stamped(jump: false)).status == .critical, "\(name): the control")
        let assessment = CapturePasteTests.assess(stamped(jump: true))
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(name): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(name)")
        let contents = CaptureReader.read(CaptureText(file: "log.txt", text: stamped(jump: true)))
        #expect(contents.notes.contains { $0.contains("the lines' stamps moved from") }, "\(name): \(contents.notes)")
        // Without prompts (a chat where the two listings were pasted hours apart), the jump
        // splits the one stretch of output.
        let bare = stamped(jump: true).replacingOccurrences(of: "user@mbp ~ % ifconfig -a", with: "")
            .replacingOccurrences(of: "user@mbp ~ % netstat -rn -f inet", with: "")
        #expect(CapturePasteTests.assess(bare).status != .critical, "\(name), no prompts")
    }

    /// Stamps a few seconds apart across midnight, or a second back, are one moment still.
    @Test func stampsCloseInTimeKeepOneMoment() {
        let session = CaptureMomentTests.ifconfig + CaptureMomentTests.netstat
        let netstatLine = session.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("% netstat") }!
        let midnight = Self.prefixed({ $0 >= netstatLine ? "2024-12-06T00:00:01Z " : "2024-12-05T23:59:58Z " }, session)
        #expect(CapturePasteTests.assess(midnight).status == .critical)
        let back = Self.prefixed({ $0 >= netstatLine ? "Dec 05 10:02:10 " : "Dec 05 10:02:40 " }, session)
        #expect(CapturePasteTests.assess(back).status == .critical)
        #expect(LinePrefix.time(Array("2024-12-06T00:00:01.5Z ".utf8))! - LinePrefix.time(Array("2024-12-05T23:59:58Z ".utf8))! == 3)
        #expect(LinePrefix.time(Array("[10:02:11,250] ".utf8)) == 10 * 3600 + 2 * 60 + 11)
    }

    /// GitHub Actions shows a one-line step's command after `##[group]Run `: it is read as the
    /// command line.
    /// A log saved with Windows line ends (or a `script` typescript) is stripped the same way.
    @Test func aPrefixIsTakenOffLinesEndingInCRLF() {
        let text = Self.prefixed({ "2024-12-05T10:02:11.\(1_234_567 + $0)Z " }).replacingOccurrences(of: "\n", with: "\r\n")
        #expect(Self.reaped(text) == ["utun4", "utun5", "utun6"])
        let snapshot = CapturedInventory.snapshot(from: CaptureReader.read(CaptureText(file: "log.txt", text: text)), label: "log.txt")
        #expect(snapshot.readingNotes.contains { $0.contains("every line starts with") })
    }

    @Test func aGitHubActionsStepNamesItsCommand() {
        let text = "##[group]Run ifconfig -a\n" + Self.session.split(separator: "\n").dropFirst().joined(separator: "\n")
        let contents = CaptureReader.read(CaptureText(file: "log.txt", text: Self.prefixed({ "2024-12-05T10:02:11.\(1_234_567 + $0)Z " }, text)))
        #expect(contents.notes.contains { $0.contains("command `ifconfig -a`") })
        #expect(contents.interfacesComplete)
    }

    /// A prefix tunwarden does not know still leaves each block ending after its header line:
    /// those blocks' addresses are unknown, and no unit of theirs is idle.
    @Test func anUnknownPrefixLeavesNoUnitIdle() {
        let text = Self.prefixed { _ in "run 42 | " }
        #expect(Self.reaped(text).isEmpty)
        let snapshot = CapturedInventory.snapshot(from: CaptureReader.read(CaptureText(file: "log.txt", text: text)), label: "log.txt")
        #expect(snapshot.interfaces.first { $0.name == "utun7" }?.addressesUnknown == true)
        // Said without --verbose too: the bodies went unread, and a plain OK would hide that.
        #expect(snapshot.readingProblems.contains { $0.contains("interface blocks") && $0.contains("could not be read") }, "\(snapshot.readingProblems)")
    }

    /// A block that lost its address lines while the routing table shows the unit's link-local
    /// address (the gateway of its `fe80::%utun7/64` route) has unknown addresses, not none.
    @Test func aBlockWithoutTheLinkLocalAddressRoutesShowIsNotIdle() {
        let cut = Self.session.replacingOccurrences(of: "\tinet 10.8.0.2 --> 10.8.0.1 netmask 0xffffffff\n\tinet6 fe80::107%utun7 prefixlen 64 scopeid 0x17 \n", with: "")
        #expect(cut != Self.session)
        #expect(Self.reaped(cut) == ["utun4", "utun5", "utun6"])
        let assessment = CapturePasteTests.assess(cut)
        #expect(assessment.snapshot.readingProblems.contains { $0.contains("utun7's block shows no link-local address") })
    }

    /// Output whose lines start like a prefix but are the tool's own: a column of pids, IPv6
    /// route rows, a clock only on the prompts. Nothing is taken off.
    @Test func outputThatOnlyLooksPrefixedIsLeftAlone() {
        let ps = "  PID COMM\n    1 /sbin/launchd\n  412 /Library/Application Support/ZeroTier/One/zerotier-one\n  413 /usr/sbin/syslogd\n  414 /usr/libexec/UserEventAgent\n"
        #expect(LinePrefix.strip(ps).prefix == nil)
        let routes = (0..<6).map { "200\($0):db8::/32                             fe80::1%utun4                           UGcI                utun4" }.joined(separator: "\n")
        #expect(LinePrefix.strip(routes).prefix == nil)
        let clocks = "[10:02:11] jane@mbp ~ % ifconfig utun4\nutun4: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet 10.8.0.2 --> 10.8.0.1 netmask 0xffffffff\n[10:02:15] jane@mbp ~ % netstat -rn\n"
        #expect(LinePrefix.strip(clocks).prefix == nil)
    }
}
