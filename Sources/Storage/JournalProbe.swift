import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Journal {
    /// Proves what `checkWritable` proves (its last record parses, no line is damaged, and records could be appended
    /// to it) without creating the journal or its directory, so that a dry run can answer as the
    /// real run would and leave nothing behind; returns the same cut-short records to warn about.
    /// Where the journal does not exist yet, its nearest existing ancestor must be a directory
    /// this process may create entries in.
    @discardableResult
    public func checkWritableWithoutCreating() throws -> [TornRecord] {
        let torn = try checkTail()
        try checkForDamage()
        if FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else {
                throw StorageError(path: path, problem: "cannot be opened for appending (\(String(cString: strerror(errno))))",
                                   advice: StorageError.unwritableAdvice("--journal path", code: errno))
            }
            defer { close(fd) }
            try Self.requireRegularFile(fd, path: path)
            return torn
        }
        var ancestor = PathText.directory(of: path)
        if ancestor.isEmpty { ancestor = "." }
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDirectory) {
            let above = PathText.directory(of: ancestor)
            let parent = above.isEmpty ? "." : above
            guard parent != ancestor else {
                throw StorageError(path: path, problem: "has no existing directory above it", advice: "Choose another --journal path.")
            }
            ancestor = parent
        }
        guard isDirectory.boolValue else {
            throw StorageError(path: ancestor, problem: "is not a directory, so the journal cannot be created under it",
                               advice: "Choose another --journal path.")
        }
        guard faccessat(AT_FDCWD, ancestor, W_OK | X_OK, AT_EACCESS) == 0 else {
            throw StorageError(path: ancestor, problem: "does not let the journal be created in it (\(String(cString: strerror(errno))))",
                               advice: StorageError.unwritableAdvice("--journal path", code: errno))
        }
        return torn
    }
}
