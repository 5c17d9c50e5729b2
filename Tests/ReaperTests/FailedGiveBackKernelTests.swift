#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// A fenced target that is not deleted and whose fence cannot all be taken off, against the real
/// kernel in throwaway namespaces (session 37, leftover 1): its result says it is still fenced and
/// how to finish, its intent stays open, and the next reap's repair gives it back once it can.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct FailedGiveBackKernelTests {
    func links(_ ns: TestNamespace) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try ns.ip("-d", "-j", "link", "show").utf8)) as? [[String: Any]] ?? []
    }

    /// A multi-queue tap moved to another namespace after its fence (so under its private name),
    /// where a device has taken its own name meanwhile: the give-back there cannot rename it. Until
    /// session 37 its failed result answered the intent, and nothing ever gave it its name back.
    @Test func aTargetThatCannotBeGivenItsNameBackWhereItWentKeepsItsIntentOpen() throws {
        let a = try TestNamespace(), x = try TestNamespace(), state = try TemporaryDirectory()
        defer { a.remove(); x.remove(); state.remove() }
        let device = "gb1q"
        try a.ip("tuntap", "add", "dev", device, "mode", "tap", "multi_queue")
        try x.ip("link", "add", device, "type", "veth", "peer", "name", "gb1qp")
        let snapshot = try LinuxInventory(namespaceName: a.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        let item = try #require(plan.items.first { $0.ifname == device })
        let journal = Journal(path: state.path + "/journal.jsonl")
        var reaper = LinuxReaper(namespaceName: a.name)
        let moved = Locked("")
        reaper.stepHook = { step in
            guard step == "dependents-read", moved.value.isEmpty else { return }
            #expect(throws: Never.self) {
                let fenced = try #require(try links(a).first { $0["ifindex"] as? Int == item.interface.index }?["ifname"] as? String)
                try a.ip("link", "set", "dev", fenced, "netns", x.name)
                moved.mutate { $0 = fenced }
            }
        }
        let result = try #require(try reaper.execute(plan, journal: journal, runID: "blocked").first { $0.ifname == device })
        let fenceName = moved.value
        #expect(!fenceName.isEmpty)
        #expect(result.outcome == .failed && result.leftFenced, "\(result)")
        #expect(result.detail?.contains("it moved to network namespace '\(x.name)'") == true
                && result.detail?.contains("it is still fenced there: it keeps the private name \(fenceName) there") == true
                && result.detail?.contains("`ip link set dev \(fenceName) name \(device)` there") == true
                && result.detail?.contains("the next reap tries again from this run's intent") == true, "\(result)")
        #expect(try journal.read().last { $0.type == .result }?.leftFenced == true)
        #expect(try journal.openIntents().records.map(\.ifindex) == [item.interface.index])

        // The name is still taken: the repair cannot give it back either, and says so, and the
        // intent stays open.
        let blocked = try #require(try LinuxReaper(namespaceName: a.name).repairInterrupted(journal: journal).first)
        #expect(blocked.result == .failed && blocked.detail.contains("it is still fenced there")
                && blocked.detail.contains("the next reap tries again to give it back"), "\(blocked)")
        #expect(try journal.openIntents().records.map(\.ifindex) == [item.interface.index])

        // Once the name is free, the next repair gives it back where it is, and answers the intent.
        try x.ip("link", "del", device)
        let given = try #require(try LinuxReaper(namespaceName: a.name).repairInterrupted(journal: journal).first)
        #expect(given.result == .skipped && given.detail.contains("gave it its name back from \(fenceName)"), "\(given)")
        let back = try #require(links(x).first { $0["ifname"] as? String == device && $0["link_type"] as? String == "ether" && ($0["linkinfo"] as? [String: Any])?["info_kind"] as? String == "tun" },
                                "\((try? links(x)) ?? [])")
        #expect(back["group"] as? String == "default", "\(back)")
        #expect(try journal.openIntents().records.isEmpty)
        #expect(try LinuxReaper(namespaceName: a.name).repairInterrupted(journal: journal).isEmpty)
    }
}
#endif
