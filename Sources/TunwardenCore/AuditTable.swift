import Foundation

/// The audit for people: a table, the findings with their evidence, and one summary line.
public enum AuditTable {
    /// One listed interface: an assessed tunnel by its position in the assessment, or a context
    /// interface by its position in the snapshot.
    enum Row: Sendable {
        case assessed(Int)
        case context(Int)
    }

    /// The interfaces listed, in ifindex order; context interfaces only when asked for.
    static func rows(_ assessment: Assessment, includeContext: Bool) -> [Row] {
        var rows = assessment.interfaces.indices.map(Row.assessed)
        if includeContext {
            for (position, interface) in assessment.snapshot.interfaces.enumerated() where !interface.kind.isTunnelStyle {
                rows.append(.context(position))
            }
            func index(_ row: Row) -> Int {
                switch row {
                case let .assessed(position): assessment.interfaces[position].interface.index
                case let .context(position): assessment.snapshot.interfaces[position].index
                }
            }
            rows.sort { index($0) < index($1) }
        }
        return rows
    }

    /// What a listed interface shows; `contextRoutes` are `Heuristics.routesPerInterface` of the
    /// snapshot's routes, worked out once by the caller (needed only for context rows).
    static func row(_ row: Row, of assessment: Assessment, contextRoutes: [Int: [Route]]) -> (interface: NetworkInterface, state: InterfaceState, reason: String, holdersKnown: Bool, holders: [Holder], routes: [Route]) {
        switch row {
        case let .assessed(position):
            let entry = assessment.interfaces[position]
            return (entry.interface, entry.state, entry.reason, entry.holdersKnown, entry.holders, entry.routes)
        case let .context(position):
            let interface = assessment.snapshot.interfaces[position]
            return (interface, .live, "not a tunnel (context)", assessment.snapshot.holders.complete, [], contextRoutes[interface.index] ?? [])
        }
    }

    /// Findings of one id and severity are listed one by one up to this many; more are grouped.
    public static let groupFrom = 4

    /// Renders the whole report. `color` adds ANSI colours; the caller decides (terminal, NO_COLOR,
    /// TERM=dumb, --color). With `observations`, an AGE column shows how long tunwarden has known
    /// each tunnel ("(new)" when this run saw it first); the kernel keeps no creation time for links.
    ///
    /// With a `width` (a terminal's), the table is fitted to it by shortening the HOLDERS,
    /// ADDRESSES and ROUTES columns with `(+N)`, and findings are wrapped at word boundaries with a
    /// hanging indent. Without one (output to a pipe or file), nothing is fitted or wrapped, so
    /// what scripts read does not depend on a terminal. Many findings of one id and severity are
    /// grouped into one entry naming the interfaces, with the first one's evidence as the example;
    /// `verbose` lists every finding instead.
    public static func render(_ assessment: Assessment, includeContext: Bool = false, color: Bool = false,
                              observations: Observations? = nil, width: Int? = nil, verbose: Bool = false) -> String {
        render(assessment, rows: rows(assessment, includeContext: includeContext, color: color, width: width),
               observations: observations, verbose: verbose)
    }

    /// A table's rows as the assessment's interfaces alone give them: every column but AGE, which
    /// needs the observations that recording the assessment returns. A caller can make them while
    /// the recording runs (at 10,000 interfaces they are most of the table's cost) and finish the
    /// table with `render(_:rows:observations:verbose:)`. Without a width they are laid out
    /// already: AGE is the last column, so it changes the padding of no other.
    public struct Rows: Sendable {
        /// The header and one line of cells per row.
        fileprivate var lines: [[String]]
        /// The list columns' items per line, kept only to fit a width.
        fileprivate var lists: [[[String]]]
        fileprivate var states: [InterfaceState?]
        /// Each line's tunnel, by its position in the assessment, whose age AGE shows (nil: the
        /// header, or a context interface, of which tunwarden keeps no observations).
        fileprivate var tunnels: [Int?]
        fileprivate let paint: Painter
        fileprivate let width: Int?
        fileprivate let includeContext: Bool
        /// Without a width: the rows after the header laid out, each padded through its last
        /// column, and where each one ends in `bytes`.
        fileprivate var laidOut: (bytes: [UInt8], ends: [Int], widths: [Int])?
    }

    /// The rows of `assessment`'s table (see `Rows`), with its colouring, for output fitted to
    /// `width` or (nil) never fitted.
    public static func rows(_ assessment: Assessment, includeContext: Bool = false, color: Bool = false, width: Int? = nil) -> Rows {
        let header = ["IFNAME", "KIND", "STATE", "HOLDERS", "ADDRESSES", "ROUTES"]
        var table = Rows(lines: [header], lists: [[]], states: [nil], tunnels: [nil], paint: Painter(enabled: color), width: width,
                         includeContext: includeContext, laidOut: nil)
        let contextRoutes = includeContext ? Heuristics.routesPerInterface(assessment.snapshot.routes) : [:]
        /// Adds one row. Its interface is read where it lies: a copy of each of ten thousand
        /// interfaces was a third of a large table's cost.
        func add(_ interface: NetworkInterface, position: Int?, state: InterfaceState, holdersKnown: Bool, holders found: [Holder], routes: [Route]) {
            let holders: [String]
            if !found.isEmpty {
                holders = found.map(\.display)
            } else {
                holders = [(holdersKnown || ![.tun, .tap, .utun].contains(interface.kind)) ? "(none)" : "(unknown)"]
            }
            let addresses = interface.addresses.isEmpty ? ["(none)"] : interface.addresses.map(\.display)
            let isContext = !interface.kind.isTunnelStyle
            let destinations = routeNames(routes)
            var line = [
                interface.name, isContext ? (interface.infoKind ?? "-") : interface.kind.rawValue,
                isContext ? "-" : state.rawValue, holders.count == 1 ? holders[0] : holders.joined(separator: ","),
                addresses.count == 1 ? addresses[0] : addresses.joined(separator: ","),
                // Whole for a pipe or a file, which is never fitted; a terminal's starts from four.
                destinations.count == 1 ? destinations[0] : width == nil ? destinations.joined(separator: ",")
                    : destinations.prefix(4).joined(separator: ",") + (destinations.count > 4 ? " (+\(destinations.count - 4))" : ""),
            ]
            // Room for the age, where a width leaves it to be added to the cells.
            if width != nil { line.reserveCapacity(line.count + 1) }
            table.lines.append(line)
            // Only a table fitted to a terminal needs the lists again.
            if width != nil { table.lists.append([holders, addresses, destinations]) }
            table.states.append(isContext ? nil : state)
            table.tunnels.append(isContext ? nil : position)
        }
        for row in rows(assessment, includeContext: includeContext) {
            switch row {
            case let .assessed(position):
                add(assessment.interfaces[position].interface, position: position, state: assessment.interfaces[position].state,
                    holdersKnown: assessment.interfaces[position].holdersKnown, holders: assessment.interfaces[position].holders,
                    routes: assessment.interfaces[position].routes)
            case let .context(position):
                let interface = assessment.snapshot.interfaces[position]
                add(interface, position: nil, state: .live, holdersKnown: assessment.snapshot.holders.complete, holders: [], routes: contextRoutes[interface.index] ?? [])
            }
        }
        if width == nil, table.lines.count > 1 {
            let cellWidths = table.lines.map { $0.map(characters) }
            let widths = columnWidths(cellWidths)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(table.lines.count * (widths.reduce(0, +) + 2 * widths.count + 16))
            var ends: [Int] = []
            ends.reserveCapacity(table.lines.count)
            for n in table.lines.indices.dropFirst() {
                append(table.lines[n], cellWidths: cellWidths[n], widths: widths, state: table.states[n], paint: table.paint,
                       padLast: true, to: &bytes)
                ends.append(bytes.count)
            }
            table.laidOut = (bytes, ends, widths)
        }
        return table
    }

    /// The whole report from `rows`, made of `assessment` (or of it before its history's findings
    /// were added: the rows do not show them). With `observations`, an AGE column shows how long
    /// tunwarden has known each tunnel.
    public static func render(_ assessment: Assessment, rows table: Rows, observations: Observations?, verbose: Bool = false) -> String {
        let now = assessment.snapshot.takenAt
        let identity = assessment.snapshot.namespaceIdentity
        func age(_ position: Int?) -> String {
            // tunwarden keeps observations of tunnels only: a context interface has no age.
            guard let position else { return "-" }
            let seen = observations?.observation(of: assessment.interfaces[position].interface, at: position, in: identity)?.firstSeen
            return seen.map { now.timeIntervalSince($0) < 1 ? "(new)" : DurationText.format(now.timeIntervalSince($0)) } ?? "(new)"
        }
        var out: String
        if table.lines.count == 1 {
            // A header over no rows reads like output that was cut off: say what was found instead.
            out = table.includeContext ? "No interfaces at all in this namespace.\n"
                : "No tunnel-style interfaces here; --all also lists the other interfaces.\n"
        } else if let laidOut = table.laidOut {
            let (bytes, ends, widths) = laidOut
            let header = table.lines[0] + (observations == nil ? [] : ["AGE"])
            var text: [UInt8] = []
            text.reserveCapacity(bytes.count + ends.count * 8 + 128)
            append(header, cellWidths: header.map(characters), widths: widths + [0], state: nil, bold: table.paint.enabled,
                   paint: table.paint, padLast: false, to: &text)
            endLine(&text, from: 0)
            var start = 0
            for (n, end) in ends.enumerated() {
                let lineStart = text.count
                text += bytes[start..<end]
                if observations != nil { text += age(table.tunnels[n + 1]).utf8 }
                endLine(&text, from: lineStart)
                start = end
            }
            out = String(decoding: text, as: UTF8.self)
        } else {
            var lines = table.lines
            if observations != nil {
                lines[0].append("AGE")
                for n in lines.indices.dropFirst() { lines[n].append(age(table.tunnels[n])) }
            }
            if let width = table.width { fit(&lines, lists: table.lists, width: width) }
            out = layout(lines, states: table.states, paint: table.paint)
        }
        if !assessment.findings.isEmpty {
            out += "\nFindings:\n"
            out += findingsText(assessment.findings, paint: table.paint, width: table.width, verbose: verbose)
        }
        out += undecidedText(assessment, width: table.width, verbose: verbose)
        out += "\n" + summaryLine(assessment) + "\n"
        return out
    }

    /// Shortens the HOLDERS, ADDRESSES and ROUTES cells so that the table fits `width`.
    static func fit(_ lines: inout [[String]], lists: [[[String]]], width: Int) {
        let natural = lines[0].indices.map { column in lines.map { characters($0[column]) }.max() ?? 0 }
        let widths = TextLayout.columnWidths(natural: natural, shrinkable: [3, 4, 5], width: width, floors: lines[0].map(\.count))
        guard widths != natural else { return }
        for row in lines.indices.dropFirst() {
            for (offset, column) in [3, 4, 5].enumerated() where characters(lines[row][column]) > widths[column] {
                lines[row][column] = TextLayout.fit(lists[row][offset], width: widths[column])
            }
        }
    }

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

    /// `  WARNING orphaned-tun tap0 [reapable]: evidence`, wrapped under a width.
    static func entry(_ finding: Finding, paint: Painter, width: Int?) -> String {
        let label = finding.severity.rawValue.uppercased()
        let head = "  \(label) \(finding.id)\(finding.ifname.map { " " + $0 } ?? "")\(finding.reapable ? " [reapable]" : ""): "
        return painted(TextLayout.wrap(finding.evidence, width: width, prefix: head, indent: 6), label: label, severity: finding.severity, paint: paint)
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
        let head = "  \(label) \(first.id) (\(findings.count) interfaces\(note)): "
        // About three lines of names on a terminal, 24 names otherwise; --verbose lists all.
        let room = (width ?? 0) > 0 ? max(40, (width! - 6) * 3 - head.count) : Int.max
        var shown: [String] = []
        var length = 0
        for name in names where shown.count < (width == nil ? 24 : names.count) {
            if length + name.count + 2 > room { break }
            shown.append(name)
            length += name.count + 2
        }
        var list = shown.joined(separator: ", ")
        if shown.count < names.count { list += " and \(names.count - shown.count) more (--verbose lists every finding)" }
        var out = painted(TextLayout.wrap(list + ".", width: width, prefix: head, indent: 6), label: label, severity: first.severity, paint: paint)
        out += TextLayout.wrap(first.evidence, width: width, prefix: "      For example: ", indent: 6).joined(separator: "\n") + "\n"
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

    /// The rows (the header first) in aligned columns, the state column painted by `states`.
    static func layout(_ lines: [[String]], states: [InterfaceState?], paint: Painter) -> String {
        // Columns are as wide as their widest cell in characters, which is what a terminal shows.
        // The table is put together as UTF-8 bytes, each cell measured once and copied once:
        // tables of tens of thousands of rows spent most of their time growing and measuring
        // Strings.
        let cellWidths = lines.map { $0.map(characters) }
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

    /// How many terminal columns `text` takes: its length in bytes when they are plain ASCII
    /// (nearly every cell: names, kinds, addresses), measured a character at a time only
    /// otherwise, a wide one (CJK, an emoji shown as one) taking two columns (see `columns(of:)`).
    static func characters(_ text: String) -> Int {
        for byte in text.utf8 where byte >= 0x80 || byte == UInt8(ascii: "\r") { return text.reduce(0) { $0 + columns(of: $1) } }
        return text.utf8.count
    }

    /// The columns a terminal gives one character, as wcwidth(3) does for the common cases: two
    /// for East Asian wide and fullwidth characters and for emoji shown as pictures (by default
    /// or asked for with VS16), none for a character made only of combining marks, one otherwise.
    static func columns(of character: Character) -> Int {
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

    /// The destinations of an interface's unicast routes (`default` for a default route), or `(none)`.
    static func routeNames(_ routes: [Route]) -> [String] {
        let shown = routes.filter { $0.type == .unicast }
        guard !shown.isEmpty else { return ["(none)"] }
        return shown.map { $0.destination.length == 0 ? "default" : $0.destination.description }
    }

    /// "12 tunnel interfaces, 3 orphaned, 1 suspect; status WARNING."
    public static func summaryLine(_ assessment: Assessment) -> String {
        let total = assessment.interfaces.count
        var parts = ["\(total) tunnel interface\(total == 1 ? "" : "s")", "\(assessment.count(.orphaned)) orphaned"]
        for state in [InterfaceState.suspect, .unknown] where assessment.count(state) > 0 {
            parts.append("\(assessment.count(state)) \(state.rawValue)")
        }
        // Findings come most severe first: the critical ones lead.
        let critical = assessment.findings.prefix { $0.severity == .critical }.count
        if critical > 0 { parts.append("\(critical) critical finding\(critical == 1 ? "" : "s")") }
        return parts.joined(separator: ", ") + "; status \(assessment.status.rawValue.uppercased())."
    }
}

/// ANSI colouring that is a no-op when disabled.
struct Painter {
    var enabled: Bool

    func wrap(_ code: String, _ text: String) -> String { enabled ? Self.start(code) + text + Self.end : text }

    /// What starts colouring with `code` (`1`: bold), and what ends it.
    static func start(_ code: String) -> String { "\u{1B}[\(code)m" }
    static let end = "\u{1B}[0m"

    /// The colour of an interface's state, or nil when disabled (or for a row with no state).
    func code(_ state: InterfaceState?) -> String? {
        guard enabled else { return nil }
        switch state {
        case .orphaned: return "33"
        case .suspect: return "35"
        case .unknown: return "36"
        case .live: return "32"
        case nil: return nil
        }
    }

    func severity(_ severity: Severity, _ text: String) -> String {
        switch severity {
        case .critical: wrap("1;31", text)
        case .warning: wrap("33", text)
        case .info: wrap("36", text)
        }
    }
}

extension String {
    var trailingSpacesRemoved: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
