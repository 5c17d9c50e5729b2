#if os(Linux)
import Glibc

/// The names `ip netns` knows network namespaces by: files under /run/netns, each a bind mount of
/// one namespace, which is the same file (device and inode) as `/proc/PID/ns/net` of every
/// process in it.
public enum NamespaceNames {
    /// What is known of one network namespace.
    public struct Identification: Sendable, Equatable {
        /// A name under the directory searched that is bound to it; the first in byte order when
        /// there are several.
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
        if case let .ok(fd) = Sys.openDirectory(directory), case let .ok(names) = Sys.listDirectory(fd) {
            name = names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.first { candidate in
                guard case let .ok(file) = Sys.fileIdentity("\(directory)/\(candidate)") else { return false }
                return file.device == own.device && file.inode == own.inode
            }
        }
        return Identification(name: name, identity: "net:[\(own.inode)]", isInitial: isInitial)
    }

    /// The names under `directory` by the namespace each is bound to (`net:[INODE]`, as the
    /// kernel names it); the first in byte order where one namespace has several.
    public static func byIdentity(directory: String = "/run/netns") -> [String: String] {
        guard case let .ok(fd) = Sys.openDirectory(directory), case let .ok(names) = Sys.listDirectory(fd) else { return [:] }
        var result: [String: String] = [:]
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            guard case let .ok(file) = Sys.fileIdentity("\(directory)/\(name)") else { continue }
            let identity = "net:[\(file.inode)]"
            if result[identity] == nil { result[identity] = name }
        }
        return result
    }
}
#endif
