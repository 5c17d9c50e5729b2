#if os(Linux)
import Foundation
import Glibc
@testable import Inventory
import Testing
import TestSupport
@testable import TunwardenCommands
import TunwardenCore

/// The watcher follows vxlan forwarding entries that send through a tap (`bridge fdb add … via
/// tap0`) as they change, on the real kernel in throwaway namespaces: the tap is suspect while
/// an entry sends through it and an orphan again once none does, without waiting for an
/// unrelated change; the neighbour churn of ARP and NDP wakes it for nothing.
@Suite(.enabled(if: TestNamespace.available && Shell.which("bridge") != nil, "needs root, /dev/net/tun, ip, bridge and python3"))
struct WatchForwardingTests {
    /// Makes a vxlan in `ns`; false (said on standard error) where the kernel has no vxlan driver.
    static func vxlan(_ ns: TestNamespace, _ name: String, id: Int, test: String = #function) throws -> Bool {
        let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", name, "type", "vxlan", "id", "\(id)", "dstport", "\(4789 + id)",
                                      "local", "127.0.0.1"])
        if made.status != 0 { FileHandle.standardError.write(Data("\(test): no vxlan driver here; untested\n".utf8)) }
        return made.status == 0
    }

    /// Runs `bridge -n NAMESPACE fdb ARGUMENTS…` and fails on a non-zero exit.
    static func fdb(_ ns: TestNamespace, _ arguments: String...) throws {
        let result = try Shell.capture(["bridge", "-n", ns.name, "fdb"] + arguments)
        try #require(result.status == 0, "bridge fdb \(arguments): \(result.stderr)")
    }

    /// The state the metrics give the namespace's one tap.
    static func tapState(_ metrics: String) -> String? {
        let text = (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix("tunwarden_interfaces{kind=\"tap\",") && $0.hasSuffix(" 1") }
            .flatMap { $0.split(separator: "\"").dropFirst(3).first.map(String.init) }
    }

    /// `tunwarden watch`: an entry added via an orphan tap makes it suspect within a couple of
    /// seconds (metrics), and deleting it makes the tap an orphan again, alerted as a new one.
    @Test func anEntryViaAnOrphanTapIsFollowedAsItIsAddedAndDeleted() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wfw0", "mode", "tap")
        guard try Self.vxlan(ns, "wfwx", id: 61) else { return }
        let metrics = state.path + "/w.prom", alerts = state.path + "/alerts"
        // Traffic samples far apart: only the entries' own notifications can tell the watcher.
        // Improvements alerted at once: held, the tap orphaned again within the hold-down would
        // be no new orphan (see WatchFlapTests).
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--textfile", metrics, "--stats-interval", "60s", "--resolve-after", "0",
                                                                      "--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        #expect(try WatchTests.waitForMetrics(metrics, seconds: 3) { _ in Self.tapState(metrics) == "orphaned" }, "\(watcher.log)")
        #expect(WatchTests.newOrphansSent(to: alerts, atLeast: 1) == ["wfw0"])

        try Self.fdb(ns, "add", "00:00:00:00:00:00", "dev", "wfwx", "dst", "192.0.2.1", "via", "wfw0")
        #expect(try WatchTests.waitForMetrics(metrics, seconds: 2) { _ in Self.tapState(metrics) == "suspect" },
                "the watcher still has the tap as \(Self.tapState(metrics) ?? "nothing") with an entry via it: \(watcher.log)")

        try Self.fdb(ns, "del", "00:00:00:00:00:00", "dev", "wfwx", "dst", "192.0.2.1", "via", "wfw0")
        #expect(try WatchTests.waitForMetrics(metrics, seconds: 2) { _ in Self.tapState(metrics) == "orphaned" },
                "the watcher still has the tap as \(Self.tapState(metrics) ?? "nothing") with no entry via it: \(watcher.log)")
        #expect(WatchTests.newOrphansSent(to: alerts, atLeast: 2) == ["wfw0", "wfw0"], "\(watcher.log)")
        #expect(watcher.terminate().status == 0)
    }

    /// What a notification of the neighbour group means, on the events alone (compared with a
    /// fresh inventory each time): ARP churn wakes nothing; an entry via a tap, the same entry
    /// replaced without its device, and a vxlan deleted with its entries each change the verdict.
    @Test func forwardingChangesAreFollowedAndNeighbourChurnWakesNothing() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        for tap in ["wfk0", "wfk1"] { try ns.ip("tuntap", "add", "dev", tap, "mode", "tap") }
        guard try Self.vxlan(ns, "wfkx", id: 62) else { return }
        try ns.ip("link", "add", "wfka", "type", "veth", "peer", "name", "wfkb")
        // No IPv6 link-local addresses, whose arrival (after DAD) would wake the watcher.
        for veth in ["wfka", "wfkb"] {
            try ns.ip("link", "set", veth, "addrgenmode", "none")
            try ns.ip("link", "set", veth, "up")
        }
        try ns.ip("addr", "add", "10.62.0.1/16", "dev", "wfka")
        let watched = try WatchEventKernelTests.Watched(ns)
        #expect(watched.state("wfk0") == .orphaned)

        // 200 neighbours made and changed: none of it reaches the watcher.
        let batch = FileManager.default.temporaryDirectory.appendingPathComponent("tw-neigh-\(getpid())-\(UUID().uuidString).batch").path
        defer { try? FileManager.default.removeItem(atPath: batch) }
        try (0..<400).map { "neigh replace 10.62.1.\($0 % 200 + 1) lladdr 02:00:00:00:\($0 / 200):\(String($0 % 200, radix: 16)) dev wfka nud reachable\n" }
            .joined().write(toFile: batch, atomically: true, encoding: .utf8)
        try ns.ip("-batch", batch)
        var polled = watched.source.descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        #expect(poll(&polled, nfds_t(polled.count), 300) == 0, "ARP changes woke the watcher")

        try Self.fdb(ns, "add", "00:00:00:00:00:00", "dev", "wfkx", "dst", "192.0.2.1", "via", "wfk0")
        try Self.fdb(ns, "add", "02:00:00:00:62:01", "dev", "wfkx", "dst", "192.0.2.2", "via", "wfk1")
        try watched.compare("two entries via taps added")
        #expect(watched.state("wfk0") == .suspect && watched.state("wfk1") == .suspect)

        // Announced without a device: it is the entry that sent through wfk1 that lost it.
        try Self.fdb(ns, "replace", "02:00:00:00:62:01", "dev", "wfkx", "dst", "192.0.2.2")
        try watched.compare("an entry replaced without its device")
        #expect(watched.state("wfk1") == .orphaned)

        try ns.ip("link", "del", "wfkx")
        try watched.compare("the vxlan deleted with its entries")
        #expect(watched.state("wfk0") == .orphaned)
        #expect(watched.resyncs == 0)
        watched.source.close()
    }

    /// A vxlan made here and moved to another namespace keeps sending through this one's tap: the
    /// watcher's holder looks keep what the snapshot found of it, and a vxlan moved away after
    /// the watcher started is looked for where it went.
    @Test func theEntriesOfAVxlanMovedAwayOutliveHolderLooks() throws {
        let ns = try TestNamespace(), other = try TestNamespace()
        defer { ns.remove(); other.remove() }
        for tap in ["wfm0", "wfm1"] { try ns.ip("tuntap", "add", "dev", tap, "mode", "tap") }
        guard try Self.vxlan(ns, "wfmx", id: 63) else { return }
        try Self.fdb(ns, "add", "00:00:00:00:00:00", "dev", "wfmx", "dst", "192.0.2.1", "via", "wfm0")
        try ns.ip("link", "set", "wfmx", "netns", other.name)
        let watched = try WatchEventKernelTests.Watched(ns)
        #expect(watched.state("wfm0") == .suspect)
        // A tap made: its holders are looked for, and what uses devices read again.
        try ns.ip("tuntap", "add", "dev", "wfm2", "mode", "tap")
        try watched.compare("a holder look after the snapshot")
        #expect(watched.state("wfm0") == .suspect)

        guard try Self.vxlan(ns, "wfmy", id: 64) else { return }
        try Self.fdb(ns, "add", "00:00:00:00:00:00", "dev", "wfmy", "dst", "192.0.2.2", "via", "wfm1")
        try watched.catchUp()
        #expect(watched.state("wfm1") == .suspect)
        try ns.ip("link", "set", "wfmy", "netns", other.name)
        try ns.ip("tuntap", "add", "dev", "wfm3", "mode", "tap")
        try watched.compare("a vxlan with an entry via a tap moved away, then a holder look")
        #expect(watched.state("wfm1") == .suspect)
        watched.source.close()
    }
}
#endif
