/// One policy routing rule (RTM_NEWRULE: `struct fib_rule_hdr`, then FRA_* attributes), as far as
/// tunwarden names or judges it: its priority, action and table, the devices it matches by name
/// (`ip rule add iif tap0 lookup 44`), and every selector that decides which packets it matches,
/// so that a dead route's table can be told apart from one no ordinary traffic reaches. The
/// kernel keeps a rule naming a device when the device is deleted (`[detached]`) and attaches it
/// again to a device of that name.
public struct PolicyRuleMessage: Equatable, Sendable {
    public var family: UInt8 = 0
    public var priority: UInt32?
    public var table: UInt32 = 0
    /// FR_ACT_*: what the rule does with a packet it matches (1 look up `table`, 2 go to the rule
    /// `gotoTarget`, 3 nothing, 6 blackhole, 7 unreachable, 8 prohibit).
    public var action: UInt8 = 0
    /// FIB_RULE_* flags of the header: `invert` (`ip rule add not …`), `unresolved` (a goto whose
    /// target rule does not exist, which the kernel passes by).
    public var flags: UInt32 = 0
    /// FRA_GOTO: the priority of the rule a `goto` rule continues at.
    public var gotoTarget: UInt32?
    public var inputName: [UInt8]?
    public var outputName: [UInt8]?
    /// FRA_DST and FRA_SRC with the header's dst_len and src_len: the destinations and sources the
    /// rule matches (`to`, `from`); a length of 0 matches every address and sends no address.
    public var destination: [UInt8]?
    public var destinationLength: UInt8 = 0
    public var source: [UInt8]?
    public var sourceLength: UInt8 = 0
    /// The header's tos (IPv4) or traffic class (IPv6); 0 matches every packet.
    public var tos: UInt8 = 0
    /// FRA_FWMARK and FRA_FWMASK: the rule matches packets whose mark, masked, equals the mark.
    /// The kernel sends the mask whenever it sends a mark (a mark alone is matched whole).
    public var mark: UInt32?
    public var markMask: UInt32?
    /// FRA_UID_RANGE: the socket owners matched, first and last uid; sent only when narrower than all.
    public var uidRange: UIDRange?
    /// A first and a last uid (`struct fib_rule_uid_range`).
    public struct UIDRange: Equatable, Sendable {
        public var first: UInt32
        public var last: UInt32
    }
    /// FRA_IP_PROTO: the IP protocol matched (`ipproto tcp`).
    public var ipProtocol: UInt8?
    /// FRA_SPORT_RANGE and FRA_DPORT_RANGE: the source and destination ports matched, first and last.
    public var sourcePorts: ClosedRange<UInt16>?
    public var destinationPorts: ClosedRange<UInt16>?
    /// FRA_SPORT_MASK and FRA_DPORT_MASK (Linux 6.16): with a single port, the bits of a packet's
    /// port that must equal it (`ip rule add dport 0x4/0xff …`). Kernels that have them send
    /// 0xffff, a match of the whole port, with every single port.
    public var sourcePortMask: UInt16?
    public var destinationPortMask: UInt16?
    /// FRA_L3MDEV: the rule looks up the table of the VRF device a packet belongs to (`l3mdev`).
    public var l3mdev = false
    /// FRA_SUPPRESS_PREFIXLEN: a lookup's answer with a prefix this long or shorter is refused
    /// and the walk goes on (`suppress_prefixlength 0` refuses default routes); nil when unset
    /// (the kernel sends -1).
    public var suppressPrefixLength: UInt32?
    /// FRA_SUPPRESS_IFGROUP: a lookup's answer through a device of this group is refused; nil when unset.
    public var suppressInterfaceGroup: UInt32?
    /// FRA_TUN_ID: the tunnel id a packet must carry (set on packets a collect-metadata tunnel
    /// received); the kernel sends it, big-endian, only when not 0.
    public var tunnelID: UInt64?
    /// FRA_FLOW (`realms FROM/TO`): the routing realms the rule gives the traffic it matches, the
    /// source realm in the upper 16 bits. A classification for `route` filters and realm
    /// accounting, not a selector: `fib4_rule_match` never looks at it.
    public var realms: UInt32?
    /// Selectors tunwarden does not judge by that still narrow what the rule matches (FRA_DSCP,
    /// FRA_FLOWLABEL, …), by attribute type: such a rule matches only some traffic.
    public var otherSelectors: [UInt16] = []

    /// Size of `struct fib_rule_hdr`.
    static let headerSize = 12
    /// RTM_NEWRULE, RTM_DELRULE and RTM_GETRULE.
    public static let newRule: UInt16 = 32, deleteRule: UInt16 = 33, getRule: UInt16 = 34
    /// FIB_RULE_INVERT and FIB_RULE_UNRESOLVED.
    public static let invertFlag: UInt32 = 0x2, unresolvedFlag: UInt32 = 0x4
    /// FRA_* attribute types (linux/fib_rules.h).
    enum Attribute {
        static let destination: UInt16 = 1, source: UInt16 = 2, input: UInt16 = 3, goto: UInt16 = 4, priority: UInt16 = 6, mark: UInt16 = 10
        static let flow: UInt16 = 11, tunnelID: UInt16 = 12, suppressGroup: UInt16 = 13, suppressLength: UInt16 = 14, table: UInt16 = 15, markMask: UInt16 = 16
        static let output: UInt16 = 17, l3mdev: UInt16 = 19, uidRange: UInt16 = 20, ipProtocol: UInt16 = 22, sourcePorts: UInt16 = 23, destinationPorts: UInt16 = 24
        static let sourcePortMask: UInt16 = 28, destinationPortMask: UInt16 = 29
        /// FRA_DSCP, FRA_FLOWLABEL, FRA_FLOWLABEL_MASK and FRA_DSCP_MASK: selectors of newer kernels.
        static let newerSelectors: [UInt16] = [25, 26, 27, 30]
    }

    /// Whether the rule matches the packets its selectors do not (FIB_RULE_INVERT, `ip rule add not …`).
    public var inverted: Bool { flags & Self.invertFlag != 0 }

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
        let start = payload.startIndex
        rule.family = payload[start]
        (rule.destinationLength, rule.sourceLength, rule.tos) = (payload[start + 1], payload[start + 2], payload[start + 3])
        rule.table = UInt32(payload[start + 4])
        rule.action = payload[start + 7]
        rule.flags = payload.readNative(UInt32.self, at: start + 8)
        var attributes = AttributeDecoder(payload.dropFirst(headerSize))
        while attributes.next() {
            switch attributes.type {
            case Attribute.input: rule.inputName = attributes.bytesUpToNUL()
            case Attribute.output: rule.outputName = attributes.bytesUpToNUL()
            case Attribute.priority: rule.priority = attributes.uint32()
            case Attribute.goto: rule.gotoTarget = attributes.uint32()
            case Attribute.table: rule.table = attributes.uint32()
            case Attribute.destination: rule.destination = try address(&attributes, family: rule.family)
            case Attribute.source: rule.source = try address(&attributes, family: rule.family)
            case Attribute.mark: rule.mark = attributes.uint32()
            case Attribute.markMask: rule.markMask = attributes.uint32()
            case Attribute.uidRange:
                let (first, last) = try pair(&attributes, UInt32.self, "fib_rule_uid_range")
                rule.uidRange = UIDRange(first: first, last: last)
            case Attribute.ipProtocol: rule.ipProtocol = attributes.uint8()
            case Attribute.sourcePorts: rule.sourcePorts = try ports(&attributes)
            case Attribute.destinationPorts: rule.destinationPorts = try ports(&attributes)
            case Attribute.sourcePortMask: rule.sourcePortMask = attributes.uint16()
            case Attribute.destinationPortMask: rule.destinationPortMask = attributes.uint16()
            case Attribute.l3mdev: rule.l3mdev = attributes.uint8() != 0
            case Attribute.suppressLength:
                let length = attributes.uint32()
                rule.suppressPrefixLength = length == UInt32.max ? nil : length
            case Attribute.suppressGroup:
                let group = attributes.uint32()
                rule.suppressInterfaceGroup = group == UInt32.max ? nil : group
            case Attribute.tunnelID: rule.tunnelID = UInt64(bigEndian: attributes.uint64())
            case Attribute.flow: rule.realms = attributes.uint32()
            case let type where Attribute.newerSelectors.contains(type):
                rule.otherSelectors.append(type)
            default: break
            }
        }
        try attributes.finish()
        return rule
    }

    /// An address attribute of the rule's family: 4 bytes for AF_INET, 16 for AF_INET6.
    private static func address(_ attributes: inout AttributeDecoder, family: UInt8) throws(NetlinkError) -> [UInt8] {
        let bytes = attributes.rawBytes
        guard bytes.count == (family == 10 ? 16 : 4) else { throw .malformed("a rule address of \(bytes.count) bytes for family \(family)") }
        return bytes
    }

    /// Two native-endian integers of one attribute (a uid or port range's first and last).
    private static func pair<T: FixedWidthInteger>(_ attributes: inout AttributeDecoder, _: T.Type, _ what: String) throws(NetlinkError) -> (T, T) {
        let bytes = attributes.data, size = MemoryLayout<T>.size
        guard bytes.count >= 2 * size else { throw .truncated(what: what, need: 2 * size, have: bytes.count) }
        return (bytes.readNative(T.self, at: bytes.startIndex), bytes.readNative(T.self, at: bytes.startIndex + size))
    }

    /// A port range (`struct fib_rule_port_range`); one whose last port is before its first is malformed.
    private static func ports(_ attributes: inout AttributeDecoder) throws(NetlinkError) -> ClosedRange<UInt16> {
        let (first, last) = try pair(&attributes, UInt16.self, "fib_rule_port_range")
        guard first <= last else { throw .malformed("a rule port range \(first)-\(last)") }
        return first...last
    }

    /// A dump request for every rule of `family` (AF_INET 2, AF_INET6 10).
    public static func dumpRequest(family: UInt8, sequence: UInt32) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: headerSize)
        payload[0] = family
        return NetlinkMessage.encode(type: getRule, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }
}
