/// The routes the kernel makes by itself for a device's addresses, and how the recreate commands
/// keep them as they were: a route is left to the kernel only when an address the commands add
/// makes exactly it (its key and every attribute); a route the kernel makes that was not there
/// (deleted by hand, or replaced by one of other attributes) is deleted again, with a command that
/// names it exactly, before a route that takes its place is added and otherwise after the routes; everything else is added as any route made
/// by hand (RecreateRoutes.swift).
extension RecreateCommands {
    /// One route the kernel makes when the commands add an address, as its table tells it apart:
    /// its type, destination, table and metric.
    struct KernelRoute: Equatable {
        var type: RouteType
        var destination: IPPrefix
        var table: RouteTable
        var metric: UInt32
    }

    /// The routes the kernel makes, with the attributes it gives them, when the commands add
    /// `interface`'s addresses (net/ipv4/fib_frontend.c fib_add_ifaddr, net/ipv6/addrconf.c): an
    /// IPv4 address's `local` route; on a device that is up its `broadcast` route, and, for a
    /// primary address without `noprefixroute`, its prefix route in table main with the
    /// address's metric and its subnet's `broadcast` route (not for a /31 or /32); for an IPv6
    /// address on a device that is up, its prefix route unless `noprefixroute` (metric the
    /// address's, or 256), its `local` route when it is added without duplicate address detection
    /// (`nodad`, as the commands add every address that had passed it), and the device's
    /// `ff00::/8` multicast route. None for a port of another device (a VRF's port has them in
    /// the VRF's table), nor for a device with `disable_ipv6` (IPv6).
    static func kernelRoutes(madeFor interface: NetworkInterface, kernelMarks: Bool = false) -> [KernelRoute] {
        guard (interface.master ?? 0) == 0 else { return [] }
        var made: [KernelRoute] = []
        func add(_ route: KernelRoute) { if !made.contains(route) { made.append(route) } }
        let added = interface.addresses.filter { !madeByKernel($0, of: interface, kernelMarks: kernelMarks) }
        for address in added where address.family == .inet {
            // A secondary address's routes take the primary of its subnet's address as source.
            add(KernelRoute(type: .local, destination: IPPrefix(address: address.local, length: 32)!, table: .local, metric: 0))
            guard interface.isUp else { continue }
            if let broadcast = address.broadcast, broadcast.bytes != [255, 255, 255, 255] {
                add(KernelRoute(type: .broadcast, destination: IPPrefix(address: broadcast, length: 32)!, table: .local, metric: 0))
            }
            guard !address.flags.contains("secondary"), let prefix = ipv4Prefix(of: address) else { continue }
            if !address.flags.contains("noprefixroute") {
                add(KernelRoute(type: .unicast, destination: prefix, table: .main, metric: address.metric ?? 0))
            }
            if address.prefixLength < 31 {
                var last = prefix.address.bytes
                for i in last.indices { last[i] |= ~IPPrefix.mask(byte: i, length: address.prefixLength) }
                add(KernelRoute(type: .broadcast, destination: IPPrefix(address: IPAddress(bytes: last)!, length: 32)!, table: .local, metric: 0))
            }
        }
        let ipv6 = added.filter { $0.family == .inet6 }
        guard interface.isUp, !ipv6.isEmpty, interface.linkSettings.ipv6Disabled != true else { return made }
        for address in ipv6 {
            if !address.flags.contains("noprefixroute"), address.peer == nil, address.prefixLength < 128,
               let prefix = IPPrefix(address: address.local, length: address.prefixLength) {
                add(KernelRoute(type: .unicast, destination: prefix, table: .main, metric: ipv6PrefixMetric(address)))
            }
            let withoutDAD = address.flags.contains("nodad") || !address.flags.contains("tentative")
            if withoutDAD, !address.flags.contains("optimistic"), !address.flags.contains("dadfailed") {
                add(KernelRoute(type: .local, destination: IPPrefix(address: address.local, length: 128)!, table: .local, metric: 0))
            }
        }
        add(KernelRoute(type: .multicast, destination: IPPrefix("ff00::/8")!, table: .local, metric: 256))
        return made
    }

    /// The prefix an IPv4 address's prefix route goes to (its peer's, when it has one), or nil
    /// when the kernel makes it none: a secondary address, a `0.x.x.x` prefix, or a /32 without
    /// a peer.
    static func ipv4Prefix(of address: InterfaceAddress) -> IPPrefix? {
        guard let prefix = IPPrefix(address: address.peer ?? address.local, length: address.prefixLength),
              prefix.address.bytes.first != 0, address.peer != nil || address.prefixLength < 32 else { return nil }
        return prefix
    }

    /// The metric of an IPv6 address's prefix route: the address's, or IP6_RT_PRIO_ADDRCONF (256).
    static func ipv6PrefixMetric(_ address: InterfaceAddress) -> UInt32 {
        address.metric.flatMap { $0 == 0 ? nil : $0 } ?? 256
    }

    /// Whether `route` has only what the kernel gives a route it makes for an address: its own
    /// protocol, no gateway, selector, metrics, realms or encapsulation, IPv6 preference medium,
    /// and no expiry unless `expiring` (an IPv6 prefix route of an address with a lifetime).
    static func plain(_ route: Route, expiring: Bool = false) -> Bool {
        route.routeProtocol == .kernel && route.tos == 0 && route.source == nil && (route.realms ?? 0) == 0 && route.kernelMetrics.isEmpty
            && route.congestionControl == nil && route.encapsulation == nil && route.nexthopObject == nil && (route.preference ?? 0) == 0
            && route.nextHops.count <= 1 && route.nextHops.allSatisfy { $0.gateway == nil && !$0.onlink && $0.encapsulation == nil }
            && (expiring || route.expiry == nil)
    }

    /// Whether the kernel makes `route` (a `proto kernel` one) again itself, exactly as it is,
    /// when the commands add `interface`'s addresses, so that they leave it out: an address's
    /// `local` route, an IPv4 address's `broadcast` routes (the one it was given, and its
    /// subnet's), the prefix route of an address that makes one (not `noprefixroute`, not
    /// secondary), in table main and with the address's metric (IPv6: or 256) and source, IPv6's
    /// subnet-router `anycast` route of an address's prefix, its `fe80::/64` route and its
    /// `ff00::/8` multicast route. The kernel puts the local, broadcast, anycast and multicast
    /// ones in table local (a VRF's port, in its VRF's table) and a prefix route never there. A
    /// route of that key that was changed by hand (`mtu`, `advmss`, `pref high`, another source,
    /// …) is not the kernel's: the commands delete the kernel's and add it.
    static func kernelMade(_ route: Route, of interface: NetworkInterface) -> Bool {
        let port = (interface.master ?? 0) > 0
        let inLocalTable = route.table == .local || port
        let host = route.destination.length == route.family.bits
        let metric = route.metric ?? 0
        let addresses = interface.addresses.filter { $0.family == route.family }
        switch route.type {
        case .unicast:
            guard route.table == .main || (port && route.table != .local) else { return false }
            if route.destination == IPPrefix("fe80::/64") { return plain(route) && metric == 256 }
            if route.family == .inet {
                return route.scope == .link && plain(route) && addresses.contains { address in
                    !address.flags.contains("noprefixroute") && !address.flags.contains("secondary") && ipv4Prefix(of: address) == route.destination
                        && metric == address.metric ?? 0 && route.preferredSource == address.local
                }
            }
            return route.preferredSource == nil && addresses.contains { address in
                let prefixes = [IPPrefix(address: address.local, length: address.prefixLength), address.peer.flatMap { IPPrefix(address: $0, length: 128) }]
                return !address.flags.contains("noprefixroute") && prefixes.contains(route.destination) && metric == ipv6PrefixMetric(address)
                    && plain(route, expiring: address.validLifetime != nil)
            }
        case .local:
            return inLocalTable && host && metric == 0 && plain(route) && addresses.contains { $0.local == route.destination.address }
        case .broadcast:
            guard inLocalTable, host, route.family == .inet, metric == 0, plain(route) else { return false }
            return addresses.contains { address in
                if address.broadcast == route.destination.address { return true }
                guard address.prefixLength < 31, let subnet = IPPrefix(address: address.local, length: address.prefixLength) else { return false }
                // The subnet's broadcast address, and on older kernels its network address too.
                var last = subnet.address.bytes
                for i in last.indices { last[i] |= ~IPPrefix.mask(byte: i, length: address.prefixLength) }
                return route.destination.address == subnet.address || route.destination.address.bytes == last
            }
        case .anycast:
            guard inLocalTable, host, route.family == .inet6, plain(route) else { return false }
            return addresses.contains { IPPrefix(address: $0.local, length: $0.prefixLength)?.address == route.destination.address }
        case .multicast:
            return inLocalTable && route.destination == IPPrefix("ff00::/8") && metric == 256 && plain(route)
        default:
            return false
        }
    }

    /// Whether `route` is the kernel's `made`, as the kernel makes it.
    static func isKernelRoute(_ route: Route, _ made: KernelRoute, of interface: NetworkInterface) -> Bool {
        route.type == made.type && route.destination == made.destination && route.table == made.table && (route.metric ?? 0) == made.metric
            && kernelMade(route, of: interface)
    }

    /// The commands that delete each route the kernel makes for the addresses the commands add
    /// (`kernelRoutes(madeFor:)`) that `routes` lacks: one deleted by hand, or replaced by one of
    /// other attributes. Each names the device, table, metric and `proto kernel`, so that it
    /// deletes that route alone. Those whose place (prefix, table, metric) a route of `adding`
    /// takes go right after the addresses, before it is added (`first`); the others after every
    /// route (`last`), since the kernel checks a route when it is added against what they give
    /// (a `src` needs its address's `local` route, a gateway a route to it), as it did when the
    /// routes were first made, before these were deleted. `displaced`: the destinations of the
    /// unicast routes `first` deletes, which reach no gateway until the route taking their place
    /// is added.
    static func kernelRouteDeletions(_ interface: NetworkInterface, routes: [Route], adding: [Route], ip: String, name: String,
                                     kernelMarks: Bool = false) -> (first: [String], last: [String], displaced: [IPPrefix]) {
        var first: [String] = [], last: [String] = [], displaced: [IPPrefix] = []
        for made in kernelRoutes(madeFor: interface, kernelMarks: kernelMarks) where !routes.contains(where: { isKernelRoute($0, made, of: interface) }) {
            var delete = "\(ip) route del " + (made.type == .unicast ? "" : "\(made.type.name) ") + "\(made.destination) dev \(name)"
            if made.table != .main { delete += " table \(made.table)" }
            if made.metric != 0 { delete += " metric \(made.metric)" }
            delete += " proto kernel"
            let taken = adding.contains { $0.destination == made.destination && $0.table == made.table && ($0.metric ?? 0) == made.metric }
            if taken {
                first.append(delete)
                if made.type == .unicast { displaced.append(made.destination) }
            } else {
                last.append(delete)
            }
        }
        return (first, last, displaced)
    }
}
