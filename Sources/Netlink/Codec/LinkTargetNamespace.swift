/// RTM_GETLINK dumps of another namespace, named by the id the socket's namespace gives it
/// (IFLA_TARGET_NETNSID): the links of a namespace that no path or process opens, read without
/// entering it.
///
/// The kernel (net/core/rtnetlink.c, `rtnl_dump_ifinfo`) looks the id up in the socket's
/// namespace, requires CAP_NET_ADMIN in the user namespace that owns the target, and dumps the
/// target's links with IFLA_LINK_NETNSID numbered in the socket's namespace (`rtnl_fill_ifinfo`
/// is given the socket's namespace as the source): a link there stacked on a device here carries
/// the id this namespace gives itself. Every answer carries IFLA_TARGET_NETNSID back; a kernel
/// older than 4.15 (which added the attribute as IFLA_IF_NETNSID) ignores it and dumps the
/// socket's own namespace instead, which an answer without it shows.
extension LinkMessage {
    /// IFLA_TARGET_NETNSID (IFLA_IF_NETNSID before Linux 4.20), s32.
    public static let targetNetnsIDAttribute: UInt16 = 46

    /// An RTM_GETLINK dump request for every link of the namespace known here as `targetNamespaceID`,
    /// without the per-link IPv6 statistics.
    public static func dumpRequest(targetNamespaceID: Int32, sequence: UInt32) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [UInt8](repeating: 0, count: headerSize))
        attributes.append(type: Attribute.extMask, uint32: skipStats)
        attributes.append(type: targetNetnsIDAttribute, int32: targetNamespaceID)
        return NetlinkMessage.encode(type: NetlinkType.getLink, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence,
                                     payload: attributes.bytes)
    }

    /// The IFLA_TARGET_NETNSID an RTM_NEWLINK answer carries: the id of the namespace the link was
    /// dumped from, nil when the answer has none (the link is the socket's own namespace's).
    public static func targetNamespaceID(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> Int32? {
        guard payload.count >= headerSize else { throw .truncated(what: "ifinfomsg", need: headerSize, have: payload.count) }
        var attributes = AttributeDecoder(payload[(payload.startIndex + headerSize)...])
        var id: Int32?
        while attributes.next() {
            if attributes.type == targetNetnsIDAttribute { id = attributes.int32() }
        }
        try attributes.finish()
        return id
    }
}
