import Foundation
import TunwardenCore

/// Writes an audit report as JSON. With thousands of interfaces, the entries and findings (nearly
/// all of the report) are written in two shares at once, one on a thread of its own: once the
/// kernel's dump is over the machine's second core is idle, and the report is what the run still
/// waits for. The pieces it returns, written one after another, are exactly the bytes of
/// `AuditReport.json(pretty:)`.
enum ReportRendering {
    /// From how many entries the work is shared: below, a thread costs more than it saves.
    static let shareFrom = 2000

    static func json(_ report: AuditReport, pretty: Bool) -> [[UInt8]] {
        let count = report.interfaceCount
        guard count >= shareFrom else { return [report.json(pretty: pretty)] }
        // This thread also writes the findings (about two fifths of an entry each, one per
        // orphan at most): it takes fewer entries, so that both threads end together.
        let findingShare = min(report.findings.count, count) * 2 / 5
        let middle = max(0, (count - findingShare) / 2)
        let capacity = (pretty ? report.jsonSizeHint * 2 : report.jsonSizeHint) / 2
        let second = Background { [report] in
            var part = JSONWriter.fragment(pretty: pretty, depth: AuditReport.entriesDepth, capacity: capacity)
            report.writeEntries(middle..<count, to: &part)
            return part
        }
        var first = JSONWriter.fragment(pretty: pretty, depth: AuditReport.entriesDepth, capacity: capacity)
        report.writeEntries(0..<middle, to: &first)
        var findings = JSONWriter.fragment(pretty: pretty, depth: AuditReport.entriesDepth, capacity: report.findings.count * 400 + 64)
        report.writeFindings(to: &findings)
        let rest = second.value
        // The parts are not copied into one buffer: they are the pieces of the output.
        var writer = JSONWriter(pretty: pretty, capacity: 4096)
        report.write(to: &writer, entries: [first, rest], findings: findings)
        return writer.pieces
    }
}
