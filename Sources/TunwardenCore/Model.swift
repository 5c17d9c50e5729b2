import Foundation

/// The kind of an interface as tunwarden classifies it. Tunnel-style kinds are the ones it judges;
/// `other` interfaces are context (their routes still matter).
public enum InterfaceKind: String, Decodable, Sendable, CaseIterable {
    case tun, tap, veth, vxlan, geneve, gre, gretap, ipip, sit, ip6tnl, ip6gre, vti, xfrm, wireguard
    /// macOS user-space tunnels (PF_SYSTEM `com.apple.net.utun_control`).
    case utun
    /// macOS "fake ethernet" pairs, as ZeroTier uses.
    case feth
    case other

    /// Whether interfaces of this kind are judged as tunnels.
    public var isTunnelStyle: Bool { self != .other }

    /// The tunnel-style kind with this name (`tun`, `tap`, `utun`, …), or nil for any other text.
    public static func tunnel(named name: String) -> InterfaceKind? {
        InterfaceKind(rawValue: name).flatMap { $0.isTunnelStyle ? $0 : nil }
    }

    /// The classification of a Linux interface from its IFLA_INFO_KIND, with IFLA_TUN_TYPE
    /// (1 tun, 2 tap) deciding between tun and tap.
    public static func linux(infoKind: String?, tunType: UInt8?, hardwareType: UInt16) -> InterfaceKind {
        switch infoKind {
        case "tun":
            if let tunType { return tunType == 2 ? .tap : .tun }
            // Kernels before IFLA_TUN_TYPE: tap devices are Ethernet (ARPHRD_ETHER 1).
            return hardwareType == 1 ? .tap : .tun
        case "veth": return .veth
        case "vxlan": return .vxlan
        case "geneve": return .geneve
        case "gre", "erspan": return .gre
        case "gretap": return .gretap
        case "ipip": return .ipip
        case "sit": return .sit
        case "ip6tnl": return .ip6tnl
        case "ip6gre", "ip6gretap", "ip6erspan": return .ip6gre
        case "vti", "vti6": return .vti
        case "xfrm": return .xfrm
        case "wireguard": return .wireguard
        default: return .other
        }
    }
}

/// What a tun/tap device reports about itself (Linux IFLA_INFO_DATA, or sysfs).
public struct TunDetails: Decodable, JSONRecord, Sendable, Equatable {
    /// IFF_PERSIST: the device outlives the process that made it. Only persistent devices can be orphaned.
    public var persistent: Bool?
    public var multiQueue: Bool?
    public var packetInfo: Bool?
    public var vnetHeader: Bool?
    /// The uid allowed to attach, when one is set.
    public var owner: UInt32?
    public var group: UInt32?
    /// Attached queues; reported by the kernel for multi-queue devices only.
    public var numQueues: UInt32?
    /// Queues held open but disabled (TUNSETQUEUE IFF_DETACH_QUEUE); their holders do not show an `iff:` line.
    public var numDisabledQueues: UInt32?
    /// How many times its carrier came on since it was made (Linux IFLA_CARRIER_UP_COUNT); nil
    /// when not read. It comes on only when a queue is attached to a device without one, or a
    /// holder sets it on (TUNSETCARRIER), whether the device is up or down: a count higher than
    /// an earlier reading of the same device proves a process attached in between, however
    /// briefly. Not in the JSON schema.
    public var carrierUpCount: UInt32?

    public init(persistent: Bool? = nil, multiQueue: Bool? = nil, packetInfo: Bool? = nil, vnetHeader: Bool? = nil,
                owner: UInt32? = nil, group: UInt32? = nil, numQueues: UInt32? = nil, numDisabledQueues: UInt32? = nil) {
        self.persistent = persistent
        self.multiQueue = multiQueue
        self.packetInfo = packetInfo
        self.vnetHeader = vnetHeader
        self.owner = owner
        self.group = group
        self.numQueues = numQueues
        self.numDisabledQueues = numDisabledQueues
    }

    enum CodingKeys: String, CodingKey {
        case persistent = "persist", multiQueue = "multi_queue", packetInfo = "pi", vnetHeader = "vnet_hdr"
        case owner, group, numQueues = "numqueues", numDisabledQueues = "numdisabledqueues"
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("persist", persistent)
            json.field("multi_queue", multiQueue)
            json.field("pi", packetInfo)
            json.field("vnet_hdr", vnetHeader)
            json.field("owner", owner)
            json.field("group", group)
            json.field("numqueues", numQueues)
            json.field("numdisabledqueues", numDisabledQueues)
        }
    }
}

/// What the ifconfig block of a macOS tuntaposx interface (`tunN`, `tapN`: the tun/tap kext of
/// older OpenVPN and Tunnelblick setups) says of its character device, `/dev/tunN` or
/// `/dev/tapN`. The kext answers SIOCGIFSTATUS with `open (pid N)` while a process has the device
/// open and `closed` otherwise, and ifconfig prints that answer as a line of the block. The
/// device's opener is what uses the interface, and this line names it: unlike a utun's holder,
/// it needs no lsof.
public enum TuntaposxDevice: Sendable, Equatable {
    /// `open (pid N)`: process N opened the device, and the kext still counts it open (the
    /// descriptor may since have passed to a process N forked).
    case open(pid: Int32)
    /// `closed`: no process has the device open, so nothing reads what is sent into the
    /// interface.
    case closed
    /// The block has no status line: a filtered or cut listing, or a driver that prints none.
    /// `because` says why the block may lack lines, when the capture shows it.
    case unstated(because: String?)
    /// The block said `closed`, but other output of the capture makes that say nothing of the
    /// routes into the interface: they were read at another moment, with a command between that
    /// may have opened the device again, or lsof shows a process with it open. `because` says
    /// which, continuing "its ifconfig status line …"; `settledBy` says what output would
    /// settle it, when that is more than `ifconfig tunN` and `netstat -rn` of one moment (a VPN
    /// app that runs leaves it open whatever is pasted).
    case doubted(because: String, settledBy: String? = nil)
}

/// Traffic counters, for "idle since" judgements.
public struct TrafficCounters: Decodable, JSONRecord, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey {
        case rxPackets = "rx_packets", txPackets = "tx_packets", rxBytes = "rx_bytes", txBytes = "tx_bytes"
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("rx_packets", rxPackets)
            json.field("tx_packets", txPackets)
            json.field("rx_bytes", rxBytes)
            json.field("tx_bytes", txBytes)
        }
    }
}
