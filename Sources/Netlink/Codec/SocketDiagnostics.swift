/// The kernel's lists of TCP and UDP sockets (NETLINK_SOCK_DIAG, `struct inet_diag_req_v2` and
/// `struct inet_diag_msg` from include/uapi/linux/inet_diag.h), read for two things: the device a
/// socket is bound to with SO_BINDTODEVICE (`idiag_if`, the socket's `sk_bound_dev_if`), and the
/// local address it is bound to (`idiag_src`), which ties it to the devices that carry that address.
/// Packet sockets' lists (include/uapi/linux/packet_diag.h) and AF_XDP sockets' are read here too.
public enum SocketDiagnostics {
    /// SOCK_DIAG_BY_FAMILY.
    public static let byFamily: UInt16 = 20
    /// Size of `struct inet_diag_req_v2`.
    static let requestSize = 56
    /// Size of `struct inet_diag_msg`.
    public static let messageSize = 72
    /// Where `idiag_if` lies in `struct inet_diag_msg`: after family, state, timer and retrans
    /// (4 bytes), the ports (4) and the two addresses (32).
    static let interfaceOffset = 40
    /// Where `idiag_src` lies: after family, state, timer, retrans and the two ports.
    static let sourceOffset = 8
    /// TCP_TIME_WAIT: what a closed connection leaves behind, not a process's socket.
    public static let timeWait: UInt8 = 6

    /// One socket as the list gives it.
    public struct Socket: Equatable, Sendable {
        public var family: UInt8
        /// TCP_* state (UDP sockets are TCP_CLOSE, or TCP_ESTABLISHED when connected).
        public var state: UInt8
        /// The ifindex it is bound to with SO_BINDTODEVICE; 0 when it is bound to none.
        public var boundInterface: UInt32
        public var uid: UInt32
        public var inode: UInt32
        /// The local address as the kernel gives it: 4 bytes for AF_INET, 16 for AF_INET6 (an
        /// IPv4-mapped one, `::ffff:a.b.c.d`, as it is); all zero for a socket bound to none.
        public var localAddress: [UInt8]
        /// The local port (`idiag_sport`, in host order); 0 for a socket bound to none.
        public var localPort: UInt16
        /// The remote port (`idiag_dport`, in host order); 0 for a socket connected to none.
        public var remotePort: UInt16 = 0
        /// Whether an IPv6 socket takes IPv6 alone (IPV6_V6ONLY, INET_DIAG_SKV6ONLY: the kernel
        /// says it of listening and unconnected ones); nil where it is not said.
        public var v6Only: Bool?

        public init(family: UInt8, state: UInt8, boundInterface: UInt32, uid: UInt32, inode: UInt32, localAddress: [UInt8] = [], localPort: UInt16 = 0) {
            (self.family, self.state, self.boundInterface, self.uid, self.inode) = (family, state, boundInterface, uid, inode)
            (self.localAddress, self.localPort) = (localAddress, localPort)
        }
    }

    /// A dump request for every socket of `transport` (IPPROTO_TCP 6, IPPROTO_UDP 17) in
    /// `family` (AF_INET 2, AF_INET6 10) whose state is in `states` (a mask of 1 << TCP_*).
    public static func dumpRequest(family: UInt8, transport: UInt8, states: UInt32 = 0xFFFF_FFFF, sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: requestSize)
        payload[0] = family
        payload[1] = transport
        withUnsafeBytes(of: states) { payload.replaceSubrange(4..<8, with: $0) }
        return NetlinkMessage.encode(type: byFamily, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }

    /// INET_DIAG_SKV6ONLY, one byte.
    static let v6OnlyAttribute: UInt16 = 11

    /// The socket one SOCK_DIAG_BY_FAMILY reply describes. Throws for a payload shorter than
    /// `struct inet_diag_msg`; of the attributes after it only INET_DIAG_SKV6ONLY is read, and
    /// attributes that do not parse leave it unsaid.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> Socket {
        guard payload.count >= messageSize else { throw .truncated(what: "inet_diag_msg", need: messageSize, have: payload.count) }
        let base = payload.startIndex
        let family = payload[base]
        let length = family == 2 ? 4 : 16
        var socket = Socket(family: family, state: payload[base + 1],
                            boundInterface: payload.readNative(UInt32.self, at: base + interfaceOffset),
                            uid: payload.readNative(UInt32.self, at: base + 64), inode: payload.readNative(UInt32.self, at: base + 68),
                            localAddress: Array(payload[(base + sourceOffset)..<(base + sourceOffset + length)]),
                            localPort: UInt16(bigEndian: payload.readNative(UInt16.self, at: base + 4)))
        socket.remotePort = UInt16(bigEndian: payload.readNative(UInt16.self, at: base + 6))
        if family == 10 {
            var attributes = AttributeDecoder(payload[(base + messageSize)...])
            while attributes.next() {
                if attributes.type == v6OnlyAttribute, let byte = attributes.data.first { socket.v6Only = byte != 0 }
            }
        }
        return socket
    }

    // MARK: Packet sockets (include/uapi/linux/packet_diag.h)

    /// AF_PACKET.
    public static let packetFamily: UInt8 = 17
    /// Size of `struct packet_diag_req`.
    static let packetRequestSize = 20
    /// Size of `struct packet_diag_msg`.
    public static let packetMessageSize = 16
    /// PACKET_SHOW_INFO | PACKET_SHOW_MCLIST: each socket's device, and its memberships.
    static let packetShowInfoAndMemberships: UInt32 = 1 | 2
    /// PACKET_DIAG_INFO (`struct packet_diag_info`, the ifindex first) and PACKET_DIAG_MCLIST
    /// (`struct packet_diag_mclist` entries back to back, each 44 bytes, the ifindex first).
    static let packetInfoAttribute: UInt16 = 0, packetMembershipsAttribute: UInt16 = 1
    static let packetMembershipSize = 44

    /// What one packet socket ties itself to: the ifindex it is bound to (0: none, it takes every
    /// device's packets), and the ifindex of each of its memberships (PACKET_ADD_MEMBERSHIP:
    /// promiscuous, all-multicast or one multicast address on that device), whatever it is bound to.
    public struct PacketSocket: Equatable, Sendable {
        public var boundInterface: UInt32
        public var membershipInterfaces: [UInt32]

        public init(boundInterface: UInt32, membershipInterfaces: [UInt32]) {
            (self.boundInterface, self.membershipInterfaces) = (boundInterface, membershipInterfaces)
        }
    }

    /// A dump request for every packet socket, with its device and memberships.
    public static func packetDumpRequest(sequence: UInt32) -> [UInt8] {
        familyDumpRequest(family: packetFamily, size: packetRequestSize, show: packetShowInfoAndMemberships, sequence: sequence)
    }

    /// A SOCK_DIAG_BY_FAMILY dump request of a family whose request (`packet_diag_req`,
    /// `xdp_diag_req`) starts with the family and carries what to show in its third word: the
    /// request `size` bytes long, everything else zero (every socket).
    static func familyDumpRequest(family: UInt8, size: Int, show: UInt32, sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: size)
        payload[0] = family
        withUnsafeBytes(of: show) { payload.replaceSubrange(8..<12, with: $0) }
        return NetlinkMessage.encode(type: byFamily, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }

    /// The packet socket one SOCK_DIAG_BY_FAMILY reply describes. Throws for a payload shorter
    /// than `struct packet_diag_msg`, attributes that do not parse, or a membership list that is
    /// not whole entries.
    public static func decodePacket(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> PacketSocket {
        guard payload.count >= packetMessageSize else { throw .truncated(what: "packet_diag_msg", need: packetMessageSize, have: payload.count) }
        var attributes = AttributeDecoder(payload[(payload.startIndex + packetMessageSize)...])
        var socket = PacketSocket(boundInterface: 0, membershipInterfaces: [])
        while attributes.next() {
            let data = attributes.data
            switch attributes.type {
            case packetInfoAttribute:
                guard data.count >= 4 else { throw .truncated(what: "packet_diag_info's ifindex", need: 4, have: data.count) }
                socket.boundInterface = data.readNative(UInt32.self, at: data.startIndex)
            case packetMembershipsAttribute:
                guard data.count % packetMembershipSize == 0 else {
                    throw .malformed("PACKET_DIAG_MCLIST holds \(data.count) bytes, not whole \(packetMembershipSize)-byte entries")
                }
                for entry in stride(from: data.startIndex, to: data.endIndex, by: packetMembershipSize) {
                    socket.membershipInterfaces.append(data.readNative(UInt32.self, at: entry))
                }
            default: continue
            }
        }
        try attributes.finish()
        return socket
    }

    // MARK: AF_XDP sockets (include/uapi/linux/xdp_diag.h)

    /// AF_XDP.
    public static let xdpFamily: UInt8 = 44
    /// Size of `struct xdp_diag_req`.
    static let xdpRequestSize = 20
    /// Size of `struct xdp_diag_msg`.
    public static let xdpMessageSize = 16
    /// XDP_SHOW_INFO: each socket's device and queue (XDP_DIAG_INFO).
    static let xdpShowInfo: UInt32 = 1
    /// XDP_DIAG_INFO: `struct xdp_diag_info`, the ifindex then the queue.
    static let xdpInfoAttribute: UInt16 = 1

    /// A dump request for every AF_XDP socket, with the device each is bound to.
    public static func xdpDumpRequest(sequence: UInt32) -> [UInt8] {
        familyDumpRequest(family: xdpFamily, size: xdpRequestSize, show: xdpShowInfo, sequence: sequence)
    }

    /// The ifindex the AF_XDP socket one SOCK_DIAG_BY_FAMILY reply describes is bound to; 0 when
    /// it is bound to none (or the reply names none). Throws for a payload shorter than
    /// `struct xdp_diag_msg`, or attributes that do not parse.
    public static func decodeXDP(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> UInt32 {
        guard payload.count >= xdpMessageSize else { throw .truncated(what: "xdp_diag_msg", need: xdpMessageSize, have: payload.count) }
        var attributes = AttributeDecoder(payload[(payload.startIndex + xdpMessageSize)...])
        var index: UInt32 = 0
        while attributes.next() {
            guard attributes.type == xdpInfoAttribute else { continue }
            let data = attributes.data
            guard data.count >= 4 else { throw .truncated(what: "xdp_diag_info's ifindex", need: 4, have: data.count) }
            index = data.readNative(UInt32.self, at: data.startIndex)
        }
        try attributes.finish()
        return index
    }
}
