import Foundation
#if os(Linux)
import Inventory
#endif
import Storage
import TunwardenCore

/// Delivering alerts kept in the state database: what a run's sinks are owed when it has just
/// decided on an alert, and alerts whose delivery failed before (or that a run without such a
/// sink decided), retried with backoff (1 min, doubling, at most 1 h) until delivered. Whatever a
/// sink was not told goes with the next alert of the namespace it is given (see
/// `StateDatabase.claimOwed`).
extension Monitoring {
    /// What this run judges alerts with: its leak-growth policy, the sinks it delivers to and the
    /// watcher's hold-down.
    var judging: AlertJudging {
        var judging = AlertJudging(growth: growthPolicy, sinks: claimsWhenDeciding ? sinks.kinds : [], hold: hold) { ProcessInfo.processInfo.hostName }
        judging.addresses = sinks.addresses
        return judging
    }

    /// Delivers what this run claimed, and records how it went; a failed sink leaves it pending
    /// for a later run.
    func deliver(_ alert: PendingAlert, store: StateStore) {
        let outcome = sinks.deliver(alert)
        finish(alert, outcome, store: store)
    }

    /// Logs the alert a recording decided (if any), delivers what the recording claimed, then
    /// retries the undelivered alerts that are due; returns when the next retry falls due (see
    /// `deliverPending`).
    @discardableResult
    func deliver(recorded recording: Recording, store: StateStore) -> Date? {
        if let alert = recording.alert { log(alert) }
        for delivery in recording.claimed { deliver(delivery, logged: Set(recording.alert.map { [$0.id] } ?? []), store: store) }
        return deliverPending(store: store, own: recording.observations.histories.keys.first ?? "")
    }

    /// Logs a newly decided alert.
    func log(_ alert: PendingAlert) {
        sinks.log(alert.event, alert.status, previous: alert.previousStatus, first: alert.first, newOrphans: alert.newOrphans, summary: alert.summary)
    }

    /// Delivers a claimed delivery, logged first unless it is only an alert this run logged when
    /// it decided it (`logged`).
    func deliver(_ delivery: PendingAlert, logged: Set<Int64>, store: StateStore) {
        if delivery.covers.count != 1 || delivery.attempts > 0 || !logged.contains(delivery.id) {
            sinks.log(delivery.event, delivery.status, previous: delivery.previousStatus, first: delivery.first, newOrphans: delivery.newOrphans,
                      summary: delivery.summary, retry: Self.deliveryNote(delivery))
        }
        deliver(delivery, store: store)
    }

    /// What a delivery made later than its alert was decided is, in the log: which alert, of
    /// which namespace, at which attempt, and how many undelivered ones it stands for.
    static func deliveryNote(_ delivery: PendingAlert) -> String {
        let alert = "the \(delivery.attempts > 0 ? "undelivered " : "")alert of \(Timestamp.format(delivery.time))"
            + (delivery.namespace.map { " in \($0)" } ?? "")
            + (delivery.covers.count > 1 ? ", with the \(delivery.covers.count - 1) undelivered before it" : "")
        return delivery.attempts > 0 ? "retrying (attempt \(delivery.attempts + 1)) \(alert)" : "delivering \(alert)"
    }

    /// Retries the undelivered alerts that are due, each claimed first so that no other run
    /// retries it at the same time, and returns when the next one falls due (nil: none is
    /// pending for the sinks this run has). An audit calls this after recording. `own`: the
    /// identity of the namespace the run records, whose alerts its sinks are owed whichever sink
    /// decided them (of other namespaces, only those decided with the very same sink); nil takes
    /// every namespace as its own.
    /// Problems with the database are noted, never thrown.
    @discardableResult
    func deliverPending(store: StateStore, now: Date = Date(), own: String? = nil) -> Date? {
        deliverDue(store: store, now: now, own: own).next
    }

    /// `deliverPending` for at most `namespaces` namespaces; also says whether it delivered
    /// anything (more may be due then).
    func deliverDue(store: StateStore, now: Date, namespaces: Int = .max, logged: Set<Int64> = [], own: String?) -> (delivered: Bool, next: Date?) {
        let kinds = sinks.kinds, addresses = sinks.addresses
        guard !kinds.isEmpty else { return (false, nil) }
        do {
            guard let database = try store.database(create: false) else { return (false, nil) }
            // Read first: a claim is a write, which a watcher would otherwise make after every recording.
            let next = try database.nextDeliveryAttempt(sinks: kinds, addresses: addresses, own: own)
            guard let due = next, due <= now else { return (false, next) }
            let claimed = try database.claimDueAlerts(sinks: kinds, addresses: addresses, own: own, now: now, namespaces: namespaces)
            for delivery in claimed { deliver(delivery, logged: logged, store: store) }
            return (!claimed.isEmpty, try database.nextDeliveryAttempt(sinks: kinds, addresses: addresses, own: own))
        } catch {
            Terminal.note("undelivered alerts not retried: \(error)")
            return (false, nil)
        }
    }

    private func finish(_ alert: PendingAlert, _ outcome: AlertSinks.Outcome, store: StateStore) {
        guard !outcome.delivered.isEmpty || !outcome.failed.isEmpty else { return }
        do {
            try store.database(create: false)?.finishDelivery(of: alert, delivered: outcome.delivered, failed: outcome.failed,
                                                               problem: outcome.problem, now: Date())
            if !outcome.failed.isEmpty {
                Terminal.note("the alert is kept undelivered and retried in \(DurationText.exact(StateDatabase.backoff(afterAttempts: alert.attempts + 1))) by the next run that can, or sooner with the next alert of its namespace")
            }
        } catch {
            Terminal.note("how the alert's delivery went was not recorded: \(error)")
        }
    }
}

/// What a namespace is called in `history`.
enum NamespaceLabels {
    /// The `--netns` name, or the name `ip netns` knows the caller's own namespace by, and
    /// whether it is this host's own (process 1's); nil when neither can be told.
    static func label(_ snapshot: Snapshot) -> NamespaceLabel? {
        if snapshot.platform == .darwin { return NamespaceLabel(name: nil, isHost: true) }
        if let name = snapshot.namespace { return NamespaceLabel(name: name) }
        #if os(Linux)
        if let current = NamespaceNames.identifyCurrent() { return NamespaceLabel(name: current.name, isHost: current.isInitial) }
        #endif
        return nil
    }
}
