#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// Multipath routes with a hop into a tun without carrier, as root in throwaway namespaces, after
/// `ignore_routes_with_linkdown` changed since the routes were made (review lx47, finding 1): the
/// route listing flags the hop `dead` by the current setting, while `ip route get` follows the
/// shares the kernel set when the routes were made. The audit must say what `ip route get` shows:
/// no finding where no flow goes into the tun (case A), the share where flows do (case B). And
/// the printed IPv4 fix keeps the live hop's encap and realm (finding 2).
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct DeadHopStaleKernelTests {
    /// A namespace named `hop-…` with a live veth (`hopva<n>`, 10.0.0.1/24, 2001:db8::1/64) and a
    /// tun nobody holds (`hopt<n>`, 10.8.0.1/24, 2001:db8:8::1/64), up, without carrier.
    func world(_ n: Int) throws -> TestNamespace {
        let ns = try TestNamespace(name: "hop-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try ns.ip("link", "add", "hopva\(n)", "type", "veth", "peer", "name", "hopvb\(n)")
        for device in ["hopva\(n)", "hopvb\(n)"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.0.0.1/24", "dev", "hopva\(n)")
        try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "hopva\(n)", "nodad")
        try ns.ip("tuntap", "add", "dev", "hopt\(n)", "mode", "tun")
        try ns.ip("link", "set", "hopt\(n)", "up")
        try ns.ip("addr", "add", "10.8.0.1/24", "dev", "hopt\(n)")
        try ns.ip("-6", "addr", "add", "2001:db8:8::1/64", "dev", "hopt\(n)", "nodad")
        return ns
    }

    /// Sets `ignore_routes_with_linkdown` for every device of both families.
    func ignoreLinkdown(_ ns: TestNamespace, _ value: Int) throws {
        _ = try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv4.conf.all.ignore_routes_with_linkdown=\(value)",
                           "net.ipv6.conf.all.ignore_routes_with_linkdown=\(value)"])
    }

    /// The IPv4 default and an IPv6 /64, each half through the veth and half through the tun.
    func addRoutes(_ ns: TestNamespace, _ n: Int) throws {
        try ns.ip("route", "add", "default", "nexthop", "via", "10.0.0.2", "dev", "hopva\(n)", "nexthop", "dev", "hopt\(n)")
        try ns.ip("-6", "route", "add", "2001:db8:9::/64", "nexthop", "via", "2001:db8::2", "dev", "hopva\(n)", "nexthop", "via", "2001:db8:8::9", "dev", "hopt\(n)")
    }

    /// How many of 60 destinations `ip route get` sends through `device`: 10.9.1.1–60, or
    /// 2001:db8:9::1:1–60.
    func flows(_ ns: TestNamespace, into device: String, ipv6: Bool) throws -> Int {
        var count = 0
        for host in 1...60 {
            let answer = try Shell.run(["ip", "-n", ns.name, ipv6 ? "-6" : "-4", "route", "get", ipv6 ? "2001:db8:9::1:\(host)" : "10.9.1.\(host)"])
            if answer.contains("dev \(device) ") { count += 1 }
        }
        return count
    }

    func assessment(_ ns: TestNamespace) throws -> Assessment {
        let engine = JudgingEngine(policy: AuditPolicy())
        let identity = try LinuxInventory(namespaceName: ns.name).load(into: engine)
        return try #require(engine.assessment(of: identity))
    }

    /// The hop through `device` of the route to `destination`, as the inventory saw it.
    func hop(_ a: Assessment, _ destination: String, _ device: String) throws -> NextHop {
        let route = try #require(a.snapshot.routes.first { $0.destination.description == destination && $0.nextHops.count == 2 })
        return try #require(route.nextHops.first { $0.interfaceName == device })
    }

    /// Case A: routes made while the setting was on, then turned off. The listing no longer
    /// says `dead`, but `ip route get` sends nothing into the tun: before, a critical "50% of
    /// default traffic"; now the lookups say the hop takes no flows and there is no finding.
    @Test func aHopTheListingNoLongerFlagsButNoFlowTakesIsNoFinding() throws {
        let ns = try world(1)
        defer { ns.remove() }
        try ignoreLinkdown(ns, 1)
        try addRoutes(ns, 1)
        try ignoreLinkdown(ns, 0)
        try #require(!(try ns.ip("route", "show", "default")).contains("dead"), "the listing must no longer flag the hop for this to test anything")
        #expect(try flows(ns, into: "hopt1", ipv6: false) == 0)
        #expect(try flows(ns, into: "hopt1", ipv6: true) == 0)
        let a = try assessment(ns)
        #expect(try hop(a, "0.0.0.0/0", "hopt1").takesFlows == .no)
        #expect(try hop(a, "2001:db8:9::/64", "hopt1").takesFlows == .no)
        #expect(!a.findings.contains { $0.id == FindingID.deadTunnelHop }, "\(a.findings.map(\.evidence))")
        #expect(a.status != .critical)
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state", "-q"])
        #expect(audit.status != 2, "\(audit.stdout)\(audit.stderr)")
    }

    /// Case B: routes made while the setting was off, then turned on. The listing says `dead`,
    /// yet `ip route get` sends about half the flows into the tun: before, no finding at all;
    /// now the default is critical with its share, and the text says why the listing is wrong.
    @Test func aHopTheListingFlagsDeadButFlowsTakeIsCritical() throws {
        let ns = try world(2)
        defer { ns.remove() }
        try ignoreLinkdown(ns, 0)
        try addRoutes(ns, 2)
        try ignoreLinkdown(ns, 1)
        try #require(try ns.ip("route", "show", "default").contains("dead"), "the listing must flag the hop for this to test anything")
        #expect(try flows(ns, into: "hopt2", ipv6: false) > 0)
        #expect(try flows(ns, into: "hopt2", ipv6: true) > 0)
        let a = try assessment(ns)
        #expect(try hop(a, "0.0.0.0/0", "hopt2").takesFlows == .yes)
        #expect(try hop(a, "2001:db8:9::/64", "hopt2").takesFlows == .yes)
        let found = a.findings.filter { $0.id == FindingID.deadTunnelHop }
        let v4 = try #require(found.first { $0.routes?.first?.family == .inet }, "\(a.findings.map(\.evidence))")
        #expect(v4.severity == .critical, "\(v4.evidence)")
        #expect(v4.evidence.hasPrefix("default (2 next hops) sends 50% of its flows into tun hopt2"), "\(v4.evidence)")
        #expect(v4.evidence.contains("The kernel lists hopt2 `dead`, as ignore_routes_with_linkdown is set now, yet route lookups"), "\(v4.evidence)")
        let v6 = try #require(found.first { $0.routes?.first?.family == .inet6 }, "\(a.findings.map(\.evidence))")
        #expect(v6.severity == .warning, "\(v6.evidence)")
        #expect(v6.evidence.hasPrefix("2001:db8:9::/64 (2 next hops) sends 50% of its flows into tun hopt2"), "\(v6.evidence)")
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state", "-q"])
        #expect(audit.status == 2, "\(audit.stdout)\(audit.stderr)")
    }

    /// A tun set down: the kernel stores its hops dead and shares out nothing to them, whatever
    /// the setting. Certain from the listing: no finding, however the setting is toggled.
    @Test func aHopOnADeviceSetDownIsCertainlyPassedBy() throws {
        let ns = try world(3)
        defer { ns.remove() }
        try ignoreLinkdown(ns, 0)
        try addRoutes(ns, 3)
        try ns.ip("link", "set", "hopt3", "down")
        try ignoreLinkdown(ns, 1)
        try ignoreLinkdown(ns, 0)
        try #require(try ns.ip("route", "show", "default").contains("dead"))
        #expect(try flows(ns, into: "hopt3", ipv6: false) == 0)
        #expect(try flows(ns, into: "hopt3", ipv6: true) == 0)
        let a = try assessment(ns)
        #expect(try hop(a, "0.0.0.0/0", "hopt3").skippedByKernel)
        #expect(!a.findings.contains { $0.id == FindingID.deadTunnelHop }, "\(a.findings.map(\.evidence))")
    }

    /// The IPv4 fix for routes whose live hop has an encap or a realm: replayed, the route that
    /// is left keeps them (before, `ip route replace` was printed without either).
    @Test func theIPv4FixKeepsTheLiveHopsEncapAndRealm() throws {
        let ns = try world(4)
        defer { ns.remove() }
        try ns.ip("route", "add", "10.9.11.0/24", "nexthop", "encap", "ip6", "dst", "2001:db8::9", "via", "10.0.0.2", "dev", "hopva4", "nexthop", "dev", "hopt4")
        try ns.ip("route", "add", "10.9.13.0/24", "proto", "186", "nexthop", "via", "10.0.0.2", "dev", "hopva4", "realms", "3", "nexthop", "dev", "hopt4", "realms", "4")
        let a = try assessment(ns)
        var fixes: [String] = []
        for prefix in ["10.9.11.0/24", "10.9.13.0/24"] {
            let finding = try #require(a.findings.first { $0.id == FindingID.deadTunnelHop && $0.evidence.hasPrefix(prefix + " ") }, "\(a.findings.map(\.evidence))")
            let pieces = finding.evidence.split(separator: "`", omittingEmptySubsequences: false)
            let fix = try #require(pieces.enumerated().first { $0.offset % 2 == 1 && $0.element.hasPrefix("ip -n ") }.map { String($0.element) }, "\(finding.evidence)")
            try #require(fix.hasPrefix("ip -n \(ns.name) route replace \(prefix) "), "\(fix)")
            fixes.append(fix)
        }
        try TestNamespace.replayFromElsewhere(fixes)
        let encapsulated = try ns.ip("route", "show", "10.9.11.0/24")
        #expect(encapsulated.contains("encap ip6") && encapsulated.contains("dst 2001:db8::9") && encapsulated.contains("dev hopva4"), "\(encapsulated)")
        #expect(!encapsulated.contains("hopt4"), "\(encapsulated)")
        let realm = try ns.ip("route", "show", "10.9.13.0/24")
        #expect(realm.contains("realm 3") && realm.contains("dev hopva4") && !realm.contains("hopt4"), "\(realm)")
    }
}
#endif
