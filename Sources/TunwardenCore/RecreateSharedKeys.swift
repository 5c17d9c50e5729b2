/// Giving back a device's routes beside other devices' routes of the same key (`routeKey`: prefix,
/// sources, type of service, table, metric), where the kernel keeps them in order and the order
/// decides which the lookup takes. IPv4 (`fib_table_insert`) puts a route `ip route prepend`
/// adds in front of every route of its key and one `ip route append` adds after all of them, and
/// its lookup takes the first it can use. IPv6 (`fib6_add_rt2node`) puts a route after every
/// route of its prefix and metric, whatever it is told; its lookup takes, of those, the one of
/// the highest preference, and the first of that preference.
extension RecreateCommands {
    /// How a device's routes of one key stood among other devices' routes of that key.
    public struct SharedRouteKey: Sendable, Equatable {
        /// The other devices' routes of the key, in the kernel's order.
        public var others: [Route] = []
        /// For each of the device's routes of the key, in the kernel's order, how many of
        /// `others` were listed before it.
        public var othersBefore: [Int] = []
    }

    /// For each key of a route of `device` that a route through another device among `routes` (a
    /// whole table, in the kernel's order) shares: how they stood (`SharedRouteKey`). Empty for a
    /// device none of whose routes shares its key.
    public static func sharedRouteKeys(of device: Int, among routes: [Route]) -> [String: SharedRouteKey] {
        let through = { (route: Route) in route.nextHops.contains { $0.interfaceIndex == device } }
        let destinations = Set(routes.filter(through).map(\.destination))
        guard !destinations.isEmpty else { return [:] }
        var keys: [String: SharedRouteKey] = [:]
        for route in routes where destinations.contains(route.destination) {
            let key = routeKey(route)
            if through(route) {
                keys[key, default: SharedRouteKey()].othersBefore.append(keys[key]?.others.count ?? 0)
            } else {
                keys[key, default: SharedRouteKey()].others.append(route)
            }
        }
        return keys.filter { !$0.value.others.isEmpty && !$0.value.othersBefore.isEmpty }
    }

    /// How one route is added beside other devices' routes of its key: in front of them
    /// (`prepend`), or after them, with the comment lines that say where that changes the order.
    struct Placement {
        var prepend = false
        var notes: [String] = []
    }

    /// `routes` (a device's routes to add, in the order the commands add them) put so that the
    /// kernel lists them where they were among other devices' routes of their keys (`shared`;
    /// `listed`: every route of the device, in the kernel's order), each with its placement. The
    /// IPv4 routes listed before every other device's route of their key are prepended, the last
    /// of them first, so that they come back in front, in their order; the others are appended,
    /// in order, after all of the other devices' routes. A route that comes back after another
    /// device's route it was listed before is named in a comment line with what that changes;
    /// for IPv6, where the kernel cannot prepend, only beside routes of the same preference,
    /// since the preference decides between the others whatever their order. (Where an IPv4
    /// route listed first reaches its gateway through another of those routes, they keep their
    /// order, and only the first is prepended.)
    static func placed(_ routes: [Route], listed: [Route], shared: [String: SharedRouteKey], device: NetworkInterface) -> [(Route, Placement?)] {
        guard !shared.isEmpty else { return routes.map { ($0, nil) } }
        // Each route's place among the device's routes of its key, in the kernel's order.
        var rank: [Int: Int] = [:]
        var taken = Set<Int>()
        for (position, route) in routes.enumerated() where shared[routeKey(route)] != nil {
            let key = routeKey(route)
            let alike = listed.indices.filter { routeKey(listed[$0]) == key }
            if let index = alike.indices.first(where: { !taken.contains(alike[$0]) && listed[alike[$0]] == route }) {
                taken.insert(alike[index])
                rank[position] = index
            }
        }
        var result: [(Route, Placement?)] = routes.map { ($0, nil) }
        var leading: [String: [Int]] = [:]
        for (position, route) in routes.enumerated() {
            guard let entry = shared[routeKey(route)], let index = rank[position], index < entry.othersBefore.count else { continue }
            let before = entry.othersBefore[index]
            if route.family == .inet, before == 0 {
                result[position].1 = Placement(prepend: true)
                leading[routeKey(route), default: []].append(position)
                continue
            }
            var after = Array(entry.others[before...])
            if route.family == .inet6 { after = after.filter { Heuristics.Standing($0) == Heuristics.Standing(route) } }
            let ahead = entry.others[..<before].contains { route.family == .inet || Heuristics.Standing($0) == Heuristics.Standing(route) }
            result[position].1 = Placement(notes: after.isEmpty ? [] : [orderNote(route, after: after, ahead: ahead, device: device)])
        }
        // Prepended one by one, the leading routes of a key come back in reverse: they are
        // added the last first, unless one reaches its gateway through the prefix itself.
        for (key, positions) in leading where positions.count > 1 {
            let prefix = shared[key]?.others.first?.destination
            let selfReached = positions.contains { position in
                routes[position].nextHops.contains { hop in
                    guard let gateway = hop.gateway, !hop.onlink, let prefix else { return false }
                    return prefix.contains(IPPrefix(address: gateway, length: gateway.family.bits)!)
                }
            }
            let ordered = positions.sorted { rank[$0]! < rank[$1]! }
            if selfReached {
                for position in ordered.dropFirst() {
                    let entry = shared[key]!
                    result[position].1 = Placement(notes: [orderNote(routes[position], after: entry.others, ahead: false, device: device)])
                }
            } else {
                for (slot, position) in zip(positions, ordered.reversed()) { result[slot] = (routes[position], Placement(prepend: true)) }
            }
        }
        return result
    }

    /// The comment line for `route` given back after `after`, other devices' routes of its key it
    /// was listed before; `ahead`, whether one such route of the same standing was before it
    /// already, so that it took no traffic the order gave it.
    static func orderNote(_ route: Route, after: [Route], ahead: Bool, device: NetworkInterface) -> String {
        func words(_ route: Route) -> String {
            let devices = route.nextHops.compactMap(\.interfaceName)
            return route.display + (devices.isEmpty ? "" : " dev \(devices.joined(separator: ", "))")
        }
        let one = after.count == 1
        let them = after.map(words).joined(separator: ", ")
        let own = "\(route.display) dev \(device.name)"
        if route.family == .inet {
            return "# \(own) was listed before \(them), of the same prefix, tos, table and metric; `ip route prepend` puts a route in front of every such route "
                + "and `append` after all of them, so the route below comes back after \(one ? "it" : "them"): "
                + "the kernel's lookup takes \(one ? "that route" : "those") first, and this one only where \(one ? "it" : "they") cannot be used"
        }
        let consequence = ahead
            ? "the kernel's lookup takes \(one ? "that route" : "those") first, and this one only where \(one ? "it" : "they") cannot be used"
            : "traffic to \(route.destination) that took this route goes through \(Set(after.flatMap { $0.nextHops.compactMap(\.interfaceName) }).sorted().joined(separator: ", ")) "
                + "instead, until \(one ? "that route goes" : "those routes go") or the kernel passes \(one ? "it" : "them") by"
        return "# \(own) was listed before \(them), of the same prefix, metric and preference; the kernel puts an IPv6 route after every route of its prefix and metric "
            + "(it cannot prepend), so the route below comes back after \(one ? "it" : "them"): \(consequence)"
    }
}
