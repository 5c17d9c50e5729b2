/// Link settings `ip -d link` shows and `ip link set` changes that tunwarden reads only to give
/// them back in the recreate commands; not part of the JSON schema. Each is nil where the
/// platform did not report it; the Linux inventory keeps none at all for a device whose every
/// setting is what a new device starts with (`isNewDeviceDefault`).
public struct LinkSettings: Sendable, Equatable {
    /// IFLA_LINKMODE: 0 default, 1 dormant.
    public var linkMode: UInt8?
    /// How the kernel makes the IPv6 link-local address (IFLA_INET6_ADDR_GEN_MODE: 0 eui64,
    /// 1 none, 2 stable_secret, 3 random); nil for a device without IPv6.
    public var ipv6AddressGeneration: UInt8?
    /// The largest packets the stack builds for the device (GSO) and aggregates from it (GRO).
    public var gsoMaxSize: UInt32?
    public var gsoMaxSegments: UInt32?
    public var groMaxSize: UInt32?
    /// The same for IPv4 packets (Linux 6.3 and later); setting `gso_max_size` or `gro_max_size`
    /// to 64 KiB or less sets these to it too.
    public var gsoIPv4MaxSize: UInt32?
    public var groIPv4MaxSize: UInt32?
    /// The link-layer broadcast address, `aa:bb:…`.
    public var broadcast: String?
    /// The interface identifier `ip token set` gave it (IFLA_INET6_TOKEN); nil when none was set.
    public var ipv6Token: IPAddress?
    /// Whether `net.ipv6.conf.DEV.disable_ipv6` is set; nil where it was not read.
    public var ipv6Disabled: Bool?

    public init() {}

    /// Whether every setting is unreported or what a new tun or tap device starts with: nothing
    /// to give back, so an inventory need not keep it.
    public var isNewDeviceDefault: Bool {
        (broadcast == nil || broadcast == Self.etherBroadcast) && (linkMode ?? 0) == 0 && (ipv6AddressGeneration ?? 0) == 0
            && (gsoMaxSize ?? Self.newDeviceGSOSize) == Self.newDeviceGSOSize && (gsoMaxSegments ?? Self.newDeviceGSOSegments) == Self.newDeviceGSOSegments
            && (groMaxSize ?? Self.newDeviceGROSize) == Self.newDeviceGROSize && ipv6Token == nil && ipv6Disabled != true
            && (gsoIPv4MaxSize ?? Self.newDeviceGSOSize) == Self.newDeviceGSOSize && (groIPv4MaxSize ?? Self.newDeviceGROSize) == Self.newDeviceGROSize
    }

    /// IN6_ADDR_GEN_MODE_STABLE_PRIVACY: the mode `ip link set … addrgenmode stable_secret` sets,
    /// which the kernel refuses unless the device or `net.ipv6.conf.default` has a secret.
    public static let stableSecretMode: UInt8 = 2

    /// `ip link set`'s words for each IFLA_INET6_ADDR_GEN_MODE.
    static let addressGenerationWords: [UInt8: String] = [0: "eui64", 1: "none", 2: "stable_secret", 3: "random"]

    /// What a new tun or tap device starts with (net/core/dev.c, net/ethernet/eth.c): GSO and GRO
    /// up to 64 KiB, 65,535 segments, and for a tap the all-ones broadcast address.
    static let newDeviceGSOSize: UInt32 = 65536
    static let newDeviceGSOSegments: UInt32 = 65535
    static let newDeviceGROSize: UInt32 = 65536
    static let etherBroadcast = "ff:ff:ff:ff:ff:ff"

    /// The `ip link set` words for each setting that differs from a new device's (`mode dormant`,
    /// `addrgenmode none`, `gso_max_size 30000`, …), one setting each, in the order they must be
    /// given: all before the device is set up, so that `addrgenmode` holds before the kernel
    /// would make a link-local address. `addrgenmode stable_secret` is not among them: its secret
    /// cannot be read back over netlink, and without one the kernel refuses the mode (the
    /// recreate commands name it in a comment line instead).
    public func ipWords(tap: Bool) -> [String] {
        var words: [String] = []
        if tap, let broadcast, broadcast != Self.etherBroadcast { words.append("broadcast \(broadcast)") }
        if let linkMode, linkMode != 0 { words.append(linkMode == 1 ? "mode dormant" : "mode \(linkMode)") }
        if let mode = ipv6AddressGeneration, mode != 0, mode != Self.stableSecretMode { words.append("addrgenmode \(Self.addressGenerationWords[mode] ?? "\(mode)")") }
        if let gsoMaxSize, gsoMaxSize != Self.newDeviceGSOSize { words.append("gso_max_size \(gsoMaxSize)") }
        if let gsoMaxSegments, gsoMaxSegments != Self.newDeviceGSOSegments { words.append("gso_max_segs \(gsoMaxSegments)") }
        if let groMaxSize, groMaxSize != Self.newDeviceGROSize { words.append("gro_max_size \(groMaxSize)") }
        return words
    }

    /// The IPv4 limits (`gso_ipv4_max_size`, `gro_ipv4_max_size`) that differ from what the
    /// device comes back with once `ipWords` are set, each with its `ip link set` word, its
    /// value and that value: a new device's 64 KiB, or `gso_max_size` (`gro_max_size`) where that
    /// is set to 64 KiB or less, which the kernel gives the IPv4 limit too (net/core/dev.c,
    /// `netif_set_gso_max_size`). Only iproute2 6.3 and later have words for them, so the
    /// recreate commands name them in a comment line with the command that sets them.
    public var unwrittenIPv4Sizes: [(word: String, value: UInt32, comesBack: UInt32)] {
        func comesBack(_ size: UInt32?, default initial: UInt32) -> UInt32 {
            guard let size, size != initial, size <= Self.legacyMaxSize else { return initial }
            return size
        }
        var sizes: [(word: String, value: UInt32, comesBack: UInt32)] = []
        let gso = comesBack(gsoMaxSize, default: Self.newDeviceGSOSize), gro = comesBack(groMaxSize, default: Self.newDeviceGROSize)
        if let gsoIPv4MaxSize, gsoIPv4MaxSize != gso { sizes.append(("gso_ipv4_max_size", gsoIPv4MaxSize, gso)) }
        if let groIPv4MaxSize, groIPv4MaxSize != gro { sizes.append(("gro_ipv4_max_size", groIPv4MaxSize, gro)) }
        return sizes
    }

    /// GSO_LEGACY_MAX_SIZE and GRO_LEGACY_MAX_SIZE: the largest `gso_max_size` and
    /// `gro_max_size` the kernel gives the IPv4 limits too.
    static let legacyMaxSize: UInt32 = 65536
}
