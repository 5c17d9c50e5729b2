import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// `route get` answers read by destination and mask together (round 48, F1). `route` prints an
/// IPv4 destination of 0.0.0.0 as `default` whatever its mask, so the lookup of any address under
/// a VPN's `0/1` answers `destination: default` with `mask: 128.0.0.0` (as in dylanaraps/neofetch
/// PR #2361): the prefix 0.0.0.0/1, never the general default. Several answers in one paste keep
/// their own routes, and the advice names the half by its mask, never `route -n delete default`,
/// which would delete en0's working default. The paste is in `Fixtures/darwin-pastes/round48`.
@Suite struct CaptureRouteGetMaskTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round48/\(name)") }

    /// The routes `route get` answers in `text` were read as, in the order read.
    static func lookedUp(_ text: String) -> [String] {
        CaptureReader.read(CaptureText(file: "paste.txt", text: text)).routeGetDefaults.map { "\($0.destination) \($0.interface)" }
    }

    /// The real shapes: a `default` of mask `128.0.0.0` is 0.0.0.0/1; of mask `default`, the
    /// general default; of any other mask, neither. The other halves print their destination.
    @Test(arguments: [("8.8.8.8", "default", "128.0.0.0", "0.0.0.0/1"), ("default", "default", "default", "0.0.0.0/0"),
                      ("200.1.1.1", "128.0.0.0", "128.0.0.0", "128.0.0.0/1"), ("2606:4700::1111", "::", "8000::", "::/1"),
                      ("fd00::1", "8000::", "8000::", "8000::/1"), ("::", "::", "default", "::/0"),
                      ("8.8.8.8", "default", "192.0.0.0", nil), ("8.8.8.8", "default", "255.0.0.0", nil), ("8.8.8.8", "default", "255.0.255.0", nil)])
    func destinationAndMaskAreReadTogether(asked: String, destination: String, mask: String, expected: String?) {
        let text = "jane@MacBook-Pro ~ % route -n get \(asked)\n   route to: \(asked)\ndestination: \(destination)\n       mask: \(mask)\n  interface: utun4\n      flags: <UP,DONE,STATIC,PRCLONING>\n"
        #expect(Self.lookedUp(text) == (expected.map { ["\($0) utun4"] } ?? []), "\(destination) \(mask)")
    }

    /// The lookup of 8.8.8.8 (the 0/1 half into utun4, which the whole `ifconfig -a` lacks), then
    /// of `default` (en0's), in either order, or the first alone: half of IPv4 is blackholed, and
    /// the advice deletes 0.0.0.0/1, never the default en0's route is.
    @Test(arguments: ["half, then default", "default, then half", "half alone"])
    func halfLookedUpBesideTheDefaultIsCriticalAndNamedByItsMask(order: String) throws {
        let text = try Self.fixture("routeget-half-then-default.txt")
        let halfStart = try #require(text.range(of: "jane@MacBook-Pro ~ % route -n get 8.8.8.8\n"))
        let defaultStart = try #require(text.range(of: "jane@MacBook-Pro ~ % route -n get default\n"))
        let end = try #require(text.range(of: "jane@MacBook-Pro ~ % \n", options: .backwards))
        let (listing, half, general) = (text[..<halfStart.lowerBound], text[halfStart.lowerBound..<defaultStart.lowerBound], text[defaultStart.lowerBound..<end.lowerBound])
        #expect(half.contains("destination: default\n       mask: 128.0.0.0") && general.contains("destination: default\n       mask: default"))
        let lookups = order == "half, then default" ? half + general : order == "default, then half" ? general + half : half
        let paste = String(listing + lookups) + "jane@MacBook-Pro ~ % \n"
        let assessment = CapturePasteTests.assess(paste)
        #expect(assessment.status == .critical, "\(order): \(assessment.findings.map(\.evidence))")
        let split = try #require(assessment.findings.first { $0.id == FindingID.splitDefault && $0.ifname == "utun4" }, "\(order)")
        #expect(split.severity == .critical && split.routes?.map(\.destination.description) == ["0.0.0.0/1"], "\(order): \(split.evidence)")
        #expect(split.commands == ["sudo route -n delete -net 0.0.0.0/1 10.64.12.7"], "\(order): \(split.commands)")
        #expect(!assessment.findings.contains { $0.commands.contains { $0.contains("delete default") } }, "\(order): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.findings.contains { $0.routes?.contains { $0.destination.length == 0 && $0.nextHops.first?.interfaceName == "utun4" } == true })
    }

    /// A listed, live utun4 carries the half, not the default: its routes say 0.0.0.0/1, and the
    /// default read beside it is en0's.
    @Test func aLiveTunnelsHalfIsNoDefault() throws {
        let live = try Self.fixture("routeget-half-then-default.txt").swapping("jane@MacBook-Pro ~ % route -n get 8.8.8.8", """
            utun4: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1420
            \tinet 10.64.12.7 --> 10.64.12.7 netmask 0xffffffff
            jane@MacBook-Pro ~ % route -n get 8.8.8.8
            """)
        let assessment = CapturePasteTests.assess(live)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(assessment.findings.map(\.evidence))")
        let utun4 = try #require(assessment.interfaces.first { $0.interface.name == "utun4" })
        #expect(utun4.routes.map(\.destination.description) == ["0.0.0.0/1"], "\(utun4.routes)")
        let defaults = assessment.snapshot.routes.filter { $0.destination.length == 0 }
        #expect(defaults.map { $0.nextHops.first?.interfaceName } == ["en0"], "\(defaults)")
    }
}
