import Foundation

/// A network interface as the system reports it.
public struct NetworkInterface: Sendable, Equatable {
    public var index: Int
    public var name: String
    public var kind: InterfaceKind
    /// The platform's own word for the kind (Linux IFLA_INFO_KIND); nil for physical devices.
    public var infoKind: String?
    /// IFF_* flag names: UP, POINTOPOINT, RUNNING, LOWER_UP, …
    public var flags: [String]
    /// "UP", "DOWN", "UNKNOWN", … (iproute2's operstate names).
    public var operstate: String?
    /// Whether the link has carrier; a tun/tap has carrier exactly while a queue is attached (or TUNSETCARRIER forces it).
    public var carrier: Bool?
    public var mtu: Int?
    public var group: UInt32?
    /// The transmit queue length (Linux IFLA_TXQLEN).
    public var txQueueLength: UInt32?
    /// The index of the bridge or bond this interface is a port of.
    public var master: Int?
    /// The peer or underlying interface index (a veth's peer).
    public var link: Int?
    /// Whether `link` comes from the kind's own data (a vxlan's IFLA_VXLAN_LINK) rather than
    /// IFLA_LINK: it is the device underneath all the same, but the JSON's `link`, like `ip`'s,
    /// holds IFLA_LINK alone. Not in the JSON schema.
    public var linkFromKindData = false
    /// The namespace id `link` lives in, when not this namespace.
    public var linkNetnsID: Int32?
    public var hardwareAddress: String?
    public var tun: TunDetails?
    public var stats: TrafficCounters?
    public var addresses: [InterfaceAddress]
    /// Known only from a route that leaves through it or a holder lsof shows: a partial capture
    /// (`ifconfig utun3`, a grep'd listing) did not list it, so its state is unknown. Not in the
    /// JSON schema.
    public var unlisted = false
    /// Listed by name alone (`ifconfig -l`): its addresses are unknown, not absent. Not in the
    /// JSON schema.
    public var addressesUnknown = false
    /// Its own sysctls (Linux `net.ipv4.conf.DEV.*`, `net.ipv6.conf.DEV.*`), for the recreate
    /// commands; nil where the platform did not report them. One reference, shared between the
    /// devices of a dump that have the same values. Not in the JSON schema.
    public var deviceSysctls: DeviceSysctls?

    /// The fields most interfaces leave at their defaults (alias, master name, alternative names,
    /// tunnel source, link settings, XDP program, and the macOS capture's own details), kept
    /// out of line so that the record copied once per interface stays small: one reference,
    /// and none at all while every one of them is at its default. Never holds an all-default
    /// value, so that equal interfaces compare equal.
    private var rare: [RareFields] = []

    /// The interface's alias (Linux IFLA_IFALIAS), as `InterfaceName` text of its bytes.
    public var alias: String? {
        get { rare.first?.alias }
        set { updateRare { $0.alias = newValue } }
    }
    /// The master's name, as `InterfaceName` text, when the inventory saw it.
    public var masterName: String? {
        get { rare.first?.masterName }
        set { updateRare { $0.masterName = newValue } }
    }
    /// The id of the XDP program attached to it (0 when the kernel attached one but named no
    /// id); nil when none is attached.
    public var xdpProgram: UInt32? {
        get { rare.first?.xdpProgram }
        set { updateRare { $0.xdpProgram = newValue } }
    }
    /// What it has that the recreate commands do not make again (Linux qdiscs made by hand, policy
    /// rules that name it), each in the words of a `#` line of those commands, read by the
    /// reaper for them; not in the JSON schema.
    public var unrecreated: [String] {
        get { rare.first?.unrecreated ?? [] }
        set { updateRare { $0.unrecreated = newValue } }
    }
    /// Its link type (Linux ARPHRD_*), kept only where it is not what its kind is made with: a
    /// tun or tap whose type a program changed with TUNSETLINK. Not in the JSON schema.
    public var linkType: UInt16? {
        get { rare.first?.linkType }
        set { updateRare { $0.linkType = newValue } }
    }
    /// What the reaper read of it beyond its link dump, for the recreate commands
    /// (`DeviceExtraSettings`); nil where nothing was read. Not in the JSON schema.
    public var extraSettings: DeviceExtraSettings? {
        get { rare.first?.extraSettings }
        set { updateRare { $0.extraSettings = newValue } }
    }
    /// Its alternative names (Linux `ip link property add … altname`), as `InterfaceName` text: a
    /// process can attach to a tun device by any of them. Not in the JSON schema.
    public var altNames: [String] {
        get { rare.first?.altNames ?? [] }
        set { updateRare { $0.altNames = newValue } }
    }
    /// The local (source) address a kernel tunnel sends from (Linux: a vxlan's `local`, a gre,
    /// ipip, sit, ip6tnl or vti tunnel's); nil when none is set. Whatever device has that address
    /// is what the tunnel depends on. Not in the JSON schema.
    public var tunnelLocal: IPAddress? {
        get { rare.first?.tunnelLocal }
        set { updateRare { $0.tunnelLocal = newValue } }
    }
    /// Link mode, IPv6 address generation mode, GSO/GRO sizes and link-layer broadcast address,
    /// read for the recreate commands. Not in the JSON schema.
    public var linkSettings: LinkSettings {
        get { rare.first?.linkSettings ?? LinkSettings() }
        set { updateRare { $0.linkSettings = newValue } }
    }
    /// The peer's name, where the platform reports one directly (macOS feth `peer:` lines).
    public var peerName: String? {
        get { rare.first?.peerName }
        set { updateRare { $0.peerName = newValue } }
    }
    /// Why the capture's interface listings do not settle an `unlisted` interface, when they
    /// say (`ifconfig | grep utun` went through grep). Not in the JSON schema.
    public var unlistedBecause: String? {
        get { rare.first?.unlistedBecause }
        set { updateRare { $0.unlistedBecause = newValue } }
    }
    /// What the network agents attached to it say they are (macOS `ifconfig -v` lines
    /// `agent … desc:"VPN: Example Tunnel"`), naming the app behind a Network Extension tunnel.
    public var agentDescriptions: [String] {
        get { rare.first?.agentDescriptions ?? [] }
        set { updateRare { $0.agentDescriptions = newValue } }
    }
    /// For a macOS tuntaposx `tunN` or `tapN`: what its ifconfig block says of the character
    /// device that keeps it in use. Nil for every other interface (a Linux tun or tap is
    /// described by `tun`). Not in the JSON schema: the verdict's reason and holders carry it.
    public var tuntaposx: TuntaposxDevice? {
        get { rare.first?.tuntaposx }
        set { updateRare { $0.tuntaposx = newValue } }
    }

    public init(index: Int, name: String, kind: InterfaceKind, infoKind: String? = nil, flags: [String] = [],
                operstate: String? = nil, carrier: Bool? = nil, mtu: Int? = nil, group: UInt32? = nil, master: Int? = nil,
                link: Int? = nil, linkNetnsID: Int32? = nil, hardwareAddress: String? = nil, tun: TunDetails? = nil,
                stats: TrafficCounters? = nil, addresses: [InterfaceAddress] = [], peerName: String? = nil,
                txQueueLength: UInt32? = nil, alias: String? = nil, masterName: String? = nil) {
        self.index = index
        self.name = name
        self.kind = kind
        self.infoKind = infoKind
        self.flags = flags
        self.operstate = operstate
        self.carrier = carrier
        self.mtu = mtu
        self.group = group
        self.master = master
        self.link = link
        self.linkNetnsID = linkNetnsID
        self.hardwareAddress = hardwareAddress
        self.tun = tun
        self.stats = stats
        self.addresses = addresses
        if let peerName { self.peerName = peerName }
        self.txQueueLength = txQueueLength
        if let alias { self.alias = alias }
        if let masterName { self.masterName = masterName }
    }

    public var isUp: Bool { flags.contains("UP") }

    /// Whether it has the IPv4 address with these bytes.
    public func hasIPv4Address(_ bytes: [UInt8]) -> Bool {
        addresses.contains { $0.family == .inet && $0.local.bytes == bytes }
    }

    /// Whether it has this address, of either family (4 bytes IPv4, 16 IPv6).
    public func hasAddress(_ bytes: [UInt8]) -> Bool {
        addresses.contains { $0.local.bytes == bytes }
    }

    /// The names of the interfaces that are some interface's master (a bridge, a bond), by
    /// index: the link dump states a master only as an index, and may list it after its ports.
    public static func masterNames(in interfaces: [NetworkInterface]) -> [Int: String] {
        var masters = Set<Int>()
        for position in interfaces.indices {
            if let master = interfaces[position].master, master > 0 { masters.insert(master) }
        }
        guard !masters.isEmpty else { return [:] }
        var names: [Int: String] = [:]
        for position in interfaces.indices where masters.contains(interfaces[position].index) {
            names[interfaces[position].index] = interfaces[position].name
        }
        return names
    }
}

extension NetworkInterface {
    /// How many entries the list of interfaces built while a link dump arrives reserves up front. Reserved room that is never written is
    /// address space the kernel maps on first use, not memory, so a small namespace pays nothing
    /// for it; a large one is spared regrowing those lists while the kernel fills the dump. With
    /// 10,000 devices the regrowth moved each list into fresh pages several times: about 1,500
    /// page faults on the decoding thread.
    public static let listReservation = 1 << 15
}

extension NetworkInterface {
    /// The values behind `NetworkInterface`'s out-of-line fields.
    struct RareFields: Sendable, Equatable {
        var alias: String?
        var masterName: String?
        var xdpProgram: UInt32?
        var altNames: [String] = []
        var tunnelLocal: IPAddress?
        var linkSettings = LinkSettings()
        var peerName: String?
        var unlistedBecause: String?
        var agentDescriptions: [String] = []
        var tuntaposx: TuntaposxDevice?
        var unrecreated: [String] = []
        var extraSettings: DeviceExtraSettings?
        var linkType: UInt16?
    }

    /// Changes the out-of-line fields, keeping none when all are back at their defaults.
    private mutating func updateRare(_ change: (inout RareFields) -> Void) {
        if rare.isEmpty {
            var fields = RareFields()
            change(&fields)
            if fields != RareFields() { rare = [fields] }
        } else {
            change(&rare[0])
            if rare[0] == RareFields() { rare = [] }
        }
    }
}
