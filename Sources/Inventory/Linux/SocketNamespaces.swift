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
/// copy of its descriptor, pidfd_getfd: root, or CAP_SYS_PTRACE), by a child process
/// (`tw_socket_namespaces`), for the reasons `RawSockets.readDevice` gives; the namespaces already
/// known come back as nothing, the others as descriptors of them. A copy takes the receiver's
/// cgroup v1 `net_cls` classid and `net_prio` index (`__receive_sock`), which classify the
/// socket's packets: the sockets of holders in other such groups than tunwarden's (a container
/// runtime on cgroup v1 gives each container its own) are asked by a child that joins those groups
/// first, so that the copy gives each socket what it has. A holder that left its groups while
/// asked may have had its sockets given its former groups' marks, and is one that could not be
/// read; one that exited before its groups were read holds nothing. A socket that cannot be asked
/// (a kernel before 5.6, a Yama ptrace_scope of 3, a seccomp filter, groups that cannot be read or
/// joined) may keep a namespace no look reaches: it is one that could not be read, and the reaper
/// deletes nothing then.
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

    /// What a process's `/proc/PID/cgroup` tells of its cgroup v1 `net_cls` and `net_prio` groups.
    enum Groups: Equatable {
        /// The process has exited: it holds nothing.
        case vanished
        /// The file could not be read, for the reason given.
        case unreadable(String)
        /// Each hierarchy's controllers with the group's path (`RawSockets.classifierGroups`).
        case groups([String: String])
    }

    /// Asks `sockets` by a child that first joins the groups whose `cgroup.procs` files `joins`
    /// names, passing over the namespaces `known`; what it found (`askChild`).
    typealias Asker = (_ sockets: [Socket], _ joins: [String], _ known: [UInt64]) -> Found

    /// How long the child asking every socket may take, in milliseconds.
    static let answerTimeout: Int32 = 10_000

    /// The namespaces the `sockets` keep that are not among `known` (by inode). `own` is
    /// tunwarden's own groups (nil or empty: no cgroup v1 `net_cls` or `net_prio` is mounted, and
    /// a copy changes nothing), `groups` reads a holder's, `joins` gives the `cgroup.procs` files
    /// of a holder's groups (nil when one cannot be found).
    static func find(_ sockets: [Socket], known: Set<UInt64>, own: [String: String]? = SocketNamespaces.ownGroups(),
                     groups: (Int32) -> Groups = SocketNamespaces.groups(of:), joins: ([String: String]) -> [String]? = SocketNamespaces.joinPaths(_:),
                     ask: Asker = SocketNamespaces.askChild(_:joins:known:)) -> Found {
        var found = Found()
        // The sockets by the groups their holder is in (tunwarden's own: no joins).
        var batches: [[String: String]: [Socket]] = [:]
        var seenGroups: [Int32: [String: String]] = [:]
        var unreadable: [Int32] = []
        var reasons: [String] = []
        var decided: (pid: Int32, groups: [String: String]?)?
        for socket in sockets {
            if decided?.pid != socket.pid {
                switch own.map({ $0.isEmpty }) == false ? groups(socket.pid) : .groups(own ?? [:]) {
                case .vanished: decided = (socket.pid, nil)
                case let .unreadable(why):
                    unreadable.append(socket.pid)
                    if reasons.isEmpty { reasons.append(why) }
                    decided = (socket.pid, nil)
                case let .groups(theirs):
                    seenGroups[socket.pid] = theirs
                    decided = (socket.pid, theirs)
                }
            }
            if let theirs = decided?.groups { batches[theirs, default: []].append(socket) }
        }
        if !unreadable.isEmpty {
            found.unread.append("the namespaces the sockets of \(count(unreadable.count, "process")) were made in (pid \(sample(unreadable))): "
                + "their cgroups cannot be read (\(reasons.joined())), and asking would move their sockets into tunwarden's net_cls and net_prio groups (cgroup v1)")
        }
        var knownNow = known
        var unjoinable: [Int32] = [], moved: [Int32] = []
        // tunwarden's own groups first, then each other set, in a steady order.
        let mine = own ?? [:]
        for (theirs, batch) in batches.sorted(by: { ($0.key == mine ? "" : $0.key.description) < ($1.key == mine ? "" : $1.key.description) }) {
            let pids = Array(Set(batch.map(\.pid))).sorted()
            var paths: [String] = []
            if theirs != mine {
                guard let files = joins(theirs) else {
                    unjoinable += pids
                    continue
                }
                paths = files
            }
            let answer = ask(batch, paths, Array(knownNow))
            found.kept += answer.kept
            found.unread += answer.unread
            knownNow.formUnion(answer.kept.map(\.inode))
            // A holder that changed groups while its sockets were asked may have had them given
            // its former groups' marks by the copy: what it keeps is not to be trusted.
            if theirs != mine {
                moved += pids.filter { pid in
                    if case let .groups(now) = groups(pid) { return now != seenGroups[pid] }
                    return false
                }
            }
        }
        if !unjoinable.isEmpty {
            found.unread.append("the namespaces the sockets of \(count(unjoinable.count, "process")) were made in (pid \(sample(unjoinable))): "
                + "their cgroup v1 net_cls or net_prio groups differ from tunwarden's, and the hierarchy they are in is not mounted where tunwarden can join them")
        }
        if !moved.isEmpty {
            found.unread.append("the namespaces the sockets of \(count(moved.count, "process")) were made in (pid \(sample(moved))): "
                + "they moved to other cgroup v1 net_cls or net_prio groups while their sockets were asked, so what the copies found may not hold")
        }
        return found
    }

    /// tunwarden's own cgroup v1 `net_cls` and `net_prio` groups; nil when they cannot be read.
    static func ownGroups() -> [String: String]? {
        guard case let .ok(text) = Sys.readSmallFile("/proc/thread-self/cgroup") else { return nil }
        return RawSockets.classifierGroups(text)
    }

    /// Process `pid`'s cgroup v1 `net_cls` and `net_prio` groups.
    static func groups(of pid: Int32) -> Groups {
        switch Sys.readSmallFile("/proc/\(pid)/cgroup") {
        case let .ok(text): return .groups(RawSockets.classifierGroups(text))
        case let .failed(code) where code == ENOENT || code == ESRCH: return .vanished
        case let .failed(code): return .unreadable(Sys.describe(code))
        }
    }

    /// The `cgroup.procs` files of `groups` (hierarchy controllers to path), each under the mount
    /// of its hierarchy's root in this process's mount namespace (`/proc/self/mountinfo`); nil
    /// when a hierarchy is not mounted from its root.
    static func joinPaths(_ groups: [String: String]) -> [String]? {
        guard case let .ok(text) = Sys.readSmallFile("/proc/self/mountinfo") else { return nil }
        return joinPaths(groups, mountinfo: String(decoding: text, as: UTF8.self))
    }

    static func joinPaths(_ groups: [String: String], mountinfo: String) -> [String]? {
        var mounts: [(controllers: Set<Substring>, point: String)] = []
        for line in mountinfo.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " "), tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3, tail[0] == "cgroup", fields[3] == "/" else { continue }
            mounts.append((Set(tail[2].split(separator: ",")), String(fields[4])))
        }
        var paths: [String] = []
        for (hierarchy, path) in groups.sorted(by: { $0.key < $1.key }) {
            let wanted = Set(hierarchy.split(separator: ","))
            guard path.hasPrefix("/"), !path.split(separator: "/").contains(".."),
                  let mount = mounts.first(where: { wanted.isSubset(of: $0.controllers) }) else { return nil }
            paths.append(mount.point + (path == "/" ? "" : path) + "/cgroup.procs")
        }
        return paths
    }

    /// Asks `sockets` by one child process (`tw_socket_namespaces`) that joins `joins` first.
    static func askChild(_ sockets: [Socket], joins: [String], known: [UInt64]) -> Found {
        var found = Found()
        let total = Int32(sockets.count)
        var outFDs = [Int32](repeating: -1, count: sockets.count)
        var outInodes = [UInt64](repeating: 0, count: sockets.count)
        var outIndex = [Int32](repeating: 0, count: sockets.count)
        var outCount: Int32 = 0, refused: Int32 = 0, refusedIndex: Int32 = -1, stage: Int32 = 0, value: Int32 = 0
        let joinC = joins.map { strdup($0) }
        defer { joinC.forEach { free($0) } }
        let status = joinC.map { Optional(UnsafePointer($0!)) }.withUnsafeBufferPointer { paths in
            tw_socket_namespaces(total, sockets.map(\.pid), sockets.map(\.fd), sockets.map(\.inode), Int32(joins.count), paths.baseAddress,
                                 Int32(known.count), known, answerTimeout, &outFDs, &outInodes, &outIndex, &outCount, &refused, &refusedIndex, &stage, &value)
        }
        for n in 0..<Int(outCount) {
            found.kept.append(Kept(inode: outInodes[n], descriptor: outFDs[n], socket: sockets[Int(outIndex[n])]))
        }
        if status > 0 {
            found.unread.append("the namespaces sockets were made in (a process to ask them could not be started: \(Sys.describe(status)))")
        } else if status < 0 {
            found.unread.append("the namespaces sockets were made in (the process asking them gave no full answer within \(answerTimeout) ms)")
        }
        if refused > 0, refusedIndex >= 0, Int(refusedIndex) < sockets.count {
            let first = sockets[Int(refusedIndex)]
            let call: String
            switch stage {
            case 1: call = "pidfd_open"
            case 2: call = "pidfd_getfd"
            case 4: call = "joining its holder's cgroup v1 net_cls and net_prio groups (\(joins.joined(separator: ", ")))"
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
