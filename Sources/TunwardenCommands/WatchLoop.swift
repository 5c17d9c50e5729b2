import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if os(Linux)
import Inventory
#endif
import Storage
import TunwardenCore

/// The one watch loop, for Linux and macOS: it keeps the namespace's facts in the judging engine,
/// applies what the source reports, and after each burst (the coalescing window) judges what
/// changed exactly as `audit` judges (observations, leak growth, alerts on transitions,
/// metrics). It sleeps in `poll` until the next event or the next deadline: the coalescing
/// window, the orphan look (periodic, or asked for by a tun node's opening or closing), the
/// traffic sample (which also refreshes the metrics), the systemd watchdog, the next orphan coming
/// of age for `--reap`, changes waiting to be recorded. Nothing wakes it otherwise. Alerts are
/// delivered by its `courier`, on a thread of their own: a sink never holds the loop up.
final class WatchLoop {
    let source: any WatchSource
    let store: StateStore
    var runtime: Watch.Runtime
    let control: any WatchControl
    let notifier: SystemdNotifier?
    /// Re-reads the settings after a reload request; nil keeps the running ones.
    var reload: (Watch.Runtime) -> Watch.Runtime? = { _ in nil }
    /// Reaps what is due and returns when the next orphan becomes due (Linux with --reap).
    var reaper: ((Assessment, Observations) -> Date?)?
    /// Called after each judgement (for tests).
    var judged: (Assessment) -> Void = { _ in }
    /// How often orphan candidates are looked at without being asked to (see `LookSchedule`;
    /// further apart where a look is costly): a process attaching to a device that is down raises
    /// no event, and one that opened a tun node no watch covers is not heard.
    var lookInterval: TimeInterval = 5
    /// How soon urgent news (a holder's exit) is judged: long enough to gather the exits of a
    /// process group that dies at once, far shorter than the coalescing window meant for
    /// rtnetlink storms.
    static let urgentWindow: TimeInterval = 0.005

    let engine: JudgingEngine
    private(set) var identity = ""
    private(set) var loaded = false
    private var lastSummary = ""
    /// Whether there are down or orphaned tun and tap devices to look at (see `candidates`).
    private var hasCandidates = false
    /// Whether there are tun and tap devices nobody holds (orphaned, suspect or unknown), whose
    /// verdicts rest on what no event announces (sockets, tc actions, nftables rules): read
    /// again at each traffic sample (see `WatchSource.rereadUses`).
    private var hasUnheld = false
    /// Whether reaping is held back because the state could not be used (logged once each way).
    private var reapingHeld = false
    /// When the last recording was made, and the status it recorded (history's findings included).
    var lastRecording: (at: Date, status: AuditStatus)?
    /// When the changes put off are to be recorded; nil: none wait.
    var recordDue: Date?
    /// Whether the holders the source was last told of may have changed: after a snapshot, a
    /// holder scan, or a change to a device a process can hold or did hold. Walking every verdict
    /// for them at each burst, when a container's veth pair came or went, read megabytes.
    private var holdingsStale = true
    /// The indices of the devices held when the source was last told.
    private var heldIndices = Set<Int>()
    /// What was alerted while the state could not be recorded (see `alertWithoutState`); nil
    /// once a recording succeeds again.
    var unrecordedHistory: NamespaceHistory?
    /// Since when an improvement of the status has been held back (see `AlertDecision.Hold`);
    /// nil when none is. It is alerted once it has lasted `runtime.resolveAfter`, when the loop
    /// wakes for it. Kept only here: a watcher that stops while one is held alerts nothing (the
    /// next run, a watcher or an audit, finds the status still better than the one alerted).
    var improvementHeldSince: Date?
    /// The devices alerted that are orphans no more, with since when: remembered as alerted while
    /// `runtime.resolveAfter` runs, as the state remembers them (see `Recording.kept`), so that
    /// a judgement made without the state alerts no relapse of theirs either.
    var keptAlerted: [String: Date] = [:]
    /// When the improvement held is to be alerted, if it lasts.
    var improvementDue: Date? { improvementHeldSince.map { $0.addingTimeInterval(runtime.resolveAfter) } }
    /// The monitoring settings a recording judges alerts with: the running ones, with the
    /// hold-down of improvements as it stands.
    var recordingMonitoring: Monitoring {
        var monitoring = runtime.monitoring
        monitoring.hold = AlertDecision.Hold(holdDown: runtime.resolveAfter, since: improvementHeldSince)
        monitoring.claimsWhenDeciding = false
        return monitoring
    }
    /// When metrics were last written, with the status and the number of orphans they showed.
    var metricsWritten: (at: Date, status: AuditStatus, orphans: Int)?
    /// When metrics a judgement changed are due to be written; nil: none wait.
    var metricsDue: Date?

    /// When the next orphan comes of age for `--reap`, on the boot clock where there is one
    /// (`boot`) and else on the wall clock (`wall`): a wall clock stepped while the watcher
    /// sleeps neither wakes it to a plan that would still wait nor keeps it asleep past the time.
    private var nextReapDue: (wall: Date, boot: TimeInterval?)?

    /// `nextReapDue` as a wall-clock time now.
    private var reapDueNow: Date? {
        guard let due = nextReapDue else { return nil }
        guard let boot = due.boot, let bootNow = Self.bootClock() else { return due.wall }
        return Date().addingTimeInterval(boot - bootNow)
    }

    /// Delivers the alerts the loop decides, and retries undelivered ones, off the loop.
    let courier: AlertCourier
    /// Whether the next judgement records the whole namespace (after a full inventory, or a
    /// recording that failed) rather than what changed.
    var fullRecordDue = true
    /// Set when an inventory found the named namespace deleted.
    private var namespaceGone: String?
    /// Why the loop stopped with nothing left to watch (the named namespace was deleted): its
    /// sockets would otherwise keep the namespace, and its devices, alive.
    var gone: String? { namespaceGone ?? source.gone }
    /// `StateStore.openings` at the last whole recording.
    var openingsRecorded = 0
    /// Whether the loop found the database it recorded into replaced (emptied in place, moved
    /// aside) since the last whole recording: the next recording carries what was alerted into
    /// the fresh one even when this watcher's own reopening of it failed meanwhile.
    var replacedSinceRecorded = false
    /// The namespace's observations as last recorded, kept up to date by each recording.
    var cache = Observations()

    init(source: any WatchSource, store: StateStore, runtime: Watch.Runtime, control: any WatchControl, notifier: SystemdNotifier? = nil) {
        self.source = source
        self.store = store
        self.runtime = runtime
        self.control = control
        self.notifier = notifier
        engine = JudgingEngine(policy: runtime.policy)
        courier = AlertCourier(directory: store.directory, monitoring: runtime.monitoring, busyWait: store.busyWait)
    }

    /// Takes a fresh snapshot into the engine; false when it could not be taken.
    private func resynchronise() -> Bool {
        do {
            let snapshot = try source.snapshot()
            identity = snapshot.namespaceIdentity
            engine.load(snapshot)
            loaded = true
            holdingsStale = true
            fullRecordDue = true
            return true
        } catch {
            if let missing = error as? InventoryError, missing.namespaceGone {
                namespaceGone = missing.message
                return false
            }
            Terminal.note("watch: inventory failed, retrying: \(error)")
            return false
        }
    }

    /// Judges the facts as they stand and records the judgement; false when it is to be made again
    /// (another run held the state directory too long). After a full inventory the whole
    /// namespace is recorded; after events, only the interfaces whose verdicts changed.
    private func judge() -> Bool {
        // The facts are true as of now (events would have said otherwise): the judgement is
        // dated now, so that it is never older than the last one recorded (a reload judges the
        // same facts again, under new settings).
        guard loaded else { return false }
        engine.apply([], to: identity, at: Date(), bootClock: Self.bootClock())
        let recorded: (observations: Observations?, historyFindings: [Finding])
        do {
            recorded = try record()
        } catch {
            Terminal.note("watch: observations not saved, retrying: \(error)")
            // What this judgement would have recorded is recorded whole next time.
            fullRecordDue = true
            return false
        }
        // The assessment recorded is gone by now, so the engine puts history's findings in place
        // rather than in a copy of every finding (thousands, at every burst of a leaking host).
        engine.setHistoryFindings(recorded.historyFindings, of: identity)
        guard let judged = engine.assessment(of: identity) else { return false }
        let observations = recorded.observations
        metricsChanged(judged, observations: observations)
        let summary = AuditTable.summaryLine(judged)
        if summary != lastSummary { Terminal.log("watch: \(summary)") }
        lastSummary = summary
        notifier?.send("STATUS=\(summary)")
        if holdingsStale {
            // Read in place: a copy of each of thousands of verdicts per burst was most of a burst's cost.
            var held: [Int32: [Int]] = [:]
            var nodes: [Int32: Int32] = [:]
            for position in judged.interfaces.indices where !judged.interfaces[position].holders.isEmpty {
                for holder in judged.interfaces[position].holders {
                    held[holder.pid, default: []].append(judged.interfaces[position].interface.index)
                    if let fd = holder.fd { nodes[holder.pid] = fd }
                }
            }
            source.noteHolders(held, nodes: nodes)
            heldIndices = Set(held.values.joined())
            holdingsStale = false
        }
        (hasCandidates, hasUnheld) = (false, false)
        for position in judged.interfaces.indices {
            let entry = judged.interfaces[position]
            guard entry.interface.kind == .tun || entry.interface.kind == .tap else { continue }
            if Self.isCandidate(entry) { hasCandidates = true }
            if entry.state != .live { hasUnheld = true }
            if hasCandidates && hasUnheld { break }
        }
        self.judged(judged)
        if let reaper, let observations, let due = reaper(judged, observations) {
            nextReapDue = (due, judged.snapshot.bootClock.map { $0 + due.timeIntervalSince(judged.snapshot.takenAt) })
        } else {
            nextReapDue = nil
        }
        if reaper != nil { noteReapingHeld(runtime.reap && observations == nil) }
        return true
    }

    /// Says when reaping stops because the state cannot record this judgement (a read-only or
    /// broken state directory), and when it resumes: without the observations no orphan's age
    /// can be proven, so nothing is reaped, as `reap` refuses then (exit 3).
    private func noteReapingHeld(_ held: Bool) {
        guard held != reapingHeld else { return }
        reapingHeld = held
        if held {
            Terminal.log("watch: not reaping: the state in \(store.directory) cannot be used, so no orphan's age can be proven; reaping resumes once it can be", priority: 4)
        } else {
            Terminal.log("watch: reaping again: the state can be used")
        }
    }

    /// Notes changes that may change who holds what (verdicts' holders are the holder scan's
    /// attachments, by device name).
    private func noteHoldings(_ changes: [FactChange]) {
        for change in changes where !holdingsStale {
            switch change {
            case let .link(interface):
                if interface.kind != .veth && interface.kind != .other || heldIndices.contains(interface.index) { holdingsStale = true }
            case let .linkRemoved(index):
                if heldIndices.contains(index) { holdingsStale = true }
            case .addressAdded, .addressRemoved, .routeAdded, .routeReplaced, .routeRemoved, .peerNamespaces:
                continue
            case .holders, .processNames:
                holdingsStale = true
            }
        }
    }

    /// Down tun and tap devices raise no event when a process attaches or lets go: they, and
    /// orphaned ones, are looked at when a tun node is opened or closed, and every `lookInterval`.
    private static func isCandidate(_ entry: AssessedInterface) -> Bool {
        (entry.interface.kind == .tun || entry.interface.kind == .tap) && (entry.state == .orphaned || !entry.interface.isUp)
    }

    /// The devices to look at, as the engine has them now; gathered only when a look is due.
    private func candidates() -> [NetworkInterface] {
        guard loaded, let assessment = engine.assessment(of: identity) else { return [] }
        return assessment.interfaces.filter(Self.isCandidate).map(\.interface)
    }

    /// Runs until a stop is requested.
    func run(watching description: String) {
        courier.start()
        defer { courier.stop() }
        if resynchronise() { _ = judge() }
        Terminal.log("watch: watching \(description)")
        notifier?.send("READY=1")
        // When the news gathered so far is to be judged; nil: nothing waits.
        var judgeAt: Date?
        func judgeWithin(_ window: TimeInterval) {
            let due = Date().addingTimeInterval(window)
            judgeAt = min(judgeAt ?? due, due)
        }
        var resyncWanted = !loaded
        // A first inventory that failed is tried again after the coalescing window.
        if !loaded { judgeWithin(Double(runtime.coalesce) / 1000) }
        var now = Date()
        var looks = LookSchedule(start: now, interval: lookInterval)
        var nextStats = now.addingTimeInterval(runtime.statsInterval)
        var nextWatchdog = notifier?.watchdogInterval.map { now.addingTimeInterval($0 / 2) }
        /// `whole`: the news is complete in itself (a look reads every candidate at once), so what
        /// it changed is judged after the urgent window rather than the coalescing window.
        func take(_ news: [WatchNews], whole: Bool = false) {
            for item in news {
                switch item {
                case let .changes(changes):
                    // Changes that only repeat what is known (a look finding every link as it
                    // was) call for no judgement.
                    guard loaded, !changes.isEmpty, engine.apply(changes, to: identity, at: Date(), bootClock: Self.bootClock()) else { continue }
                    noteHoldings(changes)
                case let .resync(reason):
                    if let reason { Terminal.log("watch: \(reason); resynchronising with a full inventory") }
                    resyncWanted = true
                case .pending:
                    break
                case .look:
                    looks.asked(at: Date())
                    continue
                case .urgent:
                    judgeWithin(Self.urgentWindow)
                    continue
                }
                if whole {
                    judgeWithin(Self.urgentWindow)
                } else if judgeAt == nil {
                    judgeWithin(Double(runtime.coalesce) / 1000)
                }
            }
        }
        while !control.stopRequested, gone == nil {
            // Sleep until the first deadline, or an event.
            let looking = hasCandidates || source.looksWithoutCandidates
            // With nothing to look at, what tun nodes' openings asked for is moot (and their news
            // is not read until there is something to look at again).
            if !looking { looks.dropAsked() }
            let first = Self.wakeTime(judgement: judgeAt, servedByJudgement: [reapDueNow, recordDue, improvementDue],
                                      others: [nextStats, looking ? looks.due : nil, nextWatchdog, metricsDue, source.deadline])
            let timeout = max(0, min(first.timeIntervalSinceNow, 3600))
            var polled = ([control.descriptor, courier.newsDescriptor] + source.descriptors + (looking ? source.lookDescriptors : [])).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polled, nfds_t(polled.count), Int32((timeout * 1000).rounded(.up)))
            if ready > 0 {
                if polled[0].revents != 0 { control.drain() }
                if polled[1].revents != 0 { courier.drainNews() }
                let readable = Set(polled.dropFirst(2).filter { $0.revents != 0 }.map(\.fd))
                if !readable.isEmpty { take(source.read(ready: readable)) }
            }
            if control.stopRequested { break }
            now = Date()
            // A state database emptied in place (`: > state.db`) leaves every other run waiting
            // on its log: it is moved aside at once, and everything recorded again into a fresh one.
            // So is one the courier's connection (or another run) met first and replaced: until
            // this watcher records, other runs read a database that holds nothing it alerted.
            if store.openFileReplaced {
                replacedSinceRecorded = true
                if store.openFileEmptied { _ = try? store.database(create: true) }
                fullRecordDue = true
                if judgeAt == nil { judgeAt = .distantPast }
            }
            if let notice = store.takeNotice() { Terminal.log("watch: \(notice)") }
            if control.takeReload(), let reloaded = reload(runtime) {
                runtime = reloaded
                engine.policy = runtime.policy
                courier.update(runtime.monitoring)
                // Recorded at once under the new settings, whatever they change.
                lastRecording = nil
                nextStats = min(nextStats, now.addingTimeInterval(runtime.statsInterval))
                // New thresholds or sinks apply at once.
                judgeAt = .distantPast
            }
            if let due = source.deadline, now >= due { take(source.tick(now: now)) }
            if let due = reapDueNow, now >= due, judgeAt == nil {
                nextReapDue = nil
                judgeAt = .distantPast
            }
            // Changes put off are recorded by a judgement (which finds their time has come).
            if let due = recordDue, now >= due, judgeAt == nil { judgeAt = .distantPast }
            // So is an improvement that has lasted the hold-down, and is alerted by it.
            if let due = improvementDue, now >= due, judgeAt == nil { judgeAt = .distantPast }
            if now >= nextStats {
                nextStats = now.addingTimeInterval(runtime.statsInterval)
                // A source without a traffic sample re-reads everything on its own schedule. The
                // sample reads every link, so it is the orphan look as well.
                let looked = looking ? candidates() : nil
                let started = Self.threadCPUTime()
                if let changes = source.traffic(lookingAt: looked) {
                    take([.changes(changes)], whole: looked != nil)
                    if looked != nil { looks.looked(at: now, cost: Self.threadCPUTime() - started) }
                }
                // What no event announces, and the verdicts of devices nobody holds rest on.
                if hasUnheld, let changes = source.rereadUses() { take([.changes(changes)], whole: true) }
                // A quiet watcher is alive all the same: the metrics say when it last looked. (No
                // judgement is kept between bursts: one held would make the engine copy its lists
                // at the next change.)
                if judgeAt == nil { writeCurrentMetrics(now: now) }
            }
            if let due = metricsDue, now >= due { writeCurrentMetrics() }
            if let due = judgeAt, now >= due {
                if !resyncWanted { take(source.settle()) }
                if resyncWanted { resyncWanted = !resynchronise() }
                judgeAt = !resyncWanted && judge() ? nil : Date().addingTimeInterval(Double(runtime.coalesce) / 1000)
            }
            // After a judgement that was due: a holder's exit is not kept waiting behind a look.
            // (Due as of now: a traffic sample above may have been the look.)
            if looking, now >= looks.due {
                let started = Self.threadCPUTime()
                if let changes = source.look(at: candidates()) { take([.changes(changes)], whole: true) }
                looks.looked(at: now, cost: Self.threadCPUTime() - started)
            }
            if let interval = notifier?.watchdogInterval, let due = nextWatchdog, now >= due {
                notifier?.send("WATCHDOG=1")
                nextWatchdog = now.addingTimeInterval(interval / 2)
            }
        }
        // Changes put off, and metrics a judgement changed, are not left unwritten; but facts news
        // brought since the last judgement are not settled, and are left to the next start's
        // inventory (as lost events are) rather than recorded.
        if recordDue != nil {
            if judgeAt == nil, !resyncWanted {
                do { _ = try record(putOff: false) } catch { Terminal.note("watch: observations not saved: \(error)") }
            } else {
                Terminal.note("watch: stopping with events not yet judged: the changes since the last recording are not saved (the next start takes a fresh inventory)")
            }
        }
        if metricsDue != nil { writeCurrentMetrics() }
        source.close()
    }
}
