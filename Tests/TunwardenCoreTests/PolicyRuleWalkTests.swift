import Foundation
import Testing
@testable import TunwardenCore

/// The dead-route judgement walks the policy rules as the kernel does (review ip48, F3): a dead
/// default in a table no rule reaches, or one only marked traffic reaches, captures nothing; one
/// ordinary traffic reaches before any table that answers it (wg-quick's layout) is the outage
/// it was; and a dead default of main that an earlier rule's live table answers for is not.
@Suite struct PolicyRuleWalkTests {
    let orphan = Build.tun(7, "walk_tun")
    let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, carrier: true)

    /// The dead-tunnel-route finding for `routes` under `rules` (nil: not known).
    func finding(_ routes: [Route], rules: [PolicyRule]?, problem: String? = nil) -> Finding? {
        var snapshot = Build.snapshot([orphan, eth], routes: routes)
        snapshot.policyRules = rules
        snapshot.policyRulesProblem = problem
        return Heuristics.assess(snapshot).findings.first { $0.id == FindingID.deadTunnelRoute }
    }

    func dead(_ prefix: String, table: RouteTable = .main) -> Route { Build.route(prefix, 7, table: table) }
    func live(_ prefix: String, table: RouteTable = .main) -> Route { Build.route(prefix, 2, table: table) }

    static func rule(_ priority: UInt32, _ action: PolicyRule.Action, family: AddressFamily = .inet, _ change: (inout PolicyRule) -> Void = { _ in }) -> PolicyRule {
        var rule = PolicyRule(family: family, priority: priority, action: action)
        change(&rule)
        return rule
    }

    static let defaults = PolicyRule.kernelDefaults(.inet) + PolicyRule.kernelDefaults(.inet6)
    /// wg-quick's two rules: everything not marked 51820 to table 51820, main's answers but its default.
    static let wgQuick = [rule(32764, .lookup(.main)) { $0.suppressPrefixLength = 0 },
                          rule(32765, .lookup(.other(51820))) { ($0.mark, $0.markMask, $0.inverted) = (51820, .max, true) }]

    /// The kernel's own rules judge as no rules at all: a dead default of main is critical.
    @Test func theKernelsDefaultRulesJudgeAsBefore() throws {
        for rules in [nil, Self.defaults] {
            let found = try #require(finding([dead("0.0.0.0/0"), live("10.0.0.0/24")], rules: rules))
            #expect(found.severity == .critical, "\(found.evidence)")
        }
    }

    /// (A) A dead default in table 100, which no rule looks up, while main has a live one: a
    /// warning naming the table, never the outage it was called.
    @Test func aTableNoRuleLooksUpCapturesNothing() throws {
        let routes = [dead("0.0.0.0/0", table: .other(100)), live("0.0.0.0/0")]
        #expect(finding(routes, rules: nil)?.severity == .critical, "the control: without rules every table counts")
        let found = try #require(finding(routes, rules: Self.defaults))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("No IPv4 policy rule looks up table 100"), "\(found.evidence)")
        #expect(!found.evidence.contains("blackholed"), "\(found.evidence)")
    }

    /// (F) Only traffic marked 0x5 reaches table 100: a warning naming the mark and the rule.
    @Test func aTableOnlyMarkedTrafficReachesIsAWarningNamingTheMark() throws {
        let marked = Self.rule(100, .lookup(.other(100))) { ($0.mark, $0.markMask) = (5, .max) }
        let found = try #require(finding([dead("0.0.0.0/0", table: .other(100)), live("0.0.0.0/0")], rules: Self.defaults + [marked]))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("Only some IPv4 traffic reaches table 100: traffic marked 0x5 (rule 100: fwmark 0x5 lookup 100)"), "\(found.evidence)")
        #expect(!found.evidence.contains("capture all IPv4 traffic"), "\(found.evidence)")
    }

    /// Each selector ordinary traffic may not meet makes the rule's table one some traffic reaches.
    @Test(arguments: [
        { $0.inputInterface = "eth1" }, { $0.outputInterface = "vrf0" }, { $0.uidRange = 1000...1000 },
        { $0.ipProtocol = 6 }, { $0.destinationPorts = 443...443 }, { $0.sourcePorts = 1...1024 }, { $0.source = IPPrefix("10.0.0.0/8") },
        { $0.tos = 0x10 }, { $0.otherSelectors = true },
    ] as [@Sendable (inout PolicyRule) -> Void])
    func aSelectiveRuleReachesItsTableForSomeTrafficOnly(select: @Sendable (inout PolicyRule) -> Void) throws {
        let selective = Self.rule(100, .lookup(.other(100)), select)
        let found = try #require(finding([dead("0.0.0.0/0", table: .other(100)), live("0.0.0.0/0")], rules: Self.defaults + [selective]))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("Only some IPv4 traffic reaches table 100"), "\(found.evidence)")
    }

    /// wg-quick with its tunnel dead: ordinary traffic passes main (its default refused) and
    /// reaches table 51820 first: critical, as the kernel blackholes it.
    @Test func wgQuicksTableIsReachedWhenItsTunnelIsDead() throws {
        let found = try #require(finding([dead("0.0.0.0/0", table: .other(51820)), live("0.0.0.0/0")], rules: Self.defaults + Self.wgQuick))
        #expect(found.severity == .critical, "\(found.evidence)")
        #expect(found.evidence.contains("Together they capture all IPv4 traffic"), "\(found.evidence)")
    }

    /// A dead default of main behind wg-quick's live table 51820 takes only the traffic marked
    /// 51820 that rule 32765 passes by: a warning naming it.
    @Test func mainsDeadDefaultBehindALiveWgQuickTableIsAWarning() throws {
        let found = try #require(finding([dead("0.0.0.0/0"), live("0.0.0.0/0", table: .other(51820))], rules: Self.defaults + Self.wgQuick))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("traffic marked 0xca6c, which rule 32765 (not fwmark 0xca6c lookup 51820) passes by"), "\(found.evidence)")
    }

    /// A rule matching all traffic to a table with a live default bypasses main's dead default.
    @Test func aLiveTableAnEarlierRuleLooksUpBypassesMain() throws {
        let found = try #require(finding([dead("0.0.0.0/0"), live("0.0.0.0/0", table: .other(200))],
                                         rules: Self.defaults + [Self.rule(100, .lookup(.other(200)))]))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("No IPv4 traffic reaches the main table: rule 100 (from all lookup 200) sends all of it to table 200 first"), "\(found.evidence)")
        // Only part of the space answered there leaves main's dead default reached.
        let part = try #require(finding([dead("0.0.0.0/0"), live("0.0.0.0/1", table: .other(200))], rules: Self.defaults + [Self.rule(100, .lookup(.other(200)))]))
        #expect(part.severity == .critical, "\(part.evidence)")
        // suppress_prefixlength 0 refuses table 200's default: main's dead one is reached.
        let suppressed = Self.rule(100, .lookup(.other(200))) { $0.suppressPrefixLength = 0 }
        #expect(finding([dead("0.0.0.0/0"), live("0.0.0.0/0", table: .other(200))], rules: Self.defaults + [suppressed])?.severity == .critical)
    }

    /// A kill switch's `unreachable` rule ends every lookup before main: its dead default takes nothing.
    @Test(arguments: [PolicyRule.Action.unreachable, .blackhole, .prohibit])
    func aKillSwitchRuleEndsTheWalk(action: PolicyRule.Action) throws {
        let found = try #require(finding([dead("0.0.0.0/0")], rules: Self.defaults + [Self.rule(100, action)]))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("rule 100 (from all \(action)) ends the lookup of all of it first"), "\(found.evidence)")
        // One for marked traffic only ends nothing for the rest.
        let marked = Self.rule(100, action) { ($0.mark, $0.markMask) = (1, .max) }
        #expect(finding([dead("0.0.0.0/0")], rules: Self.defaults + [marked])?.severity == .critical)
    }

    /// A goto of all traffic jumps over the rule that looks up table 100; one of some traffic
    /// takes only that traffic past it.
    @Test func aGotoJumpsOverTheRulesBetween() throws {
        let routes = [dead("0.0.0.0/0", table: .other(100)), live("0.0.0.0/0")]
        let jump = Self.rule(100, .goto(200)), table = Self.rule(150, .lookup(.other(100))), target = Self.rule(200, .nop)
        let jumped = try #require(finding(routes, rules: Self.defaults + [jump, table, target]))
        #expect(jumped.severity == .warning, "\(jumped.evidence)")
        #expect(jumped.evidence.contains("No IPv4 traffic reaches table 100: rule 100 (from all goto 200) takes all of it past rule 150 (from all lookup 100)"), "\(jumped.evidence)")
        #expect(finding(routes, rules: Self.defaults + [table, target])?.severity == .critical, "the control: without the goto")
        let some = Self.rule(100, .goto(200)) { $0.inputInterface = "eth1" }
        #expect(finding(routes, rules: Self.defaults + [some, table, target])?.severity == .critical, "traffic from elsewhere still reaches it")
        var gone = jump
        gone.unresolved = true
        #expect(finding(routes, rules: Self.defaults + [gone, table])?.severity == .critical, "a goto without a target is passed by")
    }

    /// IPv6 alike: a dead `::/0` of table 100 no rule looks up is a warning.
    @Test func ipv6TablesAreWalkedToo() throws {
        let routes = [dead("::/0", table: .other(100)), live("::/0")]
        let found = try #require(finding(routes, rules: Self.defaults))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("No IPv6 policy rule looks up table 100 (`ip -6 rule`"), "\(found.evidence)")
        let ordinary = Self.rule(100, .lookup(.other(100)), family: .inet6)
        #expect(finding(routes, rules: Self.defaults + [ordinary])?.severity == .critical)
    }

    /// Rules that could not be read judge as today, and the finding says so.
    @Test func unreadableRulesAreSaid() throws {
        let found = try #require(finding([dead("0.0.0.0/0", table: .other(100)), live("0.0.0.0/0")], rules: nil, problem: "cannot read the policy rules: EPERM"))
        #expect(found.severity == .critical, "\(found.evidence)")
        #expect(found.evidence.contains("The policy rules could not be read (cannot read the policy rules: EPERM)"), "\(found.evidence)")
    }

    /// The walk stays cheap where it matters: 20,000 routes and 1,000 rules (each of a uid, a
    /// mark or a goto), walked in well under a second even in a debug build.
    @Test func theWalkIsCheapOnLargeTables() {
        var routes: [Route] = []
        for index in 0..<20_000 { routes.append(live("10.\(index / 256 % 256).\(index % 256).0/24", table: index % 2 == 0 ? .main : .other(100))) }
        routes.append(live("0.0.0.0/0"))
        var rules = Self.defaults
        for index in 0..<1_000 {
            rules.append(Self.rule(UInt32(100 + index), index % 3 == 2 ? .goto(UInt32(101 + index)) : .lookup(.other(100))) { rule in
                if index % 3 == 0 { rule.uidRange = UInt32(index)...UInt32(index) } else { (rule.mark, rule.markMask) = (UInt32(index), .max) }
            })
        }
        var snapshot = Build.snapshot([orphan, eth], routes: routes)
        snapshot.policyRules = rules
        let clock = ContinuousClock()
        var reach: [AddressFamily: Heuristics.PolicyReach]?
        let took = clock.measure { reach = Heuristics.policyReach(snapshot) }
        #expect(reach?[.inet]?.reach(of: .other(100), destination: IPPrefix("10.0.0.0/24")!) != .ordinary)
        #expect(took < .seconds(1), "\(took)")
        print("policy walk over \(routes.count) routes and \(rules.count) rules: \(took)")
    }

    /// The walk itself on the kernel's order: rules are sorted, each visited once per walk.
    @Test func theWalkFollowsThePriorityOrder() {
        let rules = Self.defaults.filter { $0.family == .inet }
        let reach = Heuristics.walkRules(rules) { table, _, _ in table == .main }
        #expect(Set(reach.ordinary.keys) == [.local, .main])
        #expect(reach.reach(of: .default, destination: IPPrefix("0.0.0.0/0")!) == .unreached(lookedUp: true, stop: "rule 32766 (from all lookup main) sends all of it to the main table first, whose routes answer every destination"))
    }

    /// Review iproute2 11, F1: a `not` of a selector ordinary traffic never carries (a tos, an
    /// `oif`) or of a narrow one matches all ordinary traffic, as `not fwmark` does; a `not` of
    /// TCP or UDP, of uids from 0, or of a source holding the unspecified address only some.
    @Test func aNotOfANarrowSelectorMatchesAllOrdinaryTraffic() {
        let everything = Heuristics.OrdinaryTraffic(region: IPPrefix("0.0.0.0/0")!)
        func match(_ family: AddressFamily = .inet, _ change: (inout PolicyRule) -> Void) -> Heuristics.RuleMatch? {
            let rule = Self.rule(100, .lookup(.other(100)), family: family) { $0.inverted = true; change(&$0) }
            let traffic = family == .inet ? everything : Heuristics.OrdinaryTraffic(region: IPPrefix("::/0")!)
            return Heuristics.ruleMatch(rule, traffic: traffic).first?.1
        }
        #expect(match { $0.tos = 0x10 } == .all)
        #expect(match { $0.outputInterface = "eth0" } == .all)
        #expect(match { $0.inputInterface = "eth0" } == .all)
        #expect(match { $0.ipProtocol = 250 } == .all)
        #expect(match { $0.source = IPPrefix("203.0.113.0/24") } == .all)
        #expect(match(.inet6) { $0.source = IPPrefix("2001:db8::/32") } == .all)
        #expect(match { $0.uidRange = 1000...1000 } == .all)
        #expect(match { $0.sourcePorts = 5000...5000 } == .all)
        #expect(match { ($0.destinationPorts, $0.destinationPortMask) = (4...4, 0xff) } == .all)
        // A mask of one bit takes half of all ports: its `not` takes only some traffic.
        #expect(match { ($0.destinationPorts, $0.destinationPortMask) = (0...0, 0x1) } == .some)
        #expect(match { ($0.ipProtocol, $0.uidRange) = (6, 0...999) } == .some)
        #expect(match { $0.ipProtocol = 6 } == .some)
        #expect(match { $0.ipProtocol = 17 } == .some)
        #expect(match { $0.uidRange = 0...999 } == .some)
        #expect(match { $0.source = IPPrefix("0.0.0.0/1") } == .some)
        #expect(match { $0.inputInterface = "lo" } == .some)
        #expect(match { $0.otherSelectors = true } == .some)
        // Without `not`, each still matches only some traffic.
        var plain = Self.rule(100, .lookup(.other(100))) { $0.tos = 0x10 }
        #expect(Heuristics.ruleMatch(plain, traffic: everything).first?.1 == .some)
        plain.tos = 0
        plain.ipProtocol = 250
        #expect(Heuristics.ruleMatch(plain, traffic: everything).first?.1 == .some)
    }
}
