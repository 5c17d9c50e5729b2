/// What a link notification (RTM_NEWLINK) says of a device's link group, read without decoding
/// the rest of the message: a reap that deletes its batch by group watches the notifications for
/// a device that joins the group and is not its own.
public struct LinkGroupNotice: Equatable, Sendable {
    /// The device's ifindex and name (nil when the message gives none).
    public var index: Int32
    public var name: [UInt8]?
    /// Its link group (nil when the message gives none).
    public var group: UInt32?

    public init(index: Int32, name: [UInt8]? = nil, group: UInt32? = nil) {
        (self.index, self.name, self.group) = (index, name, group)
    }

    /// The notice one link message's payload gives. Throws for a payload shorter than `struct
    /// ifinfomsg` or a malformed attribute.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> LinkGroupNotice {
        guard payload.count >= LinkMessage.headerSize else { throw .truncated(what: "ifinfomsg", need: LinkMessage.headerSize, have: payload.count) }
        var notice = LinkGroupNotice(index: payload.readNative(Int32.self, at: payload.startIndex + 4))
        var attributes = AttributeDecoder(payload[(payload.startIndex + LinkMessage.headerSize)...])
        while attributes.next() {
            switch attributes.type {
            case LinkMessage.Attribute.ifname: notice.name = attributes.bytesUpToNUL()
            case LinkMessage.Attribute.group: notice.group = attributes.uint32()
            default: break
            }
        }
        try attributes.finish()
        return notice
    }
}
