import Foundation
import Testing
import TunwardenCore

/// What an iproute2 round trip showed the recreate commands to lose (review ip44): a route's
/// scope where ip would choose another, `proto kernel` routes no address explains, `optimistic`
/// addresses and managed neighbour entries.
@Suite struct RecreateKernelRoutesTests {
    static let tap: NetworkInterface = {
        var device = NetworkInterface(index: 4, name: "p", kind: .tap, flags: ["BROADCAST", "MULTICAST", "UP"])
        device.addresses = [
            InterfaceAddress(local: IPAddress("10.1.0.1")!, prefixLength: 24, scope: "global", broadcast: IPAddress("10.1.0.255")),
            InterfaceAddress(local: IPAddress("2001:db8:7::1")!, prefixLength: 64, scope: "global"),
        ]
        return device
    }()

    static func route(_ prefix: String, _ type: RouteType = .unicast, table: RouteTable = .main, proto: RouteProtocol = .boot,
                      scope: RouteScope, via gateway: String? = nil, metric: UInt32? = nil, source: String? = nil) -> Route {
        var route = Route(destination: IPPrefix(prefix)!, type: type, table: table, metric: metric, routeProtocol: proto, scope: scope,
                          nextHops: [NextHop(gateway: gateway.flatMap { IPAddress($0) }, interfaceIndex: 4)])
        route.preferredSource = source.flatMap { IPAddress($0) }
        return route
    }

    /// The routes the kernel made for `tap`'s addresses, as Linux 6.18 lists them.
    static let kernelOwn = [
        route("10.1.0.0/24", proto: .kernel, scope: .link, source: "10.1.0.1"),
        route("10.1.0.1/32", .local, table: .local, proto: .kernel, scope: .host, source: "10.1.0.1"),
        route("10.1.0.255/32", .broadcast, table: .local, proto: .kernel, scope: .link, source: "10.1.0.1"),
        route("2001:db8:7::1/128", .local, table: .local, proto: .kernel, scope: .global, metric: 0),
        route("2001:db8:7::/64", proto: .kernel, scope: .global, metric: 256),
        route("ff00::/8", .multicast, table: .local, proto: .kernel, scope: .global, metric: 256),
    ]

    func commands(_ routes: [Route]) -> [String] {
        RecreateCommands.commands(for: Self.tap, routes: Self.kernelOwn + routes, namespace: nil).filter { $0.hasPrefix("ip route") }
    }

    /// An IPv4 route whose scope is not the one `ip route add` would give it unasked is written with
    /// its scope, global included: a gatewayless route of scope global (what netlink's default
    /// makes) would otherwise come back scope link, and so would a multicast one.
    @Test func aScopeIpWouldNotChooseIsWritten() {
        #expect(commands([
            Self.route("10.7.0.0/16", scope: .global),
            Self.route("10.6.0.0/16", table: .other(9), scope: .global),
            Self.route("224.5.0.0/16", .multicast, table: .other(20), scope: .global),
            Self.route("10.5.0.0/16", .local, table: .other(44), scope: .global),
            Self.route("10.9.0.0/16", scope: .global, via: "10.1.0.9"),
            Self.route("10.8.0.0/16", scope: .link),
        ]) == [
            "ip route add 10.7.0.0/16 dev p scope global",
            "ip route add 10.6.0.0/16 dev p table 9 scope global",
            "ip route add multicast 224.5.0.0/16 dev p table 20 scope global",
            "ip route add local 10.5.0.0/16 dev p table 44 scope global",
            "ip route add 10.9.0.0/16 via 10.1.0.9 dev p",
            "ip route add 10.8.0.0/16 dev p scope link",
        ])
    }

    /// A `proto kernel` route of any type or table that no address of the device explains was
    /// made by hand and comes back; the kernel's own for its addresses do not.
    @Test func handMadeKernelRoutesOfEveryTypeComeBack() {
        let kernelOwn = [
            Self.route("2001:db8:7::/128", .anycast, table: .local, proto: .kernel, scope: .global, metric: 0),
            Self.route("fe80::/64", proto: .kernel, scope: .global, metric: 256),
        ]
        let byHand = [
            Self.route("10.1.0.0/25", table: .local, proto: .kernel, scope: .link),
            Self.route("10.1.0.77/32", .local, table: .local, proto: .kernel, scope: .host),
            Self.route("10.1.0.201/32", .broadcast, table: .local, proto: .kernel, scope: .link),
            Self.route("10.1.0.202/32", .broadcast, table: .other(60), proto: .kernel, scope: .link),
            Self.route("2001:db8:7::7/128", .local, table: .local, proto: .kernel, scope: .global),
            Self.route("2001:db8:8::/64", .anycast, table: .local, proto: .kernel, scope: .global),
        ]
        #expect(commands(kernelOwn + byHand) == [
            "ip route add 10.1.0.0/25 dev p table local proto kernel scope link",
            "ip route add local 10.1.0.77/32 dev p table local proto kernel scope host",
            "ip route add broadcast 10.1.0.201/32 dev p table local proto kernel scope link",
            "ip route add broadcast 10.1.0.202/32 dev p table 60 proto kernel scope link",
            "ip route add local 2001:db8:7::7/128 dev p table local proto kernel",
            "ip route add anycast 2001:db8:8::/64 dev p table local proto kernel",
        ])
    }

    /// An `optimistic` IPv6 address comes back `optimistic`, after a line saying what the kernel
    /// needs for it to be so.
    @Test func anOptimisticAddressComesBackOptimistic() {
        var device = Self.tap
        device.addresses = [InterfaceAddress(local: IPAddress("2001:db8:99::1")!, prefixLength: 64, scope: "global", flags: ["optimistic", "tentative"])]
        let made = [Self.route("2001:db8:99::/64", proto: .kernel, scope: .global, metric: 256),
                    Self.route("ff00::/8", .multicast, table: .local, proto: .kernel, scope: .global, metric: 256)]
        let commands = RecreateCommands.commands(for: device, routes: made, namespace: nil)
        #expect(commands.suffix(2) == [
            "# its optimistic IPv6 addresses are so again only where net.ipv6.conf.p.optimistic_dad (taken from net.ipv6.conf.default.optimistic_dad) is 1 when they are added",
            "ip addr add 2001:db8:99::1/64 dev p optimistic",
        ], "\(commands)")
    }

    /// A managed neighbour entry comes back as `ip neigh add … managed`, with no state and no
    /// link-layer address (the kernel resolves it), and reads back from the journal.
    @Test func aManagedNeighbourEntryComesBack() throws {
        let managed = RecreateCommands.Neighbour(address: IPAddress("10.111.0.55")!, linkLayerAddress: nil, kind: .managed)
        let commands = RecreateCommands.commands(for: Self.tap, routes: Self.kernelOwn, namespace: "n", unnamedNamespace: nil, neighbours: [managed])
        #expect(commands.last == "ip -n n neigh add 10.111.0.55 managed dev p")
        let json = managed.json()
        #expect(String(decoding: json, as: UTF8.self) == #"{"dst":"10.111.0.55","state":"managed"}"#)
        #expect(try JSONDecoder().decode(RecreateCommands.Neighbour.self, from: Data(json)) == managed)
    }

    /// A route through a gateway whose subnet's kernel prefix route the commands delete before
    /// the routes, since a route of other attributes takes its place (review ip48 F1), is added
    /// after that route: IPv4 and IPv6, a prefix route with changed metrics or replaced by one of
    /// another protocol; and a gateway in the subnet of a `noprefixroute` address is reached only
    /// once the route added by hand for that subnet is there. The kernel lists the default route,
    /// and lower prefixes, before them.
    @Test func aGatewayRouteWaitsForTheRouteThatReachesItsGateway() throws {
        var device = Self.tap
        device.addresses += [
            InterfaceAddress(local: IPAddress("10.2.0.1")!, prefixLength: 24, scope: "global"),
            InterfaceAddress(local: IPAddress("10.3.0.1")!, prefixLength: 24, scope: "global", flags: ["noprefixroute"]),
        ]
        var ipv4 = Self.route("10.1.0.0/24", proto: .kernel, scope: .link, source: "10.1.0.1")
        ipv4.kernelMetrics = [2: 1300]
        var ipv6 = Self.route("2001:db8:7::/64", proto: .kernel, scope: .global, metric: 256)
        ipv6.kernelMetrics = [2: 1400]
        let routes = [
            Self.route("0.0.0.0/0", scope: .global, via: "10.1.0.254", metric: 200),
            Self.route("10.0.0.0/16", scope: .global, via: "10.2.0.9"),
            Self.route("10.0.1.0/24", scope: .global, via: "10.3.0.9"),
            ipv4,
            Self.route("10.2.0.0/24", proto: .static, scope: .link, source: "10.2.0.1"),
            Self.route("10.3.0.0/24", scope: .link, metric: 5, source: "10.3.0.1"),
            Self.route("::/0", scope: .global, via: "2001:db8:7::fe", metric: 200),
            Self.route("2001:db8::/48", scope: .global, via: "2001:db8:7::fe", metric: 1024),
            ipv6,
        ] + Self.kernelOwn.filter { $0.type != .unicast }
        let commands = RecreateCommands.commands(for: device, routes: routes, namespace: nil)
        func position(_ start: String) throws -> Int { try #require(commands.firstIndex { $0.hasPrefix(start) }, "\(start): \(commands)") }
        #expect(try position("ip route del 10.1.0.0/24 dev p proto kernel") < position("ip route add 10.1.0.0/24 dev p proto kernel"))
        #expect(try position("ip route add 10.1.0.0/24 ") < position("ip route add 0.0.0.0/0 via 10.1.0.254"), "\(commands)")
        #expect(try position("ip route del 10.2.0.0/24 dev p proto kernel") < position("ip route add 10.2.0.0/24 "))
        #expect(try position("ip route add 10.2.0.0/24 ") < position("ip route add 10.0.0.0/16 via 10.2.0.9"), "\(commands)")
        #expect(try position("ip route add 10.3.0.0/24 ") < position("ip route add 10.0.1.0/24 via 10.3.0.9"), "\(commands)")
        #expect(try position("ip route del 2001:db8:7::/64 dev p metric 256 proto kernel") < position("ip route add 2001:db8:7::/64 "))
        #expect(try position("ip route add 2001:db8:7::/64 ") < position("ip route add ::/0 via 2001:db8:7::fe"), "\(commands)")
        #expect(try position("ip route add 2001:db8:7::/64 ") < position("ip route add 2001:db8::/48 via 2001:db8:7::fe"), "\(commands)")
    }

    /// An IPv6 link-local gateway needs no route to it: its route keeps its place, on a device
    /// that has no link-local address of its own.
    @Test func aLinkLocalGatewayNeedsNoRoute() {
        var device = Self.tap
        device.addresses = []
        let routes = [Self.route("::/0", scope: .global, via: "fe80::1", metric: 1024), Self.route("2001:db8:9::/48", scope: .global, metric: 1024)]
        #expect(RecreateCommands.commands(for: device, routes: routes, namespace: nil).filter { $0.hasPrefix("ip route") } == [
            "ip route add ::/0 via fe80::1 dev p metric 1024",
            "ip route add 2001:db8:9::/48 dev p metric 1024",
        ])
    }
}
