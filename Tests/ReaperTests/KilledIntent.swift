#if os(Linux)
import Foundation
import Inventory
import Testing
import TestSupport
import Storage
import TunwardenCore

/// Journals the intent a reap killed right after writing it leaves for `name` in `ns`: the
/// device as it is now, with its routes, its namespace's identity and the fence it was to get;
/// returns the device's ifindex. The caller puts on whatever fence the run got to.
func journalKilledIntent(_ ns: TestNamespace, _ journal: Journal, _ name: String, fenceName: String, group: UInt32) throws -> Int {
    let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
    let device = try #require(snapshot.interfaces.first { $0.name == name })
    try journal.append([JournalRecord(time: Date(), run: "killed-\(name)", type: .intent, netns: ns.name, ifname: name, ifindex: device.index,
                                      prior: PriorState(device, routes: snapshot.routes.filter { $0.nextHops.contains { $0.interfaceIndex == device.index } }),
                                      fenceGroup: group, fenceName: fenceName, namespaceIdentity: snapshot.namespaceIdentity)])
    return device.index
}
#endif
