import Testing
import TestSupport
@testable import Netlink

/// The generic netlink controller's answer for `mptcp_pm` and the path manager's endpoints, as
/// Linux 6.18 sent them (captured in a throwaway namespace after `ip mptcp endpoint add 10.9.0.1
/// dev tap0 subflow`, `… 2001:db8:9::1 dev tap0 signal backup`, `… 10.9.0.7 id 9 signal`; tap0 was
/// ifindex 2). Old code read no MPTCP endpoint: neither the requests nor `MptcpEndpoint` existed.
@Suite struct MptcpEndpointCodecTests {
    static func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map { offset in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    /// The controller's answer, cut after its first attributes (the operations and groups that
    /// follow are not read): CTRL_CMD_NEWFAMILY, name `mptcp_pm`, id 28.
    static let family = bytes("010200000d0002006d707463705f706d00000000060001001c000000080003000100000008000400000000000800050000000000")
    static let subflow = bytes("030100003400018006000100020000000600050000000000050002000100000008000600020000000800070002000000080003000a090001")
    static let signal6 = bytes("0301000040000180060001000a00000006000500000000000500020002000000080006000500000008000700020000001400040020010db8000900000000000000000001")
    static let unbound = bytes("030100002c0001800600010002000000060005000000000005000200090000000800060001000000080003000a090007")

    @Test func theFamilyRequestAsksByNameAndTheAnswerGivesTheNumber() throws {
        let request = GenericNetlink.familyRequest(name: "mptcp_pm", sequence: 4)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 0x10 && message.header.flags == NetlinkFlags.request && message.header.sequence == 4)
        #expect(Array(message.payload) == [3, 1, 0, 0, 13, 0, 2, 0] + Array("mptcp_pm".utf8) + [0, 0, 0, 0])
        #expect(try GenericNetlink.decodeFamilyID(Self.family[...]) == 28)
        #expect(throws: NetlinkError.self) { try GenericNetlink.decodeFamilyID(Self.family[..<20]) }
        #expect(throws: NetlinkError.self) { try GenericNetlink.decodeFamilyID([1, 2, 0][...]) }
    }

    @Test func theDumpRequestAsksForEveryEndpoint() throws {
        let request = MptcpEndpoint.dumpRequest(family: 28, sequence: 5)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 28 && message.header.flags == NetlinkFlags.request | NetlinkFlags.dump && message.header.sequence == 5)
        #expect(Array(message.payload) == [3, 1, 0, 0])
    }

    @Test func eachEndpointsDeviceAddressAndFlagsAreRead() throws {
        #expect(try MptcpEndpoint.decode(Self.subflow[...]) == MptcpEndpoint(id: 1, address: [10, 9, 0, 1], flags: 2, ifindex: 2))
        let signal = try #require(try MptcpEndpoint.decode(Self.signal6[...]))
        #expect(signal == MptcpEndpoint(id: 2, address: [0x20, 0x01, 0x0d, 0xb8, 0, 9] + [UInt8](repeating: 0, count: 9) + [1], flags: 5, ifindex: 2))
        #expect(signal.flagWords == ["signal", "backup"])
        #expect(try MptcpEndpoint.decode(Self.unbound[...]) == MptcpEndpoint(id: 9, address: [10, 9, 0, 7], flags: 1, ifindex: 0))
        #expect(try MptcpEndpoint.decode([3, 1, 0, 0][...]) == nil)
    }

    /// Every cut of an endpoint's message that splits an attribute is refused, as is an address
    /// of the wrong size; random flips decode or throw, never crash.
    @Test func shortOrDamagedPayloadsAreRefusedNeverCrash() {
        for end in 0..<4 { #expect(throws: NetlinkError.self) { try MptcpEndpoint.decode(Self.subflow[..<end]) } }
        for end in 8..<Self.subflow.count {
            #expect(throws: NetlinkError.self) { try MptcpEndpoint.decode(Self.subflow[..<end]) }
        }
        var wrong = Self.subflow
        wrong.replaceSubrange(48..<50, with: [7, 0])     // ADDR4 of 3 bytes
        #expect(throws: NetlinkError.self) { try MptcpEndpoint.decode(wrong[...]) }
        var generator = SplitMix64(state: 0x6d70_7463)
        for _ in 0..<5_000 {
            var bytes = [Self.subflow, Self.signal6, Self.unbound][Int.random(in: 0..<3, using: &generator)]
            for _ in 0..<Int.random(in: 1...8, using: &generator) { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            if let endpoint = try? MptcpEndpoint.decode(bytes[...]) { #expect([0, 4, 16].contains(endpoint.address.count)) }
        }
    }
}
