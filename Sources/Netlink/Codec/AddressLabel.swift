/// An IPv6 address-selection label (RTM_NEWADDRLABEL: `struct ifaddrlblmsg`, then IFAL_*
/// attributes; `ip addrlabel`), read for the device it is bound to: `ip addrlabel add prefix
/// 2001:db8::/48 dev tap0 label 7` keeps tap0's ifindex in the label. The kernel keeps the label
/// when the device goes (net/ipv6/addrlabel.c watches no devices), bound to an index no device
/// has; a device made again under the name does not get it.
public struct AddressLabel: Equatable, Sendable {
    /// RTM_NEWADDRLABEL, as a dump lists each label, and RTM_GETADDRLABEL, which asks.
    public static let newLabel: UInt16 = 72, getLabel: UInt16 = 74
    /// The size of `struct ifaddrlblmsg`: family, reserved, prefix length, flags, ifindex, seq.
    static let headerSize = 12
    /// IFAL_ADDRESS (16 bytes) and IFAL_LABEL (u32).
    static let addressAttribute: UInt16 = 1, labelAttribute: UInt16 = 2

    /// The prefix the label applies to, 16 bytes (empty when the kernel gives none), and its length.
    public var prefix: [UInt8]
    public var prefixLength: UInt8
    /// The device it is bound to (0: none).
    public var ifindex: Int32
    /// The label.
    public var label: UInt32

    public init(prefix: [UInt8], prefixLength: UInt8, ifindex: Int32, label: UInt32) {
        (self.prefix, self.prefixLength, self.ifindex, self.label) = (prefix, prefixLength, ifindex, label)
    }

    /// A dump request for every label of the namespace (`ip addrlabel list`).
    public static func dumpRequest(sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: headerSize)
        header[0] = 10      // AF_INET6
        return NetlinkMessage.encode(type: getLabel, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: header)
    }

    /// The label one RTM_NEWADDRLABEL message describes. Throws when the payload is shorter than
    /// `struct ifaddrlblmsg` or an attribute is malformed.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> AddressLabel {
        guard payload.count >= headerSize else { throw .truncated(what: "ifaddrlblmsg", need: headerSize, have: payload.count) }
        var label = AddressLabel(prefix: [], prefixLength: payload[payload.startIndex + 2],
                                 ifindex: payload.readNative(Int32.self, at: payload.startIndex + 4), label: 0)
        var attributes = AttributeDecoder(payload.dropFirst(headerSize))
        while attributes.next() {
            switch attributes.type {
            case addressAttribute:
                if attributes.data.count == 16 { label.prefix = attributes.rawBytes } else {
                    attributes.fail(.malformed("an address label's prefix holds \(attributes.data.count) bytes"))
                }
            case labelAttribute: label.label = attributes.uint32()
            default: break
            }
        }
        try attributes.finish()
        return label
    }
}
