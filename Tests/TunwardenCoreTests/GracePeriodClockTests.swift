import Foundation
import Testing
import TunwardenCore

/// The grace period before an orphan is reaped (`--min-age`) counts time that really passed in
/// this boot, on the boot clock each snapshot carries; the wall clock, which NTP's first sync, a
/// resumed virtual machine or `date -s` step by hours, only dates what is shown. Every clock
/// reading here is injected: nothing reads or sets a real clock.
@Suite struct GracePeriodClockTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let identity = "netns-cookie:7@boot:b1"
    static let hour: TimeInterval = 3600

    /// An assessment of `interfaces` (orphaned, since no one holds them) in namespace
    /// `identity`, taken at wall time `wall` when the boot clock read `boot`.
    func assessed(_ interfaces: [NetworkInterface], wall: Date, boot: TimeInterval?, identity: String = identity,
                  holders: [HolderAttachment] = []) -> Assessment {
        var snapshot = Snapshot(platform: .linux, namespaceIdentity: identity, takenAt: wall, interfaces: interfaces, routes: [],
                                holders: HolderScan(complete: true, attachments: holders, processesScanned: 12))
        snapshot.bootClock = boot
        return Heuristics.assess(snapshot)
    }

    /// Records `assessment` as a run does, and plans from it with a grace period of an hour.
    func plan(_ observations: inout Observations, _ assessment: Assessment, identity: String = identity) -> ReapPlan {
        observations.record(assessment, namespace: identity, at: assessment.snapshot.takenAt)
        return ReapPlan.make(assessment, observations: observations, namespaceKey: identity, policy: ReapPolicy(minimumAge: Self.hour),
                             now: assessment.snapshot.takenAt)
    }

    /// Round 42's F9: an orphan first seen, then two seconds later the wall clock steps two
    /// hours forward. Two seconds passed, so it is not reapable; it becomes so in 59m58s from
    /// the wall clock's now, which is what the plan says.
    @Test func aForwardWallClockStepMakesNoOrphanReapableEarly() throws {
        var observations = Observations()
        let orphan = Build.tun(7, "gpc0")
        #expect(plan(&observations, assessed([orphan], wall: t0, boot: 1000)).items.isEmpty)
        let stepped = t0 + 2 * Self.hour + 2
        let later = plan(&observations, assessed([orphan], wall: stepped, boot: 1002))
        #expect(later.items.isEmpty, "reaped after 2 s: \(later.items.map(\.ifname))")
        #expect(later.excluded == [ReapExclusion(ifname: "gpc0", reason: .tooYoung(reapableAt: stepped + Self.hour - 2))])
        // Shown on the wall clock: when first seen orphaned, as it was then.
        #expect(observations.observation(of: orphan, in: Self.identity)?.orphanedSince == t0)
        let due = plan(&observations, assessed([orphan], wall: stepped + Self.hour, boot: 1000 + Self.hour))
        #expect(due.items.map(\.ifname) == ["gpc0"] && due.items.first?.orphanedFor == Self.hour)
    }

    /// A backward step delays nothing and dates nothing wrongly: after an hour of boot time the
    /// orphan is due, though the wall clock says less (or even before it was first seen), and the
    /// plan's words give the real time it has been orphaned.
    @Test func aBackwardWallClockStepDelaysNothing() throws {
        var observations = Observations()
        let orphan = Build.tun(7, "gpc1")
        _ = plan(&observations, assessed([orphan], wall: t0, boot: 50))
        let young = plan(&observations, assessed([orphan], wall: t0 - 2 * Self.hour + 600, boot: 650))
        #expect(young.excluded == [ReapExclusion(ifname: "gpc1", reason: .tooYoung(reapableAt: t0 - 2 * Self.hour + Self.hour))])
        let now = t0 - 2 * Self.hour + Self.hour + 1
        let due = plan(&observations, assessed([orphan], wall: now, boot: 50 + Self.hour + 1))
        let item = try #require(due.items.first)
        #expect(item.orphanedFor == Self.hour + 1)
        #expect(ReapPlan.describe(item, now: now, conditional: true).contains("orphaned for 1h"), "\(ReapPlan.describe(item, now: now, conditional: true))")
    }

    /// An orphan recorded before boot-clock readings were kept (a state database migrated from
    /// schema version 1) has only a wall-clock time, which a step may have moved: its age counts
    /// from the next observation, which keeps that time, never from before it.
    @Test func anOrphanWithoutABootReadingCountsFromItsNextObservation() throws {
        let orphan = Build.tun(7, "gpc2")
        var old = InterfaceObservation(ifindex: 7, ifname: "gpc2", kind: .tun, firstSeen: t0 - 72 * Self.hour, lastSeen: t0 - Self.hour,
                                       orphanedSince: t0 - 72 * Self.hour)
        #expect(old.orphanedSinceBoot == nil)
        #expect(old.orphanedAge(at: t0, bootClock: 9000) == 0)
        #expect(old.orphanedAge(at: t0, bootClock: nil) == 72 * Self.hour)
        var observations = Observations()
        observations.namespaces[Self.identity] = [Observations.key(7, "gpc2"): old]
        let first = plan(&observations, assessed([orphan], wall: t0, boot: 9000))
        #expect(first.excluded == [ReapExclusion(ifname: "gpc2", reason: .tooYoung(reapableAt: t0 + Self.hour))])
        old = try #require(observations.observation(of: orphan, in: Self.identity))
        #expect(old.orphanedSince == t0 - 72 * Self.hour && old.orphanedSinceBoot == 9000)
        #expect(plan(&observations, assessed([orphan], wall: t0 + 600, boot: 9600)).items.isEmpty)
        #expect(plan(&observations, assessed([orphan], wall: t0 + Self.hour, boot: 9000 + Self.hour)).items.map(\.ifname) == ["gpc2"])
    }

    /// The boot-clock reading goes with the orphaned run: a device held again loses it, and
    /// counts afresh when orphaned again.
    @Test func aDeviceHeldAgainStartsItsCountAfresh() throws {
        var observations = Observations()
        let orphan = Build.tun(7, "gpc3")
        _ = plan(&observations, assessed([orphan], wall: t0, boot: 100))
        _ = plan(&observations, assessed([orphan], wall: t0 + 60, boot: 160, holders: [Build.holder(3, "gpc3")]))
        let held = try #require(observations.observation(of: orphan, in: Self.identity))
        #expect(held.orphanedSince == nil && held.orphanedSinceBoot == nil)
        let again = plan(&observations, assessed([orphan], wall: t0 + 2 * Self.hour, boot: 100 + 2 * Self.hour))
        #expect(again.items.isEmpty)
        #expect(observations.observation(of: orphan, in: Self.identity)?.orphanedSinceBoot == 100 + 2 * Self.hour)
    }

    /// Where no boot clock can be counted on (a macOS snapshot or a capture has none; an identity
    /// that names no boot could compare two boots' readings), ages stay the wall clock's.
    @Test func withoutABootClockAgesStayTheWallClocks() throws {
        for (identity, boot) in [("darwin", nil), ("capture:/tmp/c", nil), ("net:[4026531840]", 10.0)] as [(String, TimeInterval?)] {
            var observations = Observations()
            let orphan = Build.tun(7, "gpc4")
            _ = plan(&observations, assessed([orphan], wall: t0, boot: boot, identity: identity), identity: identity)
            #expect(observations.observation(of: orphan, in: identity)?.orphanedSinceBoot == nil, "\(identity)")
            let due = plan(&observations, assessed([orphan], wall: t0 + Self.hour, boot: boot.map { $0 + 1 }, identity: identity), identity: identity)
            #expect(due.items.map(\.ifname) == ["gpc4"], "\(identity)")
        }
    }

    /// The boot-clock reading is kept in the state database alone: an observation's JSON (the
    /// old state file's format) has the keys it always had.
    @Test func theBootReadingIsInNoJSON() throws {
        var observation = InterfaceObservation(ifindex: 7, ifname: "gpc5", kind: .tun, firstSeen: t0, lastSeen: t0, orphanedSince: t0)
        observation.orphanedSinceBoot = 42
        var json = JSONWriter()
        observation.write(to: &json)
        let text = String(decoding: json.bytes, as: UTF8.self)
        #expect(!text.contains("boot"), "\(text)")
        #expect(text.contains("\"orphaned_since\""))
    }
}
