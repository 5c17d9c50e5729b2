import Foundation
import TunwardenCore

/// What each sink is owed in a namespace (see `claimDueAlerts` for which alerts a sink is owed): every alert there not yet delivered to it,
/// given as one delivery. A sink that missed alerts (its delivery failed, or the run that decided
/// them had no such sink) is told, with the next one it is given, all that it missed: the status
/// as it is now, the status it was last told as the previous one, the event that makes (a
/// transition when the status changed since), and every new orphan it was not told of that is
/// still orphaned. Nothing is owed when the status is back to the one it was last told and no such
/// orphan is left: a stale warning is never sent after "resolved".
extension StateDatabase {
    /// Claims for `sinks` (those at `addresses`) what they are owed in `namespace` (one delivery
    /// per group of sinks owed the same alerts), when one of those alerts is due by `now` or
    /// `due`; alerts nothing is owed for any longer are done for those sinks at once. `own`:
    /// whether the namespace is the one the run records, so that its sinks are owed the alerts
    /// decided with other sinks (or none) too.
    func claimOwed(namespace: Int64, sinks: AlertSinkSet, addresses: SinkAddresses, own: Bool, now: Date, due: Bool) throws -> [PendingAlert] {
        guard !sinks.isEmpty else { return [] }
        let exec = "coalesce(pending_exec AND ?1 AND (exec_sink = ?3 OR ?5), 0)"
        let webhook = "coalesce(pending_webhook AND ?2 AND (webhook_sink = ?4 OR ?5), 0)"
        let select = try connection.statement("""
            SELECT id, time, event, status, previous_status, first, summary, new_orphans, body, \(exec), \(webhook), attempts, next_attempt <= ?7
            FROM alerts WHERE namespace = ?6 AND (\(exec) OR \(webhook)) ORDER BY id
            """)
        select.bind(1, sinks.contains(.exec) ? 1 : 0).bind(2, sinks.contains(.webhook) ? 1 : 0).bind(3, addresses.exec).bind(4, addresses.webhook)
            .bind(5, own ? 1 : 0).bind(6, namespace).bind(7, now)
        var rows: [(alert: PendingAlert, owed: AlertSinkSet, due: Bool)] = []
        while try select.step() {
            var owed: AlertSinkSet = []
            if select.int(9) != 0 { owed.insert(.exec) }
            if select.int(10) != 0 { owed.insert(.webhook) }
            let newOrphans = select.string(7) ?? ""
            let alert = PendingAlert(
                id: select.int64(0), time: select.date(1) ?? now, event: select.string(2) ?? "",
                status: select.string(3).flatMap(AuditStatus.init(rawValue:)) ?? .unknown,
                previousStatus: select.string(4).flatMap(AuditStatus.init(rawValue:)) ?? .unknown,
                first: select.int(5) != 0, summary: select.string(6) ?? "",
                newOrphans: newOrphans.isEmpty ? [] : newOrphans.components(separatedBy: "\n"),
                body: select.blob(8) ?? [], sinks: [], attempts: select.int(11))
            rows.append((alert, owed, select.int(12) != 0))
        }
        var groups: [(sinks: AlertSinkSet, alerts: [PendingAlert])] = []
        for kind in [AlertSinkSet.exec, .webhook] where sinks.contains(kind) {
            let owing = rows.filter { $0.owed.contains(kind) }
            guard due || owing.contains(where: \.due) else { continue }
            let alerts = owing.map(\.alert)
            if let same = groups.firstIndex(where: { $0.alerts.map(\.id) == alerts.map(\.id) }) {
                groups[same].sinks.insert(kind)
            } else if !alerts.isEmpty {
                groups.append((kind, alerts))
            }
        }
        guard !groups.isEmpty else { return [] }
        let label = try namespaceLabel(namespace)
        var claimed: [PendingAlert] = []
        for group in groups {
            let ids = group.alerts.map(\.id)
            guard var delivery = try owed(group.alerts, namespace: namespace) else {
                let done = "UPDATE alerts SET pending_exec = pending_exec AND NOT ?2, pending_webhook = pending_webhook AND NOT ?3 WHERE id = ?1"
                for id in ids {
                    try connection.statement(done).bind(1, id).bind(2, group.sinks.contains(.exec) ? 1 : 0)
                        .bind(3, group.sinks.contains(.webhook) ? 1 : 0).run()
                }
                continue
            }
            for id in ids {
                try connection.statement("UPDATE alerts SET next_attempt = ?2 WHERE id = ?1").bind(1, id).bind(2, now.addingTimeInterval(Self.claimFor)).run()
            }
            delivery.sinks = group.sinks
            delivery.covers = ids
            delivery.namespace = label
            claimed.append(delivery)
        }
        return claimed
    }

    /// One delivery standing for `alerts` (oldest first, all owed to one sink): the newest, told
    /// as news to a sink that was last told the oldest's previous status; nil when that is no news.
    private func owed(_ alerts: [PendingAlert], namespace: Int64) throws -> PendingAlert? {
        guard let oldest = alerts.first, let newest = alerts.last else { return nil }
        guard alerts.count > 1 else { return newest }
        let orphaned = try connection.statement("SELECT 1 FROM alerted_orphans WHERE namespace = ?1 AND ifname = ?2 AND released IS NULL")
        var seen = Set<String>()
        var names: [String] = []
        for alert in alerts {
            for name in alert.newOrphans where seen.insert(name).inserted {
                orphaned.bind(1, namespace).bind(2, name)
                if try orphaned.step() { names.append(name) }
                orphaned.finishReading()
            }
        }
        var delivery = newest
        delivery.previousStatus = oldest.previousStatus
        delivery.first = oldest.first
        delivery.newOrphans = names
        delivery.attempts = alerts.map(\.attempts).max() ?? 0
        if newest.status != oldest.previousStatus {
            delivery.event = newest.status == .ok ? "resolved" : "transition"
        } else if !names.isEmpty {
            delivery.event = "new-orphan"
        } else {
            return nil
        }
        delivery.body = Self.rewritten(newest.body, from: newest, to: delivery)
        return delivery
    }

    /// `body` (an alert's JSON, as `AlertDecision.Alert` writes it) with the event, the statuses
    /// and the new orphans of `delivery` in place of those of `alert`; the rest (summary, time,
    /// findings …) stays byte for byte. A body not written that way is left as it is.
    static func rewritten(_ body: [UInt8], from alert: PendingAlert, to delivery: PendingAlert) -> [UInt8] {
        let was = AlertHead(alert).json(), now = AlertHead(delivery).json()
        guard was.count > 1, body.count > was.count, body.starts(with: was.dropLast()), body[was.count - 1] == UInt8(ascii: ",") else { return body }
        return Array(now.dropLast()) + body[(was.count - 1)...]
    }

    /// What the namespace is called in a log line: its `ip netns` name, or the host's.
    private func namespaceLabel(_ namespace: Int64) throws -> String? {
        let statement = try connection.statement("SELECT name, host, identity FROM namespaces WHERE id = ?1").bind(1, namespace)
        defer { statement.finishReading() }
        guard try statement.step() else { return nil }
        if let name = statement.string(0) { return "namespace \(name)" }
        return statement.int(1) != 0 ? "the host's namespace" : statement.string(2)
    }
}

/// The first members of an alert's JSON, as `AlertDecision.Alert` writes them.
private struct AlertHead: JSONRecord {
    var alert: PendingAlert

    init(_ alert: PendingAlert) { self.alert = alert }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("event", alert.event)
            json.field("status", alert.status.rawValue)
            json.field("previous_status", alert.previousStatus.rawValue)
            json.field("new_orphans", alert.newOrphans)
        }
    }
}
