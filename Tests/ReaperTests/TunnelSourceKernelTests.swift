#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// A tap whose address is another live object's source, against the real kernel, as root, each
/// test in its own throwaway namespace: a vxlan's `local` (IPv4 or IPv6), or the `src` of a route
/// of a table other than main (policy routing). Deleting the tap deletes the address, which
/// leaves the vxlan's packets and the route without a source, so the audit calls such a tap
/// suspect, no plan holds it, and the reaper's last look asks again of what came since the plan.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct TunnelSourceKernelTests {
    /// Makes a vxlan `name` sending from `local`; false (said on standard error) where the
    /// kernel has no vxlan driver.
    static func vxlan(_ ns: TestNamespace, _ name: String, id: Int, local: String, remote: String, test: String = #function) throws -> Bool {
        let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", name, "type", "vxlan", "id", "\(id)", "dstport", "\(4789 + id)",
                                      "local", local, "remote", remote])
        if made.status != 0 { FileHandle.standardError.write(Data("\(test): no vxlan driver here (\(made.stderr)); untested\n".utf8)) }
        return made.status == 0
    }

    func linkNames(_ ns: TestNamespace) throws -> Set<String> {
        let json = try ns.ip("-j", "link", "show")
        let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return Set(links.compactMap { $0["ifname"] as? String })
    }

    /// The audit calls suspect, with the reason, a tap whose address a vxlan sends from (IPv4 and
    /// IPv6) or a route of table 100 takes as source; the reap deletes only the tap beside them,
    /// and the vxlans and the route keep their source.
    @Test func aTapAnotherObjectSendsFromIsSuspectAndKept() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for device in ["tsl0", "tsl1", "tsl2", "tsl3"] {
            try ns.ip("tuntap", "add", "dev", device, "mode", "tap")
            try ns.ip("link", "set", device, "up")
        }
        try ns.ip("link", "add", "tsla", "type", "veth", "peer", "name", "tslb")
        for device in ["tsla", "tslb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "192.0.2.1/24", "dev", "tsla")
        try ns.ip("addr", "add", "10.47.0.1/32", "dev", "tsl0")
        try ns.ip("addr", "add", "10.53.0.1/32", "dev", "tsl1")
        try ns.ip("-6", "addr", "add", "fd00:47::1/128", "dev", "tsl2", "nodad")
        try ns.ip("route", "add", "198.51.100.0/24", "via", "192.0.2.2", "dev", "tsla", "src", "10.53.0.1", "table", "100")
        let vxlans = try Self.vxlan(ns, "tslvx", id: 42, local: "10.47.0.1", remote: "192.0.2.2")
            && Self.vxlan(ns, "tslv6", id: 43, local: "fd00:47::1", remote: "fd00:47::2")
        let verdicts = try ns.auditedVerdicts()
        #expect(verdicts["tsl1"]?.state == "suspect", "\(verdicts)")
        #expect(verdicts["tsl1"]?.reason.contains("(198.51.100.0/24 via 192.0.2.2 table 100) takes its address 10.53.0.1 as source") == true, "\(verdicts)")
        #expect(verdicts["tsl1"]?.reason.contains("no device has") == true, "\(verdicts)")
        if vxlans {
            #expect(verdicts["tsl0"]?.state == "suspect", "\(verdicts)")
            #expect(verdicts["tsl0"]?.reason.contains("vxlan tslvx sends from its address 10.47.0.1") == true, "\(verdicts)")
            #expect(verdicts["tsl2"]?.state == "suspect", "\(verdicts)")
            #expect(verdicts["tsl2"]?.reason.contains("vxlan tslv6 sends from its address fd00:47::1") == true, "\(verdicts)")
        }
        #expect(verdicts["tsl3"]?.state == "orphaned", "\(verdicts)")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        let expected: Set<String> = vxlans ? ["lo", "tsl0", "tsl1", "tsl2", "tsla", "tslb", "tslvx", "tslv6"] : ["lo", "tsl0", "tsl1", "tsl2", "tsla", "tslb"]
        #expect(try linkNames(ns) == expected, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try ns.ip("addr", "show", "dev", "tsl1").contains("10.53.0.1"))
    }

    /// A vxlan made with `local` on a tap's address and moved into another namespace (a
    /// container) still sends from the tap's namespace: the audit calls the tap suspect, naming
    /// the vxlan and its namespace, the reap keeps it, and a target the same is done to after the
    /// plan is kept by the last look.
    @Test func aVxlanMovedIntoAnotherNamespaceStillTiesTheTap() throws {
        let ns = try TestNamespace(), container = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); container.remove(); state.remove() }
        for device in ["tsm0", "tsm1", "tsm2"] {
            try ns.ip("tuntap", "add", "dev", device, "mode", "tap")
            try ns.ip("link", "set", device, "up")
        }
        try ns.ip("addr", "add", "10.49.0.1/32", "dev", "tsm0")
        try ns.ip("addr", "add", "10.49.0.2/32", "dev", "tsm1")
        guard try Self.vxlan(ns, "tsmvx", id: 45, local: "10.49.0.1", remote: "192.0.2.2") else { return }
        try ns.ip("link", "set", "tsmvx", "netns", container.name)
        let verdicts = try ns.auditedVerdicts()
        #expect(verdicts["tsm0"]?.state == "suspect", "\(verdicts)")
        #expect(verdicts["tsm0"]?.reason.contains("vxlan tsmvx (namespace \(container.name)) sends from its address 10.49.0.1") == true, "\(verdicts)")
        #expect(verdicts["tsm1"]?.state == "orphaned", "\(verdicts)")

        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(Set(plan.items.map(\.ifname)) == ["tsm1", "tsm2"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            _ = try? Self.vxlan(ns, "tsmvy", id: 46, local: "10.49.0.2", remote: "192.0.2.2")
            _ = try? ns.ip("link", "set", "tsmvy", "netns", container.name)
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "moved")
        let outcome = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(outcome["tsm1"]?.outcome == .skipped
                && outcome["tsm1"]?.detail?.contains("vxlan tsmvy (namespace \(container.name)) now sends from its address 10.49.0.2") == true, "\(results)")
        #expect(outcome["tsm2"]?.outcome == .deleted, "\(results)")
        #expect(try linkNames(ns) == ["lo", "tsm0", "tsm1"])
    }

    /// The last look before deleting: a vxlan sending from a target's address, and a route of
    /// another table taking one as source, made after the plan, keep it; the target beside them
    /// is deleted.
    @Test func whatComesToSendFromATargetAfterThePlanKeepsIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for device in ["tsv0", "tsv1", "tsv2"] {
            try ns.ip("tuntap", "add", "dev", device, "mode", "tap")
            try ns.ip("link", "set", device, "up")
        }
        try ns.ip("link", "add", "tsva", "type", "veth", "peer", "name", "tsvb")
        for device in ["tsva", "tsvb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "192.0.2.1/24", "dev", "tsva")
        try ns.ip("addr", "add", "10.48.0.1/32", "dev", "tsv0")
        try ns.ip("addr", "add", "10.54.0.1/32", "dev", "tsv1")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(Set(plan.items.map(\.ifname)) == ["tsv0", "tsv1", "tsv2"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        let vxlan = Locked(false)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            try! ns.ip("route", "add", "198.51.100.0/24", "via", "192.0.2.2", "dev", "tsva", "src", "10.54.0.1", "table", "100")
            vxlan.mutate { $0 = (try? Self.vxlan(ns, "tsvx", id: 44, local: "10.48.0.1", remote: "192.0.2.2")) ?? false }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "sourced")
        let outcome = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(outcome["tsv1"]?.outcome == .skipped
                && outcome["tsv1"]?.detail?.contains("(198.51.100.0/24 table 100) takes its address 10.54.0.1 as source") == true, "\(results)")
        if vxlan.value {
            #expect(outcome["tsv0"]?.outcome == .skipped && outcome["tsv0"]?.detail?.contains("vxlan tsvx now sends from its address 10.48.0.1") == true,
                    "\(results)")
        }
        #expect(outcome["tsv2"]?.outcome == .deleted, "\(results)")
        #expect(try ns.ip("route", "show", "table", "100").contains("src 10.54.0.1"))
        #expect(try ns.ip("addr", "show", "dev", "tsv0").contains("10.48.0.1"))
    }
    /// An IPv6 address that a live device's routes take as source (`src`), of the main table or
    /// another: the kernel keeps those routes once no device has the address and goes on sending
    /// from it, so the audit calls the tap suspect and the reap keeps it, as for IPv4; a route
    /// made after the plan that takes a target's IPv6 address as source keeps that target too.
    @Test func aTapWhoseIPv6AddressRoutesTakeAsSourceIsKept() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for device in ["rt5p0", "rt5p1", "rt5p2", "rt5p3"] {
            try ns.ip("tuntap", "add", "dev", device, "mode", "tap")
            try ns.ip("link", "set", device, "up")
        }
        try ns.ip("link", "add", "rt5va", "type", "veth", "peer", "name", "rt5vb")
        for device in ["rt5va", "rt5vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "rt5va", "nodad")
        try ns.ip("-6", "addr", "add", "2001:db8:9::1/64", "dev", "rt5p0", "nodad")
        try ns.ip("-6", "addr", "add", "2001:db8:8::1/64", "dev", "rt5p1", "nodad")
        try ns.ip("-6", "addr", "add", "2001:db8:7::1/64", "dev", "rt5p2", "nodad")
        try ns.ip("-6", "route", "add", "2001:db8:99::/48", "via", "2001:db8::2", "dev", "rt5va", "src", "2001:db8:9::1")
        try ns.ip("-6", "route", "add", "2001:db8:98::/48", "via", "2001:db8::2", "dev", "rt5va", "src", "2001:db8:8::1", "table", "7")
        let verdicts = try ns.auditedVerdicts()
        #expect(verdicts["rt5p0"]?.state == "suspect", "\(verdicts)")
        #expect(verdicts["rt5p0"]?.reason.contains("(2001:db8:99::/48 via 2001:db8::2) takes its address 2001:db8:9::1 as source") == true, "\(verdicts)")
        #expect(verdicts["rt5p0"]?.reason.contains("no reply comes back") == true, "\(verdicts)")
        #expect(verdicts["rt5p1"]?.state == "suspect", "\(verdicts)")
        #expect(verdicts["rt5p1"]?.reason.contains("(2001:db8:98::/48 via 2001:db8::2 table 7) takes its address 2001:db8:8::1") == true, "\(verdicts)")
        #expect(verdicts["rt5p2"]?.state == "orphaned", "\(verdicts)")

        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(Set(plan.items.map(\.ifname)) == ["rt5p2", "rt5p3"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            try! ns.ip("-6", "route", "add", "2001:db8:97::/48", "via", "2001:db8::2", "dev", "rt5va", "src", "2001:db8:7::1", "table", "9")
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "sourced6")
        let outcome = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(outcome["rt5p2"]?.outcome == .skipped
                && outcome["rt5p2"]?.detail?.contains("(2001:db8:97::/48 table 9) takes its address 2001:db8:7::1 as source") == true, "\(results)")
        #expect(outcome["rt5p3"]?.outcome == .deleted, "\(results)")
        #expect(try linkNames(ns) == ["lo", "rt5p0", "rt5p1", "rt5p2", "rt5va", "rt5vb"])
        // The command's reap keeps the two the audit calls suspect, and their routes their source.
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns).isSuperset(of: ["rt5p0", "rt5p1"]), "stdout: \(result.stdout)")
        #expect(try ns.ip("-6", "addr", "show", "dev", "rt5p0").contains("2001:db8:9::1"))
    }
}
#endif
