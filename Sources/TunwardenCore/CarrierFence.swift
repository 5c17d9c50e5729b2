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
    /// The routes through `interface` whose next hop through it the kernel passes by while the
    /// device is up: those its carrier coming on would make live. For a single path, the hops
    /// the kernel flags dead (`NextHop.skippedByKernel`). For a linkdown hop of a multipath
    /// route, whose flag follows the current setting and not the shares lookups go by (see
    /// `HopFlows`), every one that route lookups were not seen to choose (`takesFlows`), flagged
    /// or not: erring toward not fencing. Empty for a multi-queue device (fenced without an
    /// attach), for one that is down (its routes stay dead whatever its carrier), and for one with
    /// no such route.
    public static func wokenRoutes(of interface: NetworkInterface, routes: [Route]) -> [Route] {
        guard interface.kind == .tun || interface.kind == .tap, interface.tuntaposx == nil,
              interface.tun?.multiQueue != true, interface.isUp else { return [] }
        return routes.filter { route in
            route.nextHops.contains { hop in
                guard hop.interfaceIndex == interface.index else { return false }
                if hop.linkDown, route.nextHops.count > 1, route.nexthopObject == nil { return hop.takesFlows != .yes }
                return hop.skippedByKernel
            }
        }
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
        let shown = routes.prefix(5).joined(separator: ", ") + (routes.count > 5 ? " and \(routes.count - 5) more" : "")
        let (them, they) = routes.count == 1 ? ("it", "it takes") : ("them", "they take")
        return "the kernel passes by its route\(routes.count == 1 ? "" : "s") \(shown) only because it has no carrier "
            + "(ignore_routes_with_linkdown is set for it or for all), and the reaper's fence, an attach that turns its carrier on, "
            + "would make \(them) live and send the traffic \(they) into it for as long as the fence holds; not fenced. "
            + "`ip link set dev \(quotedDevice) down` (the kernel then drops its routes) or deleting \(them) lets reap delete it"
    }
}
