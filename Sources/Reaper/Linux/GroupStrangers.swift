#if os(Linux)
import TunwardenCore

/// The devices other than a batch's targets that link notifications showed in its private link
/// group: ones that joined it (a group deletion takes them too), and ones deleted while in it;
/// and the devices outside it deleted while the batch's deletion ran, of which only those the
/// kernel deleted with what the batch deleted (a veth's peer, the macvlan, macvtap or vlan
/// devices stacked on a device, a vxlan bound to one) are the batch's doing.
struct GroupStrangers: Equatable {
    /// A device as the notifications name it.
    struct Device: Equatable {
        var name: String
        var kind: InterfaceKind
        /// Its IFLA_INFO_KIND ("macvlan", "vlan", "veth"), which names kinds `kind` calls other.
        var infoKind: String? = nil
        /// The ifindex of the device it is stacked on (IFLA_LINK, or a vxlan's IFLA_VXLAN_LINK),
        /// when the notification gave one in this namespace.
        var lower: Int32? = nil
        /// Its name and alternative names as the kernel's bytes (a fenced target's private name
        /// among them), when the notification gave them.
        var names: [[UInt8]] = []

        /// Its kind as a person names it: "veth", "macvlan", or "device" when nothing says.
        var kindWord: String { kind != .other ? kind.rawValue : infoKind ?? "device" }
    }

    /// By ifindex, the name of each device last announced in the group and not since out of it.
    var present: [Int32: String] = [:]
    /// By ifindex, each device whose deletion the notifications told of while it was in the group.
    var deleted: [Int32: Device] = [:]
    /// By ifindex, each device outside the group whose deletion the notifications told of from
    /// the moment the batch's deletion was sent (`LinkDepartures.deleting`), whatever deleted it.
    var along: [Int32: Device] = [:]
    /// By ifindex, the link (IFLA_LINK: a veth's peer) each device announced in the group named
    /// then, in this namespace.
    var links: [Int32: Int32] = [:]
}

extension LinuxReaper {
    /// The results of the devices `strangers` says the batch's deletion took without their being
    /// targets, each failed and not planned: those deleted in `group` when the batch deleted the
    /// group (`wholeGroup`), which the group deletion took, and those outside it that the kernel
    /// deleted with what the batch deleted: the peer of a veth it deleted, a device stacked on
    /// one it deleted. `deleted` names by ifindex the targets the deletion was sent for.
    ///
    /// A device deleted meanwhile that is related to none of them was deleted by something else,
    /// and is not the batch's to report; nor is a target of the batch (`batch`, told by its
    /// private name, or by its own name at its ifindex: one given back earlier has its result).
    /// `linksAtLook` is the link each device the final look read named (a veth's peer).
    static func unplannedResults(_ strangers: GroupStrangers?, group: UInt32, wholeGroup: Bool, deleted: [Int32: String], batch: [Target],
                                 linksAtLook: [Int32: Int32] = [:]) -> [ReapResult] {
        guard let strangers else { return [] }
        // A device regrouped while down is announced by no notification: its peer is the one the
        // final look read.
        let links = linksAtLook.merging(strangers.links) { _, announced in announced }
        let isBatchTarget = { (index: Int32, device: GroupStrangers.Device) in
            batch.contains { device.names.contains($0.fenceName) || ($0.index == index && device.names.contains($0.name)) }
        }
        let joined = wholeGroup ? strangers.deleted.filter { !isBatchTarget($0.key, $0.value) } : [:]
        var names = deleted
        for (index, device) in joined { names[index] = device.name }
        // What went with what the deletion took, and with that in turn (a macvlan on a joined
        // veth's peer), as far as the notifications link them.
        var taken: [Int32: (device: GroupStrangers.Device, how: String)] = [:]
        let candidates = strangers.along.filter { !isBatchTarget($0.key, $0.value) }
        var grew = true
        while grew {
            grew = false
            for (index, device) in candidates where taken[index] == nil {
                let how: String
                if let lower = device.lower, lower != index, let name = names[lower] {
                    let on = device.infoKind == "vxlan" ? "bound to" : "stacked on"
                    how = "a \(device.kindWord) \(on) \(name), which the batch's deletion took, so the kernel deleted it too"
                } else if device.infoKind == "veth", let peer = names.first(where: { links[$0.key] == index }) {
                    how = "a veth, the peer of \(peer.value), which the batch's deletion took (the kernel deletes both ends of a veth pair)"
                } else {
                    continue
                }
                taken[index] = (device, how)
                names[index] = device.name
                grew = true
            }
        }
        let results = joined.sorted { $0.key < $1.key }.map { index, device in
            var detail = "not a target, but deleted with the batch: it joined the reap's private link group \(group) after the last look, "
                + "and the deletion of that group took it too"
            if device.infoKind == "veth", links[index].flatMap({ taken[$0] }) == nil {
                detail += "; its veth peer, which is not in this namespace, went with it"
            }
            return ReapResult(ifname: device.name, ifindex: Int(index), kind: device.kind, outcome: .failed, detail: detail, unplanned: true,
                              kindName: device.kind == .other ? device.infoKind : nil)
        }
        return results + taken.sorted { $0.key < $1.key }.map { index, found in
            ReapResult(ifname: found.device.name, ifindex: Int(index), kind: found.device.kind, outcome: .failed,
                       detail: "not a target, but deleted with the batch: \(found.how)", unplanned: true,
                       kindName: found.device.kind == .other ? found.device.infoKind : nil)
        }
    }
}
#endif
