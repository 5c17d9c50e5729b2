#if os(Linux)
import Glibc
import TunwardenCore

/// The names `ip netns` knows network namespaces by: files under /run/netns, each a bind mount of
/// one namespace, which is the same file (device and inode) as `/proc/PID/ns/net` of every
/// process in it.
public enum NamespaceNames {
    /// What is known of one network namespace.
    public struct Identification: Sendable, Equatable {
        /// A name under the directory searched that is bound to it; the first in byte order when
        /// there are several. Given as `InterfaceName.text` gives the file name's bytes.
        public var name: String?
        /// `net:[INODE]`, as the kernel names it.
        public var identity: String
        /// Whether process 1 runs in it: it is the namespace a shell on this system (or in this
        /// container) starts in.
        public var isInitial: Bool
    }

    /// Identifies the calling thread's network namespace among the names under `directory`, or
    /// nil when /proc cannot say which namespace that is.
    public static func identifyCurrent(directory: String = "/run/netns", procRoot: String = "/proc") -> Identification? {
        guard case let .ok(own) = Sys.fileIdentity("\(procRoot)/thread-self/ns/net") else { return nil }
        var isInitial = false
        if case let .ok(initial) = Sys.fileIdentity("\(procRoot)/1/ns/net") {
            isInitial = initial.device == own.device && initial.inode == own.inode
        }
        var name: String?
        if case let .ok(names) = Sys.namesInByteOrder(directory) {
            name = names.first { candidate in
                guard case let .ok(file) = Sys.fileIdentity(Sys.Path(directory).appending(candidate)) else { return false }
                return file.device == own.device && file.inode == own.inode
            }.map(InterfaceName.text)
        }
        return Identification(name: name, identity: "net:[\(own.inode)]", isInitial: isInitial)
    }

    /// The names under `directory` by the namespace each is bound to (`net:[INODE]`, as the
    /// kernel names it); the first in byte order where one namespace has several. A name is
    /// given as `InterfaceName.text` gives a name's bytes (`\xHH` for a byte that is not
    /// printable UTF-8, a backslash doubled), which `InterfaceName.kernelBytes` turns back.
    public static func byIdentity(directory: String = "/run/netns") -> [String: String] {
        guard case let .ok(names) = Sys.namesInByteOrder(directory) else { return [:] }
        var result: [String: String] = [:]
        for name in names {
            guard case let .ok(file) = Sys.fileIdentity(Sys.Path(directory).appending(name)) else { continue }
            let identity = "net:[\(file.inode)]"
            if result[identity] == nil { result[identity] = InterfaceName.text(name) }
        }
        return result
    }
}
#endif
