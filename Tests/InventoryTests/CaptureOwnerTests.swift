import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Who owns what a capture shows: a feth pair is ZeroTier's only when named as ZeroTier names
/// them, a ps listing is every process only when it holds launchd, a holder's name is lsof's
/// unless ps has the same program whole, and findings list what they say they list.
@Suite struct CaptureOwnerTests {
    static let launchd = "root                 1   0.0  0.1 410000000  12000   ??  Ss    8:01AM   0:12.00 /sbin/launchd"

    /// A ZeroTier-named feth pair and `ps auxww` with `psRows`, closed by the next prompt, which
    /// shows where ps ended (a listing the paste simply ends with may have been cut there).
    static func pair(_ first: String, _ second: String, psRows: [String]) -> String {
        "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + """

        \(first): flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 2800
        \tinet 10.77.0.1 netmask 0xffffff00 broadcast 10.77.0.255
        \tpeer: \(second)
        \tstatus: active
        \(second): flags=8963<UP,BROADCAST,SMART,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 2800
        \tpeer: \(first)
        \tstatus: active
        % ps auxww
        USER               PID  %CPU %MEM      VSZ    RSS   TT  STAT STARTED      TIME COMMAND

        """ + psRows.joined(separator: "\n") + "\n% "
    }

    static func orphaned(_ text: String) -> [String] {
        CapturePasteTests.assess(text).findings.filter { $0.id == FindingID.orphanedFeth }.compactMap(\.ifname).sorted()
    }

    /// fethN with feth(N+5000) is ZeroTier's; any other pair (by hand, a VM's bridge) is not
    /// proven abandoned by ZeroTier's absence.
    @Test(arguments: [("feth1207", "feth6207", true), ("feth100", "feth5100", true), ("feth4999", "feth9999", true), ("feth0", "feth5000", false), ("feth99", "feth5099", false),
                      ("feth0", "feth1", false), ("feth5000", "feth10000", false), ("feth12", "feth5013", false), ("feth007", "feth5007", false)])
    func onlyZeroTiersNamingIsJudgedByZeroTier(first: String, second: String, zeroTier: Bool) {
        let text = Self.pair(first, second, psRows: [Self.launchd])
        #expect(Self.orphaned(text) == (zeroTier ? [first, second].sorted() : []), "\(first)/\(second)")
        if !zeroTier {
            let assessment = CapturePasteTests.assess(text)
            #expect(assessment.interfaces.first { $0.interface.name == first }?.reason.contains("not named as ZeroTier names its pairs") == true)
        }
    }

    /// A listing without launchd is one user's or the first rows of a sorted one.
    @Test func aPsListingWithoutLaunchdIsNotEveryProcess() {
        let sven = "sven               901   0.0  0.1 410000000  12000   ??  S     8:05AM   0:01.00 /Applications/Mail.app/Contents/MacOS/Mail"
        #expect(Self.orphaned(Self.pair("feth1207", "feth6207", psRows: [sven])).isEmpty)
        #expect(Self.orphaned(Self.pair("feth1207", "feth6207", psRows: [sven]).replacingOccurrences(of: "% ps auxww\n", with: "")).isEmpty)
        #expect(Self.orphaned(Self.pair("feth1207", "feth6207", psRows: [Self.launchd, sven])) == ["feth1207", "feth6207"])
    }

    /// A ps row cut at the window's edge names another program (`Application` of `Application
    /// Support`): the holder keeps lsof's name.
    @Test func aHolderKeepsLsofsNameWhenPsNamesAnother() {
        let holder = DarwinParsers.UtunHolder(pid: 1881, command: "openvpn", user: "root", unit: 5)
        #expect(CapturedInventory.displayName(holder, processes: [1881: "/Library/Application Support/Tun"]) == "openvpn")
        #expect(CapturedInventory.displayName(holder, processes: [1881: "/opt/homebrew/sbin/openvpn --config x"]) == "openvpn")
        let cut = DarwinParsers.UtunHolder(pid: 77, command: "Tunnelbli", user: "root", unit: 3)
        #expect(CapturedInventory.displayName(cut, processes: [77: "/Applications/Tunnelblick.app/Contents/Resources/Tunnelblick --x"]) == "Tunnelblick")
    }

    /// A split default lists the pieces that take the space, not the tunnel's own subnet and
    /// host routes beside them.
    @Test func aSplitDefaultListsItsPieces() throws {
        let text = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + """

        utun6: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
        \tinet 10.66.66.2 --> 10.66.66.2 netmask 0xffffffff
        % netstat -rn -f inet
        Destination        Gateway            Flags               Netif Expire
        0/1                10.66.66.1         UGSc                utun6
        default            192.168.2.1        UGScg                 en0
        10.66.66.2         10.66.66.2         UH                  utun6
        10.66/16           10.66.66.1         UGSc                utun6
        128.0/1            10.66.66.1         UGSc                utun6
        """
        let split = try #require(CapturePasteTests.assess(text).findings.first { $0.id == FindingID.splitDefault })
        #expect(split.routes?.map(\.display) == ["0.0.0.0/1 via 10.66.66.1", "128.0.0.0/1 via 10.66.66.1"], "\(split.evidence)")
    }

    /// An IPv6 split lists both its halves (`8000::/1` lies outside 2000::/3 but is half the
    /// split), not a ULA's fc00::/7 beside them; one route is one route.
    @Test func anIPv6SplitListsBothHalves() throws {
        let listing = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\nutun2: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fd00::2 prefixlen 64\n"
            + "% netstat -rn -f inet6\nDestination                             Gateway                                 Flags         Netif Expire\n"
        let halves = CapturePasteTests.assess(listing + "::/1                                    utun2                                   USc           utun2\n"
            + "8000::/1                                utun2                                   USc           utun2\nfc00::/7                                utun2                                   USc           utun2\n")
        let split = try #require(halves.findings.first { $0.id == FindingID.splitDefault }, "\(halves.findings.map(\.evidence))")
        #expect(split.routes?.map { $0.destination.description } == ["::/1", "8000::/1"], "\(split.evidence)")
        #expect(split.evidence.contains("through 2 more-specific routes: ::/1, 8000::/1"), "\(split.evidence)")
        let one = CapturePasteTests.assess(listing + "2000::/3                                utun2                                   USc           utun2\n")
        #expect(one.findings.first { $0.id == FindingID.splitDefault }?.evidence.contains("through 1 more-specific route: 2000::/3") == true,
                "\(one.findings.map(\.evidence))")
    }

    /// tuntaposx's `tun0` and `tap0` (older OpenVPN, Tunnelblick) are tunnels: every route into
    /// one that is gone is reported, not only its split default.
    @Test(arguments: ["tun0", "tap1"])
    func aTuntaposxTunnelsRoutesAreReported(name: String) throws {
        let text = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n% netstat -rn -f inet\nDestination        Gateway            Flags               Netif Expire\n"
            + "0/1                10.8.0.5           UGSc                \(name)\ndefault            192.168.2.1        UGScg                 en0\n"
            + "10.8.0.1/32        10.8.0.5           UGSc                \(name)\n128.0/1            10.8.0.5           UGSc                \(name)\n"
        let assessment = CapturePasteTests.assess(text)
        #expect(assessment.findings.first { $0.id == FindingID.splitDefault }?.severity == .critical)
        let dead = try #require(assessment.findings.first { $0.id == FindingID.deadTunnelRoute }, "\(assessment.findings.map(\.evidence))")
        #expect(dead.ifname == name && dead.evidence.contains("route -n delete -net 10.8.0.1/32 10.8.0.5"))
    }

    /// Routes into a tunnel that is gone are all reported: the split's pieces as split-default,
    /// the rest (a corporate VPN's 10/8, or routes beside a split) as dead-tunnel-route; and
    /// 2000::/3, all of IPv6 the internet routes, is a whole split by itself.
    @Test func everyRouteIntoAGoneTunnelIsReported() throws {
        let listing = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n% netstat -rn\nRouting tables\n\nInternet:\n"
            + "Destination        Gateway            Flags               Netif Expire\ndefault            192.168.2.1        UGScg                 en0\n"
        let corporate = CapturePasteTests.assess(listing + "10                 10.20.0.1          UGSc                utun6\n172.16/12          10.20.0.1          UGSc                utun6\n")
        let dead = try #require(corporate.findings.first { $0.id == FindingID.deadTunnelRoute }, "\(corporate.findings.map(\.evidence))")
        #expect(dead.severity == .warning && dead.ifname == "utun6" && dead.routes?.count == 2)
        #expect(dead.evidence.contains("which no longer exists") && dead.evidence.contains("route -n delete -net 172.16.0.0/12"))
        let beside = CapturePasteTests.assess(listing + "0/1                10.20.0.1          UGSc                utun6\n128.0/1            10.20.0.1          UGSc                utun6\n10.1/16            10.20.0.1          UGSc                utun6\n")
        #expect(beside.findings.first { $0.id == FindingID.splitDefault }?.routes?.count == 2)
        #expect(beside.findings.first { $0.id == FindingID.deadTunnelRoute }?.routes?.map(\.display) == ["10.1.0.0/16 via 10.20.0.1"])
        let v6 = CapturePasteTests.assess(listing.replacingOccurrences(of: "Internet:", with: "Internet6:")
            .replacingOccurrences(of: "default            192.168.2.1        UGScg                 en0\n", with: "")
            + "2000::/3           fe80::1%utun6      UGSc                utun6\n")
        let split = try #require(v6.findings.first { $0.id == FindingID.splitDefault }, "\(v6.findings.map(\.evidence))")
        #expect(split.severity == .critical && split.evidence.hasPrefix("1 route captures all IPv6 default traffic"), "\(split.evidence)")
        // One finding per tunnel, whatever its families; scoped rows, which serve only the
        // interface's own traffic, are not in it.
        let both = CapturePasteTests.assess(listing + "10                 10.20.0.1          UGSc                utun6\ndefault            10.20.0.1          UGScI               utun6\n"
            + "\nInternet6:\nDestination        Gateway            Flags               Netif Expire\nfd00::/8           fe80::1%utun6      UGSc                utun6\n")
        let deadOnes = both.findings.filter { $0.id == FindingID.deadTunnelRoute }
        // (The scoped `default … UGScI utun6` row is not in it: it serves utun6's own traffic.)
        #expect(deadOnes.count == 1 && Set(deadOnes.first?.routes?.map { $0.destination.description } ?? []) == ["10.0.0.0/8", "fd00::/8"],
                "\(deadOnes.map { $0.evidence })")
    }

    /// A general default route into a tunnel that is gone is reported and advised away by its
    /// gateway also when a filtered table (`| grep utun`) cannot say whether another default
    /// still works; a scoped one (flag I) is not.
    @Test(arguments: ["% netstat -rn | grep utun\n", "% netstat -rn -f inet | grep -E 'utun|default'\n", ""])
    func aDefaultIntoAGoneTunnelIsReportedFromAFilteredTable(command: String) throws {
        let text = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n" + command
            + "default            10.8.0.5           UGSc            9        0  utun3\n10.8.0.1/32        10.8.0.5           UGSc            0        0    utun3\n"
            + "default            10.8.0.5           UGScI           9        0  utun3\n"
        let assessment = CapturePasteTests.assess(text)
        // (A grep that keeps every default row lets the default be judged as the only one.)
        let named = assessment.findings.flatMap { $0.routes ?? [] }.filter { $0.nextHops.first?.interfaceName == "utun3" }
        #expect(named.map(\.display).sorted() == ["10.8.0.1/32 via 10.8.0.5", "default via 10.8.0.5"], "\(assessment.findings.map(\.evidence))")
        #expect(assessment.findings.contains { $0.evidence.contains("route -n delete default 10.8.0.5") })
        #expect(!assessment.findings.contains { $0.routes?.contains { $0.isInterfaceScoped } == true })
    }

    /// A route the system made for a tunnel (its link-local `fe80::%utun6/64`, its point-to-point
    /// host route, its subnet's) goes when the tunnel goes: with one in the table, the tunnel
    /// existed when netstat ran, and a listing that lacks it is of another moment.
    @Test func aLinkLocalRouteShowsTheTunnelExisted() {
        let listing = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n% netstat -rn\nRouting tables\n\nInternet:\n"
            + "Destination        Gateway            Flags               Netif Expire\ndefault            192.168.2.1        UGScg                 en0\n"
            + "0/1                10.20.0.1          UGSc                utun6\n128.0/1            10.20.0.1          UGSc                utun6\n"
        #expect(CapturePasteTests.assess(listing).status == .critical)
        let withZone = CapturePasteTests.assess(listing + "\nInternet6:\nDestination        Gateway            Flags               Netif Expire\n"
            + "fe80::%utun6/64    fe80::1%utun6      UcI                 utun6\n")
        #expect(!withZone.findings.contains { $0.severity == .critical }, "\(withZone.findings.map(\.evidence))")
        #expect(withZone.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown)
        // So does its point-to-point host route, or any route the system made (no S flag).
        for row in ["10.20.0.1          10.20.0.2          UH                  utun6", "10.20/16           link#22            UC                  utun6"] {
            let kernel = CapturePasteTests.assess(listing + row + "\n")
            #expect(!kernel.findings.contains { $0.severity == .critical }, "\(row): \(kernel.findings.map(\.evidence))")
            #expect(kernel.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(row)")
        }
    }

    /// A unit of a hoard is idle only when its addresses are known whole and no route beyond
    /// its link-local ones goes into it: an ifconfig filtered of its address lines or cut by
    /// `head`, or a VPN subnet routed into the unit, keeps its routes off the plan.
    @Test func onlyProvenIdleUnitsAreReaped() throws {
        func hoard(ifconfig command: String, routes: String = "") -> Set<String> {
            var text = "% \(command)\n" + CapturePasteTests.loAndEn0 + "\n"
            for unit in 4..<8 {
                text += "utun\(unit): flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::\(unit)%utun\(unit) prefixlen 64 scopeid 0x\(unit + 10)\n"
            }
            text += "% netstat -rn\nRouting tables\n\nInternet:\nDestination        Gateway            Flags               Netif Expire\n" + routes
            text += "\nInternet6:\nDestination                             Gateway                                 Flags               Netif Expire\n"
            for unit in 4..<8 { text += "default                                 fe80::%utun\(unit)                            UGcIg               utun\(unit)\n" }
            text += "% sudo lsof -nP\nCOMMAND     PID USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME\n"
            for unit in 4..<8 { text += "nesession 454 root   \(unit)u  systm 0x9a1c33e1a3c1b7c\(unit)      0t0      [ctl com.apple.net.utun_control id 6 unit \(unit + 1)]\n" }
            let finding = CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard }
            return Set(finding?.routes?.compactMap { $0.nextHops.first?.interfaceName } ?? [])
        }
        #expect(hoard(ifconfig: "ifconfig -a") == ["utun4", "utun5", "utun6", "utun7"])
        #expect(hoard(ifconfig: "ifconfig -a", routes: "10.66/16           10.66.0.1          UGSc                utun6\n") == ["utun4", "utun5", "utun7"])
        #expect(hoard(ifconfig: "ifconfig -a | grep -E 'utun|inet6'").isEmpty)
        #expect(hoard(ifconfig: "ifconfig -a | head -40").isEmpty)
        #expect(hoard(ifconfig: "ifconfig | grep -A3 utun") == ["utun4", "utun5", "utun6", "utun7"])
    }

    /// A hoard in a capture without IPv6 routes does not claim to have counted them.
    @Test func aHoardWithoutRoutesDoesNotCountThem() throws {
        var text = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n"
        for unit in 4..<8 { text += "utun\(unit): flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::\(unit)%utun\(unit) prefixlen 64 scopeid 0x\(unit + 10)\n" }
        text += "% sudo lsof -nP\nCOMMAND     PID USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME\n"
        for unit in 4..<8 { text += "nesession 454 root   \(unit)u  systm 0x9a1c33e1a3c1b7c\(unit)      0t0      [ctl com.apple.net.utun_control id 6 unit \(unit + 1)]\n" }
        let hoard = try #require(CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard })
        #expect(hoard.evidence.contains("the capture has no whole IPv6 or IPv4 routing table") && !hoard.evidence.contains("Their 0"), "\(hoard.evidence)")
    }
}
