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

    public var description: String { "\(path): \(problem). \(advice)" }

    /// Creates `directory` (and the directories above it) for tunwarden's own files, mode 0755,
    /// or throws the error that names it, with `advice` on what to do instead.
    static func createDirectory(_ directory: String, advice: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        } catch {
            throw StorageError(path: directory, problem: "cannot be created (\(error.localizedDescription))", advice: advice)
        }
    }
}

/// The observations file (`state.json` in the state directory), read whole and written atomically:
/// a temporary file in the same directory, flushed to disk, renamed over the old one, and the
/// directory flushed, so a crash leaves either the old file or the new one.
public struct StateStore: Sendable {
    public let directory: String
    public var path: String { directory + "/state.json" }

    public init(directory: String) {
        self.directory = directory
    }

    /// The observations, or empty ones when there is no file yet. A file that cannot be parsed is
    /// an error: nothing is guessed and nothing is overwritten.
    public func load() throws -> Observations {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw StorageError(path: path, problem: "cannot be read", advice: "Check its permissions (tunwarden normally runs as root).")
            }
            return Observations()
        }
        do {
            // A file as tunwarden writes it is read directly; anything else goes to JSONDecoder,
            // which also explains what is wrong with a damaged one.
            let observations = try data.withUnsafeBytes { raw in
                try raw.withMemoryRebound(to: UInt8.self) { bytes in
                    if let fast = StateFile.observations(bytes) { return fast }
                    let decoder = JSONDecoder()
                    decoder.dateDecodingStrategy = .iso8601
                    return try decoder.decode(Observations.self, from: data)
                }
            }
            guard observations.version == 1 else {
                throw StorageError(path: path, problem: "has format version \(observations.version), which this tunwarden does not know",
                                   advice: "Use the tunwarden that wrote it, or move the file away to start afresh.")
            }
            if let problem = observations.numberOutOfBounds {
                throw StorageError(path: path, problem: "is not a valid tunwarden state file (\(problem))", advice: Self.corruptAdvice, isCorrupt: true)
            }
            return observations
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(path: path, problem: "is not a valid tunwarden state file (\(Self.describe(error)))", advice: Self.corruptAdvice,
                               isCorrupt: true)
        }
    }

    static let corruptAdvice = "Move it aside (it is kept for inspection) to start with fresh observations; ages and grace periods then start over."

    /// Renames a damaged state file to `state.json.corrupt-TIMESTAMP` beside it, keeping it for
    /// inspection, and returns the new path.
    public func moveAside(now: Date = Date()) throws -> String {
        let stamp = Timestamp.format(now).replacingOccurrences(of: ":", with: "")
        let target = path + ".corrupt-" + stamp
        do {
            try FileManager.default.moveItem(atPath: path, toPath: target)
        } catch {
            throw StorageError(path: path, problem: "cannot be moved aside (\(error.localizedDescription))", advice: "Move it by hand.")
        }
        return target
    }

    /// Writes the observations atomically, creating the directory if needed.
    public func save(_ observations: Observations) throws {
        try StorageError.createDirectory(directory, advice: "Choose another --state-dir, or run as root.")
        try AtomicFile.write(Data(try JSONWriter.encode(observations)), to: path)
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

/// Writes Prometheus textfile-collector files: `NAME.prom.tmp` in the same directory, then a
/// rename, so node_exporter never reads half a file.
public enum TextfileWriter {
    public static func write(_ text: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory) else {
            throw StorageError(path: directory, problem: "does not exist", advice: "Point --textfile into node_exporter's --collector.textfile.directory.")
        }
        try AtomicFile.write(Data(text.utf8), to: path, temporary: path + ".tmp")
    }
}

/// Whole-file replacement that survives crashes.
enum AtomicFile {
    static func write(_ data: Data, to path: String, temporary: String? = nil) throws {
        let temporary = temporary ?? path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError(path: temporary, problem: "cannot be created (\(String(cString: strerror(errno))))",
                               advice: "Choose another --state-dir, or run as root.")
        }
        var failure = writeAll(fd, data)
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw StorageError(path: path, problem: "cannot be written (\(String(cString: strerror(failure))))",
                               advice: "Check the disk and the directory's permissions.")
        }
        // The rename itself is durable only once the directory is flushed.
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }
}
