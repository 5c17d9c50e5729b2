#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// What an iproute2 round trip (review ip44) showed the recreate commands and the give-back of a
/// fenced device to lose, against the real kernel, as root, in throwaway namespaces: a route of
/// scope global with no gateway, `proto kernel` routes no address explains, managed neighbour
/// entries.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct RecreateOracleKernelTests {
    /// The device's routes of every table, with their scope, and its managed neighbour entries.
    static func view(_ ns: TestNamespace, _ device: String) throws -> [String] {
        var lines: [String] = []
        for family in ["-4", "-6"] {
            let routes = try JSONSerialization.jsonObject(with: Data(try ns.ip(family, "-j", "route", "show", "table", "all", "dev", device).utf8)) as? [[String: Any]] ?? []
            lines += routes.map { route in route.keys.sorted().filter { $0 != "flags" }.map { "\($0)=\(route[$0]!)" }.joined(separator: " ") }
        }
        lines += try ns.ip("neigh", "show", "dev", device).split(separator: "\n").filter { $0.contains("managed") }
            .map { $0.split(separator: " ").filter { !["INCOMPLETE", "FAILED", "REACHABLE", "STALE", "DELAY", "PROBE", "NONE"].contains($0) }.joined(separator: " ") }
        return lines.sorted()
    }

    /// Routes of scope global with no gateway (netlink's default scope), multicast ones too, the
    /// `proto kernel` routes of every type made by hand, and managed neighbour entries come back
    /// from the journal's commands as they were.
    @Test func whatIpShowsOfRoutesAndManagedEntriesComesBack() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "orq0", "mode", "tap")
        try ns.ip("link", "set", "orq0", "address", "02:11:22:33:44:55", "up")
        try ns.ip("addr", "add", "10.1.0.1/24", "dev", "orq0")
        try ns.ip("route", "add", "10.7.0.0/16", "dev", "orq0", "scope", "global")
        try ns.ip("route", "add", "10.6.0.0/16", "dev", "orq0", "table", "9", "scope", "global")
        try ns.ip("route", "add", "multicast", "224.5.0.0/16", "dev", "orq0", "table", "20", "scope", "global")
        try ns.ip("route", "add", "10.1.0.0/25", "dev", "orq0", "table", "local", "proto", "kernel")
        try ns.ip("route", "add", "broadcast", "10.1.0.201", "dev", "orq0", "table", "local", "proto", "kernel")
        try ns.ip("route", "add", "broadcast", "10.1.0.202", "dev", "orq0", "table", "60", "proto", "kernel")
        try ns.ip("route", "add", "local", "10.1.0.77", "dev", "orq0", "table", "local", "proto", "kernel")
        try ns.ip("-6", "route", "add", "local", "2001:db8:7::7", "dev", "orq0", "table", "local", "proto", "kernel")
        try ns.ip("-6", "route", "add", "anycast", "2001:db8:8::/64", "dev", "orq0", "table", "local", "proto", "kernel")
        try ns.ip("neigh", "add", "10.1.0.55", "dev", "orq0", "managed")
        try ns.ip("-6", "neigh", "add", "2001:db8::55", "dev", "orq0", "managed")
        let before = try Self.view(ns, "orq0")
        #expect(before.contains { $0.contains("dst=10.7.0.0/16") && !$0.contains("scope") }, "\(before)")
        #expect(before.filter { $0.contains("managed") }.count == 2, "\(before)")

        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(try ns.ip("link", "show").contains("orq0") == false)
        let intents = try Journal(path: state.path + "/journal.jsonl").read().filter { $0.type == .intent }
        try TestNamespace.replayFromElsewhere(intents.flatMap { $0.recreate ?? [] })
        let after = try Self.view(ns, "orq0")
        #expect(after == before, "gone: \(Set(before).subtracting(after)), new: \(Set(after).subtracting(before))")
    }

    /// Qdiscs made by hand, policy rules naming the device and its secondary unicast addresses,
    /// which the commands do not make again, are named in them by `#` lines, in the plan's and
    /// the journal's alike.
    @Test func qdiscsAndPolicyRulesAreNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "orq2", "mode", "tap")
        try ns.ip("link", "set", "orq2", "up")
        try Shell.run(["tc", "-n", ns.name, "qdisc", "add", "dev", "orq2", "root", "handle", "1:", "tbf", "rate", "1mbit", "burst", "4kb", "latency", "400ms"])
        try Shell.run(["tc", "-n", ns.name, "qdisc", "add", "dev", "orq2", "ingress"])
        try ns.ip("rule", "add", "iif", "orq2", "table", "44", "priority", "100")
        try ns.ip("-6", "rule", "add", "oif", "orq2", "table", "44", "priority", "101")
        try Shell.run(["bridge", "-n", ns.name, "fdb", "add", "02:12:34:56:78:9a", "dev", "orq2", "self", "permanent"])
        let planned = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--dry-run", "--format", "json", "--state-dir", state.path, "--min-age", "0"])
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let recreate = try Journal(path: state.path + "/journal.jsonl").read().filter { $0.type == .intent }.flatMap { $0.recreate ?? [] }
        for commands in [recreate.joined(separator: "\n"), planned.stdout] {
            #expect(commands.contains("# its qdiscs tbf 1: root, ingress ffff: are not recreated, nor their classes and filters"), "\(commands)")
            #expect(commands.contains("# policy rule 100 (lookup 44) names this device (iif)"), "\(commands)")
            #expect(commands.contains("# IPv6 policy rule 101 (lookup 44) names this device (oif)"), "\(commands)")
            #expect(commands.contains("# its secondary unicast address 02:12:34:56:78:9a (`bridge fdb add ADDRESS dev orq2 self permanent`) is not recreated"),
                    "\(commands)")
            // The kernel's own multicast entries are not named.
            #expect(!commands.contains("33:33:"), "\(commands)")
        }
    }

    /// Plans the reap of `device` and has a SIGTERM interrupt it once the device is fenced, so
    /// that it is given back.
    static func reapInterrupted(_ device: String, in ns: TestNamespace, state: TemporaryDirectory) throws -> ReapResult? {
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        var plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        plan.items = plan.items.filter { $0.interface.name == device }
        try #require(plan.items.count == 1)
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in if step == "fenced" { raise(SIGTERM) } }
        return try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "oracle").first
    }

    /// Review iproute2 11, F2: a route whose `src` only a `local` route made by hand on the same
    /// tun makes valid (in table local, and both in table 500) comes back, the `local` route added
    /// before it, as the kernel's prefsrc check needs.
    @Test(arguments: ["local", "500"])
    func aSourceMadeLocalByHandComesBack(localTable: String) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "orq4", "mode", "tun")
        try ns.ip("link", "set", "orq4", "up")
        try ns.ip("addr", "add", "10.8.0.2/24", "dev", "orq4")
        try ns.ip("route", "add", "local", "203.0.113.99", "dev", "orq4", "table", localTable)
        try ns.ip("route", "add", "198.51.100.44", "dev", "orq4", "src", "203.0.113.99", "table", localTable == "local" ? "main" : localTable)
        let before = try Self.view(ns, "orq4")
        #expect(before.contains { $0.contains("dst=198.51.100.44") && $0.contains("prefsrc=203.0.113.99") }, "\(before)")

        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let intents = try Journal(path: state.path + "/journal.jsonl").read().filter { $0.type == .intent }
        let commands = intents.flatMap { $0.recreate ?? [] }
        let local = try #require(commands.firstIndex { $0.contains("route add local 203.0.113.99/32") }, "\(commands)")
        let sourced = try #require(commands.firstIndex { $0.contains("198.51.100.44/32") }, "\(commands)")
        #expect(local < sourced, "\(commands)")
        try TestNamespace.replayFromElsewhere(commands)
        let after = try Self.view(ns, "orq4")
        #expect(after == before, "gone: \(Set(before).subtracting(after)), new: \(Set(after).subtracting(before))")
    }
}

/// The give-backs above raise SIGTERM, which every reap of the process sees: they run among the
/// reaper's safety tests, one at a time, as the others that raise it do.
extension ReaperSafetyTests {
    /// A multi-queue tap given back after its fence has its managed neighbour entries again (going
    /// down flushed them), and its result says so.
    @Test func aMultiQueueTapGivenBackKeepsItsManagedEntries() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "orq1", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "orq1", "up")
        try ns.ip("addr", "add", "10.111.0.1/24", "dev", "orq1")
        try ns.ip("neigh", "add", "10.111.0.50", "lladdr", "02:aa:00:00:00:50", "nud", "permanent", "dev", "orq1")
        try ns.ip("neigh", "add", "10.111.0.55", "dev", "orq1", "managed")
        try ns.ip("-6", "neigh", "add", "2001:db8::55", "dev", "orq1", "managed")
        let before = try RecreateOracleKernelTests.view(ns, "orq1")
        let outcome = try RecreateOracleKernelTests.reapInterrupted("orq1", in: ns, state: state)
        #expect(outcome?.outcome == .skipped, "\(String(describing: outcome))")
        #expect(outcome?.detail?.contains("3 neighbour entries made by hand are as they were") == true, "\(String(describing: outcome))")
        #expect(try RecreateOracleKernelTests.view(ns, "orq1") == before)
    }

    /// A multi-queue tap given back whose hop of an IPv6 multipath route shared with a live veth
    /// stays marked dead (going down marked it, coming up without carrier does not clear it) says
    /// so, rather than that its routes are as they were.
    @Test func aSharedHopLeftDeadIsNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("link", "add", "orqa", "type", "veth", "peer", "name", "orqb")
        try ns.ip("link", "set", "orqa", "up")
        try ns.ip("link", "set", "orqb", "up")
        try ns.ip("addr", "add", "2001:db8::1/64", "dev", "orqa", "nodad")
        try ns.ip("tuntap", "add", "dev", "orq3", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "orq3", "up")
        try ns.ip("addr", "add", "2001:db8:81::1/64", "dev", "orq3", "nodad")
        for _ in 0..<150 where try !ns.ip("link", "show", "orqa").contains("LOWER_UP") { usleep(20_000) }
        try ns.ip("-6", "route", "add", "2001:db8:90::/48", "metric", "7", "nexthop", "via", "2001:db8:81::5", "dev", "orq3", "weight", "2",
                  "nexthop", "via", "2001:db8::5", "dev", "orqa", "weight", "3")
        #expect(try !ns.ip("-6", "route", "show", "2001:db8:90::/48").contains("dead"))
        let outcome = try RecreateOracleKernelTests.reapInterrupted("orq3", in: ns, state: state)
        #expect(outcome?.outcome == .failed, "\(String(describing: outcome))")
        #expect(outcome?.detail?.contains("which it shares with other devices, has its next hop through it marked dead") == true, "\(String(describing: outcome))")
    }
}
#endif
