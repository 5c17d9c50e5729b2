/// Requests that add a route or an address again exactly as the kernel listed it, as
/// `ip route restore` does with what `ip route save` kept.
///
/// A device taken down loses its IPv6 addresses and every route that leaves only through it; the
/// kernel puts back on its own only what it made itself (the routes of its addresses, link-local
/// addresses). What it listed before can be handed back to it: the dumped message becomes the
/// request, every attribute kept byte for byte (metrics, preferred source, encapsulation, table,
/// lifetimes), except the flags that describe the route's state rather than ask for anything
/// (dead, link down, offloaded), which the kernel refuses in a request.
public enum Replay {
    /// RTNH_F_ONLINK: the one next-hop flag a request may carry that a dump reports.
    public static let onlink: UInt8 = 0x4
    /// IFA_F_NODAD.
    static let nodad: UInt8 = 0x02
    /// RTA_MULTIPATH.
    static let multipath: UInt16 = 9

    /// How a route is added: alone (exclusive), in place of the route of the same key, or beside
    /// it (`ip route append`: another route of the same prefix, type of service and metric).
    public enum Adding: Sendable { case exclusive, replacing, appending }

    /// An RTM_NEWROUTE request (create, `how` as asked; acknowledged) made from the payload of a
    /// route the kernel dumped. Throws for a payload that is not a well-formed route.
    public static func addRouteRequest(fromDumped payload: ArraySlice<UInt8>, _ how: Adding = .exclusive, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let mode: UInt16 = switch how {
        case .exclusive: NetlinkFlags.exclusive
        case .replacing: NetlinkFlags.replace
        case .appending: NetlinkFlags.append
        }
        return try routeRequest(type: NetlinkType.newRoute, flags: NetlinkFlags.create | mode, fromDumped: payload, sequence: sequence)
    }

    /// An RTM_DELROUTE request (acknowledged) for exactly the route the kernel dumped.
    public static func deleteRouteRequest(fromDumped payload: ArraySlice<UInt8>, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        try routeRequest(type: NetlinkType.delRoute, flags: 0, fromDumped: payload, sequence: sequence)
    }

    private static func routeRequest(type: UInt16, flags: UInt16, fromDumped payload: ArraySlice<UInt8>, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        guard payload.count >= RouteMessage.headerSize else {
            throw .truncated(what: "rtmsg", need: RouteMessage.headerSize, have: payload.count)
        }
        var body = Array(payload.prefix(RouteMessage.headerSize))
        // rtm_flags: RTM_F_* (cloned, offload, trap) and RTNH_F_* (dead, link down) report state;
        // only "onlink" asks for something.
        let asked = payload.readNative(UInt32.self, at: payload.startIndex + 8) & UInt32(onlink)
        body.replaceSubrange(8..<12, with: withUnsafeBytes(of: asked) { Array($0) })
        var expiresIn: UInt32?
        var hasExpires = false
        try copyAttributes(payload.dropFirst(RouteMessage.headerSize), into: &body) { type, data throws(NetlinkError) in
            if type == RouteMessage.Attribute.expires { hasExpires = true }
            if type == RouteMessage.Attribute.cacheInfo, data.count >= 12 {
                let ticks = data.readNative(Int32.self, at: data.startIndex + 8)
                if ticks > 0 { expiresIn = max(1, UInt32(ticks) / 100) }
            }
            return type == multipath ? try Self.statelessNextHops(data) : nil
        }
        // A dump tells an IPv6 route's time left only in RTA_CACHEINFO; a request takes it in
        // RTA_EXPIRES (seconds). Without it the route would come back for good.
        if type == NetlinkType.newRoute, payload[payload.startIndex] == 10, !hasExpires, let expiresIn {
            body.appendNative(UInt16(8))
            body.appendNative(RouteMessage.Attribute.expires)
            body.appendNative(expiresIn)
        }
        return NetlinkMessage.encode(type: type, flags: NetlinkFlags.request | NetlinkFlags.ack | flags, sequence: sequence, payload: body)
    }

    /// An RTM_NEWADDR request (create, exclusive, acknowledged) made from the payload of an address
    /// the kernel dumped. The kernel itself keeps only the flags a request may set, and takes the
    /// lifetimes left from IFA_CACHEINFO. With `skipDAD` the request also asks for no duplicate
    /// address detection (IFA_F_NODAD): an IPv6 address that had passed it comes back usable at
    /// once, where DAD would leave it tentative on a device without carrier (and delete it, if
    /// its lifetime is finite). Throws for a payload that is not a well-formed address.
    public static func addAddressRequest(fromDumped payload: ArraySlice<UInt8>, skipDAD: Bool = false, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        guard payload.count >= AddressMessage.headerSize else {
            throw .truncated(what: "ifaddrmsg", need: AddressMessage.headerSize, have: payload.count)
        }
        var body = Array(payload.prefix(AddressMessage.headerSize))
        if skipDAD { body[2] |= nodad }
        try copyAttributes(payload.dropFirst(AddressMessage.headerSize), into: &body) { type, data in
            guard skipDAD, type == AddressMessage.Attribute.flags, data.count == 4 else { return nil }
            let flags = data.readNative(UInt32.self, at: data.startIndex) | UInt32(nodad)
            return withUnsafeBytes(of: flags) { Array($0) }
        }
        return NetlinkMessage.encode(type: NetlinkType.newAddress,
                                     flags: NetlinkFlags.request | NetlinkFlags.ack | NetlinkFlags.create | NetlinkFlags.exclusive,
                                     sequence: sequence, payload: body)
    }

    /// An RTM_DELADDR request (acknowledged) for exactly the address the kernel dumped: its
    /// header and its address attributes, which are what the kernel finds it by. Throws for a
    /// payload that is not a well-formed address.
    public static func deleteAddressRequest(fromDumped payload: ArraySlice<UInt8>, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let address = try AddressMessage.decode(payload)
        var attributes = AttributeEncoder(prefix: Array(payload.prefix(AddressMessage.headerSize)))
        if let local = address.local { attributes.append(type: AddressMessage.Attribute.local, payload: local) }
        if let peer = address.address { attributes.append(type: AddressMessage.Attribute.address, payload: peer) }
        return NetlinkMessage.encode(type: NetlinkType.delAddress, flags: NetlinkFlags.request | NetlinkFlags.ack, sequence: sequence, payload: attributes.bytes)
    }

    /// Copies attributes with their raw type (nested and byte-order bits included), giving
    /// `replacement` the chance to rewrite an attribute's payload (nil keeps it).
    private static func copyAttributes(_ bytes: ArraySlice<UInt8>, into body: inout [UInt8],
                                       replacement: (UInt16, ArraySlice<UInt8>) throws(NetlinkError) -> [UInt8]?) throws(NetlinkError) {
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= 4 {
            let length = Int(bytes.readNative(UInt16.self, at: offset))
            let rawType = bytes.readNative(UInt16.self, at: offset + 2)
            guard length >= 4 else { throw .malformed("attribute length \(length) is shorter than its header") }
            guard length <= bytes.endIndex - offset else {
                throw .truncated(what: "attribute of type \(rawType & 0x3fff)", need: length, have: bytes.endIndex - offset)
            }
            let data = bytes[(offset + 4)..<(offset + length)]
            let payload = try replacement(rawType & 0x3fff, data) ?? Array(data)
            body.appendNative(UInt16(4 + payload.count))
            body.appendNative(rawType)
            body.append(contentsOf: payload)
            body.padTo4()
            offset += min(align4(length), bytes.endIndex - offset)
        }
    }

    /// An RTA_MULTIPATH payload with each `struct rtnexthop`'s flags reduced to "onlink".
    private static func statelessNextHops(_ data: ArraySlice<UInt8>) throws(NetlinkError) -> [UInt8] {
        var hops = Array(data)
        var offset = 0
        while hops.count - offset >= RouteMessage.nextHopHeaderSize {
            let hostLength = Int(data.readNative(UInt16.self, at: data.startIndex + offset))
            guard hostLength >= RouteMessage.nextHopHeaderSize else {
                throw .malformed("rtnexthop length \(hostLength) is shorter than its header")
            }
            guard hostLength <= hops.count - offset else {
                throw .truncated(what: "rtnexthop", need: hostLength, have: hops.count - offset)
            }
            hops[offset + 2] &= onlink
            offset += min(align4(hostLength), hops.count - offset)
        }
        return hops
    }
}
