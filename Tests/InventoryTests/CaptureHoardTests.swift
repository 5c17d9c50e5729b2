import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A utun hoard's plan removes only what every utun has and nobody needs: the interface-scoped
/// default (`UGcIg`) and link-local routes of its idle units. A default without the I flag is
/// the machine's general IPv6 default: its unit carries traffic, is not idle, and keeps it.
@Suite struct CaptureHoardTests {
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
        let text = try CaptureProofTests.fixture("hoard-unscoped-v6-default.txt")
        let verdict = CaptureProofTests.verdict(text)
        #expect(verdict.status == .warning, "\(verdict)")
        #expect(verdict.exit == 1)
        #expect(verdict.findings == ["warning utun-hoard -"], "\(verdict)")
        #expect(verdict.states == (0...7).map { "utun\($0) live" }, "\(verdict)")
        let hoard = try #require(CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard })
        #expect(hoard.evidence.contains("7 of them idle (no address beyond link-local): utun0, utun1, utun2, utun3, utun4, utun5, utun6."), "\(hoard.evidence)")
        #expect(CaptureWidthTests.hoardRoutes(CapturePasteTests.assess(text)) == Set((0...6).map { "utun\($0)" }))
        let commands = Self.reapCommands(text)
        #expect(!commands.contains { $0.contains("utun7") }, "\(commands)")
        #expect(commands.contains("route -n delete -inet6 default fe80::%utun0"), "\(commands)")

        // The control: scoped like the others, utun7 is idle too, and its routes go.
        let scoped = text.replacingOccurrences(of: "fe80::%utun7                          UGcg ", with: "fe80::%utun7                          UGcIg")
        #expect(scoped != text)
        #expect(CapturePasteTests.assess(scoped).findings.first { $0.id == FindingID.utunHoard }?.evidence.contains("8 of them idle") == true)
        #expect(Self.reapCommands(scoped).contains("route -n delete -inet6 default fe80::%utun7"))
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
        #expect(commands.contains("route -n delete -inet6 default fe80::%utun7"), "\(flags)")
        var most = text
        for unit in 0...4 {
            most = most.replacingOccurrences(of: "fe80::%utun\(unit)                          UGcIg", with: "fe80::%utun\(unit)                          \(flags)")
        }
        #expect(!CapturePasteTests.assess(most).findings.contains { $0.id == FindingID.utunHoard }, "\(flags)")
        #expect(Self.reapCommands(most).isEmpty, "\(flags)")
    }
}
