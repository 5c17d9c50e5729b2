#if os(Linux)
import Glibc
import Netlink

/// Reading one of a namespace's `/proc/net` files: a `/proc/net` file belongs to the namespace of
/// whoever opened it, so a thread inside the namespace opens it, and it is read from here.
enum NamespaceProcFile {
    /// The bytes of `net/NAME` (`packet`, `protocols`, …) of the namespace behind `namespaceFD`
    /// (nil: this process's own), under `procRoot`; nil when the kernel has no such file.
    /// `Unreadable` when it could not be had: no way into the namespace, an open or a read that
    /// failed.
    static func read(_ name: String, namespaceFD: Int32?, procRoot: String) -> Result<[UInt8]?, SocketUse.Unreadable> {
        read([name], namespaceFD: namespaceFD, procRoot: procRoot).map { $0[0] }
    }

    /// The bytes of each of `names`, in their order, as `read(_:namespaceFD:procRoot:)` gives
    /// one, all opened on one trip into the namespace; `Unreadable` when any could not be had.
    static func read(_ names: [String], namespaceFD: Int32?, procRoot: String) -> Result<[[UInt8]?], SocketUse.Unreadable> {
        let paths = names.map { "\(procRoot)/thread-self/net/\($0)" }
        let opened: [(fd: Int32, errno: Int32)]
        func openAll() -> [(fd: Int32, errno: Int32)] {
            paths.map { path in
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                return (fd, fd < 0 ? errno : 0)
            }
        }
        if let namespaceFD {
            do {
                opened = try NamespaceThread.run(in: namespaceFD, openAll)
            } catch {
                return .failure(SocketUse.Unreadable(description: "cannot enter the namespace to read \(paths.joined(separator: ", ")): \(error)"))
            }
        } else {
            opened = openAll()
        }
        defer { for (fd, _) in opened where fd >= 0 { close(fd) } }
        var texts: [[UInt8]?] = []
        for (path, (fd, code)) in zip(paths, opened) {
            guard fd >= 0 else {
                if code == ENOENT {
                    texts.append(nil)
                    continue
                }
                return .failure(SocketUse.Unreadable(description: "\(path) cannot be opened: \(String(cString: strerror(code)))"))
            }
            var text: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count >= 0 else { return .failure(SocketUse.Unreadable(description: "\(path) could not be read: \(String(cString: strerror(errno)))")) }
                if count == 0 { break }
                text += buffer.prefix(count)
            }
            texts.append(text)
        }
        return .success(texts)
    }
}
#endif
