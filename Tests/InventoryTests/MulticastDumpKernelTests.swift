#if os(Linux)
import Foundation
import Glibc
import Netlink
import Testing
@testable import Inventory
import TestSupport

/// IPv4 multicast memberships from the kernel's RTM_GETMULTICAST dump (Linux 6.13 and later),
/// against the real kernel, as root, in a throwaway namespace: a group a socket joined on a tap
/// is found, the kernel's own 224.0.0.1 is not a socket's, and an answer that lists no group at
/// all (every device down) is not taken for "no memberships": the file is read then.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct MulticastDumpKernelTests {
    @Test func aSocketsIPv4GroupComesFromTheDump() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "twmc0", "mode", "tap")
        try ns.ip("link", "set", "lo", "down")
        let fd = open("/run/netns/\(ns.name)", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: fd))
        guard case .success = MulticastMemberships.dumpedGroups(family: 10, client: client) else {
            Issue.record("no IPv6 multicast dump here")
            return
        }
        // Every device down: no group listed, so the dump is not relied on.
        guard case .failure = MulticastMemberships.dumpedGroups(family: 2, client: client) else {
            Issue.record("an empty IPv4 dump was taken for an answer")
            return
        }
        try ns.ip("link", "set", "lo", "up")
        try ns.ip("link", "set", "twmc0", "up")
        guard case let .success(none) = MulticastMemberships.dumpedGroups(family: 2, client: client) else {
            // A kernel before 6.13 has no IPv4 dump; `/proc/net/igmp` is read there (HolderParsingTests).
            FileHandle.standardError.write(Data("aSocketsIPv4GroupComesFromTheDump: no IPv4 multicast dump on this kernel; untested\n".utf8))
            return
        }
        #expect(none.isEmpty, "224.0.0.1 taken for a socket's: \(none)")
        try ns.python("""
        import socket, struct, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack("4s4si", socket.inet_aton("239.7.7.7"), bytes(4), socket.if_nametoindex("twmc0")))
        print("ready", flush=True)
        time.sleep(60)
        """)
        let index = try #require(try if_nametoindexIn(ns, "twmc0"))
        guard case let .success(found) = MulticastMemberships.dumpedGroups(family: 2, client: client) else {
            Issue.record("the IPv4 dump failed once a group was joined")
            return
        }
        #expect(found[index]?.map { "\($0.group)" } == ["239.7.7.7"], "\(found)")
        let words = try MulticastMemberships.socketGroups(namespaceFD: fd, procRoot: "/proc").get()
        #expect(words[index] == ["239.7.7.7"], "\(words)")
    }

    /// The ifindex of `name` in `ns`, from `ip -j link`.
    func if_nametoindexIn(_ ns: TestNamespace, _ name: String) throws -> Int? {
        let json = try ns.ip("-j", "link", "show", "dev", name)
        let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return links.first?["ifindex"] as? Int
    }
}
#endif
