#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// What a skip says of a planned device that left the namespace after the plan (Linux 52 F3),
/// against the real kernel in throwaway namespaces: where it went is said to hold it only when a
/// look there finds it, and a device that looks like it back at its ifindex is not called a
/// newcomer the plan never showed.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct MovedOutAndBackKernelTests {
    func plan(_ ns: TestNamespace) throws -> ReapPlan {
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        return ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                             policy: ReapPolicy(minimumAge: 0), now: Date())
    }

    /// Moved to another namespace and straight back while the reap waits: skipped, and said to
    /// have left and come back, not to live on in the namespace it left for.
    @Test func aTapMovedOutAndBackIsSaidToHaveComeBack() throws {
        let a = try TestNamespace(), x = try TestNamespace(), state = try TemporaryDirectory()
        defer { a.remove(); x.remove(); state.remove() }
        try a.ip("tuntap", "add", "dev", "twf3b", "mode", "tap")
        try a.ip("link", "set", "dev", "twf3b", "address", "02:52:f3:00:00:0b")
        let reaper = LinuxReaper(namespaceName: a.name)
        let watch = try #require(reaper.watchLinks())
        let plan = try plan(a)
        try #require(plan.items.map(\.ifname) == ["twf3b"])
        try a.ip("link", "set", "dev", "twf3b", "netns", x.name)
        try x.ip("link", "set", "dev", "twf3b", "netns", a.name)
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "back", linkWatch: watch)
        let result = try #require(results.first)
        #expect(result.outcome == .skipped, "\(results)")
        let detail = result.detail ?? ""
        #expect(detail.contains("left since the plan was made: the planned tap moved to network namespace '\(x.name)'"), "\(detail)")
        #expect(detail.contains("that looks like it (the same hardware address, 02:52:f3:00:00:0b, counters no lower) is back at ifindex"), "\(detail)")
        #expect(!detail.contains("lives on") && !detail.contains("never showed"), "\(detail)")
        #expect(try a.ip("link", "show", "dev", "twf3b").contains("02:52:f3:00:00:0b"))
    }

    /// Moved out, then on from there: where it first went is not said to hold it.
    @Test func aTapMovedOnFromWhereItWentIsNotPlacedThere() throws {
        let a = try TestNamespace(), x = try TestNamespace(), y = try TestNamespace(), state = try TemporaryDirectory()
        defer { a.remove(); x.remove(); y.remove(); state.remove() }
        try a.ip("tuntap", "add", "dev", "twf3m", "mode", "tap")
        let reaper = LinuxReaper(namespaceName: a.name)
        let watch = try #require(reaper.watchLinks())
        let plan = try plan(a)
        try #require(plan.items.map(\.ifname) == ["twf3m"])
        try a.ip("link", "set", "dev", "twf3m", "netns", x.name)
        try x.ip("link", "set", "dev", "twf3m", "netns", y.name)
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "on", linkWatch: watch)
        let result = try #require(results.first)
        #expect(result.outcome == .skipped, "\(results)")
        let detail = result.detail ?? ""
        #expect(detail.contains("moved since to another network namespace, and is no longer at the ifindex it had there"), "\(detail)")
        #expect(!detail.contains("lives on") && !detail.contains(x.name), "\(detail)")
    }
}
#endif
