import Foundation

/// Laying out the table: columns as wide as their widest cell in terminal columns, lines put
/// together as UTF-8 bytes, and a table shortened to fit a terminal's width.
extension AuditTable {
    /// Shortens the HOLDERS, ADDRESSES and ROUTES cells so that the table fits `width`, never
    /// cutting an address or a route: a cell keeps whole items and counts the rest with ` (+N)`;
    /// where not even its first item fits, a holder keeps its pid and loses the end of its
    /// command (`com.fenn…[911]`), and routes are given as their count (`(3 routes)`: the
    /// findings name the routes that matter). The columns are first made as narrow as whole first
    /// items allow, then as holders' pids allow, then as counts of routes allow. Returns false,
    /// changing nothing, when even that overflows `width`: a table of cut or counted addresses
    /// would tell nothing, and `blocks` shows every one whole.
    static func fit(_ lines: inout [[String]], lists: [[[String]]], width: Int) -> Bool {
        let shrinkable = [3, 4, 5]
        let natural = lines[0].indices.map { column in lines.map { TextLayout.columns($0[column]) }.max() ?? 0 }
        let total = { (widths: [Int]) in widths.reduce(0, +) + 2 * (widths.count - 1) }
        guard total(natural) > width else { return true }
        for tier in 0..<3 {
            // The narrowest each list column can be at this tier: its header's width, and every
            // row's cell at its narrowest.
            var floors = lines[0].map(TextLayout.columns)
            for row in lines.indices.dropFirst() {
                for (offset, column) in shrinkable.enumerated() {
                    floors[column] = max(floors[column], min(least(lists[row][offset], list: offset, tier: tier), natural[column]))
                }
            }
            let widths = TextLayout.columnWidths(natural: natural, shrinkable: Set(shrinkable), width: width, floors: floors)
            guard total(widths) <= width else { continue }
            for row in lines.indices.dropFirst() {
                for (offset, column) in shrinkable.enumerated() where TextLayout.columns(lines[row][column]) > widths[column] {
                    lines[row][column] = cell(lists[row][offset], list: offset, width: widths[column])
                }
            }
            return true
        }
        return false
    }

    /// What the list cells count, singular and plural, by position (holders, addresses, routes).
    static let listNouns = [("holder", "holders"), ("address", "addresses"), ("route", "routes")]

    /// `(3 routes)`: a list cell given as its count.
    static func count(_ items: [String], list: Int) -> String {
        "(\(items.count) \(items.count == 1 ? listNouns[list].0 : listNouns[list].1))"
    }

    /// The narrowest a list cell can be at a tier of `fit`: 0, its first item whole and the count
    /// of the rest; 1, the same with a holder shortened to its pid; 2, routes as their count.
    static func least(_ items: [String], list: Int, tier: Int) -> Int {
        guard let first = items.first else { return 0 }
        let rest = items.count > 1 ? " (+\(items.count - 1))".count : 0
        var least = TextLayout.columns(first) + rest
        if tier >= 1, list == 0, let short = shortHolder(first, columns: 0) { least = min(least, TextLayout.columns(short) + rest) }
        if tier >= 2, list == 2 { least = min(least, count(items, list: list).count) }
        return least
    }

    /// A list cell in `width` columns (at least its `least`): whole items and ` (+N)`, else a
    /// holder cut short to its pid and ` (+N)`, else the routes' count.
    static func cell(_ items: [String], list: Int, width: Int) -> String {
        guard let first = items.first else { return "" }
        let rest = items.count > 1 ? " (+\(items.count - 1))" : ""
        if TextLayout.columns(first) + rest.count <= width { return TextLayout.fit(items, width: width) }
        if list == 0, let short = shortHolder(first, columns: width - rest.count) { return short + rest }
        return count(items, list: list)
    }

    /// A holder's `comm[pid]` in at most `columns` columns, its command cut short with `…` and its
    /// pid whole (`com.fenn…[911]`), keeping at least six characters of the command; with
    /// `columns` 0, at its shortest. Nil when it does not fit or is no `comm[pid]`.
    static func shortHolder(_ display: String, columns: Int) -> String? {
        guard display.hasSuffix("]"), let open = display.lastIndex(of: "[") else { return nil }
        let pid = String(display[open...])
        let command = String(display[..<open])
        let keep = columns == 0 ? 6 : columns - pid.count - 1
        guard keep >= 6, TextLayout.columns(command) > keep else { return nil }
        return TextLayout.prefix(command, columns: keep) + "…" + pid
    }

    /// The rows (the header first) in aligned columns, the state column painted by `states`.
    static func layout(_ lines: [[String]], states: [InterfaceState?], paint: Painter) -> String {
        // Columns are as wide as their widest cell in terminal columns, which is what a terminal shows.
        // The table is put together as UTF-8 bytes, each cell measured once and copied once:
        // tables of tens of thousands of rows spent most of their time growing and measuring
        // Strings.
        let cellWidths = lines.map { $0.map(TextLayout.columns) }
        let widths = columnWidths(cellWidths)
        var out: [UInt8] = []
        out.reserveCapacity(lines.count * (widths.reduce(0, +) + 2 * widths.count + 1))
        for (n, line) in lines.enumerated() {
            let start = out.count
            append(line, cellWidths: cellWidths[n], widths: widths, state: states[n], bold: n == 0 && paint.enabled, paint: paint,
                   padLast: false, to: &out)
            endLine(&out, from: start)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The width of each column: its widest cell's.
    static func columnWidths(_ cellWidths: [[Int]]) -> [Int] {
        var widths = [Int](repeating: 0, count: cellWidths.first?.count ?? 0)
        for line in cellWidths { for (i, width) in line.enumerated() { widths[i] = max(widths[i], width) } }
        return widths
    }

    /// Appends one line's cells, each but the last (every one with `padLast`) followed by the
    /// spaces that line up the next column; the STATE cell painted as `state`, the whole line bold
    /// with `bold`.
    static func append(_ line: [String], cellWidths: [Int], widths: [Int], state: InterfaceState?, bold: Bool = false,
                       paint: Painter, padLast: Bool, to out: inout [UInt8]) {
        if bold { out += Painter.start("1").utf8 }
        for (i, cell) in line.enumerated() {
            let code = i == 2 ? paint.code(state) : nil
            if let code { out += Painter.start(code).utf8 }
            out += cell.utf8
            if padLast || i != line.count - 1 { out += repeatElement(UInt8(ascii: " "), count: widths[i] - cellWidths[i] + 2) }
            if code != nil { out += Painter.end.utf8 }
        }
        if bold { out += Painter.end.utf8 }
    }

    /// Ends the line that began at `start`: the spaces that end it (after a cell left empty, or
    /// padding) are dropped.
    static func endLine(_ out: inout [UInt8], from start: Int) {
        while out.count > start, out[out.count - 1] == UInt8(ascii: " ") { out.removeLast() }
        out.append(UInt8(ascii: "\n"))
    }
}
