#if os(Linux)
import Glibc
import TunwardenCore

/// Where the foreign-stacking look finds the other network namespaces, and the paths that open
/// each.
extension ForeignStacking {
    /// A namespace other than the inspected one, with every path found to open it, tried in turn
    /// as processes exit, close descriptors or remove names: its name under `/run/netns`, the
    /// `ns/net` of each process in it, the bind mounts this process sees, then the descriptors
    /// other processes keep it open by. One found by several of these is one namespace with all
    /// their paths, so that one path gone leaves the others to try.
    struct Namespace {
        /// The paths opened as they are: its names, its threads' links and its mount points.
        var paths: [Sys.Path]
        /// How people are told of it: its `ip netns` name, `net:[INODE]`, or a mount point.
        var label: String
        /// Other processes' descriptors of it (`/proc/PID/fd/N`), opened only through
        /// `NamespaceDescriptors.open`, which checks that each still is the namespace `inode`.
        var heldPaths: [Sys.Path] = []
        /// Its inode: what every path must open to be taken for it.
        var inode: UInt64
        /// This process's own descriptor of it, when only a socket keeps it (`SocketNamespaces`):
        /// its one path is `/proc/self/fd/N`, and whoever listed it closes it.
        var ownedFD: Int32? = nil

        /// Whether nothing is known to open it.
        var unreachable: Bool { paths.isEmpty && heldPaths.isEmpty }
    }

    /// Every namespace but the inspected one, once each, with every path found to open it: those
    /// `ip netns` names (by the names' bytes), then those processes run in or a bind mount keeps
    /// (by inode), then those only bind mounts covered by other mounts lead to (no path: they
    /// cannot be looked into), then those a descriptor in `held` keeps (by inode), then those
    /// only a socket in `held` keeps and that are not among `known`; and what keeps others from
    /// being listed (mountinfo that cannot be read, a socket that cannot be asked). The caller
    /// closes each namespace's `ownedFD`. Names and mount points are the kernel's bytes, whether
    /// or not they are UTF-8.
    static func namespaces(excluding inspected: UInt64, procRoot: String, namespaceDirectory: String,
                           held: NamespaceDescriptors, known: Set<UInt64> = []) -> (namespaces: [Namespace], unlisted: [String]) {
        var result: [Namespace] = []
        var at: [UInt64: Int] = [inspected: -1]
        var unlisted: [String] = []
        /// Adds `paths` to the namespace `inode`, listing it under `label` when it is new, or when
        /// nothing led to it before (a covered mount: it is named by what opens it now).
        func add(_ inode: UInt64, label: @autoclosure () -> String, paths: [Sys.Path] = [], heldPaths: [Sys.Path] = []) {
            if let index = at[inode] {
                guard index >= 0 else { return }
                if result[index].unreachable, !(paths.isEmpty && heldPaths.isEmpty) { result[index].label = label() }
                result[index].paths += paths.filter { !result[index].paths.contains($0) }
                result[index].heldPaths += heldPaths
            } else {
                at[inode] = result.count
                result.append(Namespace(paths: paths, label: label(), heldPaths: heldPaths, inode: inode))
            }
        }
        let directory = Sys.Path(namespaceDirectory)
        if case let .ok(names) = Sys.namesInByteOrder(namespaceDirectory) {
            for name in names {
                let path = directory.appending(name)
                // A file that is not a namespace's (a FIFO, say) has an inode of its own, and is
                // found to be no namespace when entered.
                guard case let .ok(stat) = Sys.statPath(path) else { continue }
                add(stat.inode, label: InterfaceName.text(name), paths: [path])
            }
        }
        var paths = threadNamespaces(procRoot: procRoot)
        // Namespaces kept by a bind mount anywhere this process sees (`/run/docker/netns/…`). One
        // whose mount point no longer opens it (another mount over it) is reached by other paths
        // or not at all.
        var covered: [(point: Sys.Path, inode: UInt64)] = []
        switch nsfsMounts(procRoot: procRoot) {
        case let .ok(mounts):
            for (mountPoint, inode) in mounts {
                if case let .ok(stat) = Sys.statPath(mountPoint), stat.inode == inode {
                    paths[inode, default: []].append(mountPoint)
                } else {
                    covered.append((mountPoint, inode))
                }
            }
        case let .failed(code):
            unlisted.append("the namespaces kept only by a bind mount (\(procRoot)/self/mountinfo cannot be read: \(Sys.describe(code)))")
        }
        for (inode, found) in paths.sorted(by: { $0.key < $1.key }) {
            add(inode, label: "net:[\(inode)]", paths: found)
        }
        for (mountPoint, inode) in covered {
            add(inode, label: "\(mountPoint.text) (net:[\(inode)], covered by another mount)")
        }
        // A path's file may be a namespace of another type; it is passed over once opened.
        for (inode, found) in held.paths.sorted(by: { $0.key < $1.key }) {
            add(inode, label: "net:[\(inode)], open as \(found[0].text)", heldPaths: found)
        }
        // Those only a socket keeps: asked last, of the sockets alone, so that the namespaces
        // found so far are passed over without a descriptor.
        if !held.sockets.isEmpty {
            let kept = socketKept(held, known: known.union(at.keys))
            unlisted += kept.unread
            result += kept.namespaces
        }
        return (result, unlisted)
    }

    /// The namespaces the sockets `held` noted keep that are not among `known` (by inode), each
    /// open by a descriptor of this process's own (`ownedFD`), which the caller closes; and what
    /// kept others from being asked.
    static func socketKept(_ held: NamespaceDescriptors, known: Set<UInt64>) -> (namespaces: [Namespace], unread: [String]) {
        let kept = SocketNamespaces.find(held.sockets, known: known)
        var seen = known
        var result: [Namespace] = []
        for namespace in kept.kept {
            guard seen.insert(namespace.inode).inserted else {
                close(namespace.descriptor)
                continue
            }
            result.append(Namespace(paths: [Sys.Path("/proc/self/fd/\(namespace.descriptor)")],
                                    label: "net:[\(namespace.inode)], kept by socket:[\(namespace.socket.inode)] of pid \(namespace.socket.pid)",
                                    inode: namespace.inode, ownedFD: namespace.descriptor))
        }
        return (result, kept.unread)
    }

    /// The network namespaces the threads of the processes under `procRoot` run in, by inode:
    /// for each process with a thread in one, the link of its first thread there
    /// (`PROC/PID/task/TID/ns/net`), so that a namespace's count of links is how many processes
    /// have a thread there. Each process's link, not one per namespace: a process may exit before
    /// its link is opened. Each of its threads is looked at, not its first alone: one thread may
    /// have entered a namespace its others are not in (`unshare(CLONE_NEWNET)` or `setns` from
    /// one thread, as a Go daemon's locked thread does). A process closed even to root (a sandbox
    /// supervisor, as the holder scan's opaque processes are) is in none of them: the blind spot
    /// the README names.
    static func threadNamespaces(procRoot: String) -> [UInt64: [Sys.Path]] {
        var paths: [UInt64: [Sys.Path]] = [:]
        guard case let .ok(entries) = Sys.listDirectory(path: procRoot) else { return paths }
        for entry in entries where entry.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            let tasks: [String]
            if case let .ok(listed) = Sys.listDirectory(path: "\(procRoot)/\(entry)/task") { tasks = listed } else { tasks = [entry] }
            var inodes: Set<UInt64> = []
            for task in tasks where task.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                let path = Sys.Path("\(procRoot)/\(entry)/task/\(task)/ns/net")
                if case let .ok(stat) = Sys.statPath(path), inodes.insert(stat.inode).inserted { paths[stat.inode, default: []].append(path) }
            }
        }
        return paths
    }

    /// The mount points of network namespace files bound somewhere, with each namespace's inode
    /// (`nsfs` in this process's mountinfo, whose root names the namespace: `net:[4026532…]`).
    /// Mount points are the kernel's bytes: mountinfo escapes a space, tab, newline and backslash
    /// (as `\ooo`) and nothing else, so any other byte, UTF-8 or not, is there as it is.
    static func nsfsMounts(procRoot: String) -> Sys.Outcome<[(point: Sys.Path, inode: UInt64)]> {
        let content: [UInt8]
        switch Sys.readSmallFile("\(procRoot)/self/mountinfo", limit: mountinfoLimit) {
        case let .ok(read): content = read
        case let .failed(code): return .failed(code)
        }
        // A table cut short by the limit would leave mounts out unseen.
        guard content.count < mountinfoLimit else { return .failed(EFBIG) }
        var points: [(point: Sys.Path, inode: UInt64)] = []
        for line in content.split(separator: 0x0a) {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS…] - FSTYPE SOURCE SUPER
            let fields = line.split(separator: 0x20)
            guard fields.count > 4, let dash = fields.firstIndex(where: { $0.elementsEqual([0x2d]) }), dash + 1 < fields.count,
                  fields[dash + 1].elementsEqual("nsfs".utf8) else { continue }
            let root = String(decoding: fields[3], as: UTF8.self)
            guard root.hasPrefix("net:["), root.hasSuffix("]"), let inode = UInt64(root.dropFirst(5).dropLast()) else { continue }
            points.append((Sys.Path(bytes: unescapedMountField(fields[4])), inode))
        }
        return .ok(points)
    }

    /// The most of mountinfo read: far beyond any real mount table (a host with ten thousand
    /// mounts has about 1.5 MB), and bounded.
    static let mountinfoLimit = 64 << 20

    /// A mountinfo path field with its `\ooo` escapes (three octal digits) made bytes again.
    static func unescapedMountField<Field: Collection<UInt8>>(_ field: Field) -> [UInt8] where Field.Index == Int {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(field.count)
        var index = field.startIndex
        func octal(_ byte: UInt8) -> UInt8? { byte >= 0x30 && byte <= 0x37 ? byte - 0x30 : nil }
        while index < field.endIndex {
            if field[index] == 0x5c, field.endIndex - index >= 4,
               let a = octal(field[index + 1]), let b = octal(field[index + 2]), let c = octal(field[index + 3]), a <= 3 {
                bytes.append(a << 6 | b << 3 | c)
                index += 4
            } else {
                bytes.append(field[index])
                index += 1
            }
        }
        return bytes
    }
}
#endif
