import Foundation
import TunwardenCore

/// Alerts kept until delivered: a sink that failed (a webhook down, an exec that exited non-zero)
/// leaves its alert pending, and later runs retry it with backoff until it is delivered or a
/// newer alert of the same namespace supersedes it.
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

    /// Remembers an alert just decided, superseding any older one of the namespace still
    /// pending, and claims it for the deciding run's `sinks`.
    func insert(_ alert: AlertDecision.Alert, namespace: Int64, sinks: AlertSinkSet, now: Date) throws -> PendingAlert {
        let body = alert.json()
        try connection.statement("UPDATE alerts SET pending_exec = 0, pending_webhook = 0 WHERE namespace = ?1 AND (pending_exec OR pending_webhook)")
            .bind(1, namespace).run()
        try connection.statement("""
            INSERT INTO alerts (namespace, time, event, status, previous_status, first, summary, new_orphans, body,
                                pending_exec, pending_webhook, next_attempt)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            """)
            .bind(1, namespace).bind(2, alert.time).bind(3, alert.event).bind(4, alert.status.rawValue)
            .bind(5, alert.previousStatus.rawValue).bind(6, alert.first ? 1 : 0).bind(7, alert.summary)
            .bind(8, alert.newOrphans.joined(separator: "\n")).bind(9, blob: body)
            .bind(10, sinks.contains(.exec) ? 1 : 0).bind(11, sinks.contains(.webhook) ? 1 : 0)
            .bind(12, now.addingTimeInterval(Self.claimFor)).run()
        let id = try connection.integer("SELECT last_insert_rowid()") ?? 0
        try connection.statement("DELETE FROM alerts WHERE namespace = ?1 AND id IN (SELECT id FROM alerts WHERE namespace = ?1 ORDER BY id DESC LIMIT -1 OFFSET ?2)")
            .bind(1, namespace).bind(2, Self.maximumAlerts).run()
        return PendingAlert(id: id, time: alert.time, event: alert.event, status: alert.status, previousStatus: alert.previousStatus,
                            first: alert.first, summary: alert.summary, newOrphans: alert.newOrphans, body: body, sinks: sinks, attempts: 0)
    }

    /// Claims every pending alert due by `now` that one of `sinks` still owes, oldest first,
    /// for the calling run to deliver; each comes with the sinks it is claimed for.
    public func claimDueAlerts(sinks: AlertSinkSet, now: Date) throws -> [PendingAlert] {
        guard !sinks.isEmpty else { return [] }
        return try guarded {
            try connection.transaction(writing: true) {
                let select = try connection.statement("""
                    SELECT id, time, event, status, previous_status, first, summary, new_orphans, body, pending_exec, pending_webhook, attempts
                    FROM alerts WHERE ((pending_exec AND ?1) OR (pending_webhook AND ?2)) AND next_attempt <= ?3 ORDER BY id
                    """)
                select.bind(1, sinks.contains(.exec) ? 1 : 0).bind(2, sinks.contains(.webhook) ? 1 : 0).bind(3, now)
                var claimed: [PendingAlert] = []
                while try select.step() {
                    var owed: AlertSinkSet = []
                    if select.int(9) != 0 { owed.insert(.exec) }
                    if select.int(10) != 0 { owed.insert(.webhook) }
                    let newOrphans = select.string(7) ?? ""
                    claimed.append(PendingAlert(
                        id: select.int64(0), time: select.date(1) ?? now, event: select.string(2) ?? "",
                        status: select.string(3).flatMap(AuditStatus.init(rawValue:)) ?? .unknown,
                        previousStatus: select.string(4).flatMap(AuditStatus.init(rawValue:)) ?? .unknown,
                        first: select.int(5) != 0, summary: select.string(6) ?? "",
                        newOrphans: newOrphans.isEmpty ? [] : newOrphans.components(separatedBy: "\n"),
                        body: select.blob(8) ?? [], sinks: owed.intersection(sinks), attempts: select.int(11)))
                }
                for alert in claimed {
                    try connection.statement("UPDATE alerts SET next_attempt = ?2 WHERE id = ?1")
                        .bind(1, alert.id).bind(2, now.addingTimeInterval(Self.claimFor)).run()
                }
                return claimed
            }
        }
    }

    /// Records how delivering a claimed alert went: `delivered` sinks are done with it; if any
    /// `failed`, it is retried after the backoff. An alert superseded meanwhile stays done.
    public func finishDelivery(of alert: PendingAlert, delivered: AlertSinkSet, failed: AlertSinkSet, problem: String?, now: Date) throws {
        try guarded {
            try connection.transaction(writing: true) {
                let attempts = alert.attempts + 1
                try connection.statement("""
                    UPDATE alerts SET pending_exec = pending_exec AND NOT ?2, pending_webhook = pending_webhook AND NOT ?3,
                    attempts = ?4, next_attempt = ?5, last_problem = ?6 WHERE id = ?1
                    """)
                    .bind(1, alert.id).bind(2, delivered.contains(.exec) && !failed.contains(.exec) ? 1 : 0)
                    .bind(3, delivered.contains(.webhook) && !failed.contains(.webhook) ? 1 : 0)
                    .bind(4, attempts).bind(5, now.addingTimeInterval(Self.backoff(afterAttempts: attempts))).bind(6, problem).run()
            }
        }
    }

    /// When the next undelivered alert that one of `sinks` owes may be tried (nil: none pending).
    public func nextDeliveryAttempt(sinks: AlertSinkSet) throws -> Date? {
        guard !sinks.isEmpty else { return nil }
        return try guarded {
            let statement = try connection.statement("SELECT min(next_attempt) FROM alerts WHERE (pending_exec AND ?1) OR (pending_webhook AND ?2)")
            statement.bind(1, sinks.contains(.exec) ? 1 : 0).bind(2, sinks.contains(.webhook) ? 1 : 0)
            defer { statement.finishReading() }
            return try statement.step() ? statement.date(0) : nil
        }
    }

    /// Alerts still owed to some sink, oldest first (for tests and `history`).
    public func undeliveredAlerts() throws -> [(id: Int64, event: String, attempts: Int, nextAttempt: Date?)] {
        try guarded {
            let statement = try connection.statement("SELECT id, event, attempts, next_attempt FROM alerts WHERE pending_exec OR pending_webhook ORDER BY id")
            defer { statement.finishReading() }
            var result: [(id: Int64, event: String, attempts: Int, nextAttempt: Date?)] = []
            while try statement.step() { result.append((statement.int64(0), statement.string(1) ?? "", statement.int(2), statement.date(3))) }
            return result
        }
    }
}
