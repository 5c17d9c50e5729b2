#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// The repair of a single-queue tap a killed reap left fenced, compared with its intent as a
/// multi-queue one is (faults 54, F1), against the real kernel, as root, in throwaway namespaces:
/// the neighbour entries made by hand that its fence flushed (`nud noarp`, `managed`) are made
/// again from the intent and said so; what it still lacks is named, and the repair failed.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct SingleQueueRepairKernelTests {
    /// Journals the intent of a killed run for `name` with its neighbour entries `saved`, then
    /// fences it as a single-queue fence does (private alternative name, private group) and takes
    /// `flushed` away, as the fence's flush did.
    func killedFence(_ ns: TestNamespace, _ journal: Journal, _ name: String, saved: [RecreateCommands.Neighbour], flushed: [String],
                     fenceName: String, group: UInt32) throws -> Int {
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let device = try #require(snapshot.interfaces.first { $0.name == name })
        try journal.append([JournalRecord(time: Date(), run: "killed-\(name)", type: .intent, netns: ns.name, ifname: name, ifindex: device.index,
                                          prior: PriorState(device, routes: snapshot.routes.filter { $0.nextHops.contains { $0.interfaceIndex == device.index } },
                                                            neighbours: saved),
                                          fenceGroup: group, fenceName: fenceName, namespaceIdentity: snapshot.namespaceIdentity)])
        try ns.ip("link", "property", "add", "dev", name, "altname", fenceName)
        try ns.ip("link", "set", name, "group", "\(group)")
        for address in flushed { _ = try? ns.ip("neigh", "del", address, "dev", name) }
        return device.index
    }

    /// Old code: both repairs were skipped, "group 0 restored, private alternative name
    /// removed", and the entries stayed gone unsaid.
    @Test func flushedEntriesAreMadeAgainAndWhatIsStillLackingIsNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for tap in ["sqr1", "sqr2"] {
            try ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
            try ns.ip("link", "set", tap, "up")
        }
        try ns.ip("addr", "add", "10.61.0.1/24", "dev", "sqr1")
        try ns.ip("addr", "add", "10.62.0.1/24", "dev", "sqr2")
        try ns.ip("neigh", "add", "10.61.0.7", "dev", "sqr1", "managed")
        try ns.ip("neigh", "add", "10.61.0.8", "lladdr", "02:00:00:00:00:08", "nud", "noarp", "dev", "sqr1")
        try ns.ip("neigh", "add", "10.62.0.9", "lladdr", "02:00:00:00:00:09", "nud", "permanent", "dev", "sqr2")
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_f541
        let remade = try killedFence(ns, journal, "sqr1", saved: [
            RecreateCommands.Neighbour(address: IPAddress("10.61.0.7")!, linkLayerAddress: nil, kind: .managed),
            RecreateCommands.Neighbour(address: IPAddress("10.61.0.8")!, linkLayerAddress: "02:00:00:00:00:08", kind: .noarp),
        ], flushed: ["10.61.0.7", "10.61.0.8"], fenceName: "tw000000000f541", group: group)
        // A permanent entry survives the flush; one deleted since is not made again, but named.
        let lacking = try killedFence(ns, journal, "sqr2", saved: [
            RecreateCommands.Neighbour(address: IPAddress("10.62.0.9")!, linkLayerAddress: "02:00:00:00:00:09", kind: .permanent),
        ], flushed: ["10.62.0.9"], fenceName: "tw000000000f542", group: group)

        let repairs = Dictionary(uniqueKeysWithValues: try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal).map { ($0.ifindex, $0) })
        let first = try #require(repairs[remade])
        #expect(first.result == .skipped && first.detail.contains("private alternative name removed"), "\(first)")
        let shown = try ns.ip("neigh", "show", "nud", "all", "dev", "sqr1")
        #expect(first.detail.contains("its neighbour entries made by hand 10.61.0.7 (managed), 10.61.0.8 (nud noarp), which its fence flushed, made again"), "\(first)")
        let entries = shown
        #expect(entries.contains("10.61.0.7") && entries.contains("managed") && entries.contains("10.61.0.8 lladdr 02:00:00:00:00:08") && entries.contains("NOARP"), "\(entries)")
        let second = try #require(repairs[lacking])
        #expect(second.result == .failed && second.detail.contains("but it lacks what it had before the fence: neighbour entry 10.62.0.9"), "\(second)")
    }
}
#endif
