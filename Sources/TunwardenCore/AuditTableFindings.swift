import Foundation

/// The findings as the audit for people lists them: one entry each, wrapped under a width, or
/// many of one id and severity grouped into one entry, the severity label painted.
extension AuditTable {
    /// The findings, one entry each, or grouped per id and severity when there are many.
    static func findingsText(_ findings: [Finding], paint: Painter, width: Int?, verbose: Bool) -> String {
        var out = ""
        var position = findings.startIndex
        while position < findings.endIndex {
            let first = findings[position]
            var end = position + 1
            while end < findings.endIndex, findings[end].id == first.id, findings[end].severity == first.severity { end += 1 }
            let run = findings[position..<end]
            let named = run.filter { $0.ifname != nil }
            if !verbose, named.count >= groupFrom {
                out += group(Array(run), paint: paint, width: width)
            } else {
                for finding in run { out += entry(finding, paint: paint, width: width) }
            }
            position = end
        }
        return out
    }

    /// `  WARNING orphaned-tun tap0 [reapable]: evidence`, wrapped under a width, then the
    /// finding's commands (see `commandLines`).
    static func entry(_ finding: Finding, paint: Painter, width: Int?) -> String {
        let label = finding.severity.rawValue.uppercased()
        // (The heading wraps with the text where a narrow terminal cannot hold it whole.)
        let head = "\(label) \(finding.id)\(finding.ifname.map { " " + $0 } ?? "")\(finding.reapable ? " [reapable]" : ""): "
        return painted(TextLayout.wrap(head + finding.prose, width: width, prefix: "  ", indent: 6), label: label, severity: finding.severity, paint: paint)
            + commandLines(finding.commands)
    }

    /// A finding's commands, one to a line under its text, indented as a reap plan's are under
    /// their item and never wrapped: a command copied from the terminal is the whole command.
    static func commandLines(_ commands: [String]) -> String {
        commands.map { "        \($0)\n" }.joined()
    }

    /// One entry for many findings of one id and severity: how many, the interfaces (as many as
    /// fit a few lines), and the first finding's evidence as the example; the context every one
    /// of them repeats is said once.
    static func group(_ findings: [Finding], paint: Painter, width: Int?) -> String {
        let first = findings[0]
        let label = first.severity.rawValue.uppercased()
        let names = findings.compactMap(\.ifname)
        let reapable = findings.count { $0.reapable }
        let note = reapable == findings.count ? ", reapable" : reapable > 0 ? ", \(reapable) reapable" : ""
        let head = "\(label) \(first.id) (\(findings.count) interfaces\(note)): "
        // About three lines of names on a terminal, 24 names otherwise; --verbose lists all.
        let room = (width ?? 0) > 0 ? max(40, (width! - 6) * 3 - head.count - 2) : Int.max
        var shown: [String] = []
        var length = 0
        for name in names where shown.count < (width == nil ? 24 : names.count) {
            let columns = TextLayout.columns(name)
            if length + columns + 2 > room { break }
            shown.append(name)
            length += columns + 2
        }
        var list = shown.joined(separator: ", ")
        if shown.count < names.count { list += " and \(names.count - shown.count) more (--verbose lists every finding)" }
        var out = painted(TextLayout.wrap(head + list + ".", width: width, prefix: "  ", indent: 6), label: label, severity: first.severity, paint: paint)
        out += TextLayout.wrap(first.prose, width: width, prefix: "      For example: ", indent: 6).joined(separator: "\n") + "\n"
        out += commandLines(first.commands)
        return out
    }

    /// Lines joined, with the severity label on the first one painted.
    static func painted(_ lines: [String], label: String, severity: Severity, paint: Painter) -> String {
        var lines = lines
        if paint.enabled, let range = lines[0].range(of: label) {
            lines[0].replaceSubrange(range, with: paint.severity(severity, label))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
