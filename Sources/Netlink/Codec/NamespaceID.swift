/// RTM_GETNSID / RTM_NEWNSID: the id this namespace gives another network namespace.
///
/// A veth whose peer lives elsewhere reports the peer's namespace only as such an id
/// (IFLA_LINK_NETNSID). Asking the kernel for the id of each namespace we can name (by a process
/// in it, or by a file under /run/netns) is how the peer's namespace is identified.
public enum NamespaceIDMessage {
    /// NETNSA_* attribute numbers, from include/uapi/linux/net_namespace.h.
    public enum Attribute {
        public static let nsid: UInt16 = 1
        public static let pid: UInt16 = 2
        public static let fd: UInt16 = 3
    }

    /// The kernel's answer when the namespace has no id here yet (NETNSA_NSID_NOT_ASSIGNED).
    public static let notAssigned: Int32 = -1

    /// Size of `struct rtgenmsg`, padded.
    static let headerSize = 4

    /// Asks for the id of the namespace that process `pid` is in.
    public static func request(pid: UInt32, sequence: UInt32) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [UInt8](repeating: 0, count: headerSize))
        attributes.append(type: Attribute.pid, uint32: pid)
        return NetlinkMessage.encode(type: NetlinkType.getNSID, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// Asks for the id of the namespace behind an open file descriptor.
    public static func request(fd: Int32, sequence: UInt32) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [UInt8](repeating: 0, count: headerSize))
        attributes.append(type: Attribute.fd, uint32: UInt32(bitPattern: fd))
        return NetlinkMessage.encode(type: NetlinkType.getNSID, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// Asks for every id this namespace gives another (RTM_GETNSID with NLM_F_DUMP, as
    /// `ip netns list-id` does): one RTM_NEWNSID per id, each with NETNSA_NSID. The table holds a
    /// namespace that no process runs in and no path names, as long as something keeps it and the
    /// kernel gave it an id here (a link moved there from here, a veth peer, `ip netns set`).
    public static func dumpRequest(sequence: UInt32) -> [UInt8] {
        NetlinkMessage.encode(type: NetlinkType.getNSID, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence,
                              payload: [UInt8](repeating: 0, count: headerSize))
    }

    /// Reads the id from an RTM_NEWNSID reply.
    public static func decodeID(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> Int32 {
        guard payload.count >= headerSize else {
            throw .truncated(what: "rtgenmsg", need: headerSize, have: payload.count)
        }
        var attributes = AttributeDecoder(payload[(payload.startIndex + headerSize)...])
        var id: Int32?
        while attributes.next() {
            if attributes.type == Attribute.nsid { id = attributes.int32() }
        }
        try attributes.finish()
        guard let id else { throw .malformed("RTM_NEWNSID without NETNSA_NSID") }
        return id
    }
}
