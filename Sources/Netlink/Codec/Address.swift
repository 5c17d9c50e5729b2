/// An RTM_NEWADDR message: one address on an interface (`struct ifaddrmsg` and IFA_* attributes).
public struct AddressMessage: Equatable, Sendable {
    /// IFA_* attribute numbers, from include/uapi/linux/if_addr.h.
    public enum Attribute {
        public static let address: UInt16 = 1
        public static let local: UInt16 = 2
        public static let label: UInt16 = 3
        public static let broadcast: UInt16 = 4
        public static let cacheInfo: UInt16 = 6
        public static let multicast: UInt16 = 7
        public static let flags: UInt16 = 8
        public static let routePriority: UInt16 = 9
        /// IFA_PROTO (u8): who made the address.
        public static let proto: UInt16 = 11
    }

    /// IFAPROT_KERNEL_LL in IFA_PROTO: an IPv6 link-local address the kernel made itself (from
    /// the MAC, or as its `addrgenmode` says); Linux 6.3 and later mark it so.
    public static let kernelLinkLocal: UInt8 = 3

    /// `ifa_prefered` and `ifa_valid` of IFA_CACHEINFO when an address is forever.
    public static let infiniteLifetime: UInt32 = 0xFFFF_FFFF

    /// AF_INET (2) or AF_INET6 (10).
    public var family: UInt8 = 0
    public var prefixLength: UInt8 = 0
    /// IFA_F_* flags; the 32-bit IFA_FLAGS attribute replaces the 8-bit header field when present.
    public var flags: UInt32 = 0
    /// RT_SCOPE_* (0 universe, 200 site, 253 link, 254 host).
    public var scope: UInt8 = 0
    public var index: UInt32 = 0
    /// IFA_ADDRESS: for point-to-point links the peer, otherwise the same as `local`.
    public var address: [UInt8]?
    /// IFA_LOCAL: the address of this interface (IPv4; IPv6 sends only IFA_ADDRESS unless a peer is set).
    public var local: [UInt8]?
    /// IFA_LABEL (IPv4): the label's bytes, without the NUL; the device's name unless set otherwise.
    public var label: [UInt8]?
    public var broadcast: [UInt8]?
    /// IFA_MULTICAST: the group of an RTM_NEWMULTICAST entry (a membership the device holds).
    public var multicast: [UInt8]?
    /// IFA_CACHEINFO: seconds left before the address stops being preferred and valid;
    /// `infiniteLifetime` for forever.
    public var preferredLifetime: UInt32?
    public var validLifetime: UInt32?
    /// IFA_RT_PRIORITY: the metric of the prefix route the kernel makes for the address.
    public var routePriority: UInt32?
    /// IFA_PROTO: IFAPROT_* (1 the kernel's loopback, 2 from a router advertisement, 3 the
    /// kernel's link-local) or what `ip addr add … proto` gave; nil when the kernel sent none.
    public var addressProtocol: UInt8?

    public init() {}

    /// Size of `struct ifaddrmsg`.
    public static let headerSize = 8

    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> AddressMessage {
        guard payload.count >= headerSize else {
            throw .truncated(what: "ifaddrmsg", need: headerSize, have: payload.count)
        }
        let base = payload.startIndex
        var message = AddressMessage()
        message.family = payload[base]
        message.prefixLength = payload[base + 1]
        message.flags = UInt32(payload[base + 2])
        message.scope = payload[base + 3]
        message.index = payload.readNative(UInt32.self, at: base + 4)
        var attributes = AttributeDecoder(payload[(base + headerSize)...])
        while attributes.next() {
            switch attributes.type {
            case Attribute.address: message.address = attributes.rawBytes
            case Attribute.local: message.local = attributes.rawBytes
            case Attribute.label: message.label = attributes.bytesUpToNUL()
            case Attribute.broadcast: message.broadcast = attributes.rawBytes
            case Attribute.multicast: message.multicast = attributes.rawBytes
            case Attribute.flags: message.flags = attributes.uint32()
            case Attribute.routePriority: message.routePriority = attributes.uint32()
            case Attribute.proto: message.addressProtocol = attributes.uint8()
            case Attribute.cacheInfo:
                // struct ifa_cacheinfo: ifa_prefered, ifa_valid, cstamp, tstamp (u32 each).
                let data = attributes.data
                guard data.count >= 8 else {
                    attributes.fail(.truncated(what: "ifa_cacheinfo", need: 8, have: data.count))
                    break
                }
                message.preferredLifetime = data.readNative(UInt32.self, at: data.startIndex)
                message.validLifetime = data.readNative(UInt32.self, at: data.startIndex + 4)
            default: break
            }
        }
        try attributes.finish()
        return message
    }

    /// An RTM_GETADDR dump request for every address family (`family` 0, AF_UNSPEC) or one.
    ///
    /// An AF_UNSPEC dump runs each family's dump under the RTNL lock (rtnl_dump_all), so a
    /// namespace's other dumps wait while it walks every device twice; a dump of AF_INET or
    /// AF_INET6 alone runs under RCU on recent kernels and holds up nothing.
    public static func dumpRequest(family: UInt8 = 0, sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: headerSize)
        payload[0] = family
        return NetlinkMessage.encode(type: NetlinkType.getAddress, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }

    /// The family, ifindex and group (IFA_MULTICAST, nil when absent) of an RTM_GETMULTICAST
    /// entry, read in place: a dump holds two or more entries for every device, almost all of
    /// them groups the kernel joins itself, which the caller drops without decoding the rest.
    /// Throws as `decode` does on a malformed entry.
    public static func multicastEntry(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> (family: UInt8, index: UInt32, group: ArraySlice<UInt8>?) {
        guard payload.count >= headerSize else {
            throw .truncated(what: "ifaddrmsg", need: headerSize, have: payload.count)
        }
        let base = payload.startIndex
        var group: ArraySlice<UInt8>?
        var attributes = AttributeDecoder(payload[(base + headerSize)...])
        while attributes.next() {
            if attributes.type == Attribute.multicast { group = attributes.data }
        }
        try attributes.finish()
        return (payload[base], payload.readNative(UInt32.self, at: base + 4), group)
    }

    /// RTM_NEWMULTICAST and RTM_GETMULTICAST (include/uapi/linux/rtnetlink.h).
    public static let newMulticast: UInt16 = 56
    public static let getMulticast: UInt16 = 58

    /// An RTM_GETMULTICAST dump request of `family`'s group memberships of every device: one
    /// message per device and group (typed RTM_GETMULTICAST), the group in IFA_MULTICAST. (AF_INET6 on every
    /// kernel; AF_INET only on recent ones.) Unlike `/proc/net/igmp6` it does not count a
    /// group's holders, and unlike it, it costs the kernel one walk of the devices however many
    /// there are: the file starts its walk over for each page it is read by.
    public static func multicastDumpRequest(family: UInt8, sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: headerSize)
        payload[0] = family
        return NetlinkMessage.encode(type: getMulticast, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }
}
