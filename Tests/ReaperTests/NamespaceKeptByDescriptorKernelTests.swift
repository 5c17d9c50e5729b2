#if os(Linux)
import Foundation
import Glibc
@testable import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// A macvlan made on a tap straight into another namespace (`ip -n A link add link TAP name M
/// netns B type macvlan`), where B is then kept by nothing but a process's open descriptor: no
/// process runs in it, its name is deleted, no bind mount this process sees keeps it, and A has no
/// namespace id for it (nothing moved from A into B). Deleting the tap deletes the macvlan with it.
/// Against the real kernel, as root, in throwaway namespaces; until the look read descriptors, the
/// audit called such a tap orphaned and the reap deleted it.
@Suite(.enabled(if: HiddenNamespace.available && Shell.which("nsenter") != nil, "needs root, /dev/net/tun, ip, python3, unshare and nsenter"))
struct NamespaceKeptByDescriptorKernelTests {
    /// A unique namespace name of this suite's own.
    static func uniqueName() -> String { "twf10-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    /// The descriptor's link reads `/` (opened through `/run/netns/B`, then `ip netns del`),
    /// `net:[INODE]` (opened through `/proc/self/ns/net` by a process that entered B and left),
    /// or `/` again (opened through a bind mount of a private mount namespace, lazily unmounted);
    /// or no descriptor of it at all, only a socket made in it (review linux54 F4).
    static let keepers: [(HiddenNamespace.Keeper, Int)] = [(.descriptor, 0), (.processNamespace, 1), (.detachedMount, 2), (.socket, 3)]

    /// Makes the namespace A with the taps `twf10t<unit>` and `twf10f<unit>`, a hidden namespace B
    /// with `twf10m<unit>` stacked on the first tap, and hides B by `keeper`; checks that nothing
    /// but the descriptor can lead to B.
    func setUp(_ keeper: HiddenNamespace.Keeper, unit: Int) throws -> (TestNamespace, HiddenNamespace) {
        let ns = try TestNamespace(name: Self.uniqueName()), hidden = try HiddenNamespace(name: Self.uniqueName())
        do {
            try ns.ip("tuntap", "add", "dev", "twf10t\(unit)", "mode", "tap")
            try ns.ip("tuntap", "add", "dev", "twf10f\(unit)", "mode", "tap")
            let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", "link", "twf10t\(unit)", "name", "twf10m\(unit)", "netns", hidden.name, "type", "macvlan"])
            try #require(made.status == 0, "\(made.stderr)")
            try hidden.hide(by: keeper)
            try #require(try ns.ip("netns", "list-id").isEmpty, "A has an id for B: the look would read B by it")
            try #require(!(try Shell.run(["ip", "netns", "list"]).contains(hidden.name)))
            try #require(try hidden.ipThroughKeeper("-o", "link", "show").contains("twf10m\(unit)@"))
        } catch {
            ns.remove()
            hidden.remove()
            throw error
        }
        return (ns, hidden)
    }

    /// The audit calls the tap suspect, naming the macvlan, and the other tap orphaned; the reap
    /// deletes only the other tap, and the macvlan stays in B.
    @Test(arguments: keepers)
    func aMacvlanMadeStraightIntoANamespaceKeptByADescriptorKeepsItsTap(keeper: HiddenNamespace.Keeper, unit: Int) throws {
        let (ns, hidden) = try setUp(keeper, unit: unit)
        let state = try TemporaryDirectory()
        defer { ns.remove(); hidden.remove(); state.remove() }
        let verdicts = try ns.auditedVerdicts()
        #expect(verdicts["twf10t\(unit)"]?.state == "suspect", "\(keeper): \(verdicts)")
        #expect(verdicts["twf10t\(unit)"]?.reason.contains("twf10m\(unit) (namespace net:[") == true, "\(keeper): \(verdicts)")
        #expect(verdicts["twf10f\(unit)"]?.state == "orphaned", "\(keeper): \(verdicts)")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.stdout.contains("Reaped 1 of 1."), "\(keeper): \(result.stdout) \(result.stderr)")
        let left = try ns.ip("-o", "link", "show")
        #expect(left.contains(": twf10t\(unit):") && !left.contains("twf10f\(unit)"), "\(keeper): \(left)")
        #expect(try hidden.ipThroughKeeper("-o", "link", "show").contains("twf10m\(unit)@"), "\(keeper): \(result.stdout) \(result.stderr)")
    }

    /// The control: a namespace kept only by a descriptor (and a UTS namespace file kept the same
    /// way beside it, a namespace file of another type) with nothing on the tap. Looking into it
    /// neither fails nor finds anything: the tap stays orphaned and is reaped.
    @Test func aNamespaceKeptByADescriptorWithNothingOnTheTapLeavesItReapable() throws {
        let ns = try TestNamespace(name: Self.uniqueName()), hidden = try HiddenNamespace(name: Self.uniqueName()), state = try TemporaryDirectory()
        defer { ns.remove(); hidden.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "twf10c0", "mode", "tap")
        try hidden.namespace.ip("link", "add", "twf10cd", "type", "veth", "peer", "name", "twf10ce")
        try hidden.namespace.ip("link", "add", "link", "twf10cd", "name", "twf10cm", "type", "macvlan")
        try hidden.hide(by: .detachedMount)
        try #require(try hidden.ipThroughKeeper("-o", "link", "show").contains("twf10cm@"))
        let verdicts = try ns.auditedVerdicts()
        #expect(verdicts["twf10c0"]?.state == "orphaned", "\(verdicts)")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0 && result.stdout.contains("Reaped 1 of 1."), "\(result.stdout) \(result.stderr)")
        #expect(!(try ns.ip("-o", "link", "show").contains("twf10c0")), "\(result.stdout) \(result.stderr)")
        #expect(try hidden.ipThroughKeeper("-o", "link", "show").contains("twf10cm@"))
    }

    /// The reaper's last look reads descriptors itself: a macvlan made straight into B while the
    /// reap runs (after the plan and the re-verifying inventory, before the look), B then kept by
    /// a descriptor alone, keeps its tap; the other tap is deleted.
    @Test func theLastLookSeesAMacvlanMadeStraightIntoANamespaceKeptByADescriptor() throws {
        let ns = try TestNamespace(name: Self.uniqueName()), hidden = try HiddenNamespace(name: Self.uniqueName()), state = try TemporaryDirectory()
        defer { ns.remove(); hidden.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "twf10l0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "twf10l1", "mode", "tap")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        try #require(Set(plan.items.map(\.ifname)) == ["twf10l0", "twf10l1"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        let made = Locked<Result<Void, any Error>?>(nil)
        reaper.stepHook = { step in
            guard step == "grouped", made.value == nil else { return }
            made.mutate { made in
                made = Result {
                    try ns.ip("link", "add", "link", "twf10l0", "name", "twf10lm", "netns", hidden.name, "type", "macvlan")
                    try hidden.hide(by: .descriptor)
                }
            }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "f10")
        try #require(made.value != nil)
        try made.value!.get()
        #expect(try ns.ip("netns", "list-id").isEmpty)
        let outcome = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(outcome["twf10l0"]?.outcome == .skipped && outcome["twf10l0"]?.detail?.contains("twf10lm (namespace net:[") == true, "\(results)")
        #expect(outcome["twf10l1"]?.outcome == .deleted, "\(results)")
        let left = try ns.ip("-o", "link", "show")
        #expect(left.contains(": twf10l0:") && !left.contains("twf10l1"), "\(left)")
        #expect(try hidden.ipThroughKeeper("-o", "link", "show").contains("twf10lm@"))
    }

    /// A namespace kept only by a socket or by another process's descriptor, listed first by a
    /// path that is gone when the look opens it: a descriptor of it that another process closed
    /// (another tunwarden run holding it for its own look; a runtime between its steps), or
    /// whose number now opens another file. The look walks every route again for it and finds
    /// the macvlan on the tap. Until it did, an audit beside another run called the tap
    /// orphaned, silently: the socket asking had passed the namespace over as known.
    @Test(arguments: [(HiddenNamespace.Keeper.socket, 999, 0), (.socket, 1, 1), (.descriptor, 999, 2)])
    func aNamespaceListedByADescriptorClosedSinceIsLookedForAgain(keeper: HiddenNamespace.Keeper, number: Int, unit: Int) throws {
        let ns = try TestNamespace(name: Self.uniqueName()), hidden = try HiddenNamespace(name: Self.uniqueName())
        defer { ns.remove(); hidden.remove() }
        try ns.ip("tuntap", "add", "dev", "twf10s\(unit)", "mode", "tap")
        let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", "link", "twf10s\(unit)", "name", "twf10sm\(unit)", "netns", hidden.name, "type", "macvlan"])
        try #require(made.status == 0, "\(made.stderr)")
        var hiddenStat = stat()
        try #require(stat("/run/netns/\(hidden.name)", &hiddenStat) == 0)
        try hidden.hide(by: keeper)
        let inspected = open("/run/netns/\(ns.name)", O_RDONLY | O_CLOEXEC)
        try #require(inspected >= 0)
        defer { close(inspected) }
        // What the holder scan noted, as if the keeper had been missed: one descriptor of the
        // hidden namespace in a live process, closed or reused before the look opens it.
        var held = NamespaceDescriptors(procRoot: "/proc")
        held.note(pid: "\(getpid())", number: "\(number)", target: "net:[\(hiddenStat.st_ino)]")
        let found = ForeignStacking.look(inspectedFD: inspected, confirmingAbsence: true, held: held)
        let uppers = found.uppers.values.flatMap { $0 }
        #expect(uppers.contains { $0.hasPrefix("twf10sm\(unit) (namespace net:[\(hiddenStat.st_ino)]") }, "\(keeper): \(found.uppers) \(found.unread)")
        #expect(!found.unread.contains { $0.contains("\(hiddenStat.st_ino)") }, "\(keeper): \(found.unread)")
    }

    /// A path that opens another namespace than the one it was listed for (a thread gone back to
    /// its own namespace, a name removed and made again) is not taken for it: the namespace is
    /// gone by that path, and is looked for again, not looked into somewhere else.
    @Test func aPathThatOpensAnotherNamespaceNowIsNotTakenForTheOneListed() throws {
        var own = stat()
        try #require(stat("/proc/self/ns/net", &own) == 0)
        let held = NamespaceDescriptors(procRoot: "/proc")
        let elsewhere = ForeignStacking.Namespace(paths: [Sys.Path("/proc/self/ns/net")], label: "x", inode: UInt64(own.st_ino) + 1)
        guard case .gone = ForeignStacking.open(elsewhere, held: held) else {
            Issue.record("a path opening another namespace was taken for the one listed")
            return
        }
        let itself = ForeignStacking.Namespace(paths: [Sys.Path("/proc/self/ns/net")], label: "x", inode: UInt64(own.st_ino))
        guard case let .opened(fd) = ForeignStacking.open(itself, held: held) else {
            Issue.record("a path opening the namespace listed was not taken")
            return
        }
        close(fd)
    }
}
#endif
