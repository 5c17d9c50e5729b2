import Foundation
import Storage
import TunwardenCore

/// What a watcher does when the namespace it watches is deleted, before it exits 3.
extension WatchLoop {
    /// Closes what was alerted in the namespace, which was deleted: when the status alerted was
    /// not ok (an orphan alerted, still there or its recovery held back by --resolve-after), a
    /// `resolved` alert saying so is decided, recorded and delivered now. No later run could: a
    /// namespace made again under the name is another one. A stop asked meanwhile stops the
    /// delivery as it stops the courier's; what was not delivered stays owed in the state.
    func closeDeletedNamespace(stop: (descriptor: Int32, stopping: () -> Bool)) {
        guard loaded, !identity.isEmpty, let previous = alertedSoFar()?.alertedStatus, previous != .ok else { return }
        let alert = AlertDecision.namespaceDeleted(previous: previous, netns: runtime.namespace, host: ProcessInfo.processInfo.hostName, at: Date())
        let monitoring = runtime.monitoring
        monitoring.sinks.log(alert)
        let interrupt = AlertSinks.interrupt
        AlertSinks.interrupt = stop
        defer { AlertSinks.interrupt = interrupt }
        do {
            if let database = try store.database(create: true) {
                let sinks = monitoring.sinks
                let (decided, claimed) = try database.recordFinalAlert(alert, namespace: identity, sinks: sinks.kinds, addresses: sinks.addresses, now: Date())
                for delivery in claimed { monitoring.deliver(delivery, logged: [decided.id], store: store) }
                return
            }
        } catch {
            Terminal.note("watch: the alert closing the deleted namespace was not recorded: \(error)")
        }
        monitoring.sinks.deliver(alert, logged: true)
    }
}
