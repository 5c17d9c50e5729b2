import Foundation
import Testing
import TunwardenCore

/// A device a Linux reap fenced and was killed on is no orphan: judged as it stands, it would be
/// planned with the fence taken for its own state.
@Suite struct FencedDeviceTests {
    /// A single-queue device keeps its name and gets the fence as an alternative name, then the
    /// fence's link group: with both it is unknown, fenced, and in no plan. With the alternative
    /// name alone (a reap killed before the group, or a name anyone may give) it is judged as
    /// any, but in no plan either. An alternative name of another form is the device's own.
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
        #expect(byName["tap0"]?.state == .unknown, "\(byName["tap0"]?.reason ?? "-")")
        #expect(byName["tap1"]?.state == .orphaned, "\(byName["tap1"]?.reason ?? "-")")
        let lookalike = assessment.findings.first { $0.ifname == "tap1" && $0.id == FindingID.orphanedTun }
        #expect(lookalike?.reapable == false)
        #expect(lookalike?.evidence.contains("while its alternative name tw00000000000ab has the form of a reap's private name") == true, "\(lookalike?.evidence ?? "-")")
        #expect(byName["tap0"]?.reason.contains("fenced by a reap (its private alternative name tw3017b8c855f16 and link group 1583292193)") == true,
                "\(byName["tap0"]?.reason ?? "-")")
        #expect(byName["tap0"]?.reason.contains("the next `tunwarden reap` or `tunwarden watch --reap` in this namespace with that reap's journal gives it back first") == true)
        #expect(byName["tap2"]?.state == .orphaned)
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: "netns-cookie:1@boot:b", policy: ReapPolicy(minimumAge: 0),
                                 now: Date())
        #expect(plan.items.map(\.ifname) == ["tap2"])
    }

    /// Where a reap found no intent left to give a fenced device back from, its words promise
    /// nothing: they name the journal and its newest rotation, and how to reach an older one.
    /// A device that bears no fence has none of these words.
    @Test func aFenceNoIntentClaimsSaysWhereToLook() {
        var fenced = Build.tun(2, "tw00000000000c5", kind: .tap, multiQueue: true)
        fenced.group = 0x1234_56c5
        let words = Heuristics.unclaimedFence(fenced, journal: "/var/lib/tunwarden/journal.jsonl")
        #expect(words?.hasPrefix("fenced by a reap (its private name and link group \(0x1234_56c5)), and no intent record without a result in "
            + "/var/lib/tunwarden/journal.jsonl or /var/lib/tunwarden/journal.jsonl.1 names it, so no reap gives it back by itself") == true, "\(words ?? "-")")
        #expect(words?.contains("`tunwarden reap --journal /var/lib/tunwarden/journal.jsonl.N` does (`gunzip -k /var/lib/tunwarden/journal.jsonl.N.gz` first)") == true)
        #expect(words?.contains("gives it back first") == false)
        #expect(Heuristics.unclaimedFence(Build.tun(3, "tap3", kind: .tap), journal: "/j") == nil)
    }

    /// A device named as a reap names a multi-queue device it fences, but in no fence group (a
    /// reap killed between the two, or a device anyone named so), is judged as any: orphaned
    /// when nobody holds it, so an audit does not stay unknown for good, but never planned, in
    /// case a reap whose journal this run did not read fenced it. In the fence group it is fenced.
    @Test func aDeviceOnlyNamedLikeAFenceIsJudgedButNeverPlanned() {
        let multiQueue = Build.tun(5, "tw0123456789abc", kind: .tap, multiQueue: true, queues: 0, disabled: 0)
        var fenced = Build.tun(6, "tw0123456789abd", kind: .tap, multiQueue: true, queues: 0, disabled: 0)
        fenced.group = 0x0100_0000
        let single = Build.tun(7, "twfedcba9876543", kind: .tap)
        let assessment = Heuristics.assess(Build.snapshot([multiQueue, fenced, single]))
        let byName = Dictionary(uniqueKeysWithValues: assessment.interfaces.map { ($0.interface.name, $0) })
        #expect(byName["tw0123456789abc"]?.state == .orphaned, "\(byName["tw0123456789abc"]?.reason ?? "-")")
        #expect(byName["twfedcba9876543"]?.state == .orphaned)
        #expect(byName["tw0123456789abd"]?.state == .unknown)
        #expect(assessment.status != .unknown)
        #expect(assessment.findings.filter { $0.id == FindingID.orphanedTun }.allSatisfy { !$0.reapable }, "\(assessment.findings)")
        #expect(assessment.findings.first { $0.ifname == "tw0123456789abc" }?.evidence.contains("while its name has the form of a reap's private name") == true)
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: "netns-cookie:1@boot:b", policy: ReapPolicy(minimumAge: 0),
                                 now: Date())
        #expect(plan.items.isEmpty)
    }
}
