import Foundation
import Testing
import TunwardenCore

/// Observations belong to one incarnation of a namespace in one boot.
@Suite struct NamespaceIdentityTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func anIdentityIsTheCookieWhereThereIsOneAndTheBoot() {
        #expect(NamespaceIdentity.linux(cookie: 4103, inode: 4_026_532_174, bootID: "400ef8c3") == "netns-cookie:4103@boot:400ef8c3")
        #expect(NamespaceIdentity.linux(cookie: nil, inode: 4_026_532_174, bootID: "400ef8c3") == "net:[4026532174]@boot:400ef8c3")
        #expect(NamespaceIdentity.bootID(of: "netns-cookie:4103@boot:400ef8c3") == "400ef8c3")
        #expect(NamespaceIdentity.bootID(of: "net:[4026532174]") == nil)
        #expect(NamespaceIdentity.isLinux("net:[4026532174]"))
        #expect(!NamespaceIdentity.isLinux("darwin"))
        #expect(!NamespaceIdentity.isLinux("capture:/tmp/snap"))
    }

    /// After a reboot the kernel's cookies start over, and a namespace can have the same cookie,
    /// inode, device index and device name as one before: only the boot id tells them apart.
    @Test func observationsFromAnotherBootDoNotCarryOver() {
        let device = Build.tun(2, "kure0")
        let assessment = Heuristics.assess(Build.snapshot([device]))
        let lastBoot = NamespaceIdentity.linux(cookie: 1, inode: 4_026_531_840, bootID: "aaaa")
        let thisBoot = NamespaceIdentity.linux(cookie: 1, inode: 4_026_531_840, bootID: "bbbb")
        let policy = ReapPolicy(minimumAge: 60)
        var observations = Observations()
        observations.record(assessment, namespace: lastBoot, at: t0)
        // Within one boot an hour of orphanhood passes a minute's grace.
        #expect(ReapPlan.make(assessment, observations: observations, namespaceKey: lastBoot, policy: policy, now: t0 + 3600).items.map(\.interface.name) == ["kure0"])

        observations.record(assessment, namespace: thisBoot, at: t0 + 3600)
        #expect(observations.observation(of: device, in: thisBoot)?.orphanedSince == t0 + 3600)
        #expect(observations.observation(of: device, in: thisBoot)?.firstSeen == t0 + 3600)
        #expect(ReapPlan.make(assessment, observations: observations, namespaceKey: thisBoot, policy: policy, now: t0 + 3600).items.isEmpty)
        #expect(observations.namespaces[lastBoot] == nil)
    }

    /// Namespaces of another boot, and state files' identities from before boots were part of
    /// them, are gone for good; other namespaces of this boot, Macs and captures are kept.
    @Test func recordingForgetsOnlyLinuxNamespacesOfOtherBoots() {
        let device = Build.tun(2, "kure0")
        let assessment = Heuristics.assess(Build.snapshot([device]))
        let here = NamespaceIdentity.linux(cookie: 7, inode: 4_026_532_174, bootID: "bbbb")
        let kept = ["darwin", "capture:/tmp/snap", NamespaceIdentity.linux(cookie: 9, inode: 4_026_532_180, bootID: "bbbb")]
        let forgotten = ["net:[4026531840]", NamespaceIdentity.linux(cookie: 7, inode: 4_026_532_174, bootID: "aaaa"),
                         NamespaceIdentity.linux(cookie: nil, inode: 4_026_532_175, bootID: "aaaa")]
        var observations = Observations()
        for key in kept + forgotten {
            observations.record(assessment, namespace: "net:[1]", at: t0)
            observations.namespaces[key] = observations.namespaces.removeValue(forKey: "net:[1]")
            observations.histories[key] = observations.histories.removeValue(forKey: "net:[1]")
        }
        observations.record(assessment, namespace: here, at: t0 + 60)
        #expect(Set(observations.namespaces.keys) == Set(kept + [here]))
        #expect(Set(observations.histories.keys) == Set(kept + [here]))
    }
}
