#if os(Linux)
import TunwardenCore

/// The devices other than a batch's targets that link notifications showed in its private link
/// group: ones that joined it (a group deletion takes them too), and ones deleted while in it;
/// and the devices outside it deleted while the batch's deletion ran, which the kernel deletes
/// with what it deletes (a veth's peer, the macvlan, macvtap or vlan devices stacked on a device).
struct GroupStrangers: Equatable {
    /// A device as the notifications name it.
    struct Device: Equatable {
        var name: String
        var kind: InterfaceKind
        /// Its IFLA_INFO_KIND ("macvlan", "vlan", "veth"), which names kinds `kind` calls other.
        var infoKind: String? = nil
        /// The ifindex of the device it is stacked on (IFLA_LINK), when the notification gave one.
        var lower: Int32? = nil

        /// Its kind as a person names it: "veth", "macvlan", or "device" when nothing says.
        var kindWord: String { kind != .other ? kind.rawValue : infoKind ?? "device" }
    }

    /// By ifindex, the name of each device last announced in the group and not since out of it.
    var present: [Int32: String] = [:]
    /// By ifindex, each device whose deletion the notifications told of while it was in the group.
    var deleted: [Int32: Device] = [:]
    /// By ifindex, each device outside the group whose deletion the notifications told of from
    /// the moment the batch's deletion was sent (`LinkDepartures.deleting`).
    var along: [Int32: Device] = [:]
}

extension LinuxReaper {
    /// The results of the devices `strangers` says were deleted without being targets, each
    /// failed and not planned: those deleted in `group` when the batch deleted the group
    /// (`wholeGroup`), which the group deletion took, and those outside it deleted while the
    /// batch's deletion ran, which the kernel most likely deleted with what it deleted (or
    /// something else deleted at that moment). `targets` names the batch's targets by ifindex.
    static func unplannedResults(_ strangers: GroupStrangers?, group: UInt32, wholeGroup: Bool, targets: [Int32: String]) -> [ReapResult] {
        guard let strangers else { return [] }
        let joined = wholeGroup ? strangers.deleted : [:]
        var names = targets
        for (index, device) in joined.merging(strangers.along, uniquingKeysWith: { a, _ in a }) { names[index] = device.name }
        let results = joined.sorted { $0.key < $1.key }.map { index, device in
            var detail = "not a target, but deleted with the batch: it joined the reap's private link group \(group) after the last look, "
                + "and the deletion of that group took it too"
            if device.infoKind == "veth", joined.values.count(where: { $0.infoKind == "veth" }) == 1,
               !strangers.along.values.contains(where: { $0.infoKind == "veth" }) {
                detail += "; its veth peer, which is not in this namespace, went with it"
            }
            return ReapResult(ifname: device.name, ifindex: Int(index), kind: device.kind, outcome: .failed, detail: detail, unplanned: true,
                              kindName: device.kind == .other ? device.infoKind : nil)
        }
        let vethsInGroup = joined.values.filter { $0.infoKind == "veth" }.map(\.name)
        return results + strangers.along.sorted { $0.key < $1.key }.map { index, device in
            let how: String
            if let lower = device.lower, lower != index, let name = names[lower] {
                how = "a \(device.kindWord) stacked on \(name), which the batch's deletion took, so the kernel deleted it too"
            } else if device.infoKind == "veth", !vethsInGroup.isEmpty {
                how = "a veth, most likely the peer of \(vethsInGroup.joined(separator: " or ")), which the batch's deletion took (the kernel deletes both ends of a veth pair)"
            } else {
                how = "a \(device.kindWord) deleted while the batch's deletion ran: most likely the kernel deleted it with a device the batch deleted, or something else deleted it at that moment"
            }
            return ReapResult(ifname: device.name, ifindex: Int(index), kind: device.kind, outcome: .failed,
                              detail: "not a target, but deleted with the batch: \(how)", unplanned: true,
                              kindName: device.kind == .other ? device.infoKind : nil)
        }
    }
}
#endif
