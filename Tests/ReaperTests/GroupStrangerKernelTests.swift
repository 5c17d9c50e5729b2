#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// A device that joins a reap's private link group after the last look (F3 of review 53),
/// against the real kernel as root, in a throwaway namespace of its own.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct GroupStrangerKernelTests {
    func linkNames(_ ns: TestNamespace) throws -> Set<String> {
        let json = try ns.ip("-j", "link", "show")
        let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return Set(links.compactMap { $0["ifname"] as? String })
    }

    /// A plan made now, without a grace period, of `devices` alone (every other orphan left out).
    func plan(_ ns: TestNamespace, of devices: Set<String>) throws -> ReapPlan {
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        var plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        plan.items.removeAll { !devices.contains($0.ifname) }
        try #require(Set(plan.items.map(\.ifname)) == devices)
        return plan
    }

    /// Puts `joiner` into the link group `target` is in, by netlink (iproute2 6.1 refuses a
    /// group from 2^31 up, where the reaper's private groups are half the time).
    static let joinGroup = """
        import socket, struct, sys
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); s.bind((0, 0))
        def ask(kind, flags, body):
            s.send(struct.pack("IHHII", 16 + len(body), kind, flags, 1, 0) + body)
            return s.recv(65536)
        def info(name): return struct.pack("BxHiII", 0, 0, socket.if_nametoindex(name), 0, 0)
        answer = ask(18, 1, info(sys.argv[1]))
        group, offset, end = None, 32, struct.unpack_from("I", answer, 0)[0]
        while offset + 4 <= end:
            length, kind = struct.unpack_from("HH", answer, offset)
            if kind == 27: group = struct.unpack_from("I", answer, offset + 4)[0]
            offset += (length + 3) & ~3
        ack = ask(16, 1 | 4, info(sys.argv[2]) + struct.pack("HHI", 8, 27, group))
        code = struct.unpack_from("i", ack, 16)[0]
        print(group, code)
        sys.exit(1 if code else 0)
        """

    func join(_ joiner: String, groupOf target: String, in ns: TestNamespace) {
        let joined = try? Shell.capture(["ip", "netns", "exec", ns.name, "python3", "-c", Self.joinGroup, target, joiner])
        #expect(joined?.status == 0, "\(joined?.stdout ?? "") \(joined?.stderr ?? "")")
    }

    /// A tap that is up and joins the private link group after the last look is announced, and
    /// the deletion is not sent; one that is down joins unannounced, goes with the group
    /// deletion, and is reported failed, not planned, by name. Old code: the deletion was sent
    /// both times, and the results named the target alone, deleted.
    @Test func aDeviceThatJoinsTheGroupAfterTheLastLookIsNeverLeftUnsaid() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for tap in ["twg1", "twg8", "twg9"] { try ns.ip("tuntap", "add", "dev", tap, "mode", "tap") }
        try ns.ip("link", "set", "twg8", "up")
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in if step == "verified" { join("twg8", groupOf: "twg1", in: ns) } }
        let refused = try reaper.execute(try plan(ns, of: ["twg1"]), journal: Journal(path: state.path + "/journal.jsonl"), runID: "joined")
        #expect(refused.count == 1 && refused.first?.outcome == .failed && refused.first?.detail?.contains("twg8 (ifindex") == true, "\(refused)")
        #expect(refused.first?.detail?.contains("after the last look, and is not a target; nothing deleted") == true, "\(refused)")
        #expect(try linkNames(ns) == ["lo", "twg1", "twg8", "twg9"])
        _ = try ns.ip("link", "set", "dev", "twg8", "group", "default")

        reaper.stepHook = { step in if step == "verified" { join("twg9", groupOf: "twg1", in: ns) } }
        let results = try reaper.execute(try plan(ns, of: ["twg1"]), journal: Journal(path: state.path + "/journal.jsonl"), runID: "silent")
        #expect(results.first { $0.ifname == "twg1" }?.outcome == .deleted, "\(results)")
        let stranger = try #require(results.first { $0.ifname == "twg9" }, "\(results)")
        #expect(stranger.outcome == .failed && stranger.unplanned && stranger.kind == .tap, "\(stranger)")
        #expect(try linkNames(ns) == ["lo", "twg8"])
        let journal = try Journal(path: state.path + "/journal.jsonl").read()
        #expect(journal.contains { $0.run == "silent" && $0.type == .result && $0.ifname == "twg9" && $0.result == .failed }, "\(journal)")
    }

    /// What the kernel deletes with a device that joined the group unannounced (faults 54, F3):
    /// its veth peer and the macvlan stacked on it are reported too, each failed, not planned,
    /// with its kind and what it went with, in the results and the journal. Old code: the
    /// results named the target and the joiner alone; the peer and the macvlan went unsaid.
    @Test func whatTheKernelDeletesWithAStrangerIsReportedToo() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "twk1", "mode", "tap")
        try ns.ip("link", "add", "twv0", "type", "veth", "peer", "name", "twv1")
        try ns.ip("link", "add", "link", "twv0", "name", "twm0", "type", "macvlan")
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in if step == "verified" { join("twv0", groupOf: "twk1", in: ns) } }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let results = try reaper.execute(try plan(ns, of: ["twk1"]), journal: journal, runID: "along")
        #expect(try linkNames(ns) == ["lo"])
        #expect(results.first { $0.ifname == "twk1" }?.outcome == .deleted, "\(results)")
        let unplanned = Dictionary(results.filter(\.unplanned).map { ($0.ifname, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(unplanned.keys) == ["twv0", "twv1", "twm0"], "\(results)")
        #expect(unplanned.values.allSatisfy { $0.outcome == .failed }, "\(results)")
        #expect(unplanned["twv1"]?.kind == .veth && unplanned["twv1"]?.detail?.contains("the peer of twv0") == true, "\(results)")
        #expect(unplanned["twm0"]?.kindWord == "macvlan" && unplanned["twm0"]?.detail?.contains("a macvlan stacked on twv0") == true, "\(results)")
        let records = try journal.read().filter { $0.run == "along" && $0.type == .result && $0.unplanned == true }
        #expect(Dictionary(records.map { ($0.ifname, $0.kind ?? "") }, uniquingKeysWith: { a, _ in a }) == ["twv0": "veth", "twv1": "veth", "twm0": "macvlan"], "\(records)")
    }
}
#endif
