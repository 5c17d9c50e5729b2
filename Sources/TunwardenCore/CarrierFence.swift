import Foundation

/// What the reaper's fence of a single-queue tun/tap device would change in the routing of its
/// namespace. The reaper fences such a device by attaching a queue to it, and the attach turns its
/// carrier on (drivers/net/tun.c). While a device that is up has no carrier and
/// `net.ipv4.conf.{all,DEVICE}.ignore_routes_with_linkdown` (or IPv6's) is set, the kernel flags
/// the next hops through it dead and route lookups pass them by: traffic takes another route. With
/// the carrier on they are live again, and for as long as the fence holds their traffic would go
/// into the device, into the reaper's own queue, where it is lost. Such a device is not fenced
/// that way: the plan leaves it out, and the reaper checks again right before attaching.
public enum CarrierFence {
    /// The routes through a device that its carrier coming on would make live, each as
    /// `describe` gives it, by what the kernel is known to do with them now.
    public struct Woken: Sendable, Equatable {
        /// Routes whose hop through the device the kernel flags dead: it has no carrier while
        /// ignore_routes_with_linkdown is set for it or for all.
        public var passedBy: [String] = []
        /// Multipath routes whose linkdown hop through it route lookups never chose: the kernel
        /// shares out no flows to it, having last shared out the route's flows while the setting
        /// was on.
        public var notShared: [String] = []
        /// Multipath routes whose linkdown hop through it route lookups could not settle (their
        /// lookups did not reach the route, or were not made): it may take no flows now.
        public var unknown: [String] = []

        public init(passedBy: [String] = [], notShared: [String] = [], unknown: [String] = []) {
            (self.passedBy, self.notShared, self.unknown) = (passedBy, notShared, unknown)
        }

        /// Every route, those passed by first.
        public var all: [String] { passedBy + notShared + unknown }
        public var isEmpty: Bool { passedBy.isEmpty && notShared.isEmpty && unknown.isEmpty }
    }

    /// The routes through `interface` whose next hop through it the kernel passes by while the
    /// device is up, or may: those its carrier coming on would make live. For a single path, the
    /// hops the kernel flags dead (`NextHop.skippedByKernel`). For a linkdown hop of a multipath
    /// route, whose flag follows the current setting and not the shares lookups go by (see
    /// `HopFlows`), every one that route lookups were not seen to choose (`takesFlows`), flagged
    /// or not: erring toward not fencing; but not one of a table that no policy rule looks up
    /// (`policyRules`, when known), which no traffic reaches whatever its shares. Empty for a
    /// multi-queue device (fenced without an attach), for one that is down (its routes stay dead
    /// whatever its carrier), and for one with no such route.
    public static func wokenRoutes(of interface: NetworkInterface, routes: [Route], policyRules: [PolicyRule]? = nil) -> [Route] {
        classified(interface, routes: routes, policyRules: policyRules).map(\.route)
    }

    /// `wokenRoutes`, each `describe`d under what is known of it.
    public static func woken(of interface: NetworkInterface, routes: [Route], policyRules: [PolicyRule]? = nil) -> Woken {
        var woken = Woken()
        for (route, flows) in classified(interface, routes: routes, policyRules: policyRules) {
            switch flows {
            case nil: woken.passedBy.append(describe(route))
            case .no?: woken.notShared.append(describe(route))
            default: woken.unknown.append(describe(route))
            }
        }
        return woken
    }

    /// The woken routes, each with what lookups saw of its linkdown multipath hop (nil: the hop
    /// the kernel flags dead, or a single path's).
    private static func classified(_ interface: NetworkInterface, routes: [Route], policyRules: [PolicyRule]?) -> [(route: Route, flows: HopFlows?)] {
        guard interface.kind == .tun || interface.kind == .tap, interface.tuntaposx == nil,
              interface.tun?.multiQueue != true, interface.isUp else { return [] }
        return routes.compactMap { route in
            var found: (route: Route, flows: HopFlows?)?
            for hop in route.nextHops where hop.interfaceIndex == interface.index {
                if hop.linkDown, route.nextHops.count > 1, route.nexthopObject == nil {
                    guard hop.takesFlows != .yes else { continue }
                    if hop.skippedByKernel {
                        found = (route, nil)
                    } else if reached(route, policyRules) {
                        found = found ?? (route, hop.takesFlows ?? .unknown)
                    }
                } else if hop.skippedByKernel {
                    found = (route, nil)
                }
            }
            return found
        }
    }

    /// Whether any traffic may reach `route`'s table: some policy rule looks it up, or an
    /// `l3mdev` rule may send VRF traffic to any table; true when the rules are not known.
    static func reached(_ route: Route, _ rules: [PolicyRule]?) -> Bool {
        guard let rules else { return true }
        return rules.contains { rule in rule.family == route.family && (rule.l3mdev || rule.action == .lookup(route.table)) }
    }

    /// A route as the reason names it: its destination (`default`), and its table unless main.
    public static func describe(_ route: Route) -> String {
        describe(destination: route.destination, table: route.table)
    }

    /// A route of this destination and table as `describe(_:)` names it.
    public static func describe(destination: IPPrefix, table: RouteTable) -> String {
        let shown = destination.length == 0 ? "default" : destination.description
        return table == .main ? shown : "\(shown) (table \(table.name))"
    }

    /// Why a device with these routes (`describe`d) is not fenced, ending with what lets a reap
    /// delete it. `quotedDevice`: the device's name as a shell word.
    public static func reason(_ routes: [String], quotedDevice: String) -> String {
        reason(Woken(passedBy: routes), quotedDevice: quotedDevice)
    }

    /// Why a device with these woken routes is not fenced, saying for each kind of route what
    /// is known of it, and ending with what lets a reap delete it.
    public static func reason(_ woken: Woken, quotedDevice: String) -> String {
        func list(_ routes: [String]) -> String {
            routes.prefix(5).joined(separator: ", ") + (routes.count > 5 ? " and \(routes.count - 5) more" : "")
        }
        func plural(_ routes: [String]) -> String { routes.count == 1 ? "" : "s" }
        var causes: [String] = []
        if !woken.passedBy.isEmpty {
            causes.append("the kernel passes by its route\(plural(woken.passedBy)) \(list(woken.passedBy)) only because it has no carrier "
                + "(ignore_routes_with_linkdown is set for it or for all)")
        }
        if !woken.notShared.isEmpty {
            causes.append("route lookups (as `ip route get` makes them) never chose its hop in the multipath route\(plural(woken.notShared)) \(list(woken.notShared)): "
                + "the kernel shares out no flows to it, having last shared out the route's flows while ignore_routes_with_linkdown was set")
        }
        if !woken.unknown.isEmpty {
            causes.append("whether the kernel shares out flows to its hop in the multipath route\(plural(woken.unknown)) \(list(woken.unknown)) could not be told: "
                + "it has no carrier, the kernel shares out such a route's flows by the ignore_routes_with_linkdown of the last link event or route change, "
                + "and route lookups did not reach the route to show it")
        }
        let count = woken.all.count
        let (them, they) = count == 1 ? ("it", "it takes") : ("them", "they take")
        let may = woken.passedBy.isEmpty && woken.notShared.isEmpty ? "may" : "would"
        return causes.joined(separator: "; ") + (causes.count == 1 ? ", and" : "; and") + " the reaper's fence, an attach that turns its carrier on, "
            + "\(may) make \(them) live and send the traffic \(they) into it for as long as the fence holds; not fenced. "
            + "`ip link set dev \(quotedDevice) down` (the kernel then drops its routes) or deleting \(them) lets reap delete it"
    }
}
