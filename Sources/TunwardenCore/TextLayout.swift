import Foundation

/// Fitting text to a terminal: lists shortened with `(+N)`, and paragraphs wrapped at word
/// boundaries with a hanging indent. Widths are counted in terminal columns (`columns(_:)`): a
/// wide character, as a name or a holder's command may hold, takes two.
public enum TextLayout {
    /// The items joined by `separator`, as many as fit in `width` with ` (+N)` for the rest. When
    /// not even the first fits, it is cut short with `…`. Never wider than `width` (at least 8).
    public static func fit(_ items: [String], width: Int, separator: String = ",") -> String {
        let whole = items.joined(separator: separator)
        guard columns(whole) > width, !items.isEmpty else { return whole }
        let width = max(width, 8)
        var shown: [String] = []
        var length = 0
        for (position, item) in items.enumerated() {
            let rest = items.count - position - 1
            let suffix = rest > 0 ? " (+\(rest))" : ""
            let added = (shown.isEmpty ? 0 : columns(separator)) + columns(item)
            if length + added + suffix.count > width { break }
            shown.append(item)
            length += added
        }
        if shown.isEmpty {
            let suffix = items.count > 1 ? " (+\(items.count - 1))" : ""
            return prefix(items[0], columns: max(1, width - suffix.count - 1)) + "…" + suffix
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
            if lineHasWord, columns(line) + space + columns(String(word)) > width {
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

    /// How many terminal columns `text` takes: its length in bytes when they are plain ASCII
    /// (nearly every cell: names, kinds, addresses), measured a character at a time only
    /// otherwise, a wide one (CJK, an emoji shown as one) taking two columns (see `columns(of:)`).
    public static func columns(_ text: String) -> Int {
        for byte in text.utf8 where byte >= 0x80 || byte == UInt8(ascii: "\r") { return text.reduce(0) { $0 + columns(of: $1) } }
        return text.utf8.count
    }

    /// The columns a terminal gives one character, as wcwidth(3) does for the common cases: two
    /// for East Asian wide and fullwidth characters and for emoji shown as pictures (by default
    /// or asked for with VS16), none for a character made only of combining marks, one otherwise.
    public static func columns(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if scalars.allSatisfy({ [.nonspacingMark, .enclosingMark].contains($0.properties.generalCategory) }) { return 0 }
        if first.properties.isEmojiPresentation || (first.properties.isEmoji && scalars.contains("\u{FE0F}")) { return 2 }
        switch first.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3,
             0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    /// The longest start of `text` that takes at most `columns` terminal columns.
    static func prefix(_ text: String, columns limit: Int) -> String {
        var taken = 0
        var end = text.startIndex
        for index in text.indices {
            taken += columns(of: text[index])
            if taken > limit { break }
            end = text.index(after: index)
        }
        return String(text[..<end])
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
                // (In column order: of columns equally wide, the same one shrinks on every run.)
                guard let widest = shrinkable.sorted().filter({ widths[$0] > lowest($0) }).max(by: { widths[$0] < widths[$1] }) else { break }
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
