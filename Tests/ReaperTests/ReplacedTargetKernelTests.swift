#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// A planned device replaced before the reaper acts, against the real kernel, as root, in
/// throwaway namespaces: the planned one moved out to another namespace and another moved in from
/// a staging namespace, where it had the same ifindex (fresh namespaces number their devices
/// alike, and a device moved in keeps its ifindex when it is free). The newcomer, which the plan
/// never showed, is never deleted, and the result says where the planned device went.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct ReplacedTargetKernelTests {
    /// The namespace acted in (A), the one the planned device leaves for (X), and the staging one
    /// the newcomer comes from (Y), each with a `device` of `mode` at ifindex 2.
    struct Stage {
        let a: TestNamespace, x: TestNamespace, y: TestNamespace
        let state: TemporaryDirectory
        let newcomer = "02:00:00:00:99:99"
        let device: String

        init(mode: String, device: String, function: String = #function) throws {
            self.device = device
            a = try TestNamespace(function: function)
            x = try TestNamespace(function: function)
            y = try TestNamespace(function: function)
            state = try TemporaryDirectory()
            try a.ip("tuntap", "add", "dev", device, "mode", mode)
            try y.ip("tuntap", "add", "dev", device, "mode", mode)
            if mode == "tap" { try y.ip("link", "set", "dev", device, "address", newcomer) }
        }

        func remove() {
            a.remove(); x.remove(); y.remove(); state.remove()
        }

        /// Moves A's device to X and Y's into A, where it takes the same ifindex.
        func swap() throws {
            try a.ip("link", "set", "dev", device, "netns", x.name)
            try y.ip("link", "set", "dev", device, "netns", a.name)
        }

        func index(in ns: TestNamespace) throws -> Int? { try index(of: device, in: ns) }

        func index(of device: String, in ns: TestNamespace) throws -> Int? {
            let objects = try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "link", "show", "dev", device).utf8)) as? [[String: Any]] ?? []
            return objects.first?["ifindex"] as? Int
        }

        func plan() throws -> ReapPlan {
            let snapshot = try LinuxInventory(namespaceName: a.name).snapshot()
            return ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        }

        var journal: Journal { Journal(path: state.path + "/journal.jsonl") }
    }

    /// The question-window case: the plan is made, the device replaced while `reap` waits at its
    /// question, and the plan carried out. A tap is told by its hardware address even without
    /// the watch; a tun, which has none, by the removal the watch begun before the plan saw.
    @Test(arguments: [("tap", false), ("tap", true), ("tun", true)])
    func aDeviceReplacedAfterThePlanIsSkippedAndLeftAlone(mode: String, watched: Bool) throws {
        let stage = try Stage(mode: mode, device: "rpq\(mode)\(watched ? 1 : 0)")
        defer { stage.remove() }
        let reaper = LinuxReaper(namespaceName: stage.a.name)
        let watch = watched ? reaper.watchLinks() : nil
        if watched { try #require(watch != nil) }
        let plan = try stage.plan()
        let index = try #require(plan.items.first { $0.ifname == stage.device }?.interface.index)
        try stage.swap()
        try #require(try stage.index(in: stage.a) == index, "the newcomer took the planned device's ifindex")
        let results = try reaper.execute(plan, journal: stage.journal, runID: "replaced", linkWatch: watch)
        let result = try #require(results.first)
        #expect(result.outcome == .skipped, "\(results)")
        #expect(result.detail?.contains("replaced since the plan was made") == true, "\(result.detail ?? "")")
        if watched { #expect(result.detail?.contains("moved since to network namespace '\(stage.x.name)'") == true, "\(result.detail ?? "")") }
        #expect(try stage.index(in: stage.a) == index, "the newcomer is still there")
        #expect(try stage.index(in: stage.x) != nil, "the planned device lives on where it went")
        if mode == "tap" { #expect(try stage.a.ip("link", "show", "dev", stage.device).contains(stage.newcomer)) }
    }

    /// Replaced after the re-verification, before the fence: the removal seen since the plan
    /// tells the newcomer from the planned tun; it is skipped before its fence, not deleted, and
    /// bears no mark of one.
    @Test func aTunReplacedBeforeItsFenceIsLeftAlone() throws {
        let stage = try Stage(mode: "tun", device: "rpfence0")
        defer { stage.remove() }
        var reaper = LinuxReaper(namespaceName: stage.a.name)
        let watch = try #require(reaper.watchLinks())
        let plan = try stage.plan()
        let index = try #require(plan.items.first?.interface.index)
        var swapped: (any Error)?
        reaper.stepHook = { step in
            guard step == "reverified" else { return }
            do { try stage.swap() } catch { swapped = error }
        }
        let results = try reaper.execute(plan, journal: stage.journal, runID: "replaced-late", linkWatch: watch)
        #expect(swapped == nil)
        let result = try #require(results.first)
        #expect(result.outcome == .skipped, "\(results)")
        #expect(result.detail?.contains("replaced since the plan was made") == true, "\(result.detail ?? "")")
        #expect(try stage.index(in: stage.a) == index)
        let shown = try stage.a.ip("-d", "link", "show", "dev", stage.device)
        #expect(!shown.contains("altname") && shown.contains("group default"), "no mark of the fence is left: \(shown)")
        #expect(try stage.index(in: stage.x) != nil)
    }

    /// Moved away after its fence, before it joins the group: the removal of its ifindex is
    /// seen around the fence, where it cannot be told whether the planned device was replaced
    /// just before its fence or the fenced device itself left. Either way nothing is deleted,
    /// the device lives on where it went, and the result says which removal was seen.
    @Test func aTunMovedAwayRightAfterItsFenceIsNotDeleted() throws {
        let stage = try Stage(mode: "tun", device: "rpafter0")
        defer { stage.remove() }
        var reaper = LinuxReaper(namespaceName: stage.a.name)
        let watch = try #require(reaper.watchLinks())
        let plan = try stage.plan()
        let index = try #require(plan.items.first?.interface.index)
        var moved: (any Error)?
        reaper.stepHook = { step in
            guard step == "fenced" else { return }
            do {
                // The fence may have renamed it: it is found by its ifindex.
                let objects = try JSONSerialization.jsonObject(with: Data(try stage.a.ip("-j", "link", "show").utf8)) as? [[String: Any]] ?? []
                let name = try #require(objects.first { $0["ifindex"] as? Int == index }?["ifname"] as? String)
                try stage.a.ip("link", "set", "dev", name, "netns", stage.x.name)
            } catch { moved = error }
        }
        let results = try reaper.execute(plan, journal: stage.journal, runID: "moved-after-fence", linkWatch: watch)
        #expect(moved == nil, "\(String(describing: moved))")
        let result = try #require(results.first)
        #expect(result.outcome == .skipped, "\(results)")
        #expect(result.detail?.contains("saw a removal around its fence") == true, "\(result.detail ?? "")")
        #expect(result.detail?.contains("network namespace '\(stage.x.name)'") == true, "\(result.detail ?? "")")
        let elsewhere = try stage.x.ip("-j", "link", "show")
        #expect((try JSONSerialization.jsonObject(with: Data(elsewhere.utf8)) as? [[String: Any]] ?? []).contains { $0["ifindex"] as? Int == index },
                "the fenced device lives on where it went: \(elsewhere)")
        let shown = try stage.x.ip("-d", "link", "show")
        #expect(shown.contains(stage.device) && !shown.contains("altname") && !shown.contains("group 1"), "what the fence changed is given back where it went: \(shown)")
        let left = try JSONSerialization.jsonObject(with: Data(try stage.a.ip("-j", "link", "show").utf8)) as? [[String: Any]] ?? []
        #expect(!left.contains { $0["ifindex"] as? Int == index }, "nothing took its place in A")
    }
}
#endif
