#if os(Linux)
import CLinuxShims
import Glibc
import Inventory
import Netlink
import TunwardenCore

/// Opens the rtnetlink conversation through which the reaper fences, checks and deletes devices.
protocol RtnetlinkConnector {
    /// A transport whose requests act in the namespace `namespaceFD` names (the caller's own when
    /// nil); each call gives a conversation of its own.
    func connect(namespaceFD: Int32?) throws -> any NetlinkTransport
}

/// The tun character device (/dev/net/tun), through which the reaper holds a single-queue device
/// exclusively: while its queue is attached, every other attach gets EBUSY.
protocol TunDevice {
    /// Opens `count` descriptors, all inside the namespace `namespaceFD` names (the caller's own
    /// when nil), since a tun descriptor is bound to the namespace it was opened in. Opens all or
    /// none: on failure, those opened so far are closed again.
    func open(count: Int, namespaceFD: Int32?) throws -> [Int32]
    /// TUNSETIFF on `descriptor` with `name` (exact bytes) and the device's own type and
    /// features; returns 0 when attached, otherwise the errno (EBUSY: someone else is attached).
    func attach(_ descriptor: Int32, name: [UInt8], to interface: NetworkInterface) -> Int32
    /// The same with `features`, the device's own TUN_FEATURES bits (`features(of:namespaceFD:)`),
    /// given in the attach: the kernel sets the device's to the attacher's, so that an attach
    /// without them takes IFF_ONE_QUEUE or IFF_NAPI off a device that has them. Nil: not known,
    /// only the type and the features the inventory reads are given.
    func attach(_ descriptor: Int32, name: [UInt8], to interface: NetworkInterface, features: UInt16?) -> Int32
    /// The TUN_FEATURES bits of the tun devices `devices` names (ifindex and name) in the
    /// namespace `namespaceFD` names (the caller's own when nil), by ifindex; those that cannot
    /// be read are left out.
    func features(of devices: [(index: Int32, name: [UInt8])], namespaceFD: Int32?) -> [Int32: UInt16]
    /// The name and IFF_* flags of the device `descriptor` is attached to (TUNGETIFF), or nil.
    func attached(_ descriptor: Int32) -> (name: [UInt8], flags: UInt16)?
    /// Where the device `descriptor` is attached to is now, in whichever namespace that is.
    func home(of descriptor: Int32) -> TunHome
    /// Closes a descriptor `open` gave; once per descriptor.
    func close(_ descriptor: Int32)
}

extension TunDevice {
    /// A device that cannot read features attaches as it always did.
    func attach(_ descriptor: Int32, name: [UInt8], to interface: NetworkInterface, features: UInt16?) -> Int32 {
        attach(descriptor, name: name, to: interface)
    }

    func features(of devices: [(index: Int32, name: [UInt8])], namespaceFD: Int32?) -> [Int32: UInt16] { [:] }
}

/// The signals that interrupt a reap's act phase (SIGTERM, SIGINT, SIGHUP): caught while the
/// reaper acts, so that it rolls back the batch in hand instead of dying half-way.
protocol ReapSignals {
    /// Starts catching them and forgets any caught before.
    func install()
    /// The signal caught since `install`, or 0.
    func caught() -> Int32
    /// Puts back the handling there was before `install`.
    func restore()
}

/// The link notifications of the inspected namespace from the moment a watch begins. A device
/// that leaves the namespace (`ip link set DEV netns OTHER`) vanishes from its dumps just as a
/// deleted one does; only the RTM_DELLINK the kernel sends names where it went, and a deletion's
/// names nowhere.
protocol LinkDepartures: AnyObject {
    /// Of `indices`, the devices whose removal the notifications since the watch began told of,
    /// each by the first such notification (a later one of its ifindex is another device's). Nil
    /// when notifications were lost (the watch's buffer overflowed) or could not be read, so that
    /// a move cannot be ruled out.
    func departed(among indices: Set<Int32>) -> [Int32: LinkDeparture]?
    /// Every removal the notifications since the watch began told of at ifindex `index`, or of a
    /// device bearing `name` (as its name or an alternative name) at any ifindex, in the order the
    /// kernel sent them. Nil as for `departed`.
    func removals(of index: Int32, orNamed name: [UInt8]) -> [LinkRemoval]?
    /// Begins, or begins again, to note what the notifications read from now on say of the
    /// devices in link group `group` (see `strangers`).
    func watchGroup(_ group: UInt32)
    /// Marks the moment the batch sends its deletion: from then on, every device outside the
    /// watched group whose deletion the notifications tell of is noted (`GroupStrangers.along`),
    /// whatever deleted it: which of them went with the batch is the batch's to tell.
    func deleting()
    /// What the notifications read since `watchGroup` said of the group's devices other than
    /// `targets`; nil when notifications were lost or could not be read, or no group is watched.
    func strangers(besides targets: Set<Int32>) -> GroupStrangers?
}

/// What the kernel's RTM_DELLINK said of a device that left the inspected namespace.
enum LinkDeparture: Equatable {
    /// It was deleted: the notification named no namespace it went to.
    case deleted
    /// It moved to the namespace with id `namespaceID` as the inspected one knows it, where it
    /// has ifindex `index` (nil: the kernel did not say).
    case moved(namespaceID: Int32, index: Int32?)
}

extension LinkDepartures {
    /// A watch that keeps only one notification per ifindex, and nothing of the device, answers
    /// with it.
    func removals(of index: Int32, orNamed name: [UInt8]) -> [LinkRemoval]? {
        departed(among: [index]).map { $0.map { LinkRemoval(index: $0.key, departure: $0.value) } }
    }
}

/// Where the device a tun descriptor is attached to is now, as the descriptor tells.
enum TunHome {
    /// The kernel detached the descriptor's queue (TUNGETIFF: EBADFD): the device was
    /// unregistered, since nothing else detaches a queue but its own descriptor.
    case detached
    /// Attached to a device named `name`, in the namespace `namespaceFD` is a new descriptor of
    /// (TUNGETDEVNETNS, Linux 5.2; nil where the kernel cannot give one); the caller closes it.
    case attached(name: [UInt8], namespaceFD: Int32?)
    /// The descriptor could not be asked (the errno).
    case unknown(Int32)
}

extension LinuxReaper {
    /// Everything the reaper takes from the system apart from its journal: the rtnetlink
    /// conversation, the tun device, the signals, the inventory it re-verifies the plan with (which
    /// includes the scan for holders), and whether it may act at all. `kernel` is the real system;
    /// tests put scripted stand-ins here to reach every safety branch without root.
    struct System {
        var rtnetlink: any RtnetlinkConnector
        var tun: any TunDevice
        var signals: any ReapSignals
        /// The inventory of the namespace held (`held`), else of the namespace with this name (nil:
        /// the caller's own), taken again right before acting. It must be patient with interrupted
        /// dumps: a reap would rather wait for a quiet moment than refuse.
        var inventory: (_ namespaceName: String?, _ namespaceDirectory: String, _ held: HeldNamespace?) -> any InventoryBackend
        /// Whether this process may delete links and read every process's descriptors.
        var isPrivileged: () -> Bool
        /// The devices other namespaces stack on the inspected one's (given by its descriptor, nil
        /// for this process's own), looked for in `namespaceDirectory` and /proc.
        var foreignStacking: (_ namespaceFD: Int32?, _ namespaceDirectory: String) -> ForeignStacking.Found = { fd, directory in
            ForeignStacking.look(inspectedFD: fd, namespaceDirectory: directory)
        }
        /// The socket lists of the inspected namespace: what packet sockets, sockets bound to a
        /// device or an address, and multicast memberships tie to each device (see
        /// `SocketUse.lists`).
        var socketUse: (_ namespaceFD: Int32?) -> Result<SocketLists, SocketUse.Unreadable> = { fd in SocketUse.lists(namespaceFD: fd) }
        /// The devices the inspected namespace's nftables rules and legacy iptables TEE targets
        /// send packets to (see `XtablesForwards.withNftables`).
        var forwards: (_ namespaceFD: Int32?) -> Result<NftablesForwards.Found, SocketUse.Unreadable> = { fd in XtablesForwards.withNftables(namespaceFD: fd) }
        /// The IPsec (xfrm) policies of the inspected namespace whose selector names each ifindex
        /// (see `XfrmPolicies.found`).
        var xfrmPolicies: (_ namespaceFD: Int32?) -> Result<[Int: [String]], SocketUse.Unreadable> = { fd in XfrmPolicies.found(namespaceFD: fd) }
        /// The traffic-control filters of the inspected namespace that match each ifindex as the
        /// packets' input device (see `TrafficFilters.found`).
        var tcFilters: (_ namespaceFD: Int32?) -> Result<TrafficFilters.Found, SocketUse.Unreadable> = { fd in TrafficFilters.found(namespaceFD: fd) }
        /// The MPTCP endpoints of the inspected namespace that name each ifindex (see
        /// `MptcpEndpoints.found`).
        var mptcpEndpoints: (_ namespaceFD: Int32?) -> Result<[Int: [String]], SocketUse.Unreadable> = { fd in MptcpEndpoints.found(namespaceFD: fd) }
        /// The tcx programs attached to each of the devices with these indices in the inspected
        /// namespace (see `TcPrograms.attached`).
        var tcPrograms: (_ indices: [Int], _ namespaceFD: Int32?) -> Result<[Int: [String]], SocketUse.Unreadable> = { indices, fd in
            TcPrograms.attached(to: indices, namespaceFD: fd)
        }
        /// What only files under /proc say of the devices a reap deletes, read inside the inspected
        /// namespace (see `DeviceFileSettings.read`).
        var deviceFiles: (_ devices: [(index: Int, name: [UInt8])], _ namespaceFD: Int32?) -> [Int: DeviceExtraSettings] = { devices, fd in
            DeviceFileSettings.read(devices: devices, namespaceFD: fd)
        }
        /// A watch on the link notifications of the inspected namespace, begun before the last
        /// look, or nil when it cannot be had (see `LinkDepartures`).
        var departures: (_ namespaceFD: Int32?) -> (any LinkDepartures)? = { fd in KernelLinkDepartures(namespaceFD: fd) }

        /// The running kernel, through netlink sockets, /dev/net/tun, signal handlers and /proc.
        static var kernel: System {
            System(rtnetlink: KernelRtnetlink(), tun: KernelTunDevice(), signals: KernelReapSignals(),
                   inventory: { name, directory, held in
                       var inventory = held.map { LinuxInventory(holding: $0) } ?? LinuxInventory(namespaceName: name)
                       if held == nil { inventory.namespaceDirectory = directory }
                       inventory.snapshotAttempts = 10
                       // What the journal's recreate commands give back.
                       inventory.readsDeviceSysctls = true
                       return inventory
                   },
                   isPrivileged: { geteuid() == 0 && ProcessCapabilities.missing([ProcessCapabilities.netAdmin]).isEmpty })
        }
    }
}

/// rtnetlink over a real netlink socket.
struct KernelRtnetlink: RtnetlinkConnector {
    func connect(namespaceFD: Int32?) throws -> any NetlinkTransport {
        try NetlinkSocket(namespaceFD: namespaceFD)
    }
}

/// Link notifications over a netlink socket subscribed to RTNLGRP_LINK in the inspected namespace.
/// What arrives is kept as it is read, so that asking twice loses nothing; the batch asks between
/// its steps, with no index, to keep the socket's buffer from overflowing.
final class KernelLinkDepartures: LinkDepartures {
    private let socket: NetlinkSocket
    private var departures: [Int32: LinkDeparture] = [:]
    /// Every removal read, in the order the kernel sent them.
    private var removals: [LinkRemoval] = []
    private var lost = false
    /// The group `watchGroup` named, and what its notifications said since.
    private var group: UInt32?
    private var inGroup = GroupStrangers()
    /// Whether `deleting` was called since `watchGroup`.
    private var deletionSent = false

    init?(namespaceFD: Int32?) {
        guard let socket = try? NetlinkSocket(namespaceFD: namespaceFD), (try? socket.subscribe([NetlinkSocket.Group.link])) != nil else { return nil }
        self.socket = socket
    }

    func departed(among indices: Set<Int32>) -> [Int32: LinkDeparture]? {
        var datagram: [UInt8] = []
        while !lost, socket.waitReadable(milliseconds: 0) {
            do {
                try socket.receive(into: &datagram)
                for message in try NetlinkMessage.split(datagram[...]) {
                    if let group, message.header.type == NetlinkType.newLink { try note(LinkGroupNotice.decode(message.payload), group: group) }
                    guard message.header.type == NetlinkType.delLink else { continue }
                    let link = try LinkMessage.decode(message.payload)
                    if let group { note(departure: link, group: group) }
                    let removal = LinkRemoval(link)
                    removals.append(removal)
                    if departures[link.index] == nil { departures[link.index] = removal.departure }
                }
            } catch {
                lost = true
            }
        }
        return lost ? nil : departures.filter { indices.contains($0.key) }
    }

    func removals(of index: Int32, orNamed name: [UInt8]) -> [LinkRemoval]? {
        guard departed(among: []) != nil else { return nil }
        return removals.filter { $0.index == index || $0.names?.contains(name) == true }
    }

    func watchGroup(_ group: UInt32) {
        _ = departed(among: [])
        (self.group, inGroup, deletionSent) = (group, GroupStrangers(), false)
    }

    func deleting() {
        _ = departed(among: [])
        deletionSent = true
    }

    func strangers(besides targets: Set<Int32>) -> GroupStrangers? {
        guard group != nil, departed(among: []) != nil else { return nil }
        return GroupStrangers(present: inGroup.present.filter { !targets.contains($0.key) }, deleted: inGroup.deleted.filter { !targets.contains($0.key) },
                              along: inGroup.along.filter { !targets.contains($0.key) }, links: inGroup.links)
    }

    /// Notes what an RTM_NEWLINK notification says of a device's membership of `group` (decoded
    /// only as far as its group and link: the batch's own changes send thousands).
    private func note(_ notice: LinkGroupNotice, group: UInt32) {
        if notice.group == group {
            inGroup.present[notice.index] = notice.name.map(InterfaceName.text) ?? "ifindex \(notice.index)"
            inGroup.links[notice.index] = notice.link
        } else if notice.group != nil {
            inGroup.present[notice.index] = nil
        }
    }

    /// The ifindex of the device `link` is stacked on: its IFLA_LINK, or, for a vxlan, which
    /// carries none, the device it is bound to (IFLA_VXLAN_LINK), which the kernel deletes it with.
    static func lower(of link: LinkMessage) -> Int32? {
        link.link ?? (link.kind == "vxlan" ? link.vxlanLink.flatMap { Int32(exactly: $0) } : nil)
    }

    /// Notes a device's removal: one deleted (not moved away) while in `group` is kept, and, once
    /// the deletion is sent, one deleted outside it.
    private func note(departure link: LinkMessage, group: UInt32) {
        inGroup.present[link.index] = nil
        guard link.newNetnsID == nil, link.group == group || deletionSent else { return }
        let device = GroupStrangers.Device(name: link.name.map(InterfaceName.text) ?? "ifindex \(link.index)",
                                           kind: .linux(infoKind: link.kind, tunType: link.tun?.type, hardwareType: link.hardwareType),
                                           infoKind: link.kind, lower: link.linkNetnsID == nil ? Self.lower(of: link) : nil,
                                           names: (link.name.map { [$0] } ?? []) + link.altNames)
        if link.group == group { inGroup.deleted[link.index] = device } else { inGroup.along[link.index] = device }
    }
}

/// The real /dev/net/tun and its ioctls.
struct KernelTunDevice: TunDevice {
    func open(count: Int, namespaceFD: Int32?) throws -> [Int32] {
        try NamespaceThread.run(in: namespaceFD) { try LinuxReaper.openTunDescriptors(count: count) }
    }

    func attach(_ descriptor: Int32, name: [UInt8], to interface: NetworkInterface) -> Int32 {
        LinuxReaper.attach(fd: descriptor, name: name, to: interface, features: nil)
    }

    func attach(_ descriptor: Int32, name: [UInt8], to interface: NetworkInterface, features: UInt16?) -> Int32 {
        LinuxReaper.attach(fd: descriptor, name: name, to: interface, features: features)
    }

    func features(of devices: [(index: Int32, name: [UInt8])], namespaceFD: Int32?) -> [Int32: UInt16] {
        TunFeatureFlags.read(of: devices, namespaceFD: namespaceFD)
    }

    func attached(_ descriptor: Int32) -> (name: [UInt8], flags: UInt16)? {
        LinuxReaper.attached(fd: descriptor)
    }

    func home(of descriptor: Int32) -> TunHome {
        LinuxReaper.home(fd: descriptor)
    }

    func close(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }
}

/// The process's own signal handlers, from the C shim (a handler may only set a flag).
struct KernelReapSignals: ReapSignals {
    func install() { tw_install_reap_signals() }
    func caught() -> Int32 { tw_reap_signal() }
    func restore() { tw_restore_reap_signals() }
}
#endif
