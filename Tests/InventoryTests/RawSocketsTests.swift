#if os(Linux)
import Foundation
import Glibc
import Netlink
import Testing
@testable import Inventory
import TunwardenCore

/// Raw and ping sockets from the kernel's `/proc/net/raw`, `raw6`, `icmp` and `icmp6`, with the
/// device each is bound to asked of the descriptor a process holds. The listings are lines Linux
/// 6.18 wrote (x86_64, little-endian, as every address below is read); the processes are a /proc
/// made in a temporary directory, and the descriptor answers whatever each test says, so no
/// privilege is needed.
@Suite struct RawSocketsTests {
    static let rawText = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
         184: 0100630A:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2379945 2 0000000090e6fdc0 0
         225: 00000000:0070 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2379939 2 000000007657759d 0

        """
    static let raw6Text = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
           85: 00000000000000000000000000000000:0059 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2379946 2 00000000735cbb02 0
          186: 00000000000000000000000000000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2379940 2 000000002dc698ba 0

        """
    // The kernel pads the icmp listing's lines with spaces.
    static let icmpText = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n"
        + "   42: 0100630A:2DA3 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2379943 2 00000000d6e89506 0       \n"
    static let icmp6Text = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
           43: 990000FD000000000000000001000000:2DA4 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2379944 2 000000007a9f3545 0

        """
    static let fd0099 = [0xfd, 0, 0, 0x99] + [UInt8](repeating: 0, count: 11) + [1]

    /// Each listing's sockets: the local address in network order, a raw socket's protocol (its
    /// port column) and the inode.
    @Test func theListingsGiveEachSocketsAddressProtocolAndInode() throws {
        let raw = try RawSockets.parse(Array(Self.rawText.utf8), listing: .raw).get()
        #expect(raw == [RawSockets.Listed(listing: .raw, number: 1, localAddress: [10, 99, 0, 1], inode: 2_379_945),
                        RawSockets.Listed(listing: .raw, number: 112, localAddress: [0, 0, 0, 0], inode: 2_379_939)])
        let raw6 = try RawSockets.parse(Array(Self.raw6Text.utf8), listing: .raw6).get()
        #expect(raw6.map(\.number) == [89, 58] && raw6.map(\.inode) == [2_379_946, 2_379_940])
        #expect(raw6.allSatisfy { $0.localAddress == [UInt8](repeating: 0, count: 16) })
        let icmp = try RawSockets.parse(Array(Self.icmpText.utf8), listing: .icmp).get()
        #expect(icmp == [RawSockets.Listed(listing: .icmp, number: 0x2da3, localAddress: [10, 99, 0, 1], inode: 2_379_943)])
        let icmp6 = try RawSockets.parse(Array(Self.icmp6Text.utf8), listing: .icmp6).get()
        #expect(icmp6 == [RawSockets.Listed(listing: .icmp6, number: 0x2da4, localAddress: Self.fd0099, inode: 2_379_944)])
        // A listing with no socket, as a namespace without any has.
        #expect(try RawSockets.parse(Array(Self.rawText.split(separator: "\n")[0].utf8) + [10], listing: .raw).get().isEmpty)
    }

    /// What is not the kernel's layout is not understood, and says so: never a crash, never a
    /// listing read as if it had fewer sockets.
    @Test func aListingOfAnotherShapeIsNotUnderstood() {
        func problem(_ text: String, _ listing: RawSockets.Listing = .raw) -> String? {
            if case let .failure(problem) = RawSockets.parse(Array(text.utf8), listing: listing) { return problem.description }
            return nil
        }
        let header = String(Self.rawText.split(separator: "\n")[0])
        let line = String(Self.rawText.split(separator: "\n")[1])
        #expect(problem("") != nil, "no header")
        #expect(problem("sl local_address rem_address st\n" + line) != nil, "no inode column")
        #expect(problem(header + "\n" + line.replacingOccurrences(of: " 2379945 ", with: " 23x9945 "))?.contains("a line not understood") == true)
        // An IPv6 address in an IPv4 listing, and the other way round.
        #expect(problem(Self.raw6Text, .raw) != nil)
        #expect(problem(Self.rawText, .raw6) != nil)
        #expect(problem(header + "\n" + line.replacingOccurrences(of: "0100630A:0001", with: "0100630G:0001")) != nil, "not hex")
        #expect(problem(header + "\n" + line.replacingOccurrences(of: "0100630A:0001", with: "0100630A")) != nil, "no port")
        #expect(problem(header + "\n" + line.replacingOccurrences(of: " 184:", with: " 184")) != nil, "no slot")
        #expect(problem(header + "\n   1: 0100630A:0001 00000000:0000 07") != nil, "cut short")
        // Every cut of a real listing is read or refused, whole lines or not.
        for text in [Self.rawText, Self.raw6Text, Self.icmpText, Self.icmp6Text] {
            let bytes = Array(text.utf8)
            for end in 0...bytes.count {
                _ = RawSockets.parse(Array(bytes[..<end]), listing: text == Self.rawText ? .raw : text == Self.raw6Text ? .raw6 : text == Self.icmpText ? .icmp : .icmp6)
            }
        }
        // Bytes that are not text at all.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let noise = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = RawSockets.parse(noise, listing: .raw6)
        }
    }

    /// A socket's device is asked of a copy of its holder's descriptor, taken by a child
    /// process: a socket bound to lo answers lo's index; a descriptor that holds something else
    /// than the socket named (a file put in its place, as a FUSE file could be, which nothing
    /// here may touch) or nothing at all is gone.
    @Test(.enabled(if: getuid() == 0, "copying another process's descriptor needs root (this one's parent, as the child sees it)"))
    func theDeviceIsAskedOfACopyTheChildTakes() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var index: Int32 = 1
        try #require(setsockopt(socket, SOL_SOCKET, 62, &index, socklen_t(MemoryLayout<Int32>.size)) == 0)
        var status = stat()
        try #require(fstat(socket, &status) == 0)
        let inode = UInt64(status.st_ino)
        let pid = getpid()
        #expect(RawSockets.readDevice(.init(pid: pid, fd: socket, inode: inode, comm: "t")) == .bound(1))
        let file = open("/dev/null", O_RDONLY)
        defer { close(file) }
        #expect(RawSockets.readDevice(.init(pid: pid, fd: file, inode: inode, comm: "t")) == .gone)
        #expect(RawSockets.readDevice(.init(pid: pid, fd: 4000, inode: inode, comm: "t")) == .gone)
        #expect(RawSockets.readDevice(.init(pid: pid, fd: socket, inode: inode + 1, comm: "t")) == .gone)
    }

    /// A listing read twice (a socket that closed meanwhile made one fall out of a pass, or
    /// come twice) keeps each socket once.
    @Test func eachSocketIsTakenOnceWhateverThePasses() {
        let a = RawSockets.Listed(listing: .icmp, number: 1, localAddress: [0, 0, 0, 0], inode: 7)
        let b = RawSockets.Listed(listing: .icmp, number: 2, localAddress: [0, 0, 0, 0], inode: 8)
        var changed = a
        changed.number = 9
        #expect(RawSockets.oncePerInode([a, b, changed, b]) == [a, b])
    }

    @Test func aSocketIsNamedByWhatItIs() {
        #expect(RawSockets.describe(RawSockets.Listed(listing: .raw, number: 112, localAddress: [0, 0, 0, 0], inode: 1)) == "a raw IPv4 socket (protocol 112, VRRP)")
        #expect(RawSockets.describe(RawSockets.Listed(listing: .raw6, number: 58, localAddress: [], inode: 1)) == "a raw IPv6 socket (protocol 58, ICMPv6)")
        #expect(RawSockets.describe(RawSockets.Listed(listing: .raw, number: 200, localAddress: [], inode: 1)) == "a raw IPv4 socket (protocol 200)")
        #expect(RawSockets.describe(RawSockets.Listed(listing: .icmp, number: 7, localAddress: [], inode: 1)) == "an ICMP echo (ping) socket")
        #expect(RawSockets.describe(RawSockets.Listed(listing: .icmp6, number: 7, localAddress: [], inode: 1)) == "an ICMPv6 echo (ping) socket")
    }

    /// A cgroup v1 `net_cls`/`net_prio` hierarchy is what a copy of a descriptor would change.
    @Test func theClassifierGroupsAreTheNetClsAndNetPrioLines() {
        let hybrid = Array("9:name=systemd:/\n8:net_cls,net_prio:/vpn\n4:memory:/a\n0::/\n".utf8)
        #expect(RawSockets.classifierGroups(hybrid) == ["net_cls,net_prio": "/vpn"])
        #expect(RawSockets.classifierGroups(Array("0::/system.slice/keepalived.service\n".utf8)).isEmpty)
        #expect(RawSockets.classifierGroups(Array("3:net_prio:/\n2:net_cls:/x\n".utf8)) == ["net_prio": "/", "net_cls": "/x"])
    }

    /// A /proc in a temporary directory: this namespace's listings under `thread-self/net`, and
    /// processes whose descriptors link to sockets.
    final class FakeProc: @unchecked Sendable {
        let root: String
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("tw-rawproc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
            try FileManager.default.createDirectory(atPath: root + "/thread-self/net", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/thread-self/ns", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root + "/thread-self/ns/net", withDestinationPath: "net:[4026532999]")
            for listing in RawSockets.Listing.allCases { try list(listing, "") }
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        /// Writes a listing: the header of `text`'s kind and its lines.
        func list(_ listing: RawSockets.Listing, _ lines: String) throws {
            let header = String((listing == .raw || listing == .icmp ? RawSocketsTests.rawText : RawSocketsTests.raw6Text).split(separator: "\n")[0])
            try Data((header + "\n" + lines).utf8).write(to: URL(fileURLWithPath: "\(root)/thread-self/net/\(listing.rawValue)"))
        }

        /// A process `pid` named `comm` in namespace `namespace` whose descriptors link to
        /// `links` (fd: target).
        func process(_ pid: Int32, _ comm: String, namespace: UInt64 = 4_026_532_999, _ links: [Int32: String], thread: Int32? = nil) throws {
            let base = "\(root)/\(pid)"
            try FileManager.default.createDirectory(atPath: base + "/ns", withIntermediateDirectories: true)
            try? FileManager.default.createSymbolicLink(atPath: base + "/ns/net", withDestinationPath: "net:[\(namespace)]")
            try Data((comm + "\n").utf8).write(to: URL(fileURLWithPath: base + "/comm"))
            let table = thread.map { "\(base)/task/\($0)/fd" } ?? base + "/fd"
            try FileManager.default.createDirectory(atPath: table, withIntermediateDirectories: true)
            for (fd, target) in links { try FileManager.default.createSymbolicLink(atPath: "\(table)/\(fd)", withDestinationPath: target) }
        }

        func uses(_ reader: @escaping RawSockets.DeviceReader) -> Result<RawSockets.Found, SocketUse.Unreadable> {
            RawSockets.uses(namespaceFD: nil, procRoot: root, readDevice: reader, askKernel: false)
        }
    }

    static let raw112 = " 225: 00000000:0070 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 000000007657759d 0\n"
    static let pingOnAddress = "  42: 0100630A:2DA3 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 778 2 00000000d6e89506 0\n"
    static let icmp6OnAddress = "  43: 990000FD000000000000000001000000:2DA4 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 779 2 000000007a9f3545 0\n"

    /// Each socket's device comes from the descriptor of the process that holds it, and the
    /// socket is named with that process; one bound to no device counts by its address, unless
    /// that is the wildcard. Inode 0 (the kernel's own) is not asked after.
    @Test func eachSocketIsCountedByTheDeviceItsHolderSays() throws {
        let proc = try FakeProc()
        try proc.list(.raw, Self.raw112 + " 226: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 0 2 000000007657759d 0\n")
        try proc.list(.icmp, Self.pingOnAddress)
        try proc.list(.icmp6, Self.icmp6OnAddress)
        try proc.process(812, "keepalived", [3: "/dev/null", 4: "socket:[777]", 5: "socket:[55]"])
        try proc.process(900, "ping", namespace: 4_026_531_840, [3: "socket:[778]", 4: "socket:[779]"])
        let asked = Asked()
        let found = try proc.uses { descriptor in
            asked.add(descriptor)
            return .bound(descriptor.inode == 777 ? 7 : 0)
        }.get()
        #expect(found.devices == [7: ["a raw IPv4 socket (protocol 112, VRRP) of keepalived[812]"]])
        #expect(found.addresses == [[10, 99, 0, 1]: ["an ICMP echo (ping) socket of ping[900]"], Self.fd0099: ["an ICMPv6 echo (ping) socket of ping[900]"]])
        #expect(asked.all.map(\.inode).sorted() == [777, 778, 779], "each socket once, none for inode 0 or a socket not listed")
        #expect(asked.all.first == RawSockets.SocketDescriptor(pid: 812, fd: 4, inode: 777, comm: "keepalived"), "the namespace's own processes first")
    }

    /// With no socket listed (inode 0 aside), no process is looked at and nothing is asked.
    @Test func noListedSocketAsksNothing() throws {
        let proc = try FakeProc()
        try proc.list(.raw, " 226: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 0 2 000000007657759d 0\n")
        try proc.process(812, "keepalived", [4: "socket:[0]"])
        #expect(try proc.uses { _ in Issue.record("asked"); return .bound(3) }.get() == RawSockets.Found())
        // The listing of a kernel without IPv6 is missing: it has no IPv6 sockets.
        try FileManager.default.removeItem(atPath: proc.root + "/thread-self/net/raw6")
        #expect(try proc.uses { _ in .bound(3) }.get() == RawSockets.Found())
    }

    /// A socket whose device cannot be read leaves every device unknown: the failure names the
    /// socket, its process and why.
    @Test func aSocketWhoseDeviceCannotBeReadMakesTheListsUnreadable() throws {
        let proc = try FakeProc()
        try proc.list(.raw, Self.raw112)
        try proc.process(812, "keepalived", [4: "socket:[777]"])
        let result = proc.uses { _ in .refused("pidfd_getfd: Operation not permitted") }
        guard case let .failure(problem) = result else { Issue.record("read: \(result)"); return }
        #expect(problem.description == "a raw IPv4 socket (protocol 112, VRRP) of keepalived[812] cannot be asked which device it is bound to: pidfd_getfd: Operation not permitted")
    }

    /// A listed socket no process shows a descriptor of (in flight, or held where this /proc
    /// does not look) is unknown too; one that is gone from the listing when it is read again
    /// was closed meanwhile, and counts for nothing.
    @Test func aSocketNobodyIsSeenHoldingIsUnknownUnlessItWasClosed() throws {
        let proc = try FakeProc()
        try proc.list(.icmp, Self.pingOnAddress)
        try proc.process(812, "keepalived", [4: "socket:[12]"])
        let result = proc.uses { _ in .bound(0) }
        guard case let .failure(problem) = result else { Issue.record("read: \(result)"); return }
        #expect(problem.description.hasPrefix("an ICMP echo (ping) socket (inode 778) is held by no process this scan could read"), "\(problem)")
        #expect(problem.description.contains("in flight in a Unix socket message"), "\(problem)")

        // Its holder closes it before it is asked: the descriptor is gone, and so is the
        // socket from the listing read again.
        try proc.process(900, "ping", [3: "socket:[778]"])
        let closed = proc.uses { _ in
            try? proc.list(.icmp, "")
            return .gone
        }
        #expect(try closed.get() == RawSockets.Found())

        // A process whose descriptors cannot be read is named as the reason.
        try proc.list(.icmp, Self.pingOnAddress)
        try FileManager.default.removeItem(atPath: proc.root + "/900/fd")
        try Data().write(to: URL(fileURLWithPath: proc.root + "/900/fd"))
        let hidden = proc.uses { _ in .bound(0) }
        guard case let .failure(why) = hidden else { Issue.record("read: \(hidden)"); return }
        #expect(why.description.contains("1 process could not be read (Not a directory; pid 900)"), "\(why)")
    }

    /// A socket only a thread's own descriptor table holds is asked through that thread.
    @Test func aSocketInAThreadsOwnTableIsAskedThroughTheThread() throws {
        let proc = try FakeProc()
        try proc.list(.raw6, "  186: 00000000000000000000000000000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 781 2 000000002dc698ba 0\n")
        try proc.process(640, "systemd-network", [3: "/dev/null"])
        try proc.process(640, "systemd-network", [9: "socket:[781]"], thread: 641)
        // `task` counts two links more than threads.
        try FileManager.default.createDirectory(atPath: proc.root + "/640/task/640", withIntermediateDirectories: true)
        let asked = Asked()
        let found = try proc.uses { descriptor in
            asked.add(descriptor)
            return .bound(4)
        }.get()
        #expect(found.devices == [4: ["a raw IPv6 socket (protocol 58, ICMPv6) of systemd-network[640]"]])
        #expect(asked.all == [RawSockets.SocketDescriptor(pid: 640, thread: 641, fd: 9, inode: 781, comm: "systemd-network")])
    }

    /// A kernel with `raw_diag` lists raw sockets with their device, as it lists TCP's: one
    /// bound to ifindex 7 is counted there without asking any process; a family it cannot list
    /// (the dump ends in ENOENT) is read from its listing instead, and a refusal of another kind
    /// leaves the lists unreadable.
    @Test func rawDiagnosticsGiveTheDeviceWhereTheKernelHasThem() throws {
        func reply(inode: UInt32, device: UInt32, protocolNumber: UInt16, sequence: UInt32) -> [UInt8] {
            var payload: [UInt8] = [2, 7, 0, 0]                                    // AF_INET, TCP_CLOSE
            withUnsafeBytes(of: protocolNumber.bigEndian) { payload += $0 }        // idiag_sport: the protocol
            payload += [0, 0] + [UInt8](repeating: 0, count: 32)                   // idiag_dport, addresses
            withUnsafeBytes(of: device) { payload += $0 }                          // idiag_if
            payload += [UInt8](repeating: 0, count: 24)                            // cookie, expires, queues, uid
            withUnsafeBytes(of: inode) { payload += $0 }
            return Self.message(type: 20, sequence: sequence, payload: payload)
        }
        let answering = Script { request, sequence in
            request[16] == 2
                ? [reply(inode: 5151, device: 7, protocolNumber: 112, sequence: sequence) + reply(inode: 0, device: 3, protocolNumber: 1, sequence: sequence),
                   Self.done(sequence, code: 0)]
                : [Self.done(sequence, code: -ENOENT)]
        }
        let (sockets, unlisted) = try RawSockets.fromDiagnostics(client: RtnetlinkClient(transport: answering)).get()
        #expect(sockets.map(\.inode) == [5151] && sockets.first?.boundInterface == 7)
        #expect(sockets.first.map(RawSockets.describe(raw:)) == "a raw IPv4 socket (protocol 112, VRRP)")
        #expect(unlisted == [.raw6])
        // Each request is an inet_diag dump of one family for IPPROTO_RAW, every state.
        #expect(answering.sent.map { Array($0[16..<24]) } == [[2, 255, 0, 0, 0xff, 0xff, 0xff, 0xff], [10, 255, 0, 0, 0xff, 0xff, 0xff, 0xff]])

        let without = Script { _, sequence in [Self.done(sequence, code: -ENOENT)] }
        let none = try RawSockets.fromDiagnostics(client: RtnetlinkClient(transport: without)).get()
        #expect(none.sockets.isEmpty && none.unlisted == [.raw, .raw6])

        let refusing = Script { _, sequence in [Self.done(sequence, code: -EPERM)] }
        guard case let .failure(problem) = RawSockets.fromDiagnostics(client: RtnetlinkClient(transport: refusing)) else {
            Issue.record("a refusal was read as a list")
            return
        }
        #expect(problem.description.hasPrefix("the kernel's list of raw sockets could not be read"), "\(problem)")
    }

    /// A netlink transport that answers each request with what `answer` makes of it.
    final class Script: NetlinkTransport {
        var sent: [[UInt8]] = []
        private var queue: [[UInt8]] = []
        let answer: ([UInt8], UInt32) -> [[UInt8]]
        init(_ answer: @escaping ([UInt8], UInt32) -> [[UInt8]]) { self.answer = answer }
        func send(_ datagram: [UInt8]) throws {
            sent.append(datagram)
            queue += answer(datagram, datagram[8..<12].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
        }
        func receive() throws -> [UInt8] {
            guard !queue.isEmpty else { throw NetlinkError.system(call: "recv", errno: EAGAIN) }
            return queue.removeFirst()
        }
    }

    static func message(type: UInt16, sequence: UInt32, payload: [UInt8]) -> [UInt8] {
        var bytes = NetlinkMessage.encode(type: type, flags: NetlinkFlags.multi, sequence: sequence, payload: payload)
        bytes.replaceSubrange(12..<16, with: [0, 0, 0, 0])
        return bytes
    }

    static func done(_ sequence: UInt32, code: Int32) -> [UInt8] {
        var payload: [UInt8] = []
        withUnsafeBytes(of: code) { payload += $0 }
        return message(type: NetlinkType.done, sequence: sequence, payload: payload)
    }

    /// The descriptors a reader was asked about.
    final class Asked: @unchecked Sendable {
        private let lock = NSLock()
        private var descriptors: [RawSockets.SocketDescriptor] = []
        func add(_ descriptor: RawSockets.SocketDescriptor) { lock.withLock { descriptors.append(descriptor) } }
        var all: [RawSockets.SocketDescriptor] { lock.withLock { descriptors } }
    }
}
#endif
