#if os(Linux)
import Foundation
import Glibc
import Testing
@testable import Inventory

/// How the look for namespaces only sockets keep meets holders in cgroup v1 `net_cls` and
/// `net_prio` groups (review diff36, finding 6). Groups of those controllers with a classid or a
/// priority map of their own, which a real test needs, turn off cgroup2 socket matching for the
/// whole host once set (`cgroup_sk_alloc_disable`), so the groups are given by the test (the reader
/// is injected) and the child is asked for real only with joins that change nothing.
/// Until session 37 a holder that exited before its groups were read, and every holder in other
/// groups than tunwarden's (each container of a runtime on cgroup v1), made the look incomplete,
/// so every reap gave up.
@Suite struct SocketNamespaceGroupsTests {
    typealias Socket = SocketNamespaces.Socket
    static let own = ["net_cls,net_prio": "/"]
    /// Whether this process is in some cgroup v1 hierarchy.
    static var onCgroupV1: Bool {
        ((try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? "").split(separator: "\n").contains { !$0.hasPrefix("0::") }
    }

    /// What the stand-in child was asked, call by call.
    final class Calls: @unchecked Sendable {
        var asked: [(sockets: [Socket], joins: [String])] = []
    }

    func find(_ sockets: [Socket], groups: @escaping (Int32) -> SocketNamespaces.Groups) -> (SocketNamespaces.Found, Calls) {
        let calls = Calls()
        let found = SocketNamespaces.find(sockets, known: [], own: Self.own, groups: groups,
                                          joins: { $0.sorted { $0.key < $1.key }.map { "/cg/\($0.key)\($0.value)/cgroup.procs" } },
                                          ask: { sockets, joins, _ in
                                              calls.asked.append((sockets, joins))
                                              return SocketNamespaces.Found()
                                          })
        return (found, calls)
    }

    /// A holder that exited before its groups were read holds nothing: it is not asked, and the
    /// look stays complete.
    @Test func aHolderThatExitedIsNoHolder() {
        let (found, calls) = find([Socket(pid: 10, fd: 3, inode: 100), Socket(pid: 11, fd: 4, inode: 101)]) { pid in
            pid == 10 ? .vanished : .groups(Self.own)
        }
        #expect(found.unread.isEmpty, "\(found.unread)")
        #expect(calls.asked.count == 1 && calls.asked.first?.sockets == [Socket(pid: 11, fd: 4, inode: 101)] && calls.asked.first?.joins == [])
    }

    /// A holder in other groups (a container's) is asked by a child that joins them first, so the
    /// copy gives its sockets the marks they have; tunwarden's own groups need no join.
    @Test func aHolderInOtherGroupsIsAskedFromThem() {
        let container = ["net_cls,net_prio": "/docker/abc"]
        let (found, calls) = find([Socket(pid: 11, fd: 4, inode: 101), Socket(pid: 12, fd: 5, inode: 102), Socket(pid: 12, fd: 6, inode: 103)]) { pid in
            .groups(pid == 12 ? container : Self.own)
        }
        #expect(found.unread.isEmpty, "\(found.unread)")
        #expect(calls.asked.count == 2)
        #expect(calls.asked.first?.joins == [] && calls.asked.first?.sockets.map(\.pid) == [11])
        #expect(calls.asked.last?.joins == ["/cg/net_cls,net_prio/docker/abc/cgroup.procs"] && calls.asked.last?.sockets.map(\.fd) == [5, 6])
    }

    /// The safety the check was written for holds: a holder that changed groups while asked (its
    /// sockets may have been given its former groups' marks), one whose groups cannot be read, and
    /// one whose groups cannot be joined, each leave the look incomplete.
    @Test func aHolderThatMovedOrCannotBeReadOrJoinedLeavesTheLookIncomplete() {
        var reads = 0
        let (moved, _) = find([Socket(pid: 12, fd: 5, inode: 102)]) { _ in
            reads += 1
            return .groups(["net_cls,net_prio": reads == 1 ? "/docker/abc" : "/docker/def"])
        }
        #expect(moved.unread.count == 1 && moved.unread.first?.contains("moved to other cgroup v1 net_cls or net_prio groups while their sockets were asked") == true,
                "\(moved.unread)")

        let (unreadable, calls) = find([Socket(pid: 13, fd: 5, inode: 102)]) { _ in .unreadable("Permission denied") }
        #expect(calls.asked.isEmpty)
        #expect(unreadable.unread.first?.contains("their cgroups cannot be read (Permission denied)") == true, "\(unreadable.unread)")

        let unjoinable = SocketNamespaces.find([Socket(pid: 14, fd: 5, inode: 102)], known: [], own: Self.own,
                                               groups: { _ in .groups(["net_cls,net_prio": "/docker/abc"]) }, joins: { _ in nil },
                                               ask: { _, _, _ in Issue.record("asked"); return SocketNamespaces.Found() })
        #expect(unjoinable.unread.first?.contains("not mounted where tunwarden can join them") == true, "\(unjoinable.unread)")
    }

    /// The `cgroup.procs` of a group, under its hierarchy's mount as /proc/self/mountinfo gives it
    /// (a line as Debian 11's systemd mounts net_cls and net_prio together); none under a mount
    /// of a subtree, whose paths are not the ones /proc/PID/cgroup gives.
    @Test func joinPathsComeFromTheHierarchysMount() {
        let mountinfo = """
        25 30 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        35 25 0:30 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,net_cls,net_prio
        36 25 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
        """
        #expect(SocketNamespaces.joinPaths(["net_cls,net_prio": "/docker/abc"], mountinfo: mountinfo) == ["/sys/fs/cgroup/net_cls,net_prio/docker/abc/cgroup.procs"])
        #expect(SocketNamespaces.joinPaths(["net_cls,net_prio": "/"], mountinfo: mountinfo) == ["/sys/fs/cgroup/net_cls,net_prio/cgroup.procs"])
        let subtree = mountinfo.replacingOccurrences(of: "0:30 / ", with: "0:30 /docker ")
        #expect(SocketNamespaces.joinPaths(["net_cls,net_prio": "/docker/abc"], mountinfo: subtree) == nil)
        #expect(SocketNamespaces.joinPaths(["net_cls,net_prio": "/../x"], mountinfo: mountinfo) == nil)
    }

    /// The real child, as root: it joins the groups it is given before any copy (here a cgroup v1
    /// group the test is in already, which changes nothing), and one it cannot join
    /// refuses every socket, taking no copy.
    @Test(.enabled(if: geteuid() == 0 && Self.onCgroupV1, "pidfd_getfd of another process needs root; a cgroup v1 hierarchy to join (none on a cgroup v2 host)"))
    func theChildJoinsFirstAndAsksNothingWhereItCannot() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var info = stat()
        try #require(fstat(fd, &info) == 0)
        let mine = Socket(pid: getpid(), fd: fd, inode: UInt64(info.st_ino))
        // A group the test is in already, of a cgroup v1 hierarchy mounted from its root.
        let cgroup = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        let here = try #require(cgroup.split(separator: "\n").lazy.compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] != "0" else { return nil }
            return SocketNamespaces.joinPaths([String(parts[1]): String(parts[2])], mountinfo: mountinfo)?.first
        }.first { FileManager.default.fileExists(atPath: $0) }, "no cgroup v1 hierarchy mounted from its root: \(cgroup)")

        let joined = SocketNamespaces.askChild([mine], joins: [here], known: [])
        #expect(joined.unread.isEmpty && joined.kept.count == 1, "\(joined.unread)")
        joined.kept.forEach { close($0.descriptor) }

        let refused = SocketNamespaces.askChild([mine], joins: ["/nonexistent/tunwarden-test/cgroup.procs"], known: [])
        #expect(refused.kept.isEmpty)
        #expect(refused.unread.first?.contains("joining its holder's cgroup v1 net_cls and net_prio groups (/nonexistent/tunwarden-test/cgroup.procs): No such file or directory") == true,
                "\(refused.unread)")
    }
}
#endif
