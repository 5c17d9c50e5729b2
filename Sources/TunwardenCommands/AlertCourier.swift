import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Storage
import TunwardenCore

/// The watcher's alert deliveries, made on a thread of their own, one at a time, so that a sink
/// that takes its time (an exec may take 30 s, a webhook its attempts) never holds up the event
/// loop: judging, reaping, the metrics and systemd's watchdog go on meanwhile, and `READY=1` waits
/// for none of them. The loop hands it the alerts it decided without the state, and asks it after
/// each recording to deliver what is due in the state database (the alert the recording decided
/// among it): claimed only when its turn comes, so that what the delivery under way did not say is
/// carried by the next one (see `StateDatabase.claimOwed`), never sent twice. It retries what is
/// undelivered when it falls due, one namespace at a time, and looks for alerts other runs left
/// for its sinks at least every minute. The loop logs the alerts it decides;
/// the courier logs only the deliveries that say more (retries, alerts other runs decided).
final class AlertCourier: @unchecked Sendable {
    /// A piece of work, with the monitoring settings as they were when it was taken.
    private enum Job {
        case unrecorded(AlertDecision.Alert)
        case due
    }

    /// Guards every member below but `store` (used by the courier's thread alone) and the pipe.
    private let condition = NSCondition()
    private var monitoring: Monitoring
    /// The alerts the loop decided and logged lately (their delivery is not logged again).
    private var logged: [Int64] = []
    private var unrecorded: [AlertDecision.Alert] = []
    /// Whether the state database is to be looked at for alerts due.
    private var lookWanted = false
    /// The identity of the namespace watched, once known ("" until then): of other namespaces,
    /// the courier delivers only alerts decided with the very same sinks.
    private var own = ""
    /// When the next alert kept undelivered falls due.
    private var nextRetry: Date?
    private var stopping = false
    private var started = false
    private var finished = false
    /// A connection of its own to the state directory's database: the loop's is the loop's.
    private let store: StateStore
    /// Made readable by `stop`: an exec that hangs is stopped at once, and a webhook tries no
    /// more (see `AlertSinks.interrupt`).
    private let stopPipe: (read: Int32, write: Int32)
    /// Made readable when the courier's connection replaced the state database (one emptied in
    /// place, moved aside): the loop, polling `newsDescriptor`, then records the fresh one whole at
    /// once, before other runs read a database that holds nothing of what it alerted.
    private let newsPipe: (read: Int32, write: Int32)

    init(directory: String, monitoring: Monitoring, busyWait: BusyWait = BusyWait()) {
        store = StateStore(directory: directory, busyWait: busyWait)
        self.monitoring = monitoring
        stopPipe = makePipe(nonBlocking: false)
        newsPipe = makePipe(nonBlocking: true)
    }

    deinit {
        for end in [stopPipe.read, stopPipe.write, newsPipe.read, newsPipe.write] where end >= 0 { close(end) }
    }

    /// The descriptor the loop polls for the courier's news (see `newsPipe`); -1 when there is
    /// none, which poll ignores.
    var newsDescriptor: Int32 { newsPipe.read }

    /// Empties the news pipe once the loop has woken for it.
    func drainNews() {
        if newsPipe.read >= 0 { drainPipe(newsPipe.read) }
    }

    /// Starts the courier's thread; sinks are told to stop when the courier is.
    func start() {
        AlertSinks.interrupt = (stopPipe.read, { [weak self] in self?.condition.withLock { self?.stopping ?? true } ?? true })
        condition.withLock { started = true }
        let thread = Thread { [self] in
            while let work = next() { run(work.job, work.monitoring, logged: work.logged, own: work.own) }
            condition.withLock {
                finished = true
                condition.broadcast()
            }
        }
        thread.start()
    }

    /// New settings (sinks among them), applied from the next delivery on.
    func update(_ monitoring: Monitoring) {
        condition.withLock {
            self.monitoring = monitoring
            lookWanted = true
            condition.broadcast()
        }
    }

    /// Delivers what is due in the state database, soon: after a recording of namespace `own`,
    /// whose alert (if any, `decided`) the loop has logged.
    func deliverDue(decided: Int64?, own: String) {
        condition.withLock {
            self.own = own
            if let decided { logged = logged.suffix(99) + [decided] }
            lookWanted = true
            condition.broadcast()
        }
    }

    /// Delivers an alert decided without the state (already logged), to every sink.
    func deliver(unrecorded alert: AlertDecision.Alert) {
        condition.withLock {
            unrecorded.append(alert)
            condition.broadcast()
        }
    }

    /// Stops the thread, stopping a delivery under way at once, and waits for it. What is
    /// undelivered in the state database is left to the next run that can deliver it.
    func stop() {
        let wasStarted = condition.withLock {
            stopping = true
            condition.broadcast()
            return started
        }
        var byte: UInt8 = 1
        if stopPipe.write >= 0 { _ = write(stopPipe.write, &byte, 1) }
        let (lost, monitoring) = condition.withLock {
            while wasStarted, !finished { condition.wait() }
            defer { unrecorded = [] }
            return (unrecorded.count, self.monitoring)
        }
        if wasStarted { AlertSinks.interrupt = nil }
        if lost > 0, !monitoring.sinks.kinds.isEmpty {
            Terminal.log("watch: stopping with \(lost) alert\(lost == 1 ? "" : "s") decided without the state not delivered", priority: 4)
        }
    }

    /// How often the state database is looked at for alerts due when nothing asks sooner.
    static let lookInterval: TimeInterval = 60

    /// The next piece of work, waited for; nil once asked to stop.
    private func next() -> (job: Job, monitoring: Monitoring, logged: Set<Int64>, own: String)? {
        condition.withLock {
            while !stopping {
                if !unrecorded.isEmpty { return (.unrecorded(unrecorded.removeFirst()), monitoring, [], own) }
                if lookWanted || nextRetry.map({ $0 <= Date() }) == true {
                    (lookWanted, nextRetry) = (false, nil)
                    return (.due, monitoring, Set(logged), own)
                }
                if let nextRetry { _ = condition.wait(until: nextRetry) } else { condition.wait() }
            }
            return nil
        }
    }

    private func run(_ job: Job, _ monitoring: Monitoring, logged: Set<Int64>, own: String) {
        switch job {
        case let .unrecorded(alert):
            _ = monitoring.sinks.deliver(alert, logged: true)
        case .due:
            let (delivered, next) = monitoring.deliverDue(store: store, now: Date(), namespaces: 1, logged: logged, own: own)
            // The courier may be the first to meet a database emptied in place: it says so, as
            // the loop would have, and wakes the loop, which finds its file replaced and records
            // the fresh one whole.
            if let notice = store.takeNotice() {
                Terminal.log("watch: \(notice)")
                if newsPipe.write >= 0 { wakePipe(newsPipe.write) }
            }
            condition.withLock {
                // Other namespaces' alerts may be due too: one namespace at a time.
                if delivered { lookWanted = true }
                // Looked at again at least every `lookInterval`: another run (an audit without this
                // sink) may have left an alert for it meanwhile.
                nextRetry = [nextRetry, next, Date().addingTimeInterval(Self.lookInterval)].compactMap { $0 }.min()
            }
        }
    }
}
