/// One policy routing rule (RTM_NEWRULE: `struct fib_rule_hdr`, then FRA_* attributes), as far as
/// tunwarden names it: its priority, table and the devices it matches by name (`ip rule add iif
/// tap0 lookup 44`). The kernel keeps such a rule when its device is deleted (`[detached]`) and
/// attaches it again to a device of that name.
public struct PolicyRuleMessage: Equatable, Sendable {
    public var family: UInt8 = 0
    public var priority: UInt32?
    public var table: UInt32 = 0
    public var inputName: [UInt8]?
    public var outputName: [UInt8]?

    /// Size of `struct fib_rule_hdr`.
    static let headerSize = 12
    /// RTM_NEWRULE and RTM_GETRULE.
    public static let newRule: UInt16 = 32, getRule: UInt16 = 34
    /// FRA_IIFNAME, FRA_PRIORITY, FRA_TABLE, FRA_OIFNAME.
    static let inputAttribute: UInt16 = 3, priorityAttribute: UInt16 = 6, tableAttribute: UInt16 = 15, outputAttribute: UInt16 = 17

    public init() {}

    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> PolicyRuleMessage {
        guard payload.count >= headerSize else { throw .truncated(what: "fib_rule_hdr", need: headerSize, have: payload.count) }
        var rule = PolicyRuleMessage()
        rule.family = payload[payload.startIndex]
        rule.table = UInt32(payload[payload.startIndex + 4])
        var attributes = AttributeDecoder(payload.dropFirst(headerSize))
        while attributes.next() {
            switch attributes.type {
            case inputAttribute: rule.inputName = attributes.bytesUpToNUL()
            case outputAttribute: rule.outputName = attributes.bytesUpToNUL()
            case priorityAttribute: rule.priority = attributes.uint32()
            case tableAttribute: rule.table = attributes.uint32()
            default: break
            }
        }
        try attributes.finish()
        return rule
    }

    /// A dump request for every rule of `family` (AF_INET 2, AF_INET6 10).
    public static func dumpRequest(family: UInt8, sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: headerSize)
        payload[0] = family
        return NetlinkMessage.encode(type: getRule, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }
}
