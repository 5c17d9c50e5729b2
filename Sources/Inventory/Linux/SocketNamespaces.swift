#if os(Linux)
import CLinuxShims
import Glibc
import TunwardenCore

/// The network namespaces that only sockets keep alive. Every socket holds the namespace it was
/// made in, whichever namespace its process runs in afterwards: a daemon that enters a
/// container's namespace, makes a listener there and goes back (systemd's socket units with
/// `PrivateNetwork=`, pasta, slirp4netns) keeps that namespace with nothing else, and a link made
/// straight into it (`ip link add link tap0 … netns B`) goes with the tap unseen unless it is
/// found so.
///
/// Each socket of a main descriptor table is asked which namespace it was made in (SIOCGSKNS on a
/// copy of its descriptor, pidfd_getfd: root, or CAP_SYS_PTRACE), all by one child process
/// (`tw_socket_namespaces`), for the reasons `RawSockets.readDevice` gives; the namespaces already
/// known come back as nothing, the others as descriptors of them. A socket that cannot be asked
/// (a kernel before 5.6, a Yama ptrace_scope of 3, a seccomp filter, a holder in other cgroup v1
/// `net_cls` or `net_prio` groups, which a copy would move it out of) may keep a namespace no
/// look reaches: it is one that could not be read, and the reaper deletes nothing then.
enum SocketNamespaces {
    /// One socket descriptor of a main table.
    struct Socket: Equatable {
        var pid: Int32
        var fd: Int32
        var inode: UInt64
    }

    /// A namespace a socket keeps, open as `descriptor` (which the caller closes).
    struct Kept {
        var inode: UInt64
        var descriptor: Int32
        var socket: Socket
    }

    /// What asking the sockets found: the namespaces not `known` they keep, and what keeps others
    /// from being known.
    struct Found {
        var kept: [Kept] = []
        var unread: [String] = []
    }

    /// How long the child asking every socket may take, in milliseconds.
    static let answerTimeout: Int32 = 10_000

    /// The namespaces the `sockets` keep that are not among `known` (by inode).
    static func find(_ sockets: [Socket], known: Set<UInt64>) -> Found {
        var found = Found()
        var asked: [Socket] = []
        var moved: [Int32] = []
        // Each process's groups are read once (its sockets are noted together).
        var decided: (pid: Int32, ask: Bool)?
        for socket in sockets {
            if decided?.pid != socket.pid {
                let descriptor = RawSockets.SocketDescriptor(pid: socket.pid, thread: nil, fd: socket.fd, inode: socket.inode, comm: "")
                let ask = RawSockets.classifierChange(descriptor) == nil
                if !ask { moved.append(socket.pid) }
                decided = (socket.pid, ask)
            }
            if decided?.ask == true { asked.append(socket) }
        }
        if !moved.isEmpty {
            found.unread.append("the namespaces the sockets of \(count(moved.count, "process")) were made in (pid \(sample(moved))): "
                + "their cgroup v1 net_cls or net_prio groups differ from tunwarden's, and asking would move their sockets into tunwarden's")
        }
        guard !asked.isEmpty else { return found }
        let total = Int32(asked.count)
        let known = Array(known)
        var outFDs = [Int32](repeating: -1, count: asked.count)
        var outInodes = [UInt64](repeating: 0, count: asked.count)
        var outIndex = [Int32](repeating: 0, count: asked.count)
        var outCount: Int32 = 0, refused: Int32 = 0, refusedIndex: Int32 = -1, stage: Int32 = 0, value: Int32 = 0
        let status = tw_socket_namespaces(total, asked.map(\.pid), asked.map(\.fd), asked.map(\.inode), Int32(known.count), known, answerTimeout,
                                          &outFDs, &outInodes, &outIndex, &outCount, &refused, &refusedIndex, &stage, &value)
        for n in 0..<Int(outCount) {
            found.kept.append(Kept(inode: outInodes[n], descriptor: outFDs[n], socket: asked[Int(outIndex[n])]))
        }
        if status > 0 {
            found.unread.append("the namespaces sockets were made in (a process to ask them could not be started: \(Sys.describe(status)))")
        } else if status < 0 {
            found.unread.append("the namespaces sockets were made in (the process asking them gave no full answer within \(answerTimeout) ms)")
        }
        if refused > 0, refusedIndex >= 0, Int(refusedIndex) < asked.count {
            let first = asked[Int(refusedIndex)]
            let call: String
            switch stage {
            case 1: call = "pidfd_open"
            case 2: call = "pidfd_getfd"
            default: call = "SIOCGSKNS"
            }
            let hint = stage == 2 && (value == EPERM || value == EACCES)
                ? " (it needs the right to ptrace-attach to the process: root or CAP_SYS_PTRACE, under a Yama ptrace_scope below 3 and a seccomp filter that allows pidfd_getfd)"
                : value == ENOSYS ? " (Linux 5.6 or later has pidfd_getfd)" : ""
            found.unread.append("the namespaces of \(count(Int(refused), "socket")) that could not be asked which they were made in "
                + "(socket:[\(first.inode)] of pid \(first.pid)\(refused > 1 ? " and others" : ""): \(call): \(Sys.describe(value))\(hint))")
        }
        return found
    }

    private static func count(_ number: Int, _ noun: String) -> String {
        number == 1 ? "1 \(noun)" : "\(number) \(noun)\(noun.hasSuffix("s") ? "es" : "s")"
    }

    private static func sample(_ pids: [Int32]) -> String {
        pids.prefix(3).map(String.init).joined(separator: ", ") + (pids.count > 3 ? ", …" : "")
    }
}
#endif
