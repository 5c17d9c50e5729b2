/// An RTM_NEWNEIGHTBL message: one neighbour table's settings, or one device's parameters of it,
/// as a dump lists them (`struct ndtmsg` followed by NDTA_* attributes, include/uapi/linux/
/// neighbour.h; net/core/neighbour.c, `neightbl_dump_info`). Each table comes first with its own
/// parameters (NDTA_PARMS without NDTPA_IFINDEX), which a new device copies; then one message
/// per device of the asking namespace, with NDTA_PARMS naming the device by NDTPA_IFINDEX. Read
/// for what `ip ntable change … dev DEVICE` set, which goes with the device.
public struct NeighbourTableMessage: Equatable, Sendable {
    /// Size of `struct ndtmsg`: a family byte and three of padding.
    public static let headerSize = 4
    /// RTM_NEWNEIGHTBL and RTM_GETNEIGHTBL.
    public static let newTable: UInt16 = 64, getTable: UInt16 = 66
    /// NDTA_NAME and NDTA_PARMS.
    static let nameAttribute: UInt16 = 1, parametersAttribute: UInt16 = 6
    /// NDTPA_IFINDEX, inside NDTA_PARMS.
    static let indexAttribute: UInt16 = 1

    /// NDTPA_* numbers of the parameters a person can set: times (u64 milliseconds) and counts
    /// (u32). NDTPA_REFCNT, NDTPA_REACHABLE_TIME (drawn at random from the base) and
    /// NDTPA_QUEUE_LEN (NDTPA_QUEUE_LENBYTES in whole ETH_FRAME_LEN packets) are left out.
    public enum Parameter: UInt16, Sendable, CaseIterable {
        case baseReachableTime = 4, retransTime = 5, gcStaleTime = 6, delayProbeTime = 7, appProbes = 9, unicastProbes = 10,
             multicastProbes = 11, anycastDelay = 12, proxyDelay = 13, proxyQueue = 14, lockTime = 15, queueBytes = 16,
             multicastReprobes = 17, intervalProbeTime = 19
    }

    /// AF_INET (`arp_cache`) or AF_INET6 (`ndisc_cache`), …
    public var family: UInt8 = 0
    /// NDTA_NAME: `arp_cache`, `ndisc_cache`, …
    public var name: String = ""
    /// Whether NDTA_PARMS was there.
    public var hasParameters = false
    /// NDTPA_IFINDEX: the device the parameters are of; nil for the table's own.
    public var index: Int32?
    /// The values of NDTA_PARMS that the kernel sent, by parameter.
    public var values: [Parameter: UInt64] = [:]

    public init() {}

    /// Decodes an RTM_NEWNEIGHTBL payload. A parameter of another size than its kind's is an
    /// error, as is any attribute that overruns the payload.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> NeighbourTableMessage {
        guard payload.count >= headerSize else { throw .truncated(what: "ndtmsg", need: headerSize, have: payload.count) }
        var table = NeighbourTableMessage()
        table.family = payload[payload.startIndex]
        var attributes = AttributeDecoder(payload.dropFirst(headerSize))
        while attributes.next() {
            switch attributes.type {
            case nameAttribute:
                table.name = String(decoding: attributes.bytesUpToNUL(), as: UTF8.self)
            case parametersAttribute:
                table.hasParameters = true
                attributes.nested { inner in
                    while inner.next() {
                        if inner.type == indexAttribute {
                            table.index = inner.int32()
                        } else if let parameter = Parameter(rawValue: inner.type) {
                            table.values[parameter] = parameter.isTime ? inner.uint64() : UInt64(inner.uint32())
                        }
                    }
                }
            default: break
            }
        }
        try attributes.finish()
        return table
    }

    /// The device a message's parameters are of (NDTPA_IFINDEX), read without decoding the rest:
    /// `.some(nil)` for a table's own parameters or a message without any, nil for a payload
    /// that does not read. A dump lists every device of the namespace, twice; the reaper decodes
    /// only the few it deletes.
    public static func parametersIndex(_ payload: ArraySlice<UInt8>) -> Int32?? {
        guard payload.count >= headerSize else { return nil }
        var attributes = AttributeDecoder(payload.dropFirst(headerSize))
        var index: Int32?
        while attributes.next() {
            guard attributes.type == parametersAttribute else { continue }
            attributes.nested { inner in
                while inner.next() {
                    if inner.type == indexAttribute {
                        index = inner.int32()
                        return
                    }
                }
            }
            break
        }
        return attributes.error == nil ? .some(index) : nil
    }

    /// A dump request for every neighbour table, with each device's parameters (of the
    /// namespace the socket is in).
    public static func dumpRequest(sequence: UInt32) -> [UInt8] {
        NetlinkMessage.encode(type: getTable, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence,
                              payload: [UInt8](repeating: 0, count: headerSize))
    }
}

extension NeighbourTableMessage.Parameter {
    /// Whether the kernel sends it as u64 milliseconds (`nla_put_msecs`) rather than a u32 count.
    public var isTime: Bool {
        switch self {
        case .baseReachableTime, .retransTime, .gcStaleTime, .delayProbeTime, .anycastDelay, .proxyDelay, .lockTime, .intervalProbeTime: true
        case .appProbes, .unicastProbes, .multicastProbes, .proxyQueue, .queueBytes, .multicastReprobes: false
        }
    }
}
