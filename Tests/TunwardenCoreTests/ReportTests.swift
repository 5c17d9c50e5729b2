import Foundation
import Testing
@testable import TunwardenCore

@Suite struct RenderingTests {
    func assessment() -> Assessment {
        let orphan = Build.tun(7, "kure_tun")
        let live = Build.tun(8, "vpn0", carrier: true)
        return Heuristics.assess(Build.snapshot([orphan, live], routes: [Build.route("0.0.0.0/1", 7), Build.route("128.0.0.0/1", 7)],
                                                holders: [Build.holder(42, "vpn0")]))
    }

    @Test func tableHasHeaderRowsFindingsAndSummary() {
        let text = AuditTable.render(assessment())
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "IFNAME    KIND  STATE     HOLDERS      ADDRESSES  ROUTES")
        #expect(lines[1] == "kure_tun  tun   orphaned  (none)       (none)     0.0.0.0/1,128.0.0.0/1")
        #expect(lines[2] == "vpn0      tun   live      openvpn[42]  (none)     (none)")
        #expect(text.contains("  CRITICAL dead-tunnel-route kure_tun: 2 routes send traffic into tun kure_tun"))
        #expect(text.contains("  WARNING orphaned-tun kure_tun [reapable]: "))
        #expect(text.hasSuffix("\n2 tunnel interfaces, 1 orphaned, 1 critical finding; status CRITICAL.\n"))
        #expect(!text.contains("\u{1B}["))
        #expect(AuditTable.render(assessment(), color: true).contains("\u{1B}[1;31mCRITICAL\u{1B}[0m"))
    }

    /// With nothing to list, the table says so instead of printing a header over no rows.
    @Test func emptyTableSaysWhatWasFound() {
        let none = Heuristics.assess(Build.snapshot([]))
        #expect(AuditTable.render(none) ==
            "No tunnel-style interfaces here; --all also lists the other interfaces.\n\n0 tunnel interfaces, 0 orphaned; status OK.\n")
        #expect(AuditTable.render(none, includeContext: true).hasPrefix("No interfaces at all in this namespace.\n"))
        #expect(AuditTable.render(assessment()).hasPrefix("IFNAME"))
    }

    @Test func nagiosLine() {
        #expect(NagiosLine.render(assessment()) ==
            "TUNWARDEN CRITICAL: 1 dead-tunnel-route (kure_tun); 1 orphaned-tun (kure_tun) | tunnels=2;76;95;0 orphaned=1;1;;0 suspect=0;;;0 unknown=0;;;0 dead_routes=2;1;;0")
        #expect(NagiosLine.unknown("a | b") == "TUNWARDEN UNKNOWN: a / b")
    }

    /// Findings grouped by id in the order the ids first appear, even when one id's findings are
    /// apart; info findings left out; five names, then an ellipsis; dead routes counted whatever
    /// the severity.
    @Test func nagiosLineGroupsFindingsByIdInOrderOfFirstAppearance() {
        func finding(_ id: String, _ severity: Severity, _ name: String?, routes: Int = 0) -> Finding {
            Finding(id: id, severity: severity, ifname: name, reapable: false, evidence: "e",
                    routes: routes == 0 ? nil : (0..<routes).map { Build.route("10.\($0).0.0/16", 7) })
        }
        let findings = [finding(FindingID.deadTunnelRoute, .critical, "t9", routes: 3)]
            + (0..<7).map { finding("orphaned-tun", .warning, "t\($0)") }
            + [finding("holder-unknown", .info, nil), finding("leak-growth", .warning, nil), finding("orphaned-tun", .warning, "late")]
        let assessment = Assessment(snapshot: Build.snapshot([]), policy: AuditPolicy(), interfaces: [], findings: findings, status: .critical)
        #expect(NagiosLine.render(assessment) ==
            "TUNWARDEN CRITICAL: 1 dead-tunnel-route (t9); 8 orphaned-tun (t0, t1, t2, t3, t4, …); 1 leak-growth | tunnels=0;76;95;0 orphaned=0;1;;0 suspect=0;;;0 unknown=0;;;0 dead_routes=3;1;;0")
    }

    /// A `|` in an interface name (Linux allows it) would end the plugin's text inside the name
    /// and turn the rest into performance data: it becomes `/`, as in every other text.
    @Test func nagiosLineEscapesAPipeInAName() {
        let findings = [Finding(id: "orphaned-tun", severity: .warning, ifname: "vm|a=1", reapable: true, evidence: "e")]
        let assessment = Assessment(snapshot: Build.snapshot([]), policy: AuditPolicy(), interfaces: [], findings: findings, status: .warning)
        let line = NagiosLine.render(assessment)
        #expect(line.hasPrefix("TUNWARDEN WARNING: 1 orphaned-tun (vm/a=1) | tunnels=0;"))
        #expect(line.filter { $0 == "|" }.count == 1)
    }

    @Test func jsonReportKeysAndTypes() throws {
        let bytes = AuditReport(assessment()).json(pretty: false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["status"] as? String == "critical")
        #expect(object["netns"] == nil)
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["orphaned"] as? Int == 1)
        #expect(summary["holders_known"] as? Bool == true)
        let interfaces = try #require(object["interfaces"] as? [[String: Any]])
        #expect(interfaces.map { $0["ifname"] as? String } == ["kure_tun", "vpn0"])
        #expect(interfaces[0]["tun"] as? [String: Any] != nil)
        #expect((interfaces[1]["holders"] as? [[String: Any]])?.first?["pid"] as? Int == 42)
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.map { $0["id"] as? String } == ["dead-tunnel-route", "orphaned-tun"])
        #expect(((findings[0]["routes"] as? [[String: Any]])?.first?["nexthops"] as? [[String: Any]])?.first?["ifindex"] as? Int == 7)
    }
}
