import Foundation
import Storage
import TunwardenCore

/// What a judgement leaves behind: the observations recorded into the state (the whole namespace
/// when due, else what changed, put off for a few seconds while nothing that could make an alert
/// changed), the alert the recording claims, or, when the state cannot record, an alert decided
/// against what this watcher knows was alerted, and the metrics textfile, rewritten no more often
/// than its readers look.
extension WatchLoop {
    /// Records the engine's assessment without history's findings (the recording judges those
    /// afresh): the whole namespace when due, else what changed, unless that may wait (`mayWait`,
    /// see `putOff`). Returns the observations recorded (or, while changes wait, those last
    /// recorded; nil when the state could not be used) and the findings the history adds.
    func record(putOff mayWait: Bool = true) throws -> (observations: Observations?, historyFindings: [Finding]) {
        // Whether the changes may wait is asked of the assessment as it stands, history's
        // findings in place: taking them out and back (two moves of every finding, at every burst
        // of a leaking host) is for a recording. A database that is not the one last recorded into
        // (the old one emptied or moved aside, whichever use of the store met it) gets everything
        // at once: other runs read it.
        let freshDatabase = store.openFileReplaced || store.openings != openingsRecorded || replacedSinceRecorded
        if freshDatabase { fullRecordDue = true }
        if mayWait, let current = engine.assessment(of: identity), let meanwhile = putOff(current) { return meanwhile }
        engine.setHistoryFindings([], of: identity)
        guard let assessment = engine.assessment(of: identity) else { return (nil, []) }
        recordDue = nil
        let changes = engine.takeChanges(of: identity)
        // A database opened again since the last recording may be a fresh file (the old one moved
        // aside as damaged, or removed): only a whole recording makes it complete, and what this
        // watcher alerted goes into it first, so that the recording alerts only what changed. So
        // do the alerts made while the state could not record (a read-only state directory), when
        // it can again: the database holds nothing of them.
        let alertedUnrecorded = unrecordedHistory != nil
        if (freshDatabase && openingsRecorded > 0) || alertedUnrecorded, let known = alertedSoFar(), let status = known.alertedStatus {
            do {
                try store.database(create: true)?.adoptAlerted(namespace: identity, label: NamespaceLabels.label(assessment.snapshot),
                                                               status: status, orphans: known.alertedOrphans, replacing: alertedUnrecorded)
            } catch {
                // A recording without it would decide again, against what the database last had,
                // what was alerted since (a lock held by another process may go away between the
                // two): this judgement is alerted without the state, and recorded, adoption
                // first, within `recordSpacing`.
                Terminal.note(alertedUnrecorded ? "watch: observations not saved: \(error)"
                                                : "watch: what was alerted could not be carried into the new state database: \(error)")
                alertWithoutState(assessment)
                fullRecordDue = true
                recordDue = Date().addingTimeInterval(Self.recordSpacing)
                return (nil, [])
            }
        }
        guard fullRecordDue else {
            let recorded = try observeChanges(assessment, changed: changes.changed, removed: changes.removed)
            if recorded.observations != nil { noteRecorded(assessment, historyFindings: recorded.historyFindings) }
            return recorded
        }
        // A whole recording weighs the devices seen attached since the last one as a change's would.
        var whole = assessment
        let attached = Set(changes.changed.filter(\.attachSeen).map(\.interface.index))
        if !attached.isEmpty {
            for position in whole.interfaces.indices where attached.contains(whole.interfaces[position].interface.index) {
                whole.interfaces[position].attachSeen = true
            }
        }
        let (recording, _) = try Audit.observeRecording(whole, store: store, monitoring: recordingMonitoring, command: "watch",
                                                        patience: Watch.lockPatience, giveUp: { _ in self.control.stopRequested }, delivering: false)
        guard let recording else {
            alertWithoutState(assessment)
            return (nil, [])
        }
        handOver(recording)
        unrecordedHistory = nil
        if !recording.wasStale {
            improvementHeldSince = recording.heldSince
            keptAlerted = recording.kept
        }
        cache = recording.observations
        fullRecordDue = false
        openingsRecorded = store.openings
        replacedSinceRecorded = false
        noteRecorded(assessment, historyFindings: recording.historyFindings)
        // The whole namespace was written (thousands of rows, at a first judgement): copied into
        // the database file now, not by a later burst's commit.
        do { try store.database(create: false)?.checkpoint() } catch { Terminal.note("watch: state not checkpointed: \(error)") }
        return (recording.observations, recording.historyFindings)
    }

    /// A recording of changes is put off for up to this long after the last one, unless they are
    /// to be recorded at once (see `putOff`): a busy spell (containers' veth pairs coming and
    /// going every 200 ms) writes the state every five seconds, not at every burst. Each
    /// recording is a transaction of about a millisecond whatever it holds; a change after a
    /// quiet spell is recorded at once.
    static let recordSpacing: TimeInterval = 5

    private func noteRecorded(_ assessment: Assessment, historyFindings: [Finding]) {
        lastRecording = (Date(), assessment.status(adding: historyFindings))
    }

    /// Kinds whose verdicts rest on holders or whose orphans are reaped (tun and tap, utun, feth):
    /// their changes are recorded at once, so that an orphaned-since time, which reaping ages, is
    /// never carried across a spell another run recorded and this watcher did not.
    static let recordedAtOnce: Set<InterfaceKind> = [.tun, .tap, .utun, .feth]

    /// What a judgement uses while its changes wait (the observations and count history as last
    /// recorded, and the leak growth they give), or nil when they are to be recorded now. It is
    /// asked of the assessment with history's findings as last set. They are recorded now when a
    /// whole recording is due; when the last recording is `recordSpacing` old; when they could
    /// make an alert, which a recording claims (an interface orphaned, another status, leak
    /// growth that comes or goes); when an orphan recorded as such changed or went (its alerted
    /// name and orphaned-since time end now, not later); or when they touch a kind in
    /// `recordedAtOnce`.
    private func putOff(_ assessment: Assessment) -> (observations: Observations?, historyFindings: [Finding])? {
        guard !fullRecordDue, let recorded = lastRecording, let history = cache.histories[identity] else { return nil }
        let due = recorded.at.addingTimeInterval(Self.recordSpacing)
        // An improvement that has lasted the hold-down is alerted by a recording, though
        // nothing changed since the one that held it.
        guard Date() < due, improvementDue.map({ Date() < $0 }) ?? true else { return nil }
        let seen = cache.namespaces[identity] ?? [:]
        func orphanOrAtOnce(_ index: Int, _ name: String) -> Bool {
            guard let observation = seen[Observations.key(index, name)] else { return false }
            return observation.orphanedSince != nil || Self.recordedAtOnce.contains(observation.kind)
        }
        let mustRecord = engine.changesInclude(of: identity) { entry in
            entry.state == .orphaned || Self.recordedAtOnce.contains(entry.interface.kind) || orphanOrAtOnce(entry.interface.index, entry.interface.name)
        } || engine.removalsInclude(of: identity, where: orphanOrAtOnce)
        guard !mustRecord else { return nil }
        let growth = runtime.monitoring.growthPolicy.finding(history.counts, current: assessment.interfaces.count, now: assessment.snapshot.takenAt)
        let historyFindings = growth.map { [$0] } ?? []
        // `assessment` carries the history's findings as last set: with the same ones, its status
        // is the one a recording would judge; with others, the recording judges. The same ones:
        // the same ids and severities, for their evidence tells the count, which every burst changes.
        let same = historyFindings.elementsEqual(engine.historyFindings(of: identity)) { $0.id == $1.id && $0.severity == $1.severity }
        guard same, assessment.status == recorded.status else { return nil }
        recordDue = due
        return (cache, historyFindings)
    }

    /// What this watcher knows was alerted: since the state last recorded, or as it recorded it.
    /// Every orphan the last recording saw was alerted by then (a change's history names only the
    /// orphans it touched; the observations kept have them all), and so were the devices kept
    /// remembered though they are orphans no more (`keptAlerted`), while the hold-down runs.
    func alertedSoFar(now: Date = Date()) -> NamespaceHistory? {
        var history: NamespaceHistory
        if let unrecordedHistory {
            history = unrecordedHistory
        } else {
            guard let recorded = cache.histories[identity] else { return nil }
            history = recorded
            history.alertedOrphans = (cache.namespaces[identity] ?? [:]).values.filter { $0.orphanedSince != nil }.map(\.ifname)
        }
        let orphans = Set(history.alertedOrphans)
        history.alertedOrphans = (orphans.union(keptAlerted.filter { now.timeIntervalSince($0.value) < runtime.resolveAfter }.keys)).sorted()
        return history
    }

    /// Decides and delivers the alert of a judgement the state could not record (a read-only or
    /// broken state directory): against what was last recorded and what this watcher alerted since,
    /// so that each change is still alerted, once. An alert is never lost to the state; another run
    /// sharing the broken state may alert the same change too.
    private func alertWithoutState(_ assessment: Assessment) {
        let now = assessment.snapshot.takenAt
        var history = alertedSoFar(now: now) ?? NamespaceHistory()
        let decided = AlertDecision.decide(assessment, history: history, host: ProcessInfo.processInfo.hostName)
        let (alert, heldSince) = AlertDecision.damp(decided, now: now, hold: AlertDecision.Hold(holdDown: runtime.resolveAfter, since: improvementHeldSince))
        improvementHeldSince = heldSince
        if let alert {
            Terminal.log("watch: alerting without the state, which could not record this judgement", priority: 3)
            runtime.monitoring.sinks.log(alert)
            courier.deliver(unrecorded: alert)
        }
        // As a recording remembers them: the devices alerted that are orphans no more but still
        // there are kept for the hold-down, until an improvement is alerted.
        let orphans = AlertDecision.orphanNames(assessment)
        let orphaned = Set(orphans), present = Set(assessment.interfaces.lazy.map(\.interface.name))
        for name in history.alertedOrphans where !orphaned.contains(name) && keptAlerted[name] == nil && present.contains(name) { keptAlerted[name] = now }
        for name in keptAlerted.keys where !present.contains(name) { keptAlerted[name] = nil }
        for name in orphans { keptAlerted[name] = nil }
        if let alert, AlertDecision.isImprovement(alert) { keptAlerted = [:] }
        // While an improvement is held, the status alerted stays remembered as it was.
        if heldSince == nil { AlertDecision.remember(assessment, alert: alert, in: &history) } else { history.alertedOrphans = orphans }
        unrecordedHistory = history
    }

    /// Records the interfaces whose verdicts changed since the last judgement, with the state
    /// directory's lock held as every observer holds it, then hands the alert the recording
    /// claimed (if any) to the courier. A recording that fails is noted,
    /// and the next judgement records the whole namespace.
    private func observeChanges(_ assessment: Assessment, changed: [AssessedInterface],
                                removed: [(index: Int, name: String)]) throws -> (observations: Observations?, historyFindings: [Finding]) {
        let lock = try RunLock.acquire(directory: store.directory, command: "watch", purpose: .observing, patience: Watch.lockPatience) { _ in
            self.control.stopRequested
        }
        let recording: Recording
        do {
            guard let database = try store.database(create: true) else {
                lock.release()
                return (nil, [])
            }
            recording = try database.recordChanges(assessment, changed: changed, removed: removed.map { InterfaceKey(ifindex: $0.index, ifname: $0.name) },
                                                   label: NamespaceLabels.label(assessment.snapshot), alerting: recordingMonitoring.judging, cache: &cache)
        } catch {
            lock.release()
            Terminal.note("watch: observations not saved: \(error)")
            alertWithoutState(assessment)
            // Tried again, whole, within `recordSpacing` (or at a stop) though no event comes.
            fullRecordDue = true
            recordDue = Date().addingTimeInterval(Self.recordSpacing)
            return (nil, [])
        }
        lock.release()
        unrecordedHistory = nil
        // Another run recorded a newer inventory: the next judgement records the whole namespace.
        if recording.wasStale {
            fullRecordDue = true
        } else {
            improvementHeldSince = recording.heldSince
            for name in recording.keptAmong ?? [] { keptAlerted[name] = recording.kept[name] }
        }
        if let step = recording.clockStep { Terminal.log("watch: \(step.description)", priority: 4) }
        handOver(recording)
        return (recording.observations, recording.historyFindings)
    }

    /// Logs the alert a recording decided (if any), and has the courier deliver it, with
    /// whatever else is due.
    private func handOver(_ recording: Recording) {
        if let alert = recording.alert { runtime.monitoring.log(alert) }
        courier.deliverDue(decided: recording.alert?.id, own: identity)
    }

    /// Writes the metrics of a judgement, or, within the spacing of the last write, has them
    /// written when that has passed (from the facts as they are then): `newsSpacing` when the
    /// status or the number of orphans differs from the metrics last written (what alerting
    /// rules look at), else `metricsSpacing`.
    func metricsChanged(_ judged: Assessment, observations: Observations?) {
        guard runtime.monitoring.textfile != nil else {
            metricsDue = nil
            return
        }
        let now = Date()
        if let written = metricsWritten {
            let same = written.status == judged.status && written.orphans == judged.count(.orphaned)
            let due = written.at.addingTimeInterval(same ? Self.metricsSpacing : Self.newsSpacing)
            if now < due {
                metricsDue = min(metricsDue ?? due, due)
                return
            }
        }
        runtime.monitoring.writeMetrics(judged, observations: observations)
        metricsWritten = (now, judged.status, judged.count(.orphaned))
        metricsDue = nil
    }

    /// Writes the metrics of the facts as they stand: the last judgement's, with the finding only
    /// the count history last recorded gives (leak growth) added as a recording adds it. `now`:
    /// when they say tunwarden last looked, if later than that judgement.
    func writeCurrentMetrics(now: Date? = nil) {
        // Served (or moot, after a reload that dropped the textfile), so that no deadline stays past.
        metricsDue = nil
        // Only what growth is judged from is kept of this first reading, so that the engine puts
        // the finding in place below rather than in a copy of every finding.
        guard runtime.monitoring.textfile != nil, loaded,
              let current = engine.assessment(of: identity).map({ (count: $0.interfaces.count, takenAt: $0.snapshot.takenAt) }) else { return }
        // The history as last recorded, even while the next recording is to be whole: metrics
        // without it would say nothing was reaped (a counter reset) and drop leak growth.
        let observations = cache.histories[identity] != nil ? cache : nil
        if let history = observations?.histories[identity] {
            let growth = runtime.monitoring.growthPolicy.finding(history.counts, current: current.count, now: current.takenAt)
            engine.setHistoryFindings(growth.map { [$0] } ?? [], of: identity)
        }
        guard let assessment = engine.assessment(of: identity) else { return }
        runtime.monitoring.writeMetrics(assessment, observations: observations, now: now)
        metricsWritten = (Date(), assessment.status, assessment.count(.orphaned))
    }

    /// Metrics whose status and number of orphans stay as written are rewritten at most this
    /// often: each burst of events changes their counts a little, and node_exporter reads them
    /// every scrape interval (15 s or more), not more often. Each rewrite renames a new file over
    /// the old one, which on ext4 starts writing the new file's data back.
    static let metricsSpacing: TimeInterval = 5
    /// Metrics with another status or number of orphans are rewritten at most this often.
    static let newsSpacing: TimeInterval = 1
}
