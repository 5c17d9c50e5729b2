#if os(Linux)
import Inventory
import Netlink
import TunwardenCore

/// One RTM_DELLINK notification as a watch read it: where the device went, and what the
/// notification says of the device itself. The ifindex alone does not tell whose a removal was:
/// a device moved in from a sandbox keeps its ifindex when that number is free here (sandboxes
/// number theirs alike), so the removals of one ifindex can be of several devices.
struct LinkRemoval: Equatable {
    /// The ifindex it left.
    var index: Int32
    var departure: LinkDeparture
    /// Its name and alternative names as it left (a fenced target's private name among them);
    /// nil when the watch does not say (the removal then tells nothing of whose it was).
    var names: [[UInt8]]?
    /// Its IFLA_INFO_KIND and tun type (1 tun, 2 tap), its hardware address and its link group,
    /// each nil where the notification gave none.
    var infoKind: String?
    var tunType: UInt8?
    var hardwareAddress: [UInt8]?
    var group: UInt32?

    init(index: Int32, departure: LinkDeparture, names: [[UInt8]]? = nil, infoKind: String? = nil, tunType: UInt8? = nil,
         hardwareAddress: [UInt8]? = nil, group: UInt32? = nil) {
        (self.index, self.departure, self.names) = (index, departure, names)
        (self.infoKind, self.tunType, self.hardwareAddress, self.group) = (infoKind, tunType, hardwareAddress, group)
    }

    /// The removal an RTM_DELLINK notification tells of.
    init(_ link: LinkMessage) {
        self.init(index: link.index, departure: link.newNetnsID.map { .moved(namespaceID: $0, index: link.newIndex) } ?? .deleted,
                  names: (link.name.map { [$0] } ?? []) + link.altNames, infoKind: link.kind, tunType: link.tun?.type,
                  hardwareAddress: link.hardwareAddress, group: link.group)
    }
}

/// What the removal notifications watched since a batch began say became of one of its
/// targets, told apart from other devices' removals (`LinuxReaper.Target.removal(among:)`).
enum TargetRemoval: Equatable {
    /// None of them is the target's.
    case none
    /// The last of the target's: it was deleted, or moved, from ifindex `from` (its own, or
    /// another it came back under).
    case departed(LinkDeparture, from: Int32)
    /// Several removals of its ifindex that nothing tells apart (`count` of them), the last not
    /// proved the target's: whether it was deleted or moved cannot be told.
    case unclear(count: Int)
}

extension LinuxReaper.Target {
    /// Whether the target bore its private name (`fenceName`) when it could have left.
    var bearsFenceName: Bool { altNameAdded || renamed }

    /// Whether `removal` is provably another device's: another kind of device, another tun type,
    /// or another hardware address than the target's.
    func isOther(_ removal: LinkRemoval) -> Bool {
        if let kind = removal.infoKind, kind != "tun" { return true }
        if let type = removal.tunType, type != (item.interface.kind == .tap ? 2 : 1) { return true }
        if let address = removal.hardwareAddress.flatMap(LinuxInventory.macText), let planned = item.interface.hardwareAddress,
           address.lowercased() != planned.lowercased() { return true }
        return false
    }

    /// What `removals` (in the order the kernel sent them, those of the target's ifindex and any
    /// bearing its private name) say became of the target, when in group `fenceGroup`.
    ///
    /// A removal bearing the private name is the target's (no other device has that name). The
    /// last such one counts when no removal of its ifindex after it could be the target's too; a
    /// lone removal that could be the target's is the target's when it bears a mark of the fence
    /// (the batch's link group, for a target in it), or the target bore none, or the watch says
    /// nothing of whose it was. Anything else cannot be told: never a deletion without proof.
    func removal(among removals: [LinkRemoval], fenceGroup: UInt32) -> TargetRemoval {
        let named = { (removal: LinkRemoval) in removal.names?.contains(fenceName) == true }
        let candidates = removals.filter { named($0) || ($0.index == index && !isOther($0)) }
        guard let last = candidates.last else { return .none }
        if named(last) { return .departed(last.departure, from: last.index) }
        let grouped = grouped && last.group == fenceGroup
        if candidates.count == 1, grouped || !bearsFenceName || last.names == nil {
            return .departed(last.departure, from: last.index)
        }
        return .unclear(count: candidates.count)
    }

    /// The name the target left under, by the last removal among `removals` that is its own
    /// (as `removal(among:)` tells them apart), where that is neither its planned name nor its
    /// private one: something renamed it after the batch's last look. nil otherwise, or where
    /// the notification gave no name.
    func nameLeftUnder(among removals: [LinkRemoval]) -> [UInt8]? {
        let own = removals.filter { $0.names?.contains(fenceName) == true || ($0.index == index && !isOther($0)) }
        guard let name = own.last?.names?.first, name != self.name, name != fenceName else { return nil }
        return name
    }
}
#endif
