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
        let path = "\(procRoot)/thread-self/net/\(name)"
        let opened: (fd: Int32, errno: Int32)
        if let namespaceFD {
            do {
                opened = try NamespaceThread.run(in: namespaceFD) { () -> (Int32, Int32) in
                    let fd = open(path, O_RDONLY | O_CLOEXEC)
                    return (fd, fd < 0 ? errno : 0)
                }
            } catch {
                return .failure(SocketUse.Unreadable(description: "cannot enter the namespace to read \(path): \(error)"))
            }
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            opened = (fd, fd < 0 ? errno : 0)
        }
        guard opened.fd >= 0 else {
            if opened.errno == ENOENT { return .success(nil) }
            return .failure(SocketUse.Unreadable(description: "\(path) cannot be opened: \(String(cString: strerror(opened.errno)))"))
        }
        let fd = opened.fd
        defer { close(fd) }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return .failure(SocketUse.Unreadable(description: "\(path) could not be read: \(String(cString: strerror(errno)))")) }
            if count == 0 { break }
            text += buffer.prefix(count)
        }
        return .success(text)
    }
}
#endif
