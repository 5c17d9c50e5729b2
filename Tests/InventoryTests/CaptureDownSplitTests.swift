import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A split default into a tunnel that is listed but down (round 48, F2): `0/1` and `128.0/1`
/// (wg-quick, OpenVPN's `def1`, Tunnelblick, tun2socks), or IPv6's `::/1` and `8000::/1`, into a
/// utun whose flags lack UP (after `sudo ifconfig utun4 down`) take every packet the default
/// would into an interface that sends nothing: critical, as the general default into it is. And
/// the advice never names one command twice (a host route and a /32 net route to one address,
/// as AnyConnect leaves them). The pastes are in `Fixtures/darwin-pastes/round48`.
@Suite struct CaptureDownSplitTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round48/\(name)") }

    static let down = "utun4: flags=8050<POINTOPOINT,RUNNING,MULTICAST>"
    static let up = "utun4: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST>"

    /// The split-default finding about utun4, which must be there.
    static func split(_ assessment: Assessment, sourceLocation: SourceLocation = #_sourceLocation) throws -> Finding {
        try #require(assessment.findings.first { $0.id == FindingID.splitDefault && $0.ifname == "utun4" },
                     "\(assessment.findings.map(\.evidence))", sourceLocation: sourceLocation)
    }

    @Test func anIPv4SplitDefaultIntoADownUtunIsCritical() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("split-down-utun4.txt"))
        #expect(assessment.status == .critical)
        let split = try Self.split(assessment)
        #expect(split.severity == .critical && !split.reapable, "\(split.evidence)")
        #expect(split.routes?.map(\.destination.description) == ["0.0.0.0/1", "128.0.0.0/1"])
        #expect(split.evidence.contains("capture all IPv4 default traffic into utun4, which is down (its flags lack UP: nothing is sent out of it)"), "\(split.evidence)")
        #expect(split.evidence.contains("Reconnect the VPN that owns utun4 (or bring it up again)"), "\(split.evidence)")
        #expect(split.commands == ["sudo route -n delete -net 0.0.0.0/1 10.64.12.7", "sudo route -n delete -net 128.0.0.0/1 10.64.12.7"], "\(split.commands)")
    }

    /// IPv6's halves (wg-quick's `::/1` and `8000::/1`, added with `-interface utun4`) likewise.
    @Test func anIPv6SplitDefaultIntoADownUtunIsCritical() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("split6-down-utun4.txt"))
        #expect(assessment.status == .critical)
        let split = try Self.split(assessment)
        #expect(split.severity == .critical && split.routes?.map(\.destination.description) == ["::/1", "8000::/1"], "\(split.evidence)")
        #expect(split.evidence.contains("all IPv6 default traffic into utun4, which is down"), "\(split.evidence)")
    }

    /// The residue of a split, `0/1` alone, into the down utun4: half of IPv4 is blackholed.
    @Test func halfASplitIntoADownUtunIsCritical() throws {
        let text = try Self.fixture("split-down-utun4.txt").swapping("128.0/1            10.64.12.7         UGSc                utun4       \n", "")
        let split = try Self.split(CapturePasteTests.assess(text))
        #expect(split.severity == .critical && split.routes?.map(\.destination.description) == ["0.0.0.0/1"], "\(split.evidence)")
        #expect(split.evidence.contains("sends 50% of IPv4 into utun4, which is down"), "\(split.evidence)")
        #expect(split.commands == ["sudo route -n delete -net 0.0.0.0/1 10.64.12.7"], "\(split.commands)")
    }

    /// Controls: utun4 up; brought up between the listing and the table (the flags are not the
    /// routes' moment's). The split then explains where traffic goes: info, never critical.
    @Test func anUpTunnelOrOneBroughtUpBetweenIsNoOutage() throws {
        for text in [try Self.fixture("split-down-utun4.txt").swapping(Self.down, Self.up),
                     try Self.fixture("split6-down-utun4.txt").swapping(Self.down, Self.up),
                     try Self.fixture("split-down-utun4.txt").swapping("jane@MacBook-Pro ~ % netstat", "jane@MacBook-Pro ~ % sudo ifconfig utun4 up\njane@MacBook-Pro ~ % netstat")] {
            let assessment = CapturePasteTests.assess(text)
            #expect(!assessment.findings.contains { $0.severity == .critical }, "\(assessment.findings.map(\.evidence))")
            #expect(try Self.split(assessment).severity == .info)
        }
    }

    /// AnyConnect's table holds `10.0.0.1 … UGHdLScr` (a host route) and `10.0.0.1/32 …
    /// UGdCSc` (a net route) into the gone utun2: each is named by its own command, the host route
    /// with `-host` and the /32 net route with `-net 10.0.0.1/32`, and no command is given twice.
    @Test func aHostRouteAndANetRouteToOneAddressAreEachNamedOnce() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("anyconnect-gone-utun2.txt"))
        let dead = try #require(assessment.findings.first { $0.id == FindingID.deadTunnelRoute && $0.ifname == "utun2" }, "\(assessment.findings.map(\.evidence))")
        #expect(Set(dead.commands).count == dead.commands.count, "\(dead.commands)")
        #expect(dead.commands.contains("sudo route -n delete -host 10.0.0.1 172.20.12.27") && dead.commands.contains("sudo route -n delete -net 10.0.0.1/32 172.20.12.27"),
                "\(dead.commands)")
        #expect(dead.commands.contains("sudo route -n delete -net 10.0.0.2/32 172.20.12.27") && dead.commands.contains("sudo route -n delete -host 172.24.33.143 172.20.12.27"),
                "\(dead.commands)")
        for finding in assessment.findings { #expect(Set(finding.commands).count == finding.commands.count, "\(finding.commands)") }
    }

    /// Routes `route` cannot tell apart (an IPv6 /128 net route and the host route to the same
    /// address: it sends no mask for a length of 128) are advised once.
    @Test func routesOneCommandNamesAreAdvisedOnce() {
        let hop = [NextHop(gateway: IPAddress("fd00:64::1"), interfaceIndex: nil, interfaceName: "utun4")]
        var host = Route(destination: IPPrefix("fd00:64::9/128")!, type: .unicast, table: .main, nextHops: hop)
        host.bsdFlags = "UGHS"
        var net = host
        net.bsdFlags = "UGSc"
        let snapshot = Snapshot(platform: .darwin, interfaces: [], routes: [host, net], holders: HolderScan(complete: true, attachments: [], processesScanned: 0))
        let finding = Heuristics.goneTunnelRoutes([host, net], into: "utun4", snapshot: snapshot)
        #expect(finding?.commands == ["sudo route -n delete -inet6 -host fd00:64::9 fd00:64::1"], "\(finding?.commands ?? [])")
    }
}
