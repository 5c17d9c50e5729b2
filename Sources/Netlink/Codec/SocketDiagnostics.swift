/// The kernel's lists of TCP and UDP sockets (NETLINK_SOCK_DIAG, `struct inet_diag_req_v2` and
/// `struct inet_diag_msg` from include/uapi/linux/inet_diag.h), read for one thing: the device a
/// socket is bound to with SO_BINDTODEVICE (`idiag_if`, the socket's `sk_bound_dev_if`).
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

    /// The socket one SOCK_DIAG_BY_FAMILY reply describes. Throws for a payload shorter than
    /// `struct inet_diag_msg`; the attributes after it are not read.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> Socket {
        guard payload.count >= messageSize else { throw .truncated(what: "inet_diag_msg", need: messageSize, have: payload.count) }
        let base = payload.startIndex
        return Socket(family: payload[base], state: payload[base + 1],
                      boundInterface: payload.readNative(UInt32.self, at: base + interfaceOffset),
                      uid: payload.readNative(UInt32.self, at: base + 64), inode: payload.readNative(UInt32.self, at: base + 68))
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
        var payload = [UInt8](repeating: 0, count: xdpRequestSize)
        payload[0] = xdpFamily
        withUnsafeBytes(of: xdpShowInfo) { payload.replaceSubrange(8..<12, with: $0) }
        return NetlinkMessage.encode(type: byFamily, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
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
