#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// Whose outage a capture of default traffic is, held against `ip route get` as root in
/// throwaway namespaces (review ip12): a device is blamed for the traffic its own dead routes
/// take, not for another dead device's capture in the same table (F1); a split default spread
/// over two tables the policy rules look up one after the other captures all traffic (F2); and
/// the kill switch that outranks dead routes is named as what it is (F4).
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct DeadRouteBlameKernelTests {
    /// A namespace with a live veth (`b12va`, 10.0.0.1/24, 2001:db8::1/64) holding the default
    /// routes of both families, and tun/tap devices nobody holds, up, without carrier.
    func world(_ devices: [(String, String)]) throws -> TestNamespace {
        let ns = try TestNamespace()
        try ns.ip("link", "add", "b12va", "type", "veth", "peer", "name", "b12vb")
        for device in ["b12va", "b12vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.0.0.1/24", "dev", "b12va")
        try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "b12va", "nodad")
        try ns.ip("route", "add", "default", "via", "10.0.0.2")
        try ns.ip("-6", "route", "add", "::/0", "via", "2001:db8::2", "dev", "b12va")
        for (name, mode) in devices {
            try ns.ip("tuntap", "add", "dev", name, "mode", mode)
            try ns.ip("link", "set", name, "up")
        }
        return ns
    }

    /// A tap's lone /16 beside another dead tun's split default (F1): the kernel sends only the
    /// /16 into the tap and everything else into the tun, so the tap is a warning that says the
    /// outage is other devices' and is not ended by reaping it, and the tun is critical. Two tuns
    /// holding one half each both take half of it: both are critical.
    @Test func aDeviceIsBlamedOnlyForWhatItsOwnRoutesTake() throws {
        let ns = try world([("b12tp", "tap"), ("b12t0", "tun")])
        defer { ns.remove() }
        try ns.ip("route", "add", "10.20.0.0/16", "dev", "b12tp")
        for half in ["0.0.0.0/1", "128.0.0.0/1"] { try ns.ip("route", "add", half, "dev", "b12t0") }
        #expect(routeGetDevice(ns, "10.20.1.1") == "b12tp")
        #expect(routeGetDevice(ns, "8.8.8.8") == "b12t0")
        #expect(routeGetDevice(ns, "200.1.1.1") == "b12t0")
        let tap = try #require(try auditedDeadRouteFinding(ns, "b12tp"))
        #expect(tap.severity == .warning, "\(tap.evidence)")
        #expect(!tap.evidence.contains("Together they capture"), "\(tap.evidence)")
        #expect(tap.evidence.contains("Traffic to these destinations is blackholed"), "\(tap.evidence)")
        #expect(tap.evidence.contains("Dead routes of other devices in the main table capture the IPv4 traffic") && tap.evidence.contains("reaping b12tp does not end that"),
                "\(tap.evidence)")
        let tun = try #require(try auditedDeadRouteFinding(ns, "b12t0"))
        #expect(tun.severity == .critical, "\(tun.evidence)")
        #expect(tun.evidence.contains("Together they capture all IPv4 traffic that would take the default route"), "\(tun.evidence)")

        let halves = try world([("b12t1", "tun"), ("b12t2", "tun")])
        defer { halves.remove() }
        try halves.ip("route", "add", "0.0.0.0/1", "dev", "b12t1")
        try halves.ip("route", "add", "128.0.0.0/1", "dev", "b12t2")
        #expect(routeGetDevice(halves, "8.8.8.8") == "b12t1")
        #expect(routeGetDevice(halves, "200.1.1.1") == "b12t2")
        for device in ["b12t1", "b12t2"] {
            let half = try #require(try auditedDeadRouteFinding(halves, device))
            #expect(half.severity == .critical, "\(half.evidence)")
            // (b12t1's is 49%: the veth's own 10.0.0.0/24, inside its half, is live.)
            #expect(half.evidence.contains(device == "b12t1" ? "Together they capture 49% of IPv4 traffic" : "Together they capture 50% of IPv4 traffic")
                    && half.evidence.contains("With the dead routes of other devices in the main table, all IPv4 traffic that would take the default route is blackholed"),
                    "\(half.evidence)")
        }
    }

    /// A dead tun's split default spread over table 100, which a rule looks up first, and main
    /// (F2), in both families: `ip route get` sends every address into the tun, and the finding is
    /// critical, naming the tables in the walk's order. With a live route of table 100 winning a
    /// quarter of IPv4's space, that quarter goes through the veth: not all of IPv4 is captured.
    @Test func aSplitDefaultAcrossTablesTheRulesWalkCapturesAllTraffic() throws {
        let ns = try world([("b12tn", "tun")])
        defer { ns.remove() }
        for family in ["-4", "-6"] { try ns.ip(family, "rule", "add", "pref", "100", "lookup", "100") }
        try ns.ip("route", "add", "0.0.0.0/1", "dev", "b12tn", "table", "100")
        try ns.ip("route", "add", "128.0.0.0/1", "dev", "b12tn")
        try ns.ip("-6", "route", "add", "2000::/4", "dev", "b12tn", "table", "100")
        try ns.ip("-6", "route", "add", "3000::/4", "dev", "b12tn")
        for address in ["1.1.1.1", "8.8.8.8", "100.1.1.1", "142.250.1.1", "200.1.1.1", "2001:4860::8888", "2606:4700::1111", "3fff::1"] {
            #expect(routeGetDevice(ns, address) == "b12tn", "\(address)")
        }
        let finding = try #require(try auditedDeadRouteFinding(ns, "b12tn"))
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.evidence.contains("The policy rules send ordinary traffic to table 100 and the main table, one after the other"), "\(finding.evidence)")
        #expect(finding.evidence.contains("capture all IPv4 and IPv6 traffic that would take the default route"), "\(finding.evidence)")

        let part = try world([("b12tn", "tun")])
        defer { part.remove() }
        try part.ip("rule", "add", "pref", "100", "lookup", "100")
        try part.ip("route", "add", "0.0.0.0/1", "dev", "b12tn", "table", "100")
        try part.ip("route", "add", "0.0.0.0/2", "via", "10.0.0.2", "dev", "b12va", "table", "100")
        try part.ip("route", "add", "128.0.0.0/1", "dev", "b12tn")
        #expect(routeGetDevice(part, "8.8.8.8") == "b12va")
        #expect(routeGetDevice(part, "100.1.1.1") == "b12tn")
        let partial = try #require(try auditedDeadRouteFinding(part, "b12tn"))
        #expect(partial.severity == .warning, "\(partial.evidence)")
    }

    /// Blackhole routes of a lower metric over dead split defaults (F4): the kill switch is
    /// named by type and metric, never in the dead routes' own words.
    @Test func theKillSwitchIsNamedAsBlackholeRoutes() throws {
        let ns = try world([("b12tk", "tun")])
        defer { ns.remove() }
        for half in ["0.0.0.0/1", "128.0.0.0/1"] {
            try ns.ip("route", "add", half, "dev", "b12tk", "metric", "100")
            try ns.ip("route", "add", "blackhole", half, "metric", "50")
        }
        #expect(routeGetDevice(ns, "8.8.8.8") == nil)
        let finding = try #require(try auditedDeadRouteFinding(ns, "b12tk"))
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.contains("The blackhole 0.0.0.0/1 metric 50, blackhole 128.0.0.0/1 metric 50 drop what they win (a kill switch)"), "\(finding.evidence)")
        #expect(!finding.evidence.contains(" 0.0.0.0/1, 128.0.0.0/1 drop"), "\(finding.evidence)")
    }
}
#endif
