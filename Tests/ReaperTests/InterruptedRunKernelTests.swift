#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
import Storage
import TunwardenCore

/// A reap killed outright is given back by the next reap in its namespace, whatever other runs
/// sharing the journal appended since: against the real kernel, as root, through the command.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct InterruptedRunKernelTests {
    /// Journals what a reap killed right after fencing `name` in `ns` leaves in `journal`: its
    /// intent (the device as it is now, its namespace's identity, the fence), and returns the
    /// device's ifindex. The caller puts the fence on.
    func killedIntent(_ ns: TestNamespace, _ journal: Journal, _ name: String, fenceName: String, group: UInt32) throws -> Int {
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let device = try #require(snapshot.interfaces.first { $0.name == name })
        try journal.append([JournalRecord(time: Date(), run: "killed-\(name)", type: .intent, netns: ns.name, ifname: name, ifindex: device.index,
                                          prior: PriorState(device, routes: snapshot.routes.filter { $0.nextHops.contains { $0.interfaceIndex == device.index } }),
                                          fenceGroup: group, fenceName: fenceName, namespaceIdentity: snapshot.namespaceIdentity)])
        return device.index
    }

    func reap(_ ns: TestNamespace, _ state: TemporaryDirectory, _ extra: String...) throws -> Shell.Result {
        try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--journal", state.path + "/journal.jsonl",
                           "--min-age", "0"] + extra)
    }

    /// The finding's case: a multi-queue tap left renamed, down and grouped by a killed reap in
    /// one namespace; a reap in another namespace sharing the journal runs first. The next reap in
    /// the first namespace still gives it back (name, group, up), once: the reap after it finds
    /// nothing left to repair.
    @Test func aKilledReapIsRepairedAfterAReapInAnotherNamespace() throws {
        let a = try TestNamespace(), b = try TestNamespace(), state = try TemporaryDirectory()
        defer { a.remove(); b.remove(); state.remove() }
        try a.ip("tuntap", "add", "dev", "ikmq0", "mode", "tap", "multi_queue")
        try a.ip("link", "set", "ikmq0", "up")
        try b.ip("tuntap", "add", "dev", "ikb0", "mode", "tap")
        let journal = Journal(path: state.path + "/journal.jsonl")
        let index = try killedIntent(a, journal, "ikmq0", fenceName: "tw00000000000c1", group: 0x1234_56c1)
        try a.ip("link", "set", "ikmq0", "down")
        try a.ip("link", "set", "ikmq0", "name", "tw00000000000c1")
        try a.ip("link", "set", "tw00000000000c1", "group", "\(0x1234_56c1)")

        let other = try reap(b, state, "--yes")
        #expect(other.status == 0 && other.stdout.contains("Deleted tap ikb0"), "\(other.stdout)\n\(other.stderr)")
        #expect(!other.stderr.contains("Repaired"), "a reap repairs only its own namespace's intents: \(other.stderr)")

        let dry = try reap(a, state, "--dry-run")
        #expect(dry.stderr.contains("intents without results (run killed-ikmq0"), "\(dry.stderr)")
        let repairing = try reap(a, state, "--yes", "--protect", "ikmq0")
        #expect(repairing.stderr.contains("Repaired ikmq0 (ifindex \(index))"), "\(repairing.stdout)\n\(repairing.stderr)")
        let link = try a.ip("-d", "link", "show", "dev", "ikmq0")
        #expect(link.contains("state") && link.contains(",UP") && !link.contains("group \(0x1234_56c1)"), "\(link)")
        #expect(try journal.read().filter { $0.run == "killed-ikmq0" && $0.type == .result }.count == 1)

        let again = try reap(a, state, "--yes", "--protect", "ikmq0")
        #expect(!again.stderr.contains("Repaired"), "repaired twice: \(again.stderr)")
        #expect(try journal.read().filter { $0.run == "killed-ikmq0" && $0.type == .result }.count == 1)
    }

    /// A single-queue tap a killed reap left with its fence (private alternative name, link
    /// group) and its own name is no orphan to an audit; after another namespace's reap, the next
    /// reap here takes the fence off first, so that when it then deletes the tap, its intent
    /// journals the tap's own group and names, not the fence's.
    @Test func aSingleQueueFenceIsUnknownThenTakenOffNeverJournaledAsTheDevicesOwn() throws {
        let a = try TestNamespace(), b = try TestNamespace(), state = try TemporaryDirectory()
        defer { a.remove(); b.remove(); state.remove() }
        try a.ip("tuntap", "add", "dev", "iksq0", "mode", "tap")
        try a.ip("link", "set", "iksq0", "up")
        try b.ip("tuntap", "add", "dev", "ikb1", "mode", "tap")
        let journal = Journal(path: state.path + "/journal.jsonl")
        _ = try killedIntent(a, journal, "iksq0", fenceName: "tw00000000000c2", group: 0x1234_56c2)
        try a.ip("link", "property", "add", "dev", "iksq0", "altname", "tw00000000000c2")
        try a.ip("link", "set", "iksq0", "group", "\(0x1234_56c2)")

        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", a.name, "audit", "--no-state"])
        #expect(audit.stdout.contains("fenced by a reap (its private alternative name tw00000000000c2 and link group \(0x1234_56c2))"),
                "\(audit.stdout)")
        #expect(try reap(b, state, "--yes").status == 0)
        let result = try reap(a, state, "--yes")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("Repaired iksq0") && result.stdout.contains("Deleted tap iksq0"), "\(result.stdout)\n\(result.stderr)")
        let intents = try journal.read().filter { $0.type == .intent && $0.ifname == "iksq0" && $0.run != "killed-iksq0" }
        let intent = try #require(intents.first)
        #expect(intent.prior?.group == 0, "\(String(describing: intent.prior))")
        #expect(intent.recreate?.contains { $0.contains("tw00000000000c2") || $0.contains("group") } == false, "\(intent.recreate ?? [])")
    }
}
#endif
