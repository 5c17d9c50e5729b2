/// The shared traffic-control blocks devices are bound to (include/uapi/linux/rtnetlink.h): an
/// `ingress` or `clsact` qdisc made with `ingress_block 22` or `egress_block 22` makes its device a
/// port of block 22, and a `mirred … blockid 22` action sends packets to every port. Read from the
/// kernel's list of qdiscs (RTM_GETQDISC), which names each qdisc's device and, for these kinds,
/// its blocks.
public enum TrafficBlock {
    /// RTM_NEWQDISC and RTM_GETQDISC; a dump lists every qdisc as RTM_NEWQDISC.
    public static let newQdisc: UInt16 = 36
    public static let getQdisc: UInt16 = 38
    /// Size of `struct tcmsg`: family, two pad fields, ifindex, handle, parent, info.
    static let headerSize = 20
    /// TCA_INGRESS_BLOCK and TCA_EGRESS_BLOCK (after TCA_HW_OFFLOAD 12 in the TCA_* list).
    static let ingressBlock: UInt16 = 13, egressBlock: UInt16 = 14

    /// A dump request for every qdisc of every device of the namespace.
    public static func qdiscDumpRequest(sequence: UInt32) -> [UInt8] {
        NetlinkMessage.encode(type: getQdisc, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence,
                              payload: [UInt8](repeating: 0, count: headerSize))
    }

    /// One qdisc's device and the shared blocks it binds that device to (none for most).
    public struct Ports: Equatable, Sendable {
        public var index: Int32
        public var blocks: [UInt32]
    }

    /// The device and blocks of one qdisc message. Throws for a payload shorter than `struct
    /// tcmsg`, or attributes that do not parse.
    public static func decodePorts(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> Ports {
        guard payload.count >= headerSize else { throw .truncated(what: "tcmsg", need: headerSize, have: payload.count) }
        var ports = Ports(index: payload.readNative(Int32.self, at: payload.startIndex + 4), blocks: [])
        var attributes = AttributeDecoder(payload.dropFirst(headerSize))
        while attributes.next() {
            guard attributes.type == ingressBlock || attributes.type == egressBlock else { continue }
            let block = attributes.uint32()
            // The kernel sends no attribute for a qdisc bound to no shared block; 0 is no block.
            if block != 0 { ports.blocks.append(block) }
        }
        try attributes.finish()
        return ports
    }
}
