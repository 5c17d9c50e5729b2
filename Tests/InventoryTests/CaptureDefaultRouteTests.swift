import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// The general default route of a family, wherever the capture shows it: a `netstat -rn | grep
/// utun12` row, the entry `route get default` found, a table into an interface of a name no
/// tunnel list holds, or into a tunnel that is down. macOS keeps one general default per family,
/// so one that leads nowhere is an outage (round 42, F2, F7, F8); the controls are a live tunnel
/// carrying it, a scoped default, physical interfaces, and output of another moment.
@Suite struct CaptureDefaultRouteTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round42/\(name)") }

    static func assess(_ text: String) -> Assessment { CapturePasteTests.assess(text) }

    /// Whether the assessment says the general default of `family` leaves through `name` into
    /// nothing: a critical split-default naming it.
    static func blackholedDefault(_ assessment: Assessment, _ name: String) -> Bool {
        assessment.status == .critical && assessment.findings.contains {
            $0.id == FindingID.splitDefault && $0.severity == .critical && $0.ifname == name
                && $0.routes?.contains { $0.destination.length == 0 } == true
        }
    }

    static func noCritical(_ assessment: Assessment, _ label: String) {
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(label): \(assessment.findings.map(\.evidence))")
    }

    // MARK: F8: a filtered table's general default

    /// `netstat -rn | grep utun12` shows the general default (no I flag) into a utun the whole
    /// `ifconfig -a` lacks: it is the one general default of IPv4, so all default traffic is lost.
    @Test(arguments: ["netstat -rn | grep utun12", "netstat -nr | grep -w utun12", "netstat -rn -f inet | grep utun", "netstat -rn | grep -i UTUN12"])
    func aGrepdGeneralDefaultIntoAGoneUtunIsCritical(command: String) throws {
        let text = try Self.fixture("grep-utun12-default.txt").swapping("netstat -rn | grep utun12", command)
        let assessment = Self.assess(text)
        #expect(Self.blackholedDefault(assessment, "utun12"), "\(command): \(assessment.findings.map(\.evidence))")
        #expect(assessment.findings.first { $0.ifname == "utun12" }?.commands == ["sudo route -n delete default 10.66.66.1"])
    }

    /// The IPv6 general default so filtered (a VPN's static one via its ULA gateway) is as much
    /// the family's only one.
    @Test func aGrepdIPv6GeneralDefaultIntoAGoneUtunIsCritical() throws {
        let text = try Self.fixture("grep-utun12-default.txt").swapping(
            "default            10.66.66.1         UGSc               utun12       ",
            "default                                 fd7a:115c:a1e0::1                       UGScg            utun12       ")
        #expect(Self.blackholedDefault(Self.assess(text), "utun12"))
    }

    /// Controls: the same row scoped to utun12 (flag I) serves only traffic bound to it; with
    /// utun12 listed and up, the default leads somewhere.
    @Test func aScopedOrLiveGrepdDefaultIsNoOutage() throws {
        let text = try Self.fixture("grep-utun12-default.txt")
        Self.noCritical(Self.assess(text.swapping("UGSc               utun12", "UGScIg             utun12")), "scoped")
        let live = text.swapping("jane@MacBook-Pro ~ % netstat", """
            utun12: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1420
            \tinet 10.66.66.2 --> 10.66.66.1 netmask 0xffffffff
            jane@MacBook-Pro ~ % netstat
            """)
        Self.noCritical(Self.assess(live), "live utun12")
    }

    // MARK: F7: `route get default`

    /// `route -n get default` names utun12, which the whole `ifconfig -a` before it lacks, and no
    /// routing table is pasted: the general default leads into a gone tunnel. Also asked of an
    /// address the default answers (`route to: 1.1.1.1`, `destination: default`).
    @Test(arguments: ["route -n get default", "route get default", "/sbin/route -n get 1.1.1.1"])
    func routeGetOfTheDefaultIntoAGoneUtunIsCritical(command: String) throws {
        var text = try Self.fixture("routeget-gone-utun12.txt").swapping("route -n get default", command)
        if command.hasSuffix("1.1.1.1") { text = text.swapping("   route to: default", "   route to: 1.1.1.1") }
        let assessment = Self.assess(text)
        #expect(Self.blackholedDefault(assessment, "utun12"), "\(command): \(assessment.findings.map(\.evidence))")
        #expect(assessment.findings.contains { $0.evidence.contains("as `route get` at paste.txt:75 shows") })
    }

    /// `route -n get -inet6 default` beside an IPv4 table: the IPv6 default leads into the gone
    /// utun6 as the IPv4 split does, whether the listing is `ifconfig -a` or ifconfig's answer that
    /// utun6 does not exist.
    @Test func routeGetOfTheIPv6DefaultBesideAnIPv4Table() {
        let lines = "user@mbp ~ % route -n get -inet6 default\n   route to: ::\ndestination: ::\n       mask: default\n  interface: utun6\n      flags: <UP,DONE,STATIC>\n"
        let ifconfig = CaptureEvidenceTests.ifconfig, netstat = CaptureEvidenceTests.netstat
        for (place, text) in [("after", ifconfig + netstat + lines), ("between", ifconfig + lines + netstat),
                              ("after ifconfig's answer", CaptureEvidenceTests.doesNotExist + netstat + lines)] {
            let assessment = Self.assess(text)
            let ipv6 = assessment.findings.first { $0.routes?.contains { $0.family == .inet6 && $0.destination.length == 0 } == true }
            #expect(ipv6?.severity == .critical && ipv6?.id == FindingID.splitDefault && ipv6?.ifname == "utun6", "\(place): \(assessment.findings.map(\.evidence))")
            #expect(assessment.findings.contains { $0.id == FindingID.splitDefault && $0.routes?.contains { $0.family == .inet && $0.destination.length == 1 } == true }, "\(place)")
        }
    }

    /// Controls: a live utun12 in the listing; an entry scoped to its interface (IFSCOPE); a route
    /// that is not the default; a whole table that lists the default (the table decides).
    @Test func routeGetOfALiveOrOtherRouteIsNoOutage() throws {
        let text = try Self.fixture("routeget-gone-utun12.txt")
        let live = text.swapping("jane@MacBook-Pro ~ % route", """
            utun12: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1420
            \tinet 10.66.66.2 --> 10.66.66.1 netmask 0xffffffff
            jane@MacBook-Pro ~ % route
            """)
        #expect(Self.assess(live).status == .ok)
        Self.noCritical(Self.assess(text.swapping("<UP,GATEWAY,DONE,STATIC,PRCLONING>", "<UP,GATEWAY,DONE,STATIC,PRCLONING,IFSCOPE>")), "IFSCOPE")
        let narrow = text.swapping("destination: default\n       mask: default", "destination: 10.0.0.0\n       mask: 255.0.0.0")
        Self.noCritical(Self.assess(narrow), "10/8")
        let withTable = text.swapping("jane@MacBook-Pro ~ % ping", """
            jane@MacBook-Pro ~ % netstat -rn -f inet
            Destination        Gateway            Flags               Netif Expire
            default            192.168.1.1        UGScg                 en0
            192.168.1          link#11            UCS                   en0      !
            jane@MacBook-Pro ~ % ping
            """)
        Self.noCritical(Self.assess(withTable), "table")
    }

    /// A command that may have made utun12 between the listing and `route get` (a VPN started),
    /// or a listing of one interface: utun12 is not gone but unknown, seen only in `route get`.
    @Test(arguments: ["jane@MacBook-Pro ~ % open -a WireGuard\n", "jane@MacBook-Pro ~ % sudo wg-quick up wg0\n"])
    func routeGetAfterAChangeLeavesTheTunnelUnknown(between: String) throws {
        let text = try Self.fixture("routeget-gone-utun12.txt").swapping("jane@MacBook-Pro ~ % route", between + "jane@MacBook-Pro ~ % route")
        let assessment = Self.assess(text)
        Self.noCritical(assessment, between)
        #expect(assessment.status == .unknown)
        let utun12 = try #require(assessment.interfaces.first { $0.interface.name == "utun12" })
        #expect(utun12.state == .unknown && utun12.reason.contains("`route get`"), "\(utun12.reason)")
    }

    @Test func routeGetBesideAPartialListingLeavesTheTunnelUnknown() throws {
        let text = try Self.fixture("routeget-gone-utun12.txt").swapping("% ifconfig -a", "% ifconfig -a | head -40")
        let assessment = Self.assess(text)
        Self.noCritical(assessment, "head")
        #expect(assessment.status == .unknown)
        #expect(assessment.interfaces.contains { $0.interface.name == "utun12" && $0.state == .unknown })
    }

    // MARK: Round 47 F2: `route get` answered by half of a split default

    /// `route -n get 1.1.1.1` (or any address) answered by a `/1` route, half of a split
    /// default, into utun12, which the whole `ifconfig -a` lacks: half of the family's traffic
    /// goes into a tunnel that is gone, critical as the default's answer is, never OK. (IPv6's
    /// `8000::/1` holds none of its internet addresses, 2000::/3: a route into a gone tunnel.)
    /// `route` prints the 0/1 half's destination, 0.0.0.0, as `default` (round 48, F1).
    @Test(arguments: [("1.1.1.1", "default", "128.0.0.0"), ("200.1.1.1", "128.0.0.0", "128.0.0.0"),
                      ("2606:4700::1111", "::", "8000::"), ("fd00::1", "8000::", "8000::")])
    func routeGetOfHalfASplitDefaultIntoAGoneUtunIsNotOK(asked: String, destination: String, mask: String) throws {
        let text = try Self.fixture("routeget-gone-utun12.txt")
            .swapping("route -n get default\n   route to: default\ndestination: default\n       mask: default",
                      "route -n get \(asked)\n   route to: \(asked)\ndestination: \(destination)\n       mask: \(mask)")
            .swapping("    gateway: 10.66.66.1\n", asked.contains(":") ? "" : "    gateway: 10.66.66.1\n")
        let assessment = Self.assess(text)
        let critical = destination != "8000::"
        let found = assessment.findings.first { $0.id == (critical ? FindingID.splitDefault : FindingID.deadTunnelRoute) && $0.ifname == "utun12" }
        #expect(assessment.status == (critical ? .critical : .warning) && found?.severity == (critical ? .critical : .warning),
                "\(asked): \(assessment.findings.map(\.evidence))")
        #expect(found?.routes?.map(\.destination.description) == ["\(destination == "default" ? "0.0.0.0" : destination)/1"], "\(asked)")
        #expect(assessment.snapshot.readingNotes.contains { $0.contains("half of a split default, through utun12") }, "\(assessment.snapshot.readingNotes)")
    }

    /// Controls: the half into a listed live utun12; scoped to its interface (IFSCOPE); a mask
    /// that is no half's; after a command that may have made utun12 (unknown, not gone).
    @Test func routeGetOfHalfASplitDefaultControls() throws {
        let text = try Self.fixture("routeget-gone-utun12.txt")
            .swapping("destination: default\n       mask: default", "destination: default\n       mask: 128.0.0.0")
        let live = text.swapping("jane@MacBook-Pro ~ % route", """
            utun12: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1420
            \tinet 10.66.66.2 --> 10.66.66.1 netmask 0xffffffff
            jane@MacBook-Pro ~ % route
            """)
        Self.noCritical(Self.assess(live), "live")
        #expect(Self.assess(live).interfaces.first { $0.interface.name == "utun12" }?.routes.contains { $0.destination.length == 1 } == true)
        Self.noCritical(Self.assess(text.swapping("<UP,GATEWAY,DONE,STATIC,PRCLONING>", "<UP,GATEWAY,DONE,STATIC,PRCLONING,IFSCOPE>")), "IFSCOPE")
        Self.noCritical(Self.assess(text.swapping("mask: 128.0.0.0", "mask: 192.0.0.0")), "/2")
        let changed = Self.assess(text.swapping("jane@MacBook-Pro ~ % route", "jane@MacBook-Pro ~ % sudo wg-quick up wg0\njane@MacBook-Pro ~ % route"))
        Self.noCritical(changed, "wg-quick up")
        #expect(changed.status == .unknown)
        let utun12 = try #require(changed.interfaces.first { $0.interface.name == "utun12" })
        #expect(utun12.state == .unknown && utun12.reason.contains("half of a split default"), "\(utun12.reason)")
    }

    // MARK: F2: other names, and tunnels that are down

    /// GlobalProtect's `gpd0`, ZeroTier's old `zt0`: gone from the whole listing, the general
    /// default into them is lost whatever their name; so it is into a listed tunnel that is down.
    @Test(arguments: ["gw-gpd0.txt", "gw-zt0.txt", "down-gpd0.txt", "down-utun12.txt", "down-running-utun12.txt"])
    func aGeneralDefaultIntoAGoneOrDownTunnelIsCritical(file: String) throws {
        let assessment = Self.assess(try Self.fixture(file))
        let name = file.contains("gpd0") ? "gpd0" : file.contains("zt0") ? "zt0" : "utun12"
        #expect(Self.blackholedDefault(assessment, name), "\(file): \(assessment.findings.map(\.evidence))")
        if file.hasPrefix("down") {
            #expect(assessment.findings.contains { $0.evidence.contains("which is down") && !$0.reapable })
        }
    }

    /// Controls: the down utun brought up; `sudo ifconfig utun12 up` between the listing and the
    /// table (the flags are not the routes' moment's); physical interfaces, which a paste leaves
    /// out or shows inactive for reasons of its own.
    @Test func upTunnelsOtherMomentsAndPhysicalInterfacesAreNoOutage() throws {
        let down = try Self.fixture("down-utun12.txt")
        Self.noCritical(Self.assess(down.swapping("utun12: flags=8010<POINTOPOINT,MULTICAST>", "utun12: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST>")), "up")
        Self.noCritical(Self.assess(down.swapping("jane@MacBook-Pro ~ % netstat", "jane@MacBook-Pro ~ % sudo ifconfig utun12 up\njane@MacBook-Pro ~ % netstat")), "brought up between")
        // en0 down (no UP flag) with a general default: a physical interface is not judged by its flags.
        let en0Down = try Self.fixture("gw-gpd0.txt")
            .swapping("en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST>", "en0: flags=8822<BROADCAST,SMART,SIMPLEX,MULTICAST>")
            .swapping("default            10.1.2.1           UGSc               gpd0       \n", "")
            .swapping("UGScIg                en0", "UGScg                 en0")
        Self.noCritical(Self.assess(en0Down), "en0 down")
        // en0 without a cable (`status: inactive`) and its default scoped, a live utun carrying the default.
        let inactive = down.swapping("utun12: flags=8010<POINTOPOINT,MULTICAST>", "utun12: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST>")
            .swapping("\tmedia: autoselect\n\tstatus: active\nawdl0", "\tmedia: autoselect\n\tstatus: inactive\nawdl0")
        Self.noCritical(Self.assess(inactive), "en0 inactive")
        // A general default into a bridge the listing lacks (Internet Sharing's bridge100).
        Self.noCritical(Self.assess(try Self.fixture("gw-gpd0.txt").swapping("gpd0", "bridge100")), "bridge100")
    }
}

extension String {
    /// The text with `old` replaced by `new`, which it must hold: a variant of a fixture that
    /// changed nothing would prove nothing.
    func swapping(_ old: String, _ new: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        #expect(contains(old), "not in the text: \(old)", sourceLocation: sourceLocation)
        return replacingOccurrences(of: old, with: new)
    }
}
