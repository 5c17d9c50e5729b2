import Foundation
#if os(Linux)
import Inventory
#endif
import Storage
import TunwardenCore

/// Delivering alerts kept in the state database: the one a run has just decided on, and those
/// whose delivery failed before, retried with backoff (1 min, doubling, at most 1 h) until
/// delivered or superseded by a newer alert of the same namespace.
extension Monitoring {
    /// What this run judges alerts with: its leak-growth policy, the sinks it delivers to and the
    /// watcher's hold-down.
    var judging: AlertJudging {
        AlertJudging(growth: growthPolicy, sinks: sinks.kinds, hold: hold) { ProcessInfo.processInfo.hostName }
    }

    /// Delivers an alert this run decided on and claimed (already logged by the caller), and
    /// records how it went; a failed sink leaves it pending for a later run.
    func deliver(_ alert: PendingAlert, store: StateStore) {
        let outcome = sinks.deliver(alert)
        finish(alert, outcome, store: store)
    }

    /// Logs and delivers the alert a recording claimed (if any), then retries the undelivered
    /// alerts that are due; returns when the next retry falls due (see `deliverPending`).
    @discardableResult
    func deliver(claimed alert: PendingAlert?, store: StateStore) -> Date? {
        if let alert {
            sinks.log(alert.event, alert.status, previous: alert.previousStatus, first: alert.first,
                      newOrphans: alert.newOrphans, summary: alert.summary)
            deliver(alert, store: store)
        }
        return deliverPending(store: store)
    }

    /// Retries the undelivered alerts that are due, each claimed first so that no other run
    /// retries it at the same time, and returns when the next one falls due (nil: none is
    /// pending for the sinks this run has). The watcher calls this when that time comes; an audit
    /// calls it after recording. Problems with the database are noted, never thrown.
    @discardableResult
    func deliverPending(store: StateStore, now: Date = Date()) -> Date? {
        let kinds = sinks.kinds
        guard !kinds.isEmpty else { return nil }
        do {
            guard let database = try store.database(create: false) else { return nil }
            for alert in try database.claimDueAlerts(sinks: kinds, now: now) {
                sinks.log(alert.event, alert.status, previous: alert.previousStatus, first: alert.first, newOrphans: alert.newOrphans,
                          summary: alert.summary, retry: "retrying (attempt \(alert.attempts + 1)) the undelivered alert of \(Timestamp.format(alert.time))")
                finish(alert, sinks.deliver(alert), store: store)
            }
            return try database.nextDeliveryAttempt(sinks: kinds)
        } catch {
            Terminal.note("undelivered alerts not retried: \(error)")
            return nil
        }
    }

    private func finish(_ alert: PendingAlert, _ outcome: AlertSinks.Outcome, store: StateStore) {
        guard !outcome.delivered.isEmpty || !outcome.failed.isEmpty else { return }
        do {
            try store.database(create: false)?.finishDelivery(of: alert, delivered: outcome.delivered, failed: outcome.failed,
                                                               problem: outcome.problem, now: Date())
            if !outcome.failed.isEmpty {
                Terminal.note("the alert is kept undelivered and retried in \(DurationText.format(StateDatabase.backoff(afterAttempts: alert.attempts + 1))) by the next run that can")
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
