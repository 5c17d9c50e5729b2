import Foundation

/// The rows of an HTML table in a paste, read as the columns they hold, as a Markdown table's
/// are (see `CaptureText.withMarkdownTableRows`). An issue writer who put `netstat -rn` into
/// `<table><tr><td>default</td><td>ppp0</td>…</tr>` (adrienverge/openfortivpn#534 has this
/// shape) shows the same rows.
extension CaptureText {
    /// The tags of a table's structure: each stands for the blank between two columns.
    static let tableTags: Set<String> = ["table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col"]

    /// Tags of inline markup a cell may hold around its text (`<td><code>default</code></td>`),
    /// which stand for nothing. (`<br>` stands for a line break: it stays in the row's text, and
    /// `withLineBreakTags` reads it after the table.)
    static let inlineTags: Set<String> = ["code", "b", "i", "em", "strong", "span", "kbd", "tt", "samp", "pre", "font", "a", "p", "div", "sub", "sup"]

    /// `text` with the rows of an HTML table read as the columns they hold: each row
    /// (`<tr>` … `</tr>`, on one line or on several) becomes the words of its cells, separated
    /// by blanks, on the line its first cell's text is on, and the other lines of the table
    /// hold nothing. The entities a cell's text may be written with (`&amp;`, `&lt;`, `&gt;`,
    /// `&quot;`, `&#39;`; `&nbsp;` is read before, see `withBlankEntities`) become the characters
    /// they stand for. Text before or after the table on a line of its first or last tag stays.
    /// A line without a table's tag is left as it is, and ends a row still open before it.
    static func withHTMLTableRows(_ text: String) -> String {
        guard mayHoldTableTag(text) else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var rows: [Int: String] = [:]
        var changed = false
        // The open row: the line of its first words (nil before any), its text, the line it
        // opened on, and whether a cell opened it without `<tr>`.
        var row: (line: Int?, text: String, opened: Int, implicit: Bool)?
        func closeRow() {
            if let open = row, let line = open.line { rows[line, default: ""] += decodedEntities(open.text) }
            row = nil
        }
        for index in lines.indices {
            let pieces = tagPieces(lines[index])
            // A line without a table's tag is no part of a row (nor a `<tr>` named in prose the
            // start of one that swallows the lines after it): it ends the row before it.
            guard pieces.contains(where: { $0.tag.map(tableTags.contains) == true }) else {
                closeRow()
                continue
            }
            changed = true
            var outside = ""
            for piece in pieces {
                guard let tag = piece.tag else {
                    if row != nil {
                        if row?.line == nil, piece.text.contains(where: { $0 != " " && $0 != "\t" }) { row?.line = index }
                        row?.text += piece.text
                    } else {
                        outside += piece.text
                    }
                    continue
                }
                switch (tag, piece.closing) {
                case ("table", true): closeRow()
                case ("tr", false):
                    closeRow()
                    row = (nil, "", index, false)
                case ("tr", true): closeRow()
                case ("td", false), ("th", false):
                    if row == nil { row = (nil, "", index, true) }
                    row?.text += " "
                default:
                    if tableTags.contains(tag) { row?.text += " " }
                }
            }
            lines[index] = outside.contains(where: { $0 != " " && $0 != "\t" && $0 != "\r" }) ? outside : ""
            // Cells without `<tr>` are a row of their line; a row whose `</tr>` was lost ends
            // after 64 lines at most.
            if let open = row, open.implicit || index - open.opened >= 64 { closeRow() }
        }
        closeRow()
        for (line, cells) in rows { lines[line] += (lines[line].isEmpty ? "" : " ") + cells }
        return changed ? lines.joined(separator: "\n") : text
    }

    /// Whether `text` may hold a table's tag: a `<` before `t` or `T` (`<td`, `<tr`, `<table`).
    static func mayHoldTableTag(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == UInt8(ascii: "<"), byte | 0x20 == UInt8(ascii: "t") { return true }
            previous = byte
        }
        return false
    }

    /// A line cut into text and the tags of `tableTags` and `inlineTags` (`<td>`, `</TD>`,
    /// `<td align="left">`, `<br/>`); any other `<…>` (`<UP,RUNNING>`, `<Link#4>`) is text.
    static func tagPieces(_ line: String) -> [(text: String, tag: String?, closing: Bool)] {
        var pieces: [(text: String, tag: String?, closing: Bool)] = []
        var rest = Substring(line)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            var inside = rest[rest.index(after: open)..<close]
            let closing = inside.first == "/"
            if closing { inside = inside.dropFirst() }
            if inside.last == "/" { inside = inside.dropLast() }
            let name = inside.prefix { $0.isLetter }.lowercased()
            let after = inside.dropFirst(name.count).first
            guard !name.isEmpty, tableTags.contains(name) || inlineTags.contains(name), after == nil || after == " " else {
                pieces.append((String(rest[...close]), nil, false))
                rest = rest[rest.index(after: close)...]
                continue
            }
            if open > rest.startIndex { pieces.append((String(rest[..<open]), nil, false)) }
            pieces.append(("", name, closing))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append((String(rest), nil, false)) }
        return pieces
    }

    /// `text` with the entities of HTML's markup characters made those characters, and every
    /// numeric entity (`&#47;`, `&#x2F;`) the printable character it stands for.
    static func decodedEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return decodedNumericEntities(text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\""))
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// `text` with each numeric entity of a printable character made that character; one of a
    /// control character, or of none, stays as written.
    static func decodedNumericEntities(_ text: String) -> String {
        guard text.contains("&#") else { return text }
        var result = ""
        var rest = Substring(text)
        while let match = rest.range(of: #"&#([0-9]{1,7}|[xX][0-9a-fA-F]{1,6});"#, options: .regularExpression) {
            result += rest[..<match.lowerBound]
            let body = rest[match].dropFirst(2).dropLast()
            let value = body.first == "x" || body.first == "X" ? UInt32(body.dropFirst(), radix: 16) : UInt32(body)
            if let value, value >= 0x20, !(0x7F...0x9F).contains(value), let scalar = Unicode.Scalar(value) {
                result.unicodeScalars.append(scalar)
            } else {
                result += rest[match]
            }
            rest = rest[match.upperBound...]
        }
        return result + rest
    }
}
