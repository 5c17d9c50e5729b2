#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// What tunwarden's own attach leaves on a single-queue tap it gives back, against the real
/// kernel, as root, in throwaway namespaces. Attaching turns the carrier of a tap that is up on,
/// and the kernel then gives it an IPv6 link-local address, its fe80::/64 route and the ff00::/8
/// multicast route, and marks it configured: they are left (its next holder would otherwise get
/// no link-local address), and the result names the address instead of claiming it is as it was.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct AttachTracesKernelTests {
    /// The device's IPv6 addresses and routes of every table, as `ip` lists them, without what
    /// changes by itself (lifetimes, `tentative`).
    func ipv6(_ ns: TestNamespace, _ device: String) throws -> [String] {
        let addresses = try ns.ip("-6", "-o", "address", "show", "dev", device).split(separator: "\n").map { line in
            line.split(separator: " ").prefix(while: { $0 != "valid_lft" }).filter { $0 != "tentative" && $0 != "\\" }.joined(separator: " ")
        }
        let routes = try ns.ip("-6", "route", "show", "table", "all", "dev", device).split(separator: "\n").map(String.init)
        return (addresses + routes).sorted()
    }

    /// Plans the reap of every orphan of `ns`, and has the reap skip `kept` at the last look
    /// (an alternative name the protect pattern matches, given once the targets are grouped).
    func reapKeeping(_ kept: String, in ns: TestNamespace, state: TemporaryDirectory) throws -> [String: ReapResult] {
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0, protect: ["keep*"]), now: Date())
        #expect(plan.items.contains { $0.ifname == kept }, "\(plan.items.map(\.ifname))")
        let index = try #require(snapshot.interfaces.first { $0.name == kept }?.index)
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            // By its ifindex: a multi-queue device's fence has renamed it by now.
            let line = try! ns.ip("-o", "link", "show").split(separator: "\n").first { $0.hasPrefix("\(index): ") }
            let name = line.map { String($0.dropFirst("\(index): ".count).prefix { $0 != ":" && $0 != "@" }) } ?? kept
            try! ns.ip("link", "property", "add", "dev", name, "altname", "keep-\(kept)")
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "traces")
        return Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
    }

    /// A tap that is up without a carrier, and so without IPv6, comes back with the link-local
    /// address the reaper's attach made the kernel give it, named in its result; and its next
    /// holder has a working link-local address, as it would have had.
    @Test func anUpTapKeepsAndNamesTheLinkLocalTheAttachMade() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "atr1", "mode", "tap")
        try ns.ip("link", "set", "atr1", "up")
        #expect(try ipv6(ns, "atr1").isEmpty)
        let outcome = try reapKeeping("atr1", in: ns, state: state)
        #expect(outcome["atr1"]?.outcome == .skipped, "\(outcome)")
        let after = try ipv6(ns, "atr1")
        let linkLocal = try #require(after.first { $0.contains("inet6 fe80::") }?.split(separator: " ").first { $0.hasPrefix("fe80::") }, "\(after)")
        let detail = outcome["atr1"]?.detail ?? ""
        #expect(detail.contains("its carrier came on while tunwarden was attached, so the kernel configured IPv6 on it as for any holder: it now has the link-local address \(linkLocal)"), "\(detail)")
        #expect(try ns.ip("link", "show", "dev", "atr1").contains(",UP"))
        // Its next holder: the device still has (and keeps) a link-local address and its route.
        let holder = try ns.hold("atr1", mode: "tap")
        defer { ns.release(holder) }
        let held = try ipv6(ns, "atr1")
        #expect(held.contains { $0.contains("inet6 fe80::") } && held.contains { $0.hasPrefix("fe80::/64") }, "\(held)")
    }

    /// A tap that had its kernel link-local address and a hand-made one before (a holder had come
    /// and gone) keeps both, and its routes, as they were; nothing is said of them.
    @Test func whatTheTapHadBeforeStays() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "atr2", "mode", "tap")
        try ns.ip("link", "set", "atr2", "up")
        let holder = try ns.hold("atr2", mode: "tap")
        ns.release(holder)
        try ns.ip("address", "add", "fe80::2:1/64", "dev", "atr2", "nodad")
        let before = try ipv6(ns, "atr2")
        #expect(before.filter { $0.contains("inet6 fe80::") }.count == 2, "\(before)")
        let outcome = try reapKeeping("atr2", in: ns, state: state)
        #expect(outcome["atr2"]?.outcome == .skipped, "\(outcome)")
        #expect(outcome["atr2"]?.detail?.contains("carrier") == false, "\(outcome)")
        #expect(try ipv6(ns, "atr2") == before)
    }

    /// A tap that is down gets nothing from the attach, and its result says nothing of it.
    @Test func aDownTapGetsNothing() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "atr3", "mode", "tap")
        let outcome = try reapKeeping("atr3", in: ns, state: state)
        #expect(outcome["atr3"]?.outcome == .skipped, "\(outcome)")
        #expect(outcome["atr3"]?.detail?.contains("carrier") == false, "\(outcome)")
        #expect(try ipv6(ns, "atr3").isEmpty)
    }
}
#endif

#if os(Linux)
/// What the attach changes of what a single-queue tap had (review ip44 H4, H2): duplicate address
/// detection run on a tentative address, as any holder's attach runs it, said in its result; and
/// the neighbour entries made by hand its fence and its carrier going off flush, made again.
extension AttachTracesKernelTests {
    @Test func aTentativeAddressTheAttachMadeUsableIsNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "atr4", "mode", "tap")
        try ns.ip("link", "set", "atr4", "up")
        try ns.ip("addr", "add", "2001:db8:114::1/64", "dev", "atr4")
        #expect(try ns.ip("-6", "addr", "show", "dev", "atr4").contains("tentative"))
        let outcome = try reapKeeping("atr4", in: ns, state: state)
        // As any holder's attach would do: said, the device given back all the same.
        #expect(outcome["atr4"]?.outcome == .skipped, "\(outcome)")
        let detail = outcome["atr4"]?.detail ?? ""
        #expect(detail.contains("its IPv6 address 2001:db8:114::1/64 "), "\(detail)")
        #expect(detail.contains("duplicate address detection"), "\(detail)")
    }

    /// A managed entry made by hand, which its fence and its carrier going off flush, is made
    /// again once the batch has let go of the tap, and outlasts the kernel's late flush (session
    /// 37). Old code: named with its command, the give-back failed, and the entry gone.
    @Test func managedEntriesTheCarrierFlushesAreMadeAgain() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "atr5", "mode", "tap")
        try ns.ip("link", "set", "atr5", "up")
        try ns.ip("addr", "add", "10.111.0.1/24", "dev", "atr5")
        try ns.ip("neigh", "add", "10.111.0.55", "dev", "atr5", "managed")
        #expect(try ns.ip("neigh", "show", "dev", "atr5").contains("managed"))
        let outcome = try reapKeeping("atr5", in: ns, state: state)
        #expect(outcome["atr5"]?.outcome == .skipped, "\(outcome)")
        let detail = outcome["atr5"]?.detail ?? ""
        #expect(detail.contains("its neighbour entry made by hand 10.111.0.55 (managed), which its fence flushed, made again"), "\(detail)")
        #expect(!detail.contains("it lost"), "\(detail)")
        // Past the link watch's next run, which would flush it again were it early.
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try ns.ip("neigh", "show", "nud", "all", "dev", "atr5").contains("10.111.0.55"))
    }

    /// A `nud noarp` entry made by hand is flushed as a managed one is (faults 54, F2), and made
    /// again as it is (session 37); a permanent one, which the flush keeps, is not touched. Old
    /// code: named with its command, the give-back failed, and the entry gone.
    @Test func noarpEntriesTheCarrierFlushesAreMadeAgainToo() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "atr6", "mode", "tap")
        try ns.ip("link", "set", "atr6", "up")
        try ns.ip("addr", "add", "10.112.0.1/24", "dev", "atr6")
        try ns.ip("neigh", "add", "10.112.0.8", "lladdr", "02:00:00:00:00:08", "nud", "noarp", "dev", "atr6")
        try ns.ip("neigh", "add", "10.112.0.9", "lladdr", "02:00:00:00:00:09", "nud", "permanent", "dev", "atr6")
        let outcome = try reapKeeping("atr6", in: ns, state: state)
        #expect(outcome["atr6"]?.outcome == .skipped, "\(outcome)")
        let detail = outcome["atr6"]?.detail ?? ""
        #expect(detail.contains("its neighbour entry made by hand 10.112.0.8 (nud noarp), which its fence flushed, made again"), "\(detail)")
        #expect(!detail.contains("10.112.0.9"), "\(detail)")
        Thread.sleep(forTimeInterval: 1.5)
        let left = try ns.ip("neigh", "show", "nud", "all", "dev", "atr6")
        #expect(left.contains("10.112.0.8 lladdr 02:00:00:00:00:08 NOARP") && left.contains("10.112.0.9 lladdr 02:00:00:00:00:09 PERMANENT"), "\(left)")
    }
}
#endif

#if os(Linux)
/// What the give-back of a multi-queue tun, which its fence renames and takes down without any
/// attach, makes the kernel add (review linux54 F3): its IPv6 addresses are given back once it is
/// up again, and the kernel adds the `ff00::/8` route of any device that is up as each arrives,
/// which a device whose addresses were added while it was down never had. The result says so
/// rather than that everything is as it was.
extension AttachTracesKernelTests {
    @Test func theMulticastRouteAGiveBackMakesIsNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "atr7", "mode", "tun", "multi_queue")
        try ns.ip("addr", "add", "10.112.0.1/24", "dev", "atr7")
        try ns.ip("-6", "addr", "add", "2001:db8:112::1/64", "dev", "atr7", "nodad")
        try ns.ip("link", "set", "atr7", "up")
        try #require(!(try ipv6(ns, "atr7").contains { $0.hasPrefix("multicast ff00::/8") }), "the device has no multicast route to begin with")
        let outcome = try reapKeeping("atr7", in: ns, state: state)
        #expect(outcome["atr7"]?.outcome == .skipped, "\(outcome)")
        let after = try ipv6(ns, "atr7")
        let detail = outcome["atr7"]?.detail ?? ""
        #expect(after.contains { $0.hasPrefix("multicast ff00::/8") }, "\(after)")
        #expect(detail.contains("are as they were, but for the kernel's own multicast route ff00::/8 (table 255), which it added"), "\(detail)")
    }
}
#endif
