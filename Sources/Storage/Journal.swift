import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A record that a write left unfinished (a full disk, a signal, a crash): the start of a JSON
/// line that stops before its end. It is reported and skipped; the records around it stand.
public struct TornRecord: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// Where the cut line starts, in bytes from the start of the file.
    public var offset: Int
    /// How many of its bytes were written.
    public var length: Int

    public init(path: String, offset: Int, length: Int) {
        self.path = path
        self.offset = offset
        self.length = length
    }

    public var description: String {
        "\(path): the record at byte \(offset) was cut short after \(length) bytes by a write that did not finish "
            + "(a full disk, a signal or a crash); it is skipped and the rest of the journal is kept"
    }
}

/// Everything a journal holds: its records, and the records that were cut short among them.
public struct JournalContents: Sendable {
    public var records: [JournalRecord]
    public var torn: [TornRecord]
}

/// The append-only JSON-lines journal of everything the reaper removes.
///
/// Records are appended, never rewritten, and flushed to disk before `append` returns; each
/// append starts on a line of its own, so a record cut short by a write that did not finish never
/// runs into the next one. Such a record is reported and skipped wherever it is; any other line
/// that is not a record makes the journal damaged. Before a reap acts, `checkWritable` proves the
/// journal can take its records: a damaged line anywhere (see `checkForDamage`), or a journal
/// that cannot be written, stops the reap before anything is changed.
public struct Journal: Sendable {
    public let path: String
    /// How much of the journal's end `checkWritable` reads first; it reads further back only for a
    /// last record longer than that.
    static let tailStep = 64 * 1024

    public init(path: String) {
        self.path = path
    }

    /// Every record, oldest first; an empty list when there is no journal yet. Records cut short
    /// are left out: `contents()` names them.
    public func read() throws -> [JournalRecord] {
        try contents().records
    }

    /// Why there is no journal file at `path`.
    public enum Absence: Equatable, Sendable {
        /// Its directory exists: no reap has written this journal yet.
        case noFile
        /// Its directory does not exist, so no reap can have written it.
        case noDirectory(String)
        /// What should be its directory is a file (or another thing that is not a directory).
        case notADirectory(String)
    }

    /// Why there is no journal at `path`, or nil when something is there (which `contents()`
    /// reads, or says why it cannot).
    public func absence() -> Absence? {
        guard !FileManager.default.fileExists(atPath: path) else { return nil }
        let directory = PathText.directory(of: path)
        var isDirectory: ObjCBool = false
        guard !directory.isEmpty, FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            return directory.isEmpty ? .noFile : .noDirectory(directory)
        }
        return isDirectory.boolValue ? .noFile : .notADirectory(directory)
    }

    /// Every record, oldest first, and where records were cut short.
    public func contents() throws -> JournalContents {
        // Opened without waiting, and refused unless a regular file (a FIFO would hang the read).
        guard let (fd, _) = try openForReading() else { return JournalContents(records: [], torn: []) }
        let data: Data
        do {
            data = try FileHandle(fileDescriptor: fd, closeOnDealloc: true).readToEnd() ?? Data()
        } catch {
            throw StorageError(path: path, problem: "cannot be read (\(error.localizedDescription))", advice: "Check its permissions (tunwarden normally runs as root).")
        }
        let decoder = Self.decoder()
        var contents = JournalContents(records: [], torn: [])
        var offset = 0
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            defer { offset += line.count + 1 }
            guard !line.isEmpty else { continue }
            switch try judge(Data(line), at: offset, lineNumber: index + 1, decoder: decoder) {
            case .record(let record): contents.records.append(record)
            case .torn(let torn): contents.torn.append(torn)
            }
        }
        return contents
    }

    /// Proves that records can be appended: the journal's last record (and whatever follows it
    /// without a line end) is whole or was cut short, no line before it is damaged (see
    /// `checkForDamage`), and its directory and file accept writes. Returns the records found
    /// cut short at its end, for the caller to report.
    @discardableResult
    public func checkWritable() throws -> [TornRecord] {
        let torn = try checkTail()
        try checkForDamage()
        let directory = PathText.directory(of: path)
        try StorageError.createDirectory(directory.isEmpty ? "." : directory, advice: StorageError.unwritableAdvice("--journal path"))
        // Without blocking: a FIFO with no reader fails at once (ENXIO) instead of hanging here.
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw StorageError(path: path, problem: "cannot be opened for appending (\(String(cString: strerror(errno))))",
                               advice: StorageError.unwritableAdvice("--journal path", code: errno))
        }
        defer { close(fd) }
        try Self.requireRegularFile(fd, path: path)
        return torn
    }

    /// Refuses a journal that is not a regular file (/dev/null, a FIFO, a terminal): records
    /// written there are not kept, and it cannot be synced or locked as a journal must be.
    static func requireRegularFile(_ fd: Int32, path: String) throws {
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw StorageError(path: path, problem: "cannot be examined (\(String(cString: strerror(errno))))", advice: "Choose another --journal path.")
        }
        let type = status.st_mode & S_IFMT
        guard type == S_IFREG else {
            let what = type == S_IFCHR ? "a character device" : type == S_IFIFO ? "a pipe" : type == S_IFSOCK ? "a socket"
                : type == S_IFBLK ? "a block device" : type == S_IFDIR ? "a directory" : "something else"
            throw StorageError(path: path, problem: "is \(what), not a regular file, so records written to it would not be kept",
                               advice: "Choose a --journal path that is a file (or none yet).")
        }
    }

    /// Appends records as JSON lines in one write and flushes them to disk. When the journal does
    /// not end with a line end (a record was cut short), one is written first.
    ///
    /// With `known`, the intents a look (`openIntents()`) found open right before, under the
    /// journal's lock, the last record carries the checkpoint that bounds the next look: those
    /// intents, less the ones these records answer, with the intents among them
    /// (`JournalRecord.openRuns`). Only a reaper holding the journal's lock passes it: nothing
    /// else may be appended between that look and this append. Returns the open intents after
    /// this append (nil without `known`, or where the file's size is unknown), for the next
    /// append under the same lock.
    @discardableResult
    public func append(_ records: [JournalRecord], after known: OpenIntents? = nil) throws -> OpenIntents? {
        guard !records.isEmpty else { return known }
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw StorageError(path: path, problem: "cannot be opened for appending (\(String(cString: strerror(errno))))",
                               advice: StorageError.unwritableAdvice("--journal path", code: errno))
        }
        defer { close(fd) }
        var data = Data()
        if !Self.endsWithLineEnd(fd) { data.append(UInt8(ascii: "\n")) }
        var status = stat()
        let base = fstat(fd, &status) == 0 ? Int(status.st_size) : nil
        var offsets: [Int] = []
        for (position, record) in records.enumerated() {
            var record = record
            let offset = (base ?? 0) + data.count
            offsets.append(offset)
            // Where the file's size is unknown, the offsets would be wrong: no checkpoint.
            if position == records.count - 1, let known, base != nil { record.openRuns = known.runs(after: records, at: offsets) }
            data.append(contentsOf: record.json())
            data.append(UInt8(ascii: "\n"))
        }
        var failure = writeAll(fd, data)
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if failure != 0 {
            throw StorageError(path: path, problem: "could not be written (\(String(cString: strerror(failure))))",
                               advice: "Check the disk; records of this run may be missing from the journal.")
        }
        return base == nil ? nil : known?.after(records, at: offsets)
    }

    private enum Line {
        case record(JournalRecord)
        case torn(TornRecord)
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// One line: a record, a record cut short, or damage (thrown). `lineNumber` is nil when only
    /// the end of the file was read.
    private func judge(_ line: Data, at offset: Int, lineNumber: Int?, decoder: JSONDecoder) throws -> Line {
        do {
            return .record(try decoder.decode(JournalRecord.self, from: line))
        } catch {
            if CutShortJSON.isCutShort(line) { return .torn(TornRecord(path: path, offset: offset, length: line.count)) }
            throw damaged(line: lineNumber, offset: offset, problem: StateStore.describe(error))
        }
    }

    /// The journal opened for reading, and its size; nil when there is none yet (where its
    /// directory cannot be, `checkWritable` says why). Opened without waiting: a FIFO put where
    /// the journal should be is refused, as is anything but a regular file. The caller closes it.
    func openForReading() throws -> (fd: Int32, size: Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            // Root's journal (0640, in a 0750 directory from the package) read by another user.
            let permission = code == EACCES || code == EPERM
            throw StorageError(path: path, problem: "cannot be read (\(String(cString: strerror(code))))",
                               advice: permission ? "Run as root (sudo): the journal is root's." : "Check its permissions (tunwarden normally runs as root).",
                               isPermission: permission)
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let problem = String(cString: strerror(errno))
            close(fd)
            throw StorageError(path: path, problem: "cannot be read (\(problem))", advice: "Check the file.")
        }
        do {
            try Self.requireRegularFile(fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        return (fd, Int(status.st_size))
    }

    /// Checks the last line that has a line end and whatever follows it, reading the file
    /// backwards from its end only as far as the start of that line.
    func checkTail() throws -> [TornRecord] {
        guard let (fd, size) = try openForReading() else { return [] }
        defer { close(fd) }
        // `tail` holds the file from offset `start` to its end.
        var start = size
        var tail: [UInt8] = []
        while start > 0 {
            let step = min(start, max(Self.tailStep, tail.count))
            var chunk = [UInt8](repeating: 0, count: step)
            let got = chunk.withUnsafeMutableBytes { preadAll(fd, $0, at: start - step) }
            guard got == step else {
                throw StorageError(path: path, problem: "cannot be read (\(got < 0 ? String(cString: strerror(errno)) : "it shrank while being read"))",
                                   advice: "Check the disk.")
            }
            tail.insert(contentsOf: chunk, at: 0)
            start -= step
            if let lines = Self.lastLines(tail, reachesStart: start == 0) {
                let decoder = Self.decoder()
                var torn: [TornRecord] = []
                for range in lines {
                    let number = start == 0 ? tail[..<range.lowerBound].count { $0 == UInt8(ascii: "\n") } + 1 : nil
                    if case .torn(let record) = try judge(Data(tail[range]), at: start + range.lowerBound, lineNumber: number, decoder: decoder) {
                        torn.append(record)
                    }
                }
                return torn
            }
        }
        return []
    }

    /// Where, in `tail` (the end of a file), its last line with a line end and any bytes after
    /// that line lie, in file order, skipping empty lines; nil when `tail` does not reach back to
    /// the start of that line and more must be read. `reachesStart`: `tail` is the whole file.
    static func lastLines(_ tail: [UInt8], reachesStart: Bool) -> [Range<Int>]? {
        let newline = UInt8(ascii: "\n")
        var lines: [Range<Int>] = []
        var end = tail.count
        if tail.last != newline {
            guard let lineEnd = tail.lastIndex(of: newline) else { return reachesStart ? [0..<end] : nil }
            lines.append(lineEnd + 1..<end)
            end = lineEnd
        }
        while end > 0, tail[end - 1] == newline { end -= 1 }
        guard end > 0 else { return reachesStart ? lines : nil }
        guard let lineEnd = tail[..<end].lastIndex(of: newline) else { return reachesStart ? [0..<end] + lines : nil }
        return [lineEnd + 1..<end] + lines
    }

    /// Whether the file ends with a line end (an empty file does); false when that cannot be read,
    /// as an extra line end costs nothing but an empty line.
    static func endsWithLineEnd(_ fd: Int32) -> Bool {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return false }
        guard status.st_size > 0 else { return true }
        var last: UInt8 = 0
        return pread(fd, &last, 1, status.st_size - 1) == 1 && last == UInt8(ascii: "\n")
    }
}

/// Reads `buffer.count` bytes at `offset`, retrying EINTR and short reads; returns how many were
/// read (fewer at the end of the file) or -1 with errno set.
func preadAll(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
    var done = 0
    while done < buffer.count {
        let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
        if n < 0 {
            if errno == EINTR { continue }
            return -1
        }
        if n == 0 { break }
        done += n
    }
    return done
}
