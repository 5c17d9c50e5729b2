import Foundation
import Testing
@testable import TunwardenCore

/// Routes that decide a lookup without sending into any device, and the local table that decides
/// before the others (review ip47, V1 and V2): a kill switch's `unreachable default metric 10`
/// wins every destination a dead tunnel's default would take, and an IPv6 multicast route an
/// `autojoin` address adds to the main table takes nothing while every device's
/// `multicast ff00::/8` of the local table decides those destinations first.
@Suite struct DeadRouteOutrankedTests {
    let orphan = Build.tun(7, "kill_tun")
    let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, carrier: true)

    func findings(_ routes: [Route]) -> [Finding] {
        Heuristics.assess(Build.snapshot([orphan, eth], routes: routes)).findings.filter { $0.id == FindingID.deadTunnelRoute }
    }

    func intoTun(_ prefix: String, metric: UInt32? = nil) -> Route {
        var route = Build.route(prefix, 7, metric: metric)
        route.nextHops[0].interfaceName = "kill_tun"
        return route
    }

    /// A route of a type without a device, of the given prefix.
    func deviceless(_ prefix: String, _ type: RouteType, metric: UInt32?, table: RouteTable = .main) throws -> Route {
        Route(destination: try #require(IPPrefix(prefix)), type: type, table: table, metric: metric, nextHops: [])
    }

    /// Each kill-switch type with a lower metric outranks the dead default, IPv4 and IPv6: a
    /// warning that names it by type and metric, never the critical outage it was.
    @Test(arguments: [RouteType.unreachable, .blackhole, .prohibit, .throw], ["0.0.0.0/0", "::/0"])
    func aKillSwitchOutranksTheDeadDefault(type: RouteType, prefix: String) throws {
        let found = findings([intoTun(prefix, metric: 100), try deviceless(prefix, type, metric: 10)])
        let finding = try #require(found.first)
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.contains("Other routes of their table outrank default"), "\(finding.evidence)")
        #expect(finding.evidence.contains("other routes of the main table (\(type) default"), "\(finding.evidence)")
        #expect(finding.evidence.contains("metric 10)"), "\(finding.evidence)")
        #expect(!finding.evidence.contains("turns a leaked tunnel into an outage"), "\(finding.evidence)")
    }

    /// The control: a kill switch of a higher metric than the dead default loses to it, so the
    /// dead default still captures default traffic: critical.
    @Test func aKillSwitchOfAHigherMetricOutranksNothing() throws {
        let finding = try #require(findings([intoTun("0.0.0.0/0", metric: 10), try deviceless("0.0.0.0/0", .unreachable, metric: 100)]).first)
        #expect(finding.severity == .critical, "\(finding.evidence)")
    }

    /// A kill switch in another table ranks only in its own: it does not outrank the main
    /// table's dead default.
    @Test func aKillSwitchOfAnotherTableOutranksNothingInMain() throws {
        let finding = try #require(findings([intoTun("0.0.0.0/0", metric: 100), try deviceless("0.0.0.0/0", .blackhole, metric: 1, table: .other(100))]).first)
        #expect(finding.severity == .critical, "\(finding.evidence)")
    }

    /// `blackhole 0.0.0.0/1` + `128.0.0.0/1`: the dead default keeps nothing, and the text says
    /// none of it is lost while those stay.
    @Test func deadRoutesUnderAKillSwitchSplitAreNamedOutranked() throws {
        let finding = try #require(findings([intoTun("0.0.0.0/0"), try deviceless("0.0.0.0/1", .blackhole, metric: nil),
                                             try deviceless("128.0.0.0/1", .blackhole, metric: nil)]).first)
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.contains("so none of it goes into kill_tun"), "\(finding.evidence)")
        #expect(finding.evidence.contains("blackhole 0.0.0.0/1"), "\(finding.evidence)")
        // All of it is dropped by the kill switch, which the text says (Linux 49 F5).
        #expect(finding.evidence.contains("(a kill switch): that traffic is blocked, not delivered"), "\(finding.evidence)")
        #expect(!finding.evidence.contains("none of it is lost"), "\(finding.evidence)")
    }

    /// A `throw` or a live route that wins is no kill switch: nothing is said of blocking.
    @Test func aLiveWinnerIsNoKillSwitch() throws {
        var live = Build.route("0.0.0.0/0", 2, metric: 10)
        live.nextHops[0].interfaceName = "eth0"
        for winner in [live, try deviceless("0.0.0.0/0", .throw, metric: 10)] {
            let finding = try #require(findings([intoTun("0.0.0.0/0", metric: 100), winner]).first)
            #expect(finding.severity == .warning, "\(finding.evidence)")
            #expect(!finding.evidence.contains("kill switch"), "\(finding.evidence)")
        }
    }

    /// Two dead devices: one with the IPv4 default and an IPv6 prefix route of its own, the
    /// other with the IPv6 default. Each finding names only the family its own routes capture
    /// (Linux 49 F12 b): the first device's fd08::/64 is no part of the IPv6 outage.
    @Test func eachDeviceNamesOnlyTheFamiliesItsOwnRoutesCapture() throws {
        let other = Build.tun(8, "dtap")
        var v6Default = Build.route("::/0", 8, metric: 1024)
        v6Default.nextHops[0].interfaceName = "dtap"
        let routes = [intoTun("0.0.0.0/0"), intoTun("fd08::/64", metric: 256), v6Default]
        let found = Heuristics.assess(Build.snapshot([orphan, other, eth], routes: routes)).findings.filter { $0.id == FindingID.deadTunnelRoute }
        let mine = try #require(found.first { $0.ifname == "kill_tun" })
        #expect(mine.severity == .critical, "\(mine.evidence)")
        #expect(mine.evidence.contains("capture all IPv4 traffic"), "\(mine.evidence)")
        #expect(!mine.evidence.contains("IPv6 traffic"), "\(mine.evidence)")
        let theirs = try #require(found.first { $0.ifname == "dtap" })
        #expect(theirs.severity == .critical && theirs.evidence.contains("capture all IPv6 traffic"), "\(theirs.evidence)")
        // Without its IPv4 default, the first device's IPv6 prefix route alone is a warning.
        let alone = Heuristics.assess(Build.snapshot([orphan, other, eth], routes: [intoTun("fd08::/64", metric: 256), v6Default]))
            .findings.first { $0.id == FindingID.deadTunnelRoute && $0.ifname == "kill_tun" }
        #expect(alone?.severity == .warning, "\(alone?.evidence ?? "")")
        #expect(alone?.evidence.contains("would capture all IPv6") == false, "\(alone?.evidence ?? "")")
    }

    /// An `autojoin` IPv6 multicast address's main-table route into the dead tun takes nothing
    /// while the local table holds `multicast ff00::/8`: no dead-tunnel-route for it. Without
    /// that local route it is still named.
    @Test func aMulticastRouteTheLocalTableShadowsIsNoDeadRoute() throws {
        let multicast = intoTun("ff0e::4747/128", metric: 256)
        var local = try deviceless("ff00::/8", .multicast, metric: 256, table: .local)
        local.nextHops = [NextHop(interfaceIndex: 2, interfaceName: "eth0")]
        #expect(findings([multicast, local]).isEmpty)
        #expect(findings([multicast]).count == 1)
    }

    /// The local table shadows only what it covers whole: a dead `10.9.0.0/24` beside a local
    /// route of one of its addresses is still named.
    @Test func aLocalRouteShadowsOnlyWhatItCoversWhole() throws {
        var local = try deviceless("10.9.0.1/32", .local, metric: nil, table: .local)
        local.nextHops = [NextHop(interfaceIndex: 7, interfaceName: "kill_tun")]
        let found = findings([intoTun("10.9.0.0/24"), local])
        #expect(found.count == 1)
        #expect(found.first?.evidence.contains("10.9.0.0/24") == true)
    }
}
