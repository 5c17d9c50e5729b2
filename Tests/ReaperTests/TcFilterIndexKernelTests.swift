#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// Taps that a traffic-control filter on another device matches as the packets' input device
/// (`tc filter … u32 match … indev tap0`, Linux 52 F1), against the real kernel as root in
/// throwaway namespaces: the filter keeps the tap's ifindex, so deleting the tap leaves it
/// matching an index no device has. Old code judged such a tap `orphaned` and reaped it.
@Suite(.enabled(if: TestNamespace.available && Shell.which("tc") != nil, "needs root, /dev/net/tun, ip, tc and python3"))
struct TcFilterIndexKernelTests {
    func tc(_ ns: TestNamespace, _ args: String...) throws {
        let result = try Shell.capture(["tc", "-n", ns.name] + args)
        try #require(result.status == 0, "tc \(args.joined(separator: " ")): \(result.stderr)")
    }

    func linkNames(_ ns: TestNamespace) throws -> Set<String> {
        let json = try ns.ip("-j", "link", "show")
        let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return Set(links.compactMap { $0["ifname"] as? String })
    }

    /// Filters on a clsact's egress, on an htb class and on a shared block each keep their tap;
    /// a filter on a tap's own qdisc that matches that tap goes with it and keeps nothing; a reap
    /// deletes only the tap nothing matches.
    @Test func aTapAFilterMatchesAsInputDeviceIsKept() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for tap in ["twf1e", "twf1c", "twf1b", "twf1s", "twf1o"] { try ns.ip("tuntap", "add", "dev", tap, "mode", "tap") }
        try ns.ip("link", "add", "twf1v0", "type", "veth", "peer", "name", "twf1v1")
        try tc(ns, "qdisc", "add", "dev", "twf1v0", "clsact")
        try tc(ns, "filter", "add", "dev", "twf1v0", "egress", "protocol", "all", "prio", "1", "u32", "match", "u32", "0", "0", "indev", "twf1e", "classid", "1:1")
        try tc(ns, "qdisc", "add", "dev", "twf1v1", "root", "handle", "1:", "htb")
        try tc(ns, "class", "add", "dev", "twf1v1", "parent", "1:", "classid", "1:1", "htb", "rate", "1mbit")
        try tc(ns, "filter", "add", "dev", "twf1v1", "parent", "1:1", "protocol", "all", "prio", "1", "u32", "match", "u32", "0", "0", "indev", "twf1c", "classid", "1:1")
        try tc(ns, "qdisc", "add", "dev", "twf1v1", "ingress_block", "22", "clsact")
        try tc(ns, "filter", "add", "block", "22", "protocol", "all", "prio", "1", "u32", "match", "u32", "0", "0", "indev", "twf1b", "classid", "1:1")
        try tc(ns, "qdisc", "add", "dev", "twf1o", "clsact")
        try tc(ns, "filter", "add", "dev", "twf1o", "ingress", "protocol", "all", "prio", "1", "u32", "match", "u32", "0", "0", "indev", "twf1o", "classid", "1:1")
        let judged = try ns.auditedVerdicts()
        #expect(judged["twf1e"]?.state == "suspect" && judged["twf1e"]?.reason == "a tc filter matches it "
            + "(u32 indev, on twf1v0 egress); deleting it leaves that filter matching a device that is gone, and a device made again gets a new index", "\(judged)")
        #expect(judged["twf1c"]?.state == "suspect" && judged["twf1c"]?.reason.contains("(u32 indev, on twf1v1 parent 1:1)") == true, "\(judged)")
        #expect(judged["twf1b"]?.state == "suspect" && judged["twf1b"]?.reason.contains("(u32 indev, of shared block 22)") == true, "\(judged)")
        #expect(judged["twf1s"]?.state == "orphaned", "\(judged)")
        #expect(judged["twf1o"]?.state == "orphaned", "\(judged)")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo", "twf1v0", "twf1v1", "twf1e", "twf1c", "twf1b"], "stdout: \(result.stdout)")
    }

    /// A filter added after the plan stops the reap: one added before the fresh judgement makes
    /// the tap suspect there, one added after its fence (which does not stop a match by index)
    /// is seen by the last look.
    @Test func aFilterAddedAfterThePlanStopsTheReap() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "twf1l", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "twf1m", "mode", "tap")
        try ns.ip("link", "add", "twf1w0", "type", "veth", "peer", "name", "twf1w1")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        try #require(Set(plan.items.map(\.ifname)) == ["twf1l", "twf1m"])
        try tc(ns, "qdisc", "add", "dev", "twf1w0", "ingress")
        try tc(ns, "filter", "add", "dev", "twf1w0", "ingress", "protocol", "all", "prio", "1", "u32", "match", "u32", "0", "0", "indev", "twf1l", "classid", "1:1")
        var reaper = LinuxReaper(namespaceName: ns.name)
        var added: (any Error)?
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            do { try tc(ns, "filter", "add", "dev", "twf1w0", "ingress", "protocol", "all", "prio", "2", "u32", "match", "u32", "0", "0", "indev", "twf1m", "classid", "1:2") } catch { added = error }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "test")
        #expect(added == nil)
        let early = try #require(results.first { $0.ifname == "twf1l" }), late = try #require(results.first { $0.ifname == "twf1m" })
        #expect(early.outcome != .deleted && late.outcome != .deleted, "\(results)")
        #expect(early.detail?.contains("matches it (u32 indev, on twf1w0 ingress)") == true, "\(results)")
        #expect(late.detail?.contains("a tc filter now matches it (u32 indev, on twf1w0 ingress)") == true, "\(results)")
        #expect(try linkNames(ns).isSuperset(of: ["twf1l", "twf1m"]))
    }
}
#endif
