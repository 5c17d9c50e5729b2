import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with one of tunwarden's own files, naming the file and what to do.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var problem: String
    public var advice: String
    /// The file exists and was read, but is not what it should be (as opposed to unreadable or unwritable).
    public var isCorrupt = false
    /// The system refused this user access (EACCES, EPERM, or SQLite's read-only database): what
    /// helps is running as root, not repairing the file. A command may give its own advice for it.
    public var isPermission = false

    /// The advice for a state file this user may not use: root's state directory (0750 from the
    /// package, or files made by root) is root's to use.
    public static let permissionAdvice = "Run as root (sudo), or use --no-state."

    public var description: String { "\(path): \(problem). \(advice)" }

    /// The advice for a file or directory that cannot be written or made: choose another
    /// (`choice`, "--journal path"), or run as root, which is no advice to root, nor on a
    /// read-only file system (`code`, the errno, EROFS).
    public static func unwritableAdvice(_ choice: String, code: Int32 = 0) -> String {
        geteuid() == 0 || code == EROFS ? "Choose another \(choice)." : "Choose another \(choice), or run as root."
    }

    /// Creates `directory` (and the directories above it) for tunwarden's own files, mode 0755,
    /// or throws the error that names it, with the system's words for why and `advice` on what
    /// to do instead.
    static func createDirectory(_ directory: String, advice: String) throws {
        var path = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o755) == 0 {
                chmod(path, 0o755)          // whatever the umask
                continue
            }
            let code = errno
            var status = stat()
            guard code == EEXIST, stat(path, &status) == 0 else {
                throw StorageError(path: directory, problem: "cannot be created (\(String(cString: strerror(code))))", advice: advice)
            }
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw StorageError(path: directory, problem: "cannot be created (\(path == "./" + component ? String(component) : path) exists and is not a directory)", advice: advice)
            }
        }
    }

    /// What the system said of a failed file operation: the C library's words for its errno
    /// where Foundation kept one, else Foundation's own description.
    static func reason(_ error: Error) -> String {
        let bridged = error as NSError
        if let posix = bridged.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return error.localizedDescription
    }
}

/// The state directory's observations: `state.db`, an SQLite database (see `StateDatabase`),
/// opened on first use and kept open for the life of the process (the watcher's many small
/// changes reuse one connection and its prepared statements).
///
/// Opening checks the file: one that is not a database, whose schema is unreadable or whose
/// pages SQLite finds damaged is reported as damaged (`StorageError.isCorrupt`), never written
/// to; `moveAside` keeps it for inspection. A database of a newer schema version is refused. A
/// `state.json` left by an older tunwarden is imported once, in the transaction that makes the
/// database, and then renamed `state.json.imported`.
public struct StateStore: Sendable {
    public let directory: String
    public var path: String { directory + "/state.db" }
    /// The whole-file state of tunwarden before 0.2, imported once.
    public var legacyPath: String { directory + "/state.json" }

    private final class Connection: @unchecked Sendable {
        var database: StateDatabase?
        /// The file the open database is, as opened: device and inode.
        var file: (device: UInt64, inode: UInt64)?
        var openings = 0
        /// Whether the open file was seen holding a database (at least one page).
        var hadContent = false
        /// What happened to the file that a caller should say (see `takeNotice`).
        var notice: String?
    }

    /// What became of the database file since last asked, in words, once: an emptied file kept
    /// aside. Whichever use of the store met it, the caller that reports (the watcher) says it.
    public func takeNotice() -> String? {
        defer { connection.notice = nil }
        return connection.notice
    }
    private let connection = Connection()

    /// How many times a database was opened in this process. A caller that keeps what it last
    /// recorded (the watcher) compares it: after another opening, the file may be a fresh one
    /// (the old moved aside or removed), which must be recorded whole.
    public var openings: Int { connection.openings }

    /// Whether the database open now is no longer the file at `path` (moved aside, removed or
    /// replaced by another run): the next `database` call opens the file there.
    public var openFileReplaced: Bool {
        guard connection.database != nil else { return false }
        guard let status = fileStatus(), let file = connection.file else { return true }
        return status.identity != file || emptied(status)
    }

    /// Whether the database open now was emptied in place (`: > state.db`): the same file, now
    /// shorter than one page. Its write-ahead log then belongs to no database, and every other run
    /// waits on it; the next `database` call moves both aside and starts a fresh one. (Only the
    /// file's size is looked at: opening the file here and closing it again would drop the locks
    /// SQLite holds on it, which belong to the process, not to a descriptor.)
    public var openFileEmptied: Bool {
        guard connection.database != nil, let status = fileStatus(), status.identity == connection.file ?? (0, 0) else { return false }
        return emptied(status)
    }

    /// Whether the open file, the same one as `status` shows, was emptied.
    private func emptied(_ status: (identity: (device: UInt64, inode: UInt64), size: Int)) -> Bool {
        // (A new database may be all in its log at first: only one seen holding pages counts.)
        guard status.size >= Self.smallestDatabase else { return connection.hadContent }
        connection.hadContent = true
        return false
    }

    /// SQLite's smallest page, below which a file holds no database.
    static let smallestDatabase = 512

    /// The device, inode and size of the file at `path` (one stat), or nil when there is none.
    private func fileStatus() -> (identity: (device: UInt64, inode: UInt64), size: Int)? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return ((UInt64(status.st_dev), UInt64(status.st_ino)), Int(status.st_size))
    }

    /// Whether this process may write both the database file and its directory (where SQLite
    /// makes its log and shared-memory files).
    private var writableNow: Bool { access(directory, W_OK) == 0 && access(path, W_OK) == 0 }

    /// The device and inode of the file at `path`, or nil when there is none.
    private func fileIdentity() -> (device: UInt64, inode: UInt64)? { fileStatus()?.identity }

    /// How this store's database waits for another connection's write lock.
    public let busyWait: BusyWait

    public init(directory: String, busyWait: BusyWait = BusyWait()) {
        self.directory = directory
        self.busyWait = busyWait
    }

    /// The database, opened (and with `create`, made, with the directory) on first use; nil when
    /// there is none and `create` is false. Throws `StorageError` (`isCorrupt` for damage, with
    /// the damaged file's path: the database, or a `state.json` being imported).
    public func database(create: Bool = true) throws -> StateDatabase? {
        var create = create
        if let open = connection.database {
            // Still the file at `path`? Another run may have moved a damaged one aside, or the
            // directory may have been removed or replaced: writing on into the old file would lose
            // every record and alert twice what other runs no longer see as alerted.
            // Opened for reading only while the file or directory could not be written, and
            // writable now? Every write through that connection would fail for good: open again.
            if !openFileReplaced, !(open.connection.isReadOnly && writableNow) { return open }
            // Emptied in place: kept aside as damaged, with its log, and a fresh one started.
            if openFileEmptied {
                // (A fresh one whoever asks: the watcher that had it open must see a new opening.)
                create = true
                let kept = try? moveAside(path)
                connection.notice = "\(path) was emptied in place; it is kept aside\(kept.map { " as \($0)" } ?? "") and the state is recorded again into a fresh database"
            }
            connection.database = nil
            connection.file = nil
        }
        let exists = try Self.fileExists(path)
        let legacy = try Self.fileExists(legacyPath)
        guard create || exists || legacy else { return nil }
        if !exists { try StorageError.createDirectory(directory, advice: StorageError.unwritableAdvice("--state-dir")) }
        // The file opened must be the one there after opening: one replaced meanwhile (by a run
        // moving it aside) is opened again, so that the connection is never stamped with another
        // file's identity. (One made by this opening had no identity before it.)
        var attempts = 0
        while true {
            let before = fileIdentity()
            let database = try StateDatabase.open(path: path, legacyPath: legacy ? legacyPath : nil, busyWait: busyWait)
            let after = fileIdentity()
            attempts += 1
            if before == nil || (after != nil && before! == after!) || attempts == 3 {
                connection.database = database
                connection.file = after
                connection.hadContent = (fileStatus()?.size ?? 0) >= Self.smallestDatabase
                connection.openings += 1
                return database
            }
        }
    }

    /// Whether there is a file at `path`: false only when the system says there is none (ENOENT,
    /// ENOTDIR). A path this user may not look at (a state directory of mode 0750 that is root's)
    /// is an error naming it, never taken for an absent file: that would show a history that
    /// exists as "No history yet".
    static func fileExists(_ path: String) throws -> Bool {
        var status = stat()
        if stat(path, &status) == 0 { return true }
        let code = errno
        if code == ENOENT || code == ENOTDIR { return false }
        let permission = code == EACCES || code == EPERM
        throw StorageError(path: path, problem: "cannot be read (\(String(cString: strerror(code))))",
                           advice: permission ? StorageError.permissionAdvice : "Check the disk and the directory's permissions.", isPermission: permission)
    }

    /// Reads namespace `identity`'s observations ahead of recording it (see
    /// `StateDatabase.readAhead`), from an existing database only. Whatever fails is left to the
    /// recording, which meets it again and deals with it (a damaged file moved aside, say).
    public func readAhead(namespace identity: String) {
        try? database(create: false)?.readAhead(namespace: identity)
    }

    /// Closes the database (the next use opens it again).
    public func close() {
        connection.database = nil
        connection.file = nil
    }

    static let corruptAdvice = "Move it aside (it is kept for inspection) to start with fresh observations; ages and grace periods then start over."

    /// Renames a damaged state file (`state.db`, or a `state.json` being imported) to
    /// `NAME.corrupt-TIMESTAMP` beside it, keeping it for inspection, and returns the new path. A
    /// database's write-ahead log goes with it. The database is closed first; it is moved only if
    /// it is still the file that was found damaged (another run may have moved it already).
    public func moveAside(_ damaged: String? = nil, now: Date = Date()) throws -> String {
        let damaged = damaged ?? path
        let identity = connection.database?.fileIdentity
        close()
        let stamp = Timestamp.format(now).replacingOccurrences(of: ":", with: "")
        // Two kept within one second (a file emptied twice) get a number after the stamp.
        var target = damaged + ".corrupt-" + stamp
        var attempt = 1
        while FileManager.default.fileExists(atPath: target), attempt < 100 {
            attempt += 1
            target = damaged + ".corrupt-" + stamp + "-\(attempt)"
        }
        if damaged == path, let identity, StateDatabase.identity(of: path).map({ $0 != identity }) ?? true {
            // Already moved aside by another run, which started a fresh database.
            return target
        }
        do {
            try FileManager.default.moveItem(atPath: damaged, toPath: target)
        } catch {
            throw StorageError(path: damaged, problem: "cannot be moved aside (\(StorageError.reason(error)))", advice: "Move it by hand.")
        }
        if damaged == path {
            _ = try? FileManager.default.moveItem(atPath: path + "-wal", toPath: target + "-wal")
            _ = try? FileManager.default.removeItem(atPath: path + "-shm")
        }
        return target
    }

    /// The error for an SQLite failure on the database at `path`.
    static func storageError(_ error: SQLiteError, path: String) -> StorageError {
        if error.isDamage {
            return StorageError(path: path, problem: "is not a valid tunwarden state database (\(error.message))", advice: corruptAdvice, isCorrupt: true)
        }
        if error.isBusy {
            return StorageError(path: path, problem: "stayed locked by another process for longer than tunwarden waits (\(error.message))",
                                advice: "Check what else uses the state directory.")
        }
        // Refused to this user (a root-made state directory read by someone else): running as root
        // or keeping no state is the fix, not chmod. Root itself meets this only on a read-only
        // filesystem or an immutable file, where the disk is what to check.
        if error.isPermission, geteuid() != 0 {
            return StorageError(path: path, problem: "cannot be used by this user (\(error.message))", advice: StorageError.permissionAdvice, isPermission: true)
        }
        return StorageError(path: path, problem: "cannot be used (\(error.message))", advice: "Check the disk and the directory's permissions.")
    }

    static func describe(_ error: any Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error { return context.debugDescription }
        if case let DecodingError.keyNotFound(key, _) = error { return "missing \(key.stringValue)" }
        if case let DecodingError.typeMismatch(_, context) = error { return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))" }
        return "\(error)"
    }
}

/// Writes every byte of `data` to `fd`, retrying EINTR and short writes; returns 0 or the errno.
func writeAll(_ fd: Int32, _ data: Data) -> Int32 {
    var failure: Int32 = 0
    data.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            offset += n
        }
    }
    return failure
}

/// How a run waits for another connection's write lock on the state database: up to `timeout`,
/// giving up at once when `giveUp` says so (the watcher: when it is asked to stop). Another
/// tunwarden's transactions last milliseconds, a few hundred at 10,000 changed interfaces; a
/// lock held longer is someone's `sqlite3` shell or a hung process.
public struct BusyWait: @unchecked Sendable {
    public var timeout: TimeInterval
    public var giveUp: () -> Bool

    /// The one-shot runs' wait: up to `StateDatabase.busyTimeout`, never given up.
    public init(timeout: TimeInterval = StateDatabase.busyTimeout, giveUp: @escaping () -> Bool = { false }) {
        self.timeout = timeout
        self.giveUp = giveUp
    }
}
