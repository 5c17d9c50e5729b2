#if os(Linux)
import CLinuxShims
import Glibc
import TunwardenCore

/// The network namespaces that processes keep open by a descriptor, which may be all that keeps
/// one alive: a runtime holds a container's namespace so between its steps, and
/// `ip link add link tap0 … netns B` makes a link straight into such a namespace without giving
/// the tap's namespace an id for it (see `ForeignStacking`).
///
/// Which descriptors are namespace files is told without opening any: another process's
/// descriptor may be a FIFO, whose open blocks, or a device, whose open acts. The link of a
/// descriptor (readlink of `/proc/PID/fd/N`, which the holder scan reads for every descriptor
/// anyway) reads `net:[INODE]` when the namespace was opened through `/proc/PID/ns/net`, and
/// otherwise the path of the bind mount it was opened through: `/run/netns/NAME` while the mount
/// stands, `/` once it is unmounted (`ip netns del`, `umount -l`), and a path of another mount
/// namespace for a mount made there, where this one may find a plain file, or nothing. So a link
/// that reads `net:[…]` names a network namespace, and one that reads a path (it begins with `/`)
/// may be one: the file is one of nsfs when stat (which follows the link and opens nothing) gives
/// nsfs's device, that of `/proc/self/ns/net`. The holder scan already stats every descriptor
/// whose link reads a path but `/dev/net/tun` (for tun nodes made elsewhere), so this costs it
/// nothing more; one that reads `/dev/net/tun` is stat'ed only when its fdinfo has no `iff:`
/// line, which the tun driver prints for each of its descriptors (a namespace file bound at
/// `/dev/net/tun` in another mount namespace reads so). Links that read `socket:[…]`,
/// `pipe:[…]` or `anon_inode:…` name no file of any filesystem and are passed over, but for
/// sockets: each keeps the namespace it was made in alive, which may be one no process runs in
/// (a daemon made a listener inside a container's namespace and went back to its own), and they
/// are noted for `SocketNamespaces` to ask. A path's namespace may be of another type (a mount namespace bound somewhere):
/// that is told once it is opened (`open`).
///
/// Only each process's main descriptor table (`/proc/PID/fd`) is read, by the holder scan and by
/// the reaper's last look alike: a thread that unshared its table (unshare(CLONE_FILES)) holds
/// descriptors only `/proc/PID/task/TID/fd` shows, and a namespace that only such a thread keeps
/// is out of reach, as is one kept by a descriptor in flight in an SCM_RIGHTS message.
struct NamespaceDescriptors {
    /// nsfs's device, or nil when `/proc/self/ns/net` cannot be looked at: only links that read
    /// `net:[…]` are taken then.
    let device: UInt64?
    let procRoot: String
    /// The descriptors (`/proc/PID/fd/N`) that open each namespace file, by its inode, in the
    /// order found: the first may be closed before it is opened.
    private(set) var paths: [UInt64: [Sys.Path]] = [:]
    /// The sockets the main tables hold, each of which keeps the namespace it was made in alive
    /// (`SocketNamespaces` asks which that is), in the order found.
    private(set) var sockets: [SocketNamespaces.Socket] = []

    init(procRoot: String) {
        self.procRoot = procRoot
        var device: UInt64?
        if case let .ok(identity) = Sys.fileIdentity("\(procRoot)/self/ns/net") { device = identity.device }
        self.device = device
    }

    /// Whether a descriptor whose link reads `target` may keep a namespace alive: a namespace
    /// file, or a socket.
    static func mayBeNamespace(_ target: String) -> Bool {
        target.hasPrefix("/") || target.hasPrefix("net:[") || target.hasPrefix("socket:[")
    }

    /// Takes the descriptor `number` of the process `pid`, whose link reads `target`, when that
    /// names a network namespace (`net:[INODE]`) or a socket (`socket:[INODE]`), or when its
    /// file's device, as stat told it, is nsfs's (`identity`, nil when not asked: it is then
    /// asked here).
    mutating func note(pid: String, number: String, target: String, identity: (device: UInt64, inode: UInt64)? = nil, relativeTo procDir: Int32 = AT_FDCWD) {
        if target.hasPrefix("/") {
            guard let device else { return }
            var known = identity
            if known == nil, case let .ok(stat) = Sys.isTunNode("\(pid)/fd/\(number)", relativeTo: procDir) { known = (stat.device, stat.inode) }
            guard let known, known.device == device else { return }
            paths[known.inode, default: []].append(Sys.Path("\(procRoot)/\(pid)/fd/\(number)"))
        } else if let inode = SocketSearch.socketInode(target) {
            guard let pid = Int32(pid), let fd = Int32(number) else { return }
            sockets.append(SocketNamespaces.Socket(pid: pid, fd: fd, inode: inode))
        } else if let inode = HolderScanner.namespaceInode(target) {
            paths[inode, default: []].append(Sys.Path("\(procRoot)/\(pid)/fd/\(number)"))
        }
    }

    /// Every namespace file kept open by a descriptor of a main table under `procRoot`, for a
    /// caller that has no holder scan to take them from (the reaper's last look): a readlink of
    /// each descriptor, and a stat of each whose link reads a path.
    static func walk(procRoot: String) -> NamespaceDescriptors {
        var found = NamespaceDescriptors(procRoot: procRoot)
        guard case let .ok(procDir) = Sys.openDirectory(procRoot) else { return found }
        defer { close(procDir) }
        guard case let .ok(entries) = Sys.listDirectory(path: procRoot) else { return found }
        for entry in entries where entry.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard case let .ok(descriptors) = Sys.listDirectory(path: "\(entry)/fd", relativeTo: procDir) else { continue }
            for descriptor in descriptors {
                guard case let .ok(target) = Sys.readLink("\(entry)/fd/\(descriptor)", relativeTo: procDir), mayBeNamespace(target) else { continue }
                found.note(pid: entry, number: descriptor, target: target, relativeTo: procDir)
            }
        }
        return found
    }

    /// What opening a descriptor of another process found.
    enum Opened {
        /// A descriptor of the network namespace, which the caller closes.
        case namespace(Int32)
        /// The descriptor is closed, or opens another file now (its number was reused).
        case gone
        /// The file is a namespace of another type.
        case otherType
        case failed(Int32)
    }

    /// Opens the namespace file with `inode` through `path`, another process's descriptor that
    /// opened it when it was noted. The process may have put another file under that number
    /// since, one whose open blocks or acts: the path is opened with O_PATH, which opens no file,
    /// and the file reached is opened for reading (setns refuses an O_PATH descriptor) through
    /// this process's own descriptor, and only when it is still the namespace file, by device and
    /// inode, each time.
    func open(_ path: Sys.Path, inode: UInt64) -> Opened {
        guard device != nil else { return .failed(ENODEV) }
        let pathOnly: Int32 = 0o10_000_000  // O_PATH (include/uapi/asm-generic/fcntl.h)
        let located = path.withCString { raw in Glibc.open(raw, pathOnly | O_CLOEXEC) }
        guard located >= 0 else {
            let code = errno
            return code == ENOENT || code == ESRCH ? .gone : .failed(code)
        }
        defer { close(located) }
        guard isNamespaceFile(located, inode: inode) else { return .gone }
        let opened: Int32
        switch Sys.openFile("\(procRoot)/self/fd/\(located)") {
        case let .ok(fd): opened = fd
        case let .failed(code): return .failed(code)
        }
        guard isNamespaceFile(opened, inode: inode) else {
            close(opened)
            return .gone
        }
        // NS_GET_NSTYPE (include/uapi/linux/nsfs.h): the namespace's CLONE_NEW* flag.
        let type = tw_ioctl_int(opened, 0xb703, 0)
        guard type == tw_clone_newnet() else {
            let code = errno
            close(opened)
            return type >= 0 ? .otherType : .failed(code)
        }
        return .namespace(opened)
    }

    /// Whether `fd` is open on nsfs's file with `inode`.
    private func isNamespaceFile(_ fd: Int32, inode: UInt64) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && UInt64(info.st_ino) == inode && UInt64(info.st_dev) == device
    }
}
#endif
