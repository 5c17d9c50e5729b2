import Foundation
import Testing
@testable import Inventory
import TunwardenCore

/// The commands a finding advises are copied from the terminal: in the table each is on a line of
/// its own, whole at every width and with the `sudo` it needs on the Mac, while the JSON's
/// evidence still ends with them joined by "; ".
@Suite struct CaptureFindingCommandTests {
    static func clashxDead() throws -> Assessment {
        let root = try #require(Bundle.module.url(forResource: "Fixtures/darwin-shapes", withExtension: nil))
        let paste = root.appendingPathComponent("doc-japanese-blog-clashx-dead/paste.txt").path
        return Heuristics.assess(try CapturedInventory(path: paste).snapshot())
    }

    @Test(arguments: [nil, 40, 80, 132] as [Int?])
    func eachCommandIsOneWholeLine(width: Int?) throws {
        let assessment = try Self.clashxDead()
        let finding = try #require(assessment.findings.first { $0.commands.contains { $0.contains("route -n delete -net 32.0.0.0/3") } })
        #expect(finding.commands.count >= 8 && finding.commands.allSatisfy { $0.hasPrefix("sudo route -n delete ") }, "\(finding.commands)")
        let lines = AuditTable.render(assessment, width: width).split(separator: "\n").map(String.init)
        for command in finding.commands {
            #expect(lines.contains("        " + command), "\(command) is not a line of its own")
        }
        // No other line holds part of a command.
        #expect(lines.filter { $0.contains("route -n") }.count == lines.filter { $0.hasPrefix("        sudo route -n delete ") }.count)
    }

    @Test func theJSONEvidenceEndsWithTheCommands() throws {
        let assessment = try Self.clashxDead()
        let finding = try #require(assessment.findings.first { !$0.commands.isEmpty })
        #expect(finding.evidence == finding.prose + " " + finding.commands.joined(separator: "; "))
        #expect(finding.prose.hasSuffix("with:"))
        let json = String(decoding: AuditReport(assessment).json(pretty: false), as: UTF8.self)
        #expect(json.contains("with: sudo route -n delete "))
        #expect(!json.contains("\"commands\""))
    }
}
