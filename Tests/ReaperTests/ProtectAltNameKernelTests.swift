#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// `--protect` against the real kernel, as root, in throwaway namespaces: a device is protected
/// when any of its names matches, its alternative names included, which the kernel takes for it
/// wherever a device is named; and the reaper's last look asks again, so an alternative name given
/// since the plan protects it too.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct ProtectAltNameKernelTests {
    func linkNames(_ ns: TestNamespace) throws -> Set<String> {
        let json = try ns.ip("-j", "link", "show")
        let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return Set(links.compactMap { $0["ifname"] as? String })
    }

    /// `reap --protect 'keep*'` keeps a tap whose alternative name is `keep-pal7`, says so, and
    /// deletes the tap beside it.
    @Test func aProtectedAlternativeNameKeepsTheDevice() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "pal7", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "pal8", "mode", "tap")
        try ns.ip("link", "property", "add", "dev", "pal7", "altname", "keep-pal7")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0",
                                        "--protect", "keep*", "--yes"])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("Protected pal7 (matches the protect pattern 'keep*')"), "\(result.stdout)")
        #expect(try linkNames(ns) == ["lo", "pal7"], "\(result.stdout)")
    }

    /// An alternative name matching a protect pattern, given to a target after the plan, keeps
    /// it at the last look (and it is given back); the target beside it is deleted.
    @Test func anAlternativeNameGivenSinceThePlanProtects() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "pal5", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "pal6", "mode", "tap")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0, protect: ["keep*"]), now: Date())
        #expect(Set(plan.items.map(\.ifname)) == ["pal5", "pal6"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            try! ns.ip("link", "property", "add", "dev", "pal5", "altname", "keep-pal5")
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "protect")
        let outcome = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(outcome["pal5"]?.outcome == .skipped
                && outcome["pal5"]?.detail?.contains("it now has a name the protect pattern 'keep*' matches (keep-pal5)") == true, "\(results)")
        #expect(outcome["pal6"]?.outcome == .deleted, "\(results)")
        #expect(try linkNames(ns) == ["lo", "pal5"])
        #expect(try ns.ip("link", "show", "dev", "pal5").contains("altname keep-pal5"))
    }
}
#endif
