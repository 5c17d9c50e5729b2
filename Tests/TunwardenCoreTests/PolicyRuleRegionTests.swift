import Foundation
import Testing
@testable import TunwardenCore

/// Which ordinary traffic a policy rule matches, weighed as the kernel matches it (review ip9,
/// F1 and F2): `iif lo` and a uid range of every valid uid match all traffic this host sends; a
/// `to` selector, with or without `not`, sends a region of the destinations to its table, and
/// the regions are weighed as split routes are. A dead default reached that way for (nearly) all
/// of the space is the outage it is; other selectors still take only some traffic.
@Suite struct PolicyRuleRegionTests {
    let orphan = Build.tun(7, "walk_tun")
    let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, carrier: true)

    func finding(_ routes: [Route], rules: [PolicyRule]) -> Finding? {
        var snapshot = Build.snapshot([orphan, eth], routes: routes)
        snapshot.policyRules = PolicyRuleWalkTests.defaults + rules
        return Heuristics.assess(snapshot).findings.first { $0.id == FindingID.deadTunnelRoute }
    }

    func dead(_ prefix: String, table: RouteTable = .other(300)) -> Route { Build.route(prefix, 7, table: table) }
    func live(_ prefix: String, table: RouteTable = .main) -> Route { Build.route(prefix, 2, table: table) }

    static func rule(_ priority: UInt32, family: AddressFamily = .inet, _ change: (inout PolicyRule) -> Void) -> PolicyRule {
        PolicyRuleWalkTests.rule(priority, .lookup(.other(300)), family: family, change)
    }

    /// Dead defaults of table 300 beside main's live ones, both families.
    var deadDefaults: [Route] { [dead("0.0.0.0/0"), dead("::/0"), live("0.0.0.0/0"), live("::/0")] }

    /// F1: `iif lo lookup 300`, both families: every lookup this host makes for itself goes to
    /// the dead table, critical, and the text says whose traffic is lost.
    @Test func iifLoTakesAllTrafficThisHostSends() throws {
        let rules = [AddressFamily.inet, .inet6].map { family in Self.rule(100, family: family) { $0.inputInterface = "lo" } }
        let found = try #require(finding(deadDefaults, rules: rules))
        #expect(found.severity == .critical, "\(found.evidence)")
        #expect(found.evidence.contains("Together they capture all IPv4 and IPv6 traffic this host sends that would take the default route"), "\(found.evidence)")
        #expect(found.evidence.contains("Rule 100 (iif lo lookup 300) brings the IPv4 traffic this host sends (not traffic it forwards"), "\(found.evidence)")
        #expect(!found.evidence.contains("Only some"), "\(found.evidence)")
    }

    /// Forwarded traffic passes an `iif lo` rule by: behind one into a live table, a dead default
    /// of main takes only that, named.
    @Test func forwardedTrafficPassesAnIifLoRuleBy() throws {
        let found = try #require(finding([dead("0.0.0.0/0", table: .main), live("0.0.0.0/0", table: .other(300))],
                                         rules: [Self.rule(100) { $0.inputInterface = "lo" }]))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("traffic that is not generated on this host (iif lo), which rule 100 (iif lo lookup 300) passes by"), "\(found.evidence)")
        // `not iif lo` selects forwarded traffic alone: some traffic.
        let forwarded = try #require(finding(deadDefaults, rules: [Self.rule(100) { ($0.inputInterface, $0.inverted) = ("lo", true) }]))
        #expect(forwarded.evidence.contains("Only some IPv4 traffic reaches table 300: all traffic but that generated on this host (iif lo)"), "\(forwarded.evidence)")
    }

    /// F1: a uid range of every valid uid matches all traffic; a part of them only some.
    @Test func aUidRangeOfEveryUidMatchesAll() throws {
        let all = try #require(finding(deadDefaults, rules: [Self.rule(100) { $0.uidRange = 0...4_294_967_294 }]))
        #expect(all.severity == .critical, "\(all.evidence)")
        #expect(all.evidence.contains("Together they capture all IPv4 traffic that would take the default route"), "\(all.evidence)")
        #expect(!all.evidence.contains("passes by"), "no valid uid is left out: \(all.evidence)")
        let part = try #require(finding(deadDefaults, rules: [Self.rule(100) { $0.uidRange = 1000...4_294_967_294 }]))
        #expect(part.severity == .warning, "\(part.evidence)")
        #expect(part.evidence.contains("Only some IPv4 traffic reaches table 300: traffic of uids 1000-4294967294"), "\(part.evidence)")
    }

    /// F2 (a): everything but the LAN into the dead table is all the internet: critical, the
    /// text naming what is left out; the LAN's own live route in main changes nothing.
    @Test func everythingButTheLanIsCritical() throws {
        let rules = [Self.rule(100) { ($0.destination, $0.inverted) = (IPPrefix("192.168.0.0/16"), true) }]
        for routes in [[dead("0.0.0.0/0"), live("0.0.0.0/0")], [dead("0.0.0.0/0"), live("0.0.0.0/0"), live("192.168.0.0/16")]] {
            let found = try #require(finding(routes, rules: rules))
            #expect(found.severity == .critical, "\(found.evidence)")
            #expect(found.evidence.contains("Together they capture all IPv4 traffic that would take the default route"), "\(found.evidence)")
            #expect(found.evidence.contains("Rule 100 (not to 192.168.0.0/16 lookup 300) brings ordinary IPv4 traffic to table 300 for every destination but 192.168.0.0/16"), "\(found.evidence)")
        }
        // A dead route for the LAN itself in table 300 takes nothing: the rule never brings it there.
        let lan = try #require(finding([dead("192.168.5.0/24"), live("0.0.0.0/0")], rules: rules))
        #expect(lan.severity == .warning, "\(lan.evidence)")
        #expect(lan.evidence.contains("Ordinary IPv4 traffic reaches table 300 only for other destinations, every destination but 192.168.0.0/16 (rule 100: not to 192.168.0.0/16 lookup 300)"), "\(lan.evidence)")
    }

    /// F2 (b): two rules, `to 0.0.0.0/1` and `to 128.0.0.0/1`, are a split default made of
    /// rules: critical; either alone is half of one, judged as a dead `0.0.0.0/1` route is.
    @Test func twoHalvesAreASplitDefault() throws {
        let low = Self.rule(100) { $0.destination = IPPrefix("0.0.0.0/1") }, high = Self.rule(101) { $0.destination = IPPrefix("128.0.0.0/1") }
        let both = try #require(finding([dead("0.0.0.0/0"), live("0.0.0.0/0")], rules: [low, high]))
        #expect(both.severity == .critical, "\(both.evidence)")
        #expect(both.evidence.contains("Together they capture all IPv4 traffic that would take the default route"), "\(both.evidence)")
        #expect(both.evidence.contains("for every destination, together: a split default made of rules"), "\(both.evidence)")
        let half = try #require(finding([dead("0.0.0.0/0"), live("0.0.0.0/0")], rules: [low]))
        let route = try #require(finding([dead("0.0.0.0/1", table: .main), live("0.0.0.0/0")], rules: []))
        #expect(half.severity == route.severity, "\(half.evidence) against \(route.evidence)")
        #expect(half.evidence.contains("only for 0.0.0.0/1, 50% of the IPv4 traffic that would take the default route"), "\(half.evidence)")
        #expect(half.evidence.contains("blackholed where the policy rules bring it to their table"), "\(half.evidence)")
    }

    /// A source selector stays some traffic, as do the others; `from 0.0.0.0/0` is `from all`.
    @Test func aSourceStaysSomeTraffic() throws {
        let found = try #require(finding(deadDefaults, rules: [Self.rule(100) { $0.source = IPPrefix("10.0.0.0/8") }]))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("Only some IPv4 traffic reaches table 300: traffic from 10.0.0.0/8"), "\(found.evidence)")
        #expect(finding(deadDefaults, rules: [Self.rule(100) { $0.source = IPPrefix("0.0.0.0/0") }])?.severity == .critical)
    }

    /// A region answered by an earlier live table leaves main's dead default only the rest: half
    /// of it, as a dead half route; both halves answered leave it none.
    @Test func anAnsweredRegionEndsTheWalkForItAlone() throws {
        let routes = [dead("0.0.0.0/0", table: .main), live("0.0.0.0/0", table: .other(300))]
        let low = Self.rule(100) { $0.destination = IPPrefix("0.0.0.0/1") }, high = Self.rule(101) { $0.destination = IPPrefix("128.0.0.0/1") }
        let half = try #require(finding(routes, rules: [low]))
        #expect(half.severity == .warning, "\(half.evidence)")
        #expect(!half.evidence.contains("No IPv4 traffic reaches"), "\(half.evidence)")
        let none = try #require(finding(routes, rules: [low, high]))
        #expect(none.evidence.contains("No IPv4 traffic reaches the main table: rule 100 (to 0.0.0.0/1 lookup 300) sends what goes to 0.0.0.0/1 to table 300 first"), "\(none.evidence)")
    }

    /// The region arithmetic: what is left of a prefix without a longer one.
    @Test func subtractingLeavesTheSiblings() {
        let left = Heuristics.subtracting(IPPrefix("192.168.0.0/16")!, from: IPPrefix("0.0.0.0/0")!)
        #expect(left.count == 16)
        #expect(Heuristics.coverage(of: left + [IPPrefix("192.168.0.0/16")!]) == 1)
        #expect(left.contains(IPPrefix("0.0.0.0/1")!) && left.contains(IPPrefix("192.169.0.0/16")!))
        #expect(Heuristics.subtracting(IPPrefix("10.0.0.0/8")!, from: IPPrefix("10.1.0.0/16")!).isEmpty)
        #expect(Heuristics.subtracting(IPPrefix("11.0.0.0/8")!, from: IPPrefix("10.0.0.0/8")!) == [IPPrefix("10.0.0.0/8")!])
    }
}
