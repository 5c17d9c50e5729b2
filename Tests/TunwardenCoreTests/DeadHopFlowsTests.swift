import Foundation
import Testing
@testable import TunwardenCore

/// dead-tunnel-hop where the route listing's `dead` flag cannot say whether a hop takes flows: a
/// linkdown hop on a device that is up, after `ignore_routes_with_linkdown` may have changed
/// since the kernel shared out the route's flows (review lx47, finding 1). The finding states
/// a share only when route lookups settled every such hop; otherwise it says the dead hops *may*
/// take up to their share, at warning. And the IPv4 fix keeps what a kept hop carries, or gives
/// no command (finding 2).
@Suite struct DeadHopFlowsTests {
    let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, flags: ["UP"], carrier: true)
    let p0 = Build.tun(7, "p0", kind: .tap)
    let p1 = Build.tun(8, "p1", kind: .tap)
    let names = [2: "eth0", 7: "p0", 8: "p1"]

    /// A multipath route through `hops` (ifindex, weight); the taps' hops are linkdown, flagged
    /// `dead` in `listedDead`, and seen by route lookups as `seen` says.
    func multipath(_ prefix: String, _ hops: [(Int, Int)], listedDead: Set<Int> = [], seen: [Int: HopFlows] = [:]) -> Route {
        var route = Build.route(prefix, hops[0].0)
        route.nextHops = hops.map { index, weight in
            let gateway = prefix.contains(":") ? IPAddress("fe80::\(index)") : IPAddress("10.\(index).0.2")
            var hop = NextHop(gateway: gateway, interfaceIndex: index, interfaceName: names[index], weight: weight)
            hop.linkDown = index != 2
            hop.skippedByKernel = listedDead.contains(index)
            hop.takesFlows = seen[index]
            return hop
        }
        return route
    }

    func hops(_ routes: [Route], interfaces: [NetworkInterface]? = nil) -> [Finding] {
        Heuristics.assess(Build.snapshot(interfaces ?? [eth, p0, p1], routes: routes)).findings.filter { $0.id == FindingID.deadTunnelHop }
    }

    /// Not asked (or unsettled), a hop the listing does not flag: the default may send up to
    /// half into the tap, a warning and never critical, with why and what settles it.
    @Test func anUnsettledHopIsAMayAtWarning() throws {
        let finding = try #require(hops([multipath("0.0.0.0/0", [(2, 1), (7, 1)])]).first)
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.hasPrefix("default (2 next hops) may send up to 50% of its flows into tap p0, which has no carrier: next hop via 10.7.0.2 dev p0 weight 1, of a total weight of 2 over the hops that may take flows."), "\(finding.evidence)")
        #expect(finding.evidence.contains("Whether the kernel hashes flows onto p0 is not known: it has no carrier on a device that is up"), "\(finding.evidence)")
        #expect(finding.evidence.contains("`ip route get` to addresses of 0.0.0.0/0 shows where flows go; setting p0 down and up again"), "\(finding.evidence)")
        #expect(finding.evidence.contains("if the kernel hashes flows onto the hops in doubt, up to 50% of those connections fail"), "\(finding.evidence)")
        #expect(!finding.evidence.contains(" sends 50%"), "\(finding.evidence)")
    }

    /// The listing flags the hop `dead`, but that follows only the current setting: unsettled,
    /// it is still a "may" warning, never silence (case B of the review, without lookups).
    @Test func aHopTheListingFlagsButNobodyAskedIsNotSilence() throws {
        let finding = try #require(hops([multipath("0.0.0.0/0", [(2, 1), (7, 1)], listedDead: [7])]).first)
        #expect(finding.severity == .warning)
        #expect(finding.evidence.contains("may send up to 50%"), "\(finding.evidence)")
    }

    /// Lookups chose the hop though the listing flags it `dead`: the share is known, critical,
    /// and the text says why the listing is wrong.
    @Test func aHopLookupsChoseIsCriticalWithItsShare() throws {
        let finding = try #require(hops([multipath("0.0.0.0/0", [(2, 1), (7, 1)], listedDead: [7], seen: [7: .yes])]).first)
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.evidence.hasPrefix("default (2 next hops) sends 50% of its flows into tap p0"), "\(finding.evidence)")
        #expect(finding.evidence.contains("The kernel lists p0 `dead`, as ignore_routes_with_linkdown is set now, yet route lookups (as `ip route get` makes them) choose it"), "\(finding.evidence)")
        let plain = try #require(hops([multipath("0.0.0.0/0", [(2, 1), (7, 1)], seen: [7: .yes])]).first)
        #expect(plain.severity == .critical)
        #expect(plain.evidence.contains("Route lookups (as `ip route get` makes them) to addresses of 0.0.0.0/0 choose p0."), "\(plain.evidence)")
    }

    /// Lookups never chose the hop though the listing does not flag it (case A): no finding;
    /// beside a hop that does take flows, it counts for nothing and the text says so.
    @Test func aHopLookupsNeverChoseCountsForNothing() throws {
        #expect(hops([multipath("0.0.0.0/0", [(2, 1), (7, 1)], seen: [7: .no])]).isEmpty)
        let mixed = try #require(hops([multipath("0.0.0.0/0", [(2, 1), (7, 1), (8, 2)], seen: [7: .no, 8: .yes])]).first)
        #expect(mixed.ifname == "p1")
        #expect(mixed.severity == .critical)
        #expect(mixed.evidence.contains("sends 66% of its flows into tap p1"), "\(mixed.evidence)")
        #expect(mixed.evidence.contains("never chose the hop through p0: the kernel shares out nothing to it"), "\(mixed.evidence)")
    }

    /// A hop on a device that is down is stored dead: certain from the listing, no finding.
    @Test func aHopOnADeviceThatIsDownIsCertain() {
        var down = p0
        down.flags = ["POINTOPOINT"]
        #expect(hops([multipath("0.0.0.0/0", [(2, 1), (7, 1)], listedDead: [7])], interfaces: [eth, down, p1]).isEmpty)
    }

    /// One dead hop chosen, one unsettled: the largest possible share counts both dead hops and
    /// only the live hop known to take flows.
    @Test func theLargestShareCountsEveryHopInDoubt() throws {
        let finding = try #require(hops([multipath("10.70.0.0/16", [(2, 2), (7, 1), (8, 1)], seen: [7: .yes, 8: .unknown])]).first)
        #expect(finding.severity == .warning)
        #expect(finding.evidence.hasPrefix("10.70.0.0/16 (3 next hops) may send up to 50% of its flows into tap p0, which has no carrier and tap p1, which has no carrier"), "\(finding.evidence)")
        #expect(finding.evidence.contains("Whether the kernel hashes flows onto p1 is not known"), "\(finding.evidence)")
    }

    /// Finding 2: a kept hop's encap and realms go into the `ip route replace`; an encap it
    /// cannot write means no command, and the text says why.
    @Test func theIPv4FixKeepsWhatTheKeptHopCarriesOrGivesNone() throws {
        var route = multipath("10.9.11.0/24", [(2, 1), (7, 1)], seen: [7: .yes])
        var encapsulation = RouteEncapsulation(type: 4)
        encapsulation.destination = IPAddress("2001:db8::9")
        route.nextHops[0].encapsulation = encapsulation
        route.nextHops[0].realms = 3
        let kept = try #require(hops([route]).first)
        #expect(kept.evidence.contains("`ip route replace 10.9.11.0/24 encap ip6 dst 2001:db8::9 via 10.2.0.2 dev eth0 realm 3`"), "\(kept.evidence)")
        route.nextHops[0].encapsulation = RouteEncapsulation(type: 1)
        let none = try #require(hops([route]).first)
        #expect(!none.evidence.contains("`ip route replace 10.9.11.0/24"), "\(none.evidence)")
        #expect(none.evidence.contains("no command is given here, because the kept hop via 10.2.0.2 dev eth0 had its encap mpls (1), which one written here would leave out."), "\(none.evidence)")
    }
}
