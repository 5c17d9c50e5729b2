/// Netlink message types and flags used by tunwarden, from include/uapi/linux/netlink.h and rtnetlink.h.
///
/// The values are fixed by the kernel ABI; they are spelled out here so the codec compiles on every
/// platform and never depends on a system header.
public enum NetlinkType {
    public static let noop: UInt16 = 1
    public static let error: UInt16 = 2
    public static let done: UInt16 = 3
    public static let overrun: UInt16 = 4

    public static let newLink: UInt16 = 16
    public static let delLink: UInt16 = 17
    public static let getLink: UInt16 = 18
    public static let setLink: UInt16 = 19
    public static let newAddress: UInt16 = 20
    public static let delAddress: UInt16 = 21
    public static let getAddress: UInt16 = 22
    public static let newRoute: UInt16 = 24
    public static let delRoute: UInt16 = 25
    public static let getRoute: UInt16 = 26
    public static let newNeighbour: UInt16 = 28
    public static let delNeighbour: UInt16 = 29
    public static let getNeighbour: UInt16 = 30
    public static let newNSID: UInt16 = 88
    public static let getNSID: UInt16 = 90

    /// A readable name for a message type, for error messages and logs.
    public static func name(_ type: UInt16) -> String {
        switch type {
        case newLink: return "RTM_NEWLINK"
        case delLink: return "RTM_DELLINK"
        case getLink: return "RTM_GETLINK"
        case setLink: return "RTM_SETLINK"
        case newAddress: return "RTM_NEWADDR"
        case delAddress: return "RTM_DELADDR"
        case getAddress: return "RTM_GETADDR"
        case newRoute: return "RTM_NEWROUTE"
        case delRoute: return "RTM_DELROUTE"
        case newNeighbour: return "RTM_NEWNEIGH"
        case delNeighbour: return "RTM_DELNEIGH"
        case getNeighbour: return "RTM_GETNEIGH"
        case getRoute: return "RTM_GETROUTE"
        case newNSID: return "RTM_NEWNSID"
        case getNSID: return "RTM_GETNSID"
        case error: return "NLMSG_ERROR"
        case done: return "NLMSG_DONE"
        default: return "type \(type)"
        }
    }
}

/// Flags of the netlink message header.
public enum NetlinkFlags {
    public static let request: UInt16 = 0x1
    public static let multi: UInt16 = 0x2
    public static let ack: UInt16 = 0x4
    public static let dumpInterrupted: UInt16 = 0x10
    /// `NLM_F_ROOT | NLM_F_MATCH`: a dump request.
    public static let dump: UInt16 = 0x300
    public static let replace: UInt16 = 0x100
    public static let exclusive: UInt16 = 0x200
    public static let create: UInt16 = 0x400
    /// NLM_F_APPEND: add beside what has the same key.
    public static let append: UInt16 = 0x800
    /// On an NLMSG_ERROR: the original request's payload was left out.
    public static let capped: UInt16 = 0x100
    /// On an NLMSG_ERROR: extended-ack attributes follow.
    public static let ackTLVs: UInt16 = 0x200
}

/// The 16-byte header every netlink message starts with (`struct nlmsghdr`), in host byte order.
public struct NetlinkHeader: Equatable, Sendable {
    /// Size of the header on the wire.
    public static let size = 16

    public var length: UInt32
    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    public var portID: UInt32

    public init(length: UInt32, type: UInt16, flags: UInt16, sequence: UInt32, portID: UInt32) {
        self.length = length
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
    }
}

/// One netlink message: its header and the payload that follows it.
///
/// The payload is a slice of the datagram it arrived in, so splitting a datagram copies nothing.
public struct NetlinkMessage: Sendable {
    public var header: NetlinkHeader
    public var payload: ArraySlice<UInt8>

    public init(header: NetlinkHeader, payload: ArraySlice<UInt8>) {
        self.header = header
        self.payload = payload
    }

    /// Builds the wire bytes of a request: a header with the given type, flags and sequence number,
    /// then the payload, padded to 4 bytes.
    public static func encode(type: UInt16, flags: UInt16, sequence: UInt32, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(NetlinkHeader.size + align4(payload.count))
        let length = UInt32(NetlinkHeader.size + payload.count)
        bytes.appendNative(length)
        bytes.appendNative(type)
        bytes.appendNative(flags)
        bytes.appendNative(sequence)
        bytes.appendNative(UInt32(0))
        bytes.append(contentsOf: payload)
        bytes.padTo4()
        return bytes
    }

    /// Splits one received datagram into its messages.
    ///
    /// Every message must lie wholly inside the datagram; a header that claims more bytes than there
    /// are, or fewer than a header, is an error. Trailing bytes shorter than a header are ignored,
    /// as the kernel's own `NLMSG_OK` does.
    public static func split(_ datagram: ArraySlice<UInt8>) throws(NetlinkError) -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        var cursor = Cursor(datagram)
        while let message = try cursor.next() { messages.append(message) }
        return messages
    }

    /// Whether a received datagram ends the exchange with sequence number `sequence`: it holds
    /// that exchange's NLMSG_DONE or NLMSG_ERROR, or it cannot be read at all (its reader reports
    /// why). Reads only the headers and allocates nothing.
    public static func endsExchange(_ datagram: ArraySlice<UInt8>, sequence: UInt32) -> Bool {
        var cursor = Cursor(datagram)
        var any = false
        do {
            while let message = try cursor.next() {
                any = true
                if message.header.sequence == sequence,
                   message.header.type == NetlinkType.done || message.header.type == NetlinkType.error {
                    return true
                }
            }
        } catch {
            return true
        }
        return !any
    }

    /// Reads the messages of one received datagram one at a time, with the rules of `split`, for
    /// readers that handle each message as it comes and need no array of them.
    public struct Cursor {
        private let datagram: ArraySlice<UInt8>
        private var offset: Int

        public init(_ datagram: ArraySlice<UInt8>) {
            self.datagram = datagram
            offset = datagram.startIndex
        }

        /// The next message, or nil after the last one; throws for a malformed message.
        public mutating func next() throws(NetlinkError) -> NetlinkMessage? {
            guard datagram.endIndex - offset >= NetlinkHeader.size else { return nil }
            let length = Int(datagram.readNative(UInt32.self, at: offset))
            guard length >= NetlinkHeader.size else {
                throw .malformed("netlink message length \(length) is shorter than its header")
            }
            guard length <= datagram.endIndex - offset else {
                throw .truncated(what: "netlink message", need: length, have: datagram.endIndex - offset)
            }
            let header = NetlinkHeader(
                length: UInt32(length),
                type: datagram.readNative(UInt16.self, at: offset + 4),
                flags: datagram.readNative(UInt16.self, at: offset + 6),
                sequence: datagram.readNative(UInt32.self, at: offset + 8),
                portID: datagram.readNative(UInt32.self, at: offset + 12)
            )
            let payload = datagram[(offset + NetlinkHeader.size)..<(offset + length)]
            offset += min(align4(length), datagram.endIndex - offset)
            return NetlinkMessage(header: header, payload: payload)
        }
    }
}

/// Rounds up to the 4-byte alignment netlink uses for messages and attributes.
@inline(__always)
public func align4(_ n: Int) -> Int { (n + 3) & ~3 }

extension ArraySlice where Element == UInt8 {
    /// Reads a fixed-width integer in host byte order at an absolute index. The caller has checked bounds.
    @inline(__always)
    func readNative<T: FixedWidthInteger>(_: T.Type, at index: Int) -> T {
        precondition(index >= startIndex && index + MemoryLayout<T>.size <= endIndex, "netlink codec read out of bounds")
        return withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index - startIndex, as: T.self) }
    }
}

extension Array where Element == UInt8 {
    /// Appends a fixed-width integer in host byte order.
    @inline(__always)
    mutating func appendNative<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value) { append(contentsOf: $0) }
    }

    /// Appends zero bytes up to the next 4-byte boundary.
    mutating func padTo4() {
        while count % 4 != 0 { append(0) }
    }
}
