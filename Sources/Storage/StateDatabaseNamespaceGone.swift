import Foundation
import TunwardenCore

extension StateDatabase {
    /// Records the alert that closes what was alerted in namespace `identity`, which was deleted
    /// (see `AlertDecision.namespaceDeleted`): the alert, owed to `sinks` and claimed for them with
    /// whatever they were not told before, and an ok status with no orphans remembered, in one
    /// transaction. Returns the alert as recorded and the claimed deliveries.
    public func recordFinalAlert(_ alert: AlertDecision.Alert, namespace identity: String, sinks: AlertSinkSet, addresses: SinkAddresses,
                                 now: Date) throws -> (alert: PendingAlert, claimed: [PendingAlert]) {
        try guarded {
            try connection.transaction(writing: true) { () throws -> (alert: PendingAlert, claimed: [PendingAlert]) in
                let row = try ensureNamespace(identity, label: nil)
                let remembered = try alertedOrphans(row.id, among: nil)
                try remember(alert.status, orphans: [], alerted: Set(remembered.keys), touched: nil, previous: row.alertedStatus, namespace: row.id)
                return try insert(alert, namespace: row.id, sinks: sinks, addresses: addresses, now: now)
            }
        }
    }
}
