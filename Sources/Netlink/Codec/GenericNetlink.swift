/// Generic netlink (include/uapi/linux/genetlink.h, over NETLINK_GENERIC): a family such as
/// MPTCP's path manager has no fixed message type; the kernel's controller gives out its number
/// by name. Each message carries `struct genlmsghdr` (command, version, two reserved bytes)
/// before its attributes.
public enum GenericNetlink {
    /// NETLINK_GENERIC, the netlink protocol generic netlink speaks.
    public static let netlinkProtocol: Int32 = 16
    /// GENL_ID_CTRL, the controller's fixed message type.
    public static let controller: UInt16 = 0x10
    /// CTRL_CMD_GETFAMILY, which asks the controller for a family by name.
    static let getFamily: UInt8 = 3
    /// CTRL_ATTR_FAMILY_ID (u16) and CTRL_ATTR_FAMILY_NAME (a NUL-terminated string).
    static let familyIDAttribute: UInt16 = 1, familyNameAttribute: UInt16 = 2
    /// The size of `struct genlmsghdr`.
    public static let headerSize = 4

    /// The bytes of a generic netlink message of type `family`: `command` and `version` in its
    /// header, then `attributes`.
    public static func encode(family: UInt16, flags: UInt16, sequence: UInt32, command: UInt8, version: UInt8, attributes: [UInt8] = []) -> [UInt8] {
        NetlinkMessage.encode(type: family, flags: flags, sequence: sequence, payload: [command, version, 0, 0] + attributes)
    }

    /// A request for the number of the family called `name` (`genl ctrl get name NAME`). A
    /// kernel without that family refuses it with ENOENT.
    public static func familyRequest(name: String, sequence: UInt32) -> [UInt8] {
        var attributes = AttributeEncoder()
        attributes.append(type: familyNameAttribute, string: name)
        return encode(family: controller, flags: NetlinkFlags.request, sequence: sequence, command: getFamily, version: 1, attributes: attributes.bytes)
    }

    /// The family number the controller's answer gives. Throws when the payload is shorter than
    /// `struct genlmsghdr`, an attribute is malformed, or no number is given.
    public static func decodeFamilyID(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> UInt16 {
        guard payload.count >= headerSize else { throw .truncated(what: "genlmsghdr", need: headerSize, have: payload.count) }
        var attributes = AttributeDecoder(payload.dropFirst(headerSize))
        var id: UInt16?
        while attributes.next() {
            if attributes.type == familyIDAttribute { id = attributes.uint16() }
        }
        try attributes.finish()
        guard let id, id != 0 else { throw .malformed("the generic netlink controller's answer gives no family number") }
        return id
    }
}
