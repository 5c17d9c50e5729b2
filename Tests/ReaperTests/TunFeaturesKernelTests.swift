#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// The single-queue fence's attach against the real kernel, as root, in a throwaway namespace:
/// the kernel sets an existing device's TUN_FEATURES to the attacher's, so the attach gives the
/// device's own, and a device given back keeps the flags it was made with.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct TunFeaturesKernelTests {
    func tunFlags(_ ns: TestNamespace, _ device: String) throws -> String {
        try Shell.run(["ip", "netns", "exec", ns.name, "cat", "/sys/class/net/\(device)/tun_flags"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Round 49's F2: a tap made `one_queue`, fenced, then kept at the last look (an alternative
    /// name a protect pattern matches, given after the plan) and given back, still has
    /// IFF_ONE_QUEUE (tun_flags 0x3802). Until round 49 the attach took it off (0x1802).
    @Test func aDeviceGivenBackKeepsItsTunFlags() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "k2oq0", "mode", "tap", "one_queue")
        let before = try tunFlags(ns, "k2oq0")
        #expect(before == "0x3802")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0, protect: ["keep*"]), now: Date())
        try #require(plan.items.map(\.ifname) == ["k2oq0"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            _ = try? ns.ip("link", "property", "add", "dev", "k2oq0", "altname", "keep-k2oq0")
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "features")
        #expect(results.map(\.outcome) == [.skipped], "\(results)")
        #expect(try tunFlags(ns, "k2oq0") == before)
    }

    /// The features read for the attach are the device's own, found by ifindex in the namespace
    /// asked (here, one that is not this process's), and a device whose ifindex there differs is
    /// left out.
    @Test func theFeaturesAreReadInTheDevicesNamespace() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "k2np0", "mode", "tun", "one_queue")
        let index = try #require(try LinuxInventory(namespaceName: ns.name).snapshot().interfaces.first { $0.name == "k2np0" }?.index)
        let fd = open("/run/netns/\(ns.name)", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        let read = TunFeatureFlags.read(of: [(Int32(index), Array("k2np0".utf8)), (Int32(index + 7), Array("lo".utf8))], namespaceFD: fd)
        #expect(read == [Int32(index): 0x3000], "\(read)")
    }
}
#endif
