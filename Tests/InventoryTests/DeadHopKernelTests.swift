#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// A multipath default with one hop into a tap without carrier and one into a live veth, as root
/// in a throwaway namespace: the kernel hashes a share of flows into the tap (`ip route get` with
/// ports says which), the audit calls it dead-tunnel-hop, and the fix its text gives, run as it
/// stands, ends it and keeps the live hop.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct DeadHopKernelTests {
    /// The audit's way, held equal to judging the same snapshot whole.
    func assessment(_ ns: TestNamespace) throws -> Assessment {
        let engine = JudgingEngine(policy: AuditPolicy())
        let identity = try LinuxInventory(namespaceName: ns.name).load(into: engine)
        let streamed = try #require(engine.assessment(of: identity))
        #expect(streamed == Heuristics.assess(streamed.snapshot, policy: AuditPolicy()), "judged on arrival, unlike the whole snapshot")
        return streamed
    }

    /// A namespace with a live veth (`m46va`, 10.0.0.1/24, 2001:db8::1/64), a tap nobody holds
    /// (`tap`: each test has its own name), up, without carrier, and multipath hashing on ports.
    func world(tap: String) throws -> TestNamespace {
        let ns = try TestNamespace()
        try ns.ip("link", "add", "m46va", "type", "veth", "peer", "name", "m46vb")
        for device in ["m46va", "m46vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.0.0.1/24", "dev", "m46va")
        try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "m46va", "nodad")
        try ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
        try ns.ip("link", "set", tap, "up")
        _ = try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1", "net.ipv6.fib_multipath_hash_policy=1"])
        return ns
    }

    /// How many of 40 TCP flows to `destination` `ip route get` sends through `tap`.
    func flows(_ ns: TestNamespace, into tap: String, _ family: String, _ destination: String) throws -> Int {
        var count = 0
        for port in 1001...1040 {
            let answer = try Shell.run(["ip", "-n", ns.name, family, "route", "get", destination, "ipproto", "tcp", "sport", "\(port)", "dport", "443"])
            if answer.contains("dev \(tap) ") { count += 1 }
        }
        return count
    }

    /// The one command in backquotes in `evidence` that starts with `ip -n`.
    func command(in evidence: String) throws -> String {
        let pieces = evidence.split(separator: "`", omittingEmptySubsequences: false)
        return try #require(pieces.enumerated().first { $0.offset % 2 == 1 && $0.element.hasPrefix("ip -n ") }.map { String($0.element) }, "\(evidence)")
    }

    /// IPv4: the tap is suspect and was left alone with status ok and exit 0. Now the audit is
    /// critical (exit 2), and the `ip route replace` it gives leaves only the live hop.
    @Test func anIPv4DefaultPartlyIntoADeadTapIsCriticalAndItsFixWorks() throws {
        let ns = try world(tap: "m46p0")
        defer { ns.remove() }
        try ns.ip("route", "add", "default", "nexthop", "via", "10.0.0.2", "dev", "m46va", "nexthop", "via", "10.9.0.2", "dev", "m46p0", "onlink")
        #expect(try flows(ns, into: "m46p0", "-4", "8.8.8.8") > 0)
        let a = try assessment(ns)
        #expect(a.interfaces.first { $0.interface.name == "m46p0" }?.state == .suspect)
        let finding = try #require(a.findings.first { $0.id == FindingID.deadTunnelHop }, "\(a.findings.map(\.evidence))")
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.ifname == "m46p0")
        #expect(finding.evidence.contains("sends 50% of its flows into tap m46p0"), "\(finding.evidence)")
        #expect(!a.findings.contains { $0.id == FindingID.deadTunnelRoute })
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state", "-q"])
        #expect(audit.status == 2, "\(audit.stdout)\(audit.stderr)")
        let json = try ns.auditReport()
        #expect(json["status"] as? String == "critical")
        #expect((json["findings"] as? [[String: Any]])?.contains { $0["id"] as? String == "dead-tunnel-hop" && $0["ifname"] as? String == "m46p0" } == true)

        let fix = try command(in: finding.evidence)
        try #require(fix.hasPrefix("ip -n \(ns.name) route replace 0.0.0.0/0 via 10.0.0.2 dev m46va"), "\(fix)")
        try TestNamespace.replayFromElsewhere([fix])
        #expect(try flows(ns, into: "m46p0", "-4", "8.8.8.8") == 0)
        #expect(try ns.ip("route", "show", "default").contains("via 10.0.0.2 dev m46va"))
        let fixed = try assessment(ns)
        #expect(!fixed.findings.contains { $0.id == FindingID.deadTunnelHop }, "\(fixed.findings.map(\.evidence))")
        #expect(fixed.status != .critical)
    }

    /// IPv6: the tap is orphaned; the finding says reaping it fixes this, and the `ip -6 route
    /// del` it gives drops only the tap's hop.
    @Test func anIPv6DefaultPartlyIntoAnOrphanNamesItsShareAndItsFixWorks() throws {
        let ns = try world(tap: "m46p1")
        defer { ns.remove() }
        try ns.ip("-6", "route", "add", "::/0", "nexthop", "via", "2001:db8::2", "dev", "m46va", "nexthop", "via", "fe80::2", "dev", "m46p1")
        #expect(try flows(ns, into: "m46p1", "-6", "2001:4860::1") > 0)
        let a = try assessment(ns)
        #expect(a.interfaces.first { $0.interface.name == "m46p1" }?.state == .orphaned)
        let finding = try #require(a.findings.first { $0.id == FindingID.deadTunnelHop }, "\(a.findings.map(\.evidence))")
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.evidence.contains("so reaping it fixes this"), "\(finding.evidence)")
        let fix = try command(in: finding.evidence)
        try #require(fix == "ip -n \(ns.name) -6 route del ::/0 via fe80::2 dev m46p1 metric 1024", "\(fix)")
        try TestNamespace.replayFromElsewhere([fix])
        #expect(try flows(ns, into: "m46p1", "-6", "2001:4860::1") == 0)
        #expect(try ns.ip("-6", "route", "show", "default").contains("via 2001:db8::2 dev m46va"))
        #expect(!(try assessment(ns)).findings.contains { $0.id == FindingID.deadTunnelHop })
    }

    /// With `ignore_routes_with_linkdown` set for the tap before the route is made, the kernel
    /// flags its hop dead and sends no flow there: no finding.
    @Test func aHopTheKernelFlagsDeadIsNoFinding() throws {
        let ns = try world(tap: "m46p2")
        defer { ns.remove() }
        _ = try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv4.conf.m46p2.ignore_routes_with_linkdown=1"])
        try ns.ip("route", "add", "default", "nexthop", "via", "10.0.0.2", "dev", "m46va", "nexthop", "via", "10.9.0.2", "dev", "m46p2", "onlink")
        #expect(try flows(ns, into: "m46p2", "-4", "8.8.8.8") == 0)
        let a = try assessment(ns)
        #expect(!a.findings.contains { $0.id == FindingID.deadTunnelHop }, "\(a.findings.map(\.evidence))")
    }
}
#endif
