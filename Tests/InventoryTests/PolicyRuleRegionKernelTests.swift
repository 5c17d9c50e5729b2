#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// Policy rules weighed by which traffic they match (review ip9, F1 and F2), each case held
/// against `ip route get` (the oracle) in a throwaway namespace: `iif lo` and a uid range of
/// every uid take all traffic this host sends; `not to 192.168.0.0/16` and two `/1` halves take
/// all internet traffic into the dead table; one half, a part of the uids and a source stay less.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct PolicyRuleRegionKernelTests {
    /// A namespace (`twpol-…`) with a live veth (`twpolva`) that main's defaults leave through, and
    /// a tun nobody holds (`dead`), up, with addresses, whose defaults are in table 300.
    func world(dead: String) throws -> TestNamespace {
        let ns = try TestNamespace(name: "twpol-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try ns.ip("link", "add", "twpolva", "type", "veth", "peer", "name", "twpolvb")
            for device in ["twpolva", "twpolvb"] { try ns.ip("link", "set", device, "up") }
            try ns.ip("addr", "add", "10.0.0.1/24", "dev", "twpolva")
            try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "twpolva", "nodad")
            try ns.ip("route", "add", "default", "via", "10.0.0.2", "dev", "twpolva")
            try ns.ip("-6", "route", "add", "default", "via", "2001:db8::2", "dev", "twpolva")
            try ns.ip("tuntap", "add", "dev", dead, "mode", "tun")
            try ns.ip("link", "set", dead, "up")
            try ns.ip("addr", "add", "10.8.0.2/24", "dev", dead)
            try ns.ip("-6", "addr", "add", "fd99::2/64", "dev", dead, "nodad")
            try ns.ip("route", "add", "default", "dev", dead, "table", "300")
            try ns.ip("-6", "route", "add", "default", "dev", dead, "table", "300")
        } catch {
            ns.remove()
            throw error
        }
        return ns
    }


    /// F1: `iif lo lookup 300`, both families: the host's own lookups all go into the dead tun,
    /// and the finding is critical, saying it is the traffic this host sends.
    @Test func iifLoTakesAllTrafficThisHostSends() throws {
        let ns = try world(dead: "twpoli0")
        defer { ns.remove() }
        #expect(try auditedDeadRouteFinding(ns, "twpoli0")?.severity == .warning, "the control: no rule looks table 300 up")
        try ns.ip("rule", "add", "pref", "100", "iif", "lo", "lookup", "300")
        try ns.ip("-6", "rule", "add", "pref", "100", "iif", "lo", "lookup", "300")
        for destination in ["1.1.1.1", "8.8.8.8", "2606:4700::1111"] { #expect(routeGetDevice(ns, destination) == "twpoli0", "\(destination)") }
        let found = try #require(try auditedDeadRouteFinding(ns, "twpoli0"))
        #expect(found.severity == .critical, "\(found.evidence)")
        #expect(found.evidence.contains("Together they capture all IPv4 and IPv6 traffic this host sends that would take the default route"), "\(found.evidence)")
    }

    /// F1: a uid range of every valid uid takes all traffic, critical; one of some uids only
    /// their traffic, as `ip route get … uid` shows, a warning.
    @Test func aUidRangeOfEveryUidTakesAll() throws {
        let ns = try world(dead: "twpolu0")
        defer { ns.remove() }
        try ns.ip("rule", "add", "pref", "100", "uidrange", "1000-2000", "lookup", "300")
        #expect(routeGetDevice(ns, "1.1.1.1") == "twpolva")
        #expect(routeGetDevice(ns, "1.1.1.1", "uid", "1500") == "twpolu0")
        let part = try #require(try auditedDeadRouteFinding(ns, "twpolu0"))
        #expect(part.severity == .warning, "\(part.evidence)")
        #expect(part.evidence.contains("Only some IPv4 traffic reaches table 300: traffic of uids 1000-2000"), "\(part.evidence)")
        try ns.ip("rule", "del", "pref", "100")
        try ns.ip("rule", "add", "pref", "100", "uidrange", "0-4294967294", "lookup", "300")
        #expect(routeGetDevice(ns, "1.1.1.1") == "twpolu0")
        #expect(routeGetDevice(ns, "1.1.1.1", "uid", "65534") == "twpolu0")
        let all = try #require(try auditedDeadRouteFinding(ns, "twpolu0"))
        #expect(all.severity == .critical, "\(all.evidence)")
        #expect(all.evidence.contains("Together they capture all IPv4 traffic that would take the default route"), "\(all.evidence)")
    }

    /// F2 (a): everything but the LAN into the dead table, the LAN itself on a live route of
    /// main: the kernel sends all internet traffic into the tun, critical.
    @Test func everythingButTheLanIsCritical() throws {
        let ns = try world(dead: "twpoll0")
        defer { ns.remove() }
        try ns.ip("route", "add", "192.168.0.0/16", "via", "10.0.0.2", "dev", "twpolva")
        try ns.ip("rule", "add", "pref", "100", "not", "to", "192.168.0.0/16", "lookup", "300")
        for destination in ["1.1.1.1", "8.8.8.8", "142.250.1.1", "200.1.1.1"] { #expect(routeGetDevice(ns, destination) == "twpoll0", "\(destination)") }
        #expect(routeGetDevice(ns, "192.168.1.1") == "twpolva")
        let found = try #require(try auditedDeadRouteFinding(ns, "twpoll0"))
        #expect(found.severity == .critical, "\(found.evidence)")
        #expect(found.evidence.contains("Together they capture all IPv4 traffic that would take the default route"), "\(found.evidence)")
        #expect(found.evidence.contains("for every destination but 192.168.0.0/16"), "\(found.evidence)")
    }

    /// F2 (b): `to 0.0.0.0/1` and `to 128.0.0.0/1` into the dead table, a split default made of
    /// rules: critical. One half alone sends half the space into the tun, judged as a dead
    /// `0.0.0.0/1` route of main is.
    @Test func twoHalvesAreASplitDefaultAndOneIsHalf() throws {
        let ns = try world(dead: "twpolh0")
        defer { ns.remove() }
        try ns.ip("rule", "add", "pref", "100", "to", "0.0.0.0/1", "lookup", "300")
        #expect(routeGetDevice(ns, "1.1.1.1") == "twpolh0")
        #expect(routeGetDevice(ns, "200.1.1.1") == "twpolva")
        let half = try #require(try auditedDeadRouteFinding(ns, "twpolh0"))
        #expect(half.severity == .warning, "as a dead 0.0.0.0/1 route alone: \(half.evidence)")
        #expect(half.evidence.contains("only for 0.0.0.0/1, 50% of the IPv4 traffic that would take the default route"), "\(half.evidence)")
        try ns.ip("rule", "add", "pref", "101", "to", "128.0.0.0/1", "lookup", "300")
        for destination in ["1.1.1.1", "8.8.8.8", "142.250.1.1", "200.1.1.1"] { #expect(routeGetDevice(ns, destination) == "twpolh0", "\(destination)") }
        let both = try #require(try auditedDeadRouteFinding(ns, "twpolh0"))
        #expect(both.severity == .critical, "\(both.evidence)")
        #expect(both.evidence.contains("a split default made of rules"), "\(both.evidence)")
    }

    /// A source selector stays some traffic: only packets from 10.0.0.0/8 go into the tun.
    @Test func aSourceStaysSomeTraffic() throws {
        let ns = try world(dead: "twpols0")
        defer { ns.remove() }
        try ns.ip("rule", "add", "pref", "100", "from", "10.0.0.0/8", "lookup", "300")
        #expect(routeGetDevice(ns, "1.1.1.1", "from", "10.0.0.1") == "twpols0")
        #expect(routeGetDevice(ns, "1.1.1.1", "from", "192.0.2.9") == nil || routeGetDevice(ns, "1.1.1.1", "from", "192.0.2.9") == "twpolva")
        let found = try #require(try auditedDeadRouteFinding(ns, "twpols0"))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("Only some IPv4 traffic reaches table 300: traffic from 10.0.0.0/8"), "\(found.evidence)")
    }
}
#endif
