/// An RTM_NEWLINK message: one network interface as the kernel describes it (`struct ifinfomsg`
/// followed by IFLA_* attributes).
///
/// Only the attributes tunwarden reasons about are kept; unknown ones are skipped.
public struct LinkMessage: Equatable, Sendable {
    /// What the kernel reports about a tun/tap device in IFLA_INFO_DATA. Absent attributes stay nil:
    /// owner and group are sent only when set, the queue counts only for multi-queue devices.
    public struct TunInfo: Equatable, Sendable {
        /// 1 for tun (IFF_TUN), 2 for tap (IFF_TAP).
        public var type: UInt8?
        public var owner: UInt32?
        public var group: UInt32?
        public var packetInfo: Bool?
        public var vnetHeader: Bool?
        public var persist: Bool?
        public var multiQueue: Bool?
        public var numQueues: UInt32?
        public var numDisabledQueues: UInt32?

        public init() {}
    }

    /// The first four counters of `struct rtnl_link_stats64`.
    public struct Stats: Equatable, Sendable {
        public var rxPackets: UInt64
        public var txPackets: UInt64
        public var rxBytes: UInt64
        public var txBytes: UInt64

        public init(rxPackets: UInt64, txPackets: UInt64, rxBytes: UInt64, txBytes: UInt64) {
            self.rxPackets = rxPackets
            self.txPackets = txPackets
            self.rxBytes = rxBytes
            self.txBytes = txBytes
        }

        /// Reads the first four counters of a `struct rtnl_link_stats64`; newer kernels append
        /// more, and the first four have been there since 2.6.35.
        static func decode(_ data: ArraySlice<UInt8>) throws(NetlinkError) -> Stats {
            guard data.count >= 32 else { throw .truncated(what: "rtnl_link_stats64", need: 32, have: data.count) }
            let s = data.startIndex
            return Stats(rxPackets: data.readNative(UInt64.self, at: s), txPackets: data.readNative(UInt64.self, at: s + 8),
                         rxBytes: data.readNative(UInt64.self, at: s + 16), txBytes: data.readNative(UInt64.self, at: s + 24))
        }
    }

    public var family: UInt8 = 0
    /// The ARPHRD_* hardware type (65534 ARPHRD_NONE for tun, 1 ARPHRD_ETHER for tap and veth).
    public var hardwareType: UInt16 = 0
    public var index: Int32 = 0
    /// IFF_* flags (IFF_UP 0x1, IFF_POINTOPOINT 0x10, IFF_RUNNING 0x40, IFF_LOWER_UP 0x10000, …).
    public var flags: UInt32 = 0
    /// IFF_UP in `flags`: the device is set up.
    public static let up: UInt32 = 0x1
    /// IFF_LOWER_UP in `flags`: the device has its carrier.
    public static let lowerUp: UInt32 = 0x10000
    /// IFLA_IFNAME: the name's bytes as the kernel holds them, without the NUL. Not necessarily
    /// UTF-8; anything that acts on a device by name must use these bytes.
    public var name: [UInt8]?
    /// IFLA_ALT_IFNAME entries of IFLA_PROP_LIST: alternative names, which look-ups by name
    /// (TUNSETIFF among them) find as well as the name itself.
    public var altNames: [[UInt8]] = []
    public var mtu: UInt32?
    /// IFLA_LINK: the underlying or peer interface index (a veth's peer).
    public var link: Int32?
    /// IFLA_LINK_NETNSID: the namespace id, as seen from this namespace, that `link` lives in.
    public var linkNetnsID: Int32?
    public var master: UInt32?
    /// IF_OPER_* (0 unknown, 2 down, 6 up, 7 dormant, …).
    public var operstate: UInt8?
    public var carrier: Bool?
    /// IFLA_CARRIER_UP_COUNT: how many times the carrier came on since the device was made (a
    /// tun's comes on only when a queue is attached, or its holder sets it on).
    public var carrierUpCount: UInt32?
    public var group: UInt32?
    public var hardwareAddress: [UInt8]?
    /// IFLA_BROADCAST: the link-layer broadcast address (`ip link set … broadcast`).
    public var broadcast: [UInt8]?
    /// IFLA_LINKMODE: 0 default, 1 dormant (`ip link set … mode dormant`).
    public var linkMode: UInt8?
    /// IFLA_INET6_ADDR_GEN_MODE: how the kernel makes the device's IPv6 link-local address
    /// (0 eui64, 1 none, 2 stable_secret, 3 random); nil when the device has no IPv6.
    public var ipv6AddressGenerationMode: UInt8?
    /// IFLA_INET6_FLAGS (`ipv6Ready`, …); nil when the device has no IPv6.
    public var ipv6Flags: UInt32?
    /// Whether its `net.ipv6.conf.DEV.disable_ipv6` is set; nil when the device has no IPv6 or
    /// the kernel sent too short a configuration array.
    public var ipv6Disabled: Bool?
    /// IFLA_INET_CONF as the kernel sent it: the device's `net.ipv4.conf.DEV.*` values, 4 bytes
    /// each in the host's byte order (`configurationValues` reads them); nil when the device has
    /// no IPv4. A slice of the message, not a copy: the message is read and let go.
    public var ipv4Configuration: ArraySlice<UInt8>?
    /// IFLA_INET6_CONF as the kernel sent it: the device's `net.ipv6.conf.DEV.*` values, 4 bytes
    /// each; nil when the device has no IPv6. A slice of the message, as `ipv4Configuration` is.
    public var ipv6Configuration: ArraySlice<UInt8>?
    /// IFLA_INET6_TOKEN: the IPv6 token's 16 bytes (all zero when none was set); nil when the
    /// device has no IPv6.
    public var ipv6Token: [UInt8]?
    /// IFLA_GSO_MAX_SIZE, IFLA_GSO_MAX_SEGS and IFLA_GRO_MAX_SIZE: the largest packets the stack
    /// builds for it and aggregates from it.
    public var gsoMaxSize: UInt32?
    public var gsoMaxSegments: UInt32?
    public var groMaxSize: UInt32?
    /// IFLA_GSO_IPV4_MAX_SIZE and IFLA_GRO_IPV4_MAX_SIZE: those of IPv4 packets; nil from a kernel
    /// before 6.3.
    public var gsoIPv4MaxSize: UInt32?
    public var groIPv4MaxSize: UInt32?
    /// IFLA_TXQLEN: the transmit queue length (`ip link set … txqueuelen`).
    public var txQueueLength: UInt32?
    /// IFLA_IFALIAS: the alias's bytes as the kernel holds them, without the NUL. Any bytes a
    /// person set, not necessarily UTF-8.
    public var alias: [UInt8]?
    public var stats: Stats?
    /// IFLA_INFO_KIND: the driver's kind ("tun", "veth", "vxlan", …); nil for physical devices.
    public var kind: String?
    public var slaveKind: String?
    public var tun: TunInfo?
    /// IFLA_VXLAN_LINK of a vxlan device: the device it is bound to, if any.
    public var vxlanLink: UInt32?
    /// The local (source) address of a kernel tunnel (a vxlan's `local`, a gre, ipip, sit, ip6tnl
    /// or vti tunnel's), 4 or 16 bytes; nil when it has none set (the kernel then picks one per
    /// packet) or is no such tunnel.
    public var tunnelLocal: [UInt8]?
    /// The id of the XDP program attached to the device (the first the kernel names when several
    /// are, one per mode); nil when none is, or the kernel did not say.
    public var xdpProgramID: UInt32?
    /// IFLA_NEW_NETNSID: present only on the RTM_DELLINK the kernel sends when the device moves to
    /// another network namespace (`ip link set DEV netns OTHER`), where it names that namespace by
    /// its id in the one the device left; a deleted device's RTM_DELLINK has none.
    public var newNetnsID: Int32?
    /// IFLA_NEW_IFINDEX: beside `newNetnsID` on a move's RTM_DELLINK, the ifindex the device has
    /// in the namespace it went to (its own again, unless another device there has that one).
    public var newIndex: Int32?

    public init() {}

    /// Size of `struct ifinfomsg`.
    public static let headerSize = 16

    /// Decodes an RTM_NEWLINK payload.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> LinkMessage {
        guard payload.count >= headerSize else {
            throw .truncated(what: "ifinfomsg", need: headerSize, have: payload.count)
        }
        let base = payload.startIndex
        var link = LinkMessage()
        link.family = payload[base]
        link.hardwareType = payload.readNative(UInt16.self, at: base + 2)
        link.index = payload.readNative(Int32.self, at: base + 4)
        link.flags = payload.readNative(UInt32.self, at: base + 8)

        var attributes = AttributeDecoder(payload[(base + headerSize)...])
        while attributes.next() {
            switch attributes.type {
            case Attribute.ifname: link.name = attributes.bytesUpToNUL()
            case Attribute.propList:
                attributes.nested { list in
                    while list.next() {
                        if list.type == Attribute.altIfname { link.altNames.append(list.bytesUpToNUL()) }
                    }
                }
            case Attribute.mtu: link.mtu = attributes.uint32()
            case Attribute.link: link.link = attributes.int32()
            case Attribute.linkNetnsID: link.linkNetnsID = attributes.int32()
            case Attribute.newNetnsID: link.newNetnsID = attributes.int32()
            case Attribute.newIfindex: link.newIndex = attributes.int32()
            case Attribute.master: link.master = attributes.uint32()
            case Attribute.operstate: link.operstate = attributes.uint8()
            case Attribute.carrier: link.carrier = attributes.uint8() != 0
            case Attribute.carrierUpCount: link.carrierUpCount = attributes.uint32()
            case Attribute.group: link.group = attributes.uint32()
            case Attribute.address: link.hardwareAddress = attributes.rawBytes
            case Attribute.broadcast: link.broadcast = attributes.rawBytes
            case Attribute.linkMode: link.linkMode = attributes.uint8()
            case Attribute.gsoMaxSize: link.gsoMaxSize = attributes.uint32()
            case Attribute.gsoMaxSegments: link.gsoMaxSegments = attributes.uint32()
            case Attribute.groMaxSize: link.groMaxSize = attributes.uint32()
            case Attribute.gsoIPv4MaxSize: link.gsoIPv4MaxSize = attributes.uint32()
            case Attribute.groIPv4MaxSize: link.groIPv4MaxSize = attributes.uint32()
            case Attribute.afSpec:
                attributes.nested { families in
                    while families.next() {
                        if families.type == Self.inetFamily {
                            families.nested { inet in
                                while inet.next() { if inet.type == Self.inetConfiguration { link.ipv4Configuration = inet.data } }
                            }
                        }
                        guard families.type == Self.inet6Family else { continue }
                        families.nested { inet6 in
                            while inet6.next() {
                                if inet6.type == Self.inet6AddressGenerationMode { link.ipv6AddressGenerationMode = inet6.uint8() }
                                if inet6.type == Self.inet6Flags { link.ipv6Flags = inet6.uint32() }
                                if inet6.type == Self.inet6Token {
                                    if inet6.data.count == 16 { link.ipv6Token = inet6.rawBytes } else {
                                        inet6.fail(.malformed("IFLA_INET6_TOKEN should hold 16 bytes but holds \(inet6.data.count)"))
                                    }
                                }
                                if inet6.type == Self.inet6Configuration {
                                    link.ipv6Configuration = inet6.data
                                    let offset = Self.disableIPv6Index * 4
                                    if inet6.data.count >= offset + 4 {
                                        link.ipv6Disabled = inet6.data.dropFirst(offset).prefix(4).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) } != 0
                                    }
                                }
                            }
                        }
                    }
                }
            case Attribute.txqlen: link.txQueueLength = attributes.uint32()
            case Attribute.ifalias: link.alias = attributes.bytesUpToNUL()
            case Attribute.stats64:
                do throws(NetlinkError) {
                    link.stats = try Stats.decode(attributes.data)
                } catch {
                    attributes.fail(error)
                }
            case Attribute.linkinfo:
                attributes.nested { info in link.decodeLinkInfo(&info) }
            case Attribute.xdp:
                attributes.nested { xdp in link.xdpProgramID = Self.xdpProgram(&xdp) }
            default: break
            }
        }
        try attributes.finish()
        return link
    }

    /// The values of a devconf array (`ipv4Configuration`, `ipv6Configuration`), in the host's
    /// byte order as the kernel writes them: one per whole 4 bytes, a ragged tail left out, so
    /// that no input can make it read past the data. An older kernel sends fewer entries, a
    /// newer one more; the caller knows which index means what.
    public static func configurationValues(_ data: ArraySlice<UInt8>) -> [Int32] {
        let count = data.count / 4
        return [Int32](unsafeUninitializedCapacity: count) { values, initialized in
            data.withUnsafeBytes { raw in
                for position in 0..<count { values[position] = raw.loadUnaligned(fromByteOffset: position * 4, as: Int32.self) }
            }
            initialized = count
        }
    }

    /// The attached XDP program's id from IFLA_XDP's attributes (0 when one is attached and the
    /// kernel names no id), or nil when none is attached.
    static func xdpProgram(_ xdp: inout AttributeDecoder) -> UInt32? {
        var attached: UInt8 = 0
        var program: UInt32?
        while xdp.next() {
            switch xdp.type {
            case XDPAttribute.attached: attached = xdp.uint8()
            case XDPAttribute.programID, XDPAttribute.driverProgramID, XDPAttribute.genericProgramID, XDPAttribute.offloadedProgramID:
                let id = xdp.uint32()
                if program == nil, id != 0 { program = id }
            default: break
            }
        }
        return attached != 0 ? program ?? 0 : nil
    }

    private mutating func decodeLinkInfo(_ info: inout AttributeDecoder) {
        var data: ArraySlice<UInt8>?
        while info.next() {
            switch info.type {
            case LinkInfoAttribute.kind: kind = info.string()
            case LinkInfoAttribute.slaveKind: slaveKind = info.string()
            case LinkInfoAttribute.data: data = info.data
            default: break
            }
        }
        // IFLA_INFO_DATA's layout depends on the kind, which the kernel sends first but need not.
        guard info.error == nil, let data else { return }
        if let kind, let locals = Self.tunnelLocalAttributes[kind] {
            var tunnelAttributes = AttributeDecoder(data)
            while tunnelAttributes.next() {
                if kind == "vxlan", tunnelAttributes.type == Self.vxlanLinkAttribute {
                    let lower = tunnelAttributes.uint32()
                    if lower != 0 { vxlanLink = lower }
                } else if locals.contains(tunnelAttributes.type) {
                    // An unset local is sent as all zeroes by some kinds (ipip, gre).
                    let local = tunnelAttributes.rawBytes
                    if (local.count == 4 || local.count == 16), local.contains(where: { $0 != 0 }) { tunnelLocal = local }
                }
            }
            if let error = tunnelAttributes.error { info.fail(error) }
            return
        }
        guard kind == "tun" else { return }
        var tunAttributes = AttributeDecoder(data)
        var tun = TunInfo()
        while tunAttributes.next() {
            switch tunAttributes.type {
            case TunAttribute.owner: tun.owner = tunAttributes.uint32()
            case TunAttribute.group: tun.group = tunAttributes.uint32()
            case TunAttribute.type: tun.type = tunAttributes.uint8()
            case TunAttribute.pi: tun.packetInfo = tunAttributes.uint8() != 0
            case TunAttribute.vnetHeader: tun.vnetHeader = tunAttributes.uint8() != 0
            case TunAttribute.persist: tun.persist = tunAttributes.uint8() != 0
            case TunAttribute.multiQueue: tun.multiQueue = tunAttributes.uint8() != 0
            case TunAttribute.numQueues: tun.numQueues = tunAttributes.uint32()
            case TunAttribute.numDisabledQueues: tun.numDisabledQueues = tunAttributes.uint32()
            default: break
            }
        }
        if let error = tunAttributes.error { info.fail(error) }
        self.tun = tun
    }
}
