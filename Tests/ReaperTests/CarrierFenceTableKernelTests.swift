#if os(Linux)
import Foundation
import Testing
import TestSupport

/// An orphaned tap whose multipath route (every hop on it, linkdown, ignore_routes_with_linkdown
/// off) lies in a table other than main, against the real kernel as root in throwaway namespaces
/// (review ip12 F3). Route lookups made as a packet reaches that table (marked, for a `fwmark`
/// rule) show the kernel shares flows out to the hops, and a table no rule looks up takes no
/// traffic: either way the fence wakes nothing and the tap is reaped. Where no lookup can reach
/// the table (a rule that selects by protocol), the reap leaves it alone saying it could not
/// tell, never that the setting is on.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct CarrierFenceTableKernelTests {
    @Test(arguments: ["4", "6"], ["none", "fwmark", "ipproto"])
    func aMultipathRouteOfAnotherTableIsJudgedAsTrafficReachesIt(family: String, rule: String) throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        // (A name of each case's own: a reap's fence weighs devices of the same name elsewhere.)
        let tap = "f12\(family)\(rule.prefix(2))"
        try ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
        try ns.ip("link", "set", tap, "up")
        try ns.ip("-6", "addr", "add", "2001:db8:a::1/64", "dev", tap, "nodad")
        try ns.ip("addr", "add", "10.1.0.1/24", "dev", tap)
        let (prefix, address) = family == "6" ? ("2001:db8:97::/48", "2001:db8:97::5") : ("10.97.0.0/16", "10.97.0.5")
        let gateways = family == "6" ? ["2001:db8:a::fe", "2001:db8:a::fd"] : ["10.1.0.254", "10.1.0.253"]
        try Shell.run(["ip", "-n", ns.name, "-" + family, "route", "add", prefix, "table", "100"]
                      + gateways.flatMap { ["nexthop", "via", $0, "dev", tap] })
        switch rule {
        case "fwmark": try ns.ip("-" + family, "rule", "add", "pref", "100", "fwmark", "5", "lookup", "100")
        case "ipproto": try ns.ip("-" + family, "rule", "add", "pref", "100", "ipproto", "tcp", "lookup", "100")
        default: break
        }
        let routes = try ns.ip("-" + family, "route", "show", "table", "100")
        try #require(routes.contains("linkdown") && !routes.contains("dead"), "the hops must be linkdown and not dead for this to test anything: \(routes)")
        if rule == "fwmark" {
            #expect(try Shell.run(["ip", "-n", ns.name, "route", "get", address, "mark", "5"]).contains("dev \(tap)"))
        }

        let dry = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--no-state", "--min-age", "0", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stdout)\n\(dry.stderr)")
        #expect(!dry.stdout.contains("is set for it or for all"), "\(dry.stdout)")
        if rule == "ipproto" {
            #expect(dry.stdout.contains("Left \(tap) alone: whether the kernel shares out flows to its hop in the multipath route \(prefix) (table 100) could not be told"),
                    "\(dry.stdout)")
            #expect(!dry.stdout.contains("Would delete tap \(tap)"), "\(dry.stdout)")
            return
        }
        #expect(dry.stdout.contains("Would delete tap \(tap)") && !dry.stdout.contains("Left \(tap) alone"), "\(dry.stdout)")
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let real = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(real.status == 0, "\(real.stdout)\n\(real.stderr)")
        #expect(!(try ns.ip("link", "show")).contains(tap), "\(real.stdout)")
    }
}
#endif
