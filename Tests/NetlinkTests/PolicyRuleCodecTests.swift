import Testing
@testable import Netlink

/// The selectors of a policy rule read byte by byte (`struct fib_rule_hdr`, then FRA_*
/// attributes), as the dead-route judgement needs them to tell which traffic a rule matches.
@Suite struct PolicyRuleCodecTests {
    /// A rule message: the header's family, dst_len, src_len, tos, table, two reserved bytes,
    /// action and flags (native order), then `attributes`.
    static func message(family: UInt8 = 2, dstLength: UInt8 = 0, srcLength: UInt8 = 0, tos: UInt8 = 0, action: UInt8 = 1, flags: UInt32 = 0,
                        _ attributes: (inout AttributeEncoder) -> Void) -> ArraySlice<UInt8> {
        var header: [UInt8] = [family, dstLength, srcLength, tos, 0, 0, 0, action]
        withUnsafeBytes(of: flags) { header += $0 }
        var encoder = AttributeEncoder(prefix: header)
        attributes(&encoder)
        return encoder.bytes[...]
    }

    static func native<T: FixedWidthInteger>(_ values: T...) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value) { Array($0) } }
    }

    /// `not from 10.1.0.0/16 to 192.0.2.0/24 tos 0x10 fwmark 0x5/0xff iif a oif b uidrange
    /// 100-200 ipproto tcp sport 1000-2000 dport 443 lookup 100`, every field read.
    @Test func everySelectorIsRead() throws {
        let bytes = Self.message(dstLength: 24, srcLength: 16, tos: 0x10, flags: PolicyRuleMessage.invertFlag) { rule in
            rule.append(type: 6, uint32: 300)
            rule.append(type: 15, uint32: 100)
            rule.append(type: 1, payload: [192, 0, 2, 0])
            rule.append(type: 2, payload: [10, 1, 0, 0])
            rule.append(type: 10, uint32: 5)
            rule.append(type: 16, uint32: 0xff)
            rule.append(type: 3, string: "a")
            rule.append(type: 17, string: "b")
            rule.append(type: 20, payload: Self.native(UInt32(100), UInt32(200)))
            rule.append(type: 22, uint8: 6)
            rule.append(type: 23, payload: Self.native(UInt16(1000), UInt16(2000)))
            rule.append(type: 24, payload: Self.native(UInt16(443), UInt16(443)))
            rule.append(type: 14, uint32: UInt32.max)
        }
        let rule = try PolicyRuleMessage.decode(bytes)
        #expect(rule.priority == 300 && rule.table == 100 && rule.action == 1 && rule.inverted)
        #expect(rule.destination == [192, 0, 2, 0] && rule.destinationLength == 24 && rule.source == [10, 1, 0, 0] && rule.sourceLength == 16)
        #expect(rule.tos == 0x10 && rule.mark == 5 && rule.markMask == 0xff)
        #expect(rule.inputName == Array("a".utf8) && rule.outputName == Array("b".utf8))
        #expect(rule.uidRange == .init(first: 100, last: 200) && rule.ipProtocol == 6)
        #expect(rule.sourcePorts == 1000...2000 && rule.destinationPorts == 443...443)
        #expect(rule.suppressPrefixLength == nil && rule.suppressInterfaceGroup == nil && !rule.l3mdev && rule.otherSelectors.isEmpty)
    }

    /// wg-quick's `lookup main suppress_prefixlength 0`, an `l3mdev` rule, and selectors of newer
    /// kernels (FRA_DSCP), which narrow a rule unnamed.
    @Test func suppressionVrfAndNewerSelectorsAreRead() throws {
        let suppress = try PolicyRuleMessage.decode(Self.message { $0.append(type: 14, uint32: 0); $0.append(type: 13, uint32: 3) })
        #expect(suppress.suppressPrefixLength == 0 && suppress.suppressInterfaceGroup == 3)
        let vrf = try PolicyRuleMessage.decode(Self.message { $0.append(type: 19, uint8: 1) })
        #expect(vrf.l3mdev)
        let dscp = try PolicyRuleMessage.decode(Self.message { $0.append(type: 25, uint8: 8) })
        #expect(dscp.otherSelectors == [25])
        let unresolved = try PolicyRuleMessage.decode(Self.message(action: 2, flags: PolicyRuleMessage.unresolvedFlag) { $0.append(type: 4, uint32: 200) })
        #expect(unresolved.gotoTarget == 200 && unresolved.flags & PolicyRuleMessage.unresolvedFlag != 0 && !unresolved.inverted)
    }

    /// Review iproute2 13, F1 and F2: FRA_FLOW (`realms 1/2`), a classification the rule gives
    /// what it matches, and FRA_TUN_ID (`tun_id 5`, big-endian), a selector ordinary traffic
    /// fails, are each read as what they are, not as selectors unnamed.
    @Test func realmsAndTunnelIDAreRead() throws {
        let rule = try PolicyRuleMessage.decode(Self.message {
            $0.append(type: 11, uint32: 0x0001_0002)
            $0.append(type: 12, payload: [0, 0, 0, 0, 0, 0, 0, 5])
        })
        #expect(rule.realms == 0x0001_0002 && rule.tunnelID == 5)
        #expect(rule.otherSelectors.isEmpty)
    }

    /// FRA_SPORT_MASK (28) and FRA_DPORT_MASK (29), which Linux 6.16 sends beside a single port
    /// (0xffff for the whole port), are read as the ports' masks, not as selectors unnamed.
    @Test func portMasksAreRead() throws {
        let rule = try PolicyRuleMessage.decode(Self.message {
            $0.append(type: 23, payload: Self.native(UInt16(0x123), UInt16(0x123)))
            $0.append(type: 28, payload: Self.native(UInt16(0xfff)))
            $0.append(type: 24, payload: Self.native(UInt16(443), UInt16(443)))
            $0.append(type: 29, payload: Self.native(UInt16(0xffff)))
        })
        #expect(rule.sourcePorts == 0x123...0x123 && rule.sourcePortMask == 0xfff)
        #expect(rule.destinationPorts == 443...443 && rule.destinationPortMask == 0xffff)
        #expect(rule.otherSelectors.isEmpty)
        let dscpMask = try PolicyRuleMessage.decode(Self.message { $0.append(type: 30, uint8: 0x3f) })
        #expect(dscpMask.otherSelectors == [30])
    }

    /// An IPv6 rule's addresses are 16 bytes; an address of the other family's size, a port range
    /// backwards or a uid range cut short are refused, never read as something else.
    @Test func malformedSelectorsAreRefused() throws {
        let v6 = try PolicyRuleMessage.decode(Self.message(family: 10, srcLength: 32) { $0.append(type: 2, payload: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 12)) })
        #expect(v6.source?.count == 16 && v6.sourceLength == 32)
        #expect(throws: NetlinkError.self) { try PolicyRuleMessage.decode(Self.message(family: 10, srcLength: 8) { $0.append(type: 2, payload: [10, 0, 0, 0]) }) }
        #expect(throws: NetlinkError.self) { try PolicyRuleMessage.decode(Self.message { $0.append(type: 24, payload: Self.native(UInt16(443), UInt16(80))) }) }
        #expect(throws: NetlinkError.self) { try PolicyRuleMessage.decode(Self.message { $0.append(type: 20, payload: Self.native(UInt32(1))) }) }
        #expect(throws: NetlinkError.self) { try PolicyRuleMessage.decode([2, 0, 0][...]) }
    }
}
