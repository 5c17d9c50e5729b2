#if os(Linux)
import Foundation
import Glibc
import Testing
@testable import Inventory
import TunwardenCore

/// The pure parts of the /proc scan.
@Suite struct HolderParsingTests {
    @Test func attachedInterfaceComesFromTheIffLine() {
        let fdinfo = Array("pos:\t0\nflags:\t0100002\nmnt_id:\t26\nino:\t1046\niff:\tkure_tun\n".utf8)
        #expect(HolderScanner.attachedInterface(fdinfo: fdinfo) == "kure_tun")
        // An opened but unattached /dev/net/tun has no iff line.
        #expect(HolderScanner.attachedInterface(fdinfo: Array("pos:\t0\nflags:\t0100002\n".utf8)) == nil)
        // The kernel prints `iff:` with an empty name for a descriptor that is not attached.
        #expect(HolderScanner.attachedInterface(fdinfo: Array("pos:\t0\niff:\t\n".utf8)) == nil)
    }

    /// Every tun descriptor's fdinfo has an `iff:` line, empty when it is not attached; a
    /// namespace file's has none, which is how one that reads `/dev/net/tun` (bound there in
    /// another mount namespace) is told apart without a stat of every tun descriptor.
    @Test func everyTunDescriptorHasAnIffLine() {
        #expect(HolderScanner.hasInterfaceLine(fdinfo: Array("pos:\t0\nflags:\t02100002\nmnt_id:\t24\nino:\t104\niff:\t\n".utf8)))
        #expect(HolderScanner.hasInterfaceLine(fdinfo: Array("pos:\t0\niff:\tkure_tun\n".utf8)))
        #expect(!HolderScanner.hasInterfaceLine(fdinfo: Array("pos:\t0\nflags:\t02100000\nmnt_id:\t3\nino:\t4026531833\n".utf8)))
    }

    /// Which descriptor links may keep a namespace: `net:[INODE]`, any path (`/` once its bind
    /// mount is gone), or a socket (made in a namespace it keeps alive); never a pipe or an
    /// anonymous inode.
    @Test func namespaceFilesAreLookedForAmongPathsAndNetLinks() {
        for link in ["net:[4026532000]", "/", "/run/netns/a", "/tmp/x (deleted)", "socket:[123]"] { #expect(NamespaceDescriptors.mayBeNamespace(link), "\(link)") }
        for link in ["pipe:[9]", "anon_inode:[eventfd]", "mnt:[4026531841]"] { #expect(!NamespaceDescriptors.mayBeNamespace(link), "\(link)") }
    }

    /// A name is the kernel's bytes between `iff:\t` and the line's end, carried as the lossless
    /// text of `InterfaceName`: a byte that is not UTF-8 or a control byte is escaped, never
    /// replaced, and nothing else is trimmed.
    @Test func attachedInterfaceKeepsTheNamesExactBytes() {
        func fdinfo(_ name: [UInt8]) -> [UInt8] { Array("pos:\t0\nflags:\t0100002\niff:\t".utf8) + name + [0x0a] }
        #expect(HolderScanner.attachedInterface(fdinfo: fdinfo([0x7a, 0x7a, 0xff])) == "zz\\xff")
        #expect(HolderScanner.attachedInterface(fdinfo: fdinfo([0x61, 0x1b, 0x62])) == "a\\x1bb")
        #expect(HolderScanner.attachedInterface(fdinfo: fdinfo([0x61, 0x5c, 0x62])) == "a\\\\b")
        // The last line of a file need not end with a newline.
        #expect(HolderScanner.attachedInterface(fdinfo: Array("iff:\tkure".utf8)) == "kure")
    }

    @Test func namespaceLinksParse() {
        #expect(HolderScanner.namespaceInode("net:[4026531840]") == 4_026_531_840)
        #expect(HolderScanner.namespaceInode("mnt:[4026531840]") == nil)
        #expect(HolderScanner.namespaceInode("net:[x]") == nil)
    }

    /// A scan sees every process only from the initial PID namespace, through a /proc of it.
    @Test func aPIDNamespaceOtherThanTheHostsIsAProblem() {
        func problem(_ link: String?, _ status: String?) -> String? {
            HolderScanner.pidNamespaceProblem(namespaceLink: link, status: status.map { Array($0.utf8) }, procRoot: "/proc")
        }
        #expect(problem("pid:[4026531836]", "Name:\ttunwarden\nNSpid:\t4242\nUid:\t0\n") == nil)
        // Kernels before 4.1 print no NSpid: the namespace's inode decides.
        #expect(problem("pid:[4026531836]", "Name:\ttunwarden\n") == nil)
        // In a child namespace with its own /proc (`unshare -p -f --mount-proc`).
        let child = problem("pid:[4026532176]", "NSpid:\t3\n")
        #expect(child?.contains("PID namespace other than the host's (pid:[4026532176])") == true)
        // A /proc of an outer namespace lists the ids from there down to tunwarden's own.
        #expect(problem("pid:[4026531836]", "NSpid:\t9490\t3\n")?.contains("NSpid: 9490 3") == true)
        // A /proc in which tunwarden has no id of its own.
        #expect(problem(nil, nil)?.contains("cannot tell which PID namespace") == true)
        #expect(problem("net:[4026531836]", nil) != nil)
    }

    /// The detection reads the /proc it scans: one that says tunwarden runs in a child PID
    /// namespace makes the scan incomplete, with the reason and what to run instead.
    @Test func aScanOfAChildNamespacesProcIsIncomplete() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tw-proc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/self/ns", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/self/ns/pid", withDestinationPath: "pid:[4026532176]")
        try Data("Name:\ttunwarden\nNSpid:\t1\n".utf8).write(to: URL(fileURLWithPath: root + "/self/status"))
        let (scan, _) = HolderScanner(procRoot: root).scan(inspectedNamespace: 1)
        #expect(!scan.complete)
        #expect(scan.incompleteReason?.contains("PID namespace other than the host's") == true)
        #expect(scan.remedy?.contains("--pid=host") == true)
        #expect(scan.remedy?.contains("nsenter -t 1 -p -m") == true)

        try FileManager.default.removeItem(atPath: root + "/self/ns/pid")
        try FileManager.default.createSymbolicLink(atPath: root + "/self/ns/pid", withDestinationPath: "pid:[4026531836]")
        #expect(HolderScanner(procRoot: root).scan(inspectedNamespace: 1).0.complete)
    }

    @Test func namespaceNamesAreValidated() {
        #expect(throws: (any Error).self) { try LinuxInventory.validateNamespaceName("../etc") }
        #expect(throws: (any Error).self) { try LinuxInventory.validateNamespaceName("") }
        #expect(throws: Never.self) { try LinuxInventory.validateNamespaceName("blue") }
    }

    /// `/proc/net/packet`: sockets counted by the ifindex they are bound to; those bound to every
    /// device under 0 (they may hold memberships anywhere); a file without the Iface column is not read.
    @Test func packetSocketsAreCountedByTheirBoundDevice() {
        let text = """
        sk               RefCnt Type Proto  Iface R Rmem   User   Inode
        ffff8e1a0b3e2000 3      3    0003   7     1 0      0      61423
        ffff8e1a0b3e6800 3      3    0003   7     1 0      0      61424
        ffff8e1a0b3e7000 3      2    0800   12    1 0      101    61425
        ffff8e1a0b3e7800 3      3    0003   0     1 0      0      61426

        """
        #expect(PacketSockets.parse(text) == [7: 2, 12: 1, 0: 1])
        #expect(PacketSockets.parse("sk RefCnt Type Proto\n") == nil)
        #expect(PacketSockets.parse("sk RefCnt Type Proto  Iface R Rmem   User   Inode\n") == [:])
    }

    /// `/proc/net/igmp` as Linux 6.18 wrote it: a tap that is up holds 224.0.0.1 (the kernel's),
    /// and a socket joined 224.0.0.251 on it and on a tap that is down; only the socket's count.
    @Test func ipv4MembershipsBeyondTheKernelsOwnAreFound() {
        let text = """
        Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter
        1\tlo        :     1      V3
        \t\t\t\t010000E0     1 0:00000000\t\t0
        3\ttp1       :     2      V3
        \t\t\t\tFB0000E0     1 0:00000000\t\t0
        \t\t\t\t010000E0     1 0:00000000\t\t0
        4\ttp2       :     1      V3
        \t\t\t\tFB0000E0     1 0:00000000\t\t0

        """
        let words = { (text: String) in MulticastMemberships.parseIPv4(text).map { MulticastMemberships.words($0, autojoined: []) } }
        #expect(words(text) == [3: ["224.0.0.251"], 4: ["224.0.0.251"]])
        #expect(words(text.replacingOccurrences(of: "010000E0     1", with: "010000E0     2")) ==
                [1: ["224.0.0.1 (2 memberships, of which the kernel holds 1)"], 3: ["224.0.0.251", "224.0.0.1 (2 memberships, of which the kernel holds 1)"], 4: ["224.0.0.251"]])
        // An address configured with autojoin on tp2 holds its group through the kernel's socket.
        let parsed = MulticastMemberships.parseIPv4(text) ?? [:]
        #expect(MulticastMemberships.words(parsed, autojoined: [.init(index: 4, bytes: [224, 0, 0, 251])]) == [3: ["224.0.0.251"]])
        #expect(MulticastMemberships.parseIPv4("Idx\tDevice\n\t\t\t\tFB0000E0     1 0:00000000\t\t0\n") == nil)
    }

    /// `/proc/net/igmp6` as Linux 6.18 wrote it for a forwarding tap with addresses (all-nodes,
    /// all-routers and solicited-node groups: the kernel's) and a tap a socket joined ff02::fb on.
    /// The groups the kernel joins on every device itself, and nothing else, are the kernel's,
    /// wherever the group's bytes lie in a message.
    @Test func theKernelsOwnIPv6GroupsAreKnownInPlace() {
        func group(_ text: String) -> [UInt8] { IPAddress(text)!.bytes }
        let kernels = ["ff02::1", "ff01::1", "ff02::2", "ff01::2", "ff05::2", "ff02::1:ff00:1", "ff02::1:ffab:cdef"]
        let sockets = ["ff05::1", "ff02::fb", "ff02::1:2", "ff02::1:3", "ff02::1:fe00:1", "ff12::1", "ff02::101", "fe02::1", "ff02:0:0:1::1",
                       "ff05::1:3", "ff02::3", "ff0e::2"]
        for (texts, expected) in [(kernels, true), (sockets, false)] {
            for text in texts {
                let bytes = group(text)
                #expect(MulticastMemberships.kernelGroup(bytes) == expected, "\(text)")
                let embedded = [0xff, 0x02] + bytes + [1]
                #expect(MulticastMemberships.kernelGroup(embedded[2..<18]) == expected, "\(text) in place")
            }
        }
        #expect(!MulticastMemberships.kernelGroup(group("ff02::1")[...].dropLast()))
        // In IPv4 the kernel's own is all-hosts, 224.0.0.1.
        #expect(MulticastMemberships.kernelGroup([224, 0, 0, 1]) && !MulticastMemberships.kernelGroup([224, 0, 0, 251]))
    }

    @Test func ipv6MembershipsBeyondTheKernelsOwnAreFound() {
        let text = """
        1    lo              ff020000000000000000000000000001     1 0000000C 0
        2    tp0             ff0200000000000000000001ff000000     2 00000004 0
        2    tp0             ff050000000000000000000000000002     1 00000004 0
        2    tp0             ff010000000000000000000000000002     1 00000008 0
        2    tp0             ff020000000000000000000000000002     1 00000004 0
        2    tp0             ff0200000000000000000001ff000002     1 00000004 0
        2    tp0             ff020000000000000000000000000001     1 0000000C 0
        2    tp0             ff010000000000000000000000000001     1 00000008 0
        3    tp1             ff0200000000000000000000000000fb     1 00000004 0
        3    tp1             ff020000000000000000000000000001     1 0000000C 0
        3    tp1             ff010000000000000000000000000001     2 00000008 0

        """
        #expect(MulticastMemberships.parseIPv6(text).map { MulticastMemberships.words($0, autojoined: []) } == [3: ["ff02::fb", "ff01::1 (2 memberships, of which the kernel holds 1)"]])
        #expect(MulticastMemberships.parseIPv6("2    tp0             ff05000000000000000000000000000     1 00000004 0\n") == nil)
    }
}
#endif
