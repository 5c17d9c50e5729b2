import Foundation
import TunwardenCore

/// Alerts kept until delivered. Every alert a run decides is owed to every kind of sink (an
/// exec, a webhook) until a run with a sink of that kind delivers it: a run of the alert's own
/// namespace (its watcher, the next audit, with the sink it has now: a command mended since the
/// failure counts), or a run of another namespace sharing the state directory whose sink is the
/// very one the deciding run had (the same command line, the same URL). A run of another
/// namespace with another command never takes it: one watcher per namespace, each paging its own
/// team, each team hears its own namespace's alerts. A run without a sink of its own (an admin's
/// `audit`) leaves its alert to its namespace's next run that has one. A sink that
/// failed leaves its alert pending, and later runs retry it with backoff. Whatever a sink was not
/// told goes with the next alert of the namespace it is given (see `owed`), so that it hears each
/// change once, in order, and never a stale status after a newer one.
///
/// A run delivers an alert only after claiming it in a write transaction, which moves the
/// alert's `next_attempt` a `claimFor` ahead: two runs never deliver the same attempt, and a run
/// that dies while delivering leaves the alert to be retried once its claim has run out.
extension StateDatabase {
    /// How long a claim keeps other runs off an alert: longer than a delivery can take (an exec
    /// gets 30 s, a webhook three attempts of 5 s).
    public static let claimFor: TimeInterval = 300

    /// The wait before retrying an alert whose delivery failed `attempts` times: 1 min, doubling, at most 1 h.
    public static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(3600, 60 * pow(2, Double(max(0, min(attempts, 16) - 1))))
    }

    /// Remembers an alert just decided, owed to every kind of sink (to the deciding run's own,
    /// `addresses`, where it has one), and claims for the run's `sinks` what they are owed in its
    /// namespace (the alert, with what they were not told before). Returns the alert as decided,
    /// and the claimed deliveries.
    func insert(_ alert: AlertDecision.Alert, namespace: Int64, sinks: AlertSinkSet, addresses: SinkAddresses,
                now: Date) throws -> (alert: PendingAlert, claimed: [PendingAlert]) {
        let body = alert.json()
        try connection.statement("""
            INSERT INTO alerts (namespace, time, event, status, previous_status, first, summary, new_orphans, body,
                                pending_exec, pending_webhook, next_attempt, exec_sink, webhook_sink)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, 1, ?10, ?11, ?12)
            """)
            .bind(1, namespace).bind(2, alert.time).bind(3, alert.event).bind(4, alert.status.rawValue)
            .bind(5, alert.previousStatus.rawValue).bind(6, alert.first ? 1 : 0).bind(7, alert.summary)
            .bind(8, alert.newOrphans.joined(separator: "\n")).bind(9, blob: body).bind(10, now)
            .bind(11, addresses.exec).bind(12, addresses.webhook).run()
        let id = try connection.integer("SELECT last_insert_rowid()") ?? 0
        try connection.statement("DELETE FROM alerts WHERE namespace = ?1 AND id IN (SELECT id FROM alerts WHERE namespace = ?1 ORDER BY id DESC LIMIT -1 OFFSET ?2)")
            .bind(1, namespace).bind(2, Self.maximumAlerts).run()
        let decided = PendingAlert(id: id, time: alert.time, event: alert.event, status: alert.status, previousStatus: alert.previousStatus,
                                   first: alert.first, summary: alert.summary, newOrphans: alert.newOrphans, body: body, sinks: sinks, attempts: 0)
        let claimed = try claimOwed(namespace: namespace, sinks: sinks, addresses: addresses, own: true, now: now, due: true)
        return (decided, claimed)
    }

    /// Which alerts a run's sinks are owed, in SQL over `alerts`: ?1 and ?2 say whether it has
    /// an exec and a webhook, ?3 and ?4 are their addresses; those of the run's own namespace,
    /// whichever sink they were decided with, are every namespace's when ?5 is 1, else the one's
    /// whose id is ?6.
    static let owedToSinks = """
        ((pending_exec AND ?1 AND (exec_sink = ?3 OR ?5 OR namespace = ?6))
         OR (pending_webhook AND ?2 AND (webhook_sink = ?4 OR ?5 OR namespace = ?6)))
        """

    /// Binds what `owedToSinks` asks for. `own`: the identity of the namespace the run records,
    /// whose alerts its sinks are owed whichever sink they were decided with; nil takes every
    /// namespace as its own (for tests); one never recorded, none.
    func bindOwed(_ statement: SQLiteStatement, sinks: AlertSinkSet, addresses: SinkAddresses, own: String?) throws {
        let ownID = try own.flatMap { try namespaceRow($0)?.id } ?? -1
        statement.bind(1, sinks.contains(.exec) ? 1 : 0).bind(2, sinks.contains(.webhook) ? 1 : 0)
            .bind(3, addresses.exec).bind(4, addresses.webhook).bind(5, own == nil ? 1 : 0).bind(6, ownID)
    }

    /// Claims what `sinks` (those at `addresses`) are owed in the namespaces with an alert due by
    /// `now`, oldest first, for the calling run to deliver: for each namespace and sink, one
    /// delivery standing for every alert the sink is owed there (see `owed`). In namespaces other
    /// than the run's `own` (see `bindOwed`), only alerts decided with the very sinks at
    /// `addresses` are. At most `namespaces` namespaces are taken, so that a watcher delivers one at a time between
    /// its other work.
    public func claimDueAlerts(sinks: AlertSinkSet, addresses: SinkAddresses = SinkAddresses(), own: String? = nil, now: Date,
                               namespaces limit: Int = .max) throws -> [PendingAlert] {
        guard !sinks.isEmpty else { return [] }
        return try guarded {
            try connection.transaction(writing: true) {
                let select = try connection.statement("SELECT namespace FROM alerts WHERE \(Self.owedToSinks) AND next_attempt <= ?7 GROUP BY namespace ORDER BY min(id)")
                try bindOwed(select, sinks: sinks, addresses: addresses, own: own)
                select.bind(7, now)
                var namespaces: [Int64] = []
                while try select.step() { namespaces.append(select.int64(0)) }
                let ownID = try own.map { try namespaceRow($0)?.id }
                var claimed: [PendingAlert] = []
                for namespace in namespaces.prefix(limit) {
                    claimed += try claimOwed(namespace: namespace, sinks: sinks, addresses: addresses, own: own == nil || ownID == namespace,
                                             now: now, due: false)
                }
                return claimed
            }
        }
    }

    /// Records how delivering a claimed alert went, for every alert the delivery stood for:
    /// `delivered` sinks are done with them; if any `failed`, they are retried after the backoff;
    /// else what other kinds of sink are owed is due at once.
    public func finishDelivery(of alert: PendingAlert, delivered: AlertSinkSet, failed: AlertSinkSet, problem: String?, now: Date) throws {
        try guarded {
            try connection.transaction(writing: true) {
                let attempts = failed.isEmpty ? alert.attempts : alert.attempts + 1
                let next = failed.isEmpty ? now : now.addingTimeInterval(Self.backoff(afterAttempts: attempts))
                let update = """
                    UPDATE alerts SET pending_exec = pending_exec AND NOT ?2, pending_webhook = pending_webhook AND NOT ?3,
                    attempts = max(attempts, ?4), next_attempt = ?5, last_problem = ?6 WHERE id = ?1
                    """
                for id in alert.covers {
                    try connection.statement(update)
                        .bind(1, id).bind(2, delivered.contains(.exec) && !failed.contains(.exec) ? 1 : 0)
                        .bind(3, delivered.contains(.webhook) && !failed.contains(.webhook) ? 1 : 0)
                        .bind(4, attempts).bind(5, next).bind(6, problem).run()
                }
            }
        }
    }

    /// When the next undelivered alert that one of `sinks` (those at `addresses`, for a run of
    /// the `own` namespace: see `claimDueAlerts`) is owed may be tried (nil: none pending).
    public func nextDeliveryAttempt(sinks: AlertSinkSet, addresses: SinkAddresses = SinkAddresses(), own: String? = nil) throws -> Date? {
        guard !sinks.isEmpty else { return nil }
        return try guarded {
            let statement = try connection.statement("SELECT min(next_attempt) FROM alerts WHERE \(Self.owedToSinks)")
            try bindOwed(statement, sinks: sinks, addresses: addresses, own: own)
            defer { statement.finishReading() }
            return try statement.step() ? statement.date(0) : nil
        }
    }

    /// Alerts still owed to one of `sinks`, oldest first (for tests and `history`).
    public func undeliveredAlerts(sinks: AlertSinkSet = [.exec, .webhook]) throws -> [(id: Int64, event: String, attempts: Int, nextAttempt: Date?)] {
        try guarded {
            let statement = try connection.statement("""
                SELECT id, event, attempts, next_attempt FROM alerts WHERE (pending_exec AND ?1) OR (pending_webhook AND ?2) ORDER BY id
                """)
            statement.bind(1, sinks.contains(.exec) ? 1 : 0).bind(2, sinks.contains(.webhook) ? 1 : 0)
            defer { statement.finishReading() }
            var result: [(id: Int64, event: String, attempts: Int, nextAttempt: Date?)] = []
            while try statement.step() { result.append((statement.int64(0), statement.string(1) ?? "", statement.int(2), statement.date(3))) }
            return result
        }
    }
}
