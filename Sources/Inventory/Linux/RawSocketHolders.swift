#if os(Linux)
import CLinuxShims
import Glibc
import Netlink
import TunwardenCore

/// Asking a raw or ping socket's holder which device the socket is bound to: the holder's
/// descriptor is copied (pidfd_getfd) and asked SO_BINDTOIFINDEX, and /proc is searched for
/// the processes that hold the sockets the kernel lists.
extension RawSockets {
    /// The inode of the network namespace behind `namespaceFD`, or of this thread's (as
    /// `procRoot` shows it) for nil; nil when it cannot be told.
    static func namespaceInode(namespaceFD: Int32?, procRoot: String) -> UInt64? {
        if let namespaceFD {
            guard case let .ok(inode) = Sys.statDescriptor(namespaceFD) else { return nil }
            return inode
        }
        guard case let .ok(link) = Sys.readLink("\(procRoot)/thread-self/ns/net") else { return nil }
        return HolderScanner.namespaceInode(link)
    }

    /// Which device the socket behind `descriptor` is bound to, from a copy of the descriptor
    /// (pidfd_open, pidfd_getfd: the right to ptrace-attach to the process) and getsockopt
    /// SO_BINDTOIFINDEX on it, taken and asked by a child process (`tw_ask_bound_device`): the
    /// process could swap the descriptor for a file on a FUSE mount whose server never answers,
    /// and closing or even looking at a copy of that would hold up whoever took it, for good.
    /// A copy that is not of the socket with the descriptor's inode (the process closed it and
    /// opened another, or exited and its pid went to another) is `gone`; no answer within
    /// `answerTimeout` is a refusal. Refused, before any copy is taken, where taking one would
    /// change the socket: see `classifierChange`.
    public static let readDevice: DeviceReader = { descriptor in
        if let change = classifierChange(descriptor) { return .refused(change) }
        var stage: Int32 = 0, value: Int32 = 0
        let status = tw_ask_bound_device(descriptor.pid, descriptor.thread ?? 0, descriptor.fd, descriptor.inode,
                                         answerTimeout, &stage, &value)
        switch status {
        case 0: return .bound(Int(value))
        case 1: return .gone
        case 3: return .refused("the process that asks it gave no answer within \(answerTimeout) ms")
        default:
            switch stage {
            case 1: return .refused("pidfd_open\(descriptor.thread == nil ? "" : " (PIDFD_THREAD, Linux 6.9)"): \(Sys.describe(value))")
            case 2:
                let hint = value == EPERM || value == EACCES
                    ? " (it needs the right to ptrace-attach to the process: root or CAP_SYS_PTRACE, under a Yama ptrace_scope below 3 and a seccomp filter that allows pidfd_getfd)"
                    : value == ENOSYS ? " (Linux 5.6 or later has it)" : ""
                return .refused("pidfd_getfd: \(Sys.describe(value))\(hint)")
            case 3: return .refused("getsockopt SO_BINDTOIFINDEX: \(Sys.describe(value))")
            default: return .refused("a process to ask it could not be started: \(Sys.describe(value))")
            }
        }
    }

    /// How long the child asking a socket's device may take, in milliseconds.
    static let answerTimeout: Int32 = 2_000

    /// Why a copy of `descriptor` must not be taken, or nil when it may: receiving a socket
    /// (pidfd_getfd, like SCM_RIGHTS) moves it into the receiver's cgroup v1 `net_cls` and
    /// `net_prio` groups (`__receive_sock`), which classify its packets (tc, iptables `-m
    /// cgroup`). Where those controllers are mounted and the holder is in other groups of them
    /// than tunwarden, or its groups cannot be read, the copy would change the socket. A process
    /// that has exited is asked all the same, and found gone.
    static func classifierChange(_ descriptor: SocketDescriptor) -> String? {
        guard case let .ok(own) = Sys.readSmallFile("/proc/thread-self/cgroup") else { return nil }
        let mine = classifierGroups(own)
        guard !mine.isEmpty else { return nil }
        let task = descriptor.thread.map { "/proc/\(descriptor.pid)/task/\($0)" } ?? "/proc/\(descriptor.pid)"
        let theirs: [UInt8]
        switch Sys.readSmallFile("\(task)/cgroup") {
        case let .ok(text): theirs = text
        // Exited: the ask finds it gone, and no copy is taken.
        case let .failed(code) where code == ENOENT || code == ESRCH: return nil
        case .failed:
            return "its cgroups cannot be read, and taking a copy of its descriptor would move the socket into tunwarden's net_cls and net_prio groups (cgroup v1)"
        }
        let groups = classifierGroups(theirs)
        guard groups == mine else {
            return "it is in other net_cls or net_prio groups (cgroup v1) than tunwarden, and taking a copy of its descriptor would move the socket into tunwarden's, changing how its packets are classified"
        }
        return nil
    }

    /// The cgroup v1 hierarchies of `net_cls` and `net_prio` in the text of a
    /// `/proc/PID/cgroup` (`7:net_cls,net_prio:/path`), each as its line's controllers and path;
    /// none where neither is mounted (cgroup v2 alone).
    static func classifierGroups(_ text: [UInt8]) -> [String: String] {
        var groups: [String: String] = [:]
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let controllers = parts[1].split(separator: ",")
            if controllers.contains("net_cls") || controllers.contains("net_prio") { groups[String(parts[1])] = String(parts[2]) }
        }
        return groups
    }
}

/// A search of /proc for the processes that hold some sockets, asking each descriptor found
/// which device its socket is bound to.
struct SocketSearch {
    var procRoot: String
    /// The inode of the inspected namespace: its processes, most likely to hold its sockets, are
    /// searched first.
    var namespaceInode: UInt64?
    var readDevice: RawSockets.DeviceReader
    /// A socket, by inode, in words.
    var describe: (UInt64) -> String

    /// What the search gave: the device of each socket found, with the descriptor that said it;
    /// the sockets no descriptor answered for; and the processes whose descriptors could not be
    /// read, with the last errno.
    struct Result {
        var found: [UInt64: (index: Int, holder: RawSockets.SocketDescriptor)] = [:]
        var missing: Set<UInt64> = []
        var unreadable: [Int32] = []
        var unreadableErrno: Int32 = 0
    }

    /// The devices of the sockets `inodes`, searched in every process's descriptor table, then,
    /// for those not found there, in the tables threads have of their own; each process's table
    /// read only until every socket has an answer. Fails when a descriptor refuses to say.
    func devices(of inodes: Set<UInt64>) -> Swift.Result<Result, SocketUse.Unreadable> {
        var result = Result()
        var remaining = inodes
        guard case let .ok(procDir) = Sys.openDirectory(procRoot) else {
            return .failure(SocketUse.Unreadable(description: "\(procRoot) cannot be opened to find who holds a raw or ping socket"))
        }
        defer { close(procDir) }
        guard case let .ok(entries) = Sys.listDirectory(path: procRoot) else {
            return .failure(SocketUse.Unreadable(description: "\(procRoot) cannot be listed to find who holds a raw or ping socket"))
        }
        var first: [Int32] = [], later: [Int32] = []
        for pid in entries.compactMap({ Int32($0) }) where pid > 0 {
            if let namespaceInode, HolderScanner.namespace(of: "\(pid)", procDir: procDir) == namespaceInode { first.append(pid) } else { later.append(pid) }
        }
        let pids = first + later

        /// Searches the table of `pid` (of its thread `thread`); a refusal ends the search.
        func search(_ pid: Int32, thread: Int32?) -> SocketUse.Unreadable? {
            let task = thread.map { "\(pid)/task/\($0)" } ?? "\(pid)"
            func refused(_ code: Int32) {
                guard code != ENOENT, code != ESRCH else { return }
                if result.unreadable.last != pid { result.unreadable.append(pid) }
                result.unreadableErrno = code
            }
            let descriptors: [String]
            switch Sys.listDirectory(path: "\(task)/fd", relativeTo: procDir) {
            case let .ok(names): descriptors = names
            case let .failed(code):
                refused(code)
                return nil
            }
            var comm: String?
            for descriptor in descriptors {
                let target: String
                switch Sys.readLink("\(task)/fd/\(descriptor)", relativeTo: procDir) {
                case let .ok(link): target = link
                case let .failed(code) where code == ENOENT:
                    continue
                case let .failed(code):
                    refused(code)
                    return nil
                }
                guard let inode = Self.socketInode(target), remaining.contains(inode), let fd = Int32(descriptor) else { continue }
                let name = comm ?? HolderScanner.comm("\(pid)", procDir: procDir)
                comm = name
                let holder = RawSockets.SocketDescriptor(pid: pid, thread: thread, fd: fd, inode: inode, comm: name)
                switch readDevice(holder) {
                case let .bound(index):
                    result.found[inode] = (index, holder)
                    remaining.remove(inode)
                    if remaining.isEmpty { return nil }
                case .gone:
                    continue
                case let .refused(reason):
                    return SocketUse.Unreadable(description: "\(describe(inode)) of \(name)[\(pid)] cannot be asked which device it is bound to: \(reason)")
                }
            }
            return nil
        }

        for pid in pids where !remaining.isEmpty {
            if let refusal = search(pid, thread: nil) { return .failure(refusal) }
        }
        // Only a process with more than one thread can have more than one table (see
        // `HolderScanner`).
        for pid in pids where !remaining.isEmpty {
            guard case let .ok(links) = Sys.linkCount("\(pid)/task", relativeTo: procDir), links > 3,
                  case let .ok(names) = Sys.listDirectory(path: "\(pid)/task", relativeTo: procDir) else { continue }
            for thread in names.compactMap({ Int32($0) }) where thread != pid && !remaining.isEmpty {
                if let refusal = search(pid, thread: thread) { return .failure(refusal) }
            }
        }
        result.missing = remaining
        return .success(result)
    }

    /// `socket:[2379939]` → 2379939; nil for a link to anything else.
    static func socketInode(_ link: String) -> UInt64? {
        guard link.hasPrefix("socket:["), link.hasSuffix("]") else { return nil }
        return UInt64(link.dropFirst(8).dropLast())
    }
}
#endif
