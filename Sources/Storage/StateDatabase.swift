import Foundation
import TunwardenCore

/// What a namespace is called, for `history`: the `ip netns` name it had, or that it is this
/// host's own (the namespace process 1 runs in).
public struct NamespaceLabel: Sendable, Equatable {
    public var name: String?
    public var isHost: Bool

    public init(name: String?, isHost: Bool = false) {
        self.name = name
        self.isHost = isHost
    }
}

/// The alert sinks a run delivers to.
public struct AlertSinkSet: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let exec = AlertSinkSet(rawValue: 1)
    public static let webhook = AlertSinkSet(rawValue: 2)
}

/// How a recording run judges leak growth and decides on alerts.
public struct AlertJudging: Sendable {
    public var growth: GrowthPolicy
    /// The sinks this run delivers to: an alert it decides on is pending for these until delivered.
    public var sinks: AlertSinkSet
    /// The host's name for the alert, asked for only when there is one.
    public var host: @Sendable () -> String

    public init(growth: GrowthPolicy, sinks: AlertSinkSet, host: @escaping @Sendable () -> String) {
        self.growth = growth
        self.sinks = sinks
        self.host = host
    }
}

/// An alert to deliver, as kept in the database: decided once, by one run, and claimed by the
/// run that delivers it.
public struct PendingAlert: Sendable, Equatable {
    public var id: Int64
    public var time: Date
    public var event: String
    public var status: AuditStatus
    public var previousStatus: AuditStatus
    /// Nothing was alerted in the namespace before (`previousStatus` is the ok an empty history stands for).
    public var first: Bool
    public var summary: String
    public var newOrphans: [String]
    /// The alert's JSON, as sinks are given it.
    public var body: [UInt8]
    /// The sinks this claim is for: those still undelivered that the claiming run has.
    public var sinks: AlertSinkSet
    /// Delivery attempts made before this one.
    public var attempts: Int

    public init(id: Int64, time: Date, event: String, status: AuditStatus, previousStatus: AuditStatus, first: Bool, summary: String,
                newOrphans: [String], body: [UInt8], sinks: AlertSinkSet, attempts: Int) {
        self.id = id
        self.time = time
        self.event = event
        self.status = status
        self.previousStatus = previousStatus
        self.first = first
        self.summary = summary
        self.newOrphans = newOrphans
        self.body = body
        self.sinks = sinks
        self.attempts = attempts
    }
}

/// What recording an inventory did.
public struct Recording {
    /// What the history adds to the assessment recorded (a `leak-growth` finding), to be added
    /// with `Assessment.adding` (or kept in a judging engine): the recording copies no findings.
    public var historyFindings: [Finding]
    /// The inspected namespace's observations after recording, with its history (`counts` holds
    /// the samples from the growth window's start on, not all of them).
    public var observations: Observations
    /// The alert this run decided on, claimed for it to deliver now; nil when nothing is to be alerted.
    public var alert: PendingAlert?
    /// Another run had recorded a newer inventory: nothing was written, no alert decided.
    public var wasStale: Bool
}

/// A key of an observed interface: its index and its name.
public struct InterfaceKey: Sendable, Hashable {
    public var ifindex: Int
    public var ifname: String

    public init(ifindex: Int, ifname: String) {
        self.ifindex = ifindex
        self.ifname = ifname
    }

    public init(_ interface: NetworkInterface) {
        self.init(ifindex: interface.index, ifname: interface.name)
    }
}

/// The observations tunwarden keeps between runs (`state.db` in the state directory): one
/// SQLite database that every run sharing the directory reads and writes at once (WAL, a busy
/// timeout; writers begin with `BEGIN IMMEDIATE`, so they take turns and never lose each
/// other's updates).
///
/// Recording writes only rows whose content changed: an interface still there and unchanged
/// costs no write (when it was last seen is kept per namespace, `namespaces.last_run`). An alert
/// is decided, remembered and claimed for delivery in the transaction that records what it is
/// about, so two runs never send the same alert. Open one through `StateStore`.
public final class StateDatabase {
    let connection: SQLiteConnection
    let path: String
    /// The file's device and inode when opened: a damaged database is moved aside only if it is
    /// still the file at `path` (another run may have moved it and started afresh already).
    let fileIdentity: (device: UInt64, inode: UInt64)?

    /// How long a run waits for another's write transaction: they last milliseconds, or a few
    /// hundred at 10,000 changed interfaces.
    static let busyTimeout: TimeInterval = 15
    /// Samples kept per namespace, oldest dropped first.
    public static let maximumSamples = NamespaceHistory.maximumSamples
    /// Alert moments kept per namespace.
    public static let maximumAlerts = NamespaceHistory.maximumAlerts

    /// The count samples this connection last read of each namespace (by row id), to read only
    /// the rows recorded since the next time (see `counts`). Forgotten after any failure.
    private var countsRead: [Int64: CountsRead] = [:]

    /// Count samples as read: those from the last one at or before `from` on, and the highest
    /// rowid among them.
    private struct CountsRead {
        var from: Date
        var lastRowid: Int64
        var samples: [CountSample]
    }

    init(connection: SQLiteConnection, path: String, fileIdentity: (device: UInt64, inode: UInt64)?) {
        self.connection = connection
        self.path = path
        self.fileIdentity = fileIdentity
    }

    /// Rows changed on this connection since it was opened (SQLite's total_changes): what
    /// recording cost, for tests and measurements.
    public var rowsWritten: Int { connection.totalChanges }

    // MARK: reading

    /// The observations of one namespace (and its history as `Recording.observations` has it),
    /// read in one transaction; empty ones for a namespace never recorded.
    public func observations(namespace identity: String, growthWindow: TimeInterval = 3600, now: Date = Date()) throws -> Observations {
        try guarded {
            try connection.transaction(writing: false) {
                var observations = Observations()
                guard let row = try namespaceRow(identity) else { return observations }
                observations.namespaces[identity] = try interfaceRows(row)
                observations.histories[identity] = try history(row, countsFrom: now.addingTimeInterval(-growthWindow))
                try Self.check(observations)
                return observations
            }
        }
    }

    struct NamespaceRow {
        var id: Int64
        var lastRun: Date?
        var alertedStatus: AuditStatus?
        var reapedTotal: Int
        var name: String?
        var isHost: Bool
    }

    func namespaceRow(_ identity: String) throws -> NamespaceRow? {
        let statement = try connection.statement("SELECT id, last_run, alerted_status, reaped_total, name, host FROM namespaces WHERE identity = ?1")
        statement.bind(1, identity)
        guard try statement.step() else { return nil }
        return NamespaceRow(id: statement.int64(0), lastRun: statement.date(1), alertedStatus: statement.string(2).flatMap(AuditStatus.init(rawValue:)),
                            reapedTotal: statement.int(3), name: statement.string(4), isHost: statement.int64(5) != 0)
    }

    static let interfaceColumns = "ifindex, ifname, kind, first_seen, orphaned_since, rx_packets, tx_packets, rx_bytes, tx_bytes, last_traffic_change, holders_seen"

    /// Every interface observed in a namespace, keyed as `Observations` keys them.
    func interfaceRows(_ row: NamespaceRow) throws -> [String: InterfaceObservation] {
        let statement = try connection.statement("SELECT \(Self.interfaceColumns) FROM interfaces WHERE namespace = ?1")
        statement.bind(1, row.id)
        var result: [String: InterfaceObservation] = [:]
        while try statement.step() {
            let observation = try Self.observation(statement, lastSeen: row.lastRun)
            result[Observations.key(observation.ifindex, observation.ifname)] = observation
        }
        return result
    }

    func interfaceRow(_ namespace: Int64, _ key: InterfaceKey, lastSeen: Date?) throws -> InterfaceObservation? {
        let statement = try connection.statement("SELECT \(Self.interfaceColumns) FROM interfaces WHERE namespace = ?1 AND ifindex = ?2 AND ifname = ?3")
        statement.bind(1, namespace).bind(2, key.ifindex).bind(3, key.ifname)
        return try statement.step() ? try Self.observation(statement, lastSeen: lastSeen) : nil
    }

    /// The observation in the current row of a statement selecting `interfaceColumns`.
    /// `name` and `kind`, when given, are what the row holds, already at hand.
    static func observation(_ statement: SQLiteStatement, lastSeen: Date?, name: String? = nil, kind: InterfaceKind? = nil) throws -> InterfaceObservation {
        guard let kind = kind ?? statement.string(2).flatMap(InterfaceKind.init(rawValue:)), let name = name ?? statement.string(1),
              let firstSeen = statement.date(3) else {
            throw SQLiteError(operation: "read an interface", code: 11, message: "a row with no name, kind or first sighting")
        }
        var observation = InterfaceObservation(ifindex: statement.int(0), ifname: name, kind: kind, firstSeen: firstSeen,
                                               lastSeen: lastSeen ?? firstSeen, orphanedSince: statement.date(4))
        if !statement.isNull(5) {
            observation.traffic = TrafficCounters(rxPackets: UInt64(bitPattern: statement.int64(5)), txPackets: UInt64(bitPattern: statement.int64(6)),
                                                  rxBytes: UInt64(bitPattern: statement.int64(7)), txBytes: UInt64(bitPattern: statement.int64(8)))
        }
        observation.lastTrafficChange = statement.date(9)
        observation.holdersSeen = try statement.string(10).map(HoldersText.decode)
        return observation
    }

    /// The namespace's count samples from the last one at or before `start` on (all of them when
    /// none is), the newest `maximumSamples` at most, in time order.
    ///
    /// Samples are recorded in time order: a recording older than the namespace's last run is
    /// refused as stale, and the rowid of each new row is above every row's there. So once this
    /// connection has read them, a later read for a start no earlier needs only the rows recorded
    /// since (by this run or any other), not every sample in the window again: a watcher on a
    /// busy host records one at each burst, and read up to `maximumSamples` rows at each (half a
    /// millisecond a burst at 10,000 devices).
    func counts(_ row: NamespaceRow, from start: Date) throws -> [CountSample] {
        var samples: [CountSample] = []
        var lastRowid: Int64 = 0
        // The last row read still there says that nothing but old samples went since (a
        // namespace forgotten, and its id given to another, takes its rows with it).
        if let known = countsRead[row.id], start >= known.from,
           try connection.statement("SELECT 1 FROM counts WHERE rowid = ?1 AND namespace = ?2").bind(1, known.lastRowid).bind(2, row.id).step() {
            samples = known.samples
            lastRowid = known.lastRowid
            let newer = try connection.statement("SELECT rowid, time, count FROM counts WHERE namespace = ?1 AND rowid > ?2 ORDER BY rowid")
            newer.bind(1, row.id).bind(2, lastRowid)
            while try newer.step() {
                lastRowid = newer.int64(0)
                samples.append(CountSample(time: newer.date(1)!, count: newer.int(2)))
            }
            // From the last sample at or before `start` on, with any recorded at the same time.
            if let last = samples.lastIndex(where: { $0.time <= start }) {
                let time = samples[last].time
                samples.removeFirst(samples.firstIndex { $0.time >= time } ?? 0)
            }
        } else {
            // The newest first, so that only those kept are read; then put in time order.
            let counts = try connection.statement("""
                SELECT rowid, time, count FROM counts WHERE namespace = ?1
                AND time >= coalesce((SELECT max(time) FROM counts WHERE namespace = ?1 AND time <= ?2), -1e300)
                ORDER BY time DESC, rowid DESC LIMIT ?3
                """)
            counts.bind(1, row.id).bind(2, start.timeIntervalSince1970.isFinite ? start : Date(timeIntervalSince1970: -1e300)).bind(3, Self.maximumSamples)
            while try counts.step() {
                lastRowid = max(lastRowid, counts.int64(0))
                samples.append(CountSample(time: counts.date(1)!, count: counts.int(2)))
            }
            samples.reverse()
        }
        if samples.count > Self.maximumSamples { samples.removeFirst(samples.count - Self.maximumSamples) }
        countsRead[row.id] = CountsRead(from: start, lastRowid: lastRowid, samples: samples)
        return samples
    }

    /// The namespace's history: counts from the last sample at or before `countsFrom` on (all
    /// of them for `.distantPast`), what was last alerted, the reaped total and, with
    /// `alerts`, the alerts that fired. `alertedAmong` limits the alerted orphans read to those
    /// names (nil: all of them).
    func history(_ row: NamespaceRow, countsFrom start: Date, alertedAmong names: Set<String>? = nil, alerts: Bool = false) throws -> NamespaceHistory {
        var history = NamespaceHistory()
        history.alertedStatus = row.alertedStatus
        history.reapedTotal = row.reapedTotal
        history.counts = try counts(row, from: start)
        if let names {
            for name in names {
                let orphan = try connection.statement("SELECT 1 FROM alerted_orphans WHERE namespace = ?1 AND ifname = ?2")
                orphan.bind(1, row.id).bind(2, name)
                if try orphan.step() { history.alertedOrphans.append(name) }
            }
        } else {
            let orphans = try connection.statement("SELECT ifname FROM alerted_orphans WHERE namespace = ?1")
            orphans.bind(1, row.id)
            while try orphans.step() { history.alertedOrphans.append(orphans.string(0) ?? "") }
        }
        guard alerts else { return history }
        let moments = try connection.statement("SELECT time, event, status FROM alerts WHERE namespace = ?1 ORDER BY id")
        moments.bind(1, row.id)
        while try moments.step() {
            history.alerts.append(AlertMoment(time: moments.date(0)!, event: moments.string(1) ?? "",
                                              status: moments.string(2).flatMap(AuditStatus.init(rawValue:)) ?? .unknown))
        }
        return history
    }

    /// Numbers tunwarden never writes (CHECK constraints refuse them) found all the same: damage.
    static func check(_ observations: Observations) throws {
        if let problem = observations.numberOutOfBounds {
            throw SQLiteError(operation: "check the numbers", code: 11, message: problem)
        }
    }

    /// `check` for a history alone: what a recording reads back from the database before it
    /// does arithmetic (its interfaces' indexes are the kernel's, not read back).
    static func check(_ history: NamespaceHistory, of identity: String) throws {
        var observations = Observations()
        observations.histories[identity] = history
        try check(observations)
    }

    // MARK: recording

    /// Records a whole inventory of one namespace, in one transaction: new interfaces get a
    /// first-seen time, orphans an orphaned-since time (kept while they stay orphaned), those gone
    /// are forgotten, and a count sample is added; only rows whose content changed are written.
    /// Recording a Linux namespace of this boot forgets the namespaces of other boots.
    ///
    /// With `alerting`, leak growth is judged from the count history and the alert decision made
    /// (`AlertDecision.decide`), remembered and, when there is an alert, claimed for this run to
    /// deliver, all in the same transaction: no other run decides on the same change. When another
    /// run has recorded a newer inventory of the namespace, nothing is written (`wasStale`).
    public func record(_ assessment: Assessment, label: NamespaceLabel?, alerting: AlertJudging?) throws -> Recording {
        try guarded {
            try connection.transaction(writing: true) {
                let identity = assessment.snapshot.namespaceIdentity
                let now = assessment.snapshot.takenAt
                try forgetOtherBoots(than: identity)
                var row = try ensureNamespace(identity, label: label)
                if let last = row.lastRun, last > now {
                    return try stale(assessment, identity: identity, row: row, interfaces: try interfaceRows(row), window: alerting?.growth.window)
                }
                let (current, changed, gone) = try compare(assessment, with: row, at: now)
                for observation in changed { try write(observation, namespace: row.id) }
                for key in gone { try delete(key, namespace: row.id) }
                row.lastRun = now
                return try finish(assessment, identity: identity, row: row, interfaces: current, touched: nil, alerting: alerting)
            }
        }
    }

    /// The namespace's observations after seeing `assessment` at `now`, with the rows to write
    /// (those whose content changed) and to delete (interfaces gone). The rows are read in their
    /// key's order (ifindex, then the name's bytes) and merged with the assessment's interfaces in
    /// the same order, so no row is looked up by key: at 10,000 interfaces that lookup was most of
    /// the time recording took.
    private func compare(_ assessment: Assessment, with row: NamespaceRow, at now: Date)
        throws -> (current: [String: InterfaceObservation], changed: [InterfaceObservation], gone: [InterfaceKey]) {
        func precedes(_ a: (Int, String), _ b: (Int, String)) -> Bool {
            a.0 != b.0 ? a.0 < b.0 : a.1.utf8.lexicographicallyPrecedes(b.1.utf8)
        }
        let interfaces = assessment.interfaces
        var order = Array(interfaces.indices)
        let key = { (position: Int) in (interfaces[position].interface.index, interfaces[position].interface.name) }
        if !zip(order, order.dropFirst()).allSatisfy({ !precedes(key($1), key($0)) }) { order.sort { precedes(key($0), key($1)) } }
        let rows = try connection.statement("SELECT \(Self.interfaceColumns) FROM interfaces WHERE namespace = ?1 ORDER BY ifindex, ifname")
        rows.bind(1, row.id)
        defer { rows.finishReading() }
        var current: [String: InterfaceObservation] = [:]
        current.reserveCapacity(interfaces.count)
        var changed: [InterfaceObservation] = [], gone: [InterfaceKey] = []
        var more = try rows.step()
        for position in order {
            let entry = interfaces[position]
            let name = entry.interface.name
            // Rows before this interface's key are interfaces gone. Keys are compared in place:
            // no row is decoded unless it is needed.
            var order = 1
            while more {
                let index = rows.int(0)
                order = index != entry.interface.index ? (index < entry.interface.index ? -1 : 1) : rows.text(1, comparedTo: name)
                guard order < 0 else { break }
                gone.append(InterfaceKey(ifindex: index, ifname: rows.string(1) ?? ""))
                more = try rows.step()
            }
            var before: InterfaceObservation?
            if more, order == 0 {
                // The name and (nearly always) the kind are the assessment's own: not made again.
                before = try Self.observation(rows, lastSeen: row.lastRun, name: name,
                                              kind: rows.text(2, equals: entry.interface.kind.rawValue) ? entry.interface.kind : nil)
                more = try rows.step()
            }
            let observation = InterfaceObservation.continuing(before, with: entry, at: now)
            if before.map({ !observation.matches($0) }) ?? true { changed.append(observation) }
            current[Observations.key(entry.interface.index, name)] = observation
        }
        while more {
            gone.append(InterfaceKey(ifindex: rows.int(0), ifname: rows.string(1) ?? ""))
            more = try rows.step()
        }
        return (current, changed, gone)
    }

    /// Records a change that touched a few interfaces of a namespace whose whole inventory the
    /// caller (the watcher) keeps, in one transaction, reading and writing only their rows:
    /// `changed` are the interfaces that appeared or changed (state, holders, traffic), `removed`
    /// those that are gone; `assessment` is the whole namespace judged now (its status, count and
    /// findings go into the count history and the alert decision). `cache`, the caller's copy of
    /// the namespace's observations, is brought up to date with what was written (the
    /// `lastSeen` of an interface not named stays as it was: every row was seen at `now`).
    ///
    /// Promises the same as `record` for the interfaces named: their rows end as a whole
    /// `record` of `assessment` would leave them, and an alert is decided, remembered and claimed
    /// in the same transaction (new orphans are looked for among `changed` only). Interfaces not
    /// named are neither read nor written.
    public func recordChanges(_ assessment: Assessment, changed: [AssessedInterface], removed: [InterfaceKey], label: NamespaceLabel?,
                              alerting: AlertJudging?, cache: inout Observations) throws -> Recording {
        let identity = assessment.snapshot.namespaceIdentity
        let now = assessment.snapshot.takenAt
        let recording: Recording = try guarded {
            try connection.transaction(writing: true) {
                try forgetOtherBoots(than: identity)
                var row = try ensureNamespace(identity, label: label)
                if let last = row.lastRun, last > now {
                    return try stale(assessment, identity: identity, row: row, interfaces: cache.namespaces[identity] ?? [:], window: alerting?.growth.window)
                }
                // Taken out of the cache while it changes, so that it changes in place rather than
                // being copied whole (a failure is followed by a whole recording, which fills the cache again).
                var interfaces = cache.namespaces.removeValue(forKey: identity) ?? [:]
                for key in removed {
                    try delete(key, namespace: row.id)
                    interfaces[Observations.key(key.ifindex, key.ifname)] = nil
                }
                for entry in changed {
                    let key = InterfaceKey(entry.interface)
                    let before = try interfaceRow(row.id, key, lastSeen: row.lastRun)
                    let observation = InterfaceObservation.continuing(before, with: entry, at: now)
                    if before.map({ !observation.matches($0) }) ?? true { try write(observation, namespace: row.id) }
                    interfaces[Observations.key(key.ifindex, key.ifname)] = observation
                }
                row.lastRun = now
                let touched = Set(changed.map(\.interface.name)).union(removed.map(\.ifname))
                // Names are unique in a namespace (the kernel keeps them so): an orphan bearing a
                // name the change touched is one it changed, so the thousands of others need no look.
                let orphans = changed.filter { $0.state == .orphaned }.map(\.interface.name)
                return try finish(assessment, identity: identity, row: row, interfaces: interfaces, touched: (touched, orphans), alerting: alerting)
            }
        }
        if !recording.wasStale { cache = recording.observations }
        return recording
    }

    /// The part of recording common to a whole inventory and a change: the namespace's last run,
    /// the count sample, leak growth, the alert decision. `touched` nil: every orphan may be new;
    /// otherwise only those among the names a change touched (`orphans`, in the assessment's
    /// order), and the history returned names only those as alerted.
    private func finish(_ assessment: Assessment, identity: String, row: NamespaceRow, interfaces: [String: InterfaceObservation],
                        touched: (names: Set<String>, orphans: [String])?, alerting: AlertJudging?) throws -> Recording {
        let now = assessment.snapshot.takenAt
        try connection.statement("UPDATE namespaces SET last_run = ?2 WHERE id = ?1").bind(1, row.id).bind(2, now).run()
        try connection.statement("INSERT INTO counts (namespace, time, count) VALUES (?1, ?2, ?3)")
            .bind(1, row.id).bind(2, now).bind(3, assessment.interfaces.count).run()
        // Samples beyond the newest `maximumSamples` are dropped at every 64th sample, not at each:
        // finding them walks every sample kept. Reads take the newest alone meanwhile.
        if connection.lastInsertRowid % 64 == 0 {
            try connection.statement("""
                DELETE FROM counts WHERE namespace = ?1 AND rowid IN (SELECT rowid FROM counts WHERE namespace = ?1 ORDER BY time DESC, rowid DESC LIMIT -1 OFFSET ?2)
                """).bind(1, row.id).bind(2, Self.maximumSamples).run()
        }
        var observations = Observations()
        observations.namespaces[identity] = interfaces
        guard let alerting else {
            let history = try history(row, countsFrom: now, alertedAmong: [])
            try Self.check(history, of: identity)
            observations.histories[identity] = history
            return Recording(historyFindings: [], observations: observations, alert: nil, wasStale: false)
        }
        // A change reads only the alerted orphans it touched: the others were remembered when
        // they last changed, and are taken as alerted.
        var history = try self.history(row, countsFrom: now.addingTimeInterval(-alerting.growth.window), alertedAmong: touched?.names)
        let alerted = Set(history.alertedOrphans)
        // After a change, only the orphans it touched can be new, or no longer orphans: the
        // others were remembered when they last changed (thousands of them need no look).
        let considered = touched?.orphans ?? AlertDecision.orphanNames(assessment)
        // Before any arithmetic on them.
        try Self.check(history, of: identity)
        let extra = alerting.growth.finding(history.counts, current: assessment.interfaces.count, now: now).map { [$0] } ?? []
        let status = assessment.status(adding: extra)
        var decided = AlertDecision.decide(assessment, adding: extra, history: history, host: "", orphans: considered, alerted: alerted)
        // Asked only for an alert: the name may take a resolver's time.
        if decided != nil { decided?.host = alerting.host() }
        try remember(status, orphans: considered, alerted: alerted, touched: touched?.names, previous: history.alertedStatus, namespace: row.id)
        history.alertedStatus = status
        history.alertedOrphans = considered
        var claimed: PendingAlert?
        if let decided {
            history.addAlert(AlertMoment(time: decided.time, event: decided.event, status: decided.status))
            claimed = try insert(decided, namespace: row.id, sinks: alerting.sinks, now: now)
        }
        observations.histories[identity] = history
        return Recording(historyFindings: extra, observations: observations, alert: claimed, wasStale: false)
    }

    private func stale(_ assessment: Assessment, identity: String, row: NamespaceRow, interfaces: [String: InterfaceObservation],
                       window: TimeInterval?) throws -> Recording {
        var observations = Observations()
        observations.namespaces[identity] = interfaces
        observations.histories[identity] = try history(row, countsFrom: (row.lastRun ?? assessment.snapshot.takenAt).addingTimeInterval(-(window ?? 0)))
        return Recording(historyFindings: [], observations: observations, alert: nil, wasStale: true)
    }

    /// Remembers what was alerted on (or that the condition is unchanged): the status, and the
    /// orphans, writing only names that came or went. `alerted` are the names remembered before
    /// (for a change: those it touched, and the orphans it did not touch).
    private func remember(_ status: AuditStatus, orphans: [String], alerted: Set<String>, touched: Set<String>?, previous: AuditStatus?,
                          namespace: Int64) throws {
        if previous != status {
            try connection.statement("UPDATE namespaces SET alerted_status = ?2 WHERE id = ?1").bind(1, namespace).bind(2, status.rawValue).run()
        }
        var stillOrphaned = 0
        let insert = try connection.statement("INSERT OR IGNORE INTO alerted_orphans (namespace, ifname) VALUES (?1, ?2)")
        for name in orphans {
            if alerted.contains(name) { stillOrphaned += 1 } else { try insert.bind(1, namespace).bind(2, name).run() }
        }
        let delete = try connection.statement("DELETE FROM alerted_orphans WHERE namespace = ?1 AND ifname = ?2")
        if let touched {
            let now = Set(orphans.filter(touched.contains))
            for name in touched where !now.contains(name) { try delete.bind(1, namespace).bind(2, name).run() }
        } else if stillOrphaned < alerted.count {
            // Some alerted orphan is one no more: only then is the set of orphans needed.
            let now = Set(orphans)
            for name in alerted where !now.contains(name) { try delete.bind(1, namespace).bind(2, name).run() }
        }
    }

    /// Writes (inserts or replaces) an interface's row.
    func write(_ observation: InterfaceObservation, namespace: Int64) throws {
        let statement = try connection.statement("INSERT OR REPLACE INTO interfaces (namespace, \(Self.interfaceColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
        statement.bind(1, namespace).bind(2, observation.ifindex).bind(3, observation.ifname).bind(4, observation.kind.rawValue)
            .bind(5, observation.firstSeen).bind(6, observation.orphanedSince)
        if let traffic = observation.traffic {
            statement.bind(7, Int64(bitPattern: traffic.rxPackets)).bind(8, Int64(bitPattern: traffic.txPackets))
                .bind(9, Int64(bitPattern: traffic.rxBytes)).bind(10, Int64(bitPattern: traffic.txBytes))
        }
        statement.bind(11, observation.lastTrafficChange).bind(12, observation.holdersSeen.map(HoldersText.encode))
        try statement.run()
    }

    private func delete(_ key: InterfaceKey, namespace: Int64) throws {
        try connection.statement("DELETE FROM interfaces WHERE namespace = ?1 AND ifindex = ?2 AND ifname = ?3")
            .bind(1, namespace).bind(2, key.ifindex).bind(3, key.ifname).run()
    }

    /// The namespace's row, made when it has none, its label brought up to date (written only when it changed).
    private func ensureNamespace(_ identity: String, label: NamespaceLabel?) throws -> NamespaceRow {
        if var row = try namespaceRow(identity) {
            if let label, label.name.map({ $0 != row.name }) ?? false || label.isHost != row.isHost {
                row.name = label.name ?? row.name
                row.isHost = label.isHost
                try connection.statement("UPDATE namespaces SET name = ?2, host = ?3 WHERE id = ?1")
                    .bind(1, row.id).bind(2, row.name).bind(3, row.isHost ? 1 : 0).run()
            }
            return row
        }
        try connection.statement("INSERT INTO namespaces (identity, boot, name, host) VALUES (?1, ?2, ?3, ?4)")
            .bind(1, identity).bind(2, NamespaceIdentity.isLinux(identity) ? NamespaceIdentity.bootID(of: identity) : nil)
            .bind(3, label?.name).bind(4, label?.isHost == true ? 1 : 0).run()
        guard let row = try namespaceRow(identity) else { throw SQLiteError(operation: "insert a namespace", code: 1, message: "the row is not there") }
        return row
    }

    /// Forgets the Linux namespaces of other boots (and those recorded before identities named
    /// their boot), with everything kept about them, when `identity` is a Linux one of this boot.
    func forgetOtherBoots(than identity: String) throws {
        guard NamespaceIdentity.isLinux(identity), let boot = NamespaceIdentity.bootID(of: identity) else { return }
        let gone = "SELECT id FROM namespaces WHERE (identity LIKE 'netns-cookie:%' OR identity LIKE 'net:[%') AND (boot IS NULL OR boot <> ?1)"
        // Nearly always there is none: one probe, no write.
        let probe = try connection.statement(gone + " LIMIT 1")
        probe.bind(1, boot)
        guard try probe.step() else { return }
        for table in ["interfaces", "counts", "alerted_orphans", "alerts"] {
            try connection.statement("DELETE FROM \(table) WHERE namespace IN (\(gone))").bind(1, boot).run()
        }
        try connection.statement("DELETE FROM namespaces WHERE id IN (\(gone))").bind(1, boot).run()
    }

    // MARK: between inventories

    /// Takes in traffic counters read between inventories (the watcher's `--stats-interval`
    /// sampling) for interfaces already observed, reading and writing only their rows; others
    /// wait for the next inventory. Returns whether any row changed.
    public func noteTraffic(_ interfaces: [NetworkInterface], namespace identity: String, at now: Date) throws -> Bool {
        try guarded {
            try connection.transaction(writing: true) {
                guard let row = try namespaceRow(identity) else { return false }
                var changed = false
                for interface in interfaces {
                    guard var observation = try interfaceRow(row.id, InterfaceKey(interface), lastSeen: row.lastRun),
                          observation.noteTraffic(interface.stats, at: now) else { continue }
                    try write(observation, namespace: row.id)
                    changed = true
                }
                return changed
            }
        }
    }

    /// Copies what the write-ahead log holds into the database file, without waiting for readers
    /// (a passive checkpoint). A long-lived connection calls it after writing thousands of rows,
    /// so that the copy, and its fsync, is not left to whichever small commit later crosses
    /// SQLite's automatic threshold (in a watcher, in the middle of a burst).
    public func checkpoint() throws {
        try guarded { try connection.execute("PRAGMA wal_checkpoint(PASSIVE)") }
    }

    /// Adds interfaces a reap deleted to the namespace's reaped total.
    public func addReaped(_ count: Int, namespace identity: String) throws {
        guard count > 0 else { return }
        try guarded {
            try connection.transaction(writing: true) {
                let row = try ensureNamespace(identity, label: nil)
                try connection.statement("UPDATE namespaces SET reaped_total = reaped_total + ?2 WHERE id = ?1").bind(1, row.id).bind(2, count).run()
            }
        }
    }

    /// Runs `body`, turning SQLite's errors into `StorageError`s that name the database (damage
    /// marked `isCorrupt`). After any failure (a transaction rolled back) the count samples read
    /// are forgotten, so that none is trusted that was not committed.
    func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError {
            countsRead = [:]
            throw StateStore.storageError(error, path: path)
        } catch {
            countsRead = [:]
            throw error
        }
    }
}

/// `holders_seen` as a JSON array of strings: readable with the sqlite3 shell, and lossless.
enum HoldersText {
    static func encode(_ holders: [String]) -> String {
        "[" + holders.map(JSONWriter.string).joined(separator: ",") + "]"
    }

    static func decode(_ text: String) throws -> [String] {
        // What encode writes for names without quotes or backslashes, read directly.
        if !text.contains("\\"), text.hasPrefix("[\""), text.hasSuffix("\"]") {
            return text.dropFirst(2).dropLast(2).components(separatedBy: "\",\"")
        }
        if text == "[]" { return [] }
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        } catch {
            throw SQLiteError(operation: "read holders_seen", code: 11, message: "not a JSON array of strings: \(text.prefix(80))")
        }
    }
}

/// One namespace's history as `tunwarden history` shows it.
public struct NamespaceRecord: Sendable, Equatable {
    /// Its identity (`NamespaceIdentity`).
    public var identity: String
    public var label: NamespaceLabel
    /// When an inventory of it was last recorded.
    public var lastRun: Date?
    public var history: NamespaceHistory
}

extension StateDatabase {
    /// Every namespace's history (all samples, the alerts that fired), those last recorded
    /// longest ago first, in one read transaction.
    public func namespaceRecords() throws -> [NamespaceRecord] {
        try guarded {
            try connection.transaction(writing: false) {
                let select = try connection.statement("SELECT identity FROM namespaces ORDER BY coalesce(last_run, 0), id")
                var identities: [String] = []
                while try select.step() { identities.append(select.string(0) ?? "") }
                var records: [NamespaceRecord] = []
                for identity in identities {
                    guard let row = try namespaceRow(identity) else { continue }
                    let history = try self.history(row, countsFrom: .distantPast, alerts: true)
                    try Self.check(history, of: identity)
                    records.append(NamespaceRecord(identity: identity, label: NamespaceLabel(name: row.name, isHost: row.isHost),
                                                   lastRun: row.lastRun, history: history))
                }
                return records
            }
        }
    }
}
