import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// netstat on 10.14 cuts `feth2481` and `feth2487` alike to `feth248` (round 49, f2). The
/// subnet rows say which is which by `link#N`; an ARP row (`10.147.20.1 32:c5:5e:aa:bb:cc UHLWIi`)
/// and a broadcast row (`10.147.20.255 ff:ff:ff:ff:ff:ff UHLWbI`) say it by their destination,
/// which lies on exactly one candidate's subnet, since the kernel clones them from that subnet's
/// route. The pastes are in `Fixtures/darwin-pastes/round49`.
@Suite struct CaptureCutNameSubnetTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round49/\(name)") }

    /// The interface each IPv4 route of the paste is read as on, by destination.
    static func netifs(_ assessment: Assessment) -> [String: String] {
        Dictionary(assessment.snapshot.routes.filter { $0.family == .inet }.compactMap { route in
            route.nextHops.first?.interfaceName.map { (route.destination.description, $0) }
        }, uniquingKeysWith: { first, _ in first })
    }

    /// A healthy Mojave capture, zerotier-one running with two networks: every cut row is settled,
    /// no phantom `feth248…` appears, and the status is OK.
    @Test func hostRowsOnOneCandidatesSubnetAreThatCandidates() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("mojave-two-zerotier-running.txt"))
        #expect(!assessment.interfaces.contains { $0.interface.name.hasSuffix("…") }, "\(assessment.interfaces.map(\.interface.name))")
        #expect(assessment.status == .ok, "\(assessment.findings.map(\.evidence)) \(assessment.interfaces.map { "\($0.interface.name) \($0.state)" })")
        let netifs = Self.netifs(assessment)
        #expect(netifs["10.147.20.1/32"] == "feth2481" && netifs["10.147.20.255/32"] == "feth2481", "\(netifs)")
        #expect(netifs["10.244.1.255/32"] == "feth2487", "\(netifs)")
    }

    /// Beside a listed `feth248`, the broadcast row of feth2481's subnet is feth2481's and that of
    /// feth248's own subnet stays feth248's: no phantom either.
    @Test func aListedCutNameKeepsTheRowsOfItsOwnSubnet() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("mojave-two-zerotier-pairs.txt"))
        #expect(!assessment.interfaces.contains { $0.interface.name.hasSuffix("…") }, "\(assessment.interfaces.map(\.interface.name))")
        let netifs = Self.netifs(assessment)
        #expect(netifs["10.147.20.255/32"] == "feth2481" && netifs["10.244.1.255/32"] == "feth248", "\(netifs)")
    }

    /// Control: when both candidates hold the destination's subnet (the second network numbered
    /// as the first), nothing tells which one the row is on, and it stays unsettled.
    @Test func aDestinationOnTwoCandidatesSubnetsStaysUnsettled() throws {
        let text = try Self.fixture("mojave-two-zerotier-running.txt")
            .replacingOccurrences(of: "inet 10.244.1.5 netmask 0xffffff00 broadcast 10.244.1.255", with: "inet 10.147.20.94 netmask 0xffffff00 broadcast 10.147.20.255")
        let assessment = CapturePasteTests.assess(text)
        #expect(Self.netifs(assessment)["10.147.20.1/32"] == "feth248…", "\(Self.netifs(assessment))")
        #expect(assessment.status == .unknown)
    }
}
