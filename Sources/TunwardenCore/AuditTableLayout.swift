import Foundation

/// Laying out the table: columns as wide as their widest cell in terminal columns, lines put
/// together as UTF-8 bytes, and a table shortened to fit a terminal's width.
extension AuditTable {
    /// Shortens the HOLDERS, ADDRESSES and ROUTES cells so that the table fits `width`.
    static func fit(_ lines: inout [[String]], lists: [[[String]]], width: Int) {
        let natural = lines[0].indices.map { column in lines.map { TextLayout.columns($0[column]) }.max() ?? 0 }
        let widths = TextLayout.columnWidths(natural: natural, shrinkable: [3, 4, 5], width: width, floors: lines[0].map(\.count))
        guard widths != natural else { return }
        for row in lines.indices.dropFirst() {
            for (offset, column) in [3, 4, 5].enumerated() where TextLayout.columns(lines[row][column]) > widths[column] {
                lines[row][column] = TextLayout.fit(lists[row][offset], width: widths[column])
            }
        }
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
