#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// Raw sockets (SOCK_RAW over IPv4 and IPv6) and ICMP "ping" sockets (SOCK_DGRAM with
/// IPPROTO_ICMP or IPPROTO_ICMPV6) that use one device of a namespace: bound to it with
/// SO_BINDTODEVICE or SO_BINDTOIFINDEX (`ping -I tap0`, keepalived's VRRP socket,
/// systemd-networkd's ICMPv6 socket for one link), or bound to no device but to a specific local
/// address, which only one device may have. Such a process uses the device without a tun
/// descriptor, and deleting the device takes it from under the process.
///
/// Where the kernel lists raw sockets with their device (`raw_diag`, CONFIG_INET_RAW_DIAG: the
/// same `inet_diag` replies as TCP's, what `ss -w` reads), that list is read. Ping sockets are in
/// no such list, and raw sockets are not where `raw_diag` is missing: for them the namespace's
/// `/proc/net/icmp`, `icmp6`, `raw` and `raw6` give each socket's local address and inode but not
/// its device. The processes holding those inodes are then found in /proc, and a copy of one's
/// descriptor (pidfd_getfd, which needs the right to ptrace-attach to the process: root, or
/// CAP_SYS_PTRACE) says which device the socket is bound to (getsockopt SO_BINDTOIFINDEX). A
/// socket whose device cannot be read that way, or that no process this /proc shows holds (one in
/// flight in a Unix socket message), may use any device: the lists are then `Unreadable`.
/// Sockets no process holds (inode 0: the kernel's own) are left out, and when the files list no
/// other socket nothing more is done.
///
/// A socket bound to a device is found once it is also bound to a port or sent through (a ping
/// socket only gets an identifier then, a raw one is listed from the start); a ping socket given
/// a device and never used is listed nowhere, and receives nothing.
public enum RawSockets {
    /// Asks which device the socket a process holds is bound to (see `readDevice`).
    public typealias DeviceReader = @Sendable (SocketDescriptor) -> DeviceAnswer

    /// One descriptor of a socket in one process: where pidfd_getfd can take a copy of it.
    public struct SocketDescriptor: Equatable, Sendable {
        public var pid: Int32
        /// The thread whose own descriptor table holds it (a thread that called
        /// unshare(CLONE_FILES), or one that outlived its main thread); nil for the process's.
        public var thread: Int32?
        public var fd: Int32
        /// The socket's inode, as its descriptor's link names it (`socket:[INODE]`).
        public var inode: UInt64
        /// The process's name, escaped as `HolderScanner.comm` escapes it.
        public var comm: String

        public init(pid: Int32, thread: Int32? = nil, fd: Int32, inode: UInt64, comm: String) {
            (self.pid, self.thread, self.fd, self.inode, self.comm) = (pid, thread, fd, inode, comm)
        }
    }

    /// What asking a descriptor for its socket's device gave.
    public enum DeviceAnswer: Equatable, Sendable {
        /// The ifindex the socket is bound to; 0 for none.
        case bound(Int)
        /// The descriptor no longer holds that socket: the process exited or closed it (and may
        /// have opened something else under its number).
        case gone
        /// Why the device could not be read.
        case refused(String)
    }

    /// Which of the kernel's listings a socket comes from.
    enum Listing: String, CaseIterable, Sendable {
        case raw, raw6, icmp, icmp6

        /// How many bytes a local address of this listing has.
        var addressLength: Int { self == .raw || self == .icmp ? 4 : 16 }
    }

    /// One socket as `/proc/net/raw`, `raw6`, `icmp` or `icmp6` lists it.
    struct Listed: Equatable, Sendable {
        var listing: Listing
        /// A raw socket's protocol (the listing's local port column); a ping socket's echo
        /// identifier.
        var number: UInt16
        /// The local address, 4 or 16 bytes in network order; all zero for none.
        var localAddress: [UInt8]
        var inode: UInt64
    }

    /// What the sockets use: the raw and ping sockets bound to each ifindex, and those bound to
    /// no device but to a specific address (by its bytes, as `BoundSockets.specificAddress` gives
    /// them), each in words (see `HolderScan.rawSockets`).
    public struct Found: Equatable, Sendable {
        public var devices: [Int: [String]] = [:]
        public var addresses: [[UInt8]: [String]] = [:]
    }

    static let ipprotoRaw: UInt8 = 255

    /// The raw and ping sockets of the namespace behind `namespaceFD` (nil: this process's own)
    /// that use a device or an address, the device of each read by `readDevice` where the kernel
    /// does not list it; `askKernel` false skips `raw_diag` (tests that give their own /proc).
    /// `Unreadable` when a listing could not be had or understood, or a socket's device could
    /// not be read: then which devices they use is unknown.
    public static func uses(namespaceFD: Int32?, procRoot: String = "/proc", readDevice: @escaping DeviceReader = RawSockets.readDevice,
                            askKernel: Bool = true) -> Result<Found, SocketUse.Unreadable> {
        // One trip into the namespace for the socket raw_diag is asked through and every
        // listing: while the link dump keeps both cores busy, each trip's thread can wait a
        // whole time slice to run.
        let every = Listing.allCases
        let enter = { () -> (diagnostics: Result<NetlinkSocket, any Error>?, files: [NamespaceProcFile.Opened]) in
            (askKernel ? Result { try NetlinkSocket(netlinkProtocol: NetlinkSocket.socketDiagnostics) } : nil,
             NamespaceProcFile.open(every.map(\.rawValue), procRoot: procRoot))
        }
        let entered: (diagnostics: Result<NetlinkSocket, any Error>?, files: [NamespaceProcFile.Opened])
        do {
            entered = try NamespaceThread.run(in: namespaceFD, enter)
        } catch {
            return .failure(SocketUse.Unreadable(description: "cannot enter the namespace to list its raw and ping sockets: \(error)"))
        }
        let texts: [Listing: [UInt8]?]
        switch NamespaceProcFile.read(entered.files) {
        case let .success(read): texts = Dictionary(uniqueKeysWithValues: zip(every, read))
        case let .failure(problem): return .failure(problem)
        }
        var found = Found()
        var listings: [Listing] = [.icmp, .icmp6]
        switch entered.diagnostics {
        case let .success(socket)?:
            switch fromDiagnostics(client: RtnetlinkClient(transport: socket)) {
            case let .success((sockets, unlisted)):
                for socket in sockets { found.add(describe(raw: socket), device: Int(socket.boundInterface), address: socket.localAddress) }
                listings += unlisted
            case let .failure(problem): return .failure(problem)
            }
        case let .failure(error)?:
            return .failure(SocketUse.Unreadable(description: "cannot open a socket-diagnostics socket in the namespace: \(error)"))
        case nil:
            listings += [.raw, .raw6]
        }
        var listed: [Listed]
        switch parse(listings.map { ($0, texts[$0] ?? nil) }, procRoot: procRoot) {
        case let .success(sockets): listed = sockets.filter { $0.inode != 0 }
        case let .failure(problem): return .failure(problem)
        }
        // Each read of these files gives at most a page, and the kernel finds where the next
        // page starts by counting entries again: a socket that closes meanwhile before the
        // boundary makes one held all along fall out. A listing longer than one read is read
        // again until two passes agree, and every socket any pass saw is taken.
        if listings.contains(where: { (texts[$0] ?? nil)?.count ?? 0 >= Self.onePieceLimit }) {
            var previous = Set(listed.map(\.inode))
            for _ in 0..<Self.extraPasses {
                let again: [Listed]
                switch read(listings, namespaceFD: namespaceFD, procRoot: procRoot) {
                case let .success(sockets): again = sockets.filter { $0.inode != 0 }
                case let .failure(problem): return .failure(problem)
                }
                let inodes = Set(again.map(\.inode))
                listed += again
                if inodes == previous { break }
                previous = inodes
            }
        }
        listed = Self.oncePerInode(listed)
        guard !listed.isEmpty else { return .success(found) }
        let wanted = Dictionary(listed.map { ($0.inode, $0) }, uniquingKeysWith: { first, _ in first })
        let named = { (inode: UInt64) in wanted[inode].map(describe) ?? "a raw or ping socket" }
        let search = SocketSearch(procRoot: procRoot, namespaceInode: namespaceInode(namespaceFD: namespaceFD, procRoot: procRoot),
                                  readDevice: readDevice, describe: named)
        let answers: [UInt64: (index: Int, holder: SocketDescriptor)]
        switch search.devices(of: Set(wanted.keys)) {
        case let .success(result) where result.missing.isEmpty: answers = result.found
        case let .success(result):
            // A socket closed since it was listed is simply gone; one still listed is held where
            // this scan cannot see.
            switch read(listings, namespaceFD: namespaceFD, procRoot: procRoot) {
            case let .success(again):
                let stillListed = Set(again.map(\.inode)).intersection(result.missing)
                if let inode = stillListed.min() {
                    let why = result.unreadable.isEmpty
                        ? "it may be in flight in a Unix socket message, or held by a process this /proc does not show"
                        : "\(result.unreadable.count) process\(result.unreadable.count == 1 ? "" : "es") could not be read (\(Sys.describe(result.unreadableErrno)); pid \(result.unreadable.prefix(3).map(String.init).joined(separator: ", "))\(result.unreadable.count > 3 ? ", …" : ""))"
                    return .failure(SocketUse.Unreadable(description: "\(named(inode)) (inode \(inode)) is held by no process this scan could read, so which device it is bound to cannot be asked: \(why)"))
                }
                answers = result.found
            case let .failure(problem): return .failure(problem)
            }
        case let .failure(problem): return .failure(problem)
        }
        for socket in listed {
            guard let answer = answers[socket.inode] else { continue }
            found.add("\(describe(socket)) of \(answer.holder.comm)[\(answer.holder.pid)]", device: answer.index, address: socket.localAddress)
        }
        return .success(found)
    }

    // MARK: the kernel's lists

    /// Below this many bytes a listing came in one read (a page holds at least twice as many).
    static let onePieceLimit = 2048
    /// How many more passes a listing of several reads gets, at most, to be read twice alike.
    static let extraPasses = 4

    /// `listed` with each inode once, the first time it came.
    static func oncePerInode(_ listed: [Listed]) -> [Listed] {
        var seen = Set<UInt64>()
        return listed.filter { seen.insert($0.inode).inserted }
    }

    /// The raw sockets (inode 0 left out) of each family `raw_diag` lists in the namespace of
    /// `client`'s socket, and the listings to read instead for each family it cannot list (not
    /// built: the dump answers ENOENT, or EOPNOTSUPP or EAFNOSUPPORT).
    static func fromDiagnostics(client: RtnetlinkClient) -> Result<(sockets: [SocketDiagnostics.Socket], unlisted: [Listing]), SocketUse.Unreadable> {
        var sockets: [SocketDiagnostics.Socket] = []
        var unlisted: [Listing] = []
        for (family, listing) in [(BoundSockets.inet, Listing.raw), (BoundSockets.inet6, Listing.raw6)] {
            var found: [SocketDiagnostics.Socket] = []
            do {
                try client.dumpEach(operation: "SOCK_DIAG_BY_FAMILY (raw over IPv\(family == BoundSockets.inet ? 4 : 6))",
                                    request: { SocketDiagnostics.dumpRequest(family: family, transport: ipprotoRaw, sequence: $0) },
                                    restart: { found = [] }) { message in
                    guard message.header.type == SocketDiagnostics.byFamily else { return }
                    let socket = try SocketDiagnostics.decode(message.payload)
                    if socket.inode != 0 { found.append(socket) }
                }
                sockets += found
            } catch NetlinkError.kernel(_, let code, _) where [ENOENT, EAFNOSUPPORT, EOPNOTSUPP].contains(code) {
                unlisted.append(listing)
            } catch {
                return .failure(SocketUse.Unreadable(description: "the kernel's list of raw sockets could not be read: \(error)"))
            }
        }
        return .success((sockets, unlisted))
    }

    /// The sockets `listings` give in the namespace, read on one trip into it; none from a
    /// listing the kernel does not have (no IPv6).
    static func read(_ listings: [Listing], namespaceFD: Int32?, procRoot: String) -> Result<[Listed], SocketUse.Unreadable> {
        switch NamespaceProcFile.read(listings.map(\.rawValue), namespaceFD: namespaceFD, procRoot: procRoot) {
        case let .success(texts): parse(Array(zip(listings, texts)), procRoot: procRoot)
        case let .failure(problem): .failure(problem)
        }
    }

    /// The sockets in the texts of `listings` (nil: a listing the kernel does not have), in order.
    static func parse(_ listings: [(Listing, [UInt8]?)], procRoot: String) -> Result<[Listed], SocketUse.Unreadable> {
        var sockets: [Listed] = []
        for case let (listing, text?) in listings {
            switch parse(text, listing: listing) {
            case let .success(found): sockets += found
            case let .failure(problem):
                return .failure(SocketUse.Unreadable(description: "\(procRoot)/thread-self/net/\(listing.rawValue) is not understood (\(problem.description))"))
            }
        }
        return .success(sockets)
    }

    /// The sockets in the text of a listing: a header whose columns start `sl local_address` and
    /// whose twelfth is `inode`, then one socket a line, `SL: ADDRESS:PORT REMOTE:PORT ST TX:RX
    /// TR:WHEN RETRNSMT UID TIMEOUT INODE …`, the address in hex as the kernel prints it (each
    /// 32-bit word of it as a number in this machine's byte order). Fails, naming what, on a
    /// header or a line of another shape.
    static func parse(_ text: [UInt8], listing: Listing) -> Result<[Listed], SocketUse.Unreadable> {
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        func fields(_ line: Substring) -> [Substring] { line.split(whereSeparator: { $0 == " " || $0 == "\t" }) }
        guard let header = lines.first.map(fields), header.count > 11, header[0] == "sl", header[1] == "local_address", header[11] == "inode" else {
            return .failure(SocketUse.Unreadable(description: "its header is not `sl local_address … inode …`"))
        }
        var sockets: [Listed] = []
        for line in lines.dropFirst() {
            let columns = fields(line)
            guard columns.count >= 10, columns[0].last == ":" else { return .failure(notUnderstood(line)) }
            let local = columns[1].split(separator: ":", omittingEmptySubsequences: false)
            guard local.count == 2, let address = hexAddress(local[0], length: listing.addressLength),
                  local[1].count == 4, let number = UInt16(local[1], radix: 16), let inode = UInt64(columns[9]) else {
                return .failure(notUnderstood(line))
            }
            sockets.append(Listed(listing: listing, number: number, localAddress: address, inode: inode))
        }
        return .success(sockets)
    }

    /// Names a line that is not understood, shortened to what helps find it.
    static func notUnderstood(_ line: Substring) -> SocketUse.Unreadable {
        let shown = line.count > 80 ? String(line.prefix(80)) + "…" : String(line)
        return SocketUse.Unreadable(description: "a line not understood: `\(InterfaceName.text(Array(shown.utf8)[...]))`")
    }

    /// The bytes of an address in the kernel's hex (`0100630A` is 10.99.0.1 on a little-endian
    /// machine): each group of 8 digits is one 32-bit word, printed as a number, which stands in
    /// memory, and so in the address, in this machine's byte order. Nil unless it is exactly
    /// `length` bytes of hex.
    static func hexAddress(_ hex: Substring, length: Int) -> [UInt8]? {
        guard hex.count == length * 2, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        var rest = hex[...]
        while !rest.isEmpty {
            guard let word = UInt32(rest.prefix(8), radix: 16) else { return nil }
            withUnsafeBytes(of: word) { bytes += $0 }
            rest = rest.dropFirst(8)
        }
        return bytes
    }

    // MARK: words

    /// A few protocols raw sockets are opened for, by number, as people know them.
    static let protocolNames: [UInt16: String] = [
        1: "ICMP", 2: "IGMP", 4: "IP in IP", 6: "TCP", 17: "UDP", 41: "IPv6 in IP", 47: "GRE", 50: "ESP", 58: "ICMPv6",
        89: "OSPF", 103: "PIM", 112: "VRRP", 132: "SCTP", 255: "IPPROTO_RAW",
    ]

    /// A listed socket in words: `a raw IPv4 socket (protocol 112, VRRP)`, `an ICMPv6 echo (ping) socket`.
    static func describe(_ socket: Listed) -> String {
        switch socket.listing {
        case .raw, .raw6:
            let name = protocolNames[socket.number].map { ", \($0)" } ?? ""
            return "a raw IPv\(socket.listing == .raw ? 4 : 6) socket (protocol \(socket.number)\(name))"
        case .icmp: return "an ICMP echo (ping) socket"
        case .icmp6: return "an ICMPv6 echo (ping) socket"
        }
    }

    /// A raw socket `raw_diag` lists, in words (its local port is its protocol).
    static func describe(raw socket: SocketDiagnostics.Socket) -> String {
        describe(Listed(listing: socket.family == BoundSockets.inet ? .raw : .raw6, number: socket.localPort, localAddress: socket.localAddress, inode: UInt64(socket.inode)))
    }
}

extension RawSockets.Found {
    /// Counts `socket` by `device`, or, bound to none, by its local address when that is a
    /// specific one.
    mutating func add(_ socket: String, device: Int, address: [UInt8]) {
        if device != 0 {
            devices[device, default: []].append(socket)
        } else if let address = BoundSockets.specificAddress(address) {
            addresses[address, default: []].append(socket)
        }
    }
}
#endif
