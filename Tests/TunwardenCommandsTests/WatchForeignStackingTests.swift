#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// The watcher's view of links stacked on a tap that leave for another namespace, against the
/// real kernel, as root, in throwaway namespaces: a macvlan, macvtap, ipvlan or vlan on a tap,
/// moved into a container's namespace, still sits on the tap and goes with it, so the tap stays
/// suspect: it is neither alerted as a new orphan nor tried by a reap. (The traffic samples are
/// kept rare, so that the move's own notification is what tells.)
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchForeignStackingTests {
    @Test(arguments: [("macvlan", 0), ("macvtap", 1), ("ipvlan", 2), ("vlan", 3)])
    func aStackedLinkMovedAwayStillTiesItsTap(kind: String, unit: Int) throws {
        let ns = try TestNamespace(), container = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); container.remove(); state.remove() }
        let tap = "k45aw\(unit)", upper = "k45aup\(unit)"
        try ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
        try ns.ip("link", "set", tap, "up")
        let options = switch kind {
        case "vlan": ["id", "45"]
        case "ipvlan": ["mode", "l2"]
        default: ["mode", "bridge"]
        }
        let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", "link", tap, "name", upper, "type", kind] + options)
        guard made.status == 0 else { return }  // no such driver here
        let alerts = state.path + "/alerts"
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--reap", "--min-age", "1s", "--stats-interval", "60s",
                                                                       "--alert-exec", "cat >> \(alerts); echo >> \(alerts)"])
        try ns.ip("link", "set", upper, "netns", container.name)
        sleep(3)
        let log = watcher.log
        #expect(watcher.terminate().status == 0)
        #expect(!log.contains("new orphans: \(tap)") && !log.contains("reap: \(tap)"), "\(log)")
        #expect(WatchTests.newOrphansSent(to: alerts, atLeast: 1).isEmpty, "\(log)")
        #expect(try ns.ip("-o", "link", "show").contains(": \(tap)"))
        #expect(try container.ip("-o", "link", "show").contains(upper))
    }

    /// The same, when the namespace the link moved into is then kept only by a descriptor, by one
    /// in flight, or by a bind mount in another mount namespace, with its name removed right after
    /// the move, as a runtime does: the full inventory the move leads to reads that namespace by the
    /// id the move gave it here, and the tap stays suspect. (The control keeps the name.)
    @Test(arguments: HiddenNamespace.Keeper.allCases.enumerated().flatMap { index, keeper in
        [(keeper, "macvlan", 2 * index), (keeper, "macvtap", 2 * index + 1)]
    })
    func aStackedLinkMovedIntoAHiddenNamespaceStillTiesItsTap(keeper: HiddenNamespace.Keeper, kind: String, unit: Int) throws {
        try #require(HiddenNamespace.available)
        let ns = try TestNamespace(), hidden = try HiddenNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); hidden.remove(); state.remove() }
        let tap = "nf46w\(unit)", upper = "nf46wu\(unit)"
        try ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
        let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", "link", tap, "name", upper, "type", kind, "mode", "bridge"])
        guard made.status == 0 else { return }  // no such driver here
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--reap", "--min-age", "1s", "--stats-interval", "60s"])
        try ns.ip("link", "set", upper, "netns", hidden.name)
        try hidden.hide(by: keeper)
        sleep(3)
        let log = watcher.log
        #expect(watcher.terminate().status == 0)
        #expect(!log.contains("new orphans: \(tap)") && !log.contains("reap: \(tap)"), "\(keeper): \(log)")
        #expect(try ns.ip("-o", "link", "show").contains(": \(tap)"), "\(keeper): \(log)")
        #expect(try ns.linksKnownByID().contains(upper), "\(keeper): \(log)")
    }
}
#endif
