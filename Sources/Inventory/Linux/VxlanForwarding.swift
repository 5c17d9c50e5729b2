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
    public static func vias(of vxlans: [LinkMessage], client: RtnetlinkClient, label: (String) -> String = { $0 }) throws -> Vias {
        var vias: Vias = [:]
        for vxlan in vxlans {
            let name = label(vxlan.name.map(InterfaceName.text) ?? "ifindex \(vxlan.index)")
            var through = Set<Int32>()
            do {
                try client.dumpEach(operation: "RTM_GETNEIGH (fdb of \(name))",
                                    request: { NeighbourMessage.forwardingDumpRequest(device: vxlan.index, sequence: $0) },
                                    restart: { through = [] }) { message in
                    guard message.header.type == NetlinkType.newNeighbour else { return }
                    let entry = try NeighbourMessage.decode(message.payload)
                    // Entries of other devices, should a kernel not filter the dump.
                    guard entry.family == NeighbourMessage.bridgeFamily, entry.index == vxlan.index, let via = entry.viaIndex, via > 0 else { return }
                    through.insert(via)
                }
            } catch NetlinkError.kernel(_, ENODEV, _) {
                continue
            }
            for index in through.sorted() { vias[Int(index), default: []].append(name) }
        }
        return vias
    }
}
#endif
