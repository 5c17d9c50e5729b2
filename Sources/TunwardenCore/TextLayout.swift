import Foundation

/// Fitting text to a terminal: lists shortened with `(+N)`, and paragraphs wrapped at word
/// boundaries with a hanging indent. Widths are counted in characters, which is what a terminal
/// shows for the text tunwarden prints.
public enum TextLayout {
    /// The items joined by `separator`, as many as fit in `width` with ` (+N)` for the rest. When
    /// not even the first fits, it is cut short with `…`. Never wider than `width` (at least 8).
    public static func fit(_ items: [String], width: Int, separator: String = ",") -> String {
        let whole = items.joined(separator: separator)
        guard whole.count > width, !items.isEmpty else { return whole }
        let width = max(width, 8)
        var shown: [String] = []
        var length = 0
        for (position, item) in items.enumerated() {
            let rest = items.count - position - 1
            let suffix = rest > 0 ? " (+\(rest))" : ""
            let added = (shown.isEmpty ? 0 : separator.count) + item.count
            if length + added + suffix.count > width { break }
            shown.append(item)
            length += added
        }
        if shown.isEmpty {
            let suffix = items.count > 1 ? " (+\(items.count - 1))" : ""
            return String(items[0].prefix(max(1, width - suffix.count - 1))) + "…" + suffix
        }
        let rest = items.count - shown.count
        return shown.joined(separator: separator) + (rest > 0 ? " (+\(rest))" : "")
    }

    /// `text` wrapped at `width` on spaces: the first line starts with `prefix`, the others with
    /// `indent` spaces. A word longer than a line stays whole on its own line. Without a width the
    /// text is one line.
    public static func wrap(_ text: String, width: Int?, prefix: String = "", indent: Int = 0) -> [String] {
        guard let width else { return [prefix + text] }
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = prefix
        // A prefix with text in it counts as a word: the first word goes on the next line rather
        // than past the width.
        var lineHasWord = prefix.contains { $0 != " " }
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            let space = lineHasWord && line.last != " " ? 1 : 0
            if lineHasWord, line.count + space + word.count > width {
                lines.append(line.trailingSpacesRemoved)
                line = pad
                lineHasWord = false
            }
            line += (lineHasWord && line.last != " " ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines
    }

    /// Shrinks the columns that can be shortened (`shrinkable`) until the row fits `width`, the
    /// widest first and none below `minimum` (or its natural width, when smaller). `gap` spaces
    /// separate columns. Returns the width of each column.
    /// A column is first kept at `minimum` at least, then, on a narrow terminal, at 8; never
    /// below its entry in `floors` (its header's width).
    public static func columnWidths(natural: [Int], shrinkable: Set<Int>, width: Int, gap: Int = 2, minimum: Int = 14, floors: [Int] = []) -> [Int] {
        var widths = natural
        let total = { widths.reduce(0, +) + gap * max(0, widths.count - 1) }
        for floor in [minimum, 8] {
            while total() > width {
                let lowest = { (column: Int) in max(min(natural[column], floor), column < floors.count ? floors[column] : 0) }
                guard let widest = shrinkable.filter({ widths[$0] > lowest($0) }).max(by: { widths[$0] < widths[$1] }) else { break }
                widths[widest] -= 1
            }
        }
        return widths
    }
}

extension String {
    var trailingSpacesRemoved: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
