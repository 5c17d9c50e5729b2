#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// The fence of a single-queue tun/tap against the real kernel, as root, in throwaway namespaces:
/// its attach turns the carrier on, which makes live the routes the kernel passes by while the
/// device has none (`ignore_routes_with_linkdown`, set only inside the test's namespace). Such a
/// device is left alone by the plan, by the reaper's re-verification and by its look right before
/// the attach, each saying why; the routes stay passed by throughout.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct CarrierFenceKernelTests {
    func sysctl(_ ns: TestNamespace, _ settings: String...) throws {
        try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw"] + settings)
    }

    func linkNames(_ ns: TestNamespace) throws -> Set<String> {
        let json = try ns.ip("-j", "link", "show")
        let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return Set(links.compactMap { $0["ifname"] as? String })
    }

    /// An uplink veth into a second namespace with a default route, so that the routes into the
    /// orphans have something else to pass to.
    func uplink(_ ns: TestNamespace, _ peer: TestNamespace, _ name: String) throws {
        try ns.ip("link", "add", name, "type", "veth", "peer", "name", name + "p", "netns", peer.name)
        try ns.ip("addr", "add", "192.0.2.1/24", "dev", name)
        try ns.ip("link", "set", name, "up")
        try peer.ip("link", "set", name + "p", "up")
        try ns.ip("route", "add", "default", "via", "192.0.2.2")
    }

    /// Dry run, JSON and real run: a tap and a tun (IPv4 route, and IPv6 route with IPv6's
    /// setting on the device alone) are left out with the routes named; a tap up with no route
    /// and a multi-queue tun with one (fenced without an attach) are reaped; the routes of the
    /// ones left stay passed by, and their carrier stays off.
    @Test func aDeviceWhoseFenceWouldWakeRoutesIsLeftOutOfThePlan() throws {
        let ns = try TestNamespace(), peer = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); peer.remove(); state.remove() }
        try uplink(ns, peer, "k45aup")
        try sysctl(ns, "net.ipv4.conf.all.ignore_routes_with_linkdown=1")
        for (name, mode) in [("k45a0", "tap"), ("k45a1", "tap"), ("k45a3", "tun")] {
            try ns.ip("tuntap", "add", "dev", name, "mode", mode)
        }
        try ns.ip("tuntap", "add", "dev", "k45a2", "mode", "tun", "multi_queue")
        try sysctl(ns, "net.ipv6.conf.k45a3.ignore_routes_with_linkdown=1")
        for name in ["k45a0", "k45a1", "k45a2", "k45a3"] { try ns.ip("link", "set", name, "up") }
        try ns.ip("route", "add", "10.99.0.0/16", "dev", "k45a0")
        try ns.ip("route", "add", "10.98.0.0/16", "dev", "k45a2")
        try ns.ip("-6", "route", "add", "2001:db8:45::/64", "dev", "k45a3")
        #expect(try ns.ip("route", "get", "10.99.0.5").contains("dev k45aup"))

        let dry = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("Left k45a0 alone: the kernel passes by its route 10.99.0.0/16 only because it has no carrier"), "\(dry.stdout)")
        #expect(dry.stdout.contains("Left k45a3 alone: the kernel passes by its route 2001:db8:45::/64"), "\(dry.stdout)")
        #expect(dry.stdout.contains("Would delete tap k45a1") && dry.stdout.contains("Would delete tun k45a2"), "\(dry.stdout)")
        let json = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0",
                                      "--dry-run", "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let excluded = (report["excluded"] as? [[String: Any]] ?? []).filter { $0["reason"] as? String == "carrier-would-wake-routes" }
        let woken = Dictionary(uniqueKeysWithValues: excluded.compactMap { entry in
            (entry["ifname"] as? String).map { ($0, entry["routes"] as? [String] ?? []) }
        })
        #expect(woken == ["k45a0": ["10.99.0.0/16"], "k45a3": ["2001:db8:45::/64"]], "\(json.stdout)")
        #expect(Set((report["plan"] as? [[String: Any]] ?? []).compactMap { $0["ifname"] as? String }) == ["k45a1", "k45a2"], "\(json.stdout)")
        // The audit tags as reapable those the plan takes, and only those (review ip48 F4).
        let findings = try ns.auditReport()["findings"] as? [[String: Any]] ?? []
        let tagged = Dictionary(findings.filter { $0["id"] as? String == "orphaned-tun" }.compactMap { finding in
            (finding["ifname"] as? String).map { ($0, finding["reapable"] as? Bool) }
        }, uniquingKeysWith: { first, _ in first })
        #expect(tagged == ["k45a0": false, "k45a1": true, "k45a2": true, "k45a3": false], "\(findings)")

        let real = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(real.status == 0, "\(real.stdout)\n\(real.stderr)")
        #expect(try linkNames(ns) == ["lo", "k45aup", "k45a0", "k45a3"], "\(real.stdout)")
        #expect(try ns.ip("route", "get", "10.99.0.5").contains("dev k45aup"))
        #expect(try ns.ip("link", "show", "dev", "k45a0").contains("NO-CARRIER"))
        #expect(try !ns.ip("link", "show", "dev", "k45a0").contains("altname"))
    }

    /// The setting made after the plan (at re-verification, and right before the fence) leaves
    /// the device unfenced, its result skipped with why, journaled as such; so does a device down
    /// when planned (it then had no route) that is set up, given the route and the setting
    /// right before the fence.
    @Test(arguments: ["planned", "reverified", "broughtUp"])
    func aSettingMadeSinceThePlanKeepsTheFenceOff(step: String) throws {
        let ns = try TestNamespace(), peer = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); peer.remove(); state.remove() }
        let (device, beside) = ["planned": ("k45a4", "k45a5"), "reverified": ("k45a6", "k45a7")][step] ?? ("k45a8", "k45a9")
        try uplink(ns, peer, "k45aup")
        try ns.ip("tuntap", "add", "dev", device, "mode", "tap")
        try ns.ip("tuntap", "add", "dev", beside, "mode", "tap")
        if step != "broughtUp" {
            try ns.ip("link", "set", device, "up")
            try ns.ip("route", "add", "10.97.0.0/16", "dev", device)
        }
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(Set(plan.items.map(\.ifname)) == [device, beside])
        var reaper = LinuxReaper(namespaceName: ns.name)
        if step == "planned" {
            try sysctl(ns, "net.ipv4.conf.\(device).ignore_routes_with_linkdown=1")
        } else {
            reaper.stepHook = { hook in
                guard hook == "reverified" else { return }
                if step == "broughtUp" {
                    #expect(!plan.items.contains { $0.ifname == device && $0.interface.isUp })
                    try! ns.ip("link", "set", device, "up")
                    try! ns.ip("route", "add", "10.97.0.0/16", "dev", device)
                }
                try! sysctl(ns, "net.ipv4.conf.\(device).ignore_routes_with_linkdown=1")
            }
        }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let results = try reaper.execute(plan, journal: journal, runID: "carrier")
        let outcome = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(outcome[device]?.outcome == .skipped
                && outcome[device]?.detail?.contains("the kernel passes by its route 10.97.0.0/16 only because it has no carrier") == true, "\(results)")
        #expect(outcome[beside]?.outcome == .deleted, "\(results)")
        #expect(try linkNames(ns) == ["lo", "k45aup", device])
        let link = try ns.ip("link", "show", "dev", device)
        #expect(link.contains("NO-CARRIER") && !link.contains("altname") && link.contains("group default"), "\(link)")
        let recorded = try journal.read().filter { $0.type == .result && $0.ifname == device }
        #expect(recorded.count == 1 && recorded.first?.result == .skipped && recorded.first?.detail == outcome[device]?.detail)
    }
}
#endif
