import Foundation

/// The rules about what takes a tun or tap's address as its own source: routes that name it as
/// `src` (RTA_PREFSRC) and kernel tunnels that send from it (a vxlan's `local`). Deleting the
/// device deletes its addresses, which leaves those without a source: a main-table route is
/// deleted by the kernel, a route of another table stays but cannot be used, and a tunnel's
/// packets fail their output route lookup.
extension Heuristics {
    /// The IPv4 routes of every table that name a source address (`src`, RTA_PREFSRC), by that
    /// address's bytes: what `routesSourced(from:bySource:)` looks in.
    static func routesBySource(_ routes: [Route]) -> [[UInt8]: [Route]] {
        var result: [[UInt8]: [Route]] = [:]
        for route in routes where route.family == .inet {
            if let source = route.preferredSource { result[source.bytes, default: []].append(route) }
        }
        return result
    }

    /// The routes that would go with `interface`, or lose their source with it, though they do
    /// not leave through it alone: those of any table that take one of its IPv4 addresses as
    /// source, whatever their device or type (a blackhole route, one through a nexthop object).
    /// Deleting a device deletes its addresses; the kernel then deletes every such route of the
    /// main table (`fib_sync_down_addr`), and leaves those of other tables (policy routing) with a
    /// source no device has, so that they cannot be used, unless another device has the address
    /// too (`heldElsewhere`, asked only of an address some route takes). An IPv6 route only loses
    /// its source.
    static func routesSourced(from interface: NetworkInterface, bySource: [[UInt8]: [Route]],
                              heldElsewhere: ([UInt8]) -> Bool = { _ in false }) -> [Route] {
        guard !bySource.isEmpty else { return [] }
        var found: [Route] = []
        for address in interface.addresses where address.family == .inet && bySource[address.local.bytes] != nil && !heldElsewhere(address.local.bytes) {
            for route in bySource[address.local.bytes] ?? [] where route.nextHops.isEmpty || route.nextHops.contains(where: { $0.interfaceIndex != interface.index }) {
                found.append(route)
            }
        }
        return found
    }

    /// Why deleting a device would take `sourced` (see `routesSourced(from:bySource:)`) with it,
    /// or leave them unusable, in words: the main table's first, as the kernel deletes those.
    static func sourcedRoutesReason(_ sourced: [Route]) -> String? {
        let main = sourced.filter { $0.table == .main }
        let other = sourced.filter { $0.table != .main }
        guard let first = main.first ?? other.first, let source = first.preferredSource else { return nil }
        let described = main.isEmpty ? other : main
        let devices = Set(described.flatMap { route in route.nextHops.compactMap { hop in hop.interfaceIndex.map { hop.interfaceName ?? "ifindex \($0)" } } }).sorted()
        let what = first.type == .unicast ? first.display : "\(first.type.name) \(first.display)"
        let routes = described.count == 1 ? "a route" : "\(described.count) routes"
        let head = "\(routes)\(devices.isEmpty ? "" : " of \(devices.joined(separator: ", "))") (\(what)\(described.count > 1 ? ", …" : "")) "
            + "\(described.count == 1 ? "takes" : "take") its address \(source) as source, and "
        if !main.isEmpty { return head + "the kernel would delete \(main.count == 1 ? "it" : "them") with its addresses" }
        return head + "\(other.count == 1 ? "it" : "they") would be left with a source address no device has, which no packet can be sent from"
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
