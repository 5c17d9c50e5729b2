import Testing
import TunwardenCore

/// The routes of the recreate commands, word by word: what a route carries besides its next hops,
/// and the order the commands of one run's devices must be replayed in.
@Suite struct RecreateRoutesTests {
    static let tun = NetworkInterface(index: 7, name: "tun9", kind: .tun, infoKind: "tun", flags: ["UP"], tun: TunDetails(persistent: true))

    /// The routes the kernel makes for an IPv4 address `local`/24 on device `index` that is up,
    /// as Linux lists them: its prefix route, its `local` route and its subnet's `broadcast` route.
    static func kernelRoutes(_ local: String, index: Int) -> [Route] {
        let bytes = IPAddress(local)!.bytes
        let subnet = "\(bytes[0]).\(bytes[1]).\(bytes[2])"
        return [("\(subnet).0/24", RouteType.unicast, RouteTable.main, RouteScope.link), ("\(local)/32", .local, .local, .host),
                ("\(subnet).255/32", .broadcast, .local, .link)].map { prefix, type, table, scope in
            var route = Route(destination: IPPrefix(prefix)!, type: type, table: table, routeProtocol: .kernel, scope: scope, nextHops: [NextHop(interfaceIndex: index)])
            route.preferredSource = IPAddress(local)
            return route
        }
    }

    static func encapsulation(_ type: UInt16, id: UInt64, destination: String, ttl: UInt8 = 0, tos: UInt8 = 0, flags: UInt16 = 0) -> RouteEncapsulation {
        var encapsulation = RouteEncapsulation(type: type)
        encapsulation.id = id
        encapsulation.destination = IPAddress(destination)
        encapsulation.source = IPAddress(destination.contains(":") ? "::" : "0.0.0.0")
        encapsulation.ttl = ttl
        encapsulation.tos = tos
        encapsulation.flags = flags
        return encapsulation
    }

    /// `encap ip` and `encap ip6` come back as ip takes them (tos and tc in hex, the only base ip
    /// reads them in), on a route and on a multipath hop.
    @Test func aRoutesEncapsulationComesBack() {
        var ipv4 = Route(destination: IPPrefix("10.70.0.0/16")!, routeProtocol: .boot, scope: .link, nextHops: [NextHop(interfaceIndex: 7)])
        ipv4.encapsulation = Self.encapsulation(2, id: 42, destination: "10.0.0.9", ttl: 7, tos: 0x10, flags: 0x4 | 0x1)
        var ipv6 = Route(destination: IPPrefix("2001:db8:73::/48")!, metric: 1024, routeProtocol: .boot, nextHops: [NextHop(interfaceIndex: 7)])
        ipv6.encapsulation = Self.encapsulation(4, id: 44, destination: "2001:db8::10", ttl: 9, tos: 0x20, flags: 0x8)
        var hop = NextHop(gateway: IPAddress("10.77.0.6"), interfaceIndex: 7, onlink: true, weight: 9)
        hop.encapsulation = Self.encapsulation(2, id: 7, destination: "10.0.0.7")
        hop.realms = 2 << 16 | 6
        var first = NextHop(gateway: IPAddress("10.50.0.5"), interfaceIndex: 7, weight: 1)
        first.realms = 5
        let multipath = Route(destination: IPPrefix("10.51.0.0/16")!, routeProtocol: .boot, nextHops: [first, hop])
        let commands = RecreateCommands.commands(for: Self.tun, routes: [ipv4, ipv6, multipath], namespace: nil)
        #expect(commands.contains("ip route add 10.70.0.0/16 encap ip id 42 dst 10.0.0.9 ttl 7 tos 0x10 key csum dev tun9 scope link"), "\(commands)")
        #expect(commands.contains("ip route add 2001:db8:73::/48 encap ip6 id 44 dst 2001:db8::10 hoplimit 9 tc 0x20 seq dev tun9 metric 1024"),
                "\(commands)")
        #expect(commands.contains("ip route add 10.51.0.0/16 nexthop via 10.50.0.5 dev tun9 realms 5 "
            + "nexthop encap ip id 7 dst 10.0.0.7 via 10.77.0.6 dev tun9 weight 9 onlink realms 2/6"), "\(commands)")
    }

    /// An encapsulation ip cannot be given back from what was read is named in a comment line,
    /// never dropped without a word; the route itself still comes back.
    @Test func anEncapsulationThatCannotBeWrittenIsNamed() {
        var mpls = Route(destination: IPPrefix("10.72.0.0/16")!, routeProtocol: .boot, nextHops: [NextHop(interfaceIndex: 7)])
        mpls.encapsulation = RouteEncapsulation(type: 1)
        var geneve = Route(destination: IPPrefix("10.73.0.0/16")!, routeProtocol: .boot, nextHops: [NextHop(interfaceIndex: 7)])
        geneve.encapsulation = Self.encapsulation(2, id: 1, destination: "10.0.0.1")
        geneve.encapsulation?.hasOptions = true
        let commands = RecreateCommands.commands(for: Self.tun, routes: [mpls, geneve], namespace: nil)
        #expect(commands.suffix(4) == [
            "# 10.72.0.0/16 had its encap mpls (1), which is not recreated: the route below goes without it",
            "ip route add 10.72.0.0/16 dev tun9",
            "# 10.73.0.0/16 had the options of its encap ip (geneve_opts, vxlan_opts or erspan_opts), which is not recreated: the route below goes without it",
            "ip route add 10.73.0.0/16 encap ip id 1 dst 10.0.0.1 dev tun9",
        ])
    }

    /// An IPv6 multipath route another device still holds (or gets back from its own commands):
    /// this device's hops alone are appended, which IPv6 merges into the route.
    @Test func anIPv6MultipathRouteGetsOnlyThisDevicesHopAppended() {
        let tap = NetworkInterface(index: 7, name: "tap1", kind: .tap, flags: ["UP"])
        let route = Route(destination: IPPrefix("2001:db8:81::/48")!, metric: 1024, routeProtocol: .boot, nextHops: [
            NextHop(gateway: IPAddress("2001:db8:61::5"), interfaceIndex: 7, interfaceName: "tap1", weight: 3),
            NextHop(gateway: IPAddress("2001:db8::5"), interfaceIndex: 3, interfaceName: "va", weight: 1),
        ])
        #expect(RecreateCommands.commands(for: tap, routes: [route], namespace: nil).last ==
            "ip route append 2001:db8:81::/48 metric 1024 nexthop via 2001:db8:61::5 dev tap1 weight 3")
    }

    /// A route whose preferred source is an address of a device made later in the run goes with
    /// that device's commands, after its addresses; where it was, a comment line gives it.
    @Test func aRouteWhoseSourceIsALaterDevicesAddressWaitsForIt() {
        let tpa = NetworkInterface(index: 4, name: "tpa", kind: .tap, flags: ["BROADCAST", "MULTICAST", "UP"])
        var tpb = NetworkInterface(index: 5, name: "tpb", kind: .tap, flags: ["BROADCAST", "MULTICAST", "UP"])
        tpb.addresses = [InterfaceAddress(local: IPAddress("10.98.0.1")!, prefixLength: 24, scope: "global")]
        var sourced = Route(destination: IPPrefix("10.99.0.0/16")!, table: .other(300), routeProtocol: .boot, scope: .link,
                            nextHops: [NextHop(interfaceIndex: 4)])
        sourced.preferredSource = IPAddress("10.98.0.1")
        let plain = Route(destination: IPPrefix("10.97.0.0/16")!, routeProtocol: .boot, scope: .link, nextHops: [NextHop(interfaceIndex: 4)])
        let add = "ip route add 10.99.0.0/16 dev tpa table 300 scope link src 10.98.0.1"
        let run = RecreateCommands.commands(forRun: [RecreateCommands.RunDevice(tpa, routes: [sourced, plain]), RecreateCommands.RunDevice(tpb, routes: Self.kernelRoutes("10.98.0.1", index: 5))],
                                            namespace: nil, unnamedNamespace: nil)
        #expect(run[0] == [
            "ip tuntap add dev tpa mode tap", "ip link set dev tpa up", "ip route add 10.97.0.0/16 dev tpa scope link",
            "# its source 10.98.0.1 is an address of tpb, made again further on, so this route is added with that device's commands: " + add,
        ])
        #expect(run[1] == ["ip tuntap add dev tpb mode tap", "ip link set dev tpb up", "ip addr add 10.98.0.1/24 dev tpb", add])
        // In the other order the source exists when the route is added, and nothing moves.
        let reversed = RecreateCommands.commands(forRun: [RecreateCommands.RunDevice(tpb, routes: Self.kernelRoutes("10.98.0.1", index: 5)),
                                                                         RecreateCommands.RunDevice(tpa, routes: [sourced])],
                                                 namespace: nil, unnamedNamespace: nil)
        #expect(reversed[1].last == add && !reversed.joined().contains { $0.hasPrefix("#") })
    }

    /// A `proto kernel` route that none of the device's addresses explains was made by hand and
    /// comes back; those the kernel makes with the addresses do not.
    @Test func aHandMadeKernelRouteComesBack() {
        var device = Self.tun
        device.addresses = [InterfaceAddress(local: IPAddress("10.7.1.1")!, prefixLength: 24, scope: "global")]
        let kernelOwn = Self.kernelRoutes("10.7.1.1", index: 7)
        let linkLocal = Route(destination: IPPrefix("fe80::/64")!, metric: 256, routeProtocol: .kernel, nextHops: [NextHop(interfaceIndex: 7)])
        let byHand = Route(destination: IPPrefix("10.66.0.0/16")!, routeProtocol: .kernel, scope: .link, nextHops: [NextHop(interfaceIndex: 7)])
        let byHand6 = Route(destination: IPPrefix("2001:db8:66::/48")!, metric: 1024, routeProtocol: .kernel, nextHops: [NextHop(interfaceIndex: 7)])
        let commands = RecreateCommands.commands(for: device, routes: kernelOwn + [linkLocal, byHand, byHand6], namespace: nil)
        #expect(commands.filter { $0.contains(" route ") } == [
            "ip route add 10.66.0.0/16 dev tun9 proto kernel scope link",
            "ip route add 2001:db8:66::/48 dev tun9 metric 1024 proto kernel",
        ])
    }
}
