import Foundation
import Testing
@testable import TunwardenCore

/// Among IPv6 routes of one prefix and one metric the kernel takes the one of the highest router
/// preference (`rt6_score_route`: `pref high`, then `medium`, then `low`), whichever it was given
/// first; the metric still decides before the preference. A dead route the preference outranks
/// captures nothing, one it puts first captures for certain, and the text names the preferences.
@Suite struct RouterPreferenceRankingTests {
    let orphan = Build.tun(7, "kure_tun")
    let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, carrier: true)

    /// RTA_PREF's values: 0 medium, 1 high, 3 low.
    enum Pref: UInt8 { case medium = 0, high = 1, low = 3 }

    func route(_ prefix: String, _ index: Int, metric: UInt32 = 1024, _ pref: Pref = .medium) -> Route {
        var route = Build.route(prefix, index, metric: metric)
        route.nextHops[0].interfaceName = index == 2 ? "eth0" : "kure_tun"
        route.preference = pref.rawValue
        return route
    }

    func dead(_ routes: [Route]) -> Finding? {
        Heuristics.assess(Build.snapshot([orphan, eth], routes: routes)).findings.first { $0.id == "dead-tunnel-route" }
    }

    /// The review's case: a dead `pref low` default listed before a live `pref high` one of the
    /// same metric takes no traffic (`ip -6 route get` goes to the live one every time): a
    /// warning that names both preferences, not a critical capture.
    @Test func aDeadLowPreferenceDefaultBesideALiveHighOneIsOutranked() throws {
        let finding = try #require(dead([route("::/0", 7, .low), route("::/0", 2, .high)]))
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.contains("Live routes of their table outrank default (::/0) (a longer prefix, or the same one with a lower metric, or with the same metric and a higher router preference)"),
                "\(finding.evidence)")
        #expect(finding.evidence.contains("default (::/0) dev eth0 pref high outranks default (::/0) dev kure_tun pref low."), "\(finding.evidence)")
        #expect(!finding.evidence.contains("blackholed"), "\(finding.evidence)")
        // Medium over low, and high over medium, alike.
        #expect(dead([route("::/0", 7, .low), route("::/0", 2)])?.severity == .warning)
        #expect(dead([route("::/0", 7), route("::/0", 2, .high)])?.severity == .warning)
    }

    /// A dead default of a higher preference than the live one of its metric takes all default
    /// traffic: critical, and the text says the preference put it first. At an equal preference
    /// the dead route is still counted (the order the kernel was given them decides).
    @Test func aDeadHigherPreferenceDefaultCaptures() throws {
        let finding = try #require(dead([route("::/0", 7, .high), route("::/0", 2)]))
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.evidence.contains("default (::/0) dev kure_tun pref high outranks the live default (::/0) dev eth0 pref medium."), "\(finding.evidence)")
        let tie = try #require(dead([route("::/0", 7, .high), route("::/0", 2, .high)]))
        #expect(tie.severity == .critical)
        #expect(!tie.evidence.contains("router preference"), "\(tie.evidence)")
    }

    /// The metric decides before the preference: a dead `pref low` default of a lower metric
    /// captures, a dead `pref high` one of a higher metric does not, and neither text speaks of
    /// preferences.
    @Test func theMetricDecidesBeforeThePreference() throws {
        let lower = try #require(dead([route("::/0", 7, metric: 100, .low), route("::/0", 2, metric: 1024, .high)]))
        #expect(lower.severity == .critical, "\(lower.evidence)")
        let higher = try #require(dead([route("::/0", 7, metric: 2048, .high), route("::/0", 2, metric: 1024, .low)]))
        #expect(higher.severity == .warning, "\(higher.evidence)")
        for finding in [lower, higher] { #expect(!finding.evidence.contains("router preference"), "\(finding.evidence)") }
    }

    /// Split routes are weighed by prefix as before, each prefix by its preference: a live
    /// `::/1 pref high` wins that half (with all of 2000::/3) from a dead `::/1 pref medium`,
    /// and a live `8000::/1 pref low` loses the other half, which holds no internet addresses.
    @Test func splitRoutesAreRankedByPreferencePerPrefix() throws {
        let split = [route("::/1", 7), route("8000::/1", 7)]
        let finding = try #require(dead(split + [route("::/1", 2, .high), route("8000::/1", 2, .low)]))
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.contains("::/1 dev eth0 pref high outranks ::/1 dev kure_tun pref medium"), "\(finding.evidence)")
        #expect(finding.evidence.contains("8000::/1 dev kure_tun pref medium outranks the live 8000::/1 dev eth0 pref low"), "\(finding.evidence)")
        #expect(dead(split + [route("::/1", 2, .low), route("8000::/1", 2, .low)])?.severity == .critical)
    }

    /// A multipath default half of whose hops are dead, `pref low`, beside a live single-path
    /// default `pref high` of the same metric, takes no flows: the dead-tunnel-hop finding calls
    /// it outranked and names the preferences.
    @Test func aMultipathRouteIsRankedByPreferenceToo() throws {
        var multipath = route("::/0", 2, .low)
        multipath.nextHops = [NextHop(gateway: IPAddress("fe80::2"), interfaceIndex: 2, interfaceName: "eth0"),
                              NextHop(gateway: IPAddress("fe80::7"), interfaceIndex: 7, interfaceName: "kure_tun")]
        let live = NetworkInterface(index: 3, name: "eth1", kind: .other, carrier: true)
        var other = route("::/0", 3, .high)
        other.nextHops[0].interfaceName = "eth1"
        let assessment = Heuristics.assess(Build.snapshot([orphan, eth, live], routes: [multipath, other]))
        let finding = try #require(assessment.findings.first { $0.id == FindingID.deadTunnelHop })
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(finding.evidence.contains("outrank it"), "\(finding.evidence)")
        #expect(finding.evidence.contains("default (::/0) dev eth1 pref high outranks default (::/0) (2 next hops) pref low."), "\(finding.evidence)")
        other.preference = Pref.medium.rawValue
        multipath.preference = Pref.high.rawValue
        let captured = Heuristics.assess(Build.snapshot([orphan, eth, live], routes: [multipath, other])).findings.first { $0.id == FindingID.deadTunnelHop }
        #expect(captured?.severity == .critical, "\(captured?.evidence ?? "")")
    }
}
