/// An RTM_NEWNEIGH message: one entry of a device's neighbour table (ARP for IPv4, NDP for IPv6)
/// as the kernel lists it (`struct ndmsg` followed by NDA_* attributes, include/uapi/linux/
/// neighbour.h). Read for the entries a person made (`ip neigh add … nud permanent`), which the
/// kernel flushes when the device goes down and never makes again by itself.
public struct NeighbourMessage: Equatable, Sendable {
    /// Size of `struct ndmsg`.
    public static let headerSize = 12
    /// NDA_DST and NDA_LLADDR.
    static let destinationAttribute: UInt16 = 1
    static let linkLayerAttribute: UInt16 = 2
    /// NDA_IFINDEX: in a vxlan's forwarding entry, the device its packets leave through (`bridge
    /// fdb add … dev vxlan0 dst 192.0.2.1 via tap0`).
    static let viaAttribute: UInt16 = 8
    /// NDA_PROTOCOL: who made the entry (RTPROT_*), as `ip neigh add … protocol` set it.
    static let protocolAttribute: UInt16 = 12
    /// NDA_FLAGS_EXT: the NTF_EXT_* flags, which do not fit in `ndm_flags` (Linux 5.16 and later).
    static let extendedFlagsAttribute: UInt16 = 15
    /// NTF_EXT_MANAGED: an entry the kernel keeps resolved (`ip neigh add … managed`), made by
    /// hand, whose state is the kernel's (it is never NUD_PERMANENT).
    public static let managed: UInt32 = 0x01
    /// AF_BRIDGE: the family of forwarding-database (fdb) entries.
    public static let bridgeFamily: UInt8 = 7
    /// NUD_PERMANENT: an entry set by hand, never aged out.
    public static let permanent: UInt16 = 0x80
    /// NUD_NOARP: an entry that needs no resolution (set by hand with `nud noarp`, or the
    /// kernel's own for broadcast and multicast neighbours, and every neighbour of a device
    /// without ARP).
    public static let noARP: UInt16 = 0x40
    /// NTF_PROXY: a proxy entry (`ip neigh add proxy …`), listed only by a dump that asks for them.
    public static let proxy: UInt8 = 0x08
    /// NTF_ROUTER: the neighbour is an IPv6 router.
    public static let router: UInt8 = 0x80
    /// NTF_EXT_LEARNED: an entry learned outside the kernel (`ip neigh add … extern_learn`).
    public static let externLearned: UInt8 = 0x10
    /// RTN_UNICAST, as `ndm_type` names the kind of address an entry is for.
    public static let unicast: UInt8 = 1

    public var family: UInt8 = 0
    public var index: Int32 = 0
    /// NUD_* state bits.
    public var state: UInt16 = 0
    /// NTF_* flags (NTF_PROXY 0x08, NTF_ROUTER 0x80, …).
    public var flags: UInt8 = 0
    /// RTN_* kind of the entry's address (`ndm_type`: 1 unicast, 3 broadcast, 5 multicast).
    public var type: UInt8 = 0
    public var destination: [UInt8]?
    public var linkLayerAddress: [UInt8]?
    public var protocolID: UInt8?
    /// NTF_EXT_* flags (NDA_FLAGS_EXT), when the kernel sent any.
    public var extendedFlags: UInt32?
    /// The ifindex a vxlan forwarding entry sends through (NDA_IFINDEX; nil or 0: the route to its
    /// remote decides), in the vxlan's link namespace.
    public var viaIndex: Int32?

    public init() {}

    /// Whether the entry is a managed one (NTF_EXT_MANAGED).
    public var isManaged: Bool { (extendedFlags ?? 0) & Self.managed != 0 }

    /// Decodes an RTM_NEWNEIGH payload.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> NeighbourMessage {
        guard payload.count >= headerSize else { throw .truncated(what: "ndmsg", need: headerSize, have: payload.count) }
        let base = payload.startIndex
        var neighbour = NeighbourMessage()
        neighbour.family = payload[base]
        neighbour.index = payload.readNative(Int32.self, at: base + 4)
        neighbour.state = payload.readNative(UInt16.self, at: base + 8)
        neighbour.flags = payload[base + 10]
        neighbour.type = payload[base + 11]
        var attributes = AttributeDecoder(payload[(base + headerSize)...])
        while attributes.next() {
            switch attributes.type {
            case destinationAttribute: neighbour.destination = Array(attributes.data)
            case linkLayerAttribute: neighbour.linkLayerAddress = Array(attributes.data)
            case protocolAttribute: neighbour.protocolID = attributes.uint8()
            case viaAttribute: neighbour.viaIndex = attributes.int32()
            case extendedFlagsAttribute: neighbour.extendedFlags = attributes.uint32()
            default: break
            }
        }
        try attributes.finish()
        return neighbour
    }

    /// A dump request for every neighbour entry of every device (IPv4 and IPv6 tables), or with
    /// `proxy` for every proxy entry instead (the kernel lists the two apart).
    public static func dumpRequest(proxy: Bool = false, sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: headerSize)
        if proxy { payload[10] = Self.proxy }
        return NetlinkMessage.encode(type: NetlinkType.getNeighbour, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }

    /// The device of a forwarding-database entry (family AF_BRIDGE) from its header alone, nil for
    /// any other family or a payload too short: a watch on removals reads a busy host's many
    /// neighbour notifications this far and no further.
    public static func bridgeDevice(_ payload: ArraySlice<UInt8>) -> Int32? {
        guard payload.count >= headerSize, payload[payload.startIndex] == bridgeFamily else { return nil }
        return payload.readNative(Int32.self, at: payload.startIndex + 4)
    }

    /// A dump request for the forwarding entries of every device (as `bridge fdb show` lists
    /// them): the header is an ndmsg of family AF_BRIDGE, which filters nothing.
    public static func forwardingDumpRequest(sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: headerSize)
        payload[0] = bridgeFamily
        return NetlinkMessage.encode(type: NetlinkType.getNeighbour, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }

    /// A dump request for the forwarding entries of the one device `index` (as `bridge fdb show dev
    /// DEVICE` lists them): the header is an ifinfomsg (16 bytes, family AF_BRIDGE, the device's
    /// index where ifinfomsg has it), which a socket without strict checking takes as a filter on
    /// that device; an ndmsg of 12 bytes would dump every device's entries. Entries of other
    /// devices are still to be dropped by whoever reads the answer, should a kernel not filter.
    public static func forwardingDumpRequest(device index: Int32, sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: 16)
        payload[0] = bridgeFamily
        withUnsafeBytes(of: index) { payload.replaceSubrange(4..<8, with: $0) }
        return NetlinkMessage.encode(type: NetlinkType.getNeighbour, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }

    /// An RTM_NEWNEIGH request (create or replace, acknowledged) that makes this entry again on
    /// device `index`: its address, its link-layer address, its state and its flags, as `ip neigh
    /// replace ADDRESS lladdr LLADDR nud permanent dev DEVICE` would, with who made it (the kind of
    /// address is the kernel's to find, and not sent). A managed entry is asked for as `ip neigh
    /// add ADDRESS dev DEVICE managed` asks: its flag (NDA_FLAGS_EXT), no state (the kernel
    /// resolves it) and no link-layer address. Nil without an address.
    public func addRequest(index: Int32, sequence: UInt32) -> [UInt8]? {
        guard let destination else { return nil }
        var body = [UInt8](repeating: 0, count: Self.headerSize)
        body[0] = family
        withUnsafeBytes(of: index) { body.replaceSubrange(4..<8, with: $0) }
        // A proxy entry is dumped with no state, but made permanent (as `ip neigh add proxy`
        // makes it): otherwise the next loss of carrier would flush it.
        let asked = flags & Self.proxy != 0 ? Self.permanent : isManaged ? 0 : state
        withUnsafeBytes(of: asked) { body.replaceSubrange(8..<10, with: $0) }
        body[10] = flags
        let extended = extendedFlags.flatMap { $0 == 0 ? nil : withUnsafeBytes(of: $0) { Array($0) } }
        for (type, data) in [(Self.destinationAttribute, destination), (Self.linkLayerAttribute, isManaged ? nil : linkLayerAddress),
                             (Self.protocolAttribute, protocolID.map { [$0] }), (Self.extendedFlagsAttribute, extended)] {
            guard let data else { continue }
            body.appendNative(UInt16(4 + data.count))
            body.appendNative(type)
            body += data
            body.padTo4()
        }
        return NetlinkMessage.encode(type: NetlinkType.newNeighbour,
                                     flags: NetlinkFlags.request | NetlinkFlags.ack | NetlinkFlags.create | NetlinkFlags.replace,
                                     sequence: sequence, payload: body)
    }
}
