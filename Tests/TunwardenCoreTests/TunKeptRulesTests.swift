import Foundation
import Testing
@testable import TunwardenCore

/// Tun and tap devices unheld by design: matched by index by nftables, provisioned for a user,
/// or holding a host address that wildcard listeners serve. Each is kept (not reapable), where
/// the code before these rules judged every one of them an orphan, reapable.
@Suite struct TunKeptRulesTests {
    static func assess(_ interfaces: [NetworkInterface], routes: [Route] = [], scan: HolderScan) -> Assessment {
        Heuristics.assess(Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(), interfaces: interfaces, routes: routes, holders: scan))
    }

    static func address(_ text: String, _ length: Int, peer: String? = nil, scope: String = "global") -> InterfaceAddress {
        InterfaceAddress(local: IPAddress(text)!, prefixLength: length, peer: peer.flatMap(IPAddress.init), scope: scope)
    }

    /// Old code: every tap here was `orphaned` and reapable, so the suspect expectations fail.
    @Test func nftablesMatchesByIndexKeepATapAndNameTheRule() {
        var scan = HolderScan(complete: true, attachments: [], processesScanned: 12)
        scan.nftablesIndexUses = [7: [NftablesIndexUse(place: "inet fw/input", key: "iif")],
                                  8: [NftablesIndexUse(place: "inet fw/input", key: "iif", set: "set ifs"), NftablesIndexUse(place: "inet fw/output", key: "oif")],
                                  9: [NftablesIndexUse(place: "inet fw", set: "set spare")]]
        let taps = (7...10).map { Build.tun($0, "tap\($0)", kind: .tap) }
        let a = Self.assess(taps, scan: scan)
        let verdicts = Dictionary(uniqueKeysWithValues: a.interfaces.map { ($0.interface.name, $0) })
        #expect(verdicts["tap7"]?.state == .suspect)
        #expect(verdicts["tap7"]?.reason == "an nftables rule in inet fw/input matches it by index (iif); deleting it leaves that rule matching nothing, "
            + "and a device made again gets a new index", "\(verdicts["tap7"]?.reason ?? "")")
        #expect(verdicts["tap8"]?.reason.hasPrefix("an nftables rule in inet fw/input matches it by index (iif, in set ifs), and 1 more rule or set; deleting it leaves them") == true,
                "\(verdicts["tap8"]?.reason ?? "")")
        #expect(verdicts["tap9"]?.reason.hasPrefix("nftables set spare of table inet fw holds its index (type iface_index); deleting it leaves that set matching nothing") == true,
                "\(verdicts["tap9"]?.reason ?? "")")
        #expect(verdicts["tap10"]?.state == .orphaned)
        #expect(Set(a.findings.filter(\.reapable).compactMap(\.ifname)) == ["tap10"])
        #expect(Heuristics.nftablesIndexReason([NftablesIndexUse(place: "inet fw/output", key: "oif")], now: true)?
            .hasPrefix("an nftables rule in inet fw/output now matches it by index (oif)") == true)
    }

    /// A tap an IPsec policy's selector names by index (`ip xfrm policy add … dev tap7`) is kept
    /// and the policy named. Old code: tap7 was `orphaned`, reapable (no such list existed).
    @Test func anXfrmPolicySelectingATapByIndexKeepsIt() {
        var scan = HolderScan(complete: true, attachments: [], processesScanned: 12)
        scan.xfrmPolicies = [7: ["dir fwd src 0.0.0.0/0 dst 10.0.0.0/8 action block"], 8: ["dir in src any dst any action allow", "dir out src any dst any action allow"]]
        let a = Self.assess((7...9).map { Build.tun($0, "tap\($0)", kind: .tap) }, scan: scan)
        let verdicts = Dictionary(uniqueKeysWithValues: a.interfaces.map { ($0.interface.name, $0) })
        #expect(verdicts["tap7"]?.state == .suspect)
        #expect(verdicts["tap7"]?.reason == "an IPsec (xfrm) policy selects it by index (dir fwd src 0.0.0.0/0 dst 10.0.0.0/8 action block); "
            + "deleting it leaves that policy selecting nothing, and a device made again gets a new index", "\(verdicts["tap7"]?.reason ?? "")")
        #expect(verdicts["tap8"]?.reason.hasPrefix("an IPsec (xfrm) policy selects it by index (dir in src any dst any action allow), and 1 more; deleting it leaves them") == true,
                "\(verdicts["tap8"]?.reason ?? "")")
        #expect(verdicts["tap9"]?.state == .orphaned)
        #expect(Set(a.findings.filter(\.reapable).compactMap(\.ifname)) == ["tap9"])
        #expect(a.findings.first { $0.ifname == "tap7" }?.id == FindingID.stackedTun)
        #expect(Heuristics.xfrmPolicyReason(["dir out src any dst any action block"], now: true)?.hasPrefix("an IPsec (xfrm) policy now selects it by index") == true)
    }

    /// A tap an MPTCP endpoint names by index (`ip mptcp endpoint add 10.9.0.1 dev tap7
    /// subflow`) is kept and the endpoint named. Old code: tap7 was `orphaned`, reapable (no such
    /// list existed).
    @Test func anMptcpEndpointNamingATapByIndexKeepsIt() {
        var scan = HolderScan(complete: true, attachments: [], processesScanned: 12)
        scan.mptcpEndpoints = [7: ["10.9.0.1 id 1 subflow"], 8: ["10.9.0.2 id 2 signal", "2001:db8::2 id 3 signal backup"]]
        let a = Self.assess((7...9).map { Build.tun($0, "tap\($0)", kind: .tap) }, scan: scan)
        let verdicts = Dictionary(uniqueKeysWithValues: a.interfaces.map { ($0.interface.name, $0) })
        #expect(verdicts["tap7"]?.state == .suspect)
        #expect(verdicts["tap7"]?.reason == "an MPTCP endpoint names it by index (10.9.0.1 id 1 subflow); "
            + "deleting it leaves that endpoint on an index no device has, and a device made again gets a new index", "\(verdicts["tap7"]?.reason ?? "")")
        #expect(verdicts["tap8"]?.reason.hasPrefix("an MPTCP endpoint names it by index (10.9.0.2 id 2 signal), and 1 more; deleting it leaves them") == true,
                "\(verdicts["tap8"]?.reason ?? "")")
        #expect(verdicts["tap9"]?.state == .orphaned)
        #expect(Set(a.findings.filter(\.reapable).compactMap(\.ifname)) == ["tap9"])
        #expect(a.findings.first { $0.ifname == "tap7" }?.id == FindingID.stackedTun)
        #expect(Heuristics.mptcpEndpointReason(["10.9.0.1 id 1 subflow"], now: true)?.hasPrefix("an MPTCP endpoint now names it by index") == true)
    }

    /// Old code: the owned and grouped taps were `orphaned-tun`, reapable.
    @Test func aTapWithAnOwnerOrGroupIsProvisionedAndNeverReapable() throws {
        var owned = Build.tun(7, "vmtap0", kind: .tap)
        owned.tun?.owner = 1000
        var grouped = Build.tun(8, "vmtap1", kind: .tap)
        grouped.tun?.group = 36
        let control = Build.tun(9, "vmtap2", kind: .tap)
        let a = Self.assess([owned, grouped, control], scan: HolderScan(complete: true, attachments: [], processesScanned: 12))
        let provisioned = a.findings.filter { $0.id == FindingID.provisionedTun }
        #expect(provisioned.map(\.ifname) == ["vmtap0", "vmtap1"])
        #expect(provisioned.allSatisfy { !$0.reapable && $0.severity == .info })
        let first = try #require(provisioned.first)
        #expect(first.evidence.contains("it is provisioned for uid 1000 (`ip tuntap add … user 1000`)") && first.evidence.contains("`ip tuntap del dev vmtap0 mode tap`"), "\(first.evidence)")
        #expect(provisioned.last?.evidence.contains("provisioned for gid 36 (`ip tuntap add … group 36`)") == true, "\(provisioned.last?.evidence ?? "")")
        #expect(a.interfaces.map(\.state) == [.suspect, .suspect, .orphaned])
        #expect(FindingRules.rule(FindingID.provisionedTun)?.reap == nil)
        #expect(Set(a.findings.filter(\.reapable).compactMap(\.ifname)) == ["vmtap2"])
    }

    /// Old code: svc0 was `orphaned`, reapable. The controls (a /24, a peer address, a host
    /// address with a route of its own, no listener of that family, a multicast group address)
    /// stay orphaned.
    @Test func aHostAddressWildcardListenersServeKeepsItsTap() {
        var scan = HolderScan(complete: true, attachments: [], processesScanned: 12)
        scan.wildcardListeners = [4: ["TCP port 8080 on 0.0.0.0", "UDP port 53 on 0.0.0.0"]]
        var svc = Build.tun(7, "svc0", kind: .tap)
        svc.addresses = [Self.address("10.53.0.53", 32)]
        var vpn = Build.tun(8, "vpn0")
        vpn.addresses = [Self.address("10.8.0.2", 24)]
        var p2p = Build.tun(9, "p2p0")
        p2p.addresses = [Self.address("10.9.0.2", 32, peer: "10.9.0.1")]
        var routed = Build.tun(10, "rt0")
        routed.addresses = [Self.address("10.10.0.2", 32)]
        var six = Build.tun(11, "six0", kind: .tap)
        six.addresses = [Self.address("2001:db8::53", 128)]
        var group = Build.tun(12, "mc0", kind: .tap)
        group.addresses = [Self.address("239.1.2.3", 32)]
        var local = Route(destination: IPPrefix("10.53.0.53/32")!, type: .local, table: .local, nextHops: [NextHop(interfaceIndex: 7)])
        local.routeProtocol = .kernel
        let routes = [local, Build.route("192.0.2.0/24", 10)]
        let a = Self.assess([svc, vpn, p2p, routed, six, group], routes: routes, scan: scan)
        let verdicts = Dictionary(uniqueKeysWithValues: a.interfaces.map { ($0.interface.name, $0) })
        #expect(verdicts["svc0"]?.state == .suspect)
        #expect(verdicts["svc0"]?.reason == "its address 10.53.0.53/32 is a local address that wildcard listeners answer on (TCP port 8080 on 0.0.0.0 and 1 more); "
            + "deleting it takes that address away", "\(verdicts["svc0"]?.reason ?? "")")
        for name in ["vpn0", "p2p0", "rt0", "six0", "mc0"] { #expect(verdicts[name]?.state == .orphaned, "\(name): \(verdicts[name]?.reason ?? "")") }
    }
}
