/// One policy routing rule (RTM_NEWRULE: `struct fib_rule_hdr`, then FRA_* attributes), as far as
/// tunwarden names it: its priority, action, table and the devices it matches by name (`ip rule
/// add iif tap0 lookup 44`). The kernel keeps such a rule when its device is deleted (`[detached]`) and
/// attaches it again to a device of that name.
public struct PolicyRuleMessage: Equatable, Sendable {
    public var family: UInt8 = 0
    public var priority: UInt32?
    public var table: UInt32 = 0
    /// FR_ACT_*: what the rule does with a packet it matches (1 look up `table`, 2 go to the rule
    /// `gotoTarget`, 3 nothing, 6 blackhole, 7 unreachable, 8 prohibit).
    public var action: UInt8 = 0
    /// FRA_GOTO: the priority of the rule a `goto` rule continues at.
    public var gotoTarget: UInt32?
    public var inputName: [UInt8]?
    public var outputName: [UInt8]?

    /// Size of `struct fib_rule_hdr`.
    static let headerSize = 12
    /// RTM_NEWRULE and RTM_GETRULE.
    public static let newRule: UInt16 = 32, getRule: UInt16 = 34
    /// FRA_IIFNAME, FRA_GOTO, FRA_PRIORITY, FRA_TABLE, FRA_OIFNAME.
    static let inputAttribute: UInt16 = 3, gotoAttribute: UInt16 = 4, priorityAttribute: UInt16 = 6, tableAttribute: UInt16 = 15,
               outputAttribute: UInt16 = 17

    /// What `ip rule` prints for the rule's action: `lookup TABLE` (the table as a number, or
    /// `main`, `local`, `default`), `goto N`, `nop`, `blackhole`, `unreachable`, `prohibit`.
    public var actionWords: String {
        switch action {
        case 1: "lookup " + ([253: "default", 254: "main", 255: "local"][table] ?? "\(table)")
        case 2: "goto " + (gotoTarget.map(String.init) ?? "none")
        case 3: "nop"
        case 6: "blackhole"
        case 7: "unreachable"
        case 8: "prohibit"
        default: "action \(action)"
        }
    }

    public init() {}

    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> PolicyRuleMessage {
        guard payload.count >= headerSize else { throw .truncated(what: "fib_rule_hdr", need: headerSize, have: payload.count) }
        var rule = PolicyRuleMessage()
        rule.family = payload[payload.startIndex]
        rule.table = UInt32(payload[payload.startIndex + 4])
        rule.action = payload[payload.startIndex + 7]
        var attributes = AttributeDecoder(payload.dropFirst(headerSize))
        while attributes.next() {
            switch attributes.type {
            case inputAttribute: rule.inputName = attributes.bytesUpToNUL()
            case outputAttribute: rule.outputName = attributes.bytesUpToNUL()
            case priorityAttribute: rule.priority = attributes.uint32()
            case gotoAttribute: rule.gotoTarget = attributes.uint32()
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
