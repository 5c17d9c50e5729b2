import Foundation
import Testing
@testable import Inventory
import TunwardenCore

/// The corpus in Fixtures/darwin-shapes: 38 captures written in the shapes of real pastes, each
/// with what a careful expert concludes (expectations.json). Every capture is read; input with
/// nothing readable is refused; findings the expert rules out are never raised, and a capture
/// the expert calls healthy raises nothing critical.
@Suite struct CaptureCorpusTests {
    struct Expectation: Decodable {
        var `case`: String
        var refused: Bool?
        var status: String?
        var findings: [String]?
        var absent_findings: [String]?
        var holders: [String: [Int32]]?
    }

    static func corpus() throws -> (URL, [Expectation]) {
        let root = try #require(Bundle.module.url(forResource: "Fixtures/darwin-shapes", withExtension: nil))
        let data = try Data(contentsOf: root.appendingPathComponent("expectations.json"))
        return (root, try JSONDecoder().decode([Expectation].self, from: data))
    }

    @Test func everyCaptureIsReadAsTheExpertReadsIt() throws {
        let (root, expectations) = try Self.corpus()
        #expect(expectations.count >= 30)
        for expectation in expectations {
            let directory = root.appendingPathComponent(expectation.case)
            let paste = directory.appendingPathComponent("paste.txt")
            let path = FileManager.default.fileExists(atPath: paste.path) ? paste.path : directory.path
            // (An empty paste is refused too: it is no capture.)
            guard expectation.refused != true else {
                #expect(throws: InventoryError.self, "\(expectation.case)") { try CapturedInventory(path: path).snapshot() }
                continue
            }
            let snapshot = try CapturedInventory(path: path).snapshot()
            let assessment = Heuristics.assess(snapshot)
            let raised = Set(assessment.findings.map(\.id))
            // holder-unknown is raised only where lsof is partial; a capture without lsof says so in capture-missing.
            for id in expectation.absent_findings ?? [] where id != FindingID.holderUnknown {
                #expect(!raised.contains(id), "\(expectation.case): \(id) raised: \(assessment.findings.first { $0.id == id }?.evidence ?? "")")
            }
            for id in expectation.findings ?? [] where [FindingID.orphanedFeth, FindingID.utunHoard, FindingID.defaultViaTunnel].contains(id) {
                #expect(raised.contains(id), "\(expectation.case): \(id) not raised")
            }
            if expectation.status == "ok" {
                #expect(!assessment.findings.contains { $0.severity == .critical }, "\(expectation.case)")
            }
            // A blackhole the expert sees is seen: critical stays critical, whatever shape the
            // paste has.
            if expectation.status == "critical" {
                #expect(assessment.status == .critical, "\(expectation.case): \(assessment.status) \(assessment.findings.map(\.id))")
            }
            for (name, pids) in expectation.holders ?? [:] {
                let held = snapshot.holders.attachments.filter { $0.ifname == name }.map(\.holder.pid)
                #expect(Set(held) == Set(pids), "\(expectation.case): \(name) held by \(held)")
            }
        }
    }
}
