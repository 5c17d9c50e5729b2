#if os(Linux)
import TunwardenCore

/// The devices other than a batch's targets that link notifications showed in its private link
/// group: ones that joined it (a group deletion takes them too), and ones deleted while in it.
struct GroupStrangers: Equatable {
    /// A device as the notifications name it.
    struct Device: Equatable {
        var name: String
        var kind: InterfaceKind
    }

    /// By ifindex, the name of each device last announced in the group and not since out of it.
    var present: [Int32: String] = [:]
    /// By ifindex, each device whose deletion the notifications told of while it was in the group.
    var deleted: [Int32: Device] = [:]
}

extension LinuxReaper {
    /// The results of the devices `strangers` says were deleted in `group` without being
    /// targets: each failed, not planned, since the batch's group deletion took it.
    static func unplannedResults(_ strangers: GroupStrangers?, group: UInt32) -> [ReapResult] {
        (strangers?.deleted ?? [:]).sorted { $0.key < $1.key }.map { index, device in
            ReapResult(ifname: device.name, ifindex: Int(index), kind: device.kind, outcome: .failed,
                       detail: "not a target, but deleted with the batch: it joined the reap's private link group \(group) after the last look, "
                           + "and the deletion of that group took it too", unplanned: true)
        }
    }
}
#endif
