import Foundation
import Testing
@testable import TunwardenCore

/// Under the table, why interfaces are unknown or suspect: the states alone tell a user neither
/// what was missing nor what to run.
@Suite struct UndecidedTextTests {
    /// `count` persistent tuns whose holders could not be read (as without root).
    static func unreadable(_ count: Int) -> Assessment {
        let interfaces = (0..<count).map { n in
            NetworkInterface(index: 10 + n, name: "tun\(n)", kind: .tun, infoKind: "tun", operstate: "DOWN", carrier: false,
                             tun: TunDetails(persistent: true, multiQueue: false))
        }
        return Heuristics.assess(Snapshot(platform: .linux, interfaces: interfaces, routes: [],
                                          holders: .unavailable("other users' descriptors cannot be read without root")))
    }

    @Test func interfacesWithOneReasonShareALine() throws {
        let assessment = Self.unreadable(9)
        let reason = try #require(assessment.interfaces.first?.reason)
        let text = AuditTable.render(assessment)
        #expect(text.contains("\nUnknown or suspect, and why:\n  unknown tun0, tun1, tun2, tun3, tun4, tun5 and 3 more: \(reason)\n"), "\(text)")
        // Every name with --verbose; nothing at all when every interface is decided.
        #expect(AuditTable.render(assessment, verbose: true).contains("tun6, tun7, tun8: \(reason)"))
        #expect(!AuditTable.render(ReportLayoutTests.orphans(2)).contains("and why"))
    }

    /// A reason per line, in the order the interfaces are listed, at most eight without --verbose.
    @Test func manyReasonsAreCappedAndSaySo() {
        var assessment = Self.unreadable(10)
        for position in assessment.interfaces.indices { assessment.interfaces[position].reason = "reason \(position)" }
        let text = AuditTable.render(assessment)
        #expect(text.contains("  unknown tun0: reason 0\n  unknown tun1: reason 1\n"))
        #expect(!text.contains("reason 8") && text.contains("(2 more reasons; --verbose lists every one)"))
        #expect(AuditTable.render(assessment, verbose: true).contains("  unknown tun9: reason 9\n"))
    }

    /// The Nagios line names what made the audit unknown, not advice that fits only Linux.
    @Test func theNagiosLineGivesTheFirstReason() throws {
        let assessment = Self.unreadable(2)
        let reason = try #require(assessment.interfaces.first?.reason)
        #expect(NagiosLine.render(assessment).hasPrefix("TUNWARDEN UNKNOWN: 2 tunnel interfaces could not be judged: \(reason) |"), "\(NagiosLine.render(assessment))")
        // A reason holding `|` or a line break would end the plugin's text: neither is left.
        var piped = assessment
        piped.interfaces[0].reason = "run ps auxww | grep -i zerotier\nthen again " + String(repeating: "word ", count: 60)
        let line = NagiosLine.render(piped)
        #expect(line.filter { $0 == "|" }.count == 1 && !line.contains("\n"), "\(line)")
        #expect(line.contains("run ps auxww / grep -i zerotier then again word") && line.contains("word…"), "\(line)")
    }
}
