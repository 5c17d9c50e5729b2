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
        let vxlans = try ForeignStacking.linksOf("vxlan", client: client).filter { $0.linkNetnsID == nil }
        return try vias(of: vxlans, client: client)
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
    ///
    /// A list longer than one datagram is read in pieces, the kernel finding where the next piece
    /// starts by counting entries again: an entry removed meanwhile (a learned address aging out)
    /// before the boundary makes one that stays fall out. Such a list is read again until two
    /// passes agree, and every entry any pass saw is taken. With `settled`, a list that never read
    /// twice alike throws `Unsettled` (the reaper acts on no such view).
    public static func vias(of vxlans: [LinkMessage], client: RtnetlinkClient, settled: Bool = false,
                            label: (String) -> String = { $0 }) throws -> Vias {
        var vias: Vias = [:]
        for vxlan in vxlans {
            let name = label(vxlan.name.map(InterfaceName.text) ?? "ifindex \(vxlan.index)")
            var through = Set<Int32>()
            var previous: Set<Entry>?
            var agreed = false
            do {
                for _ in 0...extraPasses {
                    var entries = Set<Entry>()
                    try client.dumpEach(operation: "RTM_GETNEIGH (fdb of \(name))",
                                        request: { NeighbourMessage.forwardingDumpRequest(device: vxlan.index, sequence: $0) },
                                        restart: { entries = [] }) { message in
                        guard message.header.type == NetlinkType.newNeighbour else { return }
                        let entry = try NeighbourMessage.decode(message.payload)
                        // Entries of other devices, should a kernel not filter the dump.
                        guard entry.family == NeighbourMessage.bridgeFamily, entry.index == vxlan.index else { return }
                        entries.insert(Entry(linkLayerAddress: entry.linkLayerAddress, destination: entry.destination, via: entry.viaIndex))
                        // Taken from every pass: an entry listed was there.
                        if let via = entry.viaIndex, via > 0 { through.insert(via) }
                    }
                    if entries.count < onePieceEntries || entries == previous {
                        agreed = true
                        break
                    }
                    previous = entries
                }
            } catch NetlinkError.kernel(_, ENODEV, _) {
                continue
            }
            if settled, !agreed { throw Unsettled(vxlan: name) }
            for index in through.sorted() { vias[Int(index), default: []].append(name) }
        }
        return vias
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
    /// How many more readings a list of several datagrams gets, at most, to be read twice alike.
    static let extraPasses = 4
}
#endif
