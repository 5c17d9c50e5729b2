import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// What a tunnel's live holder says of the routes into it (round 43): a default route that a
/// running VPN client took by replacing the physical one (F4), a closed tuntaposx tap no route
/// uses beside a connected Tunnelblick (F2), and the one name a process goes by (F3).
@Suite struct CaptureLiveHolderTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round43/\(name)") }

    static func defaultViaTunnel(_ assessment: Assessment) -> Finding? {
        assessment.findings.first { $0.id == FindingID.defaultViaTunnel }
    }

    // MARK: F4: a default taken by replacing the physical one

    /// openconnect (vpnc-script) deleted en0's default and added its own via utun4, which lsof
    /// shows openconnect[4711] holding: that is how it runs while connected, info and an OK
    /// audit. The old code warned (the severity and status assertions fail).
    @Test func openconnectsDefaultThroughItsHeldUtunIsInfo() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("openconnect-fulltunnel.txt"))
        let finding = try #require(Self.defaultViaTunnel(assessment), "\(assessment.findings.map(\.evidence))")
        #expect(finding.severity == .info && finding.ifname == "utun4")
        #expect(finding.evidence.contains("held by openconnect[4711]"), "\(finding.evidence)")
        #expect(assessment.status == .ok && assessment.status.exitCode == 0, "\(assessment.findings.map(\.evidence))")
    }

    /// OpenVPN's `redirect-gateway` without `def1`: Tunnelblick's openvpn replaced en0's default
    /// with one via tun0, which it has open (`open (pid 701)`); and OpenVPN on a utun, as 2.5 and
    /// later run on macOS. Both info; the old code warned.
    @Test func openVPNsRedirectGatewayIsInfo() throws {
        let tun = try Self.fixture("tunnelblick-healthy.txt")
            .swapping("0/1                10.8.0.5           UGSc            5        0    tun0\n", "")
            .swapping("128.0/1            10.8.0.5           UGSc            3        0    tun0\n", "")
            .swapping("default            10.0.1.1           UGSc           14        0     en0\n", "default            10.8.0.5           UGSc            5        0    tun0\n")
        let onTun = CapturePasteTests.assess(tun)
        let finding = try #require(Self.defaultViaTunnel(onTun), "\(onTun.findings.map(\.evidence))")
        #expect(finding.severity == .info && finding.ifname == "tun0" && finding.evidence.contains("openvpn[701]"), "\(finding.evidence)")
        #expect(onTun.status == .ok, "\(onTun.findings.map(\.evidence))")
        let utun = try Self.fixture("openconnect-fulltunnel.txt")
            .swapping("openconne  4711", "openvpn    4711")
            .swapping("openconnect --protocol=anyconnect vpn.example.com\nroot              4705", "/opt/homebrew/opt/openvpn/sbin/openvpn --config /etc/openvpn/work.conf\nroot              4705")
        let onUtun = CapturePasteTests.assess(utun)
        #expect(Self.defaultViaTunnel(onUtun)?.severity == .info, "\(onUtun.findings.map(\.evidence))")
    }

    /// Controls that stay warnings: the utun's holder unknown (no lsof in the paste); held by
    /// nesessionmanager, a NetworkExtension VPN that keeps the physical default scoped, so its
    /// loss is a kill switch's or a network change's; a ZeroTier feth with zerotier-one running.
    @Test func anUnheldOrSystemVPNDefaultStaysAWarning() throws {
        let text = try Self.fixture("openconnect-fulltunnel.txt")
        let lsof = try #require(text.range(of: "user@MacBook-Pro ~ % sudo lsof"))
        let ps = try #require(text.range(of: "user@MacBook-Pro ~ % ps auxww"))
        let unheld = CapturePasteTests.assess(String(text[..<lsof.lowerBound]) + String(text[ps.lowerBound...]))
        #expect(Self.defaultViaTunnel(unheld)?.severity == .warning, "\(unheld.findings.map(\.evidence))")
        #expect(unheld.status == .warning)
        let system = text.swapping("openconne  4711", "nesession  4711")
            .swapping("openconnect --protocol=anyconnect vpn.example.com\nroot              4705", "/usr/libexec/nesessionmanager\nroot              4705")
        #expect(Self.defaultViaTunnel(CapturePasteTests.assess(system))?.severity == .warning)
        let zerotier = try CapturedInventory(path: try #require(Bundle.module.url(forResource: "Fixtures/darwin-shapes/zerotier-default-only-via-feth", withExtension: nil)).path).snapshot()
        #expect(Self.defaultViaTunnel(Heuristics.assess(zerotier))?.severity == .warning)
    }

    // MARK: F2, F3: Tunnelblick's closed tap1

    /// openvpn carries the VPN on tun0; tap1, used earlier, says `closed` and no route leads into
    /// it: nothing hinges on whether the running VPN reopened it, so the audit is OK, as it is
    /// with openvpn not running. The old code left tap1 unknown and the audit UNKNOWN (exit 3).
    @Test func aClosedTapNoRouteUsesLeavesAConnectedVPNOK() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("tunnelblick-healthy.txt"))
        #expect(assessment.status == .ok && assessment.status.exitCode == 0, "\(assessment.findings.map(\.evidence))")
        let tap = try #require(assessment.interfaces.first { $0.interface.name == "tap1" })
        #expect(tap.state == .orphaned, "\(tap.reason)")
        #expect(assessment.interfaces.first { $0.interface.name == "tun0" }?.state == .live)
    }

    /// With a route into tap1 the doubt stands (the VPN may have reopened it, with no command):
    /// tap1 is unknown, and its verdict names the process as the table does, `openvpn[701]`,
    /// not `Application[701]` of `/Library/Application Support/Tunnelblick/…/openvpn`.
    @Test func aRoutedClosedTapStaysDoubtedAndNamesOpenVPNAsTheTableDoes() throws {
        let text = try Self.fixture("tunnelblick-healthy.txt")
            .swapping("224.0.0/4          link#4             UmCS            1        0     en0      !\n",
                      "224.0.0/4          link#4             UmCS            1        0     en0      !\n10.99/16           link#9             UCS             0        0    tap1      !\n")
        let assessment = CapturePasteTests.assess(text)
        let tap = try #require(assessment.interfaces.first { $0.interface.name == "tap1" })
        #expect(tap.state == .unknown && assessment.status == .unknown, "\(tap.reason)")
        #expect(tap.reason.contains("openvpn[701]") && !tap.reason.contains("Application["), "\(tap.reason)")
        #expect(assessment.interfaces.first { $0.interface.name == "tun0" }?.holders.map(\.display) == ["openvpn[701]"])
    }
}
