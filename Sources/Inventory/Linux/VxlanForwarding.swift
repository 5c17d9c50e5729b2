#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// vxlan forwarding entries that send their packets out through a named device (`bridge fdb add
/// 00:00:00:00:00:00 dev vxlan0 dst 192.0.2.1 via tap0`): the device is configured into the
/// overlay though no process holds it. The kernel keeps such an entry when the device is deleted,
/// pointing at an ifindex that no longer exists, and that traffic is lost.
///
/// An entry's device is one of the vxlan's link namespace (where its socket lives): the
/// namespace's own for a vxlan made there, another for one moved away (`ForeignStacking` asks
/// those). The entries are listed vxlan by vxlan, the kernel filtering the dump to one device.
public enum VxlanForwarding {
    /// The names of the vxlans (each once, in the order their entries came) whose forwarding
    /// entries send packets through each ifindex, by that ifindex.
    public typealias Vias = [Int: [String]]

    /// The forwarding entries of the namespace's own vxlans (those that name no other link
    /// namespace), over `client` (an rtnetlink client in the namespace `namespaceFD` names, nil
    /// for this process's own). Nothing is dumped where the kernel has no vxlan driver or the
    /// namespace no vxlan. Throws when a list cannot be had.
    public static func found(client: RtnetlinkClient, namespaceFD: Int32?) throws -> Vias {
        try entries(client: client, namespaceFD: namespaceFD).vias
    }

    /// The same, with the entries that send through a device (see `Entries`).
    public static func entries(client: RtnetlinkClient, namespaceFD: Int32?) throws -> Entries {
        let vxlans = try ForeignStacking.linksOf("vxlan", client: client).filter { $0.linkNetnsID == nil }
        return try entries(of: vxlans, client: client, namespaceFD: namespaceFD)
    }

    /// One forwarding entry of a vxlan: the vxlan's ifindex and the entry's hardware address, which
    /// together name it (its remotes, each with or without a device, are its contents).
    public struct Key: Hashable, Sendable {
        public var vxlan: Int32
        public var address: [UInt8]

        public init(vxlan: Int32, address: [UInt8]) {
            self.vxlan = vxlan
            self.address = address
        }
    }

    /// What a read of forwarding entries found: the devices they send through, and which entries
    /// send through one, by which a watcher tells the notification of a change that may have
    /// taken a device away (a replaced entry announced without one) from one that cannot.
    public struct Entries: Sendable {
        public var vias: Vias = [:]
        public var sending: Set<Key> = []
    }

    /// The same for the namespace behind `namespaceFD` (nil: this process's own), on a socket of
    /// its own; `Unreadable` when a list cannot be had.
    public static func found(namespaceFD: Int32?) -> Result<Vias, SocketUse.Unreadable> {
        do {
            let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD))
            return .success(try found(client: client, namespaceFD: namespaceFD))
        } catch {
            return .failure(SocketUse.Unreadable(description: "the forwarding entries of the namespace's vxlan devices could not be read: \(error)"))
        }
    }

    /// The devices the forwarding entries of `vxlans` (links of the namespace `client` is in, and
    /// `namespaceFD` names, nil for this process's own) send through, each vxlan named by `label`
    /// (its name, by default). A vxlan gone since it was listed has no entries.
    ///
    /// A list longer than one datagram is read in pieces, the kernel finding where the next piece
    /// starts by counting entries again: an entry removed meanwhile (a learned address aging out,
    /// a flush) before the boundary makes one that stays fall out, and nothing in the answer says
    /// so. The kernel announces every removal (RTM_DELNEIGH to RTNLGRP_NEIGH), so removals are
    /// watched from before each reading: a reading during which none was announced for that vxlan
    /// (and no announcement was lost) is whole; so is one of a single datagram. Otherwise the list
    /// is read again, every entry any reading saw taken, and where the watch cannot be had, two
    /// readings alike count as whole. With `settled`, a list never read whole throws `Unsettled`
    /// (the reaper acts on no such view); otherwise what was seen is taken.
    public static func vias(of vxlans: [LinkMessage], client: RtnetlinkClient, namespaceFD: Int32?, settled: Bool = false,
                            label: (String) -> String = { $0 }) throws -> Vias {
        try entries(of: vxlans, client: client, namespaceFD: namespaceFD, settled: settled, label: label).vias
    }

    /// The same, with the entries that send through a device.
    public static func entries(of vxlans: [LinkMessage], client: RtnetlinkClient, namespaceFD: Int32?, settled: Bool = false,
                               label: (String) -> String = { $0 }) throws -> Entries {
        guard !vxlans.isEmpty else { return Entries() }
        var removals = RemovalWatch(namespaceFD: namespaceFD)
        var found = Entries()
        for vxlan in vxlans {
            let name = label(vxlan.name.map(InterfaceName.text) ?? "ifindex \(vxlan.index)")
            var through = Set<Int32>()
            var sending = Set<Key>()
            var previous: Set<Entry>?
            var whole = false
            do {
                for _ in 0...extraPasses {
                    // What came before this reading says nothing of it.
                    _ = removals.drain()
                    var entries = Set<Entry>()
                    try client.dumpEach(operation: "RTM_GETNEIGH (fdb of \(name))",
                                        request: { NeighbourMessage.forwardingDumpRequest(device: vxlan.index, sequence: $0) },
                                        restart: { entries = [] }) { message in
                        guard message.header.type == NetlinkType.newNeighbour else { return }
                        let entry = try NeighbourMessage.decode(message.payload)
                        // Entries of other devices, should a kernel not filter the dump.
                        guard entry.family == NeighbourMessage.bridgeFamily, entry.index == vxlan.index else { return }
                        entries.insert(Entry(linkLayerAddress: entry.linkLayerAddress, destination: entry.destination, via: entry.viaIndex))
                        // Taken from every reading: an entry listed was there.
                        if let via = entry.viaIndex, via > 0 {
                            through.insert(via)
                            sending.insert(Key(vxlan: vxlan.index, address: entry.linkLayerAddress ?? []))
                        }
                    }
                    let undisturbed = removals.drain().map { !$0.contains(vxlan.index) }
                    if entries.count < onePieceEntries || undisturbed ?? (entries == previous) {
                        whole = true
                        break
                    }
                    previous = entries
                }
            } catch NetlinkError.kernel(_, ENODEV, _) {
                continue
            }
            if settled, !whole { throw Unsettled(vxlan: name) }
            for index in through.sorted() { found.vias[Int(index), default: []].append(name) }
            found.sending.formUnion(sending)
        }
        return found
    }

    /// Subscribes `socket` to the changes of forwarding entries (RTNLGRP_NEIGH), having the
    /// kernel drop the ARP and NDP changes the group carries too, by far the most of it on a busy
    /// host, before they are queued: they then neither wake the reader nor fill its buffer.
    /// Returns whether the kernel took that filter; without it every change arrives, and a reader
    /// passes over the others on their family. Throws when the group cannot be joined.
    static func listen(on socket: NetlinkSocket) throws -> Bool {
        let filtered = (try? socket.keepOnly(family: NeighbourMessage.bridgeFamily)) != nil
        try socket.subscribe([NetlinkSocket.Group.neighbour])
        return filtered
    }

    /// A watch on the removal of forwarding entries in one namespace: a netlink socket that
    /// joined RTNLGRP_NEIGH (see `listen(on:)`), or none where it cannot be had.
    struct RemovalWatch {
        private var socket: NetlinkSocket?

        init(namespaceFD: Int32?) {
            socket = try? NetlinkSocket(namespaceFD: namespaceFD)
            // Room for a burst of changes; a lost one only costs a reading.
            socket?.setReceiveBuffer(bytes: 1 << 20)
            do { _ = try socket.map(VxlanForwarding.listen) } catch { socket = nil }
        }

        /// The vxlans (by ifindex) whose forwarding entries were announced removed since the last
        /// drain, reading what waits without blocking; nil when there is no watch, or an
        /// announcement was lost (any entry may have gone), or more kept coming than
        /// `drainLimit` datagrams (a flood a reading cannot be told whole in).
        mutating func drain() -> Set<Int32>? {
            guard let socket else { return nil }
            var removed = Set<Int32>()
            var lost = false
            var datagram: [UInt8] = []
            var read = 0
            while socket.waitReadable(milliseconds: 0) {
                read += 1
                if read > VxlanForwarding.drainLimit { return nil }
                do {
                    try socket.receive(into: &datagram)
                } catch {
                    // ENOBUFS: announcements were dropped.
                    lost = true
                    continue
                }
                guard let messages = try? NetlinkMessage.split(datagram[...]) else {
                    lost = true
                    continue
                }
                for message in messages where message.header.type == NetlinkType.delNeighbour {
                    if let device = NeighbourMessage.bridgeDevice(message.payload) { removed.insert(device) }
                }
            }
            return lost ? nil : removed
        }
    }

    /// A vxlan's forwarding entries changed at every reading: which devices they send through
    /// cannot be told.
    public struct Unsettled: Error, CustomStringConvertible {
        public var vxlan: String
        public var description: String {
            "the forwarding entries of \(vxlan) kept changing while they were read (\(VxlanForwarding.extraPasses + 1) readings, no two alike)"
        }
    }

    /// One forwarding entry, as far as telling two readings apart goes.
    struct Entry: Hashable {
        var linkLayerAddress: [UInt8]?
        var destination: [UInt8]?
        var via: Int32?
    }

    /// Fewer entries than this came in one datagram (one holds well over a hundred): the list was
    /// read at one moment.
    static let onePieceEntries = 16
    /// How many more readings a list of several datagrams gets, at most, to be read whole.
    static let extraPasses = 4
    /// How many notifications a drain of the removal watch reads at most (each one a datagram).
    static let drainLimit = 100_000
}
#endif
