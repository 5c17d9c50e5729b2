import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An SQLite error: the operation, SQLite's result code and its message.
struct SQLiteError: Error, CustomStringConvertible, Sendable {
    var operation: String
    var code: Int32
    var message: String

    var description: String { "\(operation): \(message) (SQLite error \(code))" }

    /// Whether the file is damaged or is no database at all (as opposed to busy, full or unreadable).
    var isDamage: Bool {
        let primary = code & 0xff
        return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
    }

    /// Whether the file may not be written or opened by this process (SQLITE_READONLY,
    /// SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH).
    var isPermission: Bool {
        let primary = code & 0xff
        return primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM || primary == SQLITE_AUTH
    }

    /// Whether another connection held a lock for longer than the busy timeout.
    var isBusy: Bool {
        let primary = code & 0xff
        return primary == SQLITE_BUSY || primary == SQLITE_LOCKED
    }
}

/// One connection to an SQLite database: the handful of things tunwarden needs (prepared
/// statements, transactions, pragmas), safely. Not shared between threads.
final class SQLiteConnection {
    private let handle: OpaquePointer
    /// Prepared statements by their text, kept for the connection's life: the watcher records
    /// many small changes, each of which would otherwise compile its statements again.
    private var cache: [String: SQLiteStatement] = [:]

    /// Opens (with `create`, creating) the database at `path`. A symbolic link there is refused,
    /// not followed: tunwarden's database is never one, and following one planted in a state
    /// directory others can write would let them choose the file root writes.
    ///
    /// In WAL mode the write-ahead log outlives the connection: closing neither folds it into the
    /// database file nor deletes it (SQLITE_FCNTL_PERSIST_WAL, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE),
    /// unless it has grown past `foldAtClose`. Folding costs two fsyncs, and creating the log
    /// again one more and one of the directory: an hourly audit that changes a few pages paid
    /// them every run, a few milliseconds on an idle disk and tens on a busy one. The log then
    /// holds the last runs' commits, which SQLite reads back on the next open (at most
    /// `foldAtClose` bytes); a crash still loses at most the last commits, never the file.
    init(path: String, create: Bool) throws {
        var handle: OpaquePointer?
        let flags = (create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        let result = sqlite3_open_v2(path, &handle, flags, nil)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(result))
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(operation: "open", code: result, message: message)
        }
        self.handle = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        var persist: Int32 = 1
        _ = sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
        _ = tw_sqlite3_no_checkpoint_on_close(handle)
    }

    /// The database file's path, as opened.
    private let path: String

    /// Whether SQLite opened the file for reading only: it does so without a word when the file
    /// or its directory cannot be written (a read-only mount, say), and the connection then stays
    /// so even once they can be.
    var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

    /// How large the write-ahead log may be left at close (256 KiB: sixty-odd pages, a few
    /// dozen unchanged audits' commits); larger, it is folded into the file and emptied.
    static let foldAtClose = 256 * 1024

    deinit {
        cache.removeAll()
        var info = stat()
        if stat(path + "-wal", &info) == 0, Int(info.st_size) > Self.foldAtClose {
            // Emptied (TRUNCATE), so that the next open has nothing to read back.
            _ = sqlite3_exec(handle, "PRAGMA wal_checkpoint(TRUNCATE)", nil, nil, nil)
        }
        sqlite3_close_v2(handle)
    }

    /// How a statement waits for another connection's lock before failing with SQLITE_BUSY:
    /// for up to `wait.timeout`, asking `wait.giveUp` between short sleeps (at most 50 ms apart),
    /// so that a caller asked to stop is not kept waiting on a lock someone else holds.
    func setBusyWait(_ wait: BusyWait) {
        let waiter = BusyWaiter(wait)
        busyWaiter = waiter
        sqlite3_busy_handler(handle, { context, count in
            guard let context else { return 0 }
            return Unmanaged<BusyWaiter>.fromOpaque(context).takeUnretainedValue().waitAgain(count) ? 1 : 0
        }, Unmanaged.passUnretained(waiter).toOpaque())
    }

    /// The busy handler's state, kept alive by the connection that SQLite calls it for.
    private var busyWaiter: BusyWaiter?

    private final class BusyWaiter {
        let wait: BusyWait
        /// When the wait under way began (SQLite counts its calls from 0 for each wait).
        var since = Date()

        init(_ wait: BusyWait) { self.wait = wait }

        func waitAgain(_ count: Int32) -> Bool {
            if count == 0 { since = Date() }
            if wait.giveUp() { return false }
            let waited = Date().timeIntervalSince(since)
            guard waited < wait.timeout else { return false }
            usleep(useconds_t(min(0.001 * pow(2, Double(min(count, 6))), 0.05, wait.timeout - waited) * 1_000_000) + 1)
            return true
        }
    }

    /// Runs one or more statements that take no parameters and return no rows worth reading.
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        if result != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(operation: sql.split(separator: " ").prefix(3).joined(separator: " "), code: result, message: text)
        }
    }

    /// The rowid of the row this connection inserted last.
    var lastInsertRowid: Int64 { sqlite3_last_insert_rowid(handle) }

    /// The rows the last INSERT, UPDATE or DELETE this connection ran changed.
    var changes: Int64 { Int64(sqlite3_changes(handle)) }

    /// A prepared statement for `sql`, reset and with its parameters cleared; compiled once per connection.
    func statement(_ sql: String) throws -> SQLiteStatement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard result == SQLITE_OK, let raw else { throw error("prepare", result) }
        let statement = SQLiteStatement(raw, connection: self)
        cache[sql] = statement
        return statement
    }

    /// Runs `body` in a transaction: `BEGIN IMMEDIATE` for a writer (which takes the write lock
    /// at once, so two writers never both read and then collide), `BEGIN` (deferred) for a reader.
    /// Commits when `body` returns, rolls back when it throws.
    func transaction<T>(writing: Bool, _ body: () throws -> T) throws -> T {
        // Prepared once, as every statement is: a watcher begins and commits at every burst.
        try statement(writing ? "BEGIN IMMEDIATE" : "BEGIN").run()
        let value: T
        do {
            value = try body()
        } catch {
            resetAll()
            try? statement("ROLLBACK").run()
            throw error
        }
        // A statement stopped at a row would keep its read going past the transaction.
        resetAll()
        do {
            try statement("COMMIT").run()
        } catch {
            try? statement("ROLLBACK").run()
            throw error
        }
        return value
    }

    private func resetAll() {
        for statement in cache.values { statement.reset() }
    }

    /// Rows changed by every INSERT, UPDATE and DELETE on this connection since it was opened.
    var totalChanges: Int { Int(sqlite3_total_changes(handle)) }

    /// The integer a one-row, one-column query answers (a pragma, a count), or nil without a row.
    func integer(_ sql: String) throws -> Int64? {
        let statement = try self.statement(sql)
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) : nil
    }

    func error(_ operation: String, _ code: Int32) -> SQLiteError {
        SQLiteError(operation: operation, code: code, message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// A prepared statement: bind parameters (1-based, as SQLite counts them), step through rows,
/// read columns (0-based). Reset by the connection before each use.
final class SQLiteStatement {
    private let raw: OpaquePointer
    private unowned let connection: SQLiteConnection

    fileprivate init(_ raw: OpaquePointer, connection: SQLiteConnection) {
        self.raw = raw
        self.connection = connection
    }

    deinit { sqlite3_finalize(raw) }

    /// Ends a read outside a transaction: a statement stopped at a row keeps its read going.
    func finishReading() { reset() }

    fileprivate func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    @discardableResult
    func bind(_ index: Int32, _ value: Int64?) -> SQLiteStatement {
        if let value { sqlite3_bind_int64(raw, index, value) } else { sqlite3_bind_null(raw, index) }
        return self
    }

    @discardableResult
    func bind(_ index: Int32, _ value: Int?) -> SQLiteStatement {
        bind(index, value.map(Int64.init))
    }

    @discardableResult
    func bind(_ index: Int32, _ value: Double?) -> SQLiteStatement {
        if let value { sqlite3_bind_double(raw, index, value) } else { sqlite3_bind_null(raw, index) }
        return self
    }

    /// A time, as seconds since 1970 (a REAL: sub-second order between runs is kept).
    @discardableResult
    func bind(_ index: Int32, _ value: Date?) -> SQLiteStatement {
        bind(index, value.map(\.timeIntervalSince1970))
    }

    @discardableResult
    func bind(_ index: Int32, _ value: String?) -> SQLiteStatement {
        guard var value else {
            sqlite3_bind_null(raw, index)
            return self
        }
        value.withUTF8 { text in
            text.withMemoryRebound(to: CChar.self) { _ = tw_sqlite3_bind_text(raw, index, $0.baseAddress, Int32($0.count)) }
        }
        return self
    }

    @discardableResult
    func bind(_ index: Int32, blob: [UInt8]) -> SQLiteStatement {
        blob.withUnsafeBytes { _ = tw_sqlite3_bind_blob(raw, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count)) }
        return self
    }

    /// Advances to the next row: true with a row to read, false when done.
    func step() throws -> Bool {
        switch sqlite3_step(raw) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw connection.error("step", code)
        }
    }

    /// Runs a statement that returns no rows, and resets it so that it can be bound again.
    func run() throws {
        defer { reset() }
        while try step() {}
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(raw, column)) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(raw, column) }
    func date(_ column: Int32) -> Date? { isNull(column) ? nil : Date(timeIntervalSince1970: double(column)) }

    func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(raw, column) else { return nil }
        let count = Int(sqlite3_column_bytes(raw, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    func blob(_ column: Int32) -> [UInt8]? {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard let bytes = sqlite3_column_blob(raw, column) else { return isNull(column) ? nil : [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}
