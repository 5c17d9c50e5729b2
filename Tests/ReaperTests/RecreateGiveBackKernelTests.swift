#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
import Storage
import TunwardenCore

/// What the eighth iproute2 round trip (review ip48) showed the recreate commands to lose,
/// against the real kernel, as root, in throwaway namespaces: routes through a gateway replayed
/// before the route that reaches it, and a link-local address added by hand taken for the
/// kernel's own. Each test reaps a device, replays the journal's commands in the same namespace,
/// every one of which must succeed, and compares what `ip` shows with what it showed before.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct RecreateGiveBackKernelTests {
    /// Routes through a gateway in a subnet whose kernel prefix route was changed (`mtu`, IPv4
    /// and IPv6) or replaced by one of another protocol, or that only a route added by hand for a
    /// `noprefixroute` address reaches, come back: the kernel lists them before that route, and
    /// the commands add them after it, once the kernel's own is deleted and the replacement added.
    @Test func gatewayRoutesComeBackAfterTheRouteThatReachesTheirGateway() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "rc8a", "mode", "tap")
        try ns.ip("link", "set", "rc8a", "up")
        try ns.ip("addr", "add", "10.48.1.1/24", "dev", "rc8a")
        try ns.ip("addr", "add", "10.48.2.1/24", "dev", "rc8a")
        try ns.ip("addr", "add", "10.48.3.1/24", "dev", "rc8a", "noprefixroute")
        try ns.ip("addr", "add", "2001:db8:48:1::1/64", "dev", "rc8a", "nodad")
        try ns.ip("route", "change", "10.48.1.0/24", "dev", "rc8a", "proto", "kernel", "scope", "link", "src", "10.48.1.1", "mtu", "1300")
        try ns.ip("route", "replace", "10.48.2.0/24", "dev", "rc8a", "proto", "static", "scope", "link", "src", "10.48.2.1")
        try ns.ip("route", "add", "10.48.3.0/24", "dev", "rc8a", "scope", "link", "src", "10.48.3.1", "metric", "5")
        try ns.ip("-6", "route", "change", "2001:db8:48:1::/64", "dev", "rc8a", "proto", "kernel", "metric", "256", "mtu", "1400")
        try ns.ip("route", "add", "default", "via", "10.48.1.254", "dev", "rc8a", "metric", "200")
        try ns.ip("route", "add", "10.0.0.0/16", "via", "10.48.2.9", "dev", "rc8a")
        try ns.ip("route", "add", "10.0.1.0/24", "via", "10.48.3.9", "dev", "rc8a")
        try ns.ip("-6", "route", "add", "default", "via", "2001:db8:48:1::fe", "dev", "rc8a", "metric", "200")
        try ns.ip("-6", "route", "add", "2001:db8::/48", "via", "2001:db8:48:1::fe", "dev", "rc8a")
        let before = try RecreateFidelityKernelTests.view(ns, "rc8a")
        #expect(before.filter { $0.contains("\"gateway\"") }.count == 5, "\(before)")
        let (plan, commands) = try RecreateFidelityKernelTests.reapAndReplay(ns, state)
        let after = try RecreateFidelityKernelTests.view(ns, "rc8a")
        #expect(after == before, "gone: \(Set(before).subtracting(after)), new: \(Set(after).subtracting(before))")
        RecreateFidelityKernelTests.expectSame(plan, commands)
    }
}
#endif
