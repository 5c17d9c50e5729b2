#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// What the repair of a reap killed outright does when an earlier repair of it was itself cut
/// short, or its intents lie where a look could miss them, against the real kernel, as root, in
/// throwaway namespaces (round "faults 53"): every open intent, in the journal or the one rotated
/// away, is compared with what the kernel shows now, and what a device lacks is named (failed);
/// a damaged line among a run's intents hides none of the intents after it.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct RepairOfKilledRepairKernelTests {
    func links(_ ns: TestNamespace) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try ns.ip("-d", "-j", "link", "show").utf8)) as? [[String: Any]] ?? []
    }

    /// A multi-queue tap `name` in `ns`, up, with an address, a route of its own and a permanent
    /// neighbour entry (`net` picks the addresses), and the intent a killed run journaled for it
    /// (with the checkpoint a reaper's append carries), naming `fenceName` and `group`. Returns
    /// its ifindex.
    func multiQueueTarget(_ ns: TestNamespace, _ journal: Journal, _ name: String, net: Int, fenceName: String, group: UInt32) throws -> Int {
        try ns.ip("tuntap", "add", "dev", name, "mode", "tap", "multi_queue")
        try ns.ip("link", "set", name, "up")
        try ns.ip("addr", "add", "10.\(net).0.1/24", "dev", name)
        try ns.ip("route", "add", "10.\(net + 100).0.0/16", "dev", name)
        try ns.ip("neigh", "add", "10.\(net).0.9", "lladdr", "02:00:00:00:00:09", "nud", "permanent", "dev", name)
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let device = try #require(snapshot.interfaces.first { $0.name == name })
        let saved = RecreateCommands.Neighbour(address: IPAddress("10.\(net).0.9")!, linkLayerAddress: "02:00:00:00:00:09", kind: .permanent)
        try journal.append([JournalRecord(time: Date(), run: "killed-\(name)", type: .intent, netns: ns.name, ifname: name, ifindex: device.index,
                                          prior: PriorState(device, routes: snapshot.routes.filter { $0.nextHops.contains { $0.interfaceIndex == device.index } },
                                                            neighbours: [saved]),
                                          fenceGroup: group, fenceName: fenceName, namespaceIdentity: snapshot.namespaceIdentity)],
                           after: try journal.openIntents())
        return device.index
    }

    /// F1: a killed reap's intent for a multi-queue tap lies in the rotated journal
    /// (`journal.jsonl.1`), and a repair gave the device back (renamed back, group 0, up) but was
    /// killed before it journaled that. The device bears no mark of the fence, and is up, but the
    /// fence's down took its route and its permanent neighbour entry. The next repair compares it
    /// with its intent all the same, names both (failed), and answers the intent in the current
    /// journal. Until then only rotated intents whose devices bore the fence or were down were
    /// looked at: nothing was said, and no journal ever held a result for it.
    @Test func aRotatedIntentWhoseDeviceALostRepairGaveBackHasItsLossesNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_f531
        let index = try multiQueueTarget(ns, journal, "f53rot", net: 53, fenceName: "tw0000000f53a01", group: group)
        // The fence, then the lost repair's give-back.
        try ns.ip("link", "set", "f53rot", "down")
        try ns.ip("link", "set", "f53rot", "name", "tw0000000f53a01")
        try ns.ip("link", "set", "tw0000000f53a01", "group", "\(group)")
        try ns.ip("link", "set", "tw0000000f53a01", "name", "f53rot")
        try ns.ip("link", "set", "f53rot", "group", "0")
        try ns.ip("link", "set", "f53rot", "up")
        // logrotate's rename and create.
        #expect(rename(journal.path, journal.rotated.path) == 0)
        #expect(FileManager.default.createFile(atPath: journal.path, contents: Data()))

        let reaper = LinuxReaper(namespaceName: ns.name)
        #expect(reaper.unfinishedRotatedIntents(journal).map(\.ifindex) == [index])
        let repair = try #require(try reaper.repairInterrupted(journal: journal).first { $0.ifindex == index })
        #expect(repair.result == .failed, "\(repair)")
        #expect(repair.detail.contains("bears no mark of its fence") && repair.detail.contains("route 10.153.0.0/16")
                && repair.detail.contains("neighbour entry 10.53.0.9"), "\(repair)")
        let result = try #require(try journal.read().last)
        #expect(result.type == .result && result.run == "killed-f53rot" && result.result == .failed, "\(result)")
        // Answered once, in the current journal: the next repair finds nothing left.
        #expect(try reaper.repairInterrupted(journal: journal).isEmpty)
        #expect(reaper.unfinishedRotatedIntents(journal).isEmpty)
    }

    /// F2: a repair killed after it renamed a multi-queue tap back and set it up, but before it
    /// set its link group back: the device still bears the fence's group, under its own name, up,
    /// without the route and neighbour entry the fence's down took. The next repair restores the
    /// group and names both (failed). Until then it said "group 0 restored" (skipped), and the
    /// run exited 0 with the losses never named.
    @Test func aDeviceStillGroupedButRenamedBackAndUpHasItsLossesNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_f532
        let index = try multiQueueTarget(ns, journal, "f53grp", net: 54, fenceName: "tw0000000f53a02", group: group)
        try ns.ip("link", "set", "f53grp", "down")
        try ns.ip("link", "set", "f53grp", "name", "tw0000000f53a02")
        try ns.ip("link", "set", "tw0000000f53a02", "group", "\(group)")
        // The killed repair: renamed back and up, the group not yet set back.
        try ns.ip("link", "set", "tw0000000f53a02", "name", "f53grp")
        try ns.ip("link", "set", "f53grp", "up")

        let repair = try #require(try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal).first { $0.ifindex == index })
        #expect(repair.result == .failed, "\(repair)")
        #expect(repair.detail.contains("group 0 restored") && repair.detail.contains("route 10.154.0.0/16")
                && repair.detail.contains("neighbour entry 10.54.0.9"), "\(repair)")
        let link = try #require(try links(ns).first { $0["ifname"] as? String == "f53grp" })
        #expect(link["group"] as? String == "default" && (link["flags"] as? [String])?.contains("UP") == true, "\(link)")
        #expect(try journal.openIntents().records.isEmpty)
    }

    /// F3: a line of NULs among a killed run's intents (a torn sector, a crash). It is skipped,
    /// and every intent after it is still read: all three fenced tuns are given back, and the
    /// first repair of the run names the line. Until then the look stopped at the line, the
    /// devices whose intents followed it were never given back nor mentioned, and the run's next
    /// checkpoint dropped them for good.
    @Test func aNulLineAmongAKilledRunsIntentsHidesNoneAfterIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_f533
        let names = ["f53nul0", "f53nul1", "f53nul2"]
        for name in names { try ns.ip("tuntap", "add", "dev", name, "mode", "tun") }
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        var intents: [JournalRecord] = []
        for (number, name) in names.enumerated() {
            let device = try #require(snapshot.interfaces.first { $0.name == name })
            intents.append(JournalRecord(time: Date(), run: "killed-f53nul", type: .intent, netns: ns.name, ifname: name, ifindex: device.index,
                                         prior: PriorState(device, routes: []), fenceGroup: group, fenceName: "tw0000000f53b0\(number)",
                                         namespaceIdentity: snapshot.namespaceIdentity))
        }
        try journal.append(intents, after: try journal.openIntents())
        for (number, name) in names.enumerated() {
            try ns.ip("link", "property", "add", "dev", name, "altname", "tw0000000f53b0\(number)")
            try ns.ip("link", "set", name, "group", "\(group)")
        }
        // A line of 64 NULs after the first intent.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: journal.path))
        let firstEnd = try #require(bytes.firstIndex(of: UInt8(ascii: "\n")))
        bytes.insert(contentsOf: [UInt8](repeating: 0, count: 64) + [UInt8(ascii: "\n")], at: firstEnd + 1)
        try bytes.write(to: URL(fileURLWithPath: journal.path))

        let repairs = try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal)
        #expect(Set(repairs.map(\.ifname)) == Set(names), "\(repairs)")
        #expect(repairs.allSatisfy { $0.result == .skipped && $0.detail.contains("private alternative name removed") }, "\(repairs)")
        let first = try #require(repairs.first)
        #expect(first.detail.contains("a line among run killed-f53nul's intents (byte \(firstEnd + 1) of \(journal.path))")
                && first.detail.contains("was skipped"), "\(first)")
        for link in try links(ns) where names.contains(link["ifname"] as? String ?? "") {
            #expect(link["altnames"] == nil && link["group"] as? String == "default", "\(link)")
        }
        #expect(try journal.openIntents().records.isEmpty)
    }
}
#endif
