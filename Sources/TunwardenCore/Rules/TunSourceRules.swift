import Foundation

/// The rules about what takes a tun or tap's address as its own source: routes that name it as
/// `src` (RTA_PREFSRC) and kernel tunnels that send from it (a vxlan's `local`). Deleting the
/// device deletes its addresses, which leaves those without a source: an IPv4 route of the main
/// table is deleted by the kernel, one of another table stays but cannot be used, an IPv6 route
/// of any table stays and still sends from the address no device has, and a tunnel's packets
/// fail their output route lookup.
extension Heuristics {
    /// The routes of every table and both families that name a source address (`src`,
    /// RTA_PREFSRC), by that address's bytes: what `routesSourced(from:bySource:)` looks in.
    static func routesBySource(_ routes: [Route]) -> [[UInt8]: [Route]] {
        var result: [[UInt8]: [Route]] = [:]
        for route in routes {
            if let source = route.preferredSource { result[source.bytes, default: []].append(route) }
        }
        return result
    }

    /// The routes that would go with `interface`, or lose their source with it, though they do
    /// not leave through it alone: those of any table that take one of its addresses, IPv4 or
    /// IPv6, as source, whatever their device or type (a blackhole route, one through a nexthop
    /// object), unless another device has the address too (`heldElsewhere`, asked only of an
    /// address some route takes). Deleting a device deletes its addresses; the kernel then
    /// deletes every such IPv4 route of the main table (`fib_sync_down_addr`), and leaves those of
    /// other tables (policy routing) with a source no device has, so that they cannot be used.
    /// It keeps an IPv6 route of any table, which goes on sending from the address, now no
    /// device's, so that no reply finds its way back (the kernel checks `src` only when the route
    /// is added).
    static func routesSourced(from interface: NetworkInterface, bySource: [[UInt8]: [Route]],
                              heldElsewhere: ([UInt8]) -> Bool = { _ in false }) -> [Route] {
        guard !bySource.isEmpty else { return [] }
        var found: [Route] = []
        for address in interface.addresses where bySource[address.local.bytes] != nil && !heldElsewhere(address.local.bytes) {
            for route in bySource[address.local.bytes] ?? [] where route.nextHops.isEmpty || route.nextHops.contains(where: { $0.interfaceIndex != interface.index }) {
                found.append(route)
            }
        }
        return found
    }

    /// What becomes of routes that take an address as source once no device has it, as a clause
    /// ("the kernel would delete it with its addresses"): IPv4 routes of the main table are
    /// deleted, IPv4 routes of other tables are left unusable, IPv6 routes of any table are left
    /// sending from an address no device has. The audit and the reaper's last look say it alike.
    public static func sourceLossConsequence(ipv6: Bool, mainTable: Bool, count: Int) -> String {
        let one = count == 1
        if ipv6 {
            return "the kernel would keep \(one ? "it" : "them") and go on sending from that address, which no device would have, so that no reply comes back"
        }
        if mainTable { return "the kernel would delete \(one ? "it" : "them") with its addresses" }
        return "\(one ? "it" : "they") would be left with a source address no device has, which no packet can be sent from"
    }

    /// Why deleting a device would take `sourced` (see `routesSourced(from:bySource:)`) with it,
    /// or leave them unusable or sending from an address no device has, in words: the IPv4 main
    /// table's first, as the kernel deletes those, then other IPv4 tables', then IPv6 routes.
    static func sourcedRoutesReason(_ sourced: [Route]) -> String? {
        let main = sourced.filter { $0.family == .inet && $0.table == .main }
        let other = sourced.filter { $0.family == .inet && $0.table != .main }
        let inet6 = sourced.filter { $0.family == .inet6 }
        let described = [main, other, inet6].first { !$0.isEmpty } ?? []
        guard let first = described.first, let source = first.preferredSource else { return nil }
        let devices = Set(described.flatMap { route in route.nextHops.compactMap { hop in hop.interfaceIndex.map { hop.interfaceName ?? "ifindex \($0)" } } }).sorted()
        let what = first.type == .unicast ? first.display : "\(first.type.name) \(first.display)"
        let routes = described.count == 1 ? "a route" : "\(described.count) routes"
        return "\(routes)\(devices.isEmpty ? "" : " of \(devices.joined(separator: ", "))") (\(what)\(described.count > 1 ? ", …" : "")) "
            + "\(described.count == 1 ? "takes" : "take") its address \(source) as source, and "
            + sourceLossConsequence(ipv6: first.family == .inet6, mainTable: first.table == .main, count: described.count)
    }

    /// The kernel tunnels that send from each address (`NetworkInterface.tunnelLocal`), by the
    /// address's bytes, each named `KIND NAME`: what `tunnelsSourced(from:byLocal:)` looks in. A
    /// tunnel whose underside is in another namespace (IFLA_LINK_NETNSID) sends from an address
    /// there, and is left out.
    static func tunnelsByLocal(_ interfaces: some Sequence<NetworkInterface>) -> [[UInt8]: [String]] {
        var result: [[UInt8]: [String]] = [:]
        for interface in interfaces where interface.linkNetnsID == nil {
            guard let local = interface.tunnelLocal else { continue }
            result[local.bytes, default: []].append("\(interface.infoKind ?? interface.kind.rawValue) \(interface.name)")
        }
        return result
    }

    /// The kernel tunnels that send from one of `interface`'s addresses, of either family, with
    /// that address, unless another device has it too (`heldElsewhere`): once it is deleted, no
    /// device of the namespace has their source address, and every packet they encapsulate fails
    /// its output route lookup.
    static func tunnelsSourced(from interface: NetworkInterface, byLocal: [[UInt8]: [String]],
                               heldElsewhere: ([UInt8]) -> Bool = { _ in false }) -> [(address: IPAddress, tunnels: [String])] {
        guard !byLocal.isEmpty else { return [] }
        var found: [(address: IPAddress, tunnels: [String])] = []
        for address in interface.addresses {
            guard let tunnels = byLocal[address.local.bytes], !heldElsewhere(address.local.bytes) else { continue }
            found.append((address.local, tunnels))
        }
        return found
    }

    /// Why kernel tunnels sending from a device's address tie it to them, in words (nil when
    /// none do); the reaper's last look says it the same way.
    public static func tunnelLocalReason(_ tunnels: [String], address: IPAddress?, now: Bool = false) -> String? {
        guard let first = tunnels.first else { return nil }
        let named = tunnels.count == 1 ? first : "\(first) and \(tunnels.count - 1) more"
        let its = address.map { "its address \($0)" } ?? "its address"
        return "\(named) \(now ? "now " : "")\(tunnels.count == 1 ? "sends" : "send") from \(its) (`local`), and would send nothing once it is gone"
    }
}
