import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes Prometheus textfile-collector files, so that node_exporter never reads half a file and
/// whoever else can write the directory cannot make tunwarden write anywhere else.
///
/// The directory is node_exporter's textfile directory, which is often writable by the
/// `prometheus` user, while tunwarden runs as root. So the metrics go to a new file with a name
/// of its own (`NAME.prom.RANDOM.tmp`), created exclusively in that directory: the creation
/// follows no symbolic link, never opens a FIFO or a device, and never reuses a file someone
/// planted. It is given the final file's mode (0644, for node_exporter to read), written, and
/// renamed over `NAME.prom`; a rename replaces a symbolic link planted at that name rather than
/// following it. Nothing is flushed to the disk: the metrics are rewritten by the next run, and a
/// watcher rewrites them often.
public enum TextfileWriter {
    /// The mode of the metrics file: readable by node_exporter, which runs as a user of its own.
    static let mode: mode_t = 0o644

    /// How many unique names are tried before giving up, when each is taken already.
    static let attempts = 8

    /// Replaces the file at `path` with `text`, atomically. Throws `StorageError` saying why when
    /// it cannot (a missing directory, no permission, a full disk); the file is then left as it
    /// was, and no temporary file is left behind.
    public static func write(_ text: String, to path: String) throws {
        let directoryPath = PathText.directory(of: path)
        let name = PathText.lastComponent(path)
        let directory = open(directoryPath.isEmpty ? "." : directoryPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else {
            let reason = errno
            if reason == ENOENT {
                throw StorageError(path: directoryPath, problem: "does not exist", advice: "Point --textfile into node_exporter's --collector.textfile.directory.")
            }
            throw StorageError(path: directoryPath, problem: "cannot be opened as a directory (\(String(cString: strerror(reason))))",
                               advice: "Point --textfile into node_exporter's --collector.textfile.directory.")
        }
        defer { close(directory) }
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<attempts {
            temporary = "\(name).\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).tmp"
            fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw StorageError(path: PathText.joined(directoryPath, temporary), problem: "cannot be created (\(String(cString: strerror(errno))))",
                               advice: "Check the textfile directory's permissions, or run as root.")
        }
        var failure: Int32 = fchmod(fd, mode) == 0 ? 0 : errno
        if failure == 0 { failure = writeAll(fd, Data(text.utf8)) }
        close(fd)
        if failure == 0, renameat(directory, temporary, directory, name) != 0 { failure = errno }
        if failure != 0 {
            unlinkat(directory, temporary, 0)
            throw StorageError(path: path, problem: "cannot be written (\(String(cString: strerror(failure))))",
                               advice: "Check the disk and the directory's permissions.")
        }
    }
}
