import Foundation

/// One next hop of a route.
public struct NextHop: Decodable, JSONRecord, Sendable, Equatable {
    public var gateway: IPAddress?
    public var interfaceIndex: Int?
    public var interfaceName: String?
    /// Whether the gateway is taken as on the link without a route to it (RTNH_F_ONLINK); kept
    /// for the recreate commands, not part of the JSON schema.
    public var onlink = false
    /// A multipath hop's share (`weight`, rtnh_hops + 1); nil for a single-path route. Not part
    /// of the JSON schema.
    public var weight: Int?
    /// A multipath hop's realms (RTA_FLOW inside its `rtnexthop`: from in the high 16 bits, to in
    /// the low) and its lightweight tunnel encapsulation; kept for the recreate commands, not part
    /// of the JSON schema.
    public var realms: UInt32?
    public var encapsulation: RouteEncapsulation?
    /// Whether the kernel flags the hop dead (RTNH_F_DEAD, `dead` in `ip route`): its device is
    /// down, or has no carrier while `ignore_routes_with_linkdown` is set for it (the kernel
    /// reads that sysctl, the device's or `all`, each time it reports the route), so route lookups
    /// pass it by. Not part of the JSON schema.
    public var skippedByKernel = false
    /// Whether the kernel marks the hop linkdown (RTNH_F_LINKDOWN, `linkdown` in `ip route`): its
    /// device has no carrier. On a multipath hop whose device is up, `skippedByKernel` then says
    /// only what the current `ignore_routes_with_linkdown` would do, not what the kernel does (see
    /// `HopFlows`). Not part of the JSON schema.
    public var linkDown = false
    /// Whether route lookups were seen to send flows over the hop, for a multipath hop whose
    /// `skippedByKernel` cannot say (see `HopFlows`); nil where nobody asked. Not part of the JSON
    /// schema.
    public var takesFlows: HopFlows?

    public init(gateway: IPAddress? = nil, interfaceIndex: Int? = nil, interfaceName: String? = nil, onlink: Bool = false, weight: Int? = nil) {
        self.gateway = gateway
        self.interfaceIndex = interfaceIndex
        self.interfaceName = interfaceName
        self.onlink = onlink
        self.weight = weight
    }

    enum CodingKeys: String, CodingKey { case gateway, interfaceIndex = "ifindex", interfaceName = "dev" }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("gateway", gateway?.description)
            json.field("ifindex", interfaceIndex)
            json.field("dev", interfaceName)
        }
    }
}

/// Whether the kernel sends flows over a multipath hop through a device that is up but without
/// carrier. Its route listing flags such a hop `dead` by the device's *current*
/// `ignore_routes_with_linkdown` (`fib_nexthop_info`), while the shares that pick a flow's hop
/// were set at the last route change or link event with the setting of that time
/// (`fib_rebalance`, `rt6_multipath_rebalance`): once the setting has changed, the listing and
/// the forwarding disagree. The Linux inventory asks the kernel with route lookups (as `ip route
/// get` does) and records what it saw.
public enum HopFlows: String, Sendable, Equatable {
    /// Lookups to the route's destinations chose the hop.
    case yes
    /// Enough lookups that a hop of its share would have been chosen with near certainty (all
    /// but one chance in a million) never chose it.
    case no
    /// Not asked, or the lookups could not settle it.
    case unknown
}

/// The seconds a route had left to live when it was read. Any two are equal, whatever their
/// seconds: those count down between two reads of one route, which is no change of the route, while
/// a route that stops or starts expiring has changed.
public struct RouteExpiry: Sendable, Equatable {
    public var seconds: UInt32

    public init(seconds: UInt32) {
        self.seconds = seconds
    }

    public static func == (_: RouteExpiry, _: RouteExpiry) -> Bool { true }
}

/// A route from any table.
public struct Route: Decodable, JSONRecord, Sendable, Equatable {
    public var destination: IPPrefix
    /// What the kernel does with a packet it matches.
    public var type: RouteType
    public var table: RouteTable
    public var metric: UInt32?
    /// Who installed it; nil where the platform does not say.
    public var routeProtocol: RouteProtocol?
    public var scope: RouteScope?
    /// Every next hop; a single-path route has exactly one. Empty for blackhole and similar types.
    public var nextHops: [NextHop]
    /// The nexthop object (RTA_NH_ID) the route names; its next hops are that object's.
    public var nexthopObject: UInt32?
    /// The route's flags as BSD netstat prints them (`UGcIg`), for a macOS route; not part of the
    /// JSON schema. `I` marks a route scoped to its interface, which general traffic never takes.
    public var bsdFlags: String?
    /// The source address the route prefers (RTA_PREFSRC, `src`); kept for the recreate commands,
    /// not part of the JSON schema.
    public var preferredSource: IPAddress?
    /// The route's metrics by RTAX_* number (RTAX_LOCK, 1, the mask of locked ones) and its
    /// congestion control algorithm: `mtu 1300`, `advmss 1200`, `congctl bbr`. Kept for the
    /// recreate commands, not part of the JSON schema.
    public var kernelMetrics: [UInt16: UInt32] = [:]
    public var congestionControl: String?
    /// The type of service the route is for (`tos`, in the JSON when not 0), its realms
    /// (RTA_FLOW: from in the high 16 bits, to in the low) and an IPv6 route's preference
    /// (RTA_PREF: 0 medium, 1 high, 3 low); the last two are kept for the recreate commands and
    /// are not part of the JSON schema.
    public var tos: UInt8 = 0
    /// The sources an IPv6 source-specific route is for (`from`, RTA_SRC); nil for any.
    public var source: IPPrefix?
    public var realms: UInt32?
    public var preference: UInt8?
    /// How long an IPv6 route had left to live when it was read (one learned from a router
    /// advertisement, or added with `expires`); nil for a route that does not expire. Kept for the
    /// recreate commands, not part of the JSON schema.
    public var expiry: RouteExpiry?
    /// A single-path route's lightweight tunnel encapsulation (`encap ip …`); a multipath route's
    /// are its hops'. Kept for the recreate commands, not part of the JSON schema.
    public var encapsulation: RouteEncapsulation?

    /// A macOS route bound to its interface (flag `I`): only traffic already leaving through that
    /// interface uses it, so a scoped default captures nothing.
    public var isInterfaceScoped: Bool { bsdFlags?.contains("I") ?? false }

    public init(destination: IPPrefix, type: RouteType = .unicast, table: RouteTable = .main, metric: UInt32? = nil,
                routeProtocol: RouteProtocol? = nil, scope: RouteScope? = nil, nextHops: [NextHop], nexthopObject: UInt32? = nil) {
        self.destination = destination
        self.type = type
        self.table = table
        self.metric = metric
        self.routeProtocol = routeProtocol
        self.scope = scope
        self.nextHops = nextHops
        self.nexthopObject = nexthopObject
    }

    public var family: AddressFamily { destination.family }

    /// `0.0.0.0/1 via 198.18.0.1 dev utun33 table main`, shortened to what differs from the usual
    /// (the sources and type of service it is for, too, where it has them).
    public var display: String {
        var text = destination.length == 0 ? "default" : destination.description
        if family == .inet6, destination.length == 0 { text = "default (::/0)" }
        if let source { text += " from \(source)" }
        if tos != 0 { text += " tos 0x" + (tos < 0x10 ? "0" : "") + String(tos, radix: 16) }
        if let gateway = nextHops.first?.gateway, nextHops.count == 1 { text += " via \(gateway)" }
        if nextHops.count > 1 { text += " (\(nextHops.count) next hops)" }
        if table != .main { text += " table \(table)" }
        return text
    }

    enum CodingKeys: String, CodingKey {
        case destination = "dst", type, table, metric, routeProtocol = "protocol", scope, nextHops = "nexthops", nexthopObject = "nhid"
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("dst", destination.description)
            json.field("from", source?.description)
            json.field("tos", tos == 0 ? nil : "0x" + (tos < 0x10 ? "0" : "") + String(tos, radix: 16))
            json.field("type", type.name)
            json.field("table", table.name)
            json.field("metric", metric)
            json.field("protocol", routeProtocol?.name)
            json.field("scope", scope?.name)
            json.field("nexthops", nextHops)
            json.field("nhid", nexthopObject)
        }
    }
}
