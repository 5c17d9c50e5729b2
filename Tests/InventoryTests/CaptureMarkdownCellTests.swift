import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A GitHub issue's `netstat -rn` as a Markdown table whose cells are code spans (round 47 F1):
/// `` | `0/1` | `10.64.12.7` | `UGSc` | `utun4` | `` renders as the plain table does, so its rows
/// are read as that table's and a dead split default into a utun the fenced `ifconfig -a` lacks
/// is critical. Rows of the table in markup tunwarden does not read (bold cells) are routes not
/// read: the status is unknown, never OK.
@Suite struct CaptureMarkdownCellTests {
    /// The issue: a fenced whole `ifconfig -a` (no utun4), then the routes as a table whose
    /// cells are wrapped by `mark` (`` ` `` for code spans; none for plain cells).
    static func issue(mark: String) -> String {
        let rows = [["0/1", "10.64.12.7", "UGSc", "utun4", ""], ["default", "192.168.1.1", "UGScg", "en0", ""], ["127", "127.0.0.1", "UCS", "lo0", ""],
                    ["128.0/1", "10.64.12.7", "UGSc", "utun4", ""], ["192.168.1", "link#4", "UCS", "en0", "!"]]
        let table = rows.map { row in "| " + row.map { $0.isEmpty ? "" : mark + $0 + mark }.joined(separator: " | ") + " |" }
        return """
            `ifconfig -a`:
            ```
            lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
            \tinet 127.0.0.1 netmask 0xff000000
            \tinet6 ::1 prefixlen 128
            \tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1
            gif0: flags=8010<POINTOPOINT,MULTICAST> mtu 1280
            stf0: flags=0<> mtu 1280
            en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
            \tether 8c:85:90:12:34:56
            \tinet 192.168.1.72 netmask 0xffffff00 broadcast 192.168.1.255
            \tstatus: active
            utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
            \tinet6 fe80::cec:23d0:8cf7:c88e%utun0 prefixlen 64 scopeid 0x5
            ```

            Routes (`netstat -rn -f inet`):
            | Destination | Gateway | Flags | Netif | Expire |
            |---|---|---|---|---|

            """ + table.joined(separator: "\n") + "\n"
    }

    static func deadSplit(_ assessment: Assessment) -> Bool {
        assessment.status == .critical && assessment.findings.contains {
            $0.id == FindingID.splitDefault && $0.severity == .critical && $0.ifname == "utun4" && $0.routes?.count == 2
        }
    }

    /// Code spans of one or two backticks, with or without a blank inside the marks, read as the
    /// plain cells do: the split default into the gone utun4 is critical.
    @Test(arguments: ["", "`", "``"])
    func codeSpanCellsAreReadAsTheirText(mark: String) {
        let assessment = CapturePasteTests.assess(Self.issue(mark: mark), file: "issue.md")
        #expect(Self.deadSplit(assessment), "\(mark): \(assessment.status) \(assessment.findings.map(\.evidence))")
        // (The line that introduces the table is no tool's output; its rows, lines 21–25, are.)
        #expect(!assessment.snapshot.readingNotes.contains { $0.contains("not ifconfig output") && $0.contains("21") }, "\(assessment.snapshot.readingNotes)")
        let spaced = CapturePasteTests.assess(Self.issue(mark: mark).replacingOccurrences(of: "| `", with: "| ` ").replacingOccurrences(of: "` |", with: " ` |"))
        #expect(mark != "`" || Self.deadSplit(spaced), "\(spaced.findings.map(\.evidence))")
    }

    /// Cells in bold, which tunwarden does not take off: the rows are route rows it could not
    /// read, named under `capture-missing`, and the status is unknown (exit 3), never OK.
    @Test(arguments: ["**", "_"])
    func rowsInOtherMarkupAreUnreadRoutesNotNone(mark: String) throws {
        let assessment = CapturePasteTests.assess(Self.issue(mark: mark), file: "issue.md")
        #expect(assessment.status == .unknown && assessment.status.exitCode == 3, "\(mark): \(assessment.status) \(assessment.findings.map(\.evidence))")
        let missing = try #require(assessment.findings.first { $0.id == FindingID.captureMissing })
        #expect(missing.leavesUnknown, "\(missing.evidence)")
        #expect(assessment.interfaces.contains { $0.interface.name == "utun4" && $0.state == .unknown }, "\(assessment.interfaces.map(\.interface.name))")
    }

    /// A cell's content as it renders: one code span is its text; anything else is kept.
    @Test func aCellIsItsCodeSpansText() {
        #expect(CaptureText.codeSpanContent(" `utun4` ") == " utun4 ")
        #expect(CaptureText.codeSpanContent("``link#4``") == " link#4 ")
        #expect(CaptureText.codeSpanContent(" ` 0/1 ` ") == " 0/1 ")
        #expect(CaptureText.codeSpanContent(" `a` and `b` ") == " `a` and `b` ")
        #expect(CaptureText.codeSpanContent(" `` ") == " `` ")
        #expect(CaptureText.codeSpanContent(" utun4 ") == " utun4 ")
    }
}
