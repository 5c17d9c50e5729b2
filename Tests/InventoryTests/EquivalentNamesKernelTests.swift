#if os(Linux)
import Foundation
import Inventory
import Testing
import TestSupport
import TunwardenCore

/// Names the kernel keeps apart but Swift compares as equal (canonically equivalent text), against
/// the real kernel, as root, in a throwaway namespace: a held tap and an orphaned one whose names
/// are `é` precomposed and `e` with a combining acute are two interfaces, the holder counted for
/// its own alone, and only the orphan is planned.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct EquivalentNamesKernelTests {
    @Test func aHolderOfOneOfTwoEquivalentNamesHoldsThatOneAlone() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let composed = "eq\u{e9}", decomposed = "eqe\u{301}"
        try ns.ip("tuntap", "add", "dev", composed, "mode", "tap")
        try ns.ip("tuntap", "add", "dev", decomposed, "mode", "tap")
        try ns.hold(decomposed, mode: "tap")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let assessment = Heuristics.assess(snapshot)
        let byBytes = Dictionary(uniqueKeysWithValues: assessment.interfaces.map { (InterfaceName.kernelBytes($0.interface.name), $0) })
        let held = try #require(byBytes[Array(decomposed.utf8)]), orphan = try #require(byBytes[Array(composed.utf8)])
        #expect(held.state == .live && !held.holders.isEmpty, "\(held)")
        #expect(orphan.state == .orphaned && orphan.holders.isEmpty, "\(orphan)")
        #expect(held.interface.name != orphan.interface.name)
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(plan.items.map { InterfaceName.kernelBytes($0.ifname) } == [Array(composed.utf8)], "\(plan.items.map(\.ifname))")
    }
}
#endif
