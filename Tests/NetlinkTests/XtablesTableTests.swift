import Testing
import TestSupport
@testable import Netlink

/// iptables TEE targets and the devices they duplicate packets to: real rules captured by
/// Fixtures/capture-xtables.py, which sets up the values asserted here (`-t mangle -j TEE
/// --gateway … --oif tapmon`, and one TEE without --oif), through iptables-nft and through
/// iptables-legacy and ip6tables-legacy.
@Suite struct XtablesTableTests {
    @Test func anIptablesNftTeeRuleNamesItsDevice() throws {
        let rules = try CapturedMessageTests.messages("nft-tee-rule-dump", type: NftablesRule.ruleMessage).map { try NftablesRule.decodeRule($0.payload) }
        #expect(rules.map { String(decoding: $0.table, as: UTF8.self) + "/" + String(decoding: $0.chain, as: UTF8.self) } == ["mangle/PREROUTING", "mangle/PREROUTING"])
        // The first has --oif tapmon; the second leaves the device to the route.
        #expect(rules.map(\.devices) == [[.named(Array("tapmon".utf8))], []])
    }

    @Test func legacyTablesNameTheDevicesOfTheirTeeTargets() throws {
        let ipv4 = try CapturedMessageTests.fixture("xt-mangle-entries")
        #expect(try XtablesTable.teeTargets(entries: ipv4[...], family: .ipv4) == [.named(Array("tapmon".utf8)), .routed])
        let ipv6 = try CapturedMessageTests.fixture("xt6-mangle-entries")
        #expect(try XtablesTable.teeTargets(entries: ipv6[...], family: .ipv6) == [.named(Array("tapmon".utf8))])
    }

    @Test func requestsAreWhatTheKernelExpects() throws {
        let info = XtablesTable.infoRequest(table: "mangle")
        #expect(info.count == 84 && info.prefix(7) == Array("mangle".utf8) + [0] && info.dropFirst(6).allSatisfy { $0 == 0 })
        var answer = info
        answer.replaceSubrange(80..<84, with: [0x18, 0x05, 0, 0])
        #expect(try XtablesTable.entriesSize(info: answer) == 1304)
        #expect(throws: NetlinkError.self) { try XtablesTable.entriesSize(info: Array(answer.prefix(83))) }
        let entries = XtablesTable.entriesRequest(table: "mangle", size: 1304)
        #expect(entries.count == 40 + 1304 && entries.prefix(32) == info.prefix(32) && Array(entries[32..<36]) == [0x18, 0x05, 0, 0])
    }

    @Test func teeDataOfUnknownShapeIsNotGuessed() {
        let data = [UInt8](repeating: 0, count: 16) + Array("tap0".utf8) + [UInt8](repeating: 0, count: 20)
        #expect(XtablesTable.teeDevice(revision: 1, info: data[...]) == .named(Array("tap0".utf8)))
        #expect(XtablesTable.teeDevice(revision: 0, info: data[...]) == .named(Array("tap0".utf8)))
        #expect(XtablesTable.teeDevice(revision: 2, info: data[...]) == .unknown("a TEE target of revision 2"))
        #expect(XtablesTable.teeDevice(revision: 1, info: data.prefix(31)) == .unknown("a TEE target of 31 bytes"))
    }

    @Test func brokenTablesThrowAndNeverTrap() throws {
        let ipv4 = try CapturedMessageTests.fixture("xt-mangle-entries")
        for end in 0..<ipv4.count where ![0, 184, 336, 488, 672, 824, 976, 1128].contains(end) {
            #expect(throws: NetlinkError.self) { try XtablesTable.teeTargets(entries: ipv4.prefix(end), family: .ipv4) }
        }
        // A next_offset that would not move on, or a target that runs past its entry.
        var stuck = ipv4
        stuck.replaceSubrange(90..<92, with: [0, 0])
        #expect(throws: NetlinkError.self) { try XtablesTable.teeTargets(entries: stuck[...], family: .ipv4) }
        var long = ipv4
        long.replaceSubrange(112..<114, with: [0xff, 0])
        #expect(throws: NetlinkError.self) { try XtablesTable.teeTargets(entries: long[...], family: .ipv4) }
        // Random bytes and mutations: errors or targets, never a trap.
        var generator = SplitMix64(state: 0x7465_6500)
        for _ in 0..<3_000 {
            var mutated = ipv4
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? XtablesTable.teeTargets(entries: mutated[...], family: Bool.random(using: &generator) ? .ipv4 : .ipv6)
            let noise = (0..<Int.random(in: 0..<400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? XtablesTable.teeTargets(entries: noise[...], family: .ipv6)
        }
    }
}
