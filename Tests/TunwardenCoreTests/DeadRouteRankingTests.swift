import Foundation
import Testing
@testable import TunwardenCore

/// Routes into a dead tunnel are critical only when they take default traffic the kernel would
/// send them: live routes of the same table that outrank them (a longer prefix, or the same one
/// with a lower metric) keep that traffic, a route the kernel flags dead takes none, and one of a
/// `tos` or `from` selector takes only some.
@Suite struct DeadRouteRankingTests {
    let orphan = Build.tun(7, "kure_tun")
    let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, carrier: true)

    func dead(_ routes: [Route]) -> Finding? {
        Heuristics.assess(Build.snapshot([orphan, eth], routes: routes)).findings.first { $0.id == "dead-tunnel-route" }
    }

    func route(_ prefix: String, _ index: Int, metric: UInt32? = nil, table: RouteTable = .main) -> Route {
        var route = Build.route(prefix, index, table: table, metric: metric)
        route.nextHops[0].interfaceName = index == 2 ? "eth0" : "kure_tun"
        return route
    }

    /// A dead split default, a dead default or dead internet routes under live routes that win
    /// all of their traffic: a warning that names what outranks them, not an outage.
    @Test(arguments: [
        (["0.0.0.0/1 10", "128.0.0.0/1 10"], ["0.0.0.0/1 5", "128.0.0.0/1 5"]),
        (["2000::/3 100"], ["2000::/3 50"]),
        (["0.0.0.0/0 0"], ["0.0.0.0/1 0", "128.0.0.0/1 0"]),
        (["::/0 1024"], ["::/1 1024", "8000::/1 1024"]),
        (["0.0.0.0/1 0", "128.0.0.0/1 10"], ["0.0.0.0/2 0", "64.0.0.0/2 0", "128.0.0.0/1 9"]),
        (["0.0.0.0/0 100", "0.0.0.0/1 7", "128.0.0.0/1 7"], ["0.0.0.0/0 50", "0.0.0.0/1 3", "128.0.0.0/1 3"]),
    ])
    func deadRoutesThatLiveOnesOutrankAreAWarning(deadRoutes: [String], liveRoutes: [String]) {
        func parse(_ text: String, _ index: Int) -> Route {
            let parts = text.split(separator: " ")
            return route(String(parts[0]), index, metric: UInt32(parts[1]))
        }
        let finding = dead(deadRoutes.map { parse($0, 7) } + liveRoutes.map { parse($0, 2) })
        #expect(finding?.severity == .warning, "\(finding?.evidence ?? "none")")
        #expect(finding?.evidence.contains("outrank") == true, "\(finding?.evidence ?? "")")
        #expect(finding?.evidence.contains("so none of it goes into") == true, "\(finding?.evidence ?? "")")
        #expect(finding?.evidence.contains("capture all IPv4 traffic that would take the default route, so") != true)
    }

    /// Live routes that win most but not half of what dead routes would capture leave a
    /// warning that says how much is still blackholed: a dead cascade beside live `128/2` and
    /// `192/2` keeps only its lower half, less 0/8.
    @Test func aPartlyOutrankedCaptureSaysHowMuchIsLost() {
        let cascade = ["1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/5", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"]
        let finding = dead(cascade.map { route($0, 7) } + [route("128.0.0.0/2", 2), route("192.0.0.0/2", 2)])
        #expect(finding?.severity == .warning)
        #expect(finding?.evidence.contains("outrank them for all but 49% of it, which is blackholed") == true, "\(finding?.evidence ?? "")")
        #expect(finding?.evidence.contains("Live routes of their table outrank 128.0.0.0/1") == true, "\(finding?.evidence ?? "")")
    }

    /// The control case: a dead default a live default of a lower metric outranks is named as
    /// outranked, not as blackholed, beside a dead subnet route whose traffic is.
    @Test func anOutrankedDefaultIsNamedAsSuch() {
        let finding = dead([route("0.0.0.0/0", 7, metric: 100), route("10.9.0.0/24", 7), route("0.0.0.0/0", 2, metric: 50)])
        #expect(finding?.severity == .warning)
        let evidence = finding?.evidence ?? ""
        #expect(evidence.contains("Live routes of their table outrank default (a longer prefix, or the same one with a lower metric): no traffic takes it"), "\(evidence)")
        #expect(evidence.contains("Traffic to the others is blackholed."), "\(evidence)")
        #expect(evidence.contains("outrank them for all but less than 1% of it, which is blackholed"), "\(evidence)")
        #expect(evidence.contains("default dev eth0"), "\(evidence)")
    }

    /// A dead default whose every destination longer prefixes take, live ones among them (a
    /// live split default over the tunnel's own subnet route), carries no traffic itself: named
    /// as outranked. Under dead longer prefixes alone it is not, since it is not live routes
    /// that take its traffic.
    @Test func aDefaultUnderALiveSplitDefaultIsOutranked() {
        let under = dead([route("0.0.0.0/0", 7, metric: 10), route("10.9.0.0/24", 7), route("0.0.0.0/1", 2), route("128.0.0.0/1", 2)])
        #expect(under?.severity == .warning)
        #expect(under?.evidence.contains("Live routes of their table outrank default (") == true, "\(under?.evidence ?? "")")
        #expect(under?.evidence.contains("(0.0.0.0/1 dev eth0, 128.0.0.0/1 dev eth0)") == true, "\(under?.evidence ?? "")")
        let deadOnly = dead([route("0.0.0.0/0", 7, metric: 10), route("0.0.0.0/1", 7), route("128.0.0.0/1", 7)])
        #expect(deadOnly?.severity == .critical)
        #expect(deadOnly?.evidence.contains("outrank") == false, "\(deadOnly?.evidence ?? "")")
    }

    /// What live routes do not win stays critical: half of the space (a dead default beside a
    /// live `0/1`), live routes of another table, an equal metric (the kernel takes the route it
    /// was given first, which a watcher cannot always know), a dead route of a lower metric, a
    /// live route of one `tos`, live macOS routes scoped to their interface, and a live route
    /// the kernel flags dead.
    @Test func whatLiveRoutesDoNotWinStaysCritical() {
        let half = dead([route("0.0.0.0/0", 7, metric: 10), route("0.0.0.0/1", 2, metric: 10)])
        #expect(half?.severity == .critical)
        #expect(half?.evidence.contains("Together they capture 50% of IPv4 traffic that would take the default route (live routes of the main table win the rest: 0.0.0.0/1 dev eth0)") == true,
                "\(half?.evidence ?? "")")
        let otherTable = dead([route("0.0.0.0/1", 7, metric: 10), route("128.0.0.0/1", 7, metric: 10),
                               route("0.0.0.0/1", 2, metric: 5, table: .other(100)), route("128.0.0.0/1", 2, metric: 5, table: .other(100))])
        #expect(otherTable?.severity == .critical)
        #expect(otherTable?.evidence.contains("capture all IPv4 traffic") == true)
        #expect(dead([route("::/0", 7, metric: 1024), route("::/0", 2, metric: 1024)])?.severity == .critical)
        #expect(dead([route("0.0.0.0/0", 7, metric: 5), route("0.0.0.0/0", 2, metric: 50)])?.severity == .critical)
        var tos = route("0.0.0.0/0", 2, metric: 1)
        tos.tos = 0x10
        #expect(dead([route("0.0.0.0/0", 7, metric: 5), tos])?.severity == .critical)
        var scoped = [route("0.0.0.0/1", 2), route("128.0.0.0/1", 2)]
        for position in scoped.indices { scoped[position].bsdFlags = "UGScI" }
        #expect(dead([route("0.0.0.0/0", 7)] + scoped)?.severity == .critical)
        var linkdown = route("0.0.0.0/0", 2, metric: 1)
        linkdown.nextHops[0].skippedByKernel = true
        #expect(dead([route("0.0.0.0/0", 7, metric: 5), linkdown])?.severity == .critical)
    }

    /// Routes the kernel flags dead (`ignore_routes_with_linkdown`, or a device that is down)
    /// take no traffic: a warning that says so, not a capture, in either family.
    @Test func routesTheKernelPassesByCaptureNothing() {
        var v4 = route("0.0.0.0/0", 7, metric: 10), v6 = route("::/0", 7, metric: 10)
        v4.nextHops[0].skippedByKernel = true
        v6.nextHops[0].skippedByKernel = true
        let finding = dead([v4, v6, route("0.0.0.0/0", 2, metric: 50)])
        #expect(finding?.severity == .warning)
        #expect(finding?.evidence.contains("The kernel passes default, default (::/0) by") == true, "\(finding?.evidence ?? "")")
        #expect(finding?.evidence.contains("ignore_routes_with_linkdown") == true)
        #expect(finding?.evidence.contains("blackholed") != true, "\(finding?.evidence ?? "")")
        // One flagged half of a split default leaves the other half: not a capture either.
        var half = route("0.0.0.0/1", 7)
        half.nextHops[0].skippedByKernel = true
        #expect(dead([half, route("128.0.0.0/1", 7)])?.severity == .warning)
    }

    /// A dead default of one `tos`, or an IPv6 one of some sources (`from`), takes only that
    /// traffic: a warning that names the selector, and the rest of a capture still counts.
    @Test func selectiveDefaultsCaptureOnlySomeTraffic() {
        var tos = route("0.0.0.0/0", 7)
        tos.tos = 0x10
        var from = route("::/0", 7)
        from.source = IPPrefix("2001:db8:5::/64")
        let finding = dead([tos, from])
        #expect(finding?.severity == .warning, "\(finding?.evidence ?? "")")
        #expect(finding?.evidence.contains("default tos 0x10 takes only packets of that tos; default (::/0) from 2001:db8:5::/64 takes only packets from those sources") == true,
                "\(finding?.evidence ?? "")")
        #expect(dead([tos, route("0.0.0.0/1", 7), route("128.0.0.0/1", 7)])?.severity == .critical)
    }

    /// The ranking with many live routes in the table, as a router's full table: all of them
    /// inside the dead default, none of them covering it, so it still takes the rest.
    @Test func aLargeLiveTableIsRankedInOnePass() {
        var routes = [route("0.0.0.0/0", 7, metric: 10)]
        for a in 0..<200 { for b in 0..<100 { routes.append(route("\(a).\(b).0.0/16", 2)) } }
        let finding = dead(routes)
        #expect(finding?.severity == .critical)
        #expect(finding?.evidence.contains("and 19997 more") == true, "\(finding?.evidence.prefix(600) ?? "")")
    }
}
