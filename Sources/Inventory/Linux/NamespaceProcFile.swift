#if os(Linux)
import Glibc
import Netlink

/// Reading one of a namespace's `/proc/net` files: a `/proc/net` file belongs to the namespace of
/// whoever opened it, so a thread inside the namespace opens it, and it is read from here.
enum NamespaceProcFile {
    /// One file opened (or not) inside a namespace.
    struct Opened {
        var path: String
        /// The descriptor, or -1 when the open failed with `errno`.
        var fd: Int32
        var errno: Int32
    }

    /// The bytes of `net/NAME` (`packet`, `protocols`, …) of the namespace behind `namespaceFD`
    /// (nil: this process's own), under `procRoot`; nil when the kernel has no such file.
    /// `Unreadable` when it could not be had: no way into the namespace, an open or a read that
    /// failed.
    static func read(_ name: String, namespaceFD: Int32?, procRoot: String) -> Result<[UInt8]?, SocketUse.Unreadable> {
        read([name], namespaceFD: namespaceFD, procRoot: procRoot).map { $0[0] }
    }

    /// The bytes of each of `names`, in their order, as `read(_:namespaceFD:procRoot:)` gives
    /// one, all opened on one trip into the namespace.
    static func read(_ names: [String], namespaceFD: Int32?, procRoot: String) -> Result<[[UInt8]?], SocketUse.Unreadable> {
        do {
            return read(try NamespaceThread.run(in: namespaceFD) { open(names, procRoot: procRoot) })
        } catch {
            return .failure(SocketUse.Unreadable(description: "cannot enter the namespace to read \(procRoot)/thread-self/net/\(names.joined(separator: ", ")): \(error)"))
        }
    }

    /// Opens `net/NAME` under `procRoot` for each of `names`, in the calling thread's namespace;
    /// `read(_:)` takes the descriptors over.
    static func open(_ names: [String], procRoot: String) -> [Opened] {
        names.map { name in
            let path = "\(procRoot)/thread-self/net/\(name)"
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            return Opened(path: path, fd: fd, errno: fd < 0 ? Glibc.errno : 0)
        }
    }

    /// The bytes of each file `open(_:procRoot:)` opened, closing them all; nil for one the
    /// kernel does not have. `Unreadable` when one could not be opened for another reason, or
    /// read.
    static func read(_ opened: [Opened]) -> Result<[[UInt8]?], SocketUse.Unreadable> {
        defer { for file in opened where file.fd >= 0 { close(file.fd) } }
        var texts: [[UInt8]?] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        for file in opened {
            guard file.fd >= 0 else {
                if file.errno == ENOENT {
                    texts.append(nil)
                    continue
                }
                return .failure(SocketUse.Unreadable(description: "\(file.path) cannot be opened: \(String(cString: strerror(file.errno)))"))
            }
            var text: [UInt8] = []
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(file.fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count >= 0 else { return .failure(SocketUse.Unreadable(description: "\(file.path) could not be read: \(String(cString: strerror(errno)))")) }
                if count == 0 { break }
                text += buffer.prefix(count)
            }
            texts.append(text)
        }
        return .success(texts)
    }
}
#endif
