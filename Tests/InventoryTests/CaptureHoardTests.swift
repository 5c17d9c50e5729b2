import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A utun hoard's plan removes only what every utun has and nobody needs: the interface-scoped
/// default (`UGcIg`) and link-local routes of its idle units. A default without the I flag is
/// the machine's general IPv6 default: its unit carries traffic, is not idle, and keeps it.
@Suite struct CaptureHoardTests {
    /// The paste of a fixture in which one process holds utun0–7, all live, and the hoard
    /// finding about them: a warning, and the only finding.
    static func hoardOfEightLiveUnits(_ fixture: String) throws -> (text: String, hoard: Finding) {
        let text = try CaptureProofTests.fixture(fixture)
        let verdict = CaptureProofTests.verdict(text)
        #expect(verdict.status == .warning, "\(verdict)")
        #expect(verdict.exit == 1)
        #expect(verdict.findings == ["warning utun-hoard -"], "\(verdict)")
        #expect(verdict.states == (0...7).map { "utun\($0) live" }, "\(verdict)")
        return (text, try #require(CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard }))
    }

    /// The commands a reap of the paste would run, with no minimum age.
    static func reapCommands(_ text: String) -> [String] {
        let assessment = CapturePasteTests.assess(text)
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: assessment.snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        return plan.items.flatMap(DarwinCommands.reap).map { $0.joined(separator: " ") }
    }

    /// nesessionmanager holds utun0–7; utun7's default (`default fe80::%utun7 UGcg`) is not
    /// scoped, the only general IPv6 default.
    @Test func anUnscopedDefaultIsNoIdleUnitsRoute() throws {
        let (text, hoard) = try Self.hoardOfEightLiveUnits("hoard-unscoped-v6-default.txt")
        #expect(hoard.evidence.contains("7 of them idle (no address or route beyond link-local): utun0, utun1, utun2, utun3, utun4, utun5, utun6."), "\(hoard.evidence)")
        #expect(CaptureWidthTests.hoardRoutes(CapturePasteTests.assess(text)) == Set((0...6).map { "utun\($0)" }))
        let commands = Self.reapCommands(text)
        #expect(!commands.contains { $0.contains("utun7") }, "\(commands)")
        #expect(commands.contains("route -n delete -inet6 default fe80::%utun0 -ifscope utun0"), "\(commands)")

        // The control: scoped like the others, utun7 is idle too, and its routes go.
        let scoped = text.replacingOccurrences(of: "fe80::%utun7                          UGcg ", with: "fe80::%utun7                          UGcIg")
        #expect(scoped != text)
        #expect(CapturePasteTests.assess(scoped).findings.first { $0.id == FindingID.utunHoard }?.evidence.contains("8 of them idle") == true)
        #expect(Self.reapCommands(scoped).contains("route -n delete -inet6 default fe80::%utun7 -ifscope utun7"))
    }

    /// However the unscoped default is flagged (`UGc`, `UGSc` by hand), and on whichever unit, it
    /// is kept; with most units carrying one, there is no hoard of idle ones at all.
    @Test(arguments: ["UGc  ", "UGSc ", "UGScg"])
    func unscopedDefaultsOfOtherShapes(flags: String) throws {
        let text = try CaptureProofTests.fixture("hoard-unscoped-v6-default.txt")
        let others = text.replacingOccurrences(of: "fe80::%utun7                          UGcg ", with: "fe80::%utun7                          UGcIg")
            .replacingOccurrences(of: "fe80::%utun3                          UGcIg", with: "fe80::%utun3                          \(flags)")
        let commands = Self.reapCommands(others)
        #expect(!commands.contains { $0.contains("default fe80::%utun3") }, "\(flags): \(commands)")
        #expect(commands.contains("route -n delete -inet6 default fe80::%utun7 -ifscope utun7"), "\(flags)")
        var most = text
        for unit in 0...4 {
            most = most.replacingOccurrences(of: "fe80::%utun\(unit)                          UGcIg", with: "fe80::%utun\(unit)                          \(flags)")
        }
        #expect(!CapturePasteTests.assess(most).findings.contains { $0.id == FindingID.utunHoard }, "\(flags)")
        #expect(Self.reapCommands(most).isEmpty, "\(flags)")
    }

    /// The whole-table control's `netstat -rn` output run through `keep`, under `command`.
    static func routesFiltered(_ command: String, keeping keep: (String) -> Bool) throws -> String {
        let text = try CaptureProofTests.fixture("hoard-whole-table-unscoped-v6-default.txt")
        let start = try #require(text.range(of: "jane@mbp ~ % netstat -rn\n"))
        let end = try #require(text.range(of: "jane@mbp ~ % sudo lsof"))
        let rows = text[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter(keep)
        return String(text[..<start.lowerBound]) + "jane@mbp ~ % \(command)\n" + rows.joined(separator: "\n") + "\n" + String(text[end.lowerBound...])
    }

    /// A route listing filtered before it was pasted says nothing of the rows it dropped, here
    /// utun7's `default fe80::%utun7 UGcg`, the machine's general IPv6 default: no unit is known
    /// idle, the finding says so and why, and the plan removes no route (it once removed utun7's
    /// `fe80::%utun7/64`, cutting the machine's IPv6 off).
    @Test(arguments: [("hoard-v6-grep-v-default.txt", "the route listing is partial (grep -v default) and the capture has no whole IPv4 routing table"),
                      ("hoard-grep-fe80-only.txt", "the route listing is partial (grep ^fe80::%utun)")])
    func aFilteredRouteListingLeavesNoUnitKnownIdle(fixture: String, reason: String) throws {
        let (text, hoard) = try Self.hoardOfEightLiveUnits(fixture)
        #expect(!hoard.reapable && hoard.routes == nil, "\(hoard)")
        let units = (0...7).map { "utun\($0)" }.joined(separator: ", ")
        #expect(hoard.evidence.contains("holds 8 utun interfaces, 8 of them with no address beyond link-local (\(units)), but none known idle: whether a route sends traffic into them is unknown, since \(reason),"), "\(hoard.evidence)")
        #expect(hoard.evidence.contains("None of their routes is planned for removal"), "\(hoard.evidence)")
        #expect(Self.reapCommands(text).isEmpty, "\(Self.reapCommands(text))")
    }

    /// The control: the whole table shows utun7's general default, so utun0–6 are idle and only
    /// their routes go.
    @Test func theWholeTableShowsWhichUnitsAreIdle() throws {
        let text = try CaptureProofTests.fixture("hoard-whole-table-unscoped-v6-default.txt")
        #expect(CaptureProofTests.verdict(text).findings == ["warning utun-hoard -"])
        let hoard = try #require(CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard })
        #expect(hoard.reapable && hoard.evidence.contains("7 of them idle (no address or route beyond link-local): utun0, utun1, utun2, utun3, utun4, utun5, utun6."), "\(hoard.evidence)")
        let commands = Self.reapCommands(text)
        #expect(commands.count == 14 && !commands.contains { $0.contains("utun7") }, "\(commands)")
        #expect(commands.contains("route -n delete -inet6 -net fe80::%utun6/64 -ifscope utun6"), "\(commands)")
    }

    /// Other ways a listing leaves rows out (`head`, one family, a grep for another word) leave
    /// no unit known idle either; `grep utun` shows every row into a utun, so it still does.
    @Test func otherPartialListingsLeaveNoUnitKnownIdle() throws {
        let head = try Self.routesFiltered("netstat -rn | head -30", keeping: { !$0.contains("utun5") && !$0.contains("utun6") && !$0.contains("utun7") })
        #expect(Self.reapCommands(head).isEmpty, "\(Self.reapCommands(head))")
        var inet6 = try Self.routesFiltered("netstat -rn -f inet6", keeping: { _ in true })
        let v4 = try #require(inet6.range(of: "Internet:\n"))
        let v6 = try #require(inet6.range(of: "Internet6:\n"))
        inet6.removeSubrange(v4.lowerBound..<v6.lowerBound)
        let hoard = CapturePasteTests.assess(inet6).findings.first { $0.id == FindingID.utunHoard }
        #expect(hoard?.evidence.contains("since the capture has no whole IPv4 routing table") == true, "\(hoard?.evidence ?? "no hoard")")
        #expect(Self.reapCommands(inet6).isEmpty)
        let other = try Self.routesFiltered("netstat -rn | grep fe80", keeping: { $0.contains("fe80") })
        #expect(Self.reapCommands(other).isEmpty)
        // A VPN's route a whole table shows keeps its unit busy however the others are read.
        let utun = try Self.routesFiltered("netstat -rn | grep utun", keeping: { $0.contains("utun") })
        let commands = Self.reapCommands(utun)
        #expect(commands.count == 14 && !commands.contains { $0.contains("utun7") }, "\(commands)")
    }

    /// A hoard shown only by lsof (no ps in the paste, round 45 F3): lsof cut COMMAND to
    /// `nesession`, a name no process has; the advice names nesessionmanager, whose cut it is.
    /// The old code said "only when nesession closes them".
    @Test func lsofsCutNameOfAKnownDaemonIsNamedWhole() throws {
        let name = "round45/hoard-lsof-only-nesession.txt"
        let assessment = CapturePasteTests.assess(try CaptureProofTests.fixture(name), file: name)
        let hoard = try #require(assessment.findings.first { $0.id == FindingID.utunHoard })
        #expect(hoard.evidence.contains("nesessionmanager[301] holds 6 utun interfaces"), "\(hoard.evidence)")
        #expect(hoard.evidence.contains("only when nesessionmanager closes them") && !hoard.evidence.contains("nesession closes"), "\(hoard.evidence)")
        // A cut name that begins no known program's, or is whole, stays as lsof shows it.
        #expect(CapturedInventory.uncutName("nesession") == "nesessionmanager" && CapturedInventory.uncutName("identitys") == "identityservicesd")
        #expect(CapturedInventory.uncutName("nesessionmanage") == "nesessionmanager" && CapturedInventory.uncutName("IPNExtens") == "IPNExtension")
        #expect(CapturedInventory.uncutName("openvpn") == "openvpn" && CapturedInventory.uncutName("MyVPNHelp") == "MyVPNHelp"
                && CapturedInventory.uncutName("WiFiAgent") == "WiFiAgent")
    }
}
