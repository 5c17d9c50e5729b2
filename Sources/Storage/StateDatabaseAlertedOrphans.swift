import Foundation
import TunwardenCore

/// What the state remembers was alerted in a namespace (`alerted_orphans`): the orphans alerted,
/// and those a watcher keeps remembered through its hold-down though they are orphans no more,
/// carried across a rename and forgotten when another device takes their place.
extension StateDatabase {
    /// Forgets that the orphans named `names` were alerted on: the devices now under those names
    /// are others (one replaced the device seen, or took its ifindex and name within one burst of
    /// changes), so an orphan among them is a new one.
    func forgetAlerted(_ names: [String], namespace: Int64) throws {
        guard !names.isEmpty else { return }
        let delete = try connection.statement("DELETE FROM alerted_orphans WHERE namespace = ?1 AND ifname = ?2")
        for name in names { try delete.bind(1, namespace).bind(2, name).run() }
    }

    /// Carries what is remembered as alerted of a device renamed (seen before under another name at
    /// the same ifindex, and told to be the same device by its `DeviceIdentity`) over to its new
    /// name: an orphan renamed (`ip link set vpn0 name vpn9`) is no new orphan.
    func carryAlerted(_ renames: [(earlier: InterfaceObservation, now: NetworkInterface)], namespace: Int64) throws {
        let copy = try connection.statement("""
            INSERT OR REPLACE INTO alerted_orphans (namespace, ifname, released)
            SELECT namespace, ?3, released FROM alerted_orphans WHERE namespace = ?1 AND ifname = ?2
            """)
        for (earlier, now) in renames where earlier.ifname != now.name && earlier.identity != nil {
            guard InterfaceObservation.replacement(of: earlier, by: now).isEmpty else { continue }
            try copy.bind(1, namespace).bind(2, earlier.ifname).bind(3, now.name).run()
        }
    }

    /// Takes on what was alerted for namespace `identity` in another file of this state directory
    /// (one moved aside as damaged, or removed, since the watcher recorded into it): the status
    /// and the orphans alerted, when this database has no alert memory of the namespace yet. So a
    /// watcher that follows a fresh file alerts only what changed, not every orphan again as the
    /// "first audit here". A database that already remembers the namespace is left as it is,
    /// unless `replacing`: then what it remembers gives way to what is given (the alerts a
    /// watcher made while this database could not record them, which are newer).
    public func adoptAlerted(namespace identity: String, label: NamespaceLabel?, status: AuditStatus, orphans: [String], replacing: Bool = false) throws {
        try guarded {
            try connection.transaction(writing: true) {
                let row = try ensureNamespace(identity, label: label)
                guard row.alertedStatus == nil || replacing else { return }
                let remembered = row.alertedStatus == nil ? [:] : try alertedOrphans(row.id, among: nil)
                try remember(status, orphans: orphans, alerted: Set(remembered.keys), kept: remembered.compactMapValues { $0 }, touched: nil,
                             previous: row.alertedStatus, namespace: row.id)
            }
        }
    }

    /// Remembers what was alerted on (or that the condition is unchanged): the status (nil
    /// leaves the one remembered: an improvement is held back), and the orphans, writing only
    /// names that came or went. `alerted` are the names remembered before (for a change: those
    /// it touched, and the orphans it did not touch), `kept` those of them that are orphans no
    /// more, with since when. With `release` (a watcher's hold-down), a device alerted that is an
    /// orphan no more but still there (among `present`, the devices there of those looked at) is
    /// kept remembered, released `at` then, rather than forgotten. Returns the devices kept, among
    /// those looked at.
    @discardableResult
    func remember(_ status: AuditStatus?, orphans: [String], alerted: Set<String>, kept: [String: Date] = [:], touched: Set<String>?,
                          previous: AuditStatus?, namespace: Int64, release: (at: Date, present: Set<String>)? = nil) throws -> [String: Date] {
        if let status, previous != status {
            try connection.statement("UPDATE namespaces SET alerted_status = ?2 WHERE id = ?1").bind(1, namespace).bind(2, status.rawValue).run()
        }
        var kept = kept
        var stillOrphaned = 0
        // Replaces a row released too long ago to count as alerted.
        let insert = try connection.statement("INSERT OR REPLACE INTO alerted_orphans (namespace, ifname, released) VALUES (?1, ?2, NULL)")
        for name in orphans {
            if alerted.contains(name) {
                stillOrphaned += 1
                if kept.removeValue(forKey: name) != nil { try insert.bind(1, namespace).bind(2, name).run() }
            } else {
                try insert.bind(1, namespace).bind(2, name).run()
            }
        }
        let delete = try connection.statement("DELETE FROM alerted_orphans WHERE namespace = ?1 AND ifname = ?2")
        let released = try connection.statement("UPDATE alerted_orphans SET released = ?3 WHERE namespace = ?1 AND ifname = ?2")
        func orphanNoMore(_ name: String) throws {
            if let release, alerted.contains(name), release.present.contains(name) {
                guard kept[name] == nil else { return }
                try released.bind(1, namespace).bind(2, name).bind(3, release.at).run()
                kept[name] = release.at
            } else {
                try delete.bind(1, namespace).bind(2, name).run()
                kept[name] = nil
            }
        }
        if let touched {
            let now = Set(orphans.filter(touched.contains))
            for name in touched where !now.contains(name) { try orphanNoMore(name) }
        } else if stillOrphaned < alerted.count {
            // Some alerted orphan is one no more: only then is the set of orphans needed.
            let now = Set(orphans)
            for name in alerted where !now.contains(name) { try orphanNoMore(name) }
        }
        return kept
    }
}
