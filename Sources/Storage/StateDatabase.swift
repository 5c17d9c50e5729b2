import Foundation
import TunwardenCore

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
    public static let busyTimeout: TimeInterval = 15
    /// Samples kept per namespace, oldest dropped first.
    public static let maximumSamples = NamespaceHistory.maximumSamples
    /// Alert moments kept per namespace.
    public static let maximumAlerts = NamespaceHistory.maximumAlerts

    /// The count samples this connection last read of each namespace (by row id), to read only
    /// the rows recorded since the next time (see `counts`). Forgotten after any failure.
    private var countsRead: [Int64: CountsRead] = [:]

    /// Makes the next read of a namespace's count samples read them all again (some were deleted).
    func forgetCountsRead(of namespace: Int64) { countsRead[namespace] = nil }

    /// The rows `readAhead(namespace:)` read, for the next recording (see `rowsInKeyOrder`).
    var readAhead: ReadAhead?

    /// The boot whose Linux namespaces alone this connection's database holds, once a committed
    /// transaction has forgotten those of other boots (see `forgetOtherBoots`), and the boot the
    /// transaction under way has (to be kept when it commits).
    var otherBootsForgotten: String?
    var pendingBootsForgotten: String?

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
        /// The boot clock when the last inventory recorded was taken, when it had one.
        var lastRunBoot: TimeInterval?
    }

    func namespaceRow(_ identity: String) throws -> NamespaceRow? {
        let statement = try connection.statement("SELECT id, last_run, alerted_status, reaped_total, name, host, last_run_boot FROM namespaces WHERE identity = ?1")
        statement.bind(1, identity)
        guard try statement.step() else { return nil }
        return NamespaceRow(id: statement.int64(0), lastRun: statement.date(1), alertedStatus: statement.string(2).flatMap(AuditStatus.init(rawValue:)),
                            reapedTotal: statement.int(3), name: statement.string(4), isHost: statement.int64(5) != 0,
                            lastRunBoot: statement.isNull(6) ? nil : statement.double(6))
    }

    static let interfaceColumns = "ifindex, ifname, kind, first_seen, orphaned_since, rx_packets, tx_packets, rx_bytes, tx_bytes, last_traffic_change, holders_seen, orphaned_since_boot, identity"

    /// Every interface observed in a namespace, keyed as `Observations` keys them.
    func interfaceRows(_ row: NamespaceRow) throws -> [String: InterfaceObservation] {
        Dictionary(try interfaceRowsInKeyOrder(row).map { (Observations.key($0.ifindex, $0.ifname), $0) }, uniquingKeysWith: { _, last in last })
    }

    func interfaceRow(_ namespace: Int64, _ key: InterfaceKey, lastSeen: Date?) throws -> InterfaceObservation? {
        let statement = try connection.statement("SELECT \(Self.interfaceColumns) FROM interfaces WHERE namespace = ?1 AND ifindex = ?2 AND ifname = ?3")
        statement.bind(1, namespace).bind(2, key.ifindex).bind(3, key.ifname)
        return try statement.step() ? try Self.observation(statement, lastSeen: lastSeen) : nil
    }

    /// The observation in the current row of a statement selecting `interfaceColumns`.
    static func observation(_ statement: SQLiteStatement, lastSeen: Date?) throws -> InterfaceObservation {
        guard let kind = statement.string(2).flatMap(InterfaceKind.init(rawValue:)), let name = statement.string(1),
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
        observation.orphanedSinceBoot = statement.isNull(11) ? nil : statement.double(11)
        if let text = statement.string(12) {
            guard let identity = DeviceIdentity(text: text) else {
                throw SQLiteError(operation: "read an interface", code: 11, message: "a row whose device identity is not one tunwarden writes: \(text)")
            }
            observation.identity = identity
        }
        return observation
    }

    /// The namespace's count samples from the last one at or before `start` on (all of them when
    /// none is), the newest `maximumSamples` at most, in time order.
    ///
    /// Samples are recorded in time order: a recording older than the namespace's last run is
    /// refused as stale, one after the wall clock went back first deletes the samples stamped
    /// later than itself, and the rowid of each new row is above every row's there. So once this
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
    /// names (nil: all of them); those orphans no more that a watcher keeps remembered (see
    /// `alertedOrphans`) are left out.
    func history(_ row: NamespaceRow, countsFrom start: Date, alertedAmong names: Set<String>? = nil, alerts: Bool = false) throws -> NamespaceHistory {
        var history = NamespaceHistory()
        history.alertedStatus = row.alertedStatus
        history.reapedTotal = row.reapedTotal
        history.counts = try counts(row, from: start)
        if let names {
            for name in names {
                let orphan = try connection.statement("SELECT 1 FROM alerted_orphans WHERE namespace = ?1 AND ifname = ?2 AND released IS NULL")
                orphan.bind(1, row.id).bind(2, name)
                if try orphan.step() { history.alertedOrphans.append(name) }
            }
        } else {
            let orphans = try connection.statement("SELECT ifname FROM alerted_orphans WHERE namespace = ?1 AND released IS NULL")
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

    /// The devices remembered as alerted in a namespace, among `names` (nil: all of them), each
    /// with when it stopped being an orphan, for those a watcher's hold-down keeps remembered
    /// (nil for those orphaned still).
    func alertedOrphans(_ namespace: Int64, among names: Set<String>?) throws -> [String: Date?] {
        var alerted: [String: Date?] = [:]
        if let names {
            // Most orphans named were alerted already: room for them all saves regrowing the table.
            alerted.reserveCapacity(names.count)
            let orphan = try connection.statement("SELECT released FROM alerted_orphans WHERE namespace = ?1 AND ifname = ?2")
            for name in names {
                orphan.bind(1, namespace).bind(2, name)
                if try orphan.step() { alerted[name] = .some(orphan.date(0)) }
                orphan.finishReading()
            }
        } else {
            let orphans = try connection.statement("SELECT ifname, released FROM alerted_orphans WHERE namespace = ?1")
            orphans.bind(1, namespace)
            while try orphans.step() { alerted[orphans.string(0) ?? ""] = .some(orphans.date(1)) }
        }
        return alerted
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
        defer { pendingBootsForgotten = nil }
        do {
            let value = try body()
            if let boot = pendingBootsForgotten { otherBootsForgotten = boot }
            return value
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
