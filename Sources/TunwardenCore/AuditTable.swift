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
    /// ADDRESSES and ROUTES columns to whole items and a `(+N)` count, or, on a terminal too
    /// narrow for that, shown as one block per interface; findings and the summary are wrapped at
    /// word boundaries with a hanging indent. Without one (output to a pipe or file), nothing is fitted or wrapped, so
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
            let cellWidths = table.lines.map { $0.map(TextLayout.columns) }
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
            out = TextLayout.wrap(table.includeContext ? "No interfaces at all in this namespace."
                : "No tunnel-style interfaces here; --all also lists the other interfaces.", width: table.width).joined(separator: "\n") + "\n"
        } else if let laidOut = table.laidOut {
            let (bytes, ends, widths) = laidOut
            let header = table.lines[0] + (observations == nil ? [] : ["AGE"])
            var text: [UInt8] = []
            text.reserveCapacity(bytes.count + ends.count * 8 + 128)
            append(header, cellWidths: header.map(TextLayout.columns), widths: widths + [0], state: nil, bold: table.paint.enabled,
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
            if let width = table.width, !fit(&lines, lists: table.lists, width: width) {
                out = blocks(lines, lists: table.lists, states: table.states, paint: table.paint, width: width)
            } else {
                out = layout(lines, states: table.states, paint: table.paint)
            }
        }
        if !assessment.findings.isEmpty {
            out += "\nFindings:\n"
            out += findingsText(assessment.findings, paint: table.paint, width: table.width, verbose: verbose)
        }
        out += undecidedText(assessment, width: table.width, verbose: verbose)
        out += "\n" + TextLayout.wrap(summaryLine(assessment), width: table.width).joined(separator: "\n") + "\n"
        return out
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
