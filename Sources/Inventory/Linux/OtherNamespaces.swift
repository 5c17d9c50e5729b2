#if os(Linux)
import Glibc
import TunwardenCore

extension ForeignStacking {
    /// A network namespace other than an inspected one, as the foreign-stacking look finds it,
    /// for callers that must look into each in turn (the reaper's repair, finding a device a
    /// killed reap fenced that was moved away since).
    public struct OtherNamespace: Sendable {
        /// The namespace for people: its `ip netns` name, its bind mount, or `net:[INODE]`.
        public let label: String
        let paths: [Sys.Path]
        let inode: UInt64

        /// A new descriptor of the namespace, which the caller closes: from the first of its
        /// paths that still opens it (a process in it may have exited, or gone back to its own
        /// namespace); nil when none does.
        public func open() -> Int32? {
            for path in paths {
                guard case let .ok(fd) = Sys.openFile(path) else { continue }
                if case let .ok(opened) = Sys.statDescriptor(fd), opened == inode { return fd }
                close(fd)
            }
            return nil
        }
    }

    /// Every network namespace but the one `inspectedFD` is in (nil: this process's), once each,
    /// as the foreign-stacking look enumerates them: those `ip netns` names, those processes run
    /// in, those a bind mount keeps. A namespace kept only by an open descriptor is not among them.
    public static func otherNamespaces(inspectedFD: Int32?, procRoot: String = "/proc",
                                       namespaceDirectory: String = "/run/netns") -> [OtherNamespace] {
        var own: Int32? = inspectedFD
        if own == nil, case let .ok(fd) = Sys.openFile("\(procRoot)/thread-self/ns/net") { own = fd }
        defer { if inspectedFD == nil, let own { close(own) } }
        guard let own, case let .ok(inode) = Sys.statDescriptor(own) else { return [] }
        return namespaces(excluding: inode, procRoot: procRoot, namespaceDirectory: namespaceDirectory, held: NamespaceDescriptors(procRoot: procRoot)).namespaces
            .filter { !$0.paths.isEmpty }.map { OtherNamespace(label: $0.label, paths: $0.paths, inode: $0.inode) }
    }
}
#endif
