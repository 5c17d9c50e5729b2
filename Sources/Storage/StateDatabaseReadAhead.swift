import Foundation
import TunwardenCore

/// Reading a namespace's observations ahead of recording it: on another thread, while the
/// kernel's dump of the inventory to record is still under way.
extension StateDatabase {
    /// One namespace's interface rows as a transaction read them, and what tells whether they are
    /// still the database's when the recording's own transaction begins.
    struct ReadAhead {
        let identity: String
        let namespace: Int64
        let lastRun: Date?
        /// SQLite's data_version in the transaction that read them: it differs in a later
        /// transaction on this connection if and only if another connection committed meanwhile.
        let dataVersion: Int64
        let rows: [InterfaceObservation]
    }

    /// Reads the interface rows of namespace `identity` (nothing when it has none), for the next
    /// `record` of that namespace on this connection to use instead of reading them in its own
    /// transaction, unless another run has written to the database since. At 10,000 interfaces
    /// reading them is about a third of recording's time.
    public func readAhead(namespace identity: String) throws {
        readAhead = nil
        readAhead = try guarded {
            try connection.transaction(writing: false) {
                guard let row = try namespaceRow(identity) else { return nil }
                let rows = try interfaceRowsInKeyOrder(row)
                return ReadAhead(identity: identity, namespace: row.id, lastRun: row.lastRun, dataVersion: try dataVersion(), rows: rows)
            }
        }
    }

    /// The interface rows of `row` (namespace `identity`) in their key's order: those read ahead
    /// when nothing has been written since, else read now. Called in the recording's transaction.
    func rowsInKeyOrder(_ row: NamespaceRow, identity: String) throws -> [InterfaceObservation] {
        defer { readAhead = nil }
        if let ahead = readAhead, ahead.identity == identity, ahead.namespace == row.id, ahead.lastRun == row.lastRun,
           ahead.dataVersion == (try dataVersion()) {
            return ahead.rows
        }
        return try interfaceRowsInKeyOrder(row)
    }

    /// Every interface row of a namespace, ordered by ifindex, then by the name's bytes.
    func interfaceRowsInKeyOrder(_ row: NamespaceRow) throws -> [InterfaceObservation] {
        let statement = try connection.statement("SELECT \(Self.interfaceColumns) FROM interfaces WHERE namespace = ?1 ORDER BY ifindex, ifname")
        statement.bind(1, row.id)
        var rows: [InterfaceObservation] = []
        // Grown by doubling, ten thousand rows were copied twice over and touched twice the pages.
        rows.reserveCapacity(try expectedRowCount(row))
        while try statement.step() {
            rows.append(try Self.observation(statement, lastSeen: row.lastRun))
        }
        return rows
    }

    /// About how many interface rows namespace `row` has, to make room for them at once: its
    /// newest count sample (every interface counted has a row), 0 without one, and at most
    /// `reservationLimit`, so that a number no run wrote cannot reserve gigabytes.
    private func expectedRowCount(_ row: NamespaceRow) throws -> Int {
        let statement = try connection.statement("SELECT count FROM counts WHERE namespace = ?1 ORDER BY time DESC LIMIT 1")
        statement.bind(1, row.id)
        defer { statement.finishReading() }
        guard try statement.step() else { return 0 }
        return Int(min(max(statement.int64(0), 0), Self.reservationLimit))
    }

    /// The most rows room is made for before any is read.
    private static let reservationLimit: Int64 = 1 << 17

    /// SQLite's `PRAGMA data_version` on this connection.
    func dataVersion() throws -> Int64 {
        let statement = try connection.statement("PRAGMA data_version")
        guard try statement.step() else {
            throw SQLiteError(operation: "read the data version", code: 1, message: "PRAGMA data_version returned no row")
        }
        defer { statement.finishReading() }
        return statement.int64(0)
    }
}
