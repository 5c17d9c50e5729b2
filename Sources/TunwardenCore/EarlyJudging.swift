/// Judging (and, for a JSON report, writing the entries of) the first interfaces of a snapshot
/// while the inventory is still reading the rest.
///
/// A link dump of tens of thousands of devices keeps the kernel busy for tens of milliseconds,
/// and the links that have arrived can be judged meanwhile: a tun's verdict depends on nothing but
/// itself, the holder scan and its own routes (`Heuristics.judgeAlone`). An inventory that reads
/// holders and routes before its links are all in calls `begin`, then `feed`s the snapshot's own
/// interfaces, complete (addresses attached), in snapshot order from the first; `reset` when it
/// must start over (an interrupted dump). `Heuristics.assess` then takes over the verdicts of the
/// prefix that was fed, provided they were judged against the holders and routes of the snapshot
/// it is given and the interfaces match, and judges the rest. The assessment is the one judging
/// the finished snapshot alone gives; the tests hold the two equal.
///
/// For a JSON report, the findings raised early are written too, each into the stretch of the
/// report's findings it will sit in: findings are listed by severity and id and, within those, in
/// the order they were raised, so the early ones lead their group (`findings(for:)` checks this).
///
/// Only interfaces judged alone are judged early: the first veth or feth (whose verdict needs the
/// whole snapshot: peers, running processes) ends the early prefix, and everything from it on is
/// judged with the finished snapshot. One thread feeds an instance; it is not shared.
public final class EarlyJudging {
    /// Whether report entries are written pretty-printed (false: compact), or nil when none are
    /// written. They are written early only for a JSON report listing tunnel interfaces alone and
    /// no observations: then entry `i` is made from assessed interface `i` alone.
    let entriesPretty: Bool?

    /// The holders and routes the early verdicts were reached with; nil before `begin`.
    private(set) var holders: HolderScan?
    private(set) var routes: [Route] = []
    private var holderIndex: Heuristics.HolderIndex?
    private var routesByIndex: [Int: [Route]] = [:]

    /// Snapshot positions fed and judged so far: interfaces `0..<judgedCount`.
    public private(set) var judgedCount = 0
    /// Whether an interface that cannot be judged alone has ended the early prefix.
    public private(set) var stopped = false
    private(set) var assessed: [AssessedInterface] = []
    private(set) var findings: [Finding] = []
    /// Snapshot position of each early assessed interface (to check them against the snapshot).
    private(set) var positions: [Int] = []
    private var sink: JSONSink?
    /// The entries' bytes once handed over by the sink.
    private var segments: [JSONSegment]?
    /// The findings written early, grouped as the report lists them (severity and id).
    private var findingGroups: [FindingGroup] = []
    /// Set when `Heuristics.assess` took these verdicts over (so the entries written from them
    /// belong to its assessment), with how many entries there are.
    private var adopted = false
    private var entriesWritten = 0

    /// `writingJSONEntries`: write each judged interface's report entry as it is judged, compact
    /// or pretty as the report will be (nil: judge only).
    public init(writingJSONEntries pretty: Bool?) {
        entriesPretty = pretty
    }

    /// Starts early judging against the snapshot's holder scan and routes. Called once the
    /// inventory has them, before the first `feed`.
    public func begin(holders: HolderScan, routes: [Route]) {
        reset()
        self.holders = holders
        self.routes = routes
        holderIndex = Heuristics.HolderIndex(holders)
        routesByIndex = Heuristics.routesPerInterface(routes)
        assessed.reserveCapacity(NetworkInterface.listReservation)
        positions.reserveCapacity(NetworkInterface.listReservation)
        findings.reserveCapacity(NetworkInterface.listReservation)
    }

    /// Forgets everything judged (and the holders and routes): the inventory is starting over.
    public func reset() {
        holders = nil
        routes = []
        holderIndex = nil
        routesByIndex = [:]
        judgedCount = 0
        stopped = false
        assessed = []
        findings = []
        positions = []
        sink = nil
        segments = nil
        findingGroups = []
        adopted = false
        entriesWritten = 0
    }

    /// Judges the next interfaces of the snapshot (positions `judgedCount...`), until one needs
    /// the whole snapshot. Does nothing before `begin` or once stopped.
    public func feed(_ interfaces: UnsafeBufferPointer<NetworkInterface>) {
        guard !stopped, let holderIndex else { return }
        let firstNew = assessed.count
        let firstNewFinding = findings.count
        defer { writeFindings(from: firstNewFinding) }
        for offset in interfaces.indices {
            guard interfaces[offset].kind.isTunnelStyle else { continue }
            guard let verdict = Heuristics.judgeAlone(interfaces[offset], holders: holderIndex,
                                                      routes: routesByIndex[interfaces[offset].index] ?? [], findings: &findings) else {
                judgedCount += offset
                stopped = true
                writeEntries(from: firstNew)
                return
            }
            assessed.append(verdict)
            positions.append(judgedCount + offset)
        }
        judgedCount += interfaces.count
        writeEntries(from: firstNew)
    }

    private func writeEntries(from first: Int) {
        guard let pretty = entriesPretty, first < assessed.count else { return }
        // The entries continue the report's "interfaces" array (depth 2: the report, the array).
        let sink = self.sink ?? JSONSink(pretty: pretty, capacity: 64 * 1024, depth: 2)
        self.sink = sink
        for position in first..<assessed.count {
            sink.beginMember()
            // Entries write themselves directly; nothing they hold can fail to encode.
            try? AuditReport.InterfaceEntry(assessed[position], observation: nil).write(to: sink)
        }
    }

    /// Writes the findings raised since position `first`, each into its group's buffer.
    private func writeFindings(from first: Int) {
        guard let pretty = entriesPretty, first < findings.count else { return }
        var group = findingGroups.indices.last
        for position in first..<findings.count {
            let finding = findings[position]
            if group == nil || !findingGroups[group!].holds(finding) {
                group = findingGroups.firstIndex { $0.holds(finding) }
                if group == nil {
                    findingGroups.append(FindingGroup(severity: finding.severity, id: finding.id, pretty: pretty))
                    group = findingGroups.count - 1
                }
            }
            findingGroups[group!].sink.beginMember()
            // Findings write themselves directly; nothing they hold can fail to encode.
            try? finding.write(to: findingGroups[group!].sink)
            findingGroups[group!].written.append(finding)
        }
    }

    /// Hands the early verdicts over for judging `snapshot`: they are moved (not copied) into
    /// `assessed` and `findings`, which must be empty, and the number of snapshot positions they
    /// cover is returned. Returns 0 and hands nothing over when they were not reached with the
    /// snapshot's holders and routes, its interfaces are not the ones fed, or `accepting` turns
    /// one down (a device that turned out to have links stacked on it); the snapshot is then
    /// judged whole.
    func takeVerdicts(for snapshot: Snapshot, assessed: inout [AssessedInterface], findings: inout [Finding],
                      accepting: (AssessedInterface) -> Bool = { _ in true }) -> Int {
        guard let holders, holders == snapshot.holders, routes == snapshot.routes,
              judgedCount <= snapshot.interfaces.count, self.assessed.allSatisfy(accepting) else { return 0 }
        for (offset, position) in positions.enumerated() {
            guard snapshot.interfaces[position].index == self.assessed[offset].interface.index,
                  snapshot.interfaces[position].name == self.assessed[offset].interface.name else { return 0 }
        }
        entriesWritten = sink == nil ? 0 : self.assessed.count
        swap(&assessed, &self.assessed)
        swap(&findings, &self.findings)
        positions = []
        adopted = true
        return judgedCount
    }

    /// The report entries written early: the first members of the "interfaces" array, in the
    /// style they were written in; nil unless an assessment adopted these verdicts.
    func entries() -> PrewrittenMembers? {
        guard adopted, let sink, let pretty = entriesPretty, entriesWritten > 0 else { return nil }
        if segments == nil { segments = sink.takeSegments() }
        return segments.map { PrewrittenMembers(pretty: pretty, pieces: [.written($0, elements: 0..<entriesWritten)]) }
    }

    /// The findings written early, placed in `findings`, the report's list (sorted as
    /// `Heuristics.assess` sorts it), with the stretches between them still to encode; nil unless an
    /// assessment adopted these verdicts and each group's early findings are exactly the first of
    /// that group in `findings`.
    func findings(for findings: [Finding]) -> PrewrittenMembers? {
        guard adopted, let pretty = entriesPretty, !findingGroups.isEmpty else { return nil }
        var pieces: [ArrayPiece] = []
        var used = 0
        var start = findings.startIndex
        while start < findings.endIndex {
            var end = start + 1
            while end < findings.endIndex, findings[end].severity == findings[start].severity, findings[end].id == findings[start].id { end += 1 }
            var encodeFrom = start
            if let group = findingGroups.firstIndex(where: { $0.holds(findings[start]) }) {
                let written = findingGroups[group].written
                guard written.count <= end - start, Self.findings(findings, at: start, begin: written) else { return nil }
                pieces.append(.written(findingGroups[group].segments(), elements: start..<(start + written.count)))
                encodeFrom = start + written.count
                used += 1
            }
            if encodeFrom < end {
                // Stretches to encode that meet are one stretch (chunked as one on many cores).
                if case let .elements(previous)? = pieces.last, previous.upperBound == encodeFrom {
                    pieces[pieces.count - 1] = .elements(previous.lowerBound..<end)
                } else {
                    pieces.append(.elements(encodeFrom..<end))
                }
            }
            start = end
        }
        guard used == findingGroups.count else { return nil }
        return PrewrittenMembers(pretty: pretty, pieces: pieces)
    }

    /// Whether the findings from position `start` on begin with `written`. They are compared in
    /// place: a generic `elementsEqual` copies every finding it compares.
    private static func findings(_ findings: [Finding], at start: Int, begin written: [Finding]) -> Bool {
        findings.withUnsafeBufferPointer { all in
            written.withUnsafeBufferPointer { written in
                written.indices.allSatisfy { all[start + $0] == written[$0] }
            }
        }
    }

    /// Findings of one severity and id written early: their bytes as members of the report's
    /// findings array, and the findings themselves (to check them against the report's).
    private struct FindingGroup {
        let severity: Severity
        let id: String
        let sink: JSONSink
        var written: [Finding] = []
        private var taken: [JSONSegment]?

        init(severity: Severity, id: String, pretty: Bool) {
            self.severity = severity
            self.id = id
            // Members of the report's findings array: depth 2 (the report, the array).
            sink = JSONSink(pretty: pretty, capacity: 16 * 1024, depth: 2)
            written.reserveCapacity(NetworkInterface.listReservation)
        }

        func holds(_ finding: Finding) -> Bool { finding.severity == severity && finding.id == id }

        /// The bytes, handed over by the sink the first time.
        mutating func segments() -> [JSONSegment] {
            if taken == nil { taken = sink.takeSegments() }
            return taken ?? []
        }
    }
}
