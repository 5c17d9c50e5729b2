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

/// The order of the reaper's last look against the real kernel, as root, each test in its own
/// throwaway namespace: what is done to a target while the checks that grow with the host read
/// (tc actions, nftables and iptables rules, forwarding entries, addresses and routes) is seen by
/// the look at the links that follows them, right before the deletion.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct LastLookOrderKernelTests {
    func linkNames(_ ns: TestNamespace) throws -> Set<String> {
        let json = try ns.ip("-j", "link", "show")
        let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return Set(links.compactMap { $0["ifname"] as? String })
    }

    /// Two orphan taps, lk46t0 and lk46t1, a bridge and a veth pair with an address, and the
    /// plan a reap with no grace period makes of them (the two taps).
    func setUp(_ ns: TestNamespace) throws -> ReapPlan {
        for device in ["lk46t0", "lk46t1"] { try ns.ip("tuntap", "add", "dev", device, "mode", "tap") }
        try ns.ip("link", "add", "lk46br", "type", "bridge")
        try ns.ip("link", "add", "lk46va", "type", "veth", "peer", "name", "lk46vb")
        for device in ["lk46br", "lk46va", "lk46vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "192.0.2.1/24", "dev", "lk46va")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        return ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                             policy: ReapPolicy(minimumAge: 0), now: Date())
    }

    /// lk46t0 made a port of the bridge (what a VM start script does before qemu opens the tap),
    /// given a macvlan, or given an address that a route of another device then takes as source,
    /// while the last look reads the nftables rules (a check before the addresses, the routes and
    /// the links) or, for the first two, between those checks and the look at the links: lk46t0
    /// is kept, with what was done to it, and lk46t1 is deleted. With the links looked at first,
    /// as until round 46, a tap so changed during the checks was deleted.
    @Test(arguments: [("master", "forwards"), ("macvlan", "forwards"), ("route", "forwards"), ("master", "dependents-read"), ("macvlan", "dependents-read")])
    func aTapChangedDuringTheSlowChecksIsKept(action: String, when: String) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let plan = try setUp(ns)
        #expect(Set(plan.items.map(\.ifname)) == ["lk46t0", "lk46t1"])
        let act = {
            switch action {
            case "master": _ = try? ns.ip("link", "set", "lk46t0", "master", "lk46br")
            case "macvlan": _ = try? ns.ip("link", "add", "link", "lk46t0", "name", "lk46mv", "type", "macvlan")
            default:
                _ = try? ns.ip("addr", "add", "10.46.0.1/32", "dev", "lk46t0")
                _ = try? ns.ip("route", "add", "198.51.100.0/24", "via", "192.0.2.2", "dev", "lk46va", "src", "10.46.0.1", "table", "100")
            }
        }
        var reaper = LinuxReaper(namespaceName: ns.name)
        let acted = Locked(false)
        let acting = { if !acted.value { acted.mutate { $0 = true }; act() } }
        if when == "forwards" {
            reaper.system.forwards = { fd in
                acting()
                return XtablesForwards.withNftables(namespaceFD: fd)
            }
        } else {
            reaper.stepHook = { if $0 == when { acting() } }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "order")
        #expect(acted.value)
        let outcome = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        let why = ["master": "it became a port of ifindex", "macvlan": "lk46mv now sits on it", "route": "(198.51.100.0/24 table 100) takes its address 10.46.0.1 as source"][action]!
        #expect(outcome["lk46t0"]?.outcome == .skipped && outcome["lk46t0"]?.detail?.contains(why) == true, "\(results)")
        #expect(outcome["lk46t1"]?.outcome == .deleted, "\(results)")
        let left = try linkNames(ns)
        #expect(left.contains("lk46t0") && !left.contains("lk46t1"), "\(left)")
        if action == "master" { #expect(try ns.ip("-br", "link", "show", "master", "lk46br").contains("lk46t0")) }
        if action == "macvlan" { #expect(left.contains("lk46mv"), "\(left)") }
        if action == "route" { #expect(try ns.ip("route", "show", "table", "100").contains("src 10.46.0.1")) }
        // Given back: out of the fence's group.
        #expect(try ns.ip("-d", "link", "show", "lk46t0").contains("group default"))
    }
}
#endif
