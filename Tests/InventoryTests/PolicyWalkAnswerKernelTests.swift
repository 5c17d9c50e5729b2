#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// What a table's answer does to the walk through the policy rules, held against `ip route get`
/// as root in throwaway namespaces (review iproute2 13): a kill route's error is never refused by
/// a rule's suppress_prefixlength (F3); a `throw` that stands first sends the walk on (F5); an
/// unrelated `to` rule does not hide a capture (F4, F7); `realms` is no selector (F1); and
/// `not tun_id N` takes all ordinary traffic (F2).
@Suite(.serialized, .enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct PolicyWalkAnswerKernelTests {
    /// A namespace with a live veth (`i13va`, 10.0.0.1/24, 2001:db8::1/64), with the default
    /// routes of both families through it when `defaults`, and a tun nobody holds, up, without
    /// carrier (`i13tn`).
    func world(defaults: Bool) throws -> TestNamespace {
        let ns = try TestNamespace()
        try ns.ip("link", "add", "i13va", "type", "veth", "peer", "name", "i13vb")
        for device in ["i13va", "i13vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.0.0.1/24", "dev", "i13va")
        try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "i13va", "nodad")
        if defaults {
            try ns.ip("route", "add", "default", "via", "10.0.0.2")
            try ns.ip("-6", "route", "add", "::/0", "via", "2001:db8::2", "dev", "i13va")
        }
        try ns.ip("tuntap", "add", "dev", "i13tn", "mode", "tun")
        try ns.ip("link", "set", "i13tn", "up")
        return ns
    }

    static let internet4 = ["1.1.1.1", "8.8.8.8", "100.64.9.9", "142.250.1.1", "200.1.1.1"]
    static let internet6 = ["2001:4860::8888", "2606:4700::1111", "3fff::1"]

    /// A kill switch in main (`unreachable`, `blackhole` or `prohibit default`) ahead of the dead
    /// tun's table through wg-quick's `lookup main suppress_prefixlength 0` (F3): the kernel
    /// offers no error answer to the suppression, so every lookup ends at the kill switch and
    /// nothing goes into the tun. The finding is a warning that names the kill switch and says
    /// no traffic reaches the tun's table, never that the tun makes an outage.
    @Test(arguments: ["unreachable", "blackhole", "prohibit"])
    func aKillSwitchIsNeverSuppressed(type: String) throws {
        let ns = try world(defaults: false)
        defer { ns.remove() }
        for family in ["-4", "-6"] {
            try ns.ip(family, "route", "add", type, "default", "metric", "2000")
            try ns.ip(family, "route", "add", "default", "dev", "i13tn", "table", "100")
            try ns.ip(family, "rule", "add", "pref", "100", "lookup", "main", "suppress_prefixlength", "0")
            try ns.ip(family, "rule", "add", "pref", "110", "lookup", "100")
        }
        for address in Self.internet4 + Self.internet6 { #expect(routeGetDevice(ns, address) == nil, "\(address)") }
        let finding = try #require(try auditedDeadRouteFinding(ns, "i13tn"))
        #expect(finding.severity == .warning, "\(finding.evidence)")
        #expect(!finding.evidence.contains("capture all") && !finding.evidence.contains("turns a leaked tunnel into an outage"), "\(finding.evidence)")
        for (family, kill) in [("IPv4", "default"), ("IPv6", "default (::/0)")] {
            #expect(finding.evidence.contains("No \(family) traffic reaches table 100: rule 100 (from all lookup main suppress_prefixlength 0) sends all of it to the main table first, "
                + "whose routes answer every destination (the \(type) \(kill) metric 2000 among them, a kill switch"), "\(finding.evidence)")
        }
    }

    /// A `throw default` of a lower metric than a live default in the table a rule looks up
    /// first (F5): the kernel takes the throw and goes on to main, whose dead default takes
    /// everything, in both families. With the live default first, it answers and main is never
    /// asked.
    @Test func aThrowThatStandsFirstSendsTheWalkOn() throws {
        let ns = try world(defaults: false)
        defer { ns.remove() }
        try ns.ip("route", "add", "default", "dev", "i13tn")
        try ns.ip("-6", "route", "add", "default", "dev", "i13tn")
        try ns.ip("route", "add", "throw", "default", "table", "100")
        try ns.ip("-6", "route", "add", "throw", "default", "table", "100", "metric", "1")
        try ns.ip("route", "add", "default", "via", "10.0.0.2", "metric", "100", "table", "100")
        try ns.ip("-6", "route", "add", "default", "via", "2001:db8::2", "dev", "i13va", "metric", "100", "table", "100")
        for family in ["-4", "-6"] { try ns.ip(family, "rule", "add", "pref", "100", "lookup", "100") }
        for address in Self.internet4 + Self.internet6 { #expect(routeGetDevice(ns, address) == "i13tn", "\(address)") }
        let finding = try #require(try auditedDeadRouteFinding(ns, "i13tn"))
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.evidence.contains("capture all IPv4 and IPv6 traffic that would take the default route"), "\(finding.evidence)")

        // (The live defaults now stand first: table 100 answers everything.)
        try ns.ip("route", "del", "throw", "default", "table", "100")
        try ns.ip("route", "add", "throw", "default", "metric", "200", "table", "100")
        try ns.ip("-6", "route", "del", "throw", "default", "table", "100", "metric", "1")
        try ns.ip("-6", "route", "add", "throw", "default", "table", "100", "metric", "200")
        for address in Self.internet4 + Self.internet6 { #expect(routeGetDevice(ns, address) == "i13va", "\(address)") }
        let answered = try #require(try auditedDeadRouteFinding(ns, "i13tn"))
        #expect(answered.severity == .warning, "\(answered.evidence)")
    }

    /// A dead default and a dead `128.0.0.0/1` in main under wg-quick's `lookup main
    /// suppress_prefixlength 0` send all traffic into the tun; an unrelated LAN rule into an
    /// empty table ahead of it changes no answer of the kernel's, nor the verdict (F4), and rule
    /// 32766 alone is no "split default made of rules" (F7).
    @Test func anUnrelatedToRuleDoesNotHideACapture() throws {
        let ns = try world(defaults: false)
        defer { ns.remove() }
        try ns.ip("route", "add", "default", "dev", "i13tn")
        try ns.ip("route", "add", "128.0.0.0/1", "dev", "i13tn")
        try ns.ip("rule", "add", "pref", "110", "to", "172.16.0.0/12", "lookup", "100")
        try ns.ip("rule", "add", "pref", "120", "lookup", "main", "suppress_prefixlength", "0")
        for address in Self.internet4 { #expect(routeGetDevice(ns, address) == "i13tn", "\(address)") }
        let finding = try #require(try auditedDeadRouteFinding(ns, "i13tn"))
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.evidence.contains("Together they capture all IPv4 traffic that would take the default route"), "\(finding.evidence)")
        #expect(!finding.evidence.contains("split default made of rules"), "\(finding.evidence)")
    }

    /// `realms 1/2` on a rule classifies what it matches and narrows nothing (F1): the kernel
    /// sends all traffic into the dead tun through it, and the finding is critical, showing the
    /// realms in the rule's words.
    @Test func realmsAreNoSelector() throws {
        let ns = try world(defaults: true)
        defer { ns.remove() }
        try ns.ip("route", "add", "default", "dev", "i13tn", "table", "100")
        try ns.ip("rule", "add", "pref", "100", "realms", "1/2", "lookup", "100")
        for address in Self.internet4 { #expect(routeGetDevice(ns, address) == "i13tn", "\(address)") }
        let rules = try LinuxInventory(namespaceName: ns.name).snapshot().policyRules ?? []
        #expect(rules.contains { $0.priority == 100 && $0.words == "from all lookup 100 realms 1/2" }, "\(rules.map(\.words))")
        let finding = try #require(try auditedDeadRouteFinding(ns, "i13tn"))
        #expect(finding.severity == .critical, "\(finding.evidence)")
    }

    /// `not tun_id 5`: ordinary traffic carries no tunnel id, so the rule takes all of it (F2), in
    /// both families, and the finding is critical, with `tun_id 5` in the rule's words.
    @Test func notTunIDTakesAllOrdinaryTraffic() throws {
        let ns = try world(defaults: true)
        defer { ns.remove() }
        for family in ["-4", "-6"] {
            try ns.ip(family, "route", "add", "default", "dev", "i13tn", "table", "100")
            try ns.ip(family, "rule", "add", "pref", "100", "not", "tun_id", "5", "lookup", "100")
        }
        for address in Self.internet4 + Self.internet6 { #expect(routeGetDevice(ns, address) == "i13tn", "\(address)") }
        let finding = try #require(try auditedDeadRouteFinding(ns, "i13tn"))
        #expect(finding.severity == .critical, "\(finding.evidence)")
        #expect(finding.evidence.contains("not tun_id 5 lookup 100"), "\(finding.evidence)")
    }
}
#endif
