#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// What the repair of a reap killed outright says of devices that are no longer at their ifindex
/// as its intents recorded them, against the real kernel, as root, in throwaway namespaces: a
/// device renamed (or readdressed) since is the same device and was not deleted; one moved to
/// another namespace lives on there and is given back there; none of them is journaled deleted.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct KilledRepairKernelTests {
    func links(_ ns: TestNamespace) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try ns.ip("-d", "-j", "link", "show").utf8)) as? [[String: Any]] ?? []
    }

    func journalText(_ journal: Journal) throws -> String {
        try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path]).stdout
    }

    /// Round 49's F3: two taps a killed run journaled but never fenced, one renamed since, the
    /// other given another hardware address. Each is the device it was (same ifindex, a tap
    /// still), so neither is journaled deleted, nor counted so; each result says what changed and
    /// that it was not touched, and `tunwarden journal` gives no commands to make it again. Until
    /// round 49 both were "deleted … the device is gone".
    @Test func anUntouchedDeviceRenamedOrReaddressedSinceIsNotDeleted() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "k3ren0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "k3mac0", "mode", "tap")
        let journal = Journal(path: state.path + "/journal.jsonl")
        let renamed = try journalKilledIntent(ns, journal, "k3ren0", fenceName: "tw000000000f301", group: 0x1234_f301)
        let readdressed = try journalKilledIntent(ns, journal, "k3mac0", fenceName: "tw000000000f302", group: 0x1234_f302)
        try ns.ip("link", "set", "k3ren0", "name", "k3renb")
        try ns.ip("link", "set", "k3mac0", "address", "02:00:00:00:f3:02")

        let repairs = try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal)
        let byIndex = Dictionary(uniqueKeysWithValues: repairs.map { ($0.ifindex, $0) })
        let first = try #require(byIndex[renamed]), second = try #require(byIndex[readdressed])
        #expect(first.result == .skipped && first.detail.contains("renamed since to k3renb") && first.detail.contains("not touched"), "\(first)")
        #expect(second.result == .skipped && second.detail.contains("its hardware address changed since") && second.detail.contains("02:00:00:00:f3:02")
                && second.detail.contains("not touched"), "\(second)")
        #expect(try journal.read().filter { $0.type == .result }.allSatisfy { $0.result == .skipped })
        let text = try journalText(journal)
        #expect(text.contains("0 deleted of 1") && !text.contains("deleted  tap") && !text.contains("ip tuntap add"), "\(text)")
        let names = Set(try links(ns).compactMap { $0["ifname"] as? String })
        #expect(names == ["lo", "k3renb", "k3mac0"], "\(names)")
    }

    /// Round 49's F11: a multi-queue tap left renamed to its private name, down and grouped, and a
    /// single-queue tun left with its private alternative name and group, by a killed run; both
    /// then moved into another namespace. The repair finds each there by its private name, gives
    /// it back there (its name, no alternative name, its own group), and says where it went;
    /// neither is journaled deleted. A third target, deleted since, is not proven deleted by
    /// anything either: its result is failed, saying deleted or moved, with the commands that
    /// give it back where it may live on. Until round 49 all three were "deleted".
    @Test func fencedTargetsMovedAwayAfterAKilledReapAreGivenBackWhereTheyWent() throws {
        let ns = try TestNamespace(), other = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); other.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "k11mq", "mode", "tap", "multi_queue")
        try ns.ip("tuntap", "add", "dev", "k11sq", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "k11gone", "mode", "tap")
        for device in ["k11mq", "k11sq"] { try ns.ip("link", "set", device, "up") }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_f311
        let mq = try journalKilledIntent(ns, journal, "k11mq", fenceName: "tw000000000f311", group: group)
        let sq = try journalKilledIntent(ns, journal, "k11sq", fenceName: "tw000000000f312", group: group)
        let gone = try journalKilledIntent(ns, journal, "k11gone", fenceName: "tw000000000f313", group: group)
        try ns.ip("link", "set", "k11mq", "down")
        try ns.ip("link", "set", "k11mq", "name", "tw000000000f311")
        try ns.ip("link", "set", "tw000000000f311", "group", "\(group)")
        try ns.ip("link", "property", "add", "dev", "k11sq", "altname", "tw000000000f312")
        try ns.ip("link", "set", "k11sq", "group", "\(group)")
        try ns.ip("link", "del", "k11gone")
        try ns.ip("link", "set", "dev", "tw000000000f311", "netns", other.name)
        try ns.ip("link", "set", "dev", "k11sq", "netns", other.name)

        let repairs = try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal)
        let byIndex = Dictionary(uniqueKeysWithValues: repairs.map { ($0.ifindex, $0) })
        for index in [mq, sq] {
            let repair = try #require(byIndex[index])
            #expect(repair.result == .skipped && repair.detail.contains("it moved to network namespace '\(other.name)'"), "\(repair)")
        }
        let lost = try #require(byIndex[gone])
        #expect(lost.result == .failed && lost.detail.contains("deleted (by that run, or since), or moved to another namespace")
                && lost.detail.contains("ip link property del dev k11gone altname tw000000000f313"), "\(lost)")
        #expect(try journal.read().filter { $0.type == .result }.allSatisfy { $0.result != .deleted })
        #expect(try journalText(journal).contains("0 deleted of 1"))

        let there = try links(other).filter { $0["ifname"] as? String != "lo" }
        #expect(Set(there.compactMap { $0["ifname"] as? String }) == ["k11mq", "k11sq"], "\(there)")
        for link in there {
            #expect(link["altnames"] == nil && link["group"] as? String == "default", "\(link)")
        }
        // Answered once: the next repair finds nothing left.
        #expect(try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal).isEmpty)
    }

    /// Round 50's F2: a multi-queue tap a killed run left fenced (down, under its private name, in
    /// its private group), which something else then renamed. The repair gives its group back and
    /// also sets it up again, since the fence took it down, and names the route that went with
    /// the down (failed), keeping the name it was given since. Until round 50 the result was
    /// "group 0 restored" (skipped) and the device stayed down without its routes.
    @Test func aFencedDeviceRenamedSinceIsSetUpAgainAndItsLossesNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "k2mq", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "k2mq", "up")
        try ns.ip("addr", "add", "10.42.0.1/24", "dev", "k2mq")
        try ns.ip("route", "add", "172.30.0.0/16", "via", "10.42.0.2")
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_f502
        let index = try journalKilledIntent(ns, journal, "k2mq", fenceName: "tw000000000f502", group: group)
        try ns.ip("link", "set", "k2mq", "down")
        try ns.ip("link", "set", "k2mq", "name", "tw000000000f502")
        try ns.ip("link", "set", "tw000000000f502", "group", "\(group)")
        try ns.ip("link", "set", "tw000000000f502", "name", "k2other")
        #expect(!(try ns.ip("route", "show")).contains("172.30.0.0/16"), "the down took the route")

        let repairs = try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal)
        let repair = try #require(repairs.first { $0.ifindex == index })
        #expect(repair.result == .failed, "\(repair)")
        #expect(repair.detail.contains("group 0 restored") && repair.detail.contains("renamed since by something else to k2other")
                && repair.detail.contains("set up again") && repair.detail.contains("172.30.0.0/16"), "\(repair)")
        let link = try #require(try links(ns).first { $0["ifname"] as? String == "k2other" })
        #expect((link["flags"] as? [String])?.contains("UP") == true && link["group"] as? String == "default", "\(link)")
        #expect(try journal.read().filter { $0.type == .result }.allSatisfy { $0.result != .deleted })
    }

    /// Round "faults 52" F3: a multi-queue tap a killed run fenced, then given back by a repair
    /// that was killed before it journaled that: the device bears no mark of the fence, and is up,
    /// but the fence's down took its route and its permanent neighbour entry. The next repair
    /// compares it with its intent all the same and names both (failed). Until then it said "had
    /// not fenced it; nothing to undo", and the losses were never reported.
    @Test func aMultiQueueDeviceWhoseRepairRecordWasLostHasItsLossesNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "k3mq", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "k3mq", "up")
        try ns.ip("addr", "add", "10.43.0.1/24", "dev", "k3mq")
        try ns.ip("route", "add", "10.143.0.0/16", "dev", "k3mq")
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_f503
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let device = try #require(snapshot.interfaces.first { $0.name == "k3mq" })
        let saved = RecreateCommands.Neighbour(address: IPAddress("10.43.0.9")!, linkLayerAddress: "02:00:00:00:00:09", kind: .permanent)
        try ns.ip("neigh", "add", "10.43.0.9", "lladdr", "02:00:00:00:00:09", "nud", "permanent", "dev", "k3mq")
        try journal.append([JournalRecord(time: Date(), run: "killed-k3mq", type: .intent, netns: ns.name, ifname: "k3mq", ifindex: device.index,
                                          prior: PriorState(device, routes: snapshot.routes.filter { $0.nextHops.contains { $0.interfaceIndex == device.index } },
                                                            neighbours: [saved]),
                                          fenceGroup: group, fenceName: "tw000000000f503", namespaceIdentity: snapshot.namespaceIdentity)])
        // The fence, then the lost repair's give-back: down, renamed, grouped; named, ungrouped, up.
        try ns.ip("link", "set", "k3mq", "down")
        try ns.ip("link", "set", "k3mq", "name", "tw000000000f503")
        try ns.ip("link", "set", "tw000000000f503", "group", "\(group)")
        try ns.ip("link", "set", "tw000000000f503", "name", "k3mq")
        try ns.ip("link", "set", "k3mq", "group", "0")
        try ns.ip("link", "set", "k3mq", "up")

        let repair = try #require(try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal).first)
        #expect(repair.result == .failed, "\(repair)")
        #expect(repair.detail.contains("bears no mark of its fence") && repair.detail.contains("route 10.143.0.0/16")
                && repair.detail.contains("neighbour entry 10.43.0.9"), "\(repair)")
        #expect(!repair.detail.contains("nothing to undo"), "\(repair)")
    }
}
#endif
