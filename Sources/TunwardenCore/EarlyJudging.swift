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
        adopted = false
        entriesWritten = 0
    }

    /// Judges the next interfaces of the snapshot (positions `judgedCount...`), until one needs
    /// the whole snapshot. Does nothing before `begin` or once stopped.
    public func feed(_ interfaces: UnsafeBufferPointer<NetworkInterface>) {
        guard !stopped, let holderIndex else { return }
        let firstNew = assessed.count
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
        sink.reserve((assessed.count - first) * JSONSink.entryBytes(pretty: pretty))
        for position in first..<assessed.count {
            sink.beginMember()
            // Entries write themselves directly; nothing they hold can fail to encode.
            try? AuditReport.InterfaceEntry(assessed[position], observation: nil).write(to: sink)
        }
    }

    /// Hands the early verdicts over for judging `snapshot`: they are moved (not copied) into
    /// `assessed` and `findings`, which must be empty, and the number of snapshot positions they
    /// cover is returned. Returns 0 and hands nothing over when they were not reached with the
    /// snapshot's holders and routes or its interfaces are not the ones fed; the snapshot is then
    /// judged whole.
    func takeVerdicts(for snapshot: Snapshot, assessed: inout [AssessedInterface], findings: inout [Finding]) -> Int {
        guard let holders, holders == snapshot.holders, routes == snapshot.routes,
              judgedCount <= snapshot.interfaces.count else { return 0 }
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

    /// The report entries written early, as one segment continuing the "interfaces" array, with
    /// how many there are and their style; nil unless an assessment adopted these verdicts.
    func entries() -> (segments: [JSONSegment], count: Int, pretty: Bool)? {
        guard adopted, let sink, let pretty = entriesPretty, entriesWritten > 0 else { return nil }
        if segments == nil { segments = sink.takeSegments() }
        return segments.map { ($0, entriesWritten, pretty) }
    }
}
