#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// Routes into a dead tap judged against what the kernel does with them (`ip route get`), as
/// root, each test in its own throwaway namespace: live routes that outrank them, the kernel
/// passing them by (`ignore_routes_with_linkdown`), and routes that take only some traffic.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct DeadRouteKernelTests {
    /// A namespace with a live veth (`rt5va`, 10.0.0.1/24, 2001:db8::1/64) and a tap nobody
    /// holds (`rt5t0`), up, without carrier.
    func world() throws -> TestNamespace {
        let ns = try TestNamespace()
        try ns.ip("link", "add", "rt5va", "type", "veth", "peer", "name", "rt5vb")
        for device in ["rt5va", "rt5vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.0.0.1/24", "dev", "rt5va")
        try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "rt5va", "nodad")
        try ns.ip("tuntap", "add", "dev", "rt5t0", "mode", "tap")
        try ns.ip("link", "set", "rt5t0", "up")
        return ns
    }


    /// Dead split defaults and a dead default under live routes that win every destination (a
    /// lower metric, longer prefixes), IPv4 and IPv6, are a warning, as `ip route get` sends
    /// everything through the live veth; taking one live half away makes it critical, as the
    /// kernel then sends half of it into the tap.
    @Test func deadRoutesLiveOnesOutrankAreAWarningUntilTheyStopWinning() throws {
        let ns = try world()
        defer { ns.remove() }
        for half in ["0.0.0.0/1", "128.0.0.0/1"] {
            try ns.ip("route", "add", half, "dev", "rt5t0", "metric", "10")
            try ns.ip("route", "add", half, "via", "10.0.0.2", "dev", "rt5va", "metric", "5")
        }
        try ns.ip("route", "add", "default", "dev", "rt5t0", "metric", "1")
        try ns.ip("-6", "route", "add", "::/0", "dev", "rt5t0", "metric", "100")
        try ns.ip("-6", "route", "add", "2000::/3", "dev", "rt5t0", "metric", "100")
        for half in ["::/1", "8000::/1"] { try ns.ip("-6", "route", "add", half, "via", "2001:db8::2", "dev", "rt5va", "metric", "50") }
        try ns.ip("-6", "route", "add", "2000::/3", "via", "2001:db8::2", "dev", "rt5va", "metric", "50")
        #expect(routeGetDevice(ns, "8.8.8.8") == "rt5va")
        #expect(routeGetDevice(ns, "200.1.1.1") == "rt5va")
        #expect(routeGetDevice(ns, "2001:4860::1") == "rt5va")
        let outranked = try #require(try auditedDeadRouteFinding(ns))
        #expect(outranked.severity == .warning, "\(outranked.evidence)")
        #expect(outranked.evidence.contains("none of it goes into"), "\(outranked.evidence)")
        #expect(outranked.evidence.contains("Live routes of their table outrank"), "\(outranked.evidence)")

        try ns.ip("route", "del", "128.0.0.0/1", "via", "10.0.0.2", "dev", "rt5va", "metric", "5")
        #expect(routeGetDevice(ns, "200.1.1.1") == "rt5t0")
        let half = try #require(try auditedDeadRouteFinding(ns))
        #expect(half.severity == .critical, "\(half.evidence)")
        #expect(half.evidence.contains("Together they capture 50% of IPv4 traffic"), "\(half.evidence)")
    }

    /// With `ignore_routes_with_linkdown` set (for all devices, or for the tap alone) the kernel
    /// flags the tap's routes dead and sends past them: a warning saying so, in both families.
    @Test(arguments: ["all", "rt5t0"])
    func routesTheKernelPassesByAreAWarning(scope: String) throws {
        let ns = try world()
        defer { ns.remove() }
        for family in ["ipv4", "ipv6"] {
            _ = try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.\(family).conf.\(scope).ignore_routes_with_linkdown=1"])
        }
        try ns.ip("route", "add", "default", "dev", "rt5t0", "metric", "10")
        try ns.ip("route", "add", "default", "via", "10.0.0.2", "dev", "rt5va", "metric", "50")
        try ns.ip("-6", "route", "add", "::/0", "dev", "rt5t0", "metric", "10")
        try ns.ip("-6", "route", "add", "::/0", "via", "2001:db8::2", "dev", "rt5va", "metric", "50")
        #expect(routeGetDevice(ns, "8.8.8.8") == "rt5va")
        #expect(routeGetDevice(ns, "2001:4860::1") == "rt5va")
        let finding = try #require(try auditedDeadRouteFinding(ns))
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.contains("The kernel passes default") && finding.evidence.contains("(::/0)"), "\(finding.evidence)")
        #expect(!finding.evidence.contains("blackholed"), "\(finding.evidence)")
        // Without the setting the kernel takes them again, and so does the judgement.
        for family in ["ipv4", "ipv6"] {
            _ = try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.\(family).conf.\(scope).ignore_routes_with_linkdown=0"])
        }
        #expect(routeGetDevice(ns, "8.8.8.8") == "rt5t0")
        #expect(try auditedDeadRouteFinding(ns)?.severity == .critical)
    }

    /// A dead default of one `tos` takes only that traffic (`ip route get` with another tos goes
    /// through the live veth), and so does an IPv6 one of some sources where the kernel has
    /// source-specific routes: a warning that names the selector.
    @Test func selectiveDeadDefaultsAreAWarning() throws {
        let ns = try world()
        defer { ns.remove() }
        try ns.ip("route", "add", "default", "via", "10.0.0.2", "dev", "rt5va", "metric", "50")
        try ns.ip("route", "add", "default", "dev", "rt5t0", "tos", "0x10", "metric", "10")
        #expect(routeGetDevice(ns, "8.8.8.8") == "rt5va")
        #expect(routeGetDevice(ns, "8.8.8.8", "tos", "0x10") == "rt5t0")
        let subtrees = (try? Shell.capture(["ip", "-n", ns.name, "-6", "route", "add", "::/0", "from", "2001:db8:5::/64", "dev", "rt5t0"]).status) == 0
        let finding = try #require(try auditedDeadRouteFinding(ns))
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.contains("default tos 0x10 takes only packets of that tos"), "\(finding.evidence)")
        if subtrees {
            #expect(finding.evidence.contains("default (::/0) from 2001:db8:5::/64 takes only packets from those sources"), "\(finding.evidence)")
        }
    }

    /// A kill switch's default of a lower metric (review ip47, V1), for each type that ends a
    /// lookup without a device: `ip route get` sends nothing into the tap, so the dead default
    /// is a warning naming the kill switch, never a critical outage; and an `autojoin` IPv6
    /// multicast address's route into the tap (V2), which the local table's `multicast ff00::/8`
    /// shadows, is not named.
    @Test func aKillSwitchOutranksTheDeadDefaultAndTheLocalTableShadowsMulticast() throws {
        for type in ["unreachable", "blackhole", "prohibit", "throw"] {
            let ns = try world()
            defer { ns.remove() }
            try ns.ip("route", "add", type, "default", "metric", "10")
            try ns.ip("route", "add", "default", "dev", "rt5t0", "metric", "100")
            // (`ip route get` fails: no route to host, invalid argument, permission denied.)
            try #require(routeGetDevice(ns, "8.8.8.8") == nil, "\(type): the kernel must send nothing into the tap for this to test anything")
            let finding = try #require(try auditedDeadRouteFinding(ns))
            #expect(finding.severity == .warning, "\(type): \(finding.evidence)")
            #expect(finding.evidence.contains("\(type) default metric 10"), "\(type): \(finding.evidence)")
        }
        let ns = try world()
        defer { ns.remove() }
        try ns.ip("-6", "addr", "add", "ff0e::4747/128", "dev", "rt5t0", "autojoin")
        let routes = try ns.ip("-6", "route", "show", "table", "all")
        try #require(routes.contains("ff0e::4747 dev rt5t0"), "the autojoin address must add its route for this to test anything: \(routes)")
        try #require(routes.contains("multicast ff00::/8 dev rt5va table local"), "\(routes)")
        let lookup = try Shell.run(["ip", "-n", ns.name, "-6", "route", "get", "ff0e::4747"])
        try #require(lookup.contains("table local"), "the local table must decide the multicast destination for this to test anything: \(lookup)")
        #expect(try auditedDeadRouteFinding(ns) == nil)
    }
}
#endif
