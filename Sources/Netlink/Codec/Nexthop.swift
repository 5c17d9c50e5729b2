/// An RTM_NEWNEXTHOP message: one nexthop object (`struct nhmsg` and NHA_* attributes), which
/// routes name by id (RTA_NH_ID) instead of carrying their own device and gateway.
///
/// While `net.ipv4.nexthop_compat_mode` is 1 (the default) the kernel also writes the object's
/// device and gateway into every route dumped that uses it; at 0 a route carries its id alone,
/// and only these objects say where its traffic goes.
public struct NexthopMessage: Equatable, Sendable {
    /// NHA_* attribute numbers, from include/uapi/linux/nexthop.h.
    public enum Attribute {
        public static let id: UInt16 = 1
        public static let group: UInt16 = 2
        public static let blackhole: UInt16 = 4
        public static let outputInterface: UInt16 = 5
        public static let gateway: UInt16 = 6
        public static let fdb: UInt16 = 11
    }

    /// RTM_NEWNEXTHOP, RTM_DELNEXTHOP and RTM_GETNEXTHOP (include/uapi/linux/rtnetlink.h).
    public static let newNexthop: UInt16 = 104
    public static let deleteNexthop: UInt16 = 105
    public static let getNexthop: UInt16 = 106
    /// Size of `struct nhmsg`.
    public static let headerSize = 8
    /// Size of one `struct nexthop_grp` entry of NHA_GROUP.
    static let groupEntrySize = 8

    /// One member of a group: the id of another object and its weight (the kernel's weight field
    /// is one less than the weight; NHA_GROUP keeps its low 8 bits, the high 8 follow).
    public struct Member: Equatable, Sendable {
        public var id: UInt32
        public var weight: Int

        public init(id: UInt32, weight: Int) {
            self.id = id
            self.weight = weight
        }
    }

    /// AF_INET, AF_INET6, or AF_UNSPEC (0) for a group or a blackhole.
    public var family: UInt8 = 0
    public var id: UInt32 = 0
    /// NHA_OIF: the device the object sends through.
    public var outputInterface: Int32?
    /// NHA_GATEWAY: the next router's address, 4 or 16 bytes.
    public var gateway: [UInt8]?
    /// NHA_GROUP: the objects a group spreads traffic over.
    public var members: [Member] = []
    /// NHA_BLACKHOLE: the object drops what it is given.
    public var blackhole = false
    /// NHA_FDB: the object serves a vxlan's forwarding database, not routes.
    public var fdb = false

    public init() {}

    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> NexthopMessage {
        guard payload.count >= headerSize else {
            throw .truncated(what: "nhmsg", need: headerSize, have: payload.count)
        }
        var message = NexthopMessage()
        message.family = payload[payload.startIndex]
        var attributes = AttributeDecoder(payload[(payload.startIndex + headerSize)...])
        while attributes.next() {
            switch attributes.type {
            case Attribute.id: message.id = attributes.uint32()
            case Attribute.outputInterface: message.outputInterface = Int32(bitPattern: attributes.uint32())
            case Attribute.gateway: message.gateway = attributes.rawBytes
            case Attribute.blackhole: message.blackhole = true
            case Attribute.fdb: message.fdb = true
            case Attribute.group:
                let data = attributes.data
                guard data.count % groupEntrySize == 0 else {
                    attributes.fail(.malformed("NHA_GROUP of \(data.count) bytes is not a whole number of nexthop_grp entries"))
                    break
                }
                for at in stride(from: data.startIndex, to: data.endIndex, by: groupEntrySize) {
                    let weight = Int(data[at + 4]) | Int(data[at + 5]) << 8
                    message.members.append(Member(id: data.readNative(UInt32.self, at: at), weight: weight + 1))
                }
            default: break
            }
        }
        try attributes.finish()
        return message
    }

    /// An RTM_GETNEXTHOP dump request for every nexthop object of the namespace.
    public static func dumpRequest(sequence: UInt32) -> [UInt8] {
        NetlinkMessage.encode(type: getNexthop, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence,
                              payload: [UInt8](repeating: 0, count: headerSize))
    }
}
