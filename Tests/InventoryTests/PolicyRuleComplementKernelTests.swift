#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// `not` rules weighed by what they leave out (review iproute2 11, F1), and single-port rules read
/// whole (F3), each held against `ip route get` (the oracle) in a throwaway namespace: a `not` of
/// a selector ordinary traffic never carries (a tos, an `oif`) or of a narrow one (another input
/// device, a rare protocol, a source, a few uids, a port) sends all of it into the dead table, as
/// `not fwmark` does; a `not` of TCP or of uids from 0 leaves much of it out.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct PolicyRuleComplementKernelTests {
    /// A namespace with a live veth (`pc11va`) that main's defaults leave through, and a tun nobody
    /// holds (`pc11d0`), up, with addresses, whose defaults are in table 100.
    func world() throws -> TestNamespace {
        let ns = try TestNamespace(name: "twpc11-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try ns.ip("link", "add", "pc11va", "type", "veth", "peer", "name", "pc11vb")
            for device in ["pc11va", "pc11vb"] { try ns.ip("link", "set", device, "up") }
            try ns.ip("addr", "add", "10.0.0.1/24", "dev", "pc11va")
            try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "pc11va", "nodad")
            try ns.ip("route", "add", "default", "via", "10.0.0.2", "dev", "pc11va")
            try ns.ip("-6", "route", "add", "default", "via", "2001:db8::2", "dev", "pc11va")
            try ns.ip("tuntap", "add", "dev", "pc11d0", "mode", "tun")
            try ns.ip("link", "set", "pc11d0", "up")
            try ns.ip("addr", "add", "10.8.0.2/24", "dev", "pc11d0")
            try ns.ip("-6", "addr", "add", "fd99::2/64", "dev", "pc11d0", "nodad")
            try ns.ip("route", "add", "default", "dev", "pc11d0", "table", "100")
            try ns.ip("-6", "route", "add", "default", "dev", "pc11d0", "table", "100")
        } catch {
            ns.remove()
            throw error
        }
        return ns
    }

    /// Each rule, in IPv4 and IPv6, alone at priority 100: the kernel sends the host's traffic
    /// into the dead tun, and the finding is critical, naming what the rule leaves out.
    @Test(arguments: [
        (["tos", "0x10"], "traffic of tos 0x10"),
        (["oif", "pc11va"], "traffic sent out through pc11va (oif)"),
        (["iif", "pc11va"], "traffic coming in on pc11va"),
        (["ipproto", "250"], "traffic of IP protocol 250"),
        (["uidrange", "1000-1000"], "traffic of uids 1000-1000"),
        (["sport", "5000"], "traffic from port 5000"),
        (["dport", "443"], "traffic to port 443"),
    ])
    func aNotOfWhatOrdinaryTrafficLacksTakesAllOfIt(selector: [String], leftOut: String) throws {
        let ns = try world()
        defer { ns.remove() }
        try Shell.run(["ip", "-n", ns.name, "rule", "add", "pref", "100", "not"] + selector + ["lookup", "100"])
        try Shell.run(["ip", "-n", ns.name, "-6", "rule", "add", "pref", "100", "not"] + selector + ["lookup", "100"])
        #expect(routeGetDevice(ns, "1.1.1.1") == "pc11d0")
        #expect(routeGetDevice(ns, "2606:4700::1") == "pc11d0")
        let found = try #require(try auditedDeadRouteFinding(ns, "pc11d0"))
        #expect(found.severity == .critical, "\(found.evidence)")
        #expect(found.evidence.contains("Together they capture all IPv4 and IPv6 traffic"), "\(found.evidence)")
        #expect(found.evidence.contains("brings ordinary IPv4 traffic to table 100 for every destination, all of it but \(leftOut)."), "\(found.evidence)")
        #expect(!found.evidence.contains("Only some IPv4 traffic reaches table 100"), "\(found.evidence)")
    }

    /// A source the host's own lookups do not carry (they carry none until one is chosen): `not
    /// from 203.0.113.0/24` takes them all, IPv4 and IPv6 alike.
    @Test func aNotOfASourceTakesAllOfIt() throws {
        let ns = try world()
        defer { ns.remove() }
        try ns.ip("rule", "add", "pref", "100", "not", "from", "203.0.113.0/24", "lookup", "100")
        try ns.ip("-6", "rule", "add", "pref", "100", "not", "from", "2001:db8:99::/48", "lookup", "100")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pc11d0")
        #expect(routeGetDevice(ns, "2606:4700::1") == "pc11d0")
        let found = try #require(try auditedDeadRouteFinding(ns, "pc11d0"))
        #expect(found.severity == .critical, "\(found.evidence)")
        #expect(found.evidence.contains("all of it but traffic from 203.0.113.0/24."), "\(found.evidence)")
    }

    /// A `not` of a selector that may match most traffic (TCP; the uids from 0, root's and every
    /// forwarded packet's) leaves that part out: the dead table takes only some traffic, a
    /// warning, and the kernel indeed sends TCP, or root's traffic, through main.
    @Test func aNotOfABroadSelectorTakesOnlySomeTraffic() throws {
        let ns = try world()
        defer { ns.remove() }
        try ns.ip("rule", "add", "pref", "100", "not", "ipproto", "tcp", "lookup", "100")
        #expect(routeGetDevice(ns, "1.1.1.1", "ipproto", "tcp") == "pc11va")
        #expect(routeGetDevice(ns, "1.1.1.1", "ipproto", "udp") == "pc11d0")
        let tcp = try #require(try auditedDeadRouteFinding(ns, "pc11d0"))
        #expect(tcp.severity == .warning, "\(tcp.evidence)")
        #expect(tcp.evidence.contains("Only some IPv4 traffic reaches table 100: all traffic but that of IP protocol tcp (6)"), "\(tcp.evidence)")

        try ns.ip("rule", "del", "pref", "100")
        try ns.ip("rule", "add", "pref", "100", "not", "uidrange", "0-999", "lookup", "100")
        #expect(routeGetDevice(ns, "1.1.1.1") == "pc11va")
        #expect(routeGetDevice(ns, "1.1.1.1", "uid", "1000") == "pc11d0")
        let users = try #require(try auditedDeadRouteFinding(ns, "pc11d0"))
        #expect(users.severity == .warning, "\(users.evidence)")
        #expect(users.evidence.contains("Only some IPv4 traffic reaches table 100: all traffic but that of uids 0-999"), "\(users.evidence)")
    }

    /// F3: a single-port rule reads as that port alone, though kernels from 6.16 send a port mask
    /// of 0xffff with it; a port under a partial mask reads as `ip rule` writes it.
    @Test func aSinglePortRuleIsThatPortAlone() throws {
        let ns = try world()
        defer { ns.remove() }
        try ns.ip("rule", "add", "pref", "100", "dport", "443", "lookup", "100")
        try ns.ip("rule", "add", "pref", "101", "sport", "5000", "lookup", "100")
        let found = try #require(try auditedDeadRouteFinding(ns, "pc11d0"))
        #expect(found.severity == .warning, "\(found.evidence)")
        #expect(found.evidence.contains("traffic to port 443 (rule 100: dport 443 lookup 100)"), "\(found.evidence)")
        #expect(found.evidence.contains("traffic from port 5000 (rule 101: sport 5000 lookup 100)"), "\(found.evidence)")
        #expect(!found.evidence.contains("its other selectors match"), "\(found.evidence)")

        // A partial mask (`dport 0x4/0xff`), made over netlink, as iproute2 6.1 has no words for it.
        try Shell.run(["ip", "netns", "exec", ns.name, "python3", "-c", Self.maskedPortRule])
        let masked = try #require(try auditedDeadRouteFinding(ns, "pc11d0"))
        #expect(masked.evidence.contains("traffic to ports 0x4/0xff (rule 102: dport 0x4/0xff lookup 100)"), "\(masked.evidence)")
        #expect(!masked.evidence.contains("its other selectors match"), "\(masked.evidence)")
    }

    /// Adds rule 102, `dport 0x4/0xff lookup 100` (FRA_DPORT_RANGE 4-4 and FRA_DPORT_MASK 0xff),
    /// and fails unless the kernel acknowledges it.
    static let maskedPortRule = """
        import socket, struct
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        def attr(kind, data):
            data = bytes(data)
            return struct.pack("=HH", 4 + len(data), kind) + data + bytes((4 - len(data) % 4) % 4)
        body = struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 100, 0, 0, 1, 0)
        body += attr(6, struct.pack("=I", 102)) + attr(24, struct.pack("=HH", 4, 4)) + attr(29, struct.pack("=H", 0xff))
        s.send(struct.pack("=IHHII", 16 + len(body), 32, 0x1 | 0x4 | 0x200 | 0x400, 1, 0) + body)
        reply = s.recv(4096)
        error = struct.unpack_from("=i", reply, 16)[0]
        assert error == 0, "kernel refused the rule: errno %d" % -error
        """
}
#endif
