#if os(Linux)
import Foundation
import Testing
@testable import Inventory
import Netlink
import TunwardenCore

/// Policy rules as the inventory models them, and what a watcher does when they change.
@Suite struct PolicyRuleEventTests {
    /// A rule message of `family` and `action` with `attributes`.
    static func rule(family: UInt8 = 2, action: UInt8 = 1, flags: UInt32 = 0, _ attributes: (inout AttributeEncoder) -> Void = { _ in }) -> [UInt8] {
        var encoder = AttributeEncoder(prefix: [family, 0, 0, 0, 0, 0, 0, action] + withUnsafeBytes(of: flags, Array.init))
        attributes(&encoder)
        return encoder.bytes
    }

    /// A rule added or deleted asks a watcher for a fresh inventory: the dead-route judgement
    /// walks the rules whole.
    @Test func aRuleChangeAsksForAFreshLook() throws {
        var decoder = LinuxEventDecoder()
        for type in [PolicyRuleMessage.newRule, PolicyRuleMessage.deleteRule] {
            let message = NetlinkMessage.encode(type: type, flags: 0, sequence: 0, payload: Self.rule { $0.append(type: 6, uint32: 100) })
            #expect(throws: LinuxEventDecoder.NeedsFreshLook.self) { try decoder.changes(in: message) }
        }
    }

    /// A mark sent alone is matched whole; a uid range of every uid is no selector; a goto
    /// without a target, or flagged unresolved, is passed by.
    @Test func theCoreModelOfARule() throws {
        let marked = try #require(LinuxInventory.policyRule(try PolicyRuleMessage.decode(Self.rule {
            $0.append(type: 6, uint32: 100)
            $0.append(type: 10, uint32: 5)
            $0.append(type: 15, uint32: 100)
            $0.append(type: 20, payload: withUnsafeBytes(of: UInt32(0), Array.init) + withUnsafeBytes(of: UInt32.max, Array.init))
        }[...])))
        #expect(marked.mark == 5 && marked.markMask == .max && marked.uidRange == nil && marked.action == .lookup(.other(100)))
        #expect(marked.words == "fwmark 0x5 lookup 100" && marked.selectorPhrases == ["marked 0x5"])
        let unresolved = try #require(LinuxInventory.policyRule(try PolicyRuleMessage.decode(Self.rule(action: 2, flags: PolicyRuleMessage.unresolvedFlag) {
            $0.append(type: 4, uint32: 200)
        }[...])))
        #expect(unresolved.unresolved && unresolved.action == .goto(200))
        let v6 = try #require(LinuxInventory.policyRule(try PolicyRuleMessage.decode(Self.rule(family: 10, flags: PolicyRuleMessage.invertFlag) {
            $0.append(type: 15, uint32: 254)
            $0.append(type: 14, uint32: 0)
        }[...])))
        #expect(v6.family == .inet6 && v6.inverted && v6.suppressPrefixLength == 0 && v6.words == "not from all lookup main suppress_prefixlength 0")
        #expect(LinuxInventory.policyRule(try PolicyRuleMessage.decode(Self.rule(family: 7)[...])) == nil)
    }

    /// A single port with a mask of the whole port (what Linux 6.16 sends with every single
    /// port) is that port alone, no other selector; one under a partial mask reads as `ip rule`
    /// writes it, in hexadecimal.
    @Test func aPortMaskIsReadAsIpRuleWritesIt() throws {
        func ports(_ type: UInt16, _ port: UInt16, mask: UInt16) throws -> PolicyRule {
            try #require(LinuxInventory.policyRule(try PolicyRuleMessage.decode(Self.rule {
                $0.append(type: 15, uint32: 100)
                $0.append(type: type, payload: withUnsafeBytes(of: port, Array.init) + withUnsafeBytes(of: port, Array.init))
                $0.append(type: type + 5, payload: withUnsafeBytes(of: mask, Array.init))
            }[...])))
        }
        let whole = try ports(24, 443, mask: 0xffff)
        #expect(whole.words == "dport 443 lookup 100" && whole.selectorPhrases == ["to port 443"] && !whole.otherSelectors)
        let source = try ports(23, 5000, mask: 0xffff)
        #expect(source.words == "sport 5000 lookup 100" && source.selectorPhrases == ["from port 5000"])
        let masked = try ports(24, 4, mask: 0xff)
        #expect(masked.words == "dport 0x4/0xff lookup 100" && masked.selectorPhrases == ["to ports 0x4/0xff"] && !masked.otherSelectors)
        let zero = try ports(23, 0, mask: 0xf000)
        #expect(zero.words == "sport 0/0xf000 lookup 100")
    }
}
#endif
