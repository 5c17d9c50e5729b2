import Foundation

/// The marks a line starts with that `CaptureText.tokenize` takes off before reading its words
/// (a Jira or Confluence block macro, `cat -n`'s line number, the `>` of a quoted line), and the
/// markup that `CaptureText.clean` reads as the blanks it stands for (an HTML page's `&nbsp;`,
/// the cell borders of a Markdown table; an HTML table's are read in `CaptureHTMLTables`).
extension CaptureText {
    /// `text` with each no-break space written as an HTML entity (`&nbsp;`, `&#160;`, `&#xA0;`,
    /// as a web editor keeps runs of blanks) made the character it stands for, which separates
    /// words like a space: a route row so written reads as the row it is.
    /// A space or a tab written as a numeric entity (`&#32;`, `&#x20;`, `&#9;`) is that blank.
    static func withBlankEntities(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "&")), text.contains("&nbsp;") || text.contains("&#") else { return text }
        return text.replacingOccurrences(of: #"&(?:nbsp|#160|#[xX]0*[aA]0);"#, with: "\u{00A0}", options: .regularExpression)
            .replacingOccurrences(of: #"&#(?:0*32|[xX]0*20);"#, with: " ", options: .regularExpression)
            .replacingOccurrences(of: #"&#(?:0*9|[xX]0*9);"#, with: "\t", options: .regularExpression)
    }

    /// `text` with HTML's line break tag (`<br>`, `<br/>`, `<br />`, in any case) made the line
    /// break it stands for: the only way to put several lines into a Markdown table's cell, and
    /// what a web editor writes at each line's end. One that ends its line is dropped, so the
    /// lines keep their numbers; one inside a line starts a new line, so the lines after it are
    /// counted as the reader sees them, not as the file numbers them.
    static func withLineBreakTags(_ text: String) -> String {
        var previous: UInt8 = 0
        var found = false
        for byte in text.utf8 {
            if previous == UInt8(ascii: "<"), byte | 0x20 == UInt8(ascii: "b") {
                found = true
                break
            }
            previous = byte
        }
        guard found else { return text }
        return text.replacingOccurrences(of: #"(?i)[ \t]*<br[ \t]*/?>[ \t\r]*(?=\n|$)"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #"(?i)[ \t]*<br[ \t]*/?>"#, with: "\n", options: .regularExpression)
    }

    /// `text` with the rows of a Markdown table (`| 0/1 | utun7 | USc | utun7 |  |`) read as the
    /// columns they hold: the cell borders become blanks, a cell that is one code span
    /// (`` `0/1` ``, as an issue writer marks each value) is the text the span renders as, and the
    /// line under the header (`|---|:--|`) holds nothing. An issue writer who turned `netstat
    /// -rn` into a table shows the same rows; a line that only starts with `|` (`| grep utun`
    /// wrapped) is no row.
    static func withMarkdownTableRows(_ text: String) -> String {
        guard text.utf8.first == UInt8(ascii: "|") || text.contains("\n|") else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var changed = false
        for index in lines.indices {
            let line = lines[index].trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            guard line.count >= 3, line.first == "|", line.last == "|", line.filter({ $0 == "|" }).count >= 3 else { continue }
            changed = true
            if line.allSatisfy({ "|-: ".contains($0) }) {
                lines[index] = ""
            } else {
                lines[index] = line.split(separator: "|", omittingEmptySubsequences: false).map(codeSpanContent).joined(separator: " ")
            }
        }
        return changed ? lines.joined(separator: "\n") : text
    }

    /// A Markdown table cell's text as it renders: the content of a cell that is one code span
    /// (`` `utun4` ``, ``` ``link#4`` ```), the cell itself otherwise. A span's content keeps
    /// no backtick (nor the blank a writer puts inside the marks), so its words read as the
    /// column's.
    static func codeSpanContent(_ cell: Substring) -> String {
        let trimmed = cell.trimmingCharacters(in: .whitespaces)
        let marks = trimmed.prefix { $0 == "`" }.count
        guard marks > 0, trimmed.count > 2 * marks, trimmed.hasSuffix(String(repeating: "`", count: marks)) else { return String(cell) }
        let content = trimmed.dropFirst(marks).dropLast(marks)
        // (`` `a` and `b` `` is two spans and the text between them, kept as it is.)
        guard !content.hasPrefix("`"), !content.hasSuffix("`"), !content.contains(String(repeating: "`", count: marks)) else { return String(cell) }
        return " " + content.trimmingCharacters(in: .whitespaces) + " "
    }

    /// The wiki markup macros that open and close a block of verbatim text, as Jira and
    /// Confluence write them.
    static let blockMacros: [[UInt8]] = ["noformat", "code", "quote", "panel"].map { Array($0.utf8) }

    /// Where a block macro that starts at `position` ends: `{noformat}`, `{code}`, or one with
    /// parameters (`{code:bash}`, `{panel:title=Output}`), on one line.
    static func blockMacroEnd(_ bytes: [UInt8], at position: Int) -> Int? {
        guard let name = blockMacros.first(where: { macro in
            position + 1 + macro.count < bytes.count && Array(bytes[(position + 1)..<(position + 1 + macro.count)]).map { $0 | 0x20 } == macro
        }) else { return nil }
        var at = position + 1 + name.count
        if bytes[at] == UInt8(ascii: ":") {
            while at < bytes.count, at - position < 200, bytes[at] != UInt8(ascii: "}"), bytes[at] != 0x0A { at += 1 }
        }
        guard at < bytes.count, bytes[at] == UInt8(ascii: "}") else { return nil }
        return at + 1
    }

    /// Whether the only word so far on `line` is the frame corner of a two-line prompt (`└──╼`,
    /// `╰─`): it starts with `└` (E2 94 94) or `╰` (E2 95 B0).
    static func followsFrameCorner(_ bytes: [UInt8], starts: [Int32], lines: [Int32], line: Int32) -> Bool {
        guard let last = lines.last, last == line, lines.count == 1 || lines[lines.count - 2] != line, let start = starts.last.map(Int.init),
              start + 2 < bytes.count, bytes[start] == 0xE2 else { return false }
        return (bytes[start + 1] == 0x94 && bytes[start + 2] == 0x94) || (bytes[start + 1] == 0x95 && bytes[start + 2] == 0xB0)
    }

    /// Past the tab after the digits at `position`, when digits (at most seven) and a tab are
    /// what comes there.
    static func lineNumberEnd(_ bytes: [UInt8], at position: Int) -> Int? {
        var at = position
        while at < bytes.count, at - position < 7, bytes[at] >= 0x30, bytes[at] <= 0x39 { at += 1 }
        guard at > position, at < bytes.count, bytes[at] == 0x09 else { return nil }
        return at + 1
    }

    /// Whether a line's first word may start a netstat route row: a destination that starts with
    /// a digit (`127`, `10.8/16`, `1`), `default`, or an IPv6 one (`fe80::%utun0/64`, `::1`,
    /// `ff02::%lo0/32`). Any other word (a prompt, `Internet6:`, prose) ends the table.
    static func startsRouteRow(_ first: ArraySlice<UInt8>) -> Bool {
        guard let byte = first.first else { return false }
        if (0x30...0x39).contains(byte) || first.elementsEqual("default".utf8) { return true }
        let hex = (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte) || byte == UInt8(ascii: ":")
        return hex && first.contains(UInt8(ascii: ":")) && !first.contains(UInt8(ascii: "@"))
    }

    /// Whether most lines that have words start with `>`: then it marks a quote even where a
    /// word follows it at once (`>lo0: flags=…`, as some mail programs quote).
    static func isQuoted(_ bytes: [UInt8]) -> Bool {
        var lines = 0, quotedLines = 0
        var atLineStart = true
        for byte in bytes {
            if byte == 0x0A { atLineStart = true; continue }
            guard atLineStart, byte != 0x20, byte != 0x09, byte != 0x0D else { continue }
            atLineStart = false
            lines += 1
            if byte == UInt8(ascii: ">") { quotedLines += 1 }
        }
        return lines > 0 && quotedLines * 2 > lines
    }

    /// Whether the `>` at `position`, first on its line (after nothing but other markers and
    /// spaces), quotes the line: followed by a space, a tab, another `>` or the line's end. A `>`
    /// followed by a word (`>foo`) is text.
    static func quoteMarker(_ bytes: [UInt8], at position: Int) -> Bool {
        guard position + 1 < bytes.count else { return true }
        let next = bytes[position + 1]
        return next == 0x20 || next == 0x09 || next == 0x0A || next == 0x0D || next == UInt8(ascii: ">")
    }
}
