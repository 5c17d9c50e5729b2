#if os(Linux)
import CLinuxShims
import Glibc
import TunwardenCore

/// Thin wrappers over the system calls the Linux backend uses. Each retries EINTR and reports
/// failure as an errno value, never by trapping: files under /proc vanish and refuse all the time.
enum Sys {
    /// The outcome of a call that can fail with an errno.
    enum Outcome<T> {
        case ok(T)
        case failed(Int32)
    }

    static func openDirectory(_ path: String, relativeTo directory: Int32 = AT_FDCWD) -> Outcome<Int32> {
        repeatOnEINTR { openat(directory, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    }

    /// Opens a file for reading without waiting: a FIFO (which anyone able to write to a
    /// directory tunwarden looks in can leave there) opens at once instead of blocking until a
    /// writer comes, and no terminal becomes the controlling one. Reading the files tunwarden
    /// reads (`/proc`, `/sys`, namespace files) does not depend on O_NONBLOCK.
    static func openFile(_ path: String, relativeTo directory: Int32 = AT_FDCWD) -> Outcome<Int32> {
        repeatOnEINTR { openat(directory, path, readOnly) }
    }

    /// `openFile` of a path given as bytes.
    static func openFile(_ path: Path) -> Outcome<Int32> {
        path.withCString { raw in repeatOnEINTR { openat(AT_FDCWD, raw, readOnly) } }
    }

    private static let readOnly = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY

    private static func repeatOnEINTR(_ call: () -> Int32) -> Outcome<Int32> {
        while true {
            let fd = call()
            if fd >= 0 { return .ok(fd) }
            if errno != EINTR { return .failed(errno) }
        }
    }

    /// The names in a directory (without "." and ".."); takes ownership of `fd`. A name that is
    /// not UTF-8 comes out changed (U+FFFD for each bad byte) and names no file: for directories
    /// whose names tunwarden opens again, where such a name can be, use `listDirectoryBytes`.
    static func listDirectory(_ fd: Int32) -> Outcome<[String]> {
        switch listDirectoryBytes(fd) {
        case let .ok(names): .ok(names.map { String(decoding: $0, as: UTF8.self) })
        case let .failed(code): .failed(code)
        }
    }

    /// The names in the directory at `path` (without "." and ".."), as the kernel's bytes, in
    /// byte order: how the directories of namespace names are read.
    static func namesInByteOrder(_ path: String) -> Outcome<[[UInt8]]> {
        let fd: Int32
        switch openDirectory(path) {
        case let .ok(opened): fd = opened
        case let .failed(code): return .failed(code)
        }
        switch listDirectoryBytes(fd) {
        case let .ok(names): return .ok(names.sorted { $0.lexicographicallyPrecedes($1) })
        case let .failed(code): return .failed(code)
        }
    }

    /// The names in a directory (without "." and ".."), as the kernel's bytes; takes ownership of `fd`.
    static func listDirectoryBytes(_ fd: Int32) -> Outcome<[[UInt8]]> {
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            return .failed(code)
        }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        errno = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name != [0x2e] && name != [0x2e, 0x2e] { names.append(name) }
        }
        if errno != 0 { return .failed(errno) }
        return .ok(names)
    }

    /// The names in the directory at `path` (without "." and "..").
    static func listDirectory(path: String, relativeTo directory: Int32 = AT_FDCWD) -> Outcome<[String]> {
        switch openDirectory(path, relativeTo: directory) {
        case let .ok(fd): listDirectory(fd)
        case let .failed(code): .failed(code)
        }
    }

    /// The target of a symbolic link (or a /proc magic link).
    static func readLink(_ path: String, relativeTo directory: Int32 = AT_FDCWD) -> Outcome<String> {
        var buffer = [UInt8](repeating: 0, count: 256)
        var n: Int
        repeat {
            n = buffer.withUnsafeMutableBufferPointer { ptr in
                ptr.withMemoryRebound(to: CChar.self) { readlinkat(directory, path, $0.baseAddress!, $0.count) }
            }
        } while n < 0 && errno == EINTR
        if n < 0 { return .failed(errno) }
        return .ok(String(decoding: buffer[0..<n], as: UTF8.self))
    }

    /// A small file's whole content (for /proc files, which report size 0).
    static func readSmallFile(_ path: String, relativeTo directory: Int32 = AT_FDCWD, limit: Int = 64 * 1024) -> Outcome<[UInt8]> {
        switch openFile(path, relativeTo: directory) {
        case let .ok(fd): readAll(fd, limit: limit)
        case let .failed(code): .failed(code)
        }
    }

    /// `readSmallFile` of a path given as bytes.
    static func readSmallFile(_ path: Path, limit: Int = 64 * 1024) -> Outcome<[UInt8]> {
        switch openFile(path) {
        case let .ok(fd): readAll(fd, limit: limit)
        case let .failed(code): .failed(code)
        }
    }

    /// Whether the calling thread may write the file at `path` (faccessat W_OK): a sysctl file
    /// that is read-only to root too (its mode has no write bit) is not.
    static func writable(_ path: Path) -> Bool {
        path.withCString { faccessat(AT_FDCWD, $0, W_OK, 0) == 0 }
    }

    /// Reads `fd` to its end, or to `limit` bytes, and closes it.
    private static func readAll(_ fd: Int32, limit: Int) -> Outcome<[UInt8]> {
        defer { close(fd) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while content.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failed(errno)
            }
            if n == 0 { break }
            content.append(contentsOf: chunk[0..<n])
        }
        return .ok(content)
    }

    /// The inode and owner of a path, following links.
    static func statPath(_ path: String, relativeTo directory: Int32 = AT_FDCWD) -> Outcome<(inode: UInt64, uid: UInt32)> {
        var info = stat()
        if case let .failed(code) = repeatOnEINTR({ fstatat(directory, path, &info, 0) }) { return .failed(code) }
        return .ok((UInt64(info.st_ino), info.st_uid))
    }

    /// `statPath` of a path given as bytes.
    static func statPath(_ path: Path) -> Outcome<(inode: UInt64, uid: UInt32)> {
        var info = stat()
        if case let .failed(code) = path.withCString({ raw in repeatOnEINTR { fstatat(AT_FDCWD, raw, &info, 0) } }) { return .failed(code) }
        return .ok((UInt64(info.st_ino), info.st_uid))
    }

    /// The link count of a path (not following a final link). For `/proc/PID/task` it is two plus
    /// the number of the process's threads (fs/proc/base.c, proc_task_getattr).
    static func linkCount(_ path: String, relativeTo directory: Int32 = AT_FDCWD) -> Outcome<UInt64> {
        var info = stat()
        if case let .failed(code) = repeatOnEINTR({ fstatat(directory, path, &info, AT_SYMLINK_NOFOLLOW) }) { return .failed(code) }
        return .ok(UInt64(info.st_nlink))
    }

    /// Whether two tasks (by id in this process's PID namespace) share one descriptor table
    /// (kcmp(2), KCMP_FILES).
    static func sameDescriptorTable(_ first: Int32, _ second: Int32) -> Outcome<Bool> {
        while true {
            let order = tw_kcmp_files(first, second)
            if order >= 0 { return .ok(order == 0) }
            if errno != EINTR { return .failed(errno) }
        }
    }

    /// O_PATH (include/uapi/asm-generic/fcntl.h), which Glibc's module does not export.
    static let pathOnly: Int32 = 0o10000000

    /// A descriptor that names the file at `path` without opening it for reading or writing
    /// (O_PATH): it raises no open event of its own.
    static func openPathOnly(_ path: String) -> Outcome<Int32> {
        repeatOnEINTR { openat(AT_FDCWD, path, pathOnly | O_CLOEXEC) }
    }

    /// The device number of the character device open as `fd`, or nil when it is another kind of file.
    static func characterDevice(_ fd: Int32) -> Outcome<dev_t?> {
        var info = stat()
        if fstat(fd, &info) != 0 { return .failed(errno) }
        return .ok(info.st_mode & S_IFMT == S_IFCHR ? info.st_rdev : nil)
    }

    static func statDescriptor(_ fd: Int32) -> Outcome<UInt64> {
        var info = stat()
        if fstat(fd, &info) != 0 { return .failed(errno) }
        return .ok(UInt64(info.st_ino))
    }

    /// A raw socket of `family` (AF_INET, AF_INET6) in the caller's thread's network namespace,
    /// through which that namespace's x_tables are read.
    static func rawSocket(family: Int32) -> Outcome<Int32> {
        repeatOnEINTR { socket(family, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW)) }
    }

    /// getsockopt whose buffer carries the request in and the answer out (IPT_SO_GET_INFO, …):
    /// the answer, as long as the kernel says it is.
    static func exchangeOption(_ fd: Int32, level: Int32, option: Int32, _ request: [UInt8]) -> Outcome<[UInt8]> {
        var buffer = request
        var length = socklen_t(buffer.count)
        while true {
            let result = buffer.withUnsafeMutableBytes { getsockopt(fd, level, option, $0.baseAddress, &length) }
            if result == 0 { return .ok(Array(buffer.prefix(Int(length)))) }
            if errno != EINTR { return .failed(errno) }
        }
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// The device and inode of a path, following links: together they name one file, and for a
    /// namespace file (`/proc/PID/ns/net`, a bind mount under /run/netns) one namespace.
    static func fileIdentity(_ path: String) -> Outcome<(device: UInt64, inode: UInt64)> {
        fileIdentity(Path(path))
    }

    /// Whether `path` (relative to `directory`), followed, is the tun character device (10:200,
    /// include/uapi/linux/miscdevice.h's TUN_MINOR) whatever its path: a node made elsewhere with
    /// `mknod NAME c 10 200` opens the same driver as /dev/net/tun.
    /// Asked with statx's AT_STATX_DONT_SYNC: a file on a network or FUSE mount whose server
    /// does not answer must not stall the scan. The same call tells the file's device and inode,
    /// by which a namespace file is known (see `NamespaceDescriptors`).
    static func isTunNode(_ path: String, relativeTo directory: Int32) -> Outcome<(isTun: Bool, device: UInt64, inode: UInt64)> {
        var device: UInt64 = 0, inode: UInt64 = 0
        switch repeatOnEINTR({ tw_is_char_device(directory, path, 10, 200, &device, &inode) }) {
        case let .ok(answer): return .ok((answer == 1, device, inode))
        case let .failed(code): return .failed(code)
        }
    }

    /// `fileIdentity` of a path given as bytes.
    static func fileIdentity(_ path: Path) -> Outcome<(device: UInt64, inode: UInt64)> {
        var info = stat()
        if case let .failed(code) = path.withCString({ raw in repeatOnEINTR { stat(raw, &info) } }) { return .failed(code) }
        return .ok((UInt64(info.st_dev), UInt64(info.st_ino)))
    }

    /// A path as the kernel's bytes. A name read from a directory or from mountinfo need not be
    /// UTF-8, and a `String` made of it names another file, or none: such paths stay bytes from
    /// where they are read to the call that opens them.
    struct Path: Hashable, Sendable {
        var bytes: [UInt8]

        init(_ text: String) { bytes = Array(text.utf8) }
        init(bytes: [UInt8]) { self.bytes = bytes }

        /// The path of `name` in this directory.
        func appending(_ name: [UInt8]) -> Path { Path(bytes: bytes + [0x2f] + name) }

        /// The path as people are shown it: bytes that are not printable UTF-8 as `\xHH`, a
        /// backslash doubled (`InterfaceName.text`).
        var text: String { InterfaceName.text(bytes) }

        /// Calls `body` with the path as a C string. A path holding a NUL byte cannot be given to
        /// the kernel: `body` then gets an empty string, which names no file (ENOENT).
        func withCString<Result>(_ body: (UnsafePointer<CChar>) -> Result) -> Result {
            let terminated = bytes.contains(0) ? [0] : bytes + [0]
            return terminated.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
            }
        }
    }
}
#endif
