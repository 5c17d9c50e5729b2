import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// The commands a plan writes for interface-scoped routes (flag `I`). macOS picks the route a
/// `route` command deletes by destination, mask and scope, never by gateway, and only `-ifscope`
/// makes the request scoped: `route -n delete -inet6 default fe80::%utun4` without it deletes the
/// machine's unscoped IPv6 default (en0's, or a running VPN's) and leaves utun4's `UGcIg` one.
@Suite struct CaptureScopedRouteTests {
    /// Every command of a hoard's plan names the idle unit's scoped routes with `-ifscope`, the
    /// unit its gateway names; none can reach the general default, whoever holds it: en0
    /// (`UGcg`), a running WireGuard tunnel on utun12 (`default fe80::%utun12 UGcg`, en0's
    /// default scoped), or nobody (an IPv4-only network).
    @Test(arguments: ["hoard-en0-v6-default.txt", "hoard-vpn-v6-default.txt", "hoard-no-v6-default.txt"])
    func aHoardPlanDeletesOnlyTheScopedRoutes(fixture: String) throws {
        let text = try CaptureProofTests.fixture(fixture)
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(commands.count == 16, "\(commands)")
        for command in commands {
            let words = command.split(separator: " ").map(String.init)
            let unit = try #require(words.first { $0.contains("%utun") }.flatMap { $0.split(separator: "%").last }.map { String($0.prefix { $0 != "/" }) })
            #expect(words.suffix(2) == ["-ifscope", unit], "\(command)")
        }
        #expect(Set(commands.filter { $0.contains(" default ") }.map { $0.split(separator: " ").last! }) == Set((4...11).map { "utun\($0)" }))
        // The VPN's own default and its unit are never named.
        #expect(!commands.contains { $0.contains("utun12") || $0.contains("%en0") }, "\(commands)")
    }

    /// The undo of a scoped route adds it back scoped: without `-ifscope`, `route add` would make
    /// a general default via the utun (or fail with "File exists").
    @Test func theUndoOfAScopedRouteIsScoped() throws {
        let text = try CaptureProofTests.fixture("hoard-vpn-v6-default.txt")
        let assessment = CapturePasteTests.assess(text)
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: assessment.snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        let item = try #require(plan.items.first { $0.interface.name == "utun4" })
        let undo = DarwinCommands.recreate(item)
        #expect(undo.count == 2 && undo.allSatisfy { $0.hasPrefix("route -n add -inet6 ") && $0.hasSuffix(" -ifscope utun4") }, "\(undo)")
        #expect(DarwinCommands.recreate(item).first == "route -n add -inet6 default fe80::%utun4 -ifscope utun4")
    }

    static func route(_ destination: String, via gateway: String?, flags: String, into name: String) -> Route {
        var route = Route(destination: IPPrefix(destination)!, nextHops: [NextHop(gateway: gateway.flatMap(IPAddress.init), interfaceName: name)])
        route.bsdFlags = flags
        return route
    }

    /// Either family, delete and add alike: a scoped IPv4 route (a VPN's `UGScI` subnet, a scoped
    /// default into tun0) carries `-ifscope`, one without the flag does not (it is the one route
    /// of its destination without a scope), and an added route without a gateway goes to the
    /// interface.
    @Test func scopedRoutesOfEitherFamilyCarryTheirScope() {
        let cases: [(Route, String, [String], [String])] = [
            (Self.route("10.8.0.0/16", via: "10.8.0.5", flags: "UGScI", into: "tun0"), "tun0",
             ["route", "-n", "delete", "-net", "10.8.0.0/16", "10.8.0.5", "-ifscope", "tun0"],
             ["route", "-n", "add", "-net", "10.8.0.0/16", "10.8.0.5", "-ifscope", "tun0"]),
            (Self.route("0.0.0.0/0", via: "10.8.0.5", flags: "UGScIg", into: "tun0"), "tun0",
             ["route", "-n", "delete", "default", "10.8.0.5", "-ifscope", "tun0"],
             ["route", "-n", "add", "default", "10.8.0.5", "-ifscope", "tun0"]),
            (Self.route("0.0.0.0/0", via: "10.8.0.5", flags: "UGSc", into: "tun0"), "tun0",
             ["route", "-n", "delete", "default", "10.8.0.5"],
             ["route", "-n", "add", "default", "10.8.0.5"]),
            (Self.route("0.0.0.0/1", via: nil, flags: "USc", into: "utun7"), "utun7",
             ["route", "-n", "delete", "-net", "0.0.0.0/1"],
             ["route", "-n", "add", "-net", "0.0.0.0/1", "-interface", "utun7"]),
            (Self.route("::/0", via: "fe80::", flags: "UGcIg", into: "utun9"), "utun9",
             ["route", "-n", "delete", "-inet6", "default", "fe80::%utun9", "-ifscope", "utun9"],
             ["route", "-n", "add", "-inet6", "default", "fe80::%utun9", "-ifscope", "utun9"]),
            (Self.route("fe80::/64", via: nil, flags: "UcI", into: "utun9"), "utun9",
             ["route", "-n", "delete", "-inet6", "-net", "fe80::%utun9/64", "-ifscope", "utun9"],
             ["route", "-n", "add", "-inet6", "-net", "fe80::%utun9/64", "-interface", "utun9", "-ifscope", "utun9"]),
            (Self.route("10.8.0.1/32", via: "10.8.0.5", flags: "UGHS", into: "tun0"), "tun0",
             ["route", "-n", "delete", "-host", "10.8.0.1", "10.8.0.5"],
             ["route", "-n", "add", "-host", "10.8.0.1", "10.8.0.5"]),
        ]
        for (route, name, delete, add) in cases {
            #expect(DarwinCommands.deleteRoute(route, interface: name) == delete)
            #expect(DarwinCommands.routeCommand("add", route, interface: name) == add)
        }
    }
}
