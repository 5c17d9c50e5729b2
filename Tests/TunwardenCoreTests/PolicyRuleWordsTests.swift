import Foundation
import Testing
@testable import TunwardenCore

/// A rule's text follows `ip rule` (review ip10, F3): the IP protocol by the name iproute2 gives
/// it, `ipproto-N` where it has none, and the mark and mask as `%#x` writes them, `0` for zero.
@Suite struct PolicyRuleWordsTests {
    func rule(_ change: (inout PolicyRule) -> Void) -> PolicyRule {
        var rule = PolicyRule(family: .inet, priority: 100, action: .lookup(.other(100)))
        change(&rule)
        return rule
    }

    @Test func theProtocolIsNamedAsIpNamesIt() {
        #expect(rule { $0.ipProtocol = 6 }.words == "ipproto tcp lookup 100")
        #expect(rule { $0.ipProtocol = 58 }.words == "ipproto ipv6-icmp lookup 100")
        #expect(rule { $0.ipProtocol = 253 }.words == "ipproto ipproto-253 lookup 100")
        #expect(rule { $0.ipProtocol = 17 }.selectorPhrases == ["of IP protocol udp (17)"])
        #expect(rule { $0.ipProtocol = 253 }.selectorPhrases == ["of IP protocol 253"])
    }

    @Test func theMarkIsWrittenAsIpWritesIt() {
        #expect(rule { ($0.mark, $0.markMask) = (0, 0xffff) }.words == "fwmark 0/0xffff lookup 100")
        #expect(rule { ($0.mark, $0.markMask) = (0x5, .max) }.words == "fwmark 0x5 lookup 100")
        #expect(rule { ($0.mark, $0.markMask) = (0x5, 0xff) }.words == "fwmark 0x5/0xff lookup 100")
        #expect(rule { ($0.mark, $0.markMask) = (0x10, 0) }.words == "fwmark 0x10/0 lookup 100")
        #expect(rule { ($0.mark, $0.markMask) = (0, 0xffff) }.selectorPhrases == ["marked 0/0xffff"])
        #expect(rule { _ in }.words == "from all lookup 100")
    }
}
