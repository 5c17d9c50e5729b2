import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lock of one state directory: flock(2) on the file `lock` in it. A reap holds it
/// exclusively for its whole act phase, so that two reaps never act at once; observers (audit,
/// watch, a reap's plan) hold it shared while they record, so that they never record a reap's
/// half-done work (a device fenced under a private name, or attached by the reaper itself, which
/// would restart its grace period) and never block each other. Observers no longer need it to
/// take turns: `state.db`'s transactions do that, and decide each alert once.
///
/// The reaping holder writes `PID COMMAND PURPOSE` into the file, so that a run finding it locked
/// can say by whom. The kernel drops the lock when its holder exits, however it exits; the line a
/// killed holder leaves behind is overwritten by the next one.
public final class RunLock {
    /// Why a run holds the lock.
    public enum Purpose: String, Sendable {
        /// Recording observations: shared with other observers, for milliseconds.
        case observing
        /// A reap's act phase: re-verification, journal, deletion and the reaped count.
        case reaping
    }

    /// Who holds the lock, as far as its file says (nothing, for the moment between taking the
    /// lock and writing the line).
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        public var pid: Int32?
        public var command: String?
        public var purpose: Purpose?

        public var description: String {
            "tunwarden \(command.map { "\($0) " } ?? "")(pid \(pid.map(String.init) ?? "unknown"))"
        }
    }

    /// The lock is held by another run: one the caller does not wait for, or one that held it
    /// longer than the caller waits.
    public struct Busy: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var holder: Holder
        /// How long the caller waited; nil when it gave up at once because of who holds the lock.
        public var waited: TimeInterval?

        public var description: String {
            if let waited {
                return "\(path) has been held by \(holder) for more than \(Int(waited.rounded(.up))) s"
            }
            if holder.purpose == .reaping {
                return holder.command == "reap" ? "another \(holder) is running" : "\(holder) is reaping"
            }
            return "\(path) is held by \(holder)"
        }
    }

    public let path: String
    private var fd: Int32
    /// Whether this run writes (and clears) the holder's line: an exclusive holder that can.
    private let writable: Bool
    /// Whether this run took the lock (a run that gave up must not clear the holder's line).
    private var held = false

    private init(path: String, fd: Int32, writable: Bool) {
        self.path = path
        self.fd = fd
        self.writable = writable
    }

    deinit { release() }

    /// Takes the lock of `directory` (creating both when needed), waiting while another run holds
    /// it, for at most `patience` seconds, and not at all once `giveUp` says so of the holder
    /// (asked every 20 ms). Throws `Busy` when it gives up, `StorageError` when the lock cannot be
    /// made. A state directory tunwarden may read but not write is locked through its existing lock
    /// file, opened for reading.
    public static func acquire(directory: String, command: String, purpose: Purpose, patience: TimeInterval,
                               giveUp: (Holder) -> Bool = { _ in false }) throws -> RunLock {
        let path = directory + "/lock"
        // Never through a symbolic link, never waiting on a FIFO: the lock is a regular file of
        // tunwarden's own, and one planted in its place must not make root write elsewhere.
        let flags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        var fd = open(path, O_RDWR | O_CREAT | flags, 0o644)
        if fd < 0, errno == ENOENT {
            try StorageError.createDirectory(directory, advice: StorageError.unwritableAdvice("--state-dir"))
            fd = open(path, O_RDWR | O_CREAT | flags, 0o644)
        }
        var writable = true
        if fd < 0, errno == EACCES || errno == EROFS {
            // The reason the lock could not be made is the one to give if it cannot be read
            // either: a directory this user may not write holds no lock yet (ENOENT).
            let refused = errno
            fd = open(path, O_RDONLY | flags)
            if fd < 0, errno == ENOENT { errno = refused }
            writable = false
        }
        guard fd >= 0 else {
            let problem = errno == ELOOP ? "is a symbolic link, which tunwarden's lock never is" : "cannot be opened (\(String(cString: strerror(errno))))"
            throw StorageError(path: path, problem: problem, advice: StorageError.unwritableAdvice("--state-dir", code: errno))
        }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw StorageError(path: path, problem: "is not a regular file, which tunwarden's lock always is",
                               advice: "Remove it, or choose another --state-dir.")
        }
        let exclusive = purpose == .reaping
        let lock = RunLock(path: path, fd: fd, writable: writable && exclusive)
        try lock.take(exclusive: exclusive, patience: patience, giveUp: giveUp) { lock.holder() }
        if lock.writable {
            let line = Data("\(getpid()) \(command) \(purpose.rawValue)\n".utf8)
            if ftruncate(fd, 0) == 0 {
                _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            }
        }
        return lock
    }

    /// Takes the lock of a reap journal: flock(2) on the journal file itself, which is one lock
    /// however the file is named (a symbolic or hard link to it, another spelling of its path),
    /// taken without writing to it. Two reaps with different state directories may share one
    /// journal (a configured journal, an administrator's own `--state-dir`): what one acts on and
    /// repairs from the journal is then decided under this lock, so that a reap never takes the
    /// intents of another one acting right now for those of a run that was killed. The journal
    /// must exist (a reap checks it can write it first); who holds the lock is not told.
    public static func acquire(journal: String, patience: TimeInterval, giveUp: (Holder) -> Bool = { _ in false }) throws -> RunLock {
        let fd = open(journal, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw StorageError(path: journal, problem: "cannot be opened to lock it (\(String(cString: strerror(errno))))",
                               advice: "Check the journal (--journal).")
        }
        let lock = RunLock(path: journal, fd: fd, writable: false)
        try lock.take(exclusive: true, patience: patience, giveUp: giveUp) { Holder(pid: nil, command: "reap", purpose: .reaping) }
        return lock
    }

    /// The locks a reap acts under, taken in this order by every run that reaps or repairs: the
    /// state directory's, exclusively, then its journal's (see `acquire(journal:…)`). The first
    /// is released if the second cannot be had.
    public static func acquireReaping(directory: String, journal: String, command: String, patience: TimeInterval,
                                      giveUp: (Holder) -> Bool) throws -> (state: RunLock, journal: RunLock) {
        let state = try acquire(directory: directory, command: command, purpose: .reaping, patience: patience, giveUp: giveUp)
        do {
            return (state, try acquire(journal: journal, patience: patience, giveUp: giveUp))
        } catch {
            state.release()
            throw error
        }
    }

    /// Takes flock(2) on the lock's file, waiting while another run holds it, for at most
    /// `patience` seconds, and not at all once `giveUp` says so of the holder (asked every 20 ms).
    private func take(exclusive: Bool, patience: TimeInterval, giveUp: (Holder) -> Bool, holder: () -> Holder) throws {
        let started = Date()
        while flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            switch errno {
            case EINTR:
                continue
            case EWOULDBLOCK:
                let holder = holder()
                if giveUp(holder) { throw Busy(path: path, holder: holder, waited: nil) }
                let waited = Date().timeIntervalSince(started)
                if waited >= patience { throw Busy(path: path, holder: holder, waited: waited) }
                usleep(20_000)
            default:
                throw StorageError(path: path, problem: "cannot be locked (\(String(cString: strerror(errno))))", advice: "Check the file system.")
            }
        }
        held = true
    }

    /// Gives the lock up, clearing the holder's line first. Safe to call more than once.
    public func release() {
        guard fd >= 0 else { return }
        if held {
            if writable { _ = ftruncate(fd, 0) }
            _ = flock(fd, LOCK_UN)
        }
        close(fd)
        fd = -1
    }

    /// The holder's line, as this run can read it.
    private func holder() -> Holder {
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { preadAll(fd, $0, at: 0) }
        let fields = String(decoding: bytes.prefix(max(count, 0)), as: UTF8.self)
            .split(separator: "\n").first?.split(separator: " ").map(String.init) ?? []
        return Holder(pid: fields.first.flatMap { Int32($0) }, command: fields.count > 1 ? fields[1] : nil,
                      purpose: fields.count > 2 ? Purpose(rawValue: fields[2]) : nil)
    }
}
