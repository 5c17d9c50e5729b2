import Testing
@testable import Netlink

/// IPv6 address labels as Linux 6.18 listed them (RTM_NEWADDRLABEL, captured in a throwaway
/// namespace after `ip addrlabel add prefix 2001:db8:77::/48 dev tap0 label 77`, tap0 ifindex
/// 2). Old code read none: `AddressLabel` did not exist.
@Suite struct AddressLabelCodecTests {
    static let bound = MptcpEndpointCodecTests.bytes("0a003000020000000b0000001400010020010db8007700000000000000000000080002004d000000")
    static let kernels = MptcpEndpointCodecTests.bytes("0a008000000000000b00000014000100000000000000000000000000000000010800020000000000")

    @Test func aLabelsPrefixDeviceAndNumberAreRead() throws {
        #expect(try AddressLabel.decode(Self.bound[...]) == AddressLabel(prefix: [0x20, 0x01, 0x0d, 0xb8, 0, 0x77] + [UInt8](repeating: 0, count: 10),
                                                                         prefixLength: 48, ifindex: 2, label: 77))
        #expect(try AddressLabel.decode(Self.kernels[...]) == AddressLabel(prefix: [UInt8](repeating: 0, count: 15) + [1], prefixLength: 128, ifindex: 0, label: 0))
        for end in 0..<12 { #expect(throws: NetlinkError.self) { try AddressLabel.decode(Self.bound[..<end]) } }
        // An attribute cut short is refused (fewer bytes than a header are padding).
        for end in Array(16..<32) + Array(36..<40) { #expect(throws: NetlinkError.self) { try AddressLabel.decode(Self.bound[..<end]) } }
        // Cut after the prefix: the label is not given, and reads as 0.
        #expect(try AddressLabel.decode(Self.bound[..<32]).label == 0)
    }

    @Test func theDumpRequestAsksForEveryIPv6Label() throws {
        let request = AddressLabel.dumpRequest(sequence: 3)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 74 && message.header.flags == NetlinkFlags.request | NetlinkFlags.dump && message.header.sequence == 3)
        #expect(Array(message.payload) == [10] + [UInt8](repeating: 0, count: 11))
    }
}
