#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// Another device at a target's ifindex, against the real kernel, as root, each test in its own
/// throwaway namespace. The kernel gives a freed ifindex to the next device that asks for it (one
/// moved in from another namespace keeps its own; `ip link add … index N` and CRIU ask for one),
/// so a device that takes the ifindex of a target deleted (by the reaper, or by something else
/// meanwhile) is never taken for the target: never renamed, grouped, set up or addressed in its
/// place, and never makes a deleted target look present.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct ReaperIdentityTests {
    func plan(_ ns: TestNamespace) throws -> ReapPlan {
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        return ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                             policy: ReapPolicy(minimumAge: 0), now: Date())
    }

    /// The name of the device at `index` in `ns`, if there is one.
    func name(at index: Int, _ ns: TestNamespace) throws -> String? {
        let objects = try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "link", "show").utf8)) as? [[String: Any]] ?? []
        return objects.first { $0["ifindex"] as? Int == index }?["ifname"] as? String
    }

    /// The kernel finds a device by the name a group or delete request gives instead of an ifindex,
    /// as the reaper asks it to: by its name, or by an alternative name (IFLA_ALT_IFNAME), which
    /// renames nothing; and no device answers to a name none has.
    @Test func requestsByPrivateNameReachOnlyTheDeviceThatBearsIt() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "idn0", "mode", "tap")
        try ns.ip("link", "property", "add", "dev", "idn0", "altname", "tw00000000000n0")
        try ns.ip("tuntap", "add", "dev", "tw00000000000n1", "mode", "tap")
        let fd = open("/run/netns/\(ns.name)", O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: fd))
        let alternative = Array("tw00000000000n0".utf8), primary = Array("tw00000000000n1".utf8)
        try client.request(operation: "RTM_NEWLINK (group)") { LinkMessage.setGroupRequest(name: alternative, alternative: true, group: 77, sequence: $0) }
        try client.request(operation: "RTM_NEWLINK (group)") { LinkMessage.setGroupRequest(name: primary, alternative: false, group: 78, sequence: $0) }
        #expect(try ns.ip("-d", "link", "show", "dev", "idn0").contains("group 77"), "found by its alternative name, and not renamed")
        #expect(try ns.ip("-d", "link", "show", "dev", "tw00000000000n1").contains("group 78"))
        #expect(throws: NetlinkError.self) {
            try client.request(operation: "RTM_DELLINK") { LinkMessage.deleteRequest(name: Array("tw00000000000n9".utf8), alternative: true, sequence: $0) }
        }
        try client.request(operation: "RTM_DELLINK") { LinkMessage.deleteRequest(name: alternative, alternative: true, sequence: $0) }
        try client.request(operation: "RTM_DELLINK") { LinkMessage.deleteRequest(name: primary, alternative: false, sequence: $0) }
        #expect(try ns.ip("-o", "link", "show", "type", "tun").isEmpty)
    }

    /// A target the reaper deleted is reported deleted even when another device takes its
    /// ifindex before the check afterwards.
    @Test(arguments: [false, true])
    func aDeviceThatTakesADeletedTargetsIfindexIsNotTakenForIt(multiQueue: Bool) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        if multiQueue { try ns.ip("tuntap", "add", "dev", "idt0", "mode", "tap", "multi_queue") } else { try ns.ip("tuntap", "add", "dev", "idt0", "mode", "tap") }
        let plan = try plan(ns)
        let index = try #require(plan.items.first { $0.ifname == "idt0" }?.interface.index)
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "deleted" else { return }
            _ = try? ns.ip("link", "add", "idimp0", "index", "\(index)", "type", "bridge")
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "reused")
        #expect(try name(at: index, ns) == "idimp0", "the bridge took the ifindex")
        #expect(results.first?.outcome == .deleted, "\(results)")
    }

    /// A fenced target deleted by something else, with another device made at its ifindex before
    /// it is grouped (so that it is given back) or before the last look, is reported gone, and
    /// that device is left exactly as it was made.
    @Test(arguments: [false, true], ["fenced", "grouped"])
    func aDeviceAtAFencedTargetsIfindexIsLeftAlone(multiQueue: Bool, step: String) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        if multiQueue { try ns.ip("tuntap", "add", "dev", "idf0", "mode", "tap", "multi_queue") } else { try ns.ip("tuntap", "add", "dev", "idf0", "mode", "tap") }
        try ns.ip("link", "set", "idf0", "up")
        try ns.ip("addr", "add", "10.46.0.1/24", "dev", "idf0")
        try ns.ip("route", "add", "10.81.0.0/16", "dev", "idf0")
        let plan = try plan(ns)
        let index = try #require(plan.items.first { $0.ifname == "idf0" }?.interface.index)
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = {
            guard $0 == step, let fenced = try? self.name(at: index, ns) else { return }
            _ = try? ns.ip("link", "del", "dev", fenced)
            _ = try? ns.ip("link", "add", "idother0", "index", "\(index)", "type", "bridge")
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "impostor")
        let result = try #require(results.first)
        #expect(result.outcome == .skipped && result.detail?.contains("bears no mark of the fence") == true, "\(result)")
        let link = try #require((try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "-d", "link", "show", "dev", "idother0").utf8)) as? [[String: Any]])?.first)
        #expect(link["ifindex"] as? Int == index)
        #expect((link["flags"] as? [String])?.contains("UP") == false && link["group"] as? String == "default" && link["altnames"] == nil, "\(link)")
        #expect(try ns.ip("-br", "addr", "show", "dev", "idother0").contains("10.46.0.1") == false)
        #expect(try ns.ip("route", "show", "10.81.0.0/16").isEmpty)
    }
}
#endif
