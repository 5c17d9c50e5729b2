import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A feth pair is one unit in a reap plan (round 49, f1): destroying a feth unpeers its peer
/// (XNU's `feth_clone_destroy` clears the peer of both sides and takes their link down), so a side
/// whose peer is kept, for whatever reason, is kept too and says why, naming the peer. The paste
/// is a Mojave Mac with two orphaned ZeroTier pairs, feth2481/feth7481 and feth248/feth5248, in
/// `Fixtures/darwin-pastes/round49`.
@Suite struct FethPairPlanTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round49/\(name)") }

    static func plan(_ assessment: Assessment, policy: ReapPolicy, observations: Observations = Observations(), now: Date = Date()) -> ReapPlan {
        ReapPlan.make(assessment, observations: observations, namespaceKey: assessment.snapshot.namespaceIdentity, policy: policy, now: now)
    }

    /// The reason the plan gives for leaving `name` out, which must be there.
    static func exclusion(_ plan: ReapPlan, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ReapExclusion.Reason {
        try #require(plan.excluded.first { $0.ifname == name }, "\(plan.excluded)", sourceLocation: sourceLocation).reason
    }

    /// Unprotected, both pairs are planned whole.
    @Test func bothOrphanedPairsArePlannedWhole() throws {
        let plan = Self.plan(CapturePasteTests.assess(try Self.fixture("mojave-two-zerotier-pairs.txt")), policy: ReapPolicy(minimumAge: 0))
        #expect(Set(plan.items.map(\.ifname)) == ["feth7481", "feth2481", "feth5248", "feth248"], "\(plan.items.map(\.ifname))")
        #expect(plan.excluded.isEmpty, "\(plan.excluded)")
    }

    /// `--protect feth248` keeps feth5248, its peer, which would otherwise be destroyed and take
    /// feth248's link with it; and the other way round. The other pair is planned as before.
    @Test func protectingOneSideKeepsItsPeer() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("mojave-two-zerotier-pairs.txt"))
        for (protected, peer) in [("feth248", "feth5248"), ("feth5248", "feth248")] {
            let plan = Self.plan(assessment, policy: ReapPolicy(minimumAge: 0, protect: [protected]))
            #expect(Set(plan.items.map(\.ifname)) == ["feth7481", "feth2481"], "\(protected): \(plan.items.map(\.ifname))")
            #expect(try Self.exclusion(plan, protected) == .protected(pattern: protected))
            #expect(try Self.exclusion(plan, peer) == .peerKept(peer: protected, because: .protected(pattern: protected)))
        }
    }

    /// A side still waiting out the grace period keeps its peer, which has waited long enough,
    /// until both have; the peer's exclusion ends when its own does.
    @Test func aYoungSideKeepsItsPeerUntilItComesOfAge() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("mojave-two-zerotier-pairs.txt"))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var observations = Observations()
        let key = assessment.snapshot.namespaceIdentity
        observations.record(assessment, namespace: key, at: start)
        let old = try #require(assessment.snapshot.interfaces.first { $0.name == "feth5248" })
        observations.namespaces[key]?[Observations.key(old.index, old.name)]?.orphanedSince = start.addingTimeInterval(-3600)
        let plan = Self.plan(assessment, policy: ReapPolicy(minimumAge: 15 * 60), observations: observations, now: start.addingTimeInterval(60))
        #expect(plan.items.isEmpty, "\(plan.items.map(\.ifname))")
        let due = start.addingTimeInterval(15 * 60)
        #expect(try Self.exclusion(plan, "feth248") == .tooYoung(reapableAt: due))
        let kept = try Self.exclusion(plan, "feth5248")
        #expect(kept == .peerKept(peer: "feth248", because: .tooYoung(reapableAt: due)))
        #expect(kept.reapableAt == due)
    }

    /// A side the repair of a killed reap gave back damaged keeps its peer out of the same run.
    @Test func aSideLeftOutAfterARepairKeepsItsPeer() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("mojave-two-zerotier-pairs.txt"))
        var plan = Self.plan(assessment, policy: ReapPolicy(minimumAge: 0))
        let damaged = try #require(assessment.snapshot.interfaces.first { $0.name == "feth2481" })
        plan.leaveOut(repairFailed: [damaged.index], interfaces: assessment.snapshot.interfaces)
        #expect(Set(plan.items.map(\.ifname)) == ["feth5248", "feth248"], "\(plan.items.map(\.ifname))")
        #expect(try Self.exclusion(plan, "feth7481") == .peerKept(peer: "feth2481", because: .repairFailed))
    }

    /// A feth whose peer the capture does not list loses nothing by being destroyed: it is
    /// planned alone, as before.
    @Test func aFethWhosePeerIsNotListedIsPlannedAlone() throws {
        let text = try Self.fixture("mojave-two-zerotier-pairs.txt")
        let start = try #require(text.range(of: "feth5248: flags="))
        let end = try #require(text.range(of: "feth248: flags="))
        let assessment = CapturePasteTests.assess(text.replacingCharacters(in: start.lowerBound..<end.lowerBound, with: ""))
        let plan = Self.plan(assessment, policy: ReapPolicy(minimumAge: 0))
        #expect(plan.items.map(\.ifname).contains("feth248"), "\(plan.items.map(\.ifname)) \(plan.excluded)")
    }
}
