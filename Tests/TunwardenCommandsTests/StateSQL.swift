import Foundation
@testable import Storage

/// Changes a state directory's database the way only a hand at the file would (to age
/// observations, or to damage them), through tunwarden's own connection.
enum StateSQL {
    static func execute(_ directory: String, _ sql: String) throws {
        let store = StateStore(directory: directory)
        defer { store.close() }
        guard let database = try store.database(create: false) else { throw StorageError(path: directory, problem: "has no state.db", advice: "") }
        try database.connection.execute(sql)
    }

    /// The integers one query answers, a row at a time (the first column).
    static func integers(_ directory: String, _ sql: String) throws -> [Int64] {
        let store = StateStore(directory: directory)
        defer { store.close() }
        guard let database = try store.database(create: false) else { return [] }
        let statement = try database.connection.statement(sql)
        defer { statement.finishReading() }
        var values: [Int64] = []
        while try statement.step() { values.append(statement.int64(0)) }
        return values
    }
}
