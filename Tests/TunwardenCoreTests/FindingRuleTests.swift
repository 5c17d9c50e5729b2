import Foundation
import Testing
@testable import TunwardenCore

/// The registry of finding rules: one rule per id, the reap plan acting only on what a rule
/// allows, and the README's findings table agreeing with what each rule lets the reaper do.
@Suite struct FindingRuleTests {
    @Test func everyRuleHasItsOwnIdAndALineThatSaysWhatItMeans() {
        let ids = FindingRules.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(ids.count >= 15)
        #expect(FindingRules.all.allSatisfy { !$0.summary.isEmpty && !$0.severity.isEmpty })
        #expect(FindingID.all == ids)
    }

    @Test func everyFindingRaisedHasARuleAndOnlyRulesThatReapAreReapable() {
        let assessments = [ReportLayoutTests.orphans(5)]
        for assessment in assessments {
            for finding in assessment.findings {
                let rule = FindingRules.rule(finding.id)
                #expect(rule != nil, "\(finding.id) has no rule")
                if finding.reapable { #expect(rule?.reap != nil, "\(finding.id) is reapable but its rule reaps nothing") }
            }
        }
    }

    @Test func theReadmeTableSaysWhatEachRuleLetsTheReaperDo() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let lines = try String(contentsOf: readme, encoding: .utf8).split(separator: "\n")
        let header = try #require(lines.firstIndex { $0.hasPrefix("| finding |") })
        for row in lines[(header + 2)...].prefix(while: { $0.hasPrefix("| `") }) {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let id = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let rule = try #require(FindingRules.rule(id), "\(id) in README has no rule")
            #expect(cells[2].hasPrefix("no") == (rule.reap == nil), "\(id): README says '\(cells[2])', the rule reaps \(String(describing: rule.reap))")
        }
    }
}
