/// nftables rules (include/uapi/linux/netfilter/nf_tables.h, over NETLINK_NETFILTER), read for
/// the devices their `fwd` and `dup` statements send packets to (`fwd to "tap0"` in a netdev
/// chain, `dup to 10.0.0.2 device "tap0"`), and base chains and flowtables for the devices they
/// are hooked on. Such a device is configured into another device's traffic, or set up for,
/// though no process holds it; deleting it leaves the rule sending that traffic nowhere, or the
/// chain unhooked.
///
/// A statement takes its device's ifindex from a register. `nft` fills it right before, with a
/// constant (`immediate`) or with a map lookup (`fwd to meta mark map { 1 : "tap0" }`), whose
/// elements then name the devices; a map may also be filled as packets come (`update @m { ip
/// saddr : "tap0" }`, a `dynset`), whose data is read the same way. A register filled any other
/// way, or by an expression this reader does not know in between, names a device only as packets
/// come: that is reported as such, never guessed. An iptables-nft rule's `target` expression
/// carries an x_tables target as is; of those, TEE (`-j TEE --oif tap0`) names the device it
/// duplicates packets to, by name (see `XtablesTable.teeDevice`).
public enum NftablesRule {
    /// NETLINK_NETFILTER, the netlink protocol nftables speaks.
    public static let netlinkProtocol: Int32 = 12
    /// NFNL_SUBSYS_NFTABLES: the high byte of every nftables message type.
    static let subsystem: UInt16 = 10
    /// NFT_MSG_NEWRULE / NFT_MSG_GETRULE, NFT_MSG_NEWSETELEM / NFT_MSG_GETSETELEM.
    static let newRule: UInt16 = 6, getRule: UInt16 = 7, newSetElement: UInt16 = 12, getSetElement: UInt16 = 13
    /// NFTA_RULE_TABLE, NFTA_RULE_CHAIN, NFTA_RULE_EXPRESSIONS; NFTA_LIST_ELEM; NFTA_EXPR_NAME,
    /// NFTA_EXPR_DATA; NFTA_DATA_VALUE.
    static let ruleTable: UInt16 = 1, ruleChain: UInt16 = 2, ruleExpressions: UInt16 = 4
    static let listElement: UInt16 = 1
    static let expressionName: UInt16 = 1, expressionData: UInt16 = 2
    static let dataValue: UInt16 = 1
    /// NFTA_SET_ELEM_LIST_TABLE, NFTA_SET_ELEM_LIST_SET, NFTA_SET_ELEM_LIST_ELEMENTS;
    /// NFTA_SET_ELEM_KEY, NFTA_SET_ELEM_DATA, NFTA_SET_ELEM_FLAGS, NFTA_SET_ELEM_KEY_END.
    static let elementsTable: UInt16 = 1, elementsSet: UInt16 = 2, elementsList: UInt16 = 3
    static let elementKey: UInt16 = 1, elementData: UInt16 = 2, elementFlags: UInt16 = 3, elementKeyEnd: UInt16 = 10

    /// The message type of a rule, as a dump lists it.
    public static let ruleMessage: UInt16 = subsystem << 8 | newRule
    /// The message type of a set's elements, as a dump lists them.
    public static let setElementMessage: UInt16 = subsystem << 8 | newSetElement

    /// Where a `fwd` or `dup` statement takes its device from.
    public enum Device: Equatable, Hashable, Sendable {
        /// A constant ifindex.
        case index(UInt32)
        /// The values of a map, looked up by something of the packet: any of them may be used.
        case map(family: UInt8, table: [UInt8], name: [UInt8])
        /// Something else, known only as packets come (in words: what fills the register).
        case runtime(String)
        /// The device of this name (the kernel's bytes), whichever device has it when packets
        /// come: an x_tables TEE target's `--oif`.
        case named([UInt8])
    }

    /// One rule's `fwd` and `dup` statements (none for most rules), with where the rule sits.
    public struct Rule: Equatable, Sendable {
        /// The family of its table (NFPROTO_NETDEV 5, NFPROTO_IPV4 2, …).
        public var family: UInt8
        public var table: [UInt8]
        public var chain: [UInt8]
        /// The devices its statements send packets to, in its order.
        public var devices: [Device]
        /// What its `dynset` statements put into maps of its table as packets come: the map's
        /// name, and where the data comes from (read like a device; it is one when the map is
        /// one a statement takes its device from).
        public var mapFills: [MapFill] = []
        /// Where it matches a packet's device by index (`iif "vpn0"`, `oif @ifs`).
        public var indexMatches: [IndexMatch] = []
        /// The generation of the ruleset the kernel listed it from (`nfgenmsg.res_id`).
        public var generation: UInt16
    }

    /// Data a rule puts into a map as packets come.
    public struct MapFill: Equatable, Sendable {
        public var map: [UInt8]
        public var data: Device
    }

    /// A dump request for every rule of every family.
    public static func rulesDumpRequest(sequence: UInt32) -> [UInt8] {
        NetlinkMessage.encode(type: subsystem << 8 | getRule, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence,
                              payload: [0, 0, 0, 0])     // struct nfgenmsg: family UNSPEC, version 0, res_id 0
    }

    /// A dump request for the elements of one set (or map).
    public static func setElementsDumpRequest(sequence: UInt32, family: UInt8, table: [UInt8], set: [UInt8]) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [family, 0, 0, 0])
        attributes.append(type: elementsTable, payload: table + [0])
        attributes.append(type: elementsSet, payload: set + [0])
        return NetlinkMessage.encode(type: subsystem << 8 | getSetElement, flags: NetlinkFlags.request | NetlinkFlags.dump,
                                     sequence: sequence, payload: attributes.bytes)
    }

    /// The generation a reply was listed from: `nfgenmsg.res_id`, big-endian. Throws for a
    /// payload shorter than `struct nfgenmsg`.
    public static func generation(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> UInt16 {
        guard payload.count >= 4 else { throw .truncated(what: "nfgenmsg", need: 4, have: payload.count) }
        return UInt16(payload[payload.startIndex + 2]) << 8 | UInt16(payload[payload.startIndex + 3])
    }

    /// One expression of a rule, as far as a register's story needs it.
    struct Expression {
        var name: [UInt8] = []
        /// Attribute type to its payload, for the few attributes read.
        var attributes: [UInt16: ArraySlice<UInt8>] = [:]

        func register(_ type: UInt16) -> UInt32? {
            guard let data = attributes[type], data.count == 4 else { return nil }
            // nftables sends registers big-endian (NLA_U32 through nla_put_be32).
            return data.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
    }

    /// Expressions that only read registers (or write none), so one between a register's filling
    /// and its use leaves it as it was.
    static let readers: Set<[UInt8]> = Set(["cmp", "counter", "log", "limit", "quota", "range", "last", "notrack",
                                                      "reject", "dup", "fwd", "queue", "connlimit", "match", "target", "dynset",
                                                      "nat", "masq", "redir", "tproxy", "synproxy", "flow_offload", "objref"].map { Array($0.utf8) })
    /// Expressions that write registers, with the attribute naming the first (`NFTA_PAYLOAD_DREG`,
    /// `NFTA_META_DREG`, …) and the one giving how many bytes they write, where they have one
    /// (`NFTA_PAYLOAD_LEN`, …; without it, as many as any value can have): one that writes
    /// elsewhere than the register followed leaves it as it was (`meta mark set`, `payload`
    /// writing the packet, name no such register and write none).
    static let writers: [[UInt8]: (register: UInt16, length: UInt16?)] = Dictionary(uniqueKeysWithValues: [
        ("payload", (1, 4)), ("meta", (1, nil)), ("ct", (1, nil)), ("bitwise", (2, 3)), ("byteorder", (2, 4)), ("exthdr", (1, 4)),
        ("hash", (2, nil)), ("numgen", (1, nil)), ("rt", (1, nil)), ("fib", (1, nil)), ("osf", (1, nil)), ("socket", (2, nil)),
        ("xfrm", (1, nil)), ("tunnel", (2, nil)),
    ].map { (Array($0.0.utf8), (UInt16($0.1.0), $0.1.1.map(UInt16.init))) })
    /// The most 4-byte words one value fills (NFT_REG32_00…15: 64 bytes).
    static let longestValue: UInt32 = 16

    /// The `fwd` and `dup` statements of one rule. Throws for a payload shorter than `struct
    /// nfgenmsg`, or attributes that do not parse.
    public static func decodeRule(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> Rule {
        let generation = try generation(payload)
        var rule = Rule(family: payload[payload.startIndex], table: [], chain: [], devices: [], generation: generation)
        var expressions: [Expression] = []
        var attributes = AttributeDecoder(payload.dropFirst(4))
        while attributes.next() {
            switch attributes.type {
            case ruleTable: rule.table = attributes.bytesUpToNUL()
            case ruleChain: rule.chain = attributes.bytesUpToNUL()
            case ruleExpressions:
                attributes.nested { list in
                    while list.next() {
                        guard list.type == listElement else { continue }
                        var expression = Expression()
                        list.nested { element in
                            while element.next() {
                                switch element.type {
                                case expressionName: expression.name = element.bytesUpToNUL()
                                case expressionData:
                                    element.nested { data in
                                        while data.next() { expression.attributes[data.type] = data.data }
                                    }
                                default: break
                                }
                            }
                        }
                        expressions.append(expression)
                    }
                }
            default: break
            }
        }
        try attributes.finish()
        rule.indexMatches = indexMatches(in: expressions)
        for (position, expression) in expressions.enumerated() {
            // NFTA_FWD_SREG_DEV is 1, NFTA_DUP_SREG_DEV is 2; NFTA_DYNSET_SET_NAME 1, NFTA_DYNSET_SREG_DATA 5.
            let deviceRegister: UInt32?
            switch expression.name {
            case Array("fwd".utf8): deviceRegister = expression.register(1)
            case Array("dup".utf8): deviceRegister = expression.register(2)
            case Array("target".utf8):
                // NFTA_TARGET_NAME 1, NFTA_TARGET_REV 2 (big-endian), NFTA_TARGET_INFO 3.
                guard let name = expression.attributes[1], name.prefix(while: { $0 != 0 }).elementsEqual("TEE".utf8) else { continue }
                guard let revision = expression.register(2), let info = expression.attributes[3] else {
                    rule.devices.append(.runtime("a TEE target without its revision or data"))
                    continue
                }
                switch XtablesTable.teeDevice(revision: revision, info: info) {
                case .routed: break
                case let .named(device): rule.devices.append(.named(device))
                case let .unknown(what): rule.devices.append(.runtime(what))
                }
                continue
            case Array("dynset".utf8):
                if let map = expression.attributes[1], let data = expression.register(5) {
                    rule.mapFills.append(MapFill(map: Array(map.prefix { $0 != 0 }),
                                                 data: source(of: data, before: position, in: expressions, family: rule.family, table: rule.table)))
                }
                continue
            default: continue
            }
            guard let deviceRegister else {
                // `dup to ADDRESS` names no device; a `fwd` always does, so one without a
                // readable device register is not known.
                if expression.name == Array("fwd".utf8) { rule.devices.append(.runtime("a device register that cannot be read")) }
                continue
            }
            rule.devices.append(source(of: deviceRegister, before: position, in: expressions, family: rule.family, table: rule.table))
        }
        return rule
    }

    /// Where the value in `register` at expression `position` came from: the nearest expression
    /// before it that fills the register, provided every expression in between is known to leave
    /// it alone.
    private static func source(of register: UInt32, before position: Int, in expressions: [Expression], family: UInt8, table: [UInt8]) -> Device {
        let wanted = firstWord(register)
        for expression in expressions[..<position].reversed() {
            switch expression.name {
            case Array("immediate".utf8):
                // NFTA_IMMEDIATE_DREG 1, NFTA_IMMEDIATE_DATA 2 { NFTA_DATA_VALUE 1 }.
                guard let target = expression.register(1) else { continue }
                guard let data = expression.attributes[2] else {
                    guard covers(target, wanted, words: 1) else { continue }
                    return .runtime("an immediate value without data")
                }
                var inner = AttributeDecoder(data)
                var value: ArraySlice<UInt8>?
                while inner.next() { if inner.type == dataValue { value = inner.data } }
                // A verdict (`accept`, `jump`) goes to the verdict register, no data register.
                guard let value else { continue }
                guard covers(target, wanted, words: UInt32((value.count + 3) / 4)) else { continue }
                let offset = Int(wanted - firstWord(target)) * 4
                guard value.count >= offset + 4 else { return .runtime("an immediate value that is not a device index") }
                return .index(value.readNative(UInt32.self, at: value.startIndex + offset))
            case Array("lookup".utf8):
                // NFTA_LOOKUP_SET 1, NFTA_LOOKUP_DREG 3. A map's data may be longer than a device
                // index: only its first word is read as one.
                guard let target = expression.register(3), covers(target, wanted, words: longestValue) else { continue }
                guard wanted == firstWord(target) else { return .runtime("a map whose data is more than a device index") }
                guard let set = expression.attributes[1] else { return .runtime("a lookup in a map without a name") }
                return .map(family: family, table: table, name: Array(set.prefix { $0 != 0 }))
            default:
                if let writer = writers[expression.name] {
                    let length = writer.length.flatMap { expression.register($0) }.map { ($0 + 3) / 4 } ?? longestValue
                    guard let target = expression.register(writer.register), covers(target, wanted, words: max(length, 1)) else { continue }
                    return .runtime("its \(String(decoding: expression.name, as: UTF8.self)) expression")
                }
                guard readers.contains(expression.name) else {
                    return .runtime("its \(String(decoding: expression.name, as: UTF8.self)) expression")
                }
            }
        }
        return .runtime("a register nothing before it in the rule fills")
    }

    /// The index of the first 4-byte word a register names: NFT_REG_1…4 are 16 bytes each, from
    /// word 0; NFT_REG32_00…15 (8…23) are one word each.
    static func firstWord(_ register: UInt32) -> UInt32 {
        register >= 8 ? register - 8 : (register &- 1) &* 4
    }

    /// Whether a value of `words` 4-byte words written from register `target` on covers `word`
    /// (a value runs on into the registers after its first).
    static func covers(_ target: UInt32, _ word: UInt32, words: UInt32) -> Bool {
        guard (1...4).contains(target) || (8...23).contains(target) else { return false }
        let start = firstWord(target)
        return word >= start && word - start < words
    }

    /// The values of a map's elements, as one reply lists them: those that can be device indices
    /// (exactly four bytes), and how many others there are (a map whose data is longer than an
    /// index, whose first word is then read). Throws for a payload shorter than `struct
    /// nfgenmsg`, or attributes that do not parse.
    public static func decodeSetElementValues(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> (values: [UInt32], others: Int, generation: UInt16) {
        var values: [UInt32] = []
        var others = 0
        let generation = try eachSetElement(payload) { element in
            while element.next() {
                guard element.type == elementData else { continue }
                element.nested { data in
                    while data.next() {
                        guard data.type == dataValue else { continue }
                        if data.data.count == 4 {
                            values.append(data.data.readNative(UInt32.self, at: data.data.startIndex))
                        } else {
                            others += 1
                        }
                    }
                }
            }
        }
        return (values, others, generation)
    }

    /// Calls `body` with the attributes of each element one NFT_MSG_NEWSETELEM reply lists
    /// (NFTA_SET_ELEM_LIST_ELEMENTS { NFTA_LIST_ELEM { … } }), and returns the reply's ruleset
    /// generation. Throws for a payload shorter than `struct nfgenmsg`, or attributes that do
    /// not parse.
    static func eachSetElement(_ payload: ArraySlice<UInt8>, _ body: (inout AttributeDecoder) -> Void) throws(NetlinkError) -> UInt16 {
        let generation = try generation(payload)
        var attributes = AttributeDecoder(payload.dropFirst(4))
        while attributes.next() {
            guard attributes.type == elementsList else { continue }
            attributes.nested { list in
                while list.next() {
                    guard list.type == listElement else { continue }
                    list.nested(body)
                }
            }
        }
        try attributes.finish()
        return generation
    }

    /// NFT_MSG_NEWCHAIN / NFT_MSG_GETCHAIN, NFT_MSG_NEWFLOWTABLE / NFT_MSG_GETFLOWTABLE.
    static let newChain: UInt16 = 3, getChain: UInt16 = 4, newFlowtable: UInt16 = 22, getFlowtable: UInt16 = 23
    /// The message types of a chain and a flowtable, as dumps list them.
    public static let chainMessage: UInt16 = subsystem << 8 | newChain
    public static let flowtableMessage: UInt16 = subsystem << 8 | newFlowtable

    /// A base chain or flowtable and the devices it is hooked on, by name (a netdev chain's
    /// `device "tap0"` or `devices = { … }`, a flowtable's `devices`): set up for those devices,
    /// it loses its hook on one that is deleted (and older kernels release a chain left with
    /// none, rules and all).
    public struct Hooked: Equatable, Sendable {
        public var family: UInt8
        public var table: [UInt8]
        public var name: [UInt8]
        public var devices: [[UInt8]]
        /// Name prefixes it is hooked on every device of (NFTA_DEVICE_PREFIX, `devices = { "tap*" }`).
        public var prefixes: [[UInt8]] = []
        public var generation: UInt16
    }

    /// A dump request for every chain (`flowtables`: every flowtable) of every family.
    public static func hooksDumpRequest(flowtables: Bool, sequence: UInt32) -> [UInt8] {
        NetlinkMessage.encode(type: subsystem << 8 | (flowtables ? getFlowtable : getChain), flags: NetlinkFlags.request | NetlinkFlags.dump,
                              sequence: sequence, payload: [0, 0, 0, 0])
    }

    /// The devices one chain or flowtable message names in its hook: NFTA_CHAIN_TABLE 1,
    /// NFTA_CHAIN_NAME 3, NFTA_CHAIN_HOOK 4 { NFTA_HOOK_DEV 3, NFTA_HOOK_DEVS 4 }; NFTA_FLOWTABLE_TABLE
    /// 1, NFTA_FLOWTABLE_NAME 2, NFTA_FLOWTABLE_HOOK 3 { NFTA_FLOWTABLE_HOOK_DEVS 3 }; each list of
    /// NFTA_DEVICE_NAME 1 and NFTA_DEVICE_PREFIX 2 (a wildcard, on newer kernels). Throws for a
    /// payload shorter than `struct nfgenmsg`, or attributes that do not parse.
    public static func decodeHooked(_ payload: ArraySlice<UInt8>, flowtable: Bool) throws(NetlinkError) -> Hooked {
        let generation = try generation(payload)
        var hooked = Hooked(family: payload[payload.startIndex], table: [], name: [], devices: [], generation: generation)
        let (nameAttribute, hookAttribute): (UInt16, UInt16) = flowtable ? (2, 3) : (3, 4)
        let (deviceAttribute, listAttribute): (UInt16?, UInt16) = flowtable ? (nil, 3) : (3, 4)
        var attributes = AttributeDecoder(payload.dropFirst(4))
        while attributes.next() {
            switch attributes.type {
            case 1: hooked.table = attributes.bytesUpToNUL()
            case nameAttribute: hooked.name = attributes.bytesUpToNUL()
            case hookAttribute:
                attributes.nested { hook in
                    while hook.next() {
                        if hook.type == deviceAttribute {
                            hooked.devices.append(hook.bytesUpToNUL())
                        } else if hook.type == listAttribute {
                            hook.nested { list in
                                while list.next() {
                                    if list.type == 1 { hooked.devices.append(list.bytesUpToNUL()) }
                                    if list.type == 2 { hooked.prefixes.append(list.bytesUpToNUL()) }
                                }
                            }
                        }
                    }
                }
            default: break
            }
        }
        try attributes.finish()
        // Kernels name a chain's one device both alone and in the list.
        var seen = Set<[UInt8]>()
        hooked.devices = hooked.devices.filter { seen.insert($0).inserted }
        return hooked
    }
}
