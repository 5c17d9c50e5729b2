import Foundation
import Testing
@testable import TunwardenCore

/// A multipath route with some of its next hops through a dead tap: the kernel hashes a share of
/// the route's flows onto each hop it does not flag dead, so that share is blackholed. The
/// finding, dead-tunnel-hop, names the route, the dead hops and their share, is critical where
/// the route carries default traffic, and says how to fix it as the kernel allows.
@Suite struct DeadHopTests {
    let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, carrier: true)
    let p0 = Build.tun(7, "p0", kind: .tap)
    let p1 = Build.tun(8, "p1", kind: .tap)
    let names = [2: "eth0", 7: "p0", 8: "p1"]

    /// A multipath route through `hops` (ifindex, weight), each with a gateway of its own.
    func multipath(_ prefix: String, _ hops: [(Int, Int)], metric: UInt32? = nil, skipped: Set<Int> = []) -> Route {
        var route = Build.route(prefix, hops[0].0, metric: metric)
        route.nextHops = hops.map { index, weight in
            let gateway = prefix.contains(":") ? IPAddress("fe80::\(index)") : IPAddress("10.\(index).0.2")
            var hop = NextHop(gateway: gateway, interfaceIndex: index, interfaceName: names[index], weight: weight)
            hop.skippedByKernel = skipped.contains(index)
            return hop
        }
        return route
    }

    func single(_ prefix: String, _ index: Int, metric: UInt32? = nil) -> Route {
        var route = Build.route(prefix, index, metric: metric)
        route.nextHops[0].interfaceName = names[index]
        return route
    }

    func assess(_ routes: [Route]) -> Assessment {
        Heuristics.assess(Build.snapshot([eth, p0, p1], routes: routes))
    }

    func hops(_ assessment: Assessment) -> [Finding] { assessment.findings.filter { $0.id == FindingID.deadTunnelHop } }

    /// The review's IPv4 case: the tap is suspect (deleting it would delete the whole route), so
    /// before this no finding said anything and the status was ok. Now the default's half into
    /// the tap is critical, with the `ip route replace` that keeps the live hop.
    @Test func anIPv4DefaultHalfIntoADeadTapIsCritical() throws {
        let a = assess([multipath("0.0.0.0/0", [(2, 1), (7, 1)])])
        #expect(a.interfaces.first { $0.interface.name == "p0" }?.state == .suspect)
        let finding = try #require(hops(a).first)
        #expect(hops(a).count == 1)
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.ifname == "p0")
        #expect(!finding.reapable)
        #expect(finding.routes?.map(\.destination.description) == ["0.0.0.0/0"])
        #expect(finding.evidence.hasPrefix("default (2 next hops) sends 50% of its flows into tap p0, which has no carrier: next hop via 10.7.0.2 dev p0 weight 1, of a total weight of 2."), "\(finding.evidence)")
        #expect(finding.evidence.contains("It carries all IPv4 traffic that would take the default route"), "\(finding.evidence)")
        #expect(finding.evidence.contains("Do not delete p0 to fix it: the kernel would delete this IPv4 multipath route whole with it, live hops included, so reap leaves it alone. Replace the route without the dead hop: `ip route replace 0.0.0.0/0 via 10.2.0.2 dev eth0`."), "\(finding.evidence)")
        #expect(!a.findings.contains { $0.id == FindingID.deadTunnelRoute })
        #expect(a.status == .critical)
        #expect(NagiosLine.render(a).hasPrefix("TUNWARDEN CRITICAL: 1 dead-tunnel-hop (p0)"), "\(NagiosLine.render(a))")
        // The reaper asks the rule: this finding removes nothing, and the suspect tap is no target.
        #expect(FindingRules.rule(FindingID.deadTunnelHop)?.reap == nil)
        let plan = ReapPlan.make(a, observations: Observations(), namespaceKey: "default", policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(!plan.items.contains { $0.ifname == "p0" })
        #expect(plan.excluded.allSatisfy { $0.ifname != "p0" })
    }

    /// The IPv6 case: the tap is orphaned and reaping it drops only its hop, which the text says,
    /// with the command that deletes the hop alone; the reap plan does take the orphan.
    @Test func anIPv6DefaultHalfIntoAnOrphanSaysReapingFixesIt() throws {
        let a = assess([multipath("::/0", [(2, 1), (7, 1)], metric: 1024)])
        #expect(a.interfaces.first { $0.interface.name == "p0" }?.state == .orphaned)
        let finding = try #require(hops(a).first)
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.evidence.contains("sends 50% of its flows into tap p0, which is orphaned (no process attached): next hop via fe80::7 dev p0 weight 1"), "\(finding.evidence)")
        #expect(finding.evidence.contains("It carries all IPv6 traffic that would take the default route"), "\(finding.evidence)")
        #expect(finding.evidence.contains("the kernel keeps an IPv6 multipath route's other hops, so reaping it fixes this. Or delete the dead hop alone: `ip -6 route del ::/0 via fe80::7 dev p0 metric 1024`."), "\(finding.evidence)")
        let plan = ReapPlan.make(a, observations: Observations(), namespaceKey: "default", policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(plan.items.contains { $0.ifname == "p0" && $0.action == .deleteInterface })
    }

    /// Two dead hops of three, through two taps: one finding for the route, naming both, with
    /// their two thirds.
    @Test func twoDeadHopsOfThreeAreOneFindingWithTheirShare() throws {
        let a = assess([multipath("0.0.0.0/0", [(2, 1), (7, 1), (8, 1)])])
        #expect(hops(a).count == 1)
        let finding = try #require(hops(a).first)
        #expect(finding.ifname == "p0")
        #expect(finding.evidence.contains("sends 66% of its flows into tap p0, which has no carrier and tap p1, which has no carrier: next hops via 10.7.0.2 dev p0 weight 1, via 10.8.0.2 dev p1 weight 1, of a total weight of 3"), "\(finding.evidence)")
        #expect(finding.evidence.contains("Replace the route without the dead hops: `ip route replace 0.0.0.0/0 via 10.2.0.2 dev eth0`"), "\(finding.evidence)")
    }

    /// The share is the dead hops' weight over the total: 3 of 4 and 1 of 4, and the replacing
    /// route keeps the live hops with their weights.
    @Test func weightsSetTheShare() throws {
        let heavy = try #require(hops(assess([multipath("0.0.0.0/0", [(2, 1), (7, 3)])])).first)
        #expect(heavy.evidence.contains("sends 75% of its flows into tap p0"), "\(heavy.evidence)")
        let light = try #require(hops(assess([multipath("0.0.0.0/0", [(2, 3), (7, 1)])])).first)
        #expect(light.evidence.contains("sends 25% of its flows into tap p0"), "\(light.evidence)")
        let two = try #require(hops(assess([multipath("10.70.0.0/16", [(2, 2), (7, 1), (2, 3)])])).first)
        #expect(two.evidence.contains("sends 16% of its flows"), "\(two.evidence)")
        #expect(two.evidence.contains("`ip route replace 10.70.0.0/16 nexthop via 10.2.0.2 dev eth0 weight 2 nexthop via 10.2.0.2 dev eth0 weight 3`"), "\(two.evidence)")
        #expect(two.severity == .warning)
    }

    /// A hop the kernel flags dead takes nothing: no finding when it is the only dead one, and it
    /// is left out of the total beside another dead hop.
    @Test func aHopTheKernelFlagsDeadCountsForNothing() throws {
        let a = assess([multipath("0.0.0.0/0", [(2, 1), (7, 1)], skipped: [7])])
        #expect(hops(a).isEmpty)
        #expect(a.status != .critical)
        let mixed = try #require(hops(assess([multipath("0.0.0.0/0", [(2, 1), (7, 1), (8, 1)], skipped: [7])])).first)
        #expect(mixed.ifname == "p1")
        #expect(mixed.evidence.contains("sends 50% of its flows into tap p1"), "\(mixed.evidence)")
        #expect(mixed.evidence.contains("A hop the kernel flags `dead` (p0) counts for nothing"), "\(mixed.evidence)")
    }

    /// A multipath default with a dead hop that a live route outranks (a lower metric, or
    /// longer prefixes) takes no traffic: a warning naming what outranks it.
    @Test(arguments: [["0.0.0.0/0 50"], ["0.0.0.0/1 100", "128.0.0.0/1 100"]])
    func anOutrankedRouteWithADeadHopIsAWarning(live: [String]) throws {
        let winners = live.map { text in
            let parts = text.split(separator: " ")
            return single(String(parts[0]), 2, metric: UInt32(parts[1]))
        }
        let finding = try #require(hops(assess([multipath("0.0.0.0/0", [(2, 1), (7, 1)], metric: 100)] + winners)).first)
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.contains("Live routes of the main table outrank it"), "\(finding.evidence)")
        #expect(!finding.evidence.contains("It carries"), "\(finding.evidence)")
    }

    /// A route every hop of which is dead is dead-tunnel-route's alone: no second finding.
    @Test func aRouteAllOfWhoseHopsAreDeadIsOnlyADeadTunnelRoute() {
        let a = assess([multipath("0.0.0.0/0", [(7, 1), (8, 1)])])
        #expect(hops(a).isEmpty)
        #expect(a.findings.filter { $0.id == FindingID.deadTunnelRoute }.map(\.severity) == [.critical, .critical])
    }

    /// A subnet route with a dead hop is a warning: it breaks that share of connections to the
    /// subnet, not of everything.
    @Test func aSubnetRouteWithADeadHopIsAWarning() throws {
        let finding = try #require(hops(assess([multipath("10.70.0.0/16", [(2, 1), (7, 1)])])).first)
        #expect(finding.severity == .warning)
        #expect(finding.evidence.hasPrefix("10.70.0.0/16 (2 next hops) sends 50% of its flows into tap p0"), "\(finding.evidence)")
    }
}
