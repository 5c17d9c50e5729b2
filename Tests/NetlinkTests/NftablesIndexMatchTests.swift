import Testing
@testable import Netlink

/// Rules that match a packet's device by index (`meta iif`/`oif` into a compare or a set
/// lookup), hand-made in the shape `nft` writes them, and the sets whose keys are indices. Old
/// code read none of this: `indexMatches`, `decodeSet` and `decodeSetElementKeys` did not exist.
@Suite struct NftablesIndexMatchTests {
    static func meta(_ register: UInt32, key: UInt32) -> (String, [(UInt16, [UInt8])]) {
        ("meta", [(2, NftablesRuleTests.register(key)), (1, NftablesRuleTests.register(register))])
    }

    static func cmp(_ register: UInt32, _ value: UInt32) -> (String, [(UInt16, [UInt8])]) {
        var bytes: [UInt8] = []
        bytes.appendNative(value)
        var data = AttributeEncoder()
        data.append(type: 1, payload: bytes)
        return ("cmp", [(1, NftablesRuleTests.register(register)), (2, NftablesRuleTests.register(0)), (3 | 0x8000, data.bytes)])
    }

    static func matches(_ expressions: [(String, [(UInt16, [UInt8])])]) throws -> [NftablesRule.IndexMatch] {
        try NftablesRule.decodeRule(NftablesRuleTests.rule(expressions)[...]).indexMatches
    }

    @Test func iifAndOifComparesAndLookupsAreMatchesByIndex() throws {
        // `iif "vpn0" accept`: meta load iif => reg 1; cmp eq reg 1 0x2.
        #expect(try Self.matches([Self.meta(1, key: 4), Self.cmp(1, 2), NftablesRuleTests.immediate(0, [1])]) == [.init(key: "iif", target: .index(2))])
        #expect(try Self.matches([Self.meta(8, key: 5), Self.cmp(8, 9)]) == [.init(key: "oif", target: .index(9))])
        // `oif @ifs`: a lookup in a named set.
        #expect(try Self.matches([Self.meta(1, key: 5), ("lookup", [(1, Array("ifs".utf8) + [0]), (2, NftablesRuleTests.register(1))])])
                == [.init(key: "oif", target: .set(Array("ifs".utf8)))])
        // `iifname "vpn0"` (NFT_META_IIFNAME 6) and `meta mark 2` (3) are no match by index.
        #expect(try Self.matches([Self.meta(1, key: 6), Self.cmp(1, 2)]).isEmpty)
        #expect(try Self.matches([Self.meta(1, key: 3), Self.cmp(1, 2)]).isEmpty)
        // A register written again in between (`iif . ip saddr` would differ) is no longer the device.
        #expect(try Self.matches([Self.meta(8, key: 4), ("payload", [(1, NftablesRuleTests.register(8)), (4, NftablesRuleTests.register(4))]), Self.cmp(8, 2)]).isEmpty)
        // A counter between leaves it alone.
        #expect(try Self.matches([Self.meta(8, key: 4), ("counter", []), Self.cmp(8, 2)]) == [.init(key: "iif", target: .index(2))])
    }

    static func fib(_ register: UInt32, result: UInt32, flags: UInt32) -> (String, [(UInt16, [UInt8])]) {
        ("fib", [(1, NftablesRuleTests.register(register)), (2, NftablesRuleTests.register(result)), (3, NftablesRuleTests.register(flags))])
    }

    /// `fib daddr oif "t1"` compares the index of the device a route lookup picks (datatype
    /// iface_index), as `oif "t1"` does the packet's: old code took the `fib` for an ordinary
    /// writer and saw no match. `fib … oifname` compares a name, and `fib … oif exists` whether
    /// there is a device at all.
    @Test func aFibLookupsOutputDeviceIsAMatchByIndex() throws {
        // `fib daddr oif "t1"`: [ fib daddr oif => reg 1 ] [ cmp eq reg 1 0x2 ] (NFTA_FIB_F_DADDR 2).
        #expect(try Self.matches([Self.fib(1, result: 1, flags: 2), Self.cmp(1, 2)]) == [.init(key: "fib daddr oif", target: .index(2))])
        // `fib saddr . iif oif @ifs`: a lookup in a set of type iface_index.
        #expect(try Self.matches([Self.fib(9, result: 1, flags: 1 | 8), ("lookup", [(1, Array("ifs".utf8) + [0]), (2, NftablesRuleTests.register(9))])])
                == [.init(key: "fib saddr . iif oif", target: .set(Array("ifs".utf8)))])
        // `fib daddr oifname "t1"` (NFT_FIB_RESULT_OIFNAME 2), `fib daddr type local` (3) and
        // `fib daddr oif exists` (NFTA_FIB_F_PRESENT 32) compare no index.
        #expect(try Self.matches([Self.fib(1, result: 2, flags: 2), Self.cmp(1, 2)]).isEmpty)
        #expect(try Self.matches([Self.fib(1, result: 3, flags: 2), Self.cmp(1, 2)]).isEmpty)
        #expect(try Self.matches([Self.fib(1, result: 1, flags: 2 | 32), Self.cmp(1, 1)]).isEmpty)
        // A fib lookup that fills another register leaves the meta load's match alone; one that
        // fills the compared register after it replaces the device.
        #expect(try Self.matches([Self.meta(8, key: 4), Self.fib(9, result: 1, flags: 2), Self.cmp(8, 2)]) == [.init(key: "iif", target: .index(2))])
        #expect(try Self.matches([Self.meta(8, key: 4), Self.fib(8, result: 2, flags: 2), Self.cmp(8, 2)]).isEmpty)
        // `meta sdif "t1"` (NFT_META_SDIF 33: the VRF port a packet came in on) is an index too;
        // `meta sdifname` (34) a name.
        #expect(try Self.matches([Self.meta(1, key: 33), Self.cmp(1, 5)]) == [.init(key: "sdif", target: .index(5))])
        #expect(try Self.matches([Self.meta(1, key: 34), Self.cmp(1, 5)]).isEmpty)
    }

    @Test func setsKeyedByIndexAndTheirElementsAreRead() throws {
        var set = AttributeEncoder(prefix: [1, 0, 0, 7])
        set.append(type: 1, string: "fw")
        set.append(type: 2, string: "__set0")
        set.append(type: 3, payload: NftablesRuleTests.register(1 | 2))
        set.append(type: 4, payload: NftablesRuleTests.register(20))
        set.append(type: 5, payload: NftablesRuleTests.register(4))
        let decoded = try NftablesRule.decodeSet(set.bytes[...])
        #expect(decoded.indexOffsets == [0] && decoded.flags & NftablesRule.anonymousSet != 0 && decoded.name == Array("__set0".utf8) && decoded.generation == 7)
        set = AttributeEncoder(prefix: [1, 0, 0, 7])
        set.append(type: 4, payload: NftablesRuleTests.register(5))     // ifname: by name
        set.append(type: 5, payload: NftablesRuleTests.register(16))
        #expect(try NftablesRule.decodeSet(set.bytes[...]).indexOffsets.isEmpty)

        var elements = AttributeEncoder(prefix: [1, 0, 0, 7])
        elements.appendNested(type: 3) { list in
            for (key, end) in [(UInt32(3), false), (UInt32(4), true), (UInt32(9), false)] {
                list.appendNested(type: 1) { element in
                    element.appendNested(type: 1) { data in
                        var bytes: [UInt8] = []
                        bytes.appendNative(key)
                        data.append(type: 1, payload: bytes)
                    }
                    if end { element.append(type: 3, payload: NftablesRuleTests.register(1)) }
                }
            }
        }
        let keys = try NftablesRule.decodeSetElementKeys(elements.bytes[...])
        #expect(NftablesRule.indices(of: keys.elements).keys == [3, 9] && keys.generation == 7)
    }

    /// A concatenation looked up in a set (`ip saddr . iif @s`): the fields fill consecutive
    /// register words, and an index in any of them is a match. Old code looked only at the
    /// first word, and saw no match unless the index came first.
    @Test func anIndexInAConcatenationIsAMatch() throws {
        let lookup = ("lookup", [(UInt16(1), Array("s".utf8) + [0]), (2, NftablesRuleTests.register(9))])
        // [ payload load 4b @ network header + 12 => reg 9 ] [ meta load iif => reg 10 ] [ lookup reg 9 set s ]
        let saddr = ("payload", [(UInt16(1), NftablesRuleTests.register(9)), (4, NftablesRuleTests.register(4))])
        #expect(try Self.matches([saddr, Self.meta(10, key: 4), lookup]) == [.init(key: "iif", target: .set(Array("s".utf8)))])
        // `iif . ip saddr @s`: the index first, as before.
        #expect(try Self.matches([Self.meta(9, key: 4), ("payload", [(1, NftablesRuleTests.register(10)), (4, NftablesRuleTests.register(4))]), lookup])
                == [.init(key: "iif", target: .set(Array("s".utf8)))])
        // `ip saddr . iifname @s` holds no index.
        #expect(try Self.matches([saddr, Self.meta(10, key: 6), lookup]).isEmpty)
    }

    static func set(keyType: UInt32, keyLength: UInt32, fields: [UInt32]?) throws -> NftablesRule.SetDefinition {
        var set = AttributeEncoder(prefix: [1, 0, 0, 7])
        set.append(type: 2, string: "s")
        set.append(type: 4, payload: NftablesRuleTests.register(keyType))
        set.append(type: 5, payload: NftablesRuleTests.register(keyLength))
        if let fields {
            set.appendNested(type: 9) { description in
                description.append(type: 1, payload: NftablesRuleTests.register(1))
                description.appendNested(type: 2) { concat in
                    for length in fields {
                        concat.appendNested(type: 1) { field in field.append(type: 1, payload: NftablesRuleTests.register(length)) }
                    }
                }
            }
        }
        return try NftablesRule.decodeSet(set.bytes[...])
    }

    /// Where a concatenated key holds indices: its key type lists its fields' types six bits
    /// each, the first highest (ipv4_addr 7, iface_index 20, inet_service 13, ifname 41), and its
    /// description their lengths, each taking whole words. Without lengths every word may be one.
    @Test func aConcatenatedKeySaysWhereItsIndicesAre() throws {
        #expect(try Self.set(keyType: 20 << 6 | 7, keyLength: 8, fields: [4, 4]).indexOffsets == [0])
        #expect(try Self.set(keyType: 7 << 6 | 20, keyLength: 8, fields: [4, 4]).fieldLengths == [4, 4])
        #expect(try Self.set(keyType: 7 << 6 | 20, keyLength: 8, fields: [4, 4]).indexOffsets == [4])
        // `typeof ip6 saddr . tcp dport . iif`: 16 bytes, a port of 2 taking a word, the index.
        #expect(try Self.set(keyType: (8 << 6 | 13) << 6 | 20, keyLength: 24, fields: [16, 2, 4]).indexOffsets == [20])
        #expect(try Self.set(keyType: 7 << 6 | 20, keyLength: 8, fields: nil).indexOffsets == [0, 4])
        #expect(try Self.set(keyType: 7 << 6 | 13, keyLength: 8, fields: [4, 2]).indexOffsets.isEmpty)
        #expect(try Self.set(keyType: 7 << 6 | 41, keyLength: 20, fields: [4, 16]).indexOffsets.isEmpty)
    }

    /// The indices of a concatenated set's elements, at their offsets, and the indices an
    /// interval of a concatenation spans (NFTA_SET_ELEM_KEY_END).
    @Test func aConcatenatedSetsElementsGiveTheirIndices() throws {
        func words(_ values: [UInt32]) -> [UInt8] {
            var bytes: [UInt8] = []
            for value in values { bytes.appendNative(value) }
            return bytes
        }
        var elements = AttributeEncoder(prefix: [1, 0, 0, 7])
        elements.appendNested(type: 3) { list in
            for (key, end) in [([UInt32(0x0100000a), 5], nil as [UInt32]?), ([0x0000000a, 7], [0xff00000a, 9]), ([0x0200000a], nil)] {
                list.appendNested(type: 1) { element in
                    element.appendNested(type: 1) { data in data.append(type: 1, payload: words(key)) }
                    if let end { element.appendNested(type: 10) { data in data.append(type: 1, payload: words(end)) } }
                }
            }
        }
        let listed = try NftablesRule.decodeSetElementKeys(elements.bytes[...], offsets: [4])
        #expect(NftablesRule.indices(of: listed.elements) == ([5, 7, 8, 9], false), "a key too short for the offset gives nothing: \(listed.elements)")
        #expect(NftablesRule.indices(of: listed.elements, limit: 2) == ([5, 7], true))
    }

    /// A plain interval set (`type iface_index; flags interval`, `iif { 3-30 }`) lists each
    /// interval's start and, as an element of its own flagged NFT_SET_ELEM_INTERVAL_END, the index
    /// after its end, in network order: old code read the starts alone, in host order.
    @Test func aPlainIntervalSetsIndicesRunFromEachStartToItsEnd() throws {
        var elements = AttributeEncoder(prefix: [1, 0, 0, 7])
        elements.appendNested(type: 3) { list in
            // As the kernel dumps `{ 3-30, 40 }`: the end of 40 (41), 40, the end of 3-30 (31), 3, and an end at 0.
            for (value, end) in [(UInt32(41), true), (40, false), (31, true), (3, false), (0, true)] {
                list.appendNested(type: 1) { element in
                    element.appendNested(type: 1) { data in
                        var bytes: [UInt8] = []
                        bytes.appendNative(value.bigEndian)
                        data.append(type: 1, payload: bytes)
                    }
                    if end { element.append(type: 3, payload: NftablesRuleTests.register(1)) }
                }
            }
        }
        let listed = try NftablesRule.decodeSetElementKeys(elements.bytes[...], networkOrder: true)
        #expect(NftablesRule.indices(of: listed.elements) == (Array(40...40) + Array(3...30), false))
        // An interval with no end after it, or wider than the limit, may hold any device.
        #expect(NftablesRule.indices(of: [.init(low: 5, high: nil, isEnd: false), .init(low: 2, high: nil, isEnd: true)]).wide)
        #expect(NftablesRule.indices(of: listed.elements, limit: 10).wide)
    }

    /// `iif 3-30` and `iif > "vpn0"` in a rule bound a range of indices (nft turns the value into
    /// network order first); `iif != "vpn0"` names one. Old code read the bound as an index in
    /// host order (3 as 50331648) and took a range for no match.
    @Test func aRuleBoundingIndicesIsARangeMatch() throws {
        let turned = ("byteorder", [(UInt16(1), NftablesRuleTests.register(1)), (2, NftablesRuleTests.register(1)), (3, NftablesRuleTests.register(1)),
                                    (4, NftablesRuleTests.register(4)), (5, NftablesRuleTests.register(4))])
        let range = ("range", [(UInt16(1), NftablesRuleTests.register(1))])
        #expect(try Self.matches([Self.meta(1, key: 4), turned, range]) == [.init(key: "iif", target: .bounds("a range"))])
        var greater = Self.cmp(1, UInt32(3).bigEndian)
        greater.1[1] = (2, NftablesRuleTests.register(4))
        #expect(try Self.matches([Self.meta(1, key: 4), turned, greater]) == [.init(key: "iif", target: .bounds("a compare other than equality"))])
        // Equality after a byteorder is the index turned back.
        #expect(try Self.matches([Self.meta(1, key: 4), turned, Self.cmp(1, UInt32(3).bigEndian)]) == [.init(key: "iif", target: .index(3))])
        var unequal = Self.cmp(1, 5)
        unequal.1[1] = (2, NftablesRuleTests.register(1))
        #expect(try Self.matches([Self.meta(1, key: 4), unequal]) == [.init(key: "iif", target: .index(5))])
    }
}
