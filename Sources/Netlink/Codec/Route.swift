/// An RTM_NEWROUTE message: one route (`struct rtmsg` and RTA_* attributes), from any table.
public struct RouteMessage: Equatable, Sendable {
    /// RTA_* attribute numbers, from include/uapi/linux/rtnetlink.h.
    public enum Attribute {
        public static let destination: UInt16 = 1
        public static let source: UInt16 = 2
        public static let outputInterface: UInt16 = 4
        public static let gateway: UInt16 = 5
        public static let priority: UInt16 = 6
        public static let preferredSource: UInt16 = 7
        public static let metrics: UInt16 = 8
        public static let multipath: UInt16 = 9
        public static let flow: UInt16 = 11
        public static let cacheInfo: UInt16 = 12
        public static let expires: UInt16 = 23
        public static let table: UInt16 = 15
        public static let preference: UInt16 = 20
        public static let via: UInt16 = 18
        /// RTA_ENCAP_TYPE: LWTUNNEL_ENCAP_* (u16), the kind of RTA_ENCAP's nest.
        public static let encapType: UInt16 = 21
        /// RTA_ENCAP: the lightweight tunnel's attributes, laid out as `encapType` says.
        public static let encap: UInt16 = 22
        public static let nexthopID: UInt16 = 30
    }

    /// A route's lightweight tunnel encapsulation (RTA_ENCAP_TYPE and RTA_ENCAP, include/uapi/linux/lwtunnel.h):
    /// the tunnel metadata a collect-metadata tunnel device sends a packet with (`encap ip id 42
    /// dst 10.0.0.9`). The fields are read for the two IP types, whose attributes share their
    /// numbers (LWTUNNEL_IP_* and LWTUNNEL_IP6_*); for any other type only `type` is known.
    public struct Encapsulation: Equatable, Sendable {
        /// LWTUNNEL_ENCAP_IP (2) and LWTUNNEL_ENCAP_IP6 (4), the types whose fields are read.
        public static let ip: UInt16 = 2
        public static let ip6: UInt16 = 4
        /// LWTUNNEL_ENCAP_*: 1 mpls, 2 ip, 3 ila, 4 ip6, 5 seg6, 6 bpf, 7 seg6local, 8 rpl, 9 ioam6, 10 xfrm.
        public var type: UInt16
        /// LWTUNNEL_IP_ID: the tunnel id (VNI, key), sent big-endian.
        public var id: UInt64?
        /// LWTUNNEL_IP_DST and LWTUNNEL_IP_SRC: the outer addresses, 4 or 16 bytes.
        public var destination: [UInt8]?
        public var source: [UInt8]?
        /// LWTUNNEL_IP_TTL (IPv6: the hop limit) and LWTUNNEL_IP_TOS (IPv6: the traffic class).
        public var ttl: UInt8?
        public var tos: UInt8?
        /// LWTUNNEL_IP_FLAGS: TUNNEL_* bits, sent big-endian (0x1 csum, 0x4 key, 0x8 seq).
        public var flags: UInt16?
        /// Whether LWTUNNEL_IP_OPTS (geneve, vxlan or erspan options) was present.
        public var hasOptions = false

        public init(type: UInt16) {
            self.type = type
        }

        /// The attribute numbers inside RTA_ENCAP for the IP types.
        enum IPAttribute {
            static let id: UInt16 = 1
            static let destination: UInt16 = 2
            static let source: UInt16 = 3
            static let ttl: UInt16 = 4
            static let tos: UInt16 = 5
            static let flags: UInt16 = 6
            static let options: UInt16 = 8
        }

        /// The encapsulation of RTA_ENCAP_TYPE `type` with RTA_ENCAP's payload `data`; the kernel
        /// may send the two in either order, so they are put together once both are read.
        static func decode(type: UInt16, _ data: ArraySlice<UInt8>?) throws(NetlinkError) -> Encapsulation {
            var encapsulation = Encapsulation(type: type)
            guard type == ip || type == ip6, let data else { return encapsulation }
            var attributes = AttributeDecoder(data)
            while attributes.next() {
                switch attributes.type {
                case IPAttribute.id: encapsulation.id = UInt64(bigEndian: attributes.uint64())
                case IPAttribute.destination: encapsulation.destination = attributes.rawBytes
                case IPAttribute.source: encapsulation.source = attributes.rawBytes
                case IPAttribute.ttl: encapsulation.ttl = attributes.uint8()
                case IPAttribute.tos: encapsulation.tos = attributes.uint8()
                case IPAttribute.flags: encapsulation.flags = UInt16(bigEndian: attributes.uint16())
                case IPAttribute.options: encapsulation.hasOptions = true
                default: break
                }
            }
            try attributes.finish()
            return encapsulation
        }
    }

    /// One next hop of a multipath route (`struct rtnexthop` and its attributes).
    public struct NextHop: Equatable, Sendable {
        public var flags: UInt8
        public var hops: UInt8
        public var interfaceIndex: Int32
        public var gateway: [UInt8]?
        /// RTA_VIA's address family, when the gateway is of another family than the route.
        public var viaFamily: UInt16?
        /// The hop's RTA_FLOW: its realms (from in the high 16 bits, to in the low).
        public var realms: UInt32?
        /// The hop's own lightweight tunnel encapsulation.
        public var encapsulation: Encapsulation?
    }

    public var family: UInt8 = 0
    public var destinationLength: UInt8 = 0
    public var sourceLength: UInt8 = 0
    public var tos: UInt8 = 0
    /// The 8-bit table field; `table` holds the full 32-bit value when RTA_TABLE is present.
    public var table: UInt32 = 0
    /// RTPROT_* (2 kernel, 3 boot, 4 static, …).
    public var protocolID: UInt8 = 0
    /// RT_SCOPE_*.
    public var scope: UInt8 = 0
    /// RTN_* (1 unicast, 2 local, 3 broadcast, 5 multicast, 6 blackhole, 7 unreachable, 8 prohibit, …).
    public var type: UInt8 = 0
    /// RTM_F_* and RTNH_F_* flags (RTNH_F_LINKDOWN 0x10 when the output device has no carrier).
    public var flags: UInt32 = 0
    public var destination: [UInt8]?
    public var source: [UInt8]?
    public var gateway: [UInt8]?
    public var viaFamily: UInt16?
    public var outputInterface: Int32?
    public var priority: UInt32?
    public var preferredSource: [UInt8]?
    public var nexthopID: UInt32?
    public var nextHops: [NextHop] = []
    /// RTA_METRICS: each RTAX_* number with its value (RTAX_LOCK, 1, is the mask of locked ones).
    public var metrics: [UInt16: UInt32] = [:]
    /// RTAX_CC_ALGO: the congestion control algorithm the route asks for.
    public var congestionControl: String?
    /// RTA_FLOW: the route's realms (from in the high 16 bits, to in the low).
    public var realms: UInt32?
    /// RTA_ENCAP_TYPE and RTA_ENCAP of a single-path route (a multipath route's are its hops').
    public var encapsulation: Encapsulation?
    /// RTA_PREF: an IPv6 route's preference (0 medium, 1 high, 3 low).
    public var preference: UInt8?
    /// Seconds left before the route expires (RTA_CACHEINFO's `rta_expires`, in the kernel's
    /// USER_HZ ticks of 1/100 s); nil for a route that does not.
    public var expiresIn: UInt32?

    public init() {}

    /// Size of `struct rtmsg`.
    public static let headerSize = 12
    /// RTM_F_CLONED in `flags`: a cached route, not one of a table's.
    public static let cloned: UInt32 = 0x200
    /// RTNH_F_DEAD, in `flags` (a route of one next hop) or a multipath hop's: the kernel passes
    /// the hop by (its device is down, or has no carrier while `ignore_routes_with_linkdown` is
    /// set for it).
    public static let deadNextHop: UInt32 = 0x1
    /// RTNH_F_LINKDOWN, in `flags` or a multipath hop's: the hop's device has no carrier. On a
    /// multipath hop of a device that is up, `deadNextHop` beside it follows the current
    /// `ignore_routes_with_linkdown`, not the shares route lookups go by (see `RouteLookup`).
    public static let linkDownNextHop: UInt32 = 0x10
    /// RTAX_CC_ALGO, the one metric that is a string.
    static let congestionControlMetric: UInt16 = 16
    /// Size of `struct rtnexthop`.
    static let nextHopHeaderSize = 8

    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> RouteMessage {
        guard payload.count >= headerSize else {
            throw .truncated(what: "rtmsg", need: headerSize, have: payload.count)
        }
        let base = payload.startIndex
        var route = RouteMessage()
        route.family = payload[base]
        route.destinationLength = payload[base + 1]
        route.sourceLength = payload[base + 2]
        route.tos = payload[base + 3]
        route.table = UInt32(payload[base + 4])
        route.protocolID = payload[base + 5]
        route.scope = payload[base + 6]
        route.type = payload[base + 7]
        route.flags = payload.readNative(UInt32.self, at: base + 8)
        var attributes = AttributeDecoder(payload[(base + headerSize)...])
        var encapType: UInt16?, encapData: ArraySlice<UInt8>?
        while attributes.next() {
            switch attributes.type {
            case Attribute.encapType: encapType = attributes.uint16()
            case Attribute.encap: encapData = attributes.data
            case Attribute.destination: route.destination = attributes.rawBytes
            case Attribute.source: route.source = attributes.rawBytes
            case Attribute.outputInterface: route.outputInterface = attributes.int32()
            case Attribute.gateway: route.gateway = attributes.rawBytes
            case Attribute.priority: route.priority = attributes.uint32()
            case Attribute.preferredSource: route.preferredSource = attributes.rawBytes
            case Attribute.table: route.table = attributes.uint32()
            case Attribute.nexthopID: route.nexthopID = attributes.uint32()
            case Attribute.flow: route.realms = attributes.uint32()
            case Attribute.preference: route.preference = attributes.uint8()
            case Attribute.cacheInfo:
                // struct rta_cacheinfo: clntref, lastuse, expires (s32), error, used, …
                let data = attributes.data
                if data.count >= 12 {
                    let ticks = data.readNative(Int32.self, at: data.startIndex + 8)
                    if ticks > 0 { route.expiresIn = max(1, UInt32(ticks) / 100) }
                }
            case Attribute.via:
                if let (family, address) = decodeVia(attributes.data) {
                    route.viaFamily = family
                    route.gateway = address
                } else {
                    attributes.fail(.malformed("RTA_VIA shorter than its family field"))
                }
            case Attribute.metrics:
                var congestionControl: String?
                var metrics: [UInt16: UInt32] = [:]
                attributes.nested { inner in
                    while inner.next() {
                        if inner.type == Self.congestionControlMetric { congestionControl = inner.string() } else { metrics[inner.type] = inner.uint32() }
                    }
                }
                route.metrics = metrics
                route.congestionControl = congestionControl
            case Attribute.multipath:
                do throws(NetlinkError) {
                    route.nextHops = try decodeNextHops(attributes.data)
                } catch {
                    attributes.fail(error)
                }
            default: break
            }
        }
        try attributes.finish()
        if let encapType { route.encapsulation = try Encapsulation.decode(type: encapType, encapData) }
        return route
    }

    /// `struct rtvia`: a 16-bit family, then the address.
    private static func decodeVia(_ data: ArraySlice<UInt8>) -> (UInt16, [UInt8])? {
        guard data.count >= 2 else { return nil }
        return (data.readNative(UInt16.self, at: data.startIndex), Array(data[(data.startIndex + 2)...]))
    }

    private static func decodeNextHops(_ data: ArraySlice<UInt8>) throws(NetlinkError) -> [NextHop] {
        var hops: [NextHop] = []
        var offset = data.startIndex
        while data.endIndex - offset >= nextHopHeaderSize {
            let length = Int(data.readNative(UInt16.self, at: offset))
            guard length >= nextHopHeaderSize else {
                throw .malformed("rtnexthop length \(length) is shorter than its header")
            }
            guard length <= data.endIndex - offset else {
                throw .truncated(what: "rtnexthop", need: length, have: data.endIndex - offset)
            }
            var hop = NextHop(
                flags: data[offset + 2], hops: data[offset + 3],
                interfaceIndex: data.readNative(Int32.self, at: offset + 4), gateway: nil, viaFamily: nil
            )
            var attributes = AttributeDecoder(data[(offset + nextHopHeaderSize)..<(offset + length)])
            var encapType: UInt16?, encapData: ArraySlice<UInt8>?
            while attributes.next() {
                switch attributes.type {
                case Attribute.encapType: encapType = attributes.uint16()
                case Attribute.encap: encapData = attributes.data
                case Attribute.flow: hop.realms = attributes.uint32()
                case Attribute.gateway: hop.gateway = attributes.rawBytes
                case Attribute.via:
                    if let (family, address) = decodeVia(attributes.data) {
                        hop.viaFamily = family
                        hop.gateway = address
                    }
                default: break
                }
            }
            try attributes.finish()
            if let encapType { hop.encapsulation = try Encapsulation.decode(type: encapType, encapData) }
            hops.append(hop)
            offset += min(align4(length), data.endIndex - offset)
        }
        return hops
    }

    /// An RTM_GETROUTE dump request for every table, the local table included (table 0,
    /// RT_TABLE_UNSPEC), of every family (`family` 0, AF_UNSPEC) or of one.
    ///
    /// As for addresses, an AF_UNSPEC dump holds the RTNL lock while it walks each family's
    /// tables; AF_INET and AF_INET6 dumps alone do not on recent kernels (with 100,000 routes, a
    /// concurrent AF_UNSPEC route dump held a 10,000-device link dump up for 115 ms, an AF_INET
    /// one not at all).
    public static func dumpRequest(family: UInt8 = 0, sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: headerSize)
        payload[0] = family
        return NetlinkMessage.encode(type: NetlinkType.getRoute, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }
}
