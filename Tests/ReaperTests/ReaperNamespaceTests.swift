#if os(Linux)
import Foundation
import Glibc
@testable import Inventory
import Netlink
@testable import Reaper
import Storage
import Testing
import TestSupport
import TunwardenCore

/// A plan is carried out only in the namespace it was made in: not in one made again under the
/// same name since (a service restarting), whose devices, however alike, were never seen
/// orphaned. Without root, against the scripted kernel.
@Suite struct ReaperNamespaceTests {
    typealias Link = ScriptedKernel.Link

    /// The namespace the re-verification looks at is another than the plan's: nothing is fenced,
    /// nothing deleted, nothing journaled, and the refusal says why.
    @Test func aPlanIsNotCarriedOutInANamespaceMadeAgain() throws {
        let kernel = ScriptedKernel([Link(2, "tap0", tap: true), Link(3, "tap1")])
        let plan = try kernel.plan()
        #expect(plan.items.count == 2 && plan.namespaceIdentity == kernel.namespaceIdentity)
        // Made again: the same devices under the same indices, in another namespace.
        kernel.namespaceIdentity = "netns-cookie:2@boot:scripted"
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let refusal = #expect(throws: ReapRefusal.self) { try kernel.reaper().execute(plan, journal: journal, runID: "remade") }
        #expect(refusal?.description.contains("is not the one the plan was made in (netns-cookie:1@boot:scripted) but another (netns-cookie:2@boot:scripted)") == true,
                "\(refusal?.description ?? "-")")
        #expect(refusal?.description.hasSuffix("nothing was changed") == true)
        #expect(kernel.requests.isEmpty, "\(kernel.requests)")
        #expect(kernel.link(2) != nil && kernel.link(3) != nil)
        #expect(!FileManager.default.fileExists(atPath: journal.path))
    }
}

/// The same against the real kernel, as root: a namespace deleted and made again under its name
/// between the plan and the act.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct ReaperNamespaceKernelTests {
    @Test func aPlanMadeBeforeTheNamespaceWasMadeAgainDeletesNothing() throws {
        var ns = try TestNamespace()
        let state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "remade0", "mode", "tap")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(plan.items.map(\.ifname) == ["remade0"])
        let name = ns.name
        ns.remove()
        ns = try TestNamespace(name: name)
        try ns.ip("tuntap", "add", "dev", "remade0", "mode", "tap")
        let journal = Journal(path: state.path + "/journal.jsonl")
        let refusal = #expect(throws: ReapRefusal.self) { try LinuxReaper(namespaceName: ns.name).execute(plan, journal: journal, runID: "remade") }
        #expect(refusal?.description.contains("network namespace '\(name)' is not the one the plan was made in") == true, "\(refusal?.description ?? "-")")
        #expect(try ns.ip("-br", "link").contains("remade0"), "the new namespace's tap was deleted")
        #expect(try journal.read().isEmpty)
    }

    /// A namespace held stays the one opened: its name given to another namespace, every look
    /// through it fails as a deleted namespace's would, and never reads the new one.
    @Test func aHeldNamespaceIsNeverTheOneMadeAgainUnderItsName() throws {
        var ns = try TestNamespace()
        defer { ns.remove() }
        let held = try HeldNamespace(name: ns.name)
        let inventory = LinuxInventory(holding: held)
        #expect(held.nameLost() == nil)
        #expect(try inventory.links().contains { $0.name == "lo" })
        let name = ns.name
        ns.remove()
        #expect(held.nameLost()?.contains("it was deleted") == true, "\(held.nameLost() ?? "-")")
        ns = try TestNamespace(name: name)
        try ns.ip("tuntap", "add", "dev", "remade1", "mode", "tap")
        #expect(held.nameLost()?.contains("names another network namespace now") == true, "\(held.nameLost() ?? "-")")
        let gone = #expect(throws: InventoryError.self) { try inventory.links() }
        #expect(gone?.namespaceGone == true)
    }
}
#endif
