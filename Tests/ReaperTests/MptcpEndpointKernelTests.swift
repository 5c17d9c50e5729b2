#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// Taps an MPTCP path-manager endpoint names by index (F1 of review 53), against the real kernel
/// as root, in a throwaway namespace of its own.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct MptcpEndpointKernelTests {
    func reap(_ ns: TestNamespace, _ state: TemporaryDirectory, _ extra: String...) throws -> Shell.Result {
        try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path] + extra)
    }

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

    /// A tap an MPTCP endpoint names (`ip mptcp endpoint add 10.9.0.1 dev twm1 subflow`) is
    /// suspect, the endpoint named, and left by a reap; an endpoint that names no device keeps no
    /// tap; an endpoint added after the plan stops the reap at its last look. Old code: twm1 was
    /// `orphaned`, the reap deleted it, and the endpoint was left as `dev if2`.
    @Test func aTapAnMptcpEndpointNamesIsKept() throws {
        try #require(FileManager.default.fileExists(atPath: "/proc/sys/net/mptcp"), "needs a kernel with MPTCP")
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for tap in ["twm1", "twm2"] { try ns.ip("tuntap", "add", "dev", tap, "mode", "tap") }
        try ns.ip("addr", "add", "10.9.0.1/24", "dev", "twm1")
        try ns.ip("addr", "add", "10.9.1.1/24", "dev", "twm2")
        let added = try Shell.capture(["ip", "-n", ns.name, "mptcp", "endpoint", "add", "10.9.0.1", "dev", "twm1", "subflow"])
        try #require(added.status == 0, "ip mptcp: \(added.stderr)")
        _ = try ns.ip("mptcp", "endpoint", "add", "10.9.1.1", "signal")
        let judged = try ns.auditedVerdicts()
        #expect(judged["twm1"]?.state == "suspect" && judged["twm1"]?.reason == "an MPTCP endpoint names it by index (10.9.0.1 id 1 subflow); "
            + "deleting it leaves that endpoint on an index no device has, and a device made again gets a new index", "\(judged)")
        #expect(judged["twm2"]?.state == "orphaned", "\(judged)")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo", "twm1"], "stdout: \(result.stdout)")
        #expect(try ns.ip("mptcp", "endpoint", "show").contains("10.9.0.1 id 1 subflow dev twm1"))

        try ns.ip("tuntap", "add", "dev", "twm3", "mode", "tap")
        let plan = try plan(ns, of: ["twm3"])
        _ = try ns.ip("mptcp", "endpoint", "add", "10.9.3.1", "dev", "twm3", "signal", "backup")
        let results = try LinuxReaper(namespaceName: ns.name).execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "mptcp")
        #expect(results.first?.outcome == .skipped, "\(results)")
        // Seen by the fresh judgement before the fence, or by the last look.
        #expect(results.first?.detail?.contains("names it by index (10.9.3.1 id 3 signal backup)") == true, "\(results)")
        #expect(try linkNames(ns).contains("twm3"))
    }
}
#endif
