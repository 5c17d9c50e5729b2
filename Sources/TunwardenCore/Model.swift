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
    /// which, continuing "its ifconfig status line …".
    case doubted(because: String)
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
    /// The interface's alias (Linux IFLA_IFALIAS), as `InterfaceName` text of its bytes.
    public var alias: String?
    /// The index of the bridge or bond this interface is a port of.
    public var master: Int?
    /// The master's name, as `InterfaceName` text, when the inventory saw it.
    public var masterName: String?
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
    /// The id of the XDP program attached to it (0 when the kernel attached one but named no
    /// id); nil when none is attached.
    public var xdpProgram: UInt32?
    /// Its alternative names (Linux `ip link property add … altname`), as `InterfaceName` text: a
    /// process can attach to a tun device by any of them. Not in the JSON schema.
    public var altNames: [String] = []
    public var stats: TrafficCounters?
    public var addresses: [InterfaceAddress]
    /// The peer's name, where the platform reports one directly (macOS feth `peer:` lines).
    public var peerName: String?
    /// Known only from a route that leaves through it or a holder lsof shows: a partial capture
    /// (`ifconfig utun3`, a grep'd listing) did not list it, so its state is unknown. Not in the
    /// JSON schema.
    public var unlisted = false
    /// Why the capture's interface listings do not settle an `unlisted` interface, when they
    /// say (`ifconfig | grep utun` went through grep). Not in the JSON schema.
    public var unlistedBecause: String?
    /// Listed by name alone (`ifconfig -l`): its addresses are unknown, not absent. Not in the
    /// JSON schema.
    public var addressesUnknown = false
    /// What the network agents attached to it say they are (macOS `ifconfig -v` lines
    /// `agent … desc:"VPN: Example Tunnel"`), naming the app behind a Network Extension tunnel.
    public var agentDescriptions: [String] = []
    /// For a macOS tuntaposx `tunN` or `tapN`: what its ifconfig block says of the character
    /// device that keeps it in use. Nil for every other interface (a Linux tun or tap is
    /// described by `tun`). Not in the JSON schema: the verdict's reason and holders carry it.
    public var tuntaposx: TuntaposxDevice?

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
        self.peerName = peerName
        self.txQueueLength = txQueueLength
        self.alias = alias
        self.masterName = masterName
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

/// What is known about another network namespace that a veth peer lives in, keyed by the id this
/// namespace gives it.
public struct PeerNamespace: Sendable, Equatable {
    /// The namespace's name under /run/netns, when it has one.
    public var name: String?
    /// Processes running in it; nil when that could not be determined.
    public var processCount: Int?

    public init(name: String? = nil, processCount: Int?) {
        self.name = name
        self.processCount = processCount
    }
}

/// The system a snapshot describes: judgements differ (a macOS utun is never orphaned; only macOS
/// routes are interface-scoped).
public enum Platform: String, Sendable {
    case linux, darwin
}

/// Everything one inventory pass saw: the input to every heuristic.
public struct Snapshot: Sendable, Equatable {
    public var platform: Platform
    /// The named network namespace inspected, or nil for the caller's own.
    public var namespace: String?
    /// The inspected namespace's identity, which keys tunwarden's observations: on Linux one
    /// incarnation of the namespace in one boot (see `NamespaceIdentity`), never shared with a
    /// namespace made after it; `darwin` for a Mac, `capture:DIR` for a capture.
    public var namespaceIdentity: String
    public var takenAt: Date
    public var interfaces: [NetworkInterface]
    public var routes: [Route]
    public var holders: HolderScan
    /// Other namespaces by the id this namespace gives them (only those a peer lives in are needed).
    public var peerNamespaces: [Int32: PeerNamespace]
    /// Whether the interface list is known (a captured snapshot may lack `ifconfig` output).
    public var interfacesKnown = true
    /// Interfaces a captured snapshot shows did not exist when its routes into them were read,
    /// though it does not list every interface (`ifconfig utun4` answered `interface utun4 does
    /// not exist`): routes into them lead into a tunnel that is gone. Not in the JSON schema.
    public var goneInterfaces: Set<String> = []
    /// Running processes by pid, when known (macOS `ps`); nil when not captured.
    public var processNames: [Int32: String]?
    /// Inputs a captured snapshot lacked, with what each would have told ("lsof.txt: holders").
    public var missingSources: [String] = []
    /// Links of other network namespaces stacked on this one's, by the lower's ifindex, each as
    /// `NAME (namespace LABEL)` (Linux: a macvlan moved into a container's namespace). The kernel
    /// deletes them with their lower. Not in the JSON schema.
    public var foreignUppers: [Int: [String]] = [:]
    /// Those of `holders.vxlanVias` that vxlans of other namespaces send through (Linux), kept
    /// apart for a watcher, which reads the namespace's own again without them. Not in the JSON schema.
    public var foreignVias: [Int: [String]] = [:]
    /// Names of other network namespaces (`ip netns` names) by the kernel's `net:[INODE]`, for
    /// holders found in them; only those a finding may name. Not in the JSON schema.
    public var namespaceNames: [String: String] = [:]
    /// For a capture: the filters its process listings went through (`ps aux | grep zerotier`),
    /// each of which may have left a process out; empty when one lists every process. One whose
    /// filter certainly shows a program's rows settles whether that program runs.
    public var processFilters: [TextFilter] = []
    /// For a capture: the filter its route listing went through (`netstat -rn | grep utun`); nil
    /// when it lists every route of `routeFamilies`.
    public var routeFilter: TextFilter?
    /// For a capture: the address families whose route tables it lists; nil for every family.
    public var routeFamilies: Set<AddressFamily>?
    /// For a capture: interfaces some of whose routes were read at another moment than the
    /// interface was listed, with a command between them that may have changed the tables
    /// (`sudo killall -9 nesessionmanager`, `sleep 600`), each with why. Those routes may be
    /// another tunnel's, which took the unit since. Not in the JSON schema.
    public var routesOfOtherMoment: [String: String] = [:]
    /// What reading a capture left aside because it is not tool output (prompts, banners, prose,
    /// other commands), each naming its file and lines: shown with --verbose.
    public var readingNotes: [String] = []
    /// Rows of tool output that could not be read and were skipped, each naming its file and
    /// line: always shown, since the judgement lacks them.
    public var readingProblems: [String] = []

    /// Whether an interface the snapshot does not hold (`existing` are the names it holds) is
    /// known to be gone: every interface is listed, or the capture showed this one gone.
    public func isGone(_ name: String, existing: Set<String>) -> Bool {
        !existing.contains(name) && (interfacesKnown || goneInterfaces.contains(name))
    }

    /// Whether the capture lists every route of `family` that leaves through any interface with
    /// `word` among its row's words (`default`), so that a route it does not show does not exist.
    public func listsEveryRoute(of family: AddressFamily, withWord word: String) -> Bool {
        (routeFamilies?.contains(family) ?? true) && (routeFilter?.certainlyShows(word: word) ?? true)
    }

    public init(platform: Platform, namespace: String? = nil, namespaceIdentity: String = "default", takenAt: Date = Date(),
                interfaces: [NetworkInterface], routes: [Route], holders: HolderScan, peerNamespaces: [Int32: PeerNamespace] = [:]) {
        self.platform = platform
        self.namespace = namespace
        self.namespaceIdentity = namespaceIdentity
        self.takenAt = takenAt
        self.interfaces = interfaces
        self.routes = routes
        self.holders = holders
        self.peerNamespaces = peerNamespaces
    }
}

/// A source of snapshots: one per platform (Linux rtnetlink and /proc; macOS system tools; a
/// captured directory). The choice of backend is made in one place, by the commands.
public protocol InventoryBackend {
    /// Takes a fresh, consistent snapshot, or throws an `InventoryError` when the system cannot be
    /// inspected well enough to judge anything.
    func snapshot() throws -> Snapshot

    /// Takes a fresh snapshot into `engine` (see `JudgingEngine.load`) and returns its namespace's
    /// identity. A backend that can judge interfaces while it is still reading the rest does so
    /// (see `StreamedSnapshot`); by default the snapshot is taken, then loaded.
    func load(into engine: JudgingEngine) throws -> String

    /// The identity the next snapshot's namespace will most likely have, found without taking
    /// one, so that a caller can prepare for it (read its observations) while the snapshot is
    /// taken; nil where it is not known beforehand. A snapshot's own identity is the one to trust.
    func namespaceIdentityAhead() -> String?
}

extension InventoryBackend {
    public func namespaceIdentityAhead() -> String? { nil }

    public func load(into engine: JudgingEngine) throws -> String {
        let snapshot = try snapshot()
        engine.load(snapshot)
        return snapshot.namespaceIdentity
    }
}

/// Names of network namespaces as `ip netns` makes them: plain file names under /run/netns.
public enum NamespaceName {
    public static func isValid(_ name: String) -> Bool {
        !(name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0"))
    }
}

/// Why an inventory could not be taken. Every case means "cannot inspect" (exit 3).
public struct InventoryError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// Whether the kernel kept marking its dumps interrupted: the system was changing too fast to
    /// be read consistently, and trying again later may succeed.
    public var interrupted = false
    /// Whether the system refused for want of privilege that root has (entering another network
    /// namespace): the same command run as root gets past it.
    public var needsRoot = false
    /// Whether the named namespace to inspect does not exist (`ip netns del` removed its name):
    /// a watcher of it has nothing left to watch.
    public var namespaceGone = false
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension NetworkInterface {
    /// How many entries the list of interfaces built while a link dump arrives reserves up front. Reserved room that is never written is
    /// address space the kernel maps on first use, not memory, so a small namespace pays nothing
    /// for it; a large one is spared regrowing those lists while the kernel fills the dump. With
    /// 10,000 devices the regrowth moved each list into fresh pages several times: about 1,500
    /// page faults on the decoding thread.
    public static let listReservation = 1 << 15
}
