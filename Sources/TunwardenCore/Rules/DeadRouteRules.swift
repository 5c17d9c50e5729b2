import Foundation

/// Judging routes into dead tunnels: unicast routes whose every next hop leaves through an
/// orphaned tunnel or one without carrier, critical when together they capture default traffic.
/// The finding, dead-tunnel-route, is declared with the other route findings in RouteRules.swift.
extension Heuristics {
    /// A tunnel-style interface that traffic cannot leave through: orphaned, or without carrier.
    static func isDead(_ assessed: AssessedInterface) -> Bool {
        assessed.state == .orphaned || assessed.interface.carrier == false
    }

    /// Routes of type unicast whose every next hop leaves through a dead tunnel, grouped by
    /// interface. Critical when the dead routes of a family and table together capture default
    /// traffic: a default route, or more-specific routes covering all but at most 1/256 of the
    /// space default traffic goes to (0/1 + 128/1, or the 1/8 … 128/1 cascade; for IPv6 its
    /// internet addresses, 2000::/3, which `::/1` or `2000::/3` alone cover), which proxies and
    /// VPNs add to take all traffic without touching the default route.
    static func deadRouteFindings(_ interfaces: [AssessedInterface], snapshot: Snapshot) -> [Finding] {
        let unicast = snapshot.routes.filter { $0.type == .unicast && !$0.nextHops.isEmpty }
        guard !unicast.isEmpty else { return [] }
        // Only interfaces routes leave through can matter; thousands of others are not visited.
        let hopIndices = Set(unicast.flatMap { $0.nextHops.compactMap(\.interfaceIndex) })
        let positions = IndexPositions(count: interfaces.count) { interfaces[$0].interface.index }
        var deadPosition: [Int: Int] = [:]
        for index in hopIndices {
            // (The routes into a closed tuntaposx device are judged as a gone tunnel's, by
            // `splitDefaultFindings`, which can offer their removal.)
            if let position = positions.position(of: index), isDead(interfaces[position]), interfaces[position].interface.tuntaposx != .closed {
                deadPosition[index] = position
            }
        }
        guard !deadPosition.isEmpty else { return [] }
        func isDeadHop(_ hop: NextHop) -> Bool { hop.interfaceIndex.map { deadPosition[$0] != nil } ?? false }

        var deadRoutes: [Route] = []
        var liveRoutes: [Route] = []
        for route in unicast {
            if route.nextHops.allSatisfy(isDeadHop) { deadRoutes.append(route) } else { liveRoutes.append(route) }
        }
        func group(_ route: Route) -> String { "\(route.family.rawValue)|\(route.table)" }
        // Which (family, table) groups capture default traffic.
        var capturing = Set<String>()
        for (key, routes) in Dictionary(grouping: deadRoutes, by: group) {
            let shadowedDefault = routes.contains { route in
                route.destination.length == 0 && liveRoutes.contains { other in
                    other.destination.length == 0 && other.family == route.family && other.table == route.table
                        && (other.metric ?? 0) < (route.metric ?? 0)
                }
            }
            let prefixes = routes.filter { $0.destination.length > 0 || !shadowedDefault }.map(\.destination)
            if defaultShare(of: prefixes) >= 255.0 / 256.0 { capturing.insert(key) }
        }
        var routesByInterface: [Int: [Route]] = [:]
        for route in deadRoutes {
            for index in Set(route.nextHops.compactMap(\.interfaceIndex)) { routesByInterface[index, default: []].append(route) }
        }
        var findings: [Finding] = []
        for index in routesByInterface.keys.sorted() {
            guard let routes = routesByInterface[index], let position = deadPosition[index] else { continue }
            let assessed = interfaces[position]
            let captures = routes.contains { capturing.contains(group($0)) }
            let interface = assessed.interface
            let why = assessed.state == .orphaned ? "is orphaned (no process attached)" : "has no carrier"
            let list = routes.map(\.display).joined(separator: ", ")
            var evidence = "\(routes.count) \(routes.count == 1 ? "route sends" : "routes send") traffic into \(interface.kind.rawValue) \(interface.name), which \(why): \(list)."
            if captures {
                let families = Set(routes.filter { capturing.contains(group($0)) }.map(\.family))
                let names = families.sorted { $0.rawValue < $1.rawValue }.map { $0 == .inet ? "IPv4" : "IPv6" }.joined(separator: " and ")
                evidence += " Together they capture all \(names) traffic that would take the default route, so it is blackholed: this is what turns a leaked tunnel into an outage."
            } else {
                evidence += " Traffic to these destinations is blackholed."
            }
            if assessed.state == .orphaned {
                evidence += " They go away with the device when it is reaped."
            }
            findings.append(Finding(id: FindingID.deadTunnelRoute, severity: captures ? .critical : .warning,
                                    ifname: interface.name, reapable: false, evidence: evidence, routes: routes))
        }
        return findings
    }
}
