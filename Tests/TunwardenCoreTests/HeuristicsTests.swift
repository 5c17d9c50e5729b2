import Foundation
import Testing
import TunwardenCore

/// Builders for constructed snapshots.
enum Build {
    static func tun(_ index: Int, _ name: String, kind: InterfaceKind = .tun, persistent: Bool? = true, carrier: Bool = false,
                    multiQueue: Bool = false, queues: UInt32? = nil, disabled: UInt32? = nil) -> NetworkInterface {
        NetworkInterface(index: index, name: name, kind: kind, infoKind: "tun", flags: ["POINTOPOINT", "UP"], carrier: carrier,
                         tun: TunDetails(persistent: persistent, multiQueue: multiQueue, numQueues: queues, numDisabledQueues: disabled))
    }

    /// One of five tun/tap devices, by `variant` (0...4): an orphan, one held here, one with carrier
    /// and no holder, one held only from another namespace, a multi-queue tap with 0 or 1 queues.
    static func tunOfState(_ variant: Int, _ index: Int, _ name: String, holders: inout [HolderAttachment]) -> NetworkInterface {
        switch variant {
        case 1:
            holders.append(holder(Int32(index), name))
            return tun(index, name, carrier: true)
        case 2: return tun(index, name, carrier: true)
        case 3:
            holders.append(holder(Int32(index), name, here: false, netns: "net:[9]"))
            return tun(index, name)
        case 4: return tun(index, name, kind: .tap, multiQueue: true, queues: UInt32(index % 2), disabled: 0)
        default: return tun(index, name)
        }
    }

    static func holder(_ pid: Int32, _ ifname: String, here: Bool = true, netns: String? = "net:[1]") -> HolderAttachment {
        HolderAttachment(holder: Holder(pid: pid, comm: "openvpn", uid: 0, fd: 5, netns: netns), ifname: ifname, inInspectedNamespace: here)
    }

    static func route(_ prefix: String, _ index: Int, table: RouteTable = .main, metric: UInt32? = nil, type: RouteType = .unicast) -> Route {
        Route(destination: IPPrefix(prefix)!, type: type, table: table, metric: metric, nextHops: [NextHop(interfaceIndex: index)])
    }

    static func snapshot(_ interfaces: [NetworkInterface], routes: [Route] = [], holders: [HolderAttachment] = [], complete: Bool = true,
                         peers: [Int32: PeerNamespace] = [:]) -> Snapshot {
        Snapshot(platform: .linux, interfaces: interfaces, routes: routes,
                 holders: HolderScan(complete: complete, incompleteReason: complete ? nil : "permission denied", attachments: holders, processesScanned: 12),
                 peerNamespaces: peers)
    }
}

@Suite struct TunJudgementTests {
    @Test func persistentUnheldTunIsOrphanedAndReapable() {
        let a = Heuristics.assess(Build.snapshot([Build.tun(7, "kure_tun")]))
        #expect(a.interfaces.map(\.state) == [.orphaned])
        let finding = a.findings.first { $0.id == "orphaned-tun" }
        #expect(finding?.reapable == true)
        #expect(finding?.severity == .warning)
        #expect(finding?.ifname == "kure_tun")
        #expect(finding?.evidence.contains("persistent") == true)
        #expect(a.status == .warning)
    }

    @Test func anOrphanSharingAMultipathRouteWithAnotherDeviceIsSuspect() {
        var shared = Build.route("10.70.0.0/16", 7)
        shared.nextHops = [NextHop(gateway: IPAddress("10.9.0.2"), interfaceIndex: 7), NextHop(gateway: IPAddress("10.7.0.2"), interfaceIndex: 2, interfaceName: "eth0")]
        var own = Build.route("10.71.0.0/16", 8)
        own.nextHops = [NextHop(gateway: IPAddress("10.8.0.2"), interfaceIndex: 8), NextHop(gateway: IPAddress("10.8.0.3"), interfaceIndex: 8)]
        // An IPv6 multipath route only loses the hop through a device that goes.
        var shared6 = Build.route("fd70::/64", 9)
        shared6.nextHops = [NextHop(gateway: IPAddress("fe80::1"), interfaceIndex: 9), NextHop(gateway: IPAddress("fe80::2"), interfaceIndex: 2, interfaceName: "eth0")]
        let ethernet = NetworkInterface(index: 2, name: "eth0", kind: .other, infoKind: nil, flags: ["UP"], mtu: 1500)
        let a = Heuristics.assess(Build.snapshot([ethernet, Build.tun(7, "tap7", kind: .tap), Build.tun(8, "tap8", kind: .tap), Build.tun(9, "tap9", kind: .tap)],
                                                 routes: [shared, own, shared6]))
        #expect(a.interfaces.first { $0.interface.name == "tap9" }?.state == .orphaned)
        let tap7 = a.interfaces.first { $0.interface.name == "tap7" }
        #expect(tap7?.state == .suspect)
        #expect(tap7?.reason.contains("its route 10.70.0.0/16 also leaves through eth0") == true, "\(tap7?.reason ?? "")")
        #expect(!a.findings.contains { $0.ifname == "tap7" && $0.reapable })
        #expect(a.interfaces.first { $0.interface.name == "tap8" }?.state == .orphaned)
    }

    /// Deleting a device deletes its addresses, and the kernel then deletes the main table's IPv4
    /// routes that take one of them as source, of any device or none: such a tap is suspect. So is
    /// one whose address a route of another table takes as source: that route stays, unusable.
    /// So is one whose IPv6 address a route of any table takes as source: the kernel keeps that
    /// route, which goes on sending from an address no device has. Its own routes do not count.
    @Test func anOrphanWhoseAddressOtherRoutesTakeAsSourceIsSuspect() {
        func sourced(_ prefix: String, _ index: Int?, _ source: String, table: RouteTable = .main, type: RouteType = .unicast) -> Route {
            var route = Build.route(prefix, index ?? 0, table: table, type: type)
            route.nextHops = index.map { [NextHop(interfaceIndex: $0, interfaceName: $0 == 2 ? "eth0" : "tap\($0)")] } ?? []
            route.preferredSource = IPAddress(source)
            return route
        }
        var ethernet = NetworkInterface(index: 2, name: "eth0", kind: .other, infoKind: nil, flags: ["UP"], mtu: 1500)
        // An address another device has too stays when the tap goes, and so do its routes.
        ethernet.addresses = [InterfaceAddress(local: IPAddress("10.10.0.1")!, prefixLength: 32, scope: "global")]
        var taps = [Build.tun(7, "tap7", kind: .tap), Build.tun(8, "tap8", kind: .tap), Build.tun(9, "tap9", kind: .tap),
                    Build.tun(10, "tap10", kind: .tap), Build.tun(11, "tap11", kind: .tap), Build.tun(12, "tap12", kind: .tap),
                    Build.tun(13, "tap13", kind: .tap)]
        taps[5].addresses = [InterfaceAddress(local: IPAddress("fd12::1")!, prefixLength: 64, scope: "global")]
        taps[6].addresses = [InterfaceAddress(local: IPAddress("10.13.0.1")!, prefixLength: 24, scope: "global"),
                             InterfaceAddress(local: IPAddress("fd13::1")!, prefixLength: 64, scope: "global")]
        taps[4].addresses = [InterfaceAddress(local: IPAddress("10.11.0.1")!, prefixLength: 24, scope: "global")]
        taps[3].addresses = [InterfaceAddress(local: IPAddress("10.10.0.1")!, prefixLength: 24, scope: "global")]
        taps[0].addresses = [InterfaceAddress(local: IPAddress("10.7.0.1")!, prefixLength: 24, scope: "global")]
        taps[1].addresses = [InterfaceAddress(local: IPAddress("10.8.0.1")!, prefixLength: 24, scope: "global")]
        taps[2].addresses = [InterfaceAddress(local: IPAddress("10.9.0.1")!, prefixLength: 24, scope: "global"),
                             InterfaceAddress(local: IPAddress("fd09::1")!, prefixLength: 64, scope: "global")]
        let routes = [
            sourced("10.61.0.0/24", 2, "10.7.0.1"), sourced("10.62.0.0/24", 2, "10.7.0.1"),
            sourced("10.63.0.0/24", nil, "10.8.0.1", type: .blackhole),
            // None of these holds tap9 back.
            sourced("10.9.0.0/24", 9, "10.9.0.1"),
            sourced("fd09::/64", 9, "fd09::1"), sourced("10.65.0.0/24", 2, "10.10.0.1"),
            // An IPv6 route of any table keeps a source no device has: it holds tap12 and tap13 back.
            sourced("fd64::/64", 2, "fd12::1"), sourced("fd65::/64", nil, "fd13::1", table: RouteTable(kernel: 100), type: .unreachable),
            // Another table's route is left with a source no device has: it holds tap11 back.
            sourced("10.64.0.0/24", 2, "10.11.0.1", table: RouteTable(kernel: 100)),
        ]
        let a = Heuristics.assess(Build.snapshot([ethernet] + taps, routes: routes))
        let verdicts = Dictionary(uniqueKeysWithValues: a.interfaces.map { ($0.interface.name, $0) })
        #expect(verdicts["tap7"]?.state == .suspect)
        #expect(verdicts["tap7"]?.reason == "2 routes of eth0 (10.61.0.0/24, …) take its address 10.7.0.1 as source, and the kernel would delete them with its addresses",
                "\(verdicts["tap7"]?.reason ?? "")")
        #expect(verdicts["tap8"]?.state == .suspect)
        #expect(verdicts["tap8"]?.reason.hasPrefix("a route (blackhole 10.63.0.0/24) takes its address 10.8.0.1 as source") == true, "\(verdicts["tap8"]?.reason ?? "")")
        #expect(verdicts["tap9"]?.state == .orphaned, "\(verdicts["tap9"]?.reason ?? "")")
        #expect(verdicts["tap10"]?.state == .orphaned, "\(verdicts["tap10"]?.reason ?? "")")
        #expect(verdicts["tap11"]?.state == .suspect)
        #expect(verdicts["tap11"]?.reason == "a route of eth0 (10.64.0.0/24 table 100) takes its address 10.11.0.1 as source, "
                + "and it would be left with a source address no device has, which no packet can be sent from", "\(verdicts["tap11"]?.reason ?? "")")
        #expect(verdicts["tap12"]?.state == .suspect)
        #expect(verdicts["tap12"]?.reason == "a route of eth0 (fd64::/64) takes its address fd12::1 as source, and the kernel would keep it and go on "
                + "sending from that address, which no device would have, so that no reply comes back", "\(verdicts["tap12"]?.reason ?? "")")
        #expect(verdicts["tap13"]?.state == .suspect)
        #expect(verdicts["tap13"]?.reason.hasPrefix("a route (unreachable fd65::/64 table 100) takes its address fd13::1 as source") == true,
                "\(verdicts["tap13"]?.reason ?? "")")
        #expect(!a.findings.contains { ["tap7", "tap8", "tap12", "tap13"].contains($0.ifname) && $0.reapable })
    }

    /// An XDP program attached makes an unheld tap suspect; socket lists that could not be read
    /// make one nothing else marks unknown, not orphaned, and leave a suspect one suspect.
    @Test func anXDPProgramOrUnknownSocketsKeepATapFromBeingOrphaned() {
        var xdp = Build.tun(7, "tap7", kind: .tap)
        xdp.xdpProgram = 42
        var scan = HolderScan(complete: true, attachments: [], processesScanned: 12)
        var a = Heuristics.assess(Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(), interfaces: [xdp, Build.tun(8, "tap8", kind: .tap)],
                                           routes: [], holders: scan))
        #expect(a.interfaces.first?.state == .suspect && a.interfaces.first?.reason.contains("an XDP program (id 42) is attached to it") == true)
        #expect(a.interfaces.last?.state == .orphaned)
        scan.socketsUnknown = "the kernel's list of sockets could not be read: EOPNOTSUPP"
        a = Heuristics.assess(Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(), interfaces: [xdp, Build.tun(8, "tap8", kind: .tap)],
                                       routes: [], holders: scan))
        #expect(a.interfaces.first?.state == .suspect)
        #expect(a.interfaces.last?.state == .unknown && a.interfaces.last?.reason.contains("EOPNOTSUPP") == true, "\(a.interfaces.last?.reason ?? "")")
        #expect(!a.findings.contains { $0.reapable })
    }

    /// Raw and ping sockets bound to a tap, or to an address only it has, make it suspect; the
    /// reason names each kind of socket and its process, and apart from them counts the other
    /// sockets on the address. On an address another device has too, they hold nothing back.
    @Test func rawAndPingSocketsKeepATapFromBeingOrphaned() {
        var scan = HolderScan(complete: true, attachments: [], processesScanned: 12)
        scan.rawSockets = [7: ["a raw IPv4 socket (protocol 112, VRRP) of keepalived[812]"],
                           8: ["an ICMP echo (ping) socket of ping[900]", "a raw IPv6 socket (protocol 58, ICMPv6) of systemd-network[640]"]]
        let ten91: [UInt8] = [10, 9, 1, 1], ten92: [UInt8] = [10, 9, 2, 1], shared: [UInt8] = [10, 9, 3, 1]
        scan.rawAddressSockets = [ten91: ["a raw IPv4 socket (protocol 1, ICMP) of probe[77]"], ten92: ["an ICMP echo (ping) socket of ping[901]"],
                                  shared: ["an ICMP echo (ping) socket of ping[902]"]]
        scan.addressSockets = [ten91: 1, ten92: 3, shared: 1]
        var taps = [Build.tun(7, "tap7", kind: .tap), Build.tun(8, "tap8", kind: .tap), Build.tun(9, "tap9", kind: .tap),
                    Build.tun(10, "tap10", kind: .tap), Build.tun(11, "tap11", kind: .tap), Build.tun(12, "tap12", kind: .tap)]
        taps[2].addresses = [InterfaceAddress(local: IPAddress("10.9.1.1")!, prefixLength: 24, scope: "global")]
        taps[3].addresses = [InterfaceAddress(local: IPAddress("10.9.2.1")!, prefixLength: 24, scope: "global")]
        for tap in [4, 5] { taps[tap].addresses = [InterfaceAddress(local: IPAddress("10.9.3.1")!, prefixLength: 24, scope: "global")] }
        let a = Heuristics.assess(Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(), interfaces: taps, routes: [], holders: scan))
        let verdicts = Dictionary(uniqueKeysWithValues: a.interfaces.map { ($0.interface.name, $0) })
        #expect(verdicts["tap7"]?.state == .suspect)
        #expect(verdicts["tap7"]?.reason == "a raw IPv4 socket (protocol 112, VRRP) of keepalived[812] is bound to it (SO_BINDTODEVICE or SO_BINDTOIFINDEX: `ping -I`, a VRRP daemon such as keepalived, "
            + "a router-advertisement or DHCP client): a process uses it without a tun descriptor", "\(verdicts["tap7"]?.reason ?? "")")
        #expect(verdicts["tap8"]?.reason.hasPrefix("an ICMP echo (ping) socket of ping[900] and 1 more are bound to it (SO_BINDTODEVICE") == true, "\(verdicts["tap8"]?.reason ?? "")")
        #expect(verdicts["tap9"]?.reason == "a raw IPv4 socket (protocol 1, ICMP) of probe[77] is bound to its address 10.9.1.1, which no other device has, "
            + "and deleting it deletes the address: a process uses it without a tun descriptor", "\(verdicts["tap9"]?.reason ?? "")")
        #expect(verdicts["tap10"]?.reason.hasPrefix("2 sockets are bound to its address 10.9.2.1, which no other device has (a server listening on it, as dnsmasq --bind-interfaces does), "
            + "and deleting it deletes the address; an ICMP echo (ping) socket of ping[901] is bound to its address 10.9.2.1") == true, "\(verdicts["tap10"]?.reason ?? "")")
        #expect(verdicts["tap11"]?.state == .orphaned && verdicts["tap12"]?.state == .orphaned)
        #expect(Set(a.findings.filter(\.reapable).compactMap(\.ifname)) == ["tap11", "tap12"])
    }

    /// Each socket list alone ties a socket to a tap and keeps it from being orphaned: judging
    /// asks whether any list names the device (`HolderScan.socketsTie`) before it gathers them,
    /// so a list that question left out would let a used tap be called orphaned.
    @Test(arguments: ["packet", "bound", "membership", "multicast", "raw"])
    func eachSocketListAloneKeepsATapFromBeingOrphaned(list: String) {
        var scan = HolderScan(complete: true, attachments: [], processesScanned: 12)
        switch list {
        case "packet": scan.packetSockets = [7: 1]
        case "bound": scan.boundSockets = [7: 2]
        case "membership": scan.packetMemberships = [7: 1]
        case "multicast": scan.multicastGroups = [7: ["224.0.0.251"]]
        default: scan.rawSockets = [7: ["a raw IPv4 socket (protocol 112, VRRP) of keepalived[812]"]]
        }
        let a = Heuristics.assess(Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(),
                                           interfaces: [Build.tun(7, "tap7", kind: .tap), Build.tun(8, "tap8", kind: .tap)], routes: [], holders: scan))
        #expect(a.interfaces.first?.state == .suspect, "\(a.interfaces.first?.reason ?? "")")
        #expect(a.interfaces.first?.reason.hasSuffix("a process uses it without a tun descriptor") == true, "\(a.interfaces.first?.reason ?? "")")
        #expect(a.interfaces.last?.state == .orphaned)
        #expect(a.findings.filter(\.reapable).compactMap(\.ifname) == ["tap8"])
    }

    /// nftables statements that send packets to a tap make it suspect; one whose device is known
    /// only as packets come makes every tap nothing else marks unknown.
    @Test func nftablesForwardsKeepATapFromBeingOrphaned() {
        var scan = HolderScan(complete: true, attachments: [], processesScanned: 12)
        scan.forwards = [7: 2]
        scan.nftablesHooks = NftablesHooks(byName: [Array("tap9".utf8): ["chain netdev t h9"]], byPrefix: [Array("vm-".utf8): ["chain netdev t vms"]])
        let taps = [Build.tun(7, "tap7", kind: .tap), Build.tun(8, "tap8", kind: .tap), Build.tun(9, "tap9", kind: .tap), Build.tun(10, "vm-3", kind: .tap)]
        var a = Heuristics.assess(Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(), interfaces: taps, routes: [], holders: scan))
        #expect(a.interfaces.first?.state == .suspect && a.interfaces.first?.reason == "2 nftables statements send packets to it (fwd or dup), and would send them nowhere once it is gone",
                "\(a.interfaces.first?.reason ?? "")")
        #expect(a.interfaces[1].state == .orphaned)
        #expect(a.interfaces[2].state == .suspect && a.interfaces[2].reason.hasPrefix("nftables chain netdev t h9 is hooked on it") == true)
        #expect(a.interfaces[3].state == .suspect && a.interfaces[3].reason.hasPrefix("nftables chain netdev t vms is hooked on it") == true)
        scan.nftablesHooks = NftablesHooks()
        scan.forwardsUnknown = "an nftables rule (table netdev t, chain c) sends packets to a device it picks as packets come (from its meta expression), which may be this one"
        a = Heuristics.assess(Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(), interfaces: taps, routes: [], holders: scan))
        #expect(a.interfaces.first?.state == .suspect)
        #expect(a.interfaces[1].state == .unknown && a.interfaces[1].reason.hasSuffix("(from its meta expression), which may be this one") == true,
                "\(a.interfaces[1].reason)")
        #expect(!a.findings.contains { $0.reapable })
    }

    /// A multi-queue orphan with alternative names is orphaned but not reapable (the reaper's
    /// rename fence would not stop an attach by one), and says how to make it so; a single-queue
    /// one, fenced by an exclusive attach, stays reapable.
    @Test func aMultiQueueOrphanWithAlternativeNamesIsNotReapable() {
        var multi = Build.tun(7, "mq7")
        multi.tun = TunDetails(persistent: true, multiQueue: true, numQueues: 0, numDisabledQueues: 0)
        multi.altNames = ["enp-mq7"]
        var single = Build.tun(8, "sq8")
        single.altNames = ["enp-sq8"]
        let a = Heuristics.assess(Build.snapshot([multi, single]))
        let finding = { (name: String) in a.findings.first { $0.ifname == name && $0.id == FindingID.orphanedTun } }
        #expect(a.interfaces.map(\.state) == [.orphaned, .orphaned])
        #expect(finding("mq7")?.reapable == false && finding("mq7")?.evidence.contains("not reaped while it has alternative names (enp-mq7)") == true,
                "\(finding("mq7")?.evidence ?? "")")
        #expect(finding("sq8")?.reapable == true)
    }

    /// A single-queue orphan whose list of alternative names is full cannot be given the
    /// private name the reaper fences it through: orphaned, not reapable, with how to make it so;
    /// one name fewer and it is reapable.
    @Test func aSingleQueueOrphanWithAFullAlternativeNameListIsNotReapable() {
        var full = Build.tun(9, "full9", kind: .tap)
        full.altNames = (1...496).map { "f\($0)" }
        var room = Build.tun(10, "room10", kind: .tap)
        room.altNames = (1...495).map { "r\($0)" }
        let a = Heuristics.assess(Build.snapshot([full, room]))
        let finding = { (name: String) in a.findings.first { $0.ifname == name && $0.id == FindingID.orphanedTun } }
        #expect(a.interfaces.map(\.state) == [.orphaned, .orphaned])
        #expect(finding("full9")?.reapable == false
                && finding("full9")?.evidence.contains("not reaped while its list of alternative names is full (496 names") == true,
                "\(finding("full9")?.evidence ?? "")")
        #expect(finding("room10")?.reapable == true)
        let plan = ReapPlan.make(a, observations: Observations(), namespaceKey: "ns", policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(plan.items.map(\.ifname) == ["room10"])
    }

    @Test func tapIsJudgedLikeTun() {
        let a = Heuristics.assess(Build.snapshot([Build.tun(3, "tap0", kind: .tap)]))
        #expect(a.interfaces.first?.state == .orphaned)
        #expect(a.findings.first?.evidence.hasPrefix("tap tap0") == true)
    }

    @Test func heldTunIsLiveAndNamesItsHolder() {
        let a = Heuristics.assess(Build.snapshot([Build.tun(7, "vpn0")], holders: [Build.holder(42, "vpn0")]))
        #expect(a.interfaces.first?.state == .live)
        #expect(a.interfaces.first?.holders.map(\.pid) == [42])
        #expect(a.interfaces.first?.reason == "held by openvpn[42]")
        #expect(a.findings.isEmpty)
        #expect(a.status == .ok)
    }

    @Test func nonPersistentTunIsLiveEvenWithoutVisibleHolder() {
        let a = Heuristics.assess(Build.snapshot([Build.tun(7, "t0", persistent: false)]))
        #expect(a.interfaces.first?.state == .live)
    }

    @Test func unknownHoldersNeverMeanOrphaned() {
        let a = Heuristics.assess(Build.snapshot([Build.tun(7, "t0")], complete: false))
        #expect(a.interfaces.first?.state == .unknown)
        #expect(!a.findings.contains { $0.reapable })
        #expect(a.findings.map(\.id) == ["holder-unknown"])
        #expect(a.status == .unknown)
        #expect(a.status.exitCode == 3)
    }

    @Test func sameNameHeldInAnotherNamespaceIsNotProofEitherWay() {
        let a = Heuristics.assess(Build.snapshot([Build.tun(7, "t0")], holders: [Build.holder(9, "t0", here: false, netns: "net:[99]")]))
        #expect(a.interfaces.first?.state == .unknown)
        #expect(a.findings.map(\.id) == ["holder-in-other-netns"])
        #expect(a.findings.first?.evidence.contains("net:[99]") == true)
        #expect(!a.findings.contains { $0.reapable })
        // Where `ip netns` has a name for it, the finding says it, as veth findings do.
        var named = Build.snapshot([Build.tun(7, "t0")], holders: [Build.holder(9, "t0", here: false, netns: "net:[99]")])
        named.namespaceNames = ["net:[99]": "blue"]
        #expect(Heuristics.assess(named).findings.first?.evidence.contains("in namespace blue (net:[99])") == true)
    }

    @Test func multiQueueWithAttachedQueueIsLive() {
        let attached = Heuristics.assess(Build.snapshot([Build.tun(4, "mq0", multiQueue: true, queues: 1, disabled: 0)]))
        #expect(attached.interfaces.first?.state == .live)
        let disabled = Heuristics.assess(Build.snapshot([Build.tun(4, "mq0", multiQueue: true, queues: 0, disabled: 2)]))
        #expect(disabled.interfaces.first?.state == .live)
        let empty = Heuristics.assess(Build.snapshot([Build.tun(4, "mq0", multiQueue: true, queues: 0, disabled: 0)]))
        #expect(empty.interfaces.first?.state == .orphaned)
        #expect(empty.findings.first?.evidence.contains("0 queues attached") == true)
    }

    @Test func carrierWithoutAnyHolderIsSuspectNotOrphaned() {
        let a = Heuristics.assess(Build.snapshot([Build.tun(7, "t0", carrier: true)]))
        #expect(a.interfaces.first?.state == .suspect)
        #expect(a.findings.map(\.id) == ["carrier-without-holder"])
        #expect(a.findings.first?.reapable == false)
    }

    @Test func carrierWithUnreadableHoldersIsLive() {
        let a = Heuristics.assess(Build.snapshot([Build.tun(7, "t0", carrier: true)], complete: false))
        #expect(a.interfaces.first?.state == .live)
    }

    @Test func nonTunnelInterfacesAreContextOnly() {
        let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, carrier: false)
        let a = Heuristics.assess(Build.snapshot([eth], routes: [Build.route("0.0.0.0/0", 2)]))
        #expect(a.interfaces.isEmpty)
        #expect(a.findings.isEmpty)
    }
}

@Suite struct DeadRouteTests {
    let orphan = Build.tun(7, "kure_tun")

    @Test func splitDefaultIntoOrphanIsCritical() {
        let a = Heuristics.assess(Build.snapshot([orphan], routes: [Build.route("0.0.0.0/1", 7), Build.route("128.0.0.0/1", 7)]))
        let finding = a.findings.first { $0.id == "dead-tunnel-route" }
        #expect(finding?.severity == .critical)
        #expect(finding?.routes?.count == 2)
        #expect(finding?.evidence.contains("capture all IPv4 traffic") == true)
        #expect(finding?.evidence.contains("outage") == true)
        #expect(a.status == .critical)
    }

    @Test func cascadeOfEightIsCritical() {
        let cascade = ["1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/5", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"]
        let a = Heuristics.assess(Build.snapshot([orphan], routes: cascade.map { Build.route($0, 7) }))
        #expect(a.findings.first { $0.id == "dead-tunnel-route" }?.severity == .critical)
        // One short of the cascade is not a capture.
        let partial = Heuristics.assess(Build.snapshot([orphan], routes: cascade.dropLast().map { Build.route($0, 7) }))
        #expect(partial.findings.first { $0.id == "dead-tunnel-route" }?.severity == .warning)
    }

    @Test func ipv6EquivalentsAreCritical() {
        let halves = Heuristics.assess(Build.snapshot([orphan], routes: [Build.route("::/1", 7), Build.route("8000::/1", 7)]))
        #expect(halves.findings.first?.severity == .critical)
        #expect(halves.findings.first?.evidence.contains("IPv6") == true)
        let cascade = ["100::/8", "200::/7", "400::/6", "800::/5", "1000::/4", "2000::/3", "4000::/2", "8000::/1"]
        let a = Heuristics.assess(Build.snapshot([orphan], routes: cascade.map { Build.route($0, 7) }))
        #expect(a.findings.first?.severity == .critical)
        // All of IPv6 the internet routes is 2000::/3: it, or ::/1 holding it, captures as much,
        // and OpenVPN's ::/3 + 2000::/4 + 3000::/4 too; a ULA's fc00::/7 alone does not.
        for routes in [["2000::/3"], ["::/1"], ["::/3", "2000::/4", "3000::/4"]] {
            let internet = Heuristics.assess(Build.snapshot([orphan], routes: routes.map { Build.route($0, 7) }))
            #expect(internet.findings.first { $0.id == "dead-tunnel-route" }?.severity == .critical, "\(routes)")
        }
        let ula = Heuristics.assess(Build.snapshot([orphan], routes: [Build.route("fc00::/7", 7), Build.route("2000::/4", 7)]))
        #expect(ula.findings.first { $0.id == "dead-tunnel-route" }?.severity == .warning)
    }

    @Test func splitAcrossTablesIsNotACapture() {
        let a = Heuristics.assess(Build.snapshot([orphan], routes: [Build.route("0.0.0.0/1", 7), Build.route("128.0.0.0/1", 7, table: .other(100))]))
        #expect(a.findings.first { $0.id == "dead-tunnel-route" }?.severity == .warning)
    }

    @Test func defaultRouteIntoDeadTunnelIsCriticalUnlessALiveOneWins() {
        let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, carrier: true)
        let alone = Heuristics.assess(Build.snapshot([orphan, eth], routes: [Build.route("0.0.0.0/0", 7, metric: 50)]))
        #expect(alone.findings.first { $0.id == "dead-tunnel-route" }?.severity == .critical)
        let shadowed = Heuristics.assess(Build.snapshot([orphan, eth], routes: [Build.route("0.0.0.0/0", 7, metric: 50), Build.route("0.0.0.0/0", 2, metric: 10)]))
        #expect(shadowed.findings.first { $0.id == "dead-tunnel-route" }?.severity == .warning)
    }

    @Test func ordinaryRouteIntoDeadTunnelIsAWarning() {
        let a = Heuristics.assess(Build.snapshot([orphan], routes: [Build.route("10.8.0.0/24", 7)]))
        let finding = a.findings.first { $0.id == "dead-tunnel-route" }
        #expect(finding?.severity == .warning)
        #expect(finding?.reapable == false)
        #expect(finding?.evidence.contains("10.8.0.0/24") == true)
    }

    @Test func localAndBroadcastRoutesAreIgnored() {
        let a = Heuristics.assess(Build.snapshot([orphan], routes: [Build.route("10.8.0.1/32", 7, table: .local, type: .local)]))
        #expect(!a.findings.contains { $0.id == "dead-tunnel-route" })
    }

    @Test func splitDefaultIntoALiveTunnelIsExplainedNotFlagged() {
        let live = Build.tun(7, "vpn0", carrier: true)
        let a = Heuristics.assess(Build.snapshot([live], routes: [Build.route("0.0.0.0/1", 7), Build.route("128.0.0.0/1", 7)],
                                                holders: [Build.holder(5, "vpn0")]))
        #expect(a.findings.map(\.id) == ["split-default"])
        #expect(a.findings.first?.severity == .info)
        #expect(a.findings.first?.evidence.contains("held by openvpn[5]") == true)
        #expect(a.status == .ok)
        // An ordinary route into a live tunnel raises nothing.
        let plain = Heuristics.assess(Build.snapshot([live], routes: [Build.route("10.0.0.0/8", 7)], holders: [Build.holder(5, "vpn0")]))
        #expect(plain.findings.isEmpty)
    }

    @Test func heldTunnelWithoutCarrierStillBlackholes() {
        // A holder that attached but forced carrier off: routes are dead, the device is live and never reapable.
        let held = Build.tun(7, "vpn0", carrier: false)
        let a = Heuristics.assess(Build.snapshot([held], routes: [Build.route("0.0.0.0/1", 7), Build.route("128.0.0.0/1", 7)],
                                                holders: [Build.holder(5, "vpn0")]))
        #expect(a.interfaces.first?.state == .live)
        #expect(a.findings.map(\.id) == ["dead-tunnel-route"])
        #expect(a.findings.first?.severity == .critical)
        #expect(a.findings.first?.evidence.contains("has no carrier") == true)
    }

    @Test func multipathRouteIsDeadOnlyWhenEveryHopIs() {
        let eth = NetworkInterface(index: 2, name: "eth0", kind: .other, carrier: true)
        let mixed = Route(destination: IPPrefix("0.0.0.0/0")!, nextHops: [NextHop(interfaceIndex: 7), NextHop(interfaceIndex: 2)])
        let a = Heuristics.assess(Build.snapshot([orphan, eth], routes: [mixed]))
        #expect(!a.findings.contains { $0.id == "dead-tunnel-route" })
    }

    @Test func coverageCountsOverlapsOnce() {
        let prefixes = ["0.0.0.0/1", "10.0.0.0/8", "128.0.0.0/1", "0.0.0.0/1"].compactMap(IPPrefix.init)
        #expect(Heuristics.coverage(of: prefixes) == 1.0)
        #expect(Heuristics.coverage(of: [IPPrefix("10.0.0.0/8")!]) == 1.0 / 256)
    }
}

@Suite struct CountAndVethTests {
    func tunnels(_ n: Int) -> [NetworkInterface] {
        (0..<n).map { Build.tun($0 + 2, "utun\($0)", persistent: false) }
    }

    @Test func countBelowWarningRaisesNothing() {
        #expect(Heuristics.assess(Build.snapshot(tunnels(75))).findings.isEmpty)
    }

    @Test func countFromEightyPercentWarnsAndAtLimitIsCritical() {
        let warn = Heuristics.assess(Build.snapshot(tunnels(76)))
        #expect(warn.findings.map(\.id) == ["tunnel-count"])
        #expect(warn.findings.first?.severity == .warning)
        let critical = Heuristics.assess(Build.snapshot(tunnels(95)))
        #expect(critical.findings.first?.severity == .critical)
        #expect(critical.status == .critical)
    }

    @Test func customLimitAndWarn() {
        let policy = AuditPolicy(limit: 10, warnAt: 3)
        #expect(Heuristics.assess(Build.snapshot(tunnels(2)), policy: policy).findings.isEmpty)
        #expect(Heuristics.assess(Build.snapshot(tunnels(3)), policy: policy).findings.first?.severity == .warning)
        #expect(Heuristics.assess(Build.snapshot(tunnels(10)), policy: policy).findings.first?.severity == .critical)
        #expect(AuditPolicy(limit: 10).effectiveWarn == 8)
        #expect(AuditPolicy(limit: 95).effectiveWarn == 76)
    }

    func veth(_ index: Int, _ name: String, peer: Int?, nsid: Int32? = nil) -> NetworkInterface {
        NetworkInterface(index: index, name: name, kind: .veth, infoKind: "veth", link: peer, linkNetnsID: nsid)
    }

    @Test func vethPairInSameNamespaceIsLive() {
        let a = Heuristics.assess(Build.snapshot([veth(5, "va", peer: 6), veth(6, "vb", peer: 5)]))
        #expect(a.interfaces.map(\.state) == [.live, .live])
        #expect(a.interfaces.first?.reason == "peer vb")
    }

    @Test func vethWithMissingPeerIsSuspectAndNotReapable() {
        let a = Heuristics.assess(Build.snapshot([veth(5, "va", peer: 9)]))
        #expect(a.interfaces.first?.state == .suspect)
        #expect(a.findings.first?.id == "veth-peer-missing")
        #expect(a.findings.first?.reapable == false)
    }

    @Test func vethWithPeerInEmptyNamespaceIsSuspect() {
        let a = Heuristics.assess(Build.snapshot([veth(5, "veth1a2b", peer: 2, nsid: 3)], peers: [3: PeerNamespace(name: "ctr-42", processCount: 0)]))
        #expect(a.interfaces.first?.state == .suspect)
        #expect(a.findings.first?.id == "veth-peer-netns-empty")
        #expect(a.findings.first?.evidence.contains("ctr-42") == true)
        #expect(a.findings.first?.reapable == false)
    }

    /// A namespace kept by name needs no process to forward (a router or lab namespace): a veth
    /// that routes set by hand send traffic through is live where that namespace forwards the
    /// route's family. Without such a route, where the namespace has no name (nothing keeps it on
    /// purpose), or where it does not forward (a routed CNI's leaked pod), it stays suspect
    /// (Linux 49 F8, Linux 50 F4).
    @Test func vethRoutedIntoANamedNamespaceWithoutProcessesIsLive() {
        let uplink = veth(5, "up0", peer: 2, nsid: 3)
        let routed = Route(destination: IPPrefix("0.0.0.0/0")!, type: .unicast, table: .main, routeProtocol: .boot,
                           nextHops: [NextHop(gateway: IPAddress("192.0.2.1"), interfaceIndex: 5)])
        let ownPrefix = Route(destination: IPPrefix("192.0.2.0/24")!, type: .unicast, table: .main, routeProtocol: .kernel,
                              nextHops: [NextHop(interfaceIndex: 5)])
        var snapshot = Build.snapshot([uplink], peers: [3: PeerNamespace(name: "router", processCount: 0, forwards: [.inet])])
        snapshot.routes = [ownPrefix, routed]
        let live = Heuristics.assess(snapshot)
        #expect(live.interfaces.first?.state == .live)
        #expect(live.interfaces.first?.reason.contains("namespace router, which is kept by name") == true, "\(live.interfaces.first?.reason ?? "")")
        #expect(!live.findings.contains { $0.id == "veth-peer-netns-empty" })
        // The namespace forwards IPv6 only, or nothing, or that could not be read: the IPv4
        // traffic routed there ends there, and the finding says so.
        for forwards: Set<AddressFamily>? in [[.inet6], [], nil] {
            var pod = snapshot
            pod.peerNamespaces = [3: PeerNamespace(name: "cni-5e1f", processCount: 0, forwards: forwards)]
            let leaked = Heuristics.assess(pod)
            #expect(leaked.interfaces.first?.state == .suspect, "\(String(describing: forwards))")
            let evidence = leaked.findings.first { $0.id == "veth-peer-netns-empty" }?.evidence ?? ""
            #expect(evidence.contains("traffic") && evidence.contains("routed there (default)"), "\(evidence)")
        }
        // Only the kernel's own prefix route: suspect, as before.
        snapshot.routes = [ownPrefix]
        #expect(Heuristics.assess(snapshot).interfaces.first?.state == .suspect)
        // Routed, but the namespace has no name: suspect.
        var unnamed = Build.snapshot([uplink], peers: [3: PeerNamespace(name: nil, processCount: 0)])
        unnamed.routes = [ownPrefix, routed]
        #expect(Heuristics.assess(unnamed).interfaces.first?.state == .suspect)
    }

    @Test func vethWithPeerInBusyOrUnknownNamespace() {
        let busy = Heuristics.assess(Build.snapshot([veth(5, "v", peer: 2, nsid: 3)], peers: [3: PeerNamespace(name: nil, processCount: 4)]))
        #expect(busy.interfaces.first?.state == .live)
        let unknown = Heuristics.assess(Build.snapshot([veth(5, "v", peer: 2, nsid: 3)], peers: [3: PeerNamespace(name: "x", processCount: nil)]))
        #expect(unknown.interfaces.first?.state == .unknown)
        let missing = Heuristics.assess(Build.snapshot([veth(5, "v", peer: 2, nsid: 3)]))
        #expect(missing.interfaces.first?.state == .unknown)
    }
}

@Suite struct RouteDisplayTests {
    /// Routes told apart only by the type of service or the sources they are for are told apart
    /// in words too (in findings, plans and tables).
    @Test func theSourcesAndTypeOfServiceAreShown() throws {
        var route = Route(destination: try #require(IPPrefix("10.96.0.0/16")), nextHops: [NextHop(interfaceIndex: 3)])
        #expect(route.display == "10.96.0.0/16")
        route.tos = 0x8
        #expect(route.display == "10.96.0.0/16 tos 0x08")
        var v6 = Route(destination: try #require(IPPrefix("2001:db8:300::/48")), nextHops: [NextHop(interfaceIndex: 3)])
        v6.source = IPPrefix("2001:db8:1::/48")
        #expect(v6.display == "2001:db8:300::/48 from 2001:db8:1::/48")
    }
}

@Suite struct AddressTests {
    @Test(arguments: [
        ("10.8.0.1", "10.8.0.1"), ("::", "::"), ("::1", "::1"), ("fe80::1%utun3", "fe80::1%utun3"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        // An IPv4 address in the last 32 bits, as glibc's inet_ntop (and so iproute2) prints it.
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"), ("::ffff:c000:201", "::ffff:192.0.2.1"), ("::ffff:0:0", "::ffff:0.0.0.0"),
        ("::192.0.2.2", "::192.0.2.2"), ("::1:2", "::0.1.0.2"), ("::0.0.1.0", "::100"), ("::ffff:0:102:304", "::ffff:0:102:304"),
        ("64:ff9b::c000:201", "64:ff9b::c000:201"), ("0:0:0:0:0:1:0:0", "::1:0:0"), ("1::ffff:102:304", "1::ffff:102:304"),
    ])
    func addressesRoundTripInCanonicalForm(input: String, canonical: String) {
        #expect(IPAddress(input)?.description == canonical)
    }

    #if canImport(Glibc)
    /// Every IPv6 address is printed as glibc's inet_ntop prints it (iproute2's form): checked on
    /// addresses made of zero, 0xffff and other groups in every mix, so that each rule of the form
    /// (the first longest zero run, runs of one left alone, the dotted tails) is met many times.
    @Test func ipv6TextIsInetNtopsText() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<8 {
                switch UInt8.random(in: 0..<4, using: &generator) {
                case 0, 1: bytes += [0, 0]
                case 2: bytes += [0xff, 0xff]
                default: bytes += [UInt8.random(in: 0...255, using: &generator), UInt8.random(in: 0...255, using: &generator)]
                }
            }
            var text = [CChar](repeating: 0, count: 64)
            _ = bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, 64) }
            let expected = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            #expect(IPAddress(bytes: bytes)?.description == expected, "\(bytes)")
            #expect(IPAddress(expected)?.bytes == bytes, "\(expected)")
        }
    }
    #endif

    @Test(arguments: ["", "1.2.3", "1.2.3.256", "1::2::3", "12345::", "g::1", "1.2.3.4.5"])
    func invalidAddressesAreRejected(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func prefixesClearHostBits() {
        #expect(IPPrefix("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(IPPrefix("128.0.0.0/1")?.contains(IPPrefix("200.1.1.1/32")!) == true)
        #expect(IPPrefix("0.0.0.0/1")?.contains(IPPrefix("200.1.1.1/32")!) == false)
        #expect(IPPrefix("10.0.0.0/33") == nil)
    }
}

/// Processes a fully privileged scan still cannot open (a sandbox supervisor): the kernel's own
/// view of each device's queues decides, or the device is unknown.
@Suite struct OpaqueProcessTests {
    func assess(_ interface: NetworkInterface) -> Assessment {
        var snapshot = Build.snapshot([interface])
        snapshot.holders.opaquePIDs = [1]
        return Heuristics.assess(snapshot)
    }

    @Test func aSingleQueueDeviceWithoutCarrierIsStillOrphanedAndTheEvidenceSaysWhy() throws {
        let a = assess(Build.tun(4, "sq0"))
        #expect(a.interfaces.map(\.state) == [.orphaned])
        let evidence = a.findings.first { $0.id == "orphaned-tun" }?.evidence ?? ""
        #expect(evidence.contains("cannot be inspected even with every privilege"), "\(evidence)")
        #expect(evidence.contains("pid 1"))
        // Brackets do not nest, and for a single-queue device the kernel shows the carrier, which
        // a holder can turn off, not a queue count: the reaper's exclusive attach is what rules
        // the hidden processes out, and the evidence says so (in few words: it is repeated for
        // every orphan, 9,900 times in the 10,000-device benchmark).
        #expect(evidence.contains("pid 1, is ruled out only by the reaper's exclusive attach, as a holder can turn a single-queue tun's carrier off with TUNSETCARRIER"),
                "\(evidence)")
        #expect(evidence.count <= 320, "\(evidence.count) characters: \(evidence)")
        #expect(!evidence.contains("the kernel shows no queue attached"), "\(evidence)")
        #expect(!evidence.contains("(pid"), "\(evidence)")
    }

    @Test func aMultiQueueDevicesEvidenceCitesTheKernelsQueueCount() {
        let a = assess(Build.tun(4, "mq0", multiQueue: true, queues: 0, disabled: 0))
        let evidence = a.findings.first { $0.id == "orphaned-tun" }?.evidence ?? ""
        #expect(evidence.contains("the kernel shows no queue attached, which rules out the 1 more process"), "\(evidence)")
    }

    @Test func aMultiQueueDeviceNeedsTheKernelsQueueCounts() {
        #expect(assess(Build.tun(4, "mq0", multiQueue: true, queues: 0, disabled: 0)).interfaces.map(\.state) == [.orphaned])
        #expect(assess(Build.tun(4, "mq0", multiQueue: true)).interfaces.map(\.state) == [.unknown])
        #expect(assess(Build.tun(4, "mq0", multiQueue: true, queues: 0, disabled: 1)).interfaces.map(\.state) == [.live])
    }

    @Test func aDeviceWhoseQueueModeIsUnreportedIsUnknown() {
        var old = Build.tun(4, "old0")
        old.tun?.multiQueue = nil
        let a = assess(old)
        #expect(a.interfaces.map(\.state) == [.unknown])
        #expect(!a.findings.contains { $0.reapable })
    }

    @Test func carrierWithoutAVisibleHolderIsLiveWhenSomeoneUnseenMayHoldIt() {
        let a = assess(Build.tun(4, "c0", carrier: true))
        #expect(a.interfaces.map(\.state) == [.live])
        #expect(!a.findings.contains { $0.id == "carrier-without-holder" })
    }
}

/// Route types, tables, protocols and scopes are types with the kernel's numbers behind them,
/// written in JSON as iproute2 writes them.
@Suite struct RouteKindTests {
    @Test func namesAndNumbersGoBothWays() throws {
        #expect(RouteType(kernel: 1) == .unicast && RouteType(kernel: 6).name == "blackhole" && RouteType(kernel: 99) == .other(99))
        #expect(RouteTable(kernel: 254) == .main && RouteTable(kernel: 100).name == "100" && RouteTable(name: "local") == .local)
        #expect(RouteProtocol(kernel: 16) == .dhcp && RouteProtocol(name: "static") == .static && RouteProtocol(name: "bogus") == nil)
        #expect(RouteScope(kernel: 253) == .link && RouteScope(kernel: 0).name == "global")
        // A number with a name is that name, however it arrives.
        #expect(RouteTable(name: "254") == .main)
        #expect(RouteProtocol(kernel: 9).name == "ra" && RouteProtocol(name: "99") == .openr)
        let route = Route(destination: IPPrefix("10.0.0.0/8")!, type: .blackhole, table: .other(52), routeProtocol: .other(77), scope: .link, nextHops: [])
        let json = String(decoding: route.json(), as: UTF8.self)
        #expect(json.contains(#""type":"blackhole""#) && json.contains(#""table":"52""#) && json.contains(#""protocol":"77""#) && json.contains(#""scope":"link""#))
        #expect(try JSONDecoder().decode(Route.self, from: Data(json.utf8)) == route)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Route.self, from: Data(json.replacingOccurrences(of: "blackhole", with: "bogus").utf8)) }
    }
}
