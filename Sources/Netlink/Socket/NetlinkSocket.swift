#if os(Linux)
import CLinuxShims
import Glibc

/// A NETLINK_ROUTE socket (or, asked for, a NETLINK_SOCK_DIAG one): the Linux transport for
/// `RtnetlinkClient`, which frames the requests and dumps of both alike.
///
/// The socket belongs to the network namespace it was created in for its whole life, so a socket
/// made for another namespace answers about that namespace while the rest of the process stays
/// where it is.
public final class NetlinkSocket: NetlinkTransport {
    /// SOL_NETLINK options, from include/uapi/linux/netlink.h.
    private static let solNetlink: Int32 = 270
    private static let netlinkCapAck: Int32 = 10
    private static let netlinkExtAck: Int32 = 11
    /// Kernel dump datagrams are at most about 32 KiB; this leaves room and detects truncation.
    private static let receiveSize = 64 * 1024
    /// Room for the rest of a datagram longer than `receiveSize`: a dump datagram holds at least
    /// the namespace's largest message whole, and one device's can pass 64 KiB (hundreds of long
    /// alternative names, many virtual functions). Allocated with the first receive and touched
    /// only by such a datagram, so it costs address space, not memory.
    private static let overflowSize = 4 * 1024 * 1024
    private var overflow: UnsafeMutableRawPointer?
    /// Receive buffer asked for, so large dumps and event bursts are not dropped.
    static let receiveBufferBytes: Int32 = 8 * 1024 * 1024

    private let fd: Int32

    /// The socket's descriptor, for waiting on it together with others (poll); tunwarden keeps ownership.
    public var descriptor: Int32 { fd }

    /// NETLINK_ROUTE.
    public static let route: Int32 = 0
    /// NETLINK_SOCK_DIAG: the kernel's lists of sockets (what `ss` reads).
    public static let socketDiagnostics: Int32 = 4

    /// Opens a socket of the netlink family `netlinkProtocol` in this thread's network namespace,
    /// or, when `namespaceFD` is given (an open `/run/netns/NAME` or `/proc/PID/ns/net`), in that
    /// namespace, made by a short-lived thread that enters it (no thread of the caller ever
    /// changes namespace).
    public init(namespaceFD: Int32? = nil, netlinkProtocol: Int32 = NetlinkSocket.route) throws {
        fd = try NamespaceThread.run(in: namespaceFD) { try NetlinkSocket.create(netlinkProtocol) }
    }

    /// Opens two sockets in this thread's network namespace, or in the one behind `namespaceFD`
    /// (as `init(namespaceFD:)` does), entering that namespace once for both.
    public static func pair(namespaceFD: Int32? = nil) throws -> (NetlinkSocket, NetlinkSocket) {
        try NamespaceThread.run(in: namespaceFD) { (try NetlinkSocket(), try NetlinkSocket()) }
    }

    deinit {
        close(fd)
        overflow?.deallocate()
    }

    private static func create(_ netlinkProtocol: Int32 = route) throws -> Int32 {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkProtocol)
        guard fd >= 0 else { throw NetlinkError.system(call: "socket(AF_NETLINK)", errno: errno) }
        var size = receiveBufferBytes
        // SO_RCVBUFFORCE passes the rmem_max cap when privileged; otherwise take what is allowed.
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var one: Int32 = 1
        // Extended acks carry the kernel's reason text; capped acks keep them short. Both are
        // optional: old kernels refuse them and still work.
        _ = setsockopt(fd, solNetlink, netlinkExtAck, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, solNetlink, netlinkCapAck, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw NetlinkError.system(call: "bind(AF_NETLINK)", errno: code)
        }
        return fd
    }

    /// rtnetlink multicast groups (RTNLGRP_*), from include/uapi/linux/rtnetlink.h.
    public enum Group {
        public static let link: UInt32 = 1
        /// RTNLGRP_NEIGH: neighbour entries (ARP and NDP, AF_INET and AF_INET6) and forwarding
        /// database entries (AF_BRIDGE), every change of each.
        public static let neighbour: UInt32 = 3
        public static let ipv4Address: UInt32 = 5
        public static let ipv4Route: UInt32 = 7
        /// RTNLGRP_IPV4_RULE and RTNLGRP_IPV6_RULE: policy routing rules added or deleted.
        public static let ipv4Rule: UInt32 = 8, ipv6Rule: UInt32 = 19
        public static let ipv6Address: UInt32 = 9
        public static let ipv6Route: UInt32 = 11
        /// RTNLGRP_NEXTHOP (Linux 5.3); older kernels refuse it.
        public static let nexthop: UInt32 = 32
    }

    /// Joins multicast groups: the kernel then sends this socket a message for every change in them.
    public func subscribe(_ groups: [UInt32]) throws {
        for group in groups {
            var value = Int32(bitPattern: group)
            // NETLINK_ADD_MEMBERSHIP = 1
            if setsockopt(fd, Self.solNetlink, 1, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                throw NetlinkError.system(call: "setsockopt(NETLINK_ADD_MEMBERSHIP \(group))", errno: errno)
            }
        }
    }

    /// Has the kernel drop every message of another family than `family` (the first byte of an
    /// rtnetlink message's payload) before it reaches this socket: a subscriber to a group whose
    /// busiest families it ignores (ARP and NDP in the neighbour group) is then neither woken nor
    /// filled by them. Throws when the kernel refuses the filter; every message then arrives.
    public func keepOnly(family: UInt8) throws {
        let result = tw_netlink_keep_family(fd, family)
        if result < 0 { throw NetlinkError.system(call: "setsockopt(SO_ATTACH_FILTER)", errno: -result) }
    }

    /// Sets the kernel's receive buffer for this socket (a small one makes event loss, and so
    /// resynchronisation, easy to provoke in tests).
    public func setReceiveBuffer(bytes: Int32) {
        var size = bytes
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// The cookie of the network namespace the socket belongs to (SO_NETNS_COOKIE, Linux 5.14):
    /// a number the kernel gives each namespace it makes and never gives another during the same
    /// boot, unlike the namespace's inode number, which it reuses. Nil where the kernel has none.
    public func namespaceCookie() -> UInt64? {
        var cookie: UInt64 = 0
        var length = socklen_t(MemoryLayout<UInt64>.size)
        guard getsockopt(fd, SOL_SOCKET, Self.soNetnsCookie, &cookie, &length) == 0, length == MemoryLayout<UInt64>.size else { return nil }
        return cookie
    }

    /// SO_NETNS_COOKIE, from include/uapi/asm-generic/socket.h.
    private static let soNetnsCookie: Int32 = 71

    /// Waits until a datagram can be received or `milliseconds` pass; true when one is ready. A
    /// signal that interrupts the wait ends it early (false), so that a caller waiting for a
    /// signal's flag sees it at once; the caller polls again when it wants to.
    public func waitReadable(milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    public func send(_ datagram: [UInt8]) throws {
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        while true {
            let sent = datagram.withUnsafeBytes { bytes in
                withUnsafePointer(to: &kernel) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                    }
                }
            }
            if sent >= 0 { return }
            if errno == EINTR { continue }
            throw NetlinkError.system(call: "sendto(netlink)", errno: errno)
        }
    }

    public func receive() throws -> [UInt8] {
        var datagram: [UInt8] = []
        try receive(into: &datagram)
        return datagram
    }

    public func receive(into datagram: inout [UInt8]) throws {
        // Emptying keeps the storage when this is its only holder; otherwise it is new memory.
        datagram.removeAll(keepingCapacity: true)
        let spill = overflow ?? UnsafeMutableRawPointer.allocate(byteCount: Self.overflowSize, alignment: 16)
        overflow = spill
        var failure: Int32 = 0
        var actual = 0
        var direct = 0
        datagram.append(addingCapacity: Self.receiveSize) { (span: inout OutputSpan<UInt8>) in
            span.withUnsafeMutableBufferPointer { buffer, count in
                // The datagram's first part goes straight into the array; what does not fit, into
                // the overflow room (a second iovec), from which it is appended.
                var vectors = (iovec(iov_base: UnsafeMutableRawPointer(buffer.baseAddress), iov_len: buffer.count),
                               iovec(iov_base: spill, iov_len: Self.overflowSize))
                while true {
                    let n = withUnsafeMutablePointer(to: &vectors) { pair in
                        pair.withMemoryRebound(to: iovec.self, capacity: 2) { vector in
                            var message = msghdr()
                            message.msg_iov = vector
                            message.msg_iovlen = 2
                            return recvmsg(fd, &message, Int32(MSG_TRUNC))
                        }
                    }
                    if n >= 0 {
                        actual = n
                        direct = buffer.count
                        count = min(n, buffer.count)
                        return
                    }
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
            }
        }
        if failure != 0 { throw NetlinkError.system(call: "recvmsg(netlink)", errno: failure) }
        if actual > direct {
            datagram.append(contentsOf: UnsafeRawBufferPointer(start: spill, count: min(actual - direct, Self.overflowSize)))
        }
        if actual > datagram.count {
            throw NetlinkError.truncated(what: "netlink datagram", need: actual, have: datagram.count)
        }
    }
}
#endif
