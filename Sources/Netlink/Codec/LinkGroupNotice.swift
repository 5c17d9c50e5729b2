/// What a link notification (RTM_NEWLINK) says of a device's link group, read without decoding
/// the rest of the message: a reap that deletes its batch by group watches the notifications for
/// a device that joins the group and is not its own.
public struct LinkGroupNotice: Equatable, Sendable {
    /// The device's ifindex and name (nil when the message gives none).
    public var index: Int32
    public var name: [UInt8]?
    /// Its link group (nil when the message gives none).
    public var group: UInt32?
    /// The ifindex it names as its link (IFLA_LINK: a veth's peer, a stacked device's lower
    /// device), when the message gives one; nil too when that device is in another namespace
    /// (the message gives IFLA_LINK_NETNSID), where the number means another device.
    public var link: Int32?

    public init(index: Int32, name: [UInt8]? = nil, group: UInt32? = nil, link: Int32? = nil) {
        (self.index, self.name, self.group, self.link) = (index, name, group, link)
    }

    /// The notice one link message's payload gives. Throws for a payload shorter than `struct
    /// ifinfomsg` or a malformed attribute.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> LinkGroupNotice {
        guard payload.count >= LinkMessage.headerSize else { throw .truncated(what: "ifinfomsg", need: LinkMessage.headerSize, have: payload.count) }
        var notice = LinkGroupNotice(index: payload.readNative(Int32.self, at: payload.startIndex + 4))
        var attributes = AttributeDecoder(payload[(payload.startIndex + LinkMessage.headerSize)...])
        var elsewhere = false
        while attributes.next() {
            switch attributes.type {
            case LinkMessage.Attribute.ifname: notice.name = attributes.bytesUpToNUL()
            case LinkMessage.Attribute.group: notice.group = attributes.uint32()
            case LinkMessage.Attribute.link: notice.link = attributes.int32()
            case LinkMessage.Attribute.linkNetnsID: elsewhere = true
            default: break
            }
        }
        try attributes.finish()
        if elsewhere { notice.link = nil }
        return notice
    }
}
