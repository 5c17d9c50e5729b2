/// Where nftables rules match a packet's device by its index: `iif "vpn0"` and `oif "vpn0"`
/// (`meta iif`/`oif`, also `meta sdif`) and `fib daddr oif "vpn0"` (a route lookup's device)
/// compile to a compare with the index the device has when the ruleset is loaded, and `iif {
/// "lo", "vpn0" }` or `oif @ifs` to a lookup in a set whose key is of type iface_index, whose
/// elements hold those indices. Deleting such a device leaves the rule matching an index no
/// device has, and a device made again under the same name gets another: a policy-drop firewall
/// then drops its traffic, a rule meant for it stops applying. Matches by name (`iifname`, `fib
/// … oifname`, sets of type ifname) follow whichever device has the name, and are no concern
/// here.
extension NftablesRule {
    /// One place a rule matches a device by index.
    public struct IndexMatch: Equatable, Sendable {
        /// Which device, as `nft` names it: `iif`, `oif` or `sdif` of the packet (NFT_META_IIF,
        /// NFT_META_OIF, NFT_META_SDIF), or the one a route lookup picks (`fib daddr oif`).
        public var key: String
        public var target: Target

        /// What the index is compared with.
        public enum Target: Equatable, Sendable {
            /// A constant (`cmp`).
            case index(UInt32)
            /// The keys of a set of the rule's table (`lookup`), by its name.
            case set([UInt8])
        }

        public init(key: String, target: Target) {
            self.key = key
            self.target = target
        }
    }

    /// NFT_MSG_NEWSET / NFT_MSG_GETSET.
    static let newSet: UInt16 = 9, getSet: UInt16 = 10
    /// The message type of a set, as a dump lists it.
    public static let setMessage: UInt16 = subsystem << 8 | newSet
    /// The nft datatype of an interface index (`TYPE_IFINDEX`), as a set's key type carries it.
    public static let interfaceIndexType: UInt32 = 20
    /// NFT_SET_ANONYMOUS: a set made for one rule (`iif { … }`), named `__set` and a number.
    public static let anonymousSet: UInt32 = 1

    /// The compares and lookups of a rule's expressions whose value is a device's index: a
    /// packet's `meta iif`, `oif` or `sdif`, or the output device of a `fib` lookup (the register
    /// they read filled by it, nothing between them writing it).
    static func indexMatches(in expressions: [Expression]) -> [IndexMatch] {
        var matches: [IndexMatch] = []
        for (position, expression) in expressions.enumerated() {
            switch expression.name {
            case Array("cmp".utf8):
                // NFTA_CMP_SREG 1, NFTA_CMP_DATA 3 { NFTA_DATA_VALUE 1 }.
                guard let register = expression.register(1), let key = deviceKey(of: register, before: position, in: expressions),
                      let data = expression.attributes[3] else { continue }
                var inner = AttributeDecoder(data)
                while inner.next() {
                    guard inner.type == dataValue, inner.data.count == 4 else { continue }
                    matches.append(IndexMatch(key: key, target: .index(inner.data.readNative(UInt32.self, at: inner.data.startIndex))))
                }
            case Array("lookup".utf8):
                // NFTA_LOOKUP_SET 1, NFTA_LOOKUP_SREG 2.
                guard let register = expression.register(2), let key = deviceKey(of: register, before: position, in: expressions),
                      let set = expression.attributes[1] else { continue }
                matches.append(IndexMatch(key: key, target: .set(Array(set.prefix { $0 != 0 }))))
            default: continue
            }
        }
        return matches
    }

    /// The device-index source that fills `register` for the expression at `position`: the
    /// nearest expression before it that writes `register`, when every expression in between is
    /// known to leave it alone and that one writes an index starting at that register. Nil
    /// otherwise. See `indexKey`.
    private static func deviceKey(of register: UInt32, before position: Int, in expressions: [Expression]) -> String? {
        let wanted = firstWord(register)
        for expression in expressions[..<position].reversed() {
            // A `meta … set` has no NFTA_META_DREG and writes no register.
            let destination: UInt32?
            switch expression.name {
            case Array("immediate".utf8): destination = expression.register(1)
            case Array("lookup".utf8): destination = expression.register(3)
            default:
                if let writer = writers[expression.name] {
                    destination = expression.register(writer.register)
                } else if readers.contains(expression.name) {
                    continue
                } else {
                    return nil
                }
            }
            guard let destination, covers(destination, wanted, words: longestValue) else { continue }
            guard firstWord(destination) == wanted else { return nil }
            return indexKey(of: expression)
        }
        return nil
    }

    /// How `nft` names what `expression` loads into its register, when that is a device's index
    /// (the datatype iface_index): `meta` with NFTA_META_KEY (2) NFT_META_IIF (4), NFT_META_OIF
    /// (5) or NFT_META_SDIF (33, the port a VRF received the packet on); `fib` with
    /// NFTA_FIB_RESULT (2) NFT_FIB_RESULT_OIF (1), the device a route lookup picks (`fib daddr
    /// oif "vpn0"`), unless NFTA_FIB_FLAGS (3) has NFTA_FIB_F_PRESENT (32), which turns the
    /// result into whether there is one (`fib daddr oif exists`). Nil for any other value
    /// (`iifname`, `fib … oifname`: names, which follow a device made again).
    private static func indexKey(of expression: Expression) -> String? {
        switch expression.name {
        case Array("meta".utf8):
            return [4: "iif", 5: "oif", 33: "sdif"][expression.register(2) ?? 0]
        case Array("fib".utf8):
            let flags = expression.register(3) ?? 0
            guard expression.register(2) == 1, flags & 32 == 0 else { return nil }
            let inputs = [(UInt32(1), "saddr"), (2, "daddr"), (4, "mark"), (8, "iif"), (16, "oif")].filter { flags & $0.0 != 0 }.map(\.1)
            return "fib \(inputs.joined(separator: " . ")) oif"
        default:
            return nil
        }
    }

    /// One set (or map) as a dump lists it: where it is, its flags, and its key's type and length.
    public struct SetDefinition: Equatable, Sendable {
        public var family: UInt8
        public var table: [UInt8]
        public var name: [UInt8]
        public var flags: UInt32
        public var keyType: UInt32
        public var keyLength: UInt32
        public var generation: UInt16

        /// Whether its keys are device indices alone (`type iface_index`, `typeof iif`).
        public var keyedByIndex: Bool { keyType == NftablesRule.interfaceIndexType && keyLength == 4 }
    }

    /// A dump request for every set of every family.
    public static func setsDumpRequest(sequence: UInt32) -> [UInt8] {
        NetlinkMessage.encode(type: subsystem << 8 | getSet, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence,
                              payload: [0, 0, 0, 0])
    }

    /// The set one NFT_MSG_NEWSET message describes: NFTA_SET_TABLE 1, NFTA_SET_NAME 2,
    /// NFTA_SET_FLAGS 3, NFTA_SET_KEY_TYPE 4, NFTA_SET_KEY_LEN 5 (all numbers big-endian). Throws
    /// for a payload shorter than `struct nfgenmsg`, or attributes that do not parse.
    public static func decodeSet(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> SetDefinition {
        let generation = try generation(payload)
        var set = SetDefinition(family: payload[payload.startIndex], table: [], name: [], flags: 0, keyType: 0, keyLength: 0, generation: generation)
        var attributes = AttributeDecoder(payload.dropFirst(4))
        let number = { (data: ArraySlice<UInt8>) -> UInt32 in data.count == 4 ? data.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : 0 }
        while attributes.next() {
            switch attributes.type {
            case 1: set.table = attributes.bytesUpToNUL()
            case 2: set.name = attributes.bytesUpToNUL()
            case 3: set.flags = number(attributes.data)
            case 4: set.keyType = number(attributes.data)
            case 5: set.keyLength = number(attributes.data)
            default: break
            }
        }
        try attributes.finish()
        return set
    }

    /// The 4-byte keys of a set's elements, as one reply lists them (NFTA_SET_ELEM_KEY 1 {
    /// NFTA_DATA_VALUE }), in host order as the kernel compares them with a device's index; the
    /// end of an interval (NFTA_SET_ELEM_FLAGS 3 with NFT_SET_ELEM_INTERVAL_END) is no element.
    /// Throws for a payload shorter than `struct nfgenmsg`, or attributes that do not parse.
    public static func decodeSetElementKeys(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> (keys: [UInt32], generation: UInt16) {
        var keys: [UInt32] = []
        let generation = try eachSetElement(payload) { element in
            var key: UInt32?
            var intervalEnd = false
            while element.next() {
                if element.type == elementFlags, element.data.count == 4 { intervalEnd = element.data.last.map { $0 & 1 == 1 } ?? false }
                guard element.type == elementKey else { continue }
                element.nested { data in
                    while data.next() {
                        guard data.type == dataValue, data.data.count == 4 else { continue }
                        key = data.data.readNative(UInt32.self, at: data.data.startIndex)
                    }
                }
            }
            if let key, !intervalEnd { keys.append(key) }
        }
        return (keys, generation)
    }
}
