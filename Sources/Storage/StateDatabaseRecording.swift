import Foundation
import TunwardenCore

/// Recording an inventory, or a change to one, in one transaction: observations, the count
/// sample, leak growth and the alert decision.
extension StateDatabase {
    /// Records a whole inventory of one namespace, in one transaction: new interfaces get a
    /// first-seen time, orphans an orphaned-since time (kept while they stay orphaned), those gone
    /// are forgotten, and a count sample is added; only rows whose content changed are written.
    /// Recording a Linux namespace of this boot forgets the namespaces of other boots.
    ///
    /// With `alerting`, leak growth is judged from the count history and the alert decision made
    /// (`AlertDecision.decide`), remembered and, when there is an alert, claimed for this run to
    /// deliver, all in the same transaction: no other run decides on the same change. When another
    /// run has recorded a newer inventory of the namespace (by the boot clock, or without one by
    /// the wall clock: see `order`), nothing is written (`wasStale`). When the wall clock went
    /// back since the last recording, this one is recorded and alerted all the same, and says so
    /// (`clockStep`).
    ///
    /// The observations returned are in `recordedOrder`; with `keyed` (the default) also by key,
    /// as a reap's plan and the watcher look them up. A one-shot audit, which finds each by its
    /// position, passes false: at ten thousand interfaces the map by key cost milliseconds that
    /// nothing read.
    public func record(_ assessment: Assessment, label: NamespaceLabel?, alerting: AlertJudging?, keyed: Bool = true) throws -> Recording {
        try guarded {
            try connection.transaction(writing: true) {
                let identity = assessment.snapshot.namespaceIdentity
                let now = assessment.snapshot.takenAt
                try forgetOtherBoots(than: identity)
                var row = try ensureNamespace(identity, label: label)
                guard case let .newer(clockStep) = Self.order(assessment.snapshot, after: row, wallNow: Date()) else {
                    return try stale(assessment, identity: identity, row: row, interfaces: try interfaceRows(row), window: alerting?.growth.window)
                }
                let rows = try rowsInKeyOrder(row, identity: identity)
                let (current, inOrder, changed, gone, replaced) = compare(assessment, with: rows, at: now, keyed: keyed)
                for observation in changed { try write(observation, namespace: row.id) }
                for key in gone { try delete(key, namespace: row.id) }
                try forgetAlerted(replaced, namespace: row.id)
                if !gone.isEmpty {
                    let goneKeys = Set(gone)
                    let renamed = rows.filter { goneKeys.contains(InterfaceKey(ifindex: $0.ifindex, ifname: $0.ifname)) }
                    var byIndex: [Int: Int] = [:]
                    for position in assessment.interfaces.indices { byIndex[assessment.interfaces[position].interface.index] = position }
                    try carryAlerted(renamed.compactMap { earlier in
                        byIndex[earlier.ifindex].map { (earlier, assessment.interfaces[$0].interface) }
                    }, namespace: row.id)
                }
                row.lastRun = now
                var recording = try finish(assessment, identity: identity, row: row, interfaces: current, touched: nil, alerting: alerting, clockStep: clockStep)
                recording.observations.recordedOrder = Observations.RecordedOrder(namespace: identity, list: inOrder)
                if !keyed { recording.observations.namespaces[identity] = nil }
                return recording
            }
        }
    }

    /// The namespace's observations after seeing `assessment` at `now` (by key only when
    /// `keyed`), with the rows to write (those whose content changed) and to delete (interfaces
    /// gone). `rows` are in their key's order (ifindex, then the name's bytes), as
    /// `rowsInKeyOrder` gives them, and are merged with the assessment's interfaces in the same
    /// order, so no row is looked up by key: at 10,000 interfaces that lookup was most of the time
    /// recording took. `replaced` names the interfaces whose row was of another device
    /// (`InterfaceObservation.replacement(of:by:)`): they start afresh.
    private func compare(_ assessment: Assessment, with rows: [InterfaceObservation], at now: Date, keyed: Bool)
        -> (current: [String: InterfaceObservation], inOrder: [InterfaceObservation], changed: [InterfaceObservation], gone: [InterfaceKey],
            replaced: [String]) {
        func precedes(_ a: (Int, String), _ b: (Int, String)) -> Bool {
            a.0 != b.0 ? a.0 < b.0 : a.1.utf8.lexicographicallyPrecedes(b.1.utf8)
        }
        let interfaces = assessment.interfaces, bootClock = assessment.snapshot.agingClock
        let key = { (position: Int) in (interfaces[position].interface.index, interfaces[position].interface.name) }
        // The kernel lists links by index, so the assessment is nearly always in key order already.
        let sorted = zip(interfaces.indices, interfaces.indices.dropFirst()).allSatisfy { !precedes(key($1), key($0)) }
        let order = sorted ? Array(interfaces.indices) : interfaces.indices.sorted { precedes(key($0), key($1)) }
        var current: [String: InterfaceObservation] = [:]
        if keyed { current.reserveCapacity(interfaces.count) }
        // In the assessment's order: appended as they come when that is key order, otherwise
        // filled in place as the interfaces come in key order.
        var inOrder: [InterfaceObservation] = []
        var placed: [InterfaceObservation?] = []
        if sorted { inOrder.reserveCapacity(interfaces.count) } else { placed = Array(repeating: nil, count: interfaces.count) }
        var changed: [InterfaceObservation] = [], gone: [InterfaceKey] = [], replaced: [String] = []
        var next = rows.startIndex
        for position in order {
            // The interface is read where it lies: a copy of each of ten thousand was an eighth
            // of recording's time.
            let index = interfaces[position].interface.index, name = interfaces[position].interface.name
            // Rows before this interface's key are interfaces gone. (Names are compared byte by
            // byte only when the indexes are equal and the names are not: rarely.)
            while next < rows.endIndex, rows[next].ifindex != index ? rows[next].ifindex < index
                    : rows[next].ifname != name && rows[next].ifname.utf8.lexicographicallyPrecedes(name.utf8) {
                gone.append(InterfaceKey(ifindex: rows[next].ifindex, ifname: rows[next].ifname))
                next += 1
            }
            var before: InterfaceObservation?
            if next < rows.endIndex, rows[next].ifindex == index, rows[next].ifname == name {
                before = rows[next]
                next += 1
                if !InterfaceObservation.replacement(of: rows[next - 1], by: interfaces[position].interface).isEmpty {
                    replaced.append(name)
                    before = nil
                }
            }
            let observation = InterfaceObservation.continuing(before, with: interfaces[position], at: now, bootClock: bootClock)
            if before.map({ !observation.matches($0) }) ?? true { changed.append(observation) }
            if keyed { current[Observations.key(index, name)] = observation }
            if sorted { inOrder.append(observation) } else { placed[position] = observation }
        }
        gone += rows[next...].map { InterfaceKey(ifindex: $0.ifindex, ifname: $0.ifname) }
        return (current, sorted ? inOrder : placed.compactMap { $0 }, changed, gone, replaced)
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
        // The namespace's entry is taken out of the cache while it changes, so that it changes in
        // place rather than being copied whole. What a failed recording changed is undone and the
        // entry put back: until a whole recording fills the cache again, what the watcher alerted
        // is read from it (an orphan it holds was alerted), and must not lose or gain anyone.
        var interfaces: [String: InterfaceObservation]?
        var undo: [String: InterfaceObservation?] = [:]
        func change(_ key: String, to observation: InterfaceObservation?) {
            if undo[key] == nil { undo[key] = .some(interfaces?[key]) }
            interfaces?[key] = observation
        }
        let recording: Recording
        do {
            recording = try guarded {
                try connection.transaction(writing: true) {
                    try forgetOtherBoots(than: identity)
                    var row = try ensureNamespace(identity, label: label)
                    guard case let .newer(clockStep) = Self.order(assessment.snapshot, after: row, wallNow: Date()) else {
                        return try stale(assessment, identity: identity, row: row, interfaces: cache.namespaces[identity] ?? [:], window: alerting?.growth.window)
                    }
                    interfaces = cache.namespaces.removeValue(forKey: identity) ?? [:]
                    // A key both removed and changed is another device under the ifindex and
                    // name of one that went within the burst: it starts afresh.
                    var replaced: [String] = []
                    let reused = Set(changed.map { Observations.key($0.interface.index, $0.interface.name) })
                    // A device removed under one name and changed under another at its ifindex
                    // was renamed.
                    var byIndex: [Int: NetworkInterface] = [:]
                    if !removed.isEmpty { for entry in changed { byIndex[entry.interface.index] = entry.interface } }
                    try carryAlerted(removed.compactMap { key in
                        guard let now = byIndex[key.ifindex], let earlier = interfaces?[Observations.key(key.ifindex, key.ifname)] else { return nil }
                        return (earlier, now)
                    }, namespace: row.id)
                    for key in removed {
                        try delete(key, namespace: row.id)
                        change(Observations.key(key.ifindex, key.ifname), to: nil)
                        if reused.contains(Observations.key(key.ifindex, key.ifname)) { replaced.append(key.ifname) }
                    }
                    for entry in changed {
                        let key = InterfaceKey(entry.interface)
                        var before = try interfaceRow(row.id, key, lastSeen: row.lastRun)
                        if let earlier = before, !InterfaceObservation.replacement(of: earlier, by: entry.interface).isEmpty {
                            replaced.append(key.ifname)
                            before = nil
                        }
                        let observation = InterfaceObservation.continuing(before, with: entry, at: now, bootClock: assessment.snapshot.agingClock)
                        if before.map({ !observation.matches($0) }) ?? true { try write(observation, namespace: row.id) }
                        change(Observations.key(key.ifindex, key.ifname), to: observation)
                    }
                    try forgetAlerted(replaced, namespace: row.id)
                    let interfaces = interfaces ?? [:]
                    row.lastRun = now
                    let present = Set(changed.map(\.interface.name))
                    let touched = present.union(removed.map(\.ifname))
                    // Names are unique in a namespace (the kernel keeps them so): an orphan bearing a
                    // name the change touched is one it changed, so the thousands of others need no look.
                    let orphans = changed.filter { $0.state == .orphaned }.map(\.interface.name)
                    return try finish(assessment, identity: identity, row: row, interfaces: interfaces, touched: (touched, orphans, present), alerting: alerting,
                                      clockStep: clockStep)
                }
            }
        } catch {
            if var taken = interfaces {
                for (key, before) in undo { taken[key] = before }
                cache.namespaces[identity] = taken
            }
            throw error
        }
        if !recording.wasStale { cache = recording.observations }
        return recording
    }

    /// The part of recording common to a whole inventory and a change: the namespace's last run,
    /// the count sample, leak growth, the alert decision. `touched` nil: every orphan may be new;
    /// otherwise only those among the names a change touched (`orphans`, in the assessment's
    /// order), and the history returned names only those as alerted. `clockStep`: the wall clock
    /// went back since the last recording, whose count samples stamped later than this one go.
    private func finish(_ assessment: Assessment, identity: String, row: NamespaceRow, interfaces: [String: InterfaceObservation],
                        touched: (names: Set<String>, orphans: [String], present: Set<String>)?, alerting: AlertJudging?,
                        clockStep: ClockStep?) throws -> Recording {
        let now = assessment.snapshot.takenAt
        var clockStep = clockStep
        if clockStep != nil { clockStep?.countSamplesDropped = try dropCounts(of: row.id, laterThan: now) }
        try connection.statement("UPDATE namespaces SET last_run = ?2, last_run_boot = ?3 WHERE id = ?1")
            .bind(1, row.id).bind(2, now).bind(3, assessment.snapshot.agingClock).run()
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
            return Recording(historyFindings: [], observations: observations, alert: nil, wasStale: false, clockStep: clockStep)
        }
        // A change reads only the alerted orphans it touched: the others were remembered when
        // they last changed, and are taken as alerted.
        var history = try self.history(row, countsFrom: now.addingTimeInterval(-alerting.growth.window), alertedAmong: [])
        // A device alerted that is an orphan no more stays remembered as alerted while a
        // watcher's hold-down runs, whatever the status does meanwhile: a daemon restarting in a
        // loop on its persistent tun is one alert, even while another orphan keeps the status
        // where it is. A run without a hold-down (an audit) takes it as forgotten.
        let keptAfter = alerting.hold.map { now.addingTimeInterval(-$0.holdDown) }
        let remembered = try alertedOrphans(row.id, among: touched?.names)
        var alerted = Set<String>(minimumCapacity: remembered.count), kept: [String: Date] = [:]
        for (name, released) in remembered {
            guard let released else {
                alerted.insert(name)
                continue
            }
            if let keptAfter, released > keptAfter {
                alerted.insert(name)
                kept[name] = released
            }
        }
        history.alertedOrphans = Array(alerted)
        // After a change, only the orphans it touched can be new, or no longer orphans: the
        // others were remembered when they last changed (thousands of them need no look).
        let considered = touched?.orphans ?? AlertDecision.orphanNames(assessment)
        // Before any arithmetic on them.
        try Self.check(history, of: identity)
        let extra = alerting.growth.finding(history.counts, current: assessment.interfaces.count, now: now).map { [$0] } ?? []
        let status = assessment.status(adding: extra)
        var decided = AlertDecision.decide(assessment, adding: extra, history: history, host: "", orphans: considered, alerted: alerted)
        var heldSince: Date?
        if let hold = alerting.hold { (decided, heldSince) = AlertDecision.damp(decided, now: now, hold: hold) }
        // Asked only for an alert: the name may take a resolver's time.
        if decided != nil { decided?.host = alerting.host() }
        // The orphans are remembered at every judgement; the status only when no improvement is
        // held back (the one alerted stays remembered meanwhile).
        // A device gone (deleted, not renamed: see `carryAlerted`) is forgotten at once: one made
        // again under its name is another.
        let release = alerting.hold.map { _ in (at: now, present: touched?.present ?? Set(assessment.interfaces.lazy.map(\.interface.name))) }
        kept = try remember(heldSince == nil ? status : nil, orphans: considered, alerted: alerted, kept: kept, touched: touched?.names,
                            previous: history.alertedStatus, namespace: row.id, release: release)
        if let keptAfter, touched == nil {
            try connection.statement("DELETE FROM alerted_orphans WHERE namespace = ?1 AND released <= ?2").bind(1, row.id).bind(2, keptAfter).run()
        }
        if let decided, AlertDecision.isImprovement(decided) {
            // Told as better now: the devices kept are told as gone, and a relapse is news.
            try connection.statement("DELETE FROM alerted_orphans WHERE namespace = ?1 AND released IS NOT NULL").bind(1, row.id).run()
            kept = [:]
        }
        if heldSince == nil { history.alertedStatus = status }
        history.alertedOrphans = considered
        var inserted: (alert: PendingAlert, claimed: [PendingAlert])?
        if let decided {
            history.addAlert(AlertMoment(time: decided.time, event: decided.event, status: decided.status))
            inserted = try insert(decided, namespace: row.id, sinks: alerting.sinks, addresses: alerting.addresses, now: now)
        }
        observations.histories[identity] = history
        return Recording(historyFindings: extra, observations: observations, alert: inserted?.alert, claimed: inserted?.claimed ?? [],
                         wasStale: false, clockStep: clockStep, heldSince: heldSince, kept: kept, keptAmong: touched?.names)
    }

    private func stale(_ assessment: Assessment, identity: String, row: NamespaceRow, interfaces: [String: InterfaceObservation],
                       window: TimeInterval?) throws -> Recording {
        var observations = Observations()
        observations.namespaces[identity] = interfaces
        observations.histories[identity] = try history(row, countsFrom: (row.lastRun ?? assessment.snapshot.takenAt).addingTimeInterval(-(window ?? 0)))
        return Recording(historyFindings: [], observations: observations, alert: nil, wasStale: true)
    }

    /// Writes (inserts or replaces) an interface's row.
    func write(_ observation: InterfaceObservation, namespace: Int64) throws {
        let statement = try connection.statement("INSERT OR REPLACE INTO interfaces (namespace, \(Self.interfaceColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")
        statement.bind(1, namespace).bind(2, observation.ifindex).bind(3, observation.ifname).bind(4, observation.kind.rawValue)
            .bind(5, observation.firstSeen).bind(6, observation.orphanedSince)
        if let traffic = observation.traffic {
            statement.bind(7, Int64(bitPattern: traffic.rxPackets)).bind(8, Int64(bitPattern: traffic.txPackets))
                .bind(9, Int64(bitPattern: traffic.rxBytes)).bind(10, Int64(bitPattern: traffic.txBytes))
        }
        statement.bind(11, observation.lastTrafficChange).bind(12, observation.holdersSeen.map(HoldersText.encode))
            .bind(13, observation.orphanedSinceBoot).bind(14, observation.identity?.text)
        try statement.run()
    }

    private func delete(_ key: InterfaceKey, namespace: Int64) throws {
        try connection.statement("DELETE FROM interfaces WHERE namespace = ?1 AND ifindex = ?2 AND ifname = ?3")
            .bind(1, namespace).bind(2, key.ifindex).bind(3, key.ifname).run()
    }

    /// The namespace's row, made when it has none, its label brought up to date (written only when it changed).
    func ensureNamespace(_ identity: String, label: NamespaceLabel?) throws -> NamespaceRow {
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
    /// Done once per connection and boot: every run that could add a namespace of another boot
    /// ran before this boot began, so once they are forgotten none comes back (a watcher records
    /// many times a minute, and the probe is a scan of the namespaces).
    func forgetOtherBoots(than identity: String) throws {
        guard NamespaceIdentity.isLinux(identity), let boot = NamespaceIdentity.bootID(of: identity), boot != otherBootsForgotten else { return }
        let gone = "SELECT id FROM namespaces WHERE (identity LIKE 'netns-cookie:%' OR identity LIKE 'net:[%') AND (boot IS NULL OR boot <> ?1)"
        // Nearly always there is none: one probe, no write.
        let probe = try connection.statement(gone + " LIMIT 1")
        probe.bind(1, boot)
        if try probe.step() {
            for table in ["interfaces", "counts", "alerted_orphans", "alerts"] {
                try connection.statement("DELETE FROM \(table) WHERE namespace IN (\(gone))").bind(1, boot).run()
            }
            try connection.statement("DELETE FROM namespaces WHERE id IN (\(gone))").bind(1, boot).run()
        }
        // Kept only once the transaction commits (see `guarded`, which clears it on failure).
        pendingBootsForgotten = boot
    }
}
