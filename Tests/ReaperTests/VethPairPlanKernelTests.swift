#if os(Linux)
import Foundation
import Inventory
import Testing
import TestSupport
import TunwardenCore

/// A veth pair in a reap plan, against the real kernel, as root, in a throwaway namespace:
/// deleting one veth deletes its peer, so the pair is one unit as a feth pair is (round 49, f1).
/// No rule plans a veth today (the veth findings remove nothing); the plan's pair rule still
/// knows the kernel's pairing, so a veth whose peer is protected could never be planned alone.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct VethPairPlanKernelTests {
    @Test func aProtectedVethsPeerIsNeverPlanned() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("link", "add", "vpp-a", "type", "veth", "peer", "name", "vpp-b")
        try ns.ip("tuntap", "add", "dev", "vpp-tap", "mode", "tap")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let a = try #require(snapshot.interfaces.first { $0.name == "vpp-a" })
        let b = try #require(snapshot.interfaces.first { $0.name == "vpp-b" })
        // The kernel's pairing, as the plan's pair rule reads it: each side's peer, by ifindex.
        #expect(ReapPlan.pairPeer(of: a, among: snapshot.interfaces)?.name == "vpp-b")
        #expect(ReapPlan.pairPeer(of: b, among: snapshot.interfaces)?.name == "vpp-a")
        for protect in [["vpp-a"], ["vpp-b"], []] {
            let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                     policy: ReapPolicy(minimumAge: 0, protect: protect), now: Date())
            #expect(plan.items.map(\.ifname) == ["vpp-tap"], "\(protect): \(plan.items.map(\.ifname))")
        }
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--dry-run", "--no-state", "--min-age", "0", "--protect", "vpp-a"])
        #expect(result.status == 0 && !result.stdout.contains("vpp-b") && result.stdout.contains("vpp-tap"), "\(result.stdout)\(result.stderr)")
    }
}
#endif
