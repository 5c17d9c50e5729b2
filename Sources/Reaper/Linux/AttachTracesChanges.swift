#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// What tunwarden's attach changed of what a single-queue device had before (see `AttachTraces`):
/// duplicate address detection run on its tentative IPv6 addresses, and its managed neighbour
/// entries made by hand, which the fence flushes.
extension AttachTraces {
    /// The addresses that were tentative before the attach and that duplicate address detection
    /// has made usable since, or is making usable (IPv6 took the link as ready while the carrier
    /// was on, and DAD goes on without it), in words, each with what would undo it. Nothing is
    /// undone: a tentative address is tentative again only after the device went down, which drops
    /// its IPv6 addresses and routes. `now`: its IPv6 addresses now (`addressesNow`), nil when
    /// they could not be listed.
    func changedDuplicateDetection(index: Int32, now: [AddressMessage]?, client: RtnetlinkClient) -> [String] {
        // A device IPv6 took as ready before (a holder had come and gone) runs DAD whatever the
        // carrier: its tentative addresses' fate is not tunwarden's doing.
        guard !tentative.isEmpty, ready != true else { return [] }
        let readyNow = ((try? LinuxReaper.link(at: index, client: client)) ?? nil)?.ipv6Flags.map { $0 & LinkMessage.ipv6Ready != 0 }
        guard let now else {
            return ["whether duplicate address detection ran on its tentative IPv6 addresses while tunwarden was attached could not be seen"]
        }
        let undo = "tentative again only once the device has been taken down and up (which drops its IPv6 addresses and routes) and the address added again"
        var said: [String] = []
        for (bytes, length) in tentative {
            guard let address = now.first(where: { ($0.local ?? $0.address) == bytes }) else { continue }
            let text = "\(IPAddress(bytes: bytes).map { "\($0)" } ?? "an IPv6 address")/\(length)"
            if address.flags & Self.tentativeFlag == 0 {
                said.append("its IPv6 address \(text) usable, with its local route: it was tentative (without carrier, duplicate address detection had not run) "
                    + "and passed it after its carrier came on while tunwarden was attached; it is \(undo)")
            } else if address.flags & Self.dadFailedFlag == 0, readyNow == true {
                said.append("its IPv6 address \(text) in duplicate address detection, which its carrier coming on while tunwarden was attached started "
                    + "and which ends without carrier: it becomes usable within seconds, with its local route; it is \(undo)")
            }
        }
        return said
    }

    /// The neighbour entries made by hand the device had before its fence that are not permanent
    /// (`nud noarp`, `managed`): its fence's private alternative name, and the carrier going off
    /// when tunwarden lets go of it at the end of its batch, each make the kernel flush every
    /// entry of a device without carrier that is not permanent (NETDEV_CHANGE,
    /// `neigh_carrier_down`), so they are made again only once it has (`LostNeighbours`).
    /// Permanent and proxy entries are kept.
    var flushable: [RecreateCommands.Neighbour] {
        neighbours.filter { $0.flags & NeighbourMessage.proxy == 0 && $0.state & NeighbourMessage.permanent == 0 }.compactMap(LinuxReaper.recreated)
    }

    /// `lost`, entries the fence flushed that could not be made again, in words with the commands
    /// that make them (`why`: why not). `ip`: `ip`, or `ip -n NAME` for the namespace the commands
    /// act in.
    static func lostNeighbours(_ lost: [RecreateCommands.Neighbour], why: String, device: String, ip: String) -> [String] {
        guard !lost.isEmpty else { return [] }
        let named = lost.map { "\($0.address) (\($0.kind == .managed ? "managed" : "nud \($0.kind.rawValue)"))" }
        let commands = lost.map { "`\(RecreateCommands.neighbourCommand($0, ip: ip, name: device))`" }
        return ["it lost its neighbour \(lost.count == 1 ? "entry" : "entries") made by hand \(named.joined(separator: ", ")) "
            + "(giving it a private name and letting go of it, each without carrier, made the kernel flush every entry of it that is not permanent), "
            + "and \(lost.count == 1 ? "it" : "they") could not be made again (\(why)): "
            + commands.joined(separator: " and ") + " \(lost.count == 1 ? "makes it" : "make them") again"]
    }
}
#endif
