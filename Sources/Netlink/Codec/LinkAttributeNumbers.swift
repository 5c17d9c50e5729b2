/// The numbers of an RTM_NEWLINK message's attributes (IFLA_*) and of the nests inside them,
/// as the kernel's UAPI headers define them.
extension LinkMessage {
    /// IFLA_* attribute numbers, from include/uapi/linux/if_link.h.
    public enum Attribute {
        public static let address: UInt16 = 1
        public static let broadcast: UInt16 = 2
        public static let ifname: UInt16 = 3
        public static let mtu: UInt16 = 4
        public static let link: UInt16 = 5
        public static let master: UInt16 = 10
        public static let txqlen: UInt16 = 13
        public static let operstate: UInt16 = 16
        public static let linkMode: UInt16 = 17
        public static let linkinfo: UInt16 = 18
        public static let ifalias: UInt16 = 20
        public static let stats64: UInt16 = 23
        /// IFLA_AF_SPEC: a nest per address family; AF_INET6's holds IFLA_INET6_ADDR_GEN_MODE.
        public static let afSpec: UInt16 = 26
        public static let group: UInt16 = 27
        public static let extMask: UInt16 = 29
        public static let carrier: UInt16 = 33
        public static let linkNetnsID: UInt16 = 37
        public static let gsoMaxSegments: UInt16 = 40
        public static let gsoMaxSize: UInt16 = 41
        /// IFLA_CARRIER_UP_COUNT: how many times the carrier came on since the device was made.
        public static let carrierUpCount: UInt16 = 47
        /// IFLA_XDP: a nest saying whether an XDP program is attached, and which.
        public static let xdp: UInt16 = 43
        public static let newNetnsID: UInt16 = 45
        public static let newIfindex: UInt16 = 49
        public static let propList: UInt16 = 52
        public static let altIfname: UInt16 = 53
        public static let groMaxSize: UInt16 = 58
        /// IFLA_GSO_IPV4_MAX_SIZE and IFLA_GRO_IPV4_MAX_SIZE (Linux 6.3): the same limits for IPv4
        /// packets, which `gso_max_size` and `gro_max_size` leave at 64 KiB when set above it.
        public static let gsoIPv4MaxSize: UInt16 = 63
        public static let groIPv4MaxSize: UInt16 = 64
    }

    /// AF_INET, the family nest of IFLA_AF_SPEC, and IFLA_INET_CONF inside it: the device's
    /// `net.ipv4.conf.DEV.*` sysctls, an array of u32 indexed by IPV4_DEVCONF_* − 1
    /// (include/uapi/linux/ip.h).
    static let inetFamily: UInt16 = 2
    static let inetConfiguration: UInt16 = 1
    /// AF_INET6, the family nest of IFLA_AF_SPEC, and IFLA_INET6_ADDR_GEN_MODE inside it.
    static let inet6Family: UInt16 = 10
    static let inet6AddressGenerationMode: UInt16 = 8
    /// IFLA_INET6_FLAGS: the device's IPv6 state (`inet6_dev.if_flags`).
    static let inet6Flags: UInt16 = 1
    /// IFLA_INET6_CONF: the device's `net.ipv6.conf.DEV.*` sysctls, an array of s32 indexed by
    /// DEVCONF_* (include/uapi/linux/ipv6.h), kept whole (`ipv6Configuration`); DEVCONF_DISABLE_IPV6
    /// (26) is also read on its own.
    static let inet6Configuration: UInt16 = 2
    static let disableIPv6Index = 26
    /// IFLA_INET6_TOKEN: the interface identifier `ip token set` gave it (16 bytes, `::` for none).
    static let inet6Token: UInt16 = 7
    /// IF_READY in IFLA_INET6_FLAGS: IPv6 has taken the link as ready (its carrier came on while
    /// it was up), and runs duplicate address detection from then on; cleared only by going down.
    public static let ipv6Ready: UInt32 = 0x8000_0000

    /// IFLA_XDP_* attributes inside IFLA_XDP.
    public enum XDPAttribute {
        /// XDP_ATTACHED_*: 0 none, 1 driver, 2 generic (skb), 3 offloaded, 4 several modes.
        public static let attached: UInt16 = 2
        /// The program's id (one mode); with several modes, one id per mode follows instead.
        public static let programID: UInt16 = 4
        public static let driverProgramID: UInt16 = 5
        public static let genericProgramID: UInt16 = 6
        public static let offloadedProgramID: UInt16 = 7
    }

    /// RTM_NEWLINKPROP and RTM_DELLINKPROP (include/uapi/linux/rtnetlink.h): add or remove
    /// alternative names.
    public static let newLinkProp: UInt16 = 108
    public static let delLinkProp: UInt16 = 109

    /// IFF_UP, for `setUpRequest`.
    public static let flagUp: UInt32 = 0x1

    /// IFLA_INFO_* attributes nested in IFLA_LINKINFO.
    public enum LinkInfoAttribute {
        public static let kind: UInt16 = 1
        public static let data: UInt16 = 2
        public static let slaveKind: UInt16 = 4
    }

    /// IFLA_TUN_* attributes nested in IFLA_INFO_DATA when the kind is "tun" (drivers/net/tun.c).
    public enum TunAttribute {
        public static let owner: UInt16 = 1
        public static let group: UInt16 = 2
        public static let type: UInt16 = 3
        public static let pi: UInt16 = 4
        public static let vnetHeader: UInt16 = 5
        public static let persist: UInt16 = 6
        public static let multiQueue: UInt16 = 7
        public static let numQueues: UInt16 = 8
        public static let numDisabledQueues: UInt16 = 9
    }

    /// IFLA_VXLAN_LINK, nested in IFLA_INFO_DATA when the kind is "vxlan": the device the
    /// tunnel is bound to (drivers/net/vxlan; the kernel deletes the vxlan with that device).
    public static let vxlanLinkAttribute: UInt16 = 3

    /// The attribute in IFLA_INFO_DATA that holds a kernel tunnel's local (source) address, by
    /// kind: IFLA_VXLAN_LOCAL (4) and IFLA_VXLAN_LOCAL6 (17), IFLA_GRE_LOCAL (6), IFLA_IPTUN_LOCAL
    /// (2) and IFLA_VTI_LOCAL (4). The tunnel sends from that address, so it stops working once
    /// no device of its namespace has it.
    static let tunnelLocalAttributes: [String: Set<UInt16>] = [
        "vxlan": [4, 17],
        "gre": [6], "gretap": [6], "erspan": [6], "ip6gre": [6], "ip6gretap": [6], "ip6erspan": [6],
        "ipip": [2], "sit": [2], "ip6tnl": [2],
        "vti": [4], "vti6": [4],
    ]
}
