import Testing
@testable import Netlink

/// IPv6 address labels as Linux 6.18 listed them (RTM_NEWADDRLABEL, captured in a throwaway
/// namespace after `ip addrlabel add prefix 2001:db8:77::/48 dev tap0 label 77`, tap0 ifindex
/// 2), and a link notification's group. Old code read neither: `AddressLabel` and
/// `LinkGroupNotice` did not exist.
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

    /// A link notification's ifindex, name and group, and nothing else of it, are read.
    @Test func aLinkNotificationsGroupIsRead() throws {
        var payload: [UInt8] = [0, 0, 1, 0, 13, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        payload += [9, 0, 3, 0] + Array("vic0".utf8) + [0, 0, 0, 0]
        payload += [8, 0, 27, 0, 0x40, 0x30, 0x20, 0x10]
        payload += [8, 0, 4, 0, 0xdc, 5, 0, 0]
        #expect(try LinkGroupNotice.decode(payload[...]) == LinkGroupNotice(index: 13, name: Array("vic0".utf8), group: 0x1020_3040))
        #expect(try LinkGroupNotice.decode(payload[..<16]) == LinkGroupNotice(index: 13))
        #expect(throws: NetlinkError.self) { try LinkGroupNotice.decode(payload[..<15]) }
        #expect(throws: NetlinkError.self) { try LinkGroupNotice.decode(payload[..<32]) }
    }
}
