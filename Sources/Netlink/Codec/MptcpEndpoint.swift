/// The MPTCP path manager's endpoints (include/uapi/linux/mptcp_pm.h, the generic netlink family
/// `mptcp_pm`), read for the device an endpoint names: `ip mptcp endpoint add 10.9.0.1 dev tap0
/// subflow` keeps tap0's ifindex in the endpoint, and the kernel binds the subflows it makes from
/// it to that index. Deleting the device leaves the endpoint in place (`dev if2`), naming an index
/// no device has; a device made again under the same name gets another, and the MPTCP path over
/// it is gone until someone adds the endpoint again.
public struct MptcpEndpoint: Equatable, Sendable {
    /// The family's name, which the generic netlink controller gives a number for.
    public static let familyName = "mptcp_pm"
    /// MPTCP_PM_CMD_GET_ADDR, which lists the endpoints in a dump, and MPTCP_PM_VER.
    static let getAddress: UInt8 = 3, version: UInt8 = 1
    /// MPTCP_PM_ATTR_ADDR, the nest that holds one endpoint.
    static let addressAttribute: UInt16 = 1
    /// MPTCP_PM_ADDR_ATTR_FAMILY (u16), _ID (u8), _ADDR4 (4 bytes, network order), _ADDR6 (16),
    /// _PORT (u16), _FLAGS (u32), _IF_IDX (s32).
    enum Key {
        static let family: UInt16 = 1, id: UInt16 = 2, address4: UInt16 = 3, address6: UInt16 = 4
        static let port: UInt16 = 5, flags: UInt16 = 6, ifindex: UInt16 = 7
    }
    /// The endpoint flags `ip mptcp endpoint` names, by bit (MPTCP_PM_ADDR_FLAG_SIGNAL and on).
    static let flagNames: [(UInt32, String)] = [(1, "signal"), (2, "subflow"), (4, "backup"), (8, "fullmesh"), (16, "implicit"), (32, "laminar")]

    /// The endpoint's number (`id 1`).
    public var id: UInt8
    /// Its address, 4 or 16 bytes in network order (empty when the kernel gives none).
    public var address: [UInt8]
    /// Its port (0: none), in host order, as the kernel sends it.
    public var port: UInt16
    /// Its flags (MPTCP_PM_ADDR_FLAG_*).
    public var flags: UInt32
    /// The device it names (0: none).
    public var ifindex: Int32

    public init(id: UInt8, address: [UInt8], port: UInt16 = 0, flags: UInt32, ifindex: Int32) {
        (self.id, self.address, self.port, self.flags, self.ifindex) = (id, address, port, flags, ifindex)
    }

    /// A dump request for every endpoint of the namespace (`ip mptcp endpoint show`), to the
    /// family numbered `family`.
    public static func dumpRequest(family: UInt16, sequence: UInt32) -> [UInt8] {
        GenericNetlink.encode(family: family, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, command: getAddress, version: version)
    }

    /// The endpoint one message of the dump describes; nil for a message without one. Throws
    /// when the payload is shorter than `struct genlmsghdr` or an attribute is malformed.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> MptcpEndpoint? {
        guard payload.count >= GenericNetlink.headerSize else {
            throw .truncated(what: "genlmsghdr", need: GenericNetlink.headerSize, have: payload.count)
        }
        var attributes = AttributeDecoder(payload.dropFirst(GenericNetlink.headerSize))
        var endpoint: MptcpEndpoint?
        while attributes.next() {
            guard attributes.type == addressAttribute else { continue }
            var found = MptcpEndpoint(id: 0, address: [], flags: 0, ifindex: 0)
            attributes.nested { inner in
                while inner.next() {
                    switch inner.type {
                    case Key.id: found.id = inner.uint8()
                    case Key.address4, Key.address6:
                        if inner.data.count != (inner.type == Key.address4 ? 4 : 16) {
                            inner.fail(.malformed("an MPTCP endpoint's address attribute holds \(inner.data.count) bytes"))
                        } else {
                            found.address = inner.rawBytes
                        }
                    case Key.port: found.port = inner.uint16()
                    case Key.flags: found.flags = inner.uint32()
                    case Key.ifindex: found.ifindex = inner.int32()
                    default: break
                    }
                }
            }
            endpoint = found
        }
        try attributes.finish()
        return endpoint
    }

    /// The endpoint's flags as `ip mptcp endpoint` names them (`subflow backup`).
    public var flagWords: [String] {
        Self.flagNames.filter { flags & $0.0 != 0 }.map(\.1)
    }
}
