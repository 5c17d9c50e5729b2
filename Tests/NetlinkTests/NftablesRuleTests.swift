import Testing
@testable import Netlink

/// nftables rules read for the devices their `fwd` and `dup` statements send packets to: real
/// replies captured by Fixtures/capture-nft.py, and hand-made rules for the register shapes `nft`
/// does not write.
@Suite struct NftablesRuleTests {
    static func rules() throws -> [NftablesRule.Rule] {
        try CapturedMessageTests.messages("nft-rule-dump", type: NftablesRule.ruleMessage).map { try NftablesRule.decodeRule($0.payload) }
    }

    @Test func capturedRulesNameTheDevicesTheySendPacketsTo() throws {
        let rules = try Self.rules()
        let byChain = rules.map { "\(String(decoding: $0.table, as: UTF8.self))/\(String(decoding: $0.chain, as: UTF8.self))" }
        #expect(byChain == ["t/c", "t/c", "t/c", "t/c", "t/c", "f/p"])
        #expect(rules.map(\.family) == [5, 5, 5, 5, 5, 2])
        #expect(rules.map(\.devices) == [
            [],                                                     // counter
            [.index(3)],                                            // fwd to "tap0"
            [.index(2)],                                            // dup to "kure_tun"
            [.map(family: 5, table: Array("t".utf8), name: Array("devs".utf8))],
            [.runtime("its meta expression")],                      // fwd to iif
            [.index(3)],                                            // dup to 10.0.0.2 device "tap0"
        ])
        // Every rule comes from one generation of the ruleset.
        #expect(Set(rules.map(\.generation)).count == 1)
    }

    @Test func capturedMapElementsAreDeviceIndices() throws {
        let replies = try CapturedMessageTests.messages("nft-setelem-dump", type: NftablesRule.setElementMessage)
        let decoded = try replies.map { try NftablesRule.decodeSetElementValues($0.payload) }
        #expect(decoded.allSatisfy { $0.others == 0 })
        // tap0 is 3; vb is 4 or 5, as the kernel numbered the pair.
        let values = Set(decoded.flatMap(\.values))
        #expect(values.count == 2 && values.contains(3) && values.isSubset(of: [3, 4, 5]), "\(values)")
        #expect(decoded.first?.generation == (try Self.rules()).first?.generation)
    }

    @Test func requestsAreWhatTheKernelExpects() throws {
        let rules = try #require(try NetlinkMessage.split(NftablesRule.rulesDumpRequest(sequence: 9)[...]).first)
        #expect(rules.header.type == 10 << 8 | 7 && rules.header.flags == NetlinkFlags.request | NetlinkFlags.dump && rules.header.sequence == 9)
        #expect(Array(rules.payload) == [0, 0, 0, 0])
        let elements = try #require(try NetlinkMessage.split(NftablesRule.setElementsDumpRequest(sequence: 3, family: 5, table: Array("t".utf8),
                                                                                                    set: Array("devs".utf8))[...]).first)
        #expect(elements.header.type == 10 << 8 | 13)
        #expect(Array(elements.payload) == [5, 0, 0, 0, 6, 0, 1, 0, 116, 0, 0, 0, 9, 0, 2, 0] + Array("devs".utf8) + [0, 0, 0, 0])
    }

    /// A rule of hand-made expressions: name and big-endian register attributes.
    static func rule(_ expressions: [(String, [(UInt16, [UInt8])])]) -> [UInt8] {
        var rule = AttributeEncoder(prefix: [5, 0, 0x12, 0x34])
        rule.append(type: 1, string: "t")
        rule.append(type: 2, string: "c")
        rule.appendNested(type: 4) { list in
            for (name, attributes) in expressions {
                list.appendNested(type: 1) { element in
                    element.append(type: 1, string: name)
                    element.appendNested(type: 2) { data in
                        for (type, payload) in attributes { data.append(type: type, payload: payload) }
                    }
                }
            }
        }
        return rule.bytes
    }

    static func register(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    static func immediate(_ register: UInt32, _ words: [UInt32]) -> (String, [(UInt16, [UInt8])]) {
        var value: [UInt8] = []
        for word in words { value.appendNative(word) }
        var data = AttributeEncoder()
        data.append(type: 1, payload: value)
        return ("immediate", [(1, Self.register(register)), (2 | 0x8000, data.bytes)])
    }

    @Test func registersAreFollowedBackToWhatFilledThem() throws {
        func devices(_ expressions: [(String, [(UInt16, [UInt8])])]) throws -> [NftablesRule.Device] {
            let rule = try NftablesRule.decodeRule(Self.rule(expressions)[...])
            #expect(rule.generation == 0x1234 && rule.table == Array("t".utf8))
            return rule.devices
        }
        // A 32-bit register (NFT_REG32_02 is 10).
        #expect(try devices([Self.immediate(10, [7]), ("fwd", [(1, Self.register(10))])]) == [.index(7)])
        // The second word of a 16-byte register (NFT_REG_1 covers NFT_REG32_00…03).
        #expect(try devices([Self.immediate(1, [7, 8, 9, 10]), ("fwd", [(1, Self.register(9))])]) == [.index(8)])
        // The nearest filling counts; a filling of another register, or a cmp, in between does not matter.
        #expect(try devices([Self.immediate(8, [1]), Self.immediate(8, [6]), Self.immediate(9, [5]), ("cmp", [(1, Self.register(9))]),
                             ("dup", [(1, Self.register(9)), (2, Self.register(8))])]) == [.index(6)])
        // An expression that writes the register in between: known only as packets come.
        #expect(try devices([Self.immediate(8, [6]), ("payload", [(1, Self.register(8))]), ("fwd", [(1, Self.register(8))])])
                == [.runtime("its payload expression")])
        // One that writes another register (`fwd ip to ip daddr device "v1"` loads the address
        // after the device), or writes none (`meta mark set` reads one), leaves it alone.
        #expect(try devices([Self.immediate(8, [6]), ("payload", [(1, Self.register(9))]), ("meta", [(2, [0, 0, 0, 3]), (3, Self.register(10))]),
                             ("fwd", [(1, Self.register(8)), (2, Self.register(9))])]) == [.index(6)])
        // A 16-byte register covers four words: a write to NFT_REG_1 reaches NFT_REG32_02.
        #expect(try devices([Self.immediate(10, [6]), ("payload", [(1, Self.register(1))]), ("fwd", [(1, Self.register(10))])])
                == [.runtime("its payload expression")])
        // A value runs on into the registers after its first: 8 bytes into NFT_REG32_00 fill _01 too.
        #expect(try devices([Self.immediate(9, [6]), Self.immediate(8, [1, 2]), ("fwd", [(1, Self.register(9))])]) == [.index(2)])
        // A payload load says how long it is: 4 bytes into NFT_REG32_00 leave _01 alone; one that
        // does not say is taken to fill as much as any value can.
        #expect(try devices([Self.immediate(9, [6]), ("payload", [(1, Self.register(8)), (4, Self.register(4))]), ("fwd", [(1, Self.register(9))])])
                == [.index(6)])
        #expect(try devices([Self.immediate(9, [6]), ("meta", [(1, Self.register(8))]), ("fwd", [(1, Self.register(9))])])
                == [.runtime("its meta expression")])
        // A map lookup's data starts at its register: a device further in is not its first word.
        #expect(try devices([("lookup", [(1, Array("m".utf8) + [0]), (3, Self.register(8))]), ("fwd", [(1, Self.register(9))])])
                == [.runtime("a map whose data is more than a device index")])
        // An expression this reader does not know: known only as packets come.
        #expect(try devices([Self.immediate(8, [6]), ("inner", [(1, Self.register(12))]), ("fwd", [(1, Self.register(8))])])
                == [.runtime("its inner expression")])
        // Nothing fills it.
        #expect(try devices([("fwd", [(1, Self.register(8))])]) == [.runtime("a register nothing before it in the rule fills")])
        // A verdict register, or one out of range, is never a device.
        #expect(try devices([Self.immediate(0, [6]), ("fwd", [(1, Self.register(0))])]) == [.runtime("a register nothing before it in the rule fills")])
        #expect(try devices([Self.immediate(99, [6]), ("fwd", [(1, Self.register(99))])]) == [.runtime("a register nothing before it in the rule fills")])
        // `dup to ADDRESS` without a device names none.
        #expect(try devices([Self.immediate(8, [6]), ("dup", [(1, Self.register(8))])]) == [])
        // A lookup fills its destination register from a map.
        #expect(try devices([("lookup", [(1, Array("m".utf8) + [0]), (2, Self.register(8)), (3, Self.register(8))]), ("fwd", [(1, Self.register(8))])])
                == [.map(family: 5, table: Array("t".utf8), name: Array("m".utf8))])
    }

    /// A map filled as packets come (`update @m { ip saddr : "tap0" }`) names the data it puts in.
    @Test func dynamicMapFillsAreReadLikeDevices() throws {
        let rule = try NftablesRule.decodeRule(Self.rule([
            ("payload", [(1, Self.register(8))]), Self.immediate(9, [4]),
            ("dynset", [(1, Array("m".utf8) + [0]), (4, Self.register(8)), (5, Self.register(9))]),
            ("dynset", [(1, Array("n".utf8) + [0]), (4, Self.register(8)), (5, Self.register(8))]),
            ("dynset", [(1, Array("s".utf8) + [0]), (4, Self.register(8))]),
        ])[...])
        #expect(rule.devices.isEmpty)
        #expect(rule.mapFills == [NftablesRule.MapFill(map: Array("m".utf8), data: .index(4)),
                                  NftablesRule.MapFill(map: Array("n".utf8), data: .runtime("its payload expression"))])
    }

    /// A chain hooked on one device or several, and a flowtable's devices, by name.
    @Test func hooksNameTheirDevices() throws {
        func names(_ list: [String]) -> AttributeEncoder {
            var encoder = AttributeEncoder()
            for name in list { encoder.append(type: 1, string: name) }
            return encoder
        }
        var chain = AttributeEncoder(prefix: [5, 0, 0, 7])
        chain.append(type: 1, string: "t")
        chain.append(type: 3, string: "c")
        chain.appendNested(type: 4) { hook in
            hook.append(type: 1, payload: [0, 0, 0, 0])
            hook.append(type: 3, string: "tap0")
            hook.append(type: 4 | 0x8000, payload: names(["tap1", "tap2"]).bytes)
        }
        let hooked = try NftablesRule.decodeHooked(chain.bytes[...], flowtable: false)
        #expect(hooked == NftablesRule.Hooked(family: 5, table: Array("t".utf8), name: Array("c".utf8),
                                              devices: ["tap0", "tap1", "tap2"].map { Array($0.utf8) }, generation: 7))
        var flowtable = AttributeEncoder(prefix: [1, 0, 0, 7])
        flowtable.append(type: 1, string: "f")
        flowtable.append(type: 2, string: "ft")
        flowtable.appendNested(type: 3) { hook in hook.append(type: 3 | 0x8000, payload: names(["eth0", "tap3"]).bytes) }
        #expect(try NftablesRule.decodeHooked(flowtable.bytes[...], flowtable: true).devices == ["eth0", "tap3"].map { Array($0.utf8) })
        #expect(throws: NetlinkError.self) { try NftablesRule.decodeHooked(chain.bytes.prefix(3), flowtable: false) }
        for end in 0...chain.bytes.count { _ = try? NftablesRule.decodeHooked(chain.bytes.prefix(end), flowtable: false) }
    }

    @Test func brokenRulesThrowAndNeverTrap() throws {
        let bytes = Self.rule([Self.immediate(8, [6]), ("fwd", [(1, Self.register(8))])])
        #expect(throws: NetlinkError.self) { try NftablesRule.decodeRule(bytes.prefix(3)) }
        #expect(throws: NetlinkError.self) { try NftablesRule.decodeSetElementValues(bytes.prefix(2)) }
        for end in 0...bytes.count { _ = try? NftablesRule.decodeRule(bytes.prefix(end)) }
        // A `fwd` whose device register cannot be read names a device that is not known.
        #expect(try NftablesRule.decodeRule(Self.rule([Self.immediate(8, [6]), ("fwd", [(1, [8])])])[...]).devices
                == [.runtime("a device register that cannot be read")])
    }
}
