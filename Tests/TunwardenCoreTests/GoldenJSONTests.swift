import Foundation
import Testing
@testable import TunwardenCore

/// The JSON of every record tunwarden writes, byte for byte against files kept in the tests
/// (`Golden/`): the audit report with its interface entries and findings, a reap report, an
/// alert, and the observations of the state file. A change to any of them shows here as a diff
/// to read and, when it is meant, to keep: run with TUNWARDEN_UPDATE_GOLDEN=1 to rewrite the files
/// (and document the change in the README's schema).
@Suite struct GoldenJSONTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let moment = Date(timeIntervalSince1970: 1_764_720_000)

    /// `DirectJSONTests`' assessment, which exercises every optional member, taken at a fixed moment.
    static func assessment() -> Assessment {
        var snapshot = DirectJSONTests().assessment().snapshot
        snapshot.takenAt = moment
        snapshot.namespaceIdentity = "netns-cookie:1@boot:golden"
        return Heuristics.assess(snapshot)
    }

    /// Compares `bytes` with the golden file. `keyOrderFree`: the record is a map whose keys are
    /// written in hash order (the observations' interfaces), so it is compared as a value.
    func check(_ name: String, _ bytes: [UInt8], keyOrderFree: Bool = false) throws {
        let file = Self.directory.appendingPathComponent(name)
        if keyOrderFree {
            let value = try JSONSerialization.jsonObject(with: Data(bytes))
            if ProcessInfo.processInfo.environment["TUNWARDEN_UPDATE_GOLDEN"] == "1" {
                try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys]).write(to: file)
                return
            }
            let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: file))
            #expect((value as? NSDictionary) == (golden as? NSDictionary), "\(name) differs from Golden/\(name) as a value")
            return
        }
        let text = String(decoding: bytes, as: UTF8.self) + "\n"
        if ProcessInfo.processInfo.environment["TUNWARDEN_UPDATE_GOLDEN"] == "1" {
            try Data(text.utf8).write(to: file)
            return
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(text == golden, "\(name) differs from Golden/\(name); if the change is meant, rewrite it with TUNWARDEN_UPDATE_GOLDEN=1")
        // Valid JSON, whatever else changes.
        #expect((try? JSONSerialization.jsonObject(with: Data(bytes))) != nil)
    }

    @Test func theAuditReport() throws {
        try check("audit-report.json", try JSONWriter.encode(AuditReport(Self.assessment(), includeContext: true), pretty: true))
    }

    @Test func theAuditReportWithObservations() throws {
        let assessment = Self.assessment()
        var observations = Observations()
        observations.record(assessment, namespace: assessment.snapshot.namespaceIdentity, at: Self.moment.addingTimeInterval(-3600))
        try check("audit-report-observed.json", try JSONWriter.encode(AuditReport(assessment, observations: observations), pretty: true))
        try check("observations.json", try JSONWriter.encode(observations, pretty: true), keyOrderFree: true)
    }

    @Test func theReapReport() throws {
        let assessment = Self.assessment()
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: assessment.snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0, protect: ["vpn*"]), now: Self.moment)
        let results = plan.items.map { ReapItemResult(ifname: $0.ifname, ifindex: $0.interface.index, kind: $0.interface.kind, result: .deleted, detail: nil) }
        try check("reap-plan.json", try ReapReport(plan: plan, results: nil).json(pretty: true))
        try check("reap-report.json", try ReapReport(plan: plan, results: results).json(pretty: true))
    }

    @Test func theAlert() throws {
        let alert = try #require(AlertDecision.decide(Self.assessment(), history: NamespaceHistory(), host: "golden-host"))
        try check("alert.json", try JSONWriter.encode(alert, pretty: true))
    }
}
