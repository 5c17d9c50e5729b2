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
            /// Every index on one side of a bound (`iif > "vpn0"`, `iif 3-30`: a compare other
            /// than equality, or a `range`), in words: which devices it takes is not read.
            case bounds(String)
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
    /// NFT_SET_INTERVAL: a set whose elements are ranges.
    public static let intervalSet: UInt32 = 4

    /// The compares and lookups of a rule's expressions whose value is a device's index: a
    /// packet's `meta iif`, `oif` or `sdif`, or the output device of a `fib` lookup (the register
    /// they read filled by it, nothing between them writing it).
    static func indexMatches(in expressions: [Expression]) -> [IndexMatch] {
        var matches: [IndexMatch] = []
        for (position, expression) in expressions.enumerated() {
            switch expression.name {
            case Array("cmp".utf8):
                // NFTA_CMP_SREG 1, NFTA_CMP_OP 2, NFTA_CMP_DATA 3 { NFTA_DATA_VALUE 1 }. Equal
                // and not equal (NFT_CMP_EQ 0, NFT_CMP_NEQ 1) name one index; the others bound a
                // range. A value turned into network order in place (`byteorder`, as `nft` does
                // for a range) is turned back.
                guard let register = expression.register(1), let (key, turned) = deviceSource(ofWord: firstWord(register), before: position, in: expressions),
                      let data = expression.attributes[3] else { continue }
                guard (expression.register(2) ?? 0) <= 1 else {
                    matches.append(IndexMatch(key: key, target: .bounds("a compare other than equality")))
                    continue
                }
                var inner = AttributeDecoder(data)
                while inner.next() {
                    guard inner.type == dataValue, inner.data.count == 4 else { continue }
                    let value = inner.data.readNative(UInt32.self, at: inner.data.startIndex)
                    matches.append(IndexMatch(key: key, target: .index(turned ? value.byteSwapped : value)))
                }
            case Array("range".utf8):
                // NFTA_RANGE_SREG 1: `iif 3-30`.
                guard let register = expression.register(1), let (key, _) = deviceSource(ofWord: firstWord(register), before: position, in: expressions) else { continue }
                matches.append(IndexMatch(key: key, target: .bounds("a range")))
            case Array("lookup".utf8):
                // NFTA_LOOKUP_SET 1, NFTA_LOOKUP_SREG 2. A concatenation (`iif . ip saddr @s`,
                // `ip saddr . iif @s`) loads its fields into consecutive words from the source
                // register on, each taking whole words: an index in any of them is a match. Which
                // words the set's key really spans is the set's to say (`SetDefinition`); a word
                // past them only names the rule that looks the set up.
                guard let register = expression.register(2), let set = expression.attributes[1] else { continue }
                let first = firstWord(register)
                guard first < registerWords,
                      let key = (first..<registerWords).lazy.compactMap({ deviceSource(ofWord: $0, before: position, in: expressions)?.key }).first
                else { continue }
                matches.append(IndexMatch(key: key, target: .set(Array(set.prefix { $0 != 0 }))))
            default: continue
            }
        }
        return matches
    }

    /// The 4-byte words of the registers (four of 16 bytes, or sixteen of 4 bytes, which are the
    /// same storage).
    static let registerWords: UInt32 = 16

    /// The device-index source that fills the register word `wanted` for the expression at
    /// `position`: the nearest expression before it that writes that word, when every expression
    /// in between is known to leave it alone and that one writes an index starting at that word.
    /// Nil otherwise; `turned` when a `byteorder` between turned it in place. See `indexKey`.
    private static func deviceSource(ofWord wanted: UInt32, before position: Int, in expressions: [Expression]) -> (key: String, turned: Bool)? {
        var turned = false
        for expression in expressions[..<position].reversed() {
            // A `meta … set` has no NFTA_META_DREG and writes no register.
            let destination: UInt32?
            switch expression.name {
            case Array("byteorder".utf8) where expression.register(1) != nil && expression.register(1) == expression.register(2):
                // Turned in place, as `nft` turns a host-order field of a concatenation looked up
                // in an interval set into network order: still the same index (see
                // `decodeSetElementKeys`).
                if let register = expression.register(2), covers(register, wanted, words: longestValue) { turned.toggle() }
                continue
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
            return indexKey(of: expression).map { ($0, turned) }
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
        /// The lengths of a concatenated key's fields in bytes, as the set's description gives
        /// them (NFTA_SET_DESC_CONCAT, which `nft` sends for a concatenation since 0.9.4 and
        /// kernels keep since 5.6); empty when it gives none.
        public var fieldLengths: [UInt32] = []

        /// Where in its keys device indices are, as byte offsets: `[0]` for a set of `type
        /// iface_index` (`typeof iif`); for a concatenation (`type iface_index . ipv4_addr`,
        /// `typeof ip saddr . iif`) the offset of each of its iface_index fields, each field
        /// taking whole 4-byte words. A concatenation's key type holds its fields' types, six
        /// bits each, the first field's highest. When the set gives no field lengths that match
        /// its types, every word of the key is taken for one that may be an index: a device is
        /// then kept for a coincidence rather than reaped for a rule that matches it. Empty for
        /// a set with no index in its keys.
        public var indexOffsets: [Int] {
            if keyType == NftablesRule.interfaceIndexType { return keyLength == 4 ? [0] : [] }
            var types: [UInt32] = []
            var rest = keyType
            while rest != 0 {
                types.insert(rest & 63, at: 0)
                rest >>= 6
            }
            // A key is at most NFT_DATA_VALUE_MAXLEN (64) bytes.
            guard types.count > 1, types.contains(NftablesRule.interfaceIndexType), (4...64).contains(keyLength) else { return [] }
            guard fieldLengths.count == types.count, fieldLengths.allSatisfy({ $0 > 0 && $0 <= keyLength }) else {
                return Array(stride(from: 0, through: Int(keyLength) - 4, by: 4))
            }
            var offsets: [Int] = []
            var offset = 0
            for (type, length) in zip(types, fieldLengths) {
                if type == NftablesRule.interfaceIndexType, length == 4 { offsets.append(offset) }
                offset += (Int(length) + 3) / 4 * 4
            }
            return offsets
        }
    }

    /// A dump request for every set of every family.
    public static func setsDumpRequest(sequence: UInt32) -> [UInt8] {
        NetlinkMessage.encode(type: subsystem << 8 | getSet, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence,
                              payload: [0, 0, 0, 0])
    }

    /// The set one NFT_MSG_NEWSET message describes: NFTA_SET_TABLE 1, NFTA_SET_NAME 2,
    /// NFTA_SET_FLAGS 3, NFTA_SET_KEY_TYPE 4, NFTA_SET_KEY_LEN 5 (all numbers big-endian), and
    /// NFTA_SET_DESC 9 { NFTA_SET_DESC_CONCAT 2 { NFTA_LIST_ELEM { NFTA_SET_FIELD_LEN 1 } … } }.
    /// Throws for a payload shorter than `struct nfgenmsg`, or attributes that do not parse.
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
            case 9:
                attributes.nested { description in
                    while description.next() {
                        guard description.type == 2 else { continue }
                        description.nested { fields in
                            while fields.next() {
                                guard fields.type == listElement else { continue }
                                fields.nested { field in
                                    while field.next() {
                                        if field.type == 1 { set.fieldLengths.append(number(field.data)) }
                                    }
                                }
                            }
                        }
                    }
                }
            default: break
            }
        }
        try attributes.finish()
        return set
    }

    /// One device index of a set's element, as a reply lists it: the word at one of the key's
    /// index offsets, with the same word of the element's end for an interval of a concatenation
    /// (`high`), or marked as the end of an interval of a plain set (`isEnd`).
    public struct IndexElement: Equatable, Sendable {
        public var low: UInt32
        public var high: UInt32?
        public var isEnd: Bool
    }

    /// The device indices in a set's elements' keys, as one reply lists them (NFTA_SET_ELEM_KEY 1,
    /// and NFTA_SET_ELEM_KEY_END 10 for an interval of a concatenation, each { NFTA_DATA_VALUE },
    /// NFTA_SET_ELEM_FLAGS 3 with NFT_SET_ELEM_INTERVAL_END for the end of a plain set's
    /// interval): the 4-byte word at each of `offsets` (see `SetDefinition.indexOffsets`), in host
    /// order as the kernel compares them with a device's index, or, for an interval set
    /// (`networkOrder`), in network order, in which `nft` stores host-order fields there (and into
    /// which it turns a rule's value to match). See `indices` for what they add up to. Throws for a
    /// payload shorter than `struct nfgenmsg`, or attributes that do not parse.
    public static func decodeSetElementKeys(_ payload: ArraySlice<UInt8>, offsets: [Int] = [0], networkOrder: Bool = false)
        throws(NetlinkError) -> (elements: [IndexElement], generation: UInt16) {
        var elements: [IndexElement] = []
        let words = { (value: ArraySlice<UInt8>) -> [UInt32?] in
            offsets.map { offset in
                guard offset >= 0, offset + 4 <= value.count else { return nil }
                let word = value.readNative(UInt32.self, at: value.startIndex + offset)
                return networkOrder ? UInt32(bigEndian: word) : word
            }
        }
        let generation = try eachSetElement(payload) { element in
            var key: ArraySlice<UInt8>?, end: ArraySlice<UInt8>?
            var intervalEnd = false
            while element.next() {
                if element.type == elementFlags, element.data.count == 4 { intervalEnd = element.data.last.map { $0 & 1 == 1 } ?? false }
                guard element.type == elementKey || element.type == elementKeyEnd else { continue }
                let isEnd = element.type == elementKeyEnd
                element.nested { data in
                    while data.next() {
                        guard data.type == dataValue else { continue }
                        if isEnd { end = data.data } else { key = data.data }
                    }
                }
            }
            guard let key else { return }
            let ends = end.map(words) ?? Array(repeating: nil, count: offsets.count)
            for (low, high) in zip(words(key), ends) {
                guard let low else { continue }
                elements.append(IndexElement(low: low, high: high, isEnd: intervalEnd))
            }
        }
        return (elements, generation)
    }

    /// The indices a set's elements (from every reply) hold: each element's own; every index of a
    /// concatenation's interval, from its key's to its end's; every index of a plain set's
    /// interval, from its start to before the least end above it. An interval of more than
    /// `limit` indices, or one with no end, is `wide`: which devices it holds is not read.
    public static func indices(of elements: [IndexElement], limit: UInt32 = 65536) -> (keys: [UInt32], wide: Bool) {
        var keys: [UInt32] = []
        var wide = false
        let ends = elements.filter(\.isEnd).map(\.low).sorted()
        let plainIntervals = !ends.isEmpty
        for element in elements where !element.isEnd {
            var high = element.high ?? element.low
            if element.high == nil, plainIntervals {
                // The least end above the start: the interval ends just before it.
                var lower = 0, upper = ends.count
                while lower < upper {
                    let middle = (lower + upper) / 2
                    if ends[middle] > element.low { upper = middle } else { lower = middle + 1 }
                }
                guard lower < ends.count else {
                    wide = true
                    keys.append(element.low)
                    continue
                }
                high = ends[lower] - 1
            }
            guard high > element.low else {
                keys.append(element.low)
                continue
            }
            if high - element.low >= limit {
                wide = true
                keys.append(element.low)
            } else {
                keys += Array(element.low...high)
            }
        }
        return (keys, wide)
    }
}
