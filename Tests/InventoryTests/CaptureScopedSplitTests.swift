import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Routes scoped to their interface (netstat flag `I`) capture no default traffic: macOS keeps
/// them in the interface's scoped table and uses them only for traffic already bound to it, never
/// for an unscoped lookup. And every `route` command a finding's text advises is the plan's own
/// (`DarwinCommands.deleteText`), so the two never name different routes: `route -n delete -net
/// 0.0.0.0/1` without `-ifscope` names the unscoped 0/1, a live VPN's.
@Suite struct CaptureScopedSplitTests {
    /// The `route …` commands a finding advises, without the `sudo` a person types them with;
    /// its evidence (what JSON gives) ends with the same commands after "Remove it with:".
    static func advised(_ finding: Finding) -> [String] {
        #expect(finding.commands.isEmpty || finding.evidence.hasSuffix(" with: " + finding.commands.joined(separator: "; ")), "\(finding.evidence)")
        return finding.commands.map { command in
            #expect(command.hasPrefix("sudo route -n "), "\(command)")
            return String(command.dropFirst("sudo ".count))
        }
    }

    /// utun7 is gone and left `0/1 … UScI`, `128.0/1 … UScI`; the running WireGuard tunnel
    /// utun12 holds the unscoped `0/1`, `128.0/1`. The scoped pieces capture nothing: no CRITICAL
    /// for utun7, and no advice to delete `-net 0.0.0.0/1` (which would take utun12's).
    @Test(arguments: ["gone-scoped-split-live-wg.txt", "gone-scoped-split.txt"])
    func scopedSplitPiecesIntoAGoneTunnelCaptureNothing(fixture: String) throws {
        let assessment = CapturePasteTests.assess(try CaptureProofTests.fixture(fixture))
        let about7 = assessment.findings.filter { $0.ifname == "utun7" }
        #expect(about7.isEmpty, "\(about7.map(\.evidence))")
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(assessment.findings.map(\.evidence))")
        #expect(!assessment.findings.contains { $0.evidence.contains("route -n delete") }, "\(assessment.findings.map(\.evidence))")
        if fixture == "gone-scoped-split-live-wg.txt" {
            let wg = try #require(assessment.findings.first { $0.ifname == "utun12" && $0.id == FindingID.splitDefault })
            #expect(wg.severity == .info && wg.routes?.count == 2 && wg.routes?.allSatisfy { !$0.isInterfaceScoped } == true, "\(wg.evidence)")
        }
    }

    /// A closed tun0 whose 0/1 and 128.0/1 are scoped (`UGScI`): no split-default, and neither is
    /// planned (as no scoped route into a closed tun0 is); its unscoped host routes are, and the
    /// finding's advice is exactly the plan's commands.
    @Test func scopedSplitPiecesIntoAClosedTunAreNeitherCriticalNorPlanned() throws {
        let assessment = CapturePasteTests.assess(try CaptureProofTests.fixture("tun0-closed-scoped-split.txt"))
        #expect(!assessment.findings.contains { $0.id == FindingID.splitDefault }, "\(assessment.findings.map(\.evidence))")
        #expect(!assessment.findings.contains { $0.severity == .critical })
        let plan = CaptureTuntaposxTests.plan(assessment)
        let commands = plan.items.flatMap(DarwinCommands.reap).map { $0.joined(separator: " ") }
        #expect(commands == ["route -n delete -net 10.8.0.1/32 10.8.0.5", "route -n delete -host 10.8.0.5"], "\(commands)")
        let dead = try #require(assessment.findings.first { $0.id == FindingID.deadTunnelRoute && $0.ifname == "tun0" })
        #expect(Self.advised(dead) == commands, "\(dead.evidence)")
    }

    /// Plan and advice agree on every reapable finding of the tuntaposx and hoard fixtures: each
    /// command a reapable finding's text gives is one the plan runs, word for word.
    @Test(arguments: ["tun0-closed-scoped-split.txt", "tun0-closed-nops.txt", "hoard-en0-v6-default.txt"])
    func adviceIsThePlansCommands(fixture: String) throws {
        let text = try CaptureProofTests.fixture(fixture)
        let assessment = CapturePasteTests.assess(text)
        let planned = Set(CaptureTuntaposxTests.plan(assessment).items.flatMap(DarwinCommands.reap).map { $0.joined(separator: " ") })
        for finding in assessment.findings where finding.reapable {
            for command in Self.advised(finding) { #expect(planned.contains(command), "\(command) not in \(planned)") }
        }
    }

    /// Every advised command comes from `routeCommand`: a scoped route's carries `-ifscope`; one
    /// into a tunnel that is gone names no word `route` would look up and refuse (`-interface`,
    /// `-ifscope`, a link-local gateway `fe80::%utun7`), since a delete needs none of them.
    @Test func adviceForAGoneTunnelNamesNothingRouteWouldRefuse() {
        let v6 = CaptureScopedRouteTests.route("::/0", via: "fe80::", flags: "UGcg", into: "utun7")
        #expect(DarwinCommands.deleteText(v6, interface: "utun7", present: false) == "route -n delete -inet6 default")
        #expect(DarwinCommands.deleteText(v6, interface: "utun7") == "route -n delete -inet6 default fe80::%utun7")
        let linkless = CaptureScopedRouteTests.route("0.0.0.0/0", via: nil, flags: "UCSg", into: "utun2")
        #expect(DarwinCommands.deleteText(linkless, interface: "utun2", present: false) == "route -n delete default")
        let v4 = CaptureScopedRouteTests.route("0.0.0.0/1", via: "10.8.0.5", flags: "UGSc", into: "utun7")
        #expect(DarwinCommands.deleteText(v4, interface: "utun7", present: false) == "route -n delete -net 0.0.0.0/1 10.8.0.5")
        let scoped = CaptureScopedRouteTests.route("0.0.0.0/1", via: "10.8.0.5", flags: "UGScI", into: "tun0")
        #expect(DarwinCommands.deleteText(scoped, interface: "tun0") == "route -n delete -net 0.0.0.0/1 10.8.0.5 -ifscope tun0")
    }

    /// A dead tunnel's scoped 0/1 + 128/1 capture nothing: the ranking leaves them out.
    @Test func deadScopedSplitPiecesRankAsCapturingNothing() {
        let scoped = ["0.0.0.0/1", "128.0.0.0/1"].map { CaptureScopedRouteTests.route($0, via: nil, flags: "UScI", into: "feth100") }
        #expect(Heuristics.rankDead(scoped, live: []).alone == 0)
        let unscoped = ["0.0.0.0/1", "128.0.0.0/1"].map { CaptureScopedRouteTests.route($0, via: nil, flags: "USc", into: "feth100") }
        #expect(Heuristics.rankDead(unscoped, live: []).alone == 1)
    }
}
