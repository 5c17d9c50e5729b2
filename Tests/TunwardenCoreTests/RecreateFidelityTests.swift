import Testing
import TunwardenCore

/// What an iproute2 round trip showed the recreate commands to get wrong (review ip45), in the
/// commands themselves: `proto kernel` routes an address cannot make, the kernel's routes changed
/// or deleted by hand, routes sharing a key with another device's, and IPv6 settings.
@Suite struct RecreateFidelityTests {
    static func route(_ prefix: String, _ type: RouteType = .unicast, table: RouteTable = .main, metric: UInt32? = nil, scope: RouteScope? = nil,
                      source: String? = nil, index: Int = 4, via: String? = nil) -> Route {
        var route = Route(destination: IPPrefix(prefix)!, type: type, table: table, metric: metric, routeProtocol: .kernel, scope: scope,
                          nextHops: [NextHop(gateway: via.flatMap { IPAddress($0) }, interfaceIndex: index)])
        route.preferredSource = source.flatMap { IPAddress($0) }
        return route
    }

    static func tap(_ addresses: [InterfaceAddress]) -> NetworkInterface {
        var device = NetworkInterface(index: 4, name: "p", kind: .tap, flags: ["BROADCAST", "MULTICAST", "UP"])
        device.addresses = addresses
        return device
    }

    static func address(_ text: String, flags: [String] = [], metric: UInt32? = nil) -> InterfaceAddress {
        let parts = text.split(separator: "/")
        var address = InterfaceAddress(local: IPAddress(String(parts[0]))!, prefixLength: Int(parts[1])!, scope: "global", flags: flags)
        address.metric = metric
        return address
    }

    static func routeLines(_ device: NetworkInterface, _ routes: [Route]) -> [String] {
        RecreateCommands.commands(for: device, routes: routes, namespace: nil).filter { $0.hasPrefix("ip route") }
    }

    /// A `proto kernel` prefix route is left to the kernel only where an address makes exactly
    /// it: not for an address `noprefixroute` (IPv4 and IPv6), nor in another table, nor with
    /// another metric than the address's (IPv6: than 256), nor with another source.
    @Test func aPrefixRouteAnAddressCannotMakeComesBack() {
        let device = Self.tap([Self.address("10.45.21.1/24", flags: ["noprefixroute"]), Self.address("10.45.22.1/24", metric: 50),
                               Self.address("2001:db8:21::1/64", flags: ["noprefixroute"]), Self.address("2001:db8:22::1/64")])
        let kernelOwn = [
            Self.route("10.45.21.1/32", .local, table: .local, scope: .host, source: "10.45.21.1"),
            Self.route("10.45.21.255/32", .broadcast, table: .local, scope: .link, source: "10.45.21.1"),
            Self.route("10.45.22.1/32", .local, table: .local, scope: .host, source: "10.45.22.1"),
            Self.route("10.45.22.255/32", .broadcast, table: .local, scope: .link, source: "10.45.22.1"),
            Self.route("10.45.22.0/24", metric: 50, scope: .link, source: "10.45.22.1"),
            Self.route("2001:db8:21::1/128", .local, table: .local, metric: 0), Self.route("2001:db8:22::1/128", .local, table: .local, metric: 0),
            Self.route("2001:db8:22::/64", metric: 256), Self.route("ff00::/8", .multicast, table: .local, metric: 256),
        ]
        let byHand = [
            Self.route("10.45.21.0/24", scope: .link, source: "10.45.21.1"),
            Self.route("10.45.22.0/24", scope: .link, source: "10.45.22.1"),
            Self.route("10.45.22.0/24", table: .other(100), metric: 50, scope: .link, source: "10.45.22.1"),
            Self.route("2001:db8:21::/64", metric: 256),
            Self.route("2001:db8:22::/64", metric: 300),
        ]
        #expect(Self.routeLines(device, kernelOwn + byHand) == [
            "ip route add 10.45.21.0/24 dev p proto kernel scope link src 10.45.21.1",
            "ip route add 10.45.22.0/24 dev p proto kernel scope link src 10.45.22.1",
            "ip route add 10.45.22.0/24 dev p table 100 metric 50 proto kernel scope link src 10.45.22.1",
            "ip route add 2001:db8:21::/64 dev p metric 256 proto kernel",
            "ip route add 2001:db8:22::/64 dev p metric 300 proto kernel",
        ])
    }

    /// A kernel prefix route changed by hand (metrics, `pref high`) is not the kernel's: the
    /// commands delete the one the address makes and add it as it was.
    @Test func aChangedKernelRouteReplacesTheKernels() {
        let device = Self.tap([Self.address("10.45.12.1/24"), Self.address("2001:db8:12::1/64")])
        var mtu = Self.route("10.45.12.0/24", scope: .link, source: "10.45.12.1")
        mtu.kernelMetrics = [2: 1300, 8: 1000]
        var preferred = Self.route("2001:db8:12::/64", metric: 256)
        preferred.preference = 1
        let kernelOwn = [
            Self.route("10.45.12.1/32", .local, table: .local, scope: .host, source: "10.45.12.1"),
            Self.route("10.45.12.255/32", .broadcast, table: .local, scope: .link, source: "10.45.12.1"),
            Self.route("2001:db8:12::1/128", .local, table: .local, metric: 0), Self.route("ff00::/8", .multicast, table: .local, metric: 256),
        ]
        #expect(Self.routeLines(device, kernelOwn + [mtu, preferred]) == [
            "ip route del 10.45.12.0/24 dev p proto kernel",
            "ip route del 2001:db8:12::/64 dev p metric 256 proto kernel",
            "ip route add 10.45.12.0/24 dev p proto kernel scope link src 10.45.12.1 mtu 1300 advmss 1000",
            "ip route add 2001:db8:12::/64 dev p metric 256 proto kernel pref high",
        ])
    }

    /// A kernel route deleted by hand is deleted after the routes, which may need it (a source
    /// needs its address's `local` route, a gateway a route to it); one whose place a route to
    /// add takes, before that route, and a route through a gateway in its subnet after that
    /// route, which reaches the gateway again (review ip48 F1).
    @Test func kernelRoutesAreDeletedWhereTheRoutesNeedThem() {
        let device = Self.tap([Self.address("10.45.11.1/24")])
        var sourced = Self.route("10.50.0.0/16", source: "10.45.11.1", via: "10.45.11.9")
        sourced.routeProtocol = .boot
        let replacement = Self.route("10.45.11.0/24", scope: .link, source: "10.45.11.1")
        var changed = replacement
        changed.kernelMetrics = [2: 1300]
        let broadcast = Self.route("10.45.11.255/32", .broadcast, table: .local, scope: .link, source: "10.45.11.1")
        #expect(Self.routeLines(device, [sourced, changed, broadcast]) == [
            "ip route del 10.45.11.0/24 dev p proto kernel",
            "ip route add 10.45.11.0/24 dev p proto kernel scope link src 10.45.11.1 mtu 1300",
            "ip route add 10.50.0.0/16 via 10.45.11.9 dev p src 10.45.11.1",
            "ip route del local 10.45.11.1/32 dev p table local proto kernel",
        ])
    }

    /// The kernel's routes deleted by hand stay deleted: each is deleted after the addresses.
    @Test func kernelRoutesDeletedByHandAreDeletedAgain() {
        let device = Self.tap([Self.address("10.45.11.1/24"), Self.address("2001:db8:11::1/64")])
        let commands = RecreateCommands.commands(for: device, routes: [], namespace: "n")
        #expect(Array(commands.drop { !$0.contains("route") }) == [
            "ip -n n route del local 10.45.11.1/32 dev p table local proto kernel",
            "ip -n n route del 10.45.11.0/24 dev p proto kernel",
            "ip -n n route del broadcast 10.45.11.255/32 dev p table local proto kernel",
            "ip -n n route del 2001:db8:11::/64 dev p metric 256 proto kernel",
            "ip -n n route del local 2001:db8:11::1/128 dev p table local proto kernel",
            "ip -n n route del multicast ff00::/8 dev p table local metric 256 proto kernel",
        ], "\(commands)")
        // A device that is down gets only the IPv4 address's local route; a port of another
        // device (a VRF's, whose table is not known) none.
        var down = device
        down.flags = ["BROADCAST", "MULTICAST"]
        #expect(RecreateCommands.commands(for: down, routes: [], namespace: nil).filter { $0.contains(" route ") }
            == ["ip route del local 10.45.11.1/32 dev p table local proto kernel"])
        var port = device
        port.master = 9
        #expect(!RecreateCommands.commands(for: port, routes: [], namespace: nil).contains { $0.contains(" route ") })
    }

    /// A route sharing its key with another device's is prepended (IPv4, listed first) or
    /// appended, not added.
    @Test func aRouteSharingItsKeyIsAddedBesideTheOther() {
        let own = [Self.route("10.60.0.0/16", via: "10.45.31.9"), Self.route("10.61.0.0/16"), Self.route("2001:db8:60::/48", metric: 5)]
            .map { route in var route = route; route.routeProtocol = .boot; return route }
        let live = [Self.route("10.60.0.0/16", index: 3, via: "10.0.0.2"), Self.route("10.61.0.0/16", index: 3, via: "10.0.0.2"),
                    Self.route("2001:db8:60::/48", metric: 5, index: 3), Self.route("10.61.0.0/16", table: .other(5), index: 3)]
        let table = [live[0], own[0], own[1], live[1], live[2], own[2], live[3]]
        let shared = RecreateCommands.sharedRouteKeys(of: 4, among: table)
        #expect(shared.count == 3)
        let device = Self.tap([Self.address("10.45.31.1/24")])
        let lines = RecreateCommands.commands(forRun: [RecreateCommands.RunDevice(device, routes: own, sharedRouteKeys: shared)],
                                              namespace: nil, unnamedNamespace: nil)[0].filter { $0.contains(" route ") && !$0.contains(" route del ") }
        #expect(lines == [
            "ip route append 10.60.0.0/16 via 10.45.31.9 dev p",
            "ip route prepend 10.61.0.0/16 dev p",
            "ip route append 2001:db8:60::/48 dev p metric 5",
        ])
        #expect(RecreateCommands.sharedRouteKeys(of: 4, among: own).isEmpty)
    }

    /// Interleaved with another device's routes of their key (review ip10, F2), IPv4 routes listed
    /// before every other one are prepended, the last first, so that they come back in front in
    /// their order; later ones are appended, named where they come back after a route they were
    /// listed before. An IPv6 route listed before another of the same preference is named too,
    /// one of another preference is not (the preference decides, not the order).
    @Test func interleavedRoutesArePrependedInReverseOrNamed() {
        func own(_ via: String?, _ prefix: String = "10.70.0.0/16", metric: UInt32? = nil) -> Route {
            var route = Self.route(prefix, metric: metric, via: via)
            route.routeProtocol = .boot
            return route
        }
        let live = (1...2).map { Self.route("10.70.0.0/16", index: 3, via: "10.0.0.\($0)") }
        let mine = [own(nil), own("10.45.31.9"), own("10.45.31.8"), own(nil, "2001:db8:70::/48", metric: 5), own(nil, "2001:db8:71::/48", metric: 5)]
        var high = Self.route("2001:db8:71::/48", metric: 5, index: 3)
        high.preference = 1
        let table = [mine[0], mine[1], live[0], mine[2], live[1], mine[3], Self.route("2001:db8:70::/48", metric: 5, index: 3), mine[4], high]
        let device = Self.tap([Self.address("10.45.31.1/24")])
        let shared = RecreateCommands.sharedRouteKeys(of: 4, among: table)
        let lines = RecreateCommands.commands(forRun: [RecreateCommands.RunDevice(device, routes: mine, sharedRouteKeys: shared)],
                                              namespace: nil, unnamedNamespace: nil)[0].filter { ($0.contains(" route ") && !$0.contains(" route del ")) || $0.hasPrefix("# ") }
        #expect(lines.filter { !$0.hasPrefix("# ") } == [
            "ip route prepend 10.70.0.0/16 via 10.45.31.9 dev p",
            "ip route prepend 10.70.0.0/16 dev p",
            "ip route append 10.70.0.0/16 via 10.45.31.8 dev p",
            "ip route append 2001:db8:70::/48 dev p metric 5",
            "ip route append 2001:db8:71::/48 dev p metric 5",
        ], "\(lines)")
        let notes = lines.filter { $0.hasPrefix("# ") }
        #expect(notes.count == 2, "\(notes)")
        #expect(notes.first?.hasPrefix("# 10.70.0.0/16 via 10.45.31.8 dev p was listed before 10.70.0.0/16 via 10.0.0.2") == true, "\(notes)")
        #expect(notes.last?.contains("2001:db8:70::/48 dev p was listed before 2001:db8:70::/48, of the same prefix, metric and preference") == true, "\(notes)")
        #expect(notes.last?.contains("(it cannot prepend)") == true)
    }

    /// `disable_ipv6` comes back by `sysctl` in the namespace, before the device is up; the mode
    /// `stable_secret` is named, not written as a command the kernel refuses; a token comes back
    /// after the flags, with `arp` on around it on a device without ARP.
    @Test func ipv6SettingsComeBackOrAreNamed() {
        var device = NetworkInterface(index: 4, name: "r.2", kind: .tun, flags: ["POINTOPOINT", "NOARP", "MULTICAST", "UP"])
        device.linkSettings.ipv6AddressGeneration = 2
        device.linkSettings.ipv6Disabled = true
        device.linkSettings.ipv6Token = IPAddress("::1:2:3:4")
        #expect(RecreateCommands.commands(for: device, routes: [], namespace: "blue") == [
            "ip -n blue tuntap add dev r.2 mode tun",
            "# its IPv6 address generation mode stable_secret is not recreated (it comes back eui64): its secret, net.ipv6.conf.r.2.stable_secret, "
                + "cannot be read over netlink; with the secret, `ip netns exec blue sysctl -w net/ipv6/conf/r.2/stable_secret=SECRET` before it is up sets both again",
            "ip netns exec blue sysctl -qw net/ipv6/conf/r.2/disable_ipv6=1",
            "ip -n blue link set dev r.2 arp on",
            "ip -n blue token set ::1:2:3:4 dev r.2",
            "ip -n blue link set dev r.2 arp off",
            "ip -n blue link set dev r.2 up",
        ])
        #expect(RecreateCommands.commands(for: device, routes: [], namespace: nil).contains("sysctl -qw net/ipv6/conf/r.2/disable_ipv6=1"))
        var plain = LinkSettings()
        #expect(plain.isNewDeviceDefault)
        plain.ipv6Disabled = false
        #expect(plain.isNewDeviceDefault)
        plain.ipv6Token = IPAddress("::9")
        #expect(!plain.isNewDeviceDefault)
    }
}
