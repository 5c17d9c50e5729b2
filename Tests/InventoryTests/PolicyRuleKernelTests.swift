#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// Dead routes judged through the policy rules (review ip48, F3) against what the kernel does with
/// traffic (`ip route get`, the oracle), as root, each test in its own throwaway namespace: a
/// table no rule looks up, one only marked traffic reaches, wg-quick's rules with its tunnel dead
/// and live, main's dead default behind an earlier rule's live table, a kill-switch rule, a goto,
/// and the rules read back whole.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct PolicyRuleKernelTests {
    /// A namespace with a live veth (`pr9va`, 10.0.0.1/24 and 2001:db8::1/64) that main's
    /// defaults leave through, and a tun nobody holds (`dead`), up, with an address.
    func world(dead: String, mainDefaults: Bool = true) throws -> TestNamespace {
        let ns = try TestNamespace()
        try ns.ip("link", "add", "pr9va", "type", "veth", "peer", "name", "pr9vb")
        for device in ["pr9va", "pr9vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.0.0.1/24", "dev", "pr9va")
        try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "pr9va", "nodad")
        if mainDefaults {
            try ns.ip("route", "add", "default", "via", "10.0.0.2", "dev", "pr9va")
            try ns.ip("-6", "route", "add", "default", "via", "2001:db8::2", "dev", "pr9va")
        }
        try ns.ip("tuntap", "add", "dev", dead, "mode", "tun")
        try ns.ip("link", "set", dead, "up")
        try ns.ip("addr", "add", "10.8.0.2/24", "dev", dead)
        return ns
    }


    /// (A) Defaults into the dead tun in table 100, which no rule looks up, IPv4 and IPv6: the
    /// kernel sends everything through main's live defaults, and the finding is a warning
    /// naming the table; (F) a rule for traffic marked 0x5 makes it a warning naming the mark.
    @Test func aTableNoRuleOrOnlyAMarkReachesIsAWarning() throws {
        let ns = try world(dead: "pr9a0")
        defer { ns.remove() }
        try ns.ip("route", "add", "default", "dev", "pr9a0", "table", "100")
        try ns.ip("-6", "route", "add", "default", "dev", "pr9a0", "table", "100")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9va")
        #expect(routeGetDevice(ns, "2001:4860::1") == "pr9va")
        let unreached = try #require(try auditedDeadRouteFinding(ns, "pr9a0"))
        #expect(unreached.severity == .warning, "\(unreached.evidence)")
        #expect(unreached.evidence.contains("No IPv4 policy rule looks up table 100"), "\(unreached.evidence)")
        #expect(unreached.evidence.contains("No IPv6 policy rule looks up table 100"), "\(unreached.evidence)")
        #expect(!unreached.evidence.contains("capture all"), "\(unreached.evidence)")

        try ns.ip("rule", "add", "pref", "100", "fwmark", "0x5", "lookup", "100")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9va")
        #expect(routeGetDevice(ns, "1.1.1.1", "mark", "5") == "pr9a0")
        let marked = try #require(try auditedDeadRouteFinding(ns, "pr9a0"))
        #expect(marked.severity == .warning, "\(marked.evidence)")
        #expect(marked.evidence.contains("Only some IPv4 traffic reaches table 100: traffic marked 0x5 (rule 100: fwmark 0x5 lookup 100)"), "\(marked.evidence)")

        // A rule that takes all traffic there makes it the outage it is.
        try ns.ip("rule", "add", "pref", "200", "lookup", "100")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9a0")
        #expect(try auditedDeadRouteFinding(ns, "pr9a0")?.severity == .critical)
    }

    /// wg-quick's rules (`not fwmark 51820 lookup 51820`, `lookup main suppress_prefixlength 0`):
    /// with the tunnel dead everything unmarked goes into it, critical; with it live, a dead
    /// default of main takes only the marked traffic rule 32765 passes by, a warning saying so.
    @Test func wgQuicksRulesWithTheTunnelDeadAndLive() throws {
        let ns = try world(dead: "pr9w0", mainDefaults: false)
        defer { ns.remove() }
        try ns.ip("rule", "add", "pref", "32764", "table", "main", "suppress_prefixlength", "0")
        try ns.ip("rule", "add", "pref", "32765", "not", "fwmark", "51820", "table", "51820")
        try ns.ip("route", "add", "default", "via", "10.0.0.2", "dev", "pr9va")
        try ns.ip("route", "add", "default", "dev", "pr9w0", "table", "51820")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9w0")
        let dead = try #require(try auditedDeadRouteFinding(ns, "pr9w0"))
        #expect(dead.severity == .critical, "\(dead.evidence)")
        #expect(dead.evidence.contains("Together they capture all IPv4 traffic"), "\(dead.evidence)")

        // The live tunnel takes table 51820; main's default goes into a dead tap.
        try ns.hold("pr9w1")
        try ns.ip("link", "set", "pr9w1", "up")
        try ns.ip("route", "replace", "default", "dev", "pr9w1", "table", "51820")
        try ns.ip("tuntap", "add", "dev", "pr9w2", "mode", "tap")
        try ns.ip("link", "set", "pr9w2", "up")
        try ns.ip("route", "replace", "default", "dev", "pr9w2")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9w1")
        #expect(routeGetDevice(ns, "1.1.1.1", "mark", "51820") == "pr9w2")
        let behind = try #require(try auditedDeadRouteFinding(ns, "pr9w2"))
        #expect(behind.severity == .warning, "\(behind.evidence)")
        #expect(behind.evidence.contains("traffic marked 0xca6c, which rule 32765 (not fwmark 0xca6c lookup 51820) passes by"), "\(behind.evidence)")
    }

    /// A dead default of main behind a rule that sends all traffic to a table with a live
    /// default, and behind a kill-switch rule: the kernel never reaches main, so neither is critical.
    @Test func mainsDeadDefaultBehindAnEarlierRuleIsAWarning() throws {
        let ns = try world(dead: "pr9m0", mainDefaults: false)
        defer { ns.remove() }
        try ns.ip("route", "add", "default", "dev", "pr9m0")
        try ns.ip("route", "add", "default", "via", "10.0.0.2", "dev", "pr9va", "table", "200")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9m0")
        #expect(try auditedDeadRouteFinding(ns, "pr9m0")?.severity == .critical, "the control: nothing before main")
        try ns.ip("rule", "add", "pref", "100", "lookup", "200")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9va")
        let bypassed = try #require(try auditedDeadRouteFinding(ns, "pr9m0"))
        #expect(bypassed.severity == .warning, "\(bypassed.evidence)")
        #expect(bypassed.evidence.contains("No IPv4 traffic reaches the main table: rule 100 (from all lookup 200) sends all of it to table 200 first"), "\(bypassed.evidence)")

        try ns.ip("rule", "del", "pref", "100")
        try ns.ip("rule", "add", "pref", "100", "unreachable")
        #expect(routeGetDevice(ns, "1.1.1.1") == nil, "the kill switch refuses every lookup")
        let killed = try #require(try auditedDeadRouteFinding(ns, "pr9m0"))
        #expect(killed.severity == .warning, "\(killed.evidence)")
        #expect(killed.evidence.contains("rule 100 (from all unreachable) ends the lookup of all of it first"), "\(killed.evidence)")
    }

    /// A goto of all traffic jumps over the rule that looks up the dead table: a warning, as
    /// `ip route get` leaves through main; without the goto, critical.
    @Test func aGotoJumpsOverTheDeadTable() throws {
        let ns = try world(dead: "pr9g0")
        defer { ns.remove() }
        try ns.ip("route", "add", "default", "dev", "pr9g0", "table", "100")
        try ns.ip("rule", "add", "pref", "150", "lookup", "100")
        try ns.ip("rule", "add", "pref", "200", "nop")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9g0")
        #expect(try auditedDeadRouteFinding(ns, "pr9g0")?.severity == .critical)
        try ns.ip("rule", "add", "pref", "100", "goto", "200")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9va")
        let jumped = try #require(try auditedDeadRouteFinding(ns, "pr9g0"))
        #expect(jumped.severity == .warning, "\(jumped.evidence)")
        #expect(jumped.evidence.contains("No IPv4 traffic reaches table 100: rule 100 (from all goto 200) takes all of it past rule 150"), "\(jumped.evidence)")
    }

    /// `suppress_ifgroup` (Linux 50 F6): a rule that refuses answers through devices of group 0
    /// refuses the dead tun's default in its table, and `ip route get` leaves through main: a
    /// warning saying which rule refuses it. With the tun in another group the rule takes its
    /// answer: critical. A live answer through a device of another group ends the walk before a
    /// dead default of main.
    @Test func suppressIfgroupRefusesAnswersThroughItsGroup() throws {
        let ns = try world(dead: "pr9i0")
        defer { ns.remove() }
        try ns.ip("route", "add", "default", "dev", "pr9i0", "table", "100")
        try ns.ip("rule", "add", "pref", "100", "lookup", "100", "suppress_ifgroup", "0")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9va")
        let refused = try #require(try auditedDeadRouteFinding(ns, "pr9i0"))
        #expect(refused.severity == .warning, "\(refused.evidence)")
        #expect(refused.evidence.contains("refuses every answer through a device of link group 0"), "\(refused.evidence)")

        try ns.ip("link", "set", "pr9i0", "group", "7")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9i0")
        #expect(try auditedDeadRouteFinding(ns, "pr9i0")?.severity == .critical)

        // Table 100 answers through the live veth (group 0) to a rule refusing group 7 only;
        // main's default goes into the dead tun, which no traffic reaches then.
        try ns.ip("rule", "del", "pref", "100")
        try ns.ip("route", "replace", "default", "via", "10.0.0.2", "dev", "pr9va", "table", "100")
        try ns.ip("route", "replace", "default", "dev", "pr9i0")
        try ns.ip("rule", "add", "pref", "100", "lookup", "100", "suppress_ifgroup", "7")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pr9va")
        let bypassed = try #require(try auditedDeadRouteFinding(ns, "pr9i0"))
        #expect(bypassed.severity == .warning, "\(bypassed.evidence)")
    }

    /// Every selector of a rule is read back as `ip rule add` set it, IPv4 and IPv6.
    @Test func everySelectorIsRead() throws {
        let ns = try world(dead: "pr9s0")
        defer { ns.remove() }
        try ns.ip("rule", "add", "pref", "300", "not", "from", "10.1.0.0/16", "to", "192.0.2.0/24", "tos", "0x10", "fwmark", "0x5/0xff",
                  "iif", "pr9va", "oif", "pr9vb", "uidrange", "100-200", "ipproto", "tcp", "sport", "1000-2000", "dport", "443", "lookup", "100")
        try ns.ip("rule", "add", "pref", "301", "lookup", "101", "suppress_prefixlength", "8", "suppress_ifgroup", "3")
        try ns.ip("-6", "rule", "add", "pref", "302", "from", "2001:db8::/32", "goto", "303")
        try ns.ip("-6", "rule", "add", "pref", "303", "prohibit")
        let rules = try #require(try LinuxInventory(namespaceName: ns.name).snapshot().policyRules)
        let all = try #require(rules.first { $0.priority == 300 })
        #expect(all.inverted && all.source == IPPrefix("10.1.0.0/16") && all.destination == IPPrefix("192.0.2.0/24") && all.tos == 0x10)
        #expect(all.mark == 5 && all.markMask == 0xff && all.inputInterface == "pr9va" && all.outputInterface == "pr9vb")
        #expect(all.uidRange == 100...200 && all.ipProtocol == 6 && all.sourcePorts == 1000...2000 && all.destinationPorts == 443...443)
        #expect(all.action == .lookup(.other(100)) && all.family == .inet)
        let suppress = try #require(rules.first { $0.priority == 301 })
        #expect(suppress.suppressPrefixLength == 8 && suppress.suppressInterfaceGroup == 3 && !suppress.hasSelectors)
        let jump = try #require(rules.first { $0.priority == 302 })
        #expect(jump.family == .inet6 && jump.action == .goto(303) && jump.source == IPPrefix("2001:db8::/32") && !jump.unresolved)
        #expect(rules.first { $0.priority == 303 }?.action == .prohibit)
        let defaults = rules.filter { [0, 32766, 32767].contains($0.priority) }
        #expect(defaults == PolicyRule.kernelDefaults(.inet) + PolicyRule.kernelDefaults(.inet6), "\(defaults)")
        #expect(rules.first { $0.priority == 0 }?.suppressPrefixLength == nil)
    }

    /// A rule's text is `ip rule`'s, word for word (review ip10, F3): the IP protocol by the name
    /// `ip` gives it (`ipproto tcp`, `ipproto-253` without one), the mark and mask as `%#x`
    /// writes them (`fwmark 0/0xffff`), a mark under a mask of 0 shown too; only `from all`
    /// beside other selectors is left out, as before.
    @Test func aRulesTextIsIpRules() throws {
        let ns = try world(dead: "pr9w0")
        defer { ns.remove() }
        let selectors = [["ipproto", "tcp"], ["ipproto", "253"], ["ipproto", "udp", "fwmark", "0x5/0xff"], ["fwmark", "0/0xffff"], ["fwmark", "0x5"],
                         ["fwmark", "0x10/0"], ["not", "fwmark", "0xca6c"], ["ipproto", "ipv6-icmp"]]
        for (offset, words) in selectors.enumerated() { _ = try Shell.run(["ip", "-n", ns.name, "rule", "add", "pref", "\(400 + offset)"] + words + ["lookup", "100"]) }
        let rules = try #require(try LinuxInventory(namespaceName: ns.name).snapshot().policyRules)
        for offset in selectors.indices {
            let shown = try ns.ip("rule", "show", "pref", "\(400 + offset)").split(whereSeparator: \.isWhitespace).dropFirst().joined(separator: " ")
                // (The text leaves out `from all` beside other selectors.)
                .replacingOccurrences(of: "from all ", with: "")
            let rule = try #require(rules.first { $0.priority == 400 + offset && $0.family == .inet })
            #expect(rule.words == shown, "ip rule: \(shown)")
        }
    }
}
#endif
