import Foundation

/// The table for a terminal too narrow for its columns: one block per interface, its name, kind,
/// state and age on one line and each list under it, every value whole.
extension AuditTable {
    /// The lists a block shows take at most this many lines each, the rest counted.
    static let blockListLines = 3

    /// `lines` (the header first, AGE last when present) as blocks:
    ///
    ///     t1  tun  orphaned  AGE 21s
    ///       HOLDERS    (none)
    ///       ADDRESSES  10.99.0.1/24, fd00::1/64
    ///       ROUTES     192.0.2.0/24 (+2)
    ///
    /// A list wraps between items under its label, and what does not fit `blockListLines` lines
    /// is counted with `(+N)`; an item wider than the terminal stays whole on a line of its own.
    static func blocks(_ lines: [[String]], lists: [[[String]]], states: [InterfaceState?], paint: Painter, width: Int) -> String {
        let header = lines[0]
        let labelWidth = header[3...5].map(\.count).max() ?? 0
        var out = ""
        for row in lines.indices.dropFirst() {
            let line = lines[row]
            let stateCode = paint.code(states[row])
            let state = stateCode.map { Painter.start($0) + line[2] + Painter.end } ?? line[2]
            var head = [line[0], line[1], state]
            if line.count > 6, line[6] != "-" { head.append("\(header[6]) \(line[6])") }
            let plain = line[0] + "  " + line[1] + "  " + line[2]
            if TextLayout.columns(plain) + (head.count > 3 ? 2 + TextLayout.columns(head[3]) : 0) <= width {
                out += head.joined(separator: "  ") + "\n"
            } else {
                out += TextLayout.wrap(head.joined(separator: " "), width: width, indent: 4).joined(separator: "\n") + "\n"
            }
            for (offset, column) in (3...5).enumerated() {
                let label = "  " + header[column].padding(toLength: labelWidth, withPad: " ", startingAt: 0) + "  "
                for text in listLines(lists[row][offset], prefix: label, width: width) { out += text + "\n" }
            }
        }
        return out
    }

    /// `items` after `prefix`, joined by ", " and wrapped under it at most `blockListLines`
    /// lines deep, the items left out counted as ` (+N)` on the last line.
    static func listLines(_ items: [String], prefix: String, width: Int) -> [String] {
        let pad = String(repeating: " ", count: prefix.count)
        var lines: [[String]] = [[]]
        var used = prefix.count
        var shown = 0
        for (position, item) in items.enumerated() {
            let columns = TextLayout.columns(item)
            let rest = items.count - position - 1
            // On the last line there must be room for the count of what follows.
            let reserve = lines.count == blockListLines && rest > 0 ? " (+\(rest))".count : 0
            let separator = lines[lines.count - 1].isEmpty ? 0 : 2
            if !lines[lines.count - 1].isEmpty, used + separator + columns + reserve > width {
                guard lines.count < blockListLines else { break }
                lines.append([])
                used = pad.count
            }
            used += (lines[lines.count - 1].isEmpty ? 0 : 2) + columns
            lines[lines.count - 1].append(item)
            shown += 1
        }
        var text = lines.enumerated().map { n, line in (n == 0 ? prefix : pad) + line.joined(separator: ", ") + (n < lines.count - 1 ? "," : "") }
        if shown < items.count { text[text.count - 1] += " (+\(items.count - shown))" }
        return text
    }
}
