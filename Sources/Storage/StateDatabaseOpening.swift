import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension StateDatabase {
    /// Opens (creating) the database at `path`: WAL, waits for other connections' locks as
    /// `busyWait` says, the schema made or checked.
    /// A new database takes in `legacyPath` (a `state.json`) when given, which is renamed
    /// `state.json.imported` once the import is committed.
    static func open(path: String, legacyPath: String?, busyWait: BusyWait = BusyWait()) throws -> StateDatabase {
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: path, create: true)
        } catch let error as SQLiteError {
            throw StateStore.storageError(error, path: path)
        }
        connection.setBusyWait(busyWait)
        let database = StateDatabase(connection: connection, path: path, fileIdentity: identity(of: path))
        var imported = false
        try database.guarded {
            // In WAL mode a commit needs no fsync; a crash loses at most the last commits, never the file.
            try connection.execute("PRAGMA synchronous = NORMAL")
            var version = try connection.integer("PRAGMA user_version") ?? 0
            if version == 0 {
                // Set before the first transaction (it cannot change inside one); kept in the file.
                try connection.execute("PRAGMA journal_mode = WAL")
                imported = try connection.transaction(writing: true) {
                    version = try connection.integer("PRAGMA user_version") ?? 0
                    // Another run made it meanwhile.
                    guard version == 0 else { return false }
                    guard try connection.integer("SELECT count(*) FROM sqlite_master") == 0 else {
                        throw SQLiteError(operation: "read the schema", code: 26, message: "a database, but not tunwarden's (no schema version)")
                    }
                    try connection.execute(StateSchema.create)
                    try connection.execute("PRAGMA user_version = \(StateSchema.version)")
                    version = StateSchema.version
                    guard let legacyPath else { return false }
                    try database.importState(from: legacyPath)
                    return true
                }
            }
            guard version <= StateSchema.version else {
                throw StorageError(path: path, problem: "has schema version \(version), which this tunwarden does not know (it knows \(StateSchema.version))",
                                   advice: "Use the tunwarden that wrote it, or move the file away to start afresh.")
            }
            if version < StateSchema.version { version = try migrate(connection, from: version) }
            let names = StateSchema.tables.map { "'\($0)'" }.joined(separator: ", ")
            guard try connection.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (\(names))") == Int64(StateSchema.tables.count) else {
                throw SQLiteError(operation: "read the schema", code: 11, message: "tables are missing")
            }
        }
        if let legacyPath, imported || FileManager.default.fileExists(atPath: legacyPath) && database.importedLegacyState() {
            // Kept, renamed, so that it is never imported again (and can be looked at).
            _ = rename(legacyPath, legacyPath + ".imported")
        }
        return database
    }

    /// Brings a database of schema `version` (older than this tunwarden's) up to
    /// `StateSchema.version`, one step per transaction, keeping its rows; another run migrating
    /// it meanwhile is waited for, and its work taken as done. Returns the version reached.
    static func migrate(_ connection: SQLiteConnection, from version: Int64) throws -> Int64 {
        var version = version
        while version < StateSchema.version {
            version = try connection.transaction(writing: true) {
                let now = try connection.integer("PRAGMA user_version") ?? 0
                guard now == version else { return now }
                guard let step = StateSchema.migrations[now] else {
                    throw SQLiteError(operation: "migrate the schema", code: 11, message: "no way from schema version \(now) to \(now + 1)")
                }
                try connection.execute(step)
                try connection.execute("PRAGMA user_version = \(now + 1)")
                return now + 1
            }
        }
        return version
    }

    /// The device and inode of the file at `path`.
    static func identity(of path: String) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// SQLite's own check of the file's structure (`PRAGMA quick_check`): pages, records, indexes.
    /// Damage found is thrown as a `StorageError` marked `isCorrupt`.
    public func quickCheck() throws {
        try guarded {
            let statement = try connection.statement("PRAGMA quick_check")
            defer { statement.finishReading() }
            var problems: [String] = []
            while try statement.step() { problems.append(statement.string(0) ?? "") }
            guard problems == ["ok"] else {
                throw SQLiteError(operation: "quick_check", code: 11, message: problems.prefix(3).joined(separator: "; "))
            }
        }
    }

    /// Whether a state.json was imported into this database (and only its rename is left to do).
    func importedLegacyState() -> Bool {
        (try? connection.integer("SELECT count(*) FROM meta WHERE key = 'imported_state_json'")) == 1
    }

    /// Imports a `state.json` of tunwarden before 0.2 (format version 1) into the empty database,
    /// inside the transaction that made it. A damaged file is a `StorageError` naming it,
    /// `isCorrupt`: the caller moves it aside as it did before.
    func importState(from legacyPath: String) throws {
        guard let data = FileManager.default.contents(atPath: legacyPath) else {
            throw StorageError(path: legacyPath, problem: "cannot be read", advice: "Check its permissions (tunwarden normally runs as root).")
        }
        let observations: Observations
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            observations = try decoder.decode(Observations.self, from: data)
        } catch {
            throw StorageError(path: legacyPath, problem: "is not a valid tunwarden state file (\(StateStore.describe(error)))",
                               advice: StateStore.corruptAdvice, isCorrupt: true)
        }
        guard observations.version == 1 else {
            throw StorageError(path: legacyPath, problem: "has format version \(observations.version), which this tunwarden does not know",
                               advice: "Use the tunwarden that wrote it, or move the file away to start afresh.")
        }
        if let problem = observations.numberOutOfBounds {
            throw StorageError(path: legacyPath, problem: "is not a valid tunwarden state file (\(problem))", advice: StateStore.corruptAdvice, isCorrupt: true)
        }
        for identity in Set(observations.namespaces.keys).union(observations.histories.keys).sorted() {
            let interfaces = observations.namespaces[identity] ?? [:]
            let history = observations.histories[identity] ?? NamespaceHistory()
            // The namespace was last seen when its interfaces were, or at its last sample.
            let lastRun = interfaces.values.map(\.lastSeen).max() ?? history.counts.last?.time
            try connection.statement("""
                INSERT INTO namespaces (identity, boot, last_run, alerted_status, reaped_total) VALUES (?1, ?2, ?3, ?4, ?5)
                """)
                .bind(1, identity).bind(2, NamespaceIdentity.isLinux(identity) ? NamespaceIdentity.bootID(of: identity) : nil)
                .bind(3, lastRun).bind(4, history.alertedStatus?.rawValue).bind(5, history.reapedTotal).run()
            let id = try connection.integer("SELECT last_insert_rowid()") ?? 0
            for observation in interfaces.values { try write(observation, namespace: id) }
            for sample in history.counts {
                try connection.statement("INSERT INTO counts (namespace, time, count) VALUES (?1, ?2, ?3)").bind(1, id).bind(2, sample.time).bind(3, sample.count).run()
            }
            for name in history.alertedOrphans {
                try connection.statement("INSERT OR IGNORE INTO alerted_orphans (namespace, ifname) VALUES (?1, ?2)").bind(1, id).bind(2, name).run()
            }
            for moment in history.alerts {
                // Alerts of the past were delivered (or lost) then: none is pending.
                try connection.statement("""
                    INSERT INTO alerts (namespace, time, event, status, previous_status, first, summary, new_orphans, body)
                    VALUES (?1, ?2, ?3, ?4, ?4, 0, '', '', x'')
                    """).bind(1, id).bind(2, moment.time).bind(3, moment.event).bind(4, moment.status.rawValue).run()
            }
        }
        try connection.statement("INSERT OR REPLACE INTO meta (key, value) VALUES ('imported_state_json', ?1)").bind(1, Date()).run()
    }
}
