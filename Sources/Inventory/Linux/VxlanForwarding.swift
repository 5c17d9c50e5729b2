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
    /// namespace), over `client` (an rtnetlink client in the namespace). Nothing is dumped where
    /// the kernel has no vxlan driver or the namespace no vxlan. Throws when a list cannot be had.
    public static func found(client: RtnetlinkClient) throws -> Vias {
        try entries(client: client).vias
    }

    /// The same, with the entries that send through a device (see `Entries`).
    public static func entries(client: RtnetlinkClient) throws -> Entries {
        let vxlans = try ForeignStacking.linksOf("vxlan", client: client).filter { $0.linkNetnsID == nil }
        return try entries(of: vxlans, client: client)
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
            return .success(try found(client: client))
        } catch {
            return .failure(SocketUse.Unreadable(description: "the forwarding entries of the namespace's vxlan devices could not be read: \(error)"))
        }
    }

    /// The devices the forwarding entries of `vxlans` (links of the namespace `client` is in) send
    /// through, each vxlan named by `label` (its name, by default). A vxlan gone since it was
    /// listed has no entries.
    public static func vias(of vxlans: [LinkMessage], client: RtnetlinkClient, label: (String) -> String = { $0 }) throws -> Vias {
        try entries(of: vxlans, client: client, label: label).vias
    }

    /// The same, with the entries that send through a device.
    public static func entries(of vxlans: [LinkMessage], client: RtnetlinkClient, label: (String) -> String = { $0 }) throws -> Entries {
        var found = Entries()
        for vxlan in vxlans {
            let name = label(vxlan.name.map(InterfaceName.text) ?? "ifindex \(vxlan.index)")
            var through = Set<Int32>()
            var sending = Set<Key>()
            do {
                try client.dumpEach(operation: "RTM_GETNEIGH (fdb of \(name))",
                                    request: { NeighbourMessage.forwardingDumpRequest(device: vxlan.index, sequence: $0) },
                                    restart: { (through, sending) = ([], []) }) { message in
                    guard message.header.type == NetlinkType.newNeighbour else { return }
                    let entry = try NeighbourMessage.decode(message.payload)
                    // Entries of other devices, should a kernel not filter the dump.
                    guard entry.family == NeighbourMessage.bridgeFamily, entry.index == vxlan.index, let via = entry.viaIndex, via > 0 else { return }
                    through.insert(via)
                    sending.insert(Key(vxlan: vxlan.index, address: entry.linkLayerAddress ?? []))
                }
            } catch NetlinkError.kernel(_, ENODEV, _) {
                continue
            }
            for index in through.sorted() { found.vias[Int(index), default: []].append(name) }
            found.sending.formUnion(sending)
        }
        return found
    }
}
#endif
