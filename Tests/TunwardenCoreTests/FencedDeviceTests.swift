import Foundation
import Testing
import TunwardenCore

/// A device a Linux reap fenced and was killed on is no orphan: judged as it stands, it would be
/// planned with the fence taken for its own state.
@Suite struct FencedDeviceTests {
    /// A single-queue device keeps its name and gets the fence as an alternative name, then the
    /// fence's link group: with both, or with the alternative name alone (killed before the
    /// group), it is unknown, fenced, and in no plan. An alternative name of another form is the
    /// device's own.
    @Test func aSingleQueueDeviceWithAFenceAlternativeNameIsFenced() {
        var grouped = Build.tun(2, "tap0", kind: .tap)
        grouped.altNames = ["tw3017b8c855f16"]
        grouped.group = 0x5e5f_1f21
        var named = Build.tun(3, "tap1", kind: .tap)
        named.altNames = ["tw00000000000ab"]
        var own = Build.tun(4, "tap2", kind: .tap)
        own.altNames = ["uplink-tap2"]
        let assessment = Heuristics.assess(Build.snapshot([grouped, named, own]))
        let byName = Dictionary(uniqueKeysWithValues: assessment.interfaces.map { ($0.interface.name, $0) })
        for name in ["tap0", "tap1"] {
            #expect(byName[name]?.state == .unknown, "\(name): \(byName[name]?.reason ?? "-")")
        }
        #expect(byName["tap0"]?.reason.contains("fenced by a reap (its private alternative name tw3017b8c855f16 and link group 1583292193)") == true,
                "\(byName["tap0"]?.reason ?? "-")")
        #expect(byName["tap0"]?.reason.contains("the next `tunwarden reap` or `tunwarden watch --reap` in this namespace with that reap's journal gives it back first") == true)
        #expect(byName["tap2"]?.state == .orphaned)
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: "netns-cookie:1@boot:b", policy: ReapPolicy(minimumAge: 0),
                                 now: Date())
        #expect(plan.items.map(\.ifname) == ["tap2"])
    }
}
