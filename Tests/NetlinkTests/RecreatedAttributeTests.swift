import Testing
@testable import Netlink

/// Byte-level tests of what tunwarden reads only to write it back in the recreate commands: route
/// encapsulations and per-hop realms, link settings, and who made an address. The messages were
/// captured from Linux 6.18 with a plain netlink socket after these commands, on a tap `tcap1`
/// (ifindex 2) with `10.50.0.1/24` and a veth `vcap1` (ifindex 4, MAC 02:aa:bb:cc:dd:ee) that was up:
///
///     ip link set tcap1 address 02:11:22:33:44:55 broadcast 02:ff:ff:ff:ff:fe mode dormant addrgenmode none \
///         gso_max_size 30000 gso_max_segs 100 gro_max_size 40000
///     ip addr add fe80::1/64 dev tcap1 nodad
///     ip route add 10.70.0.0/16 dev tcap1 encap ip id 42 dst 10.0.0.9 ttl 7 tos 0x10 key csum
///     ip -6 route add 2001:db8:73::/48 dev tcap1 encap ip6 id 44 dst 2001:db8::10 hoplimit 9 tc 0x20 seq
///     ip route add 10.51.0.0/16 nexthop via 10.50.0.5 realms 5 dev tcap1 \
///         nexthop encap ip id 7 dst 10.0.0.7 via 10.77.0.6 realms 2/6 dev tcap1 weight 9 onlink
@Suite struct RecreatedAttributeTests {
    static func bytes(_ hex: [String]) -> ArraySlice<UInt8> {
        let digits = Array(hex.joined().utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)! }[...]
    }

    static let encapIPRoute = [
        "02100000fe03fd011000000008000f00fe000000080001000a4600000800040002000000380016000c000100000000000000002a08000200",
        "0a00000908000300000000000500050010000000050004000700000006000600000500000600150002000000",
    ]
    static let encapIP6Route = [
        "0a300000fe0300011000000008000f00fe0000001400010020010db800730000000000000000000008000600000400000800040002000000",
        "500016000c000100000000000000002c1400020020010db80000000000000000000000101400030000000000000000000000000000000000",
        "050005002000000005000400090000000600060000080000060015000400000024000c000000000000000000000000000000000000000000",
        "0000000000000000000000000500140000000000",
    ]
    static let multipathRoute = [
        "02100000fe0300011000000008000f00fe000000080001000a330000740009001800100002000000080005000a32000508000b0005000000",
        "5800140802000000080005000a4d0006380016000c0001000000000000000007080002000a00000708000300000000000500050000000000",
        "05000400000000000600060000000000060015000200000008000b0006000200",
    ]
    static let tapLink = [
        "000001000200000003100000000000000a000300746361703100000008000d00e80300000500100002000000050011000100000005004300",
        "0000000008000400dc050000080032004400000008003300f1ff000008001b000000000008001e000000000008003d000000000008001f00",
        "010000000800280064000000080029003075000008003a00409c000008003f003075000008004000409c000008003b000000010008003c00",
        "ffff0000080042000000000008002000010000000500210000000000080023000100000008002f0000000000080030000100000006004400",
        "00000000060045000000000005002700000000000a00010002112233445500000a00020002fffffffffe0000cc0017000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000400000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000006400070000000000000000000000000000000000000000000000000000000000",
        "0400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000c002b000500020000000000380012000800010074756e002c00020005000300020000000500040000000000",
        "0500050000000000050006000100000005000700000000000f000600706669666f5f666173740000c0011a008c0002008800010000000000",
        "0000000000000000010000000100000001000000010000000000000001000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000010270000e803000000000000",
        "0000000000000000000000000100000030010a00080001001000000014000500ffff0000fdf52f00409a0000e8030000f400020000000000",
        "40000000dc05000001000000010000000100000001000000ffffffffa00f0000e803000000000000803a0900805101000300000058020000",
        "100000000000000001000000010000000100000060ea00000000000000000000000000000000000000000000000000000100000000000000",
        "0000000010270000e80300000100000000000000000000000100000000000000000000000100000000000000000000000000000000000000",
        "80ee360000000000000000000100000001000000000000000000000000000000000000000004000000000000ffff0000ffffffff01000000",
        "0000000000000000000000001400070000000000000000000000000000000000050008000100000024000e00000000000000000000000000",
        "000000000000000000000000000000000000000004003e8004004180",
    ]
    /// `fe80::1` added by hand on tcap1, and the link-local address the kernel gave vcap1.
    static let handMadeLinkLocal = [
        "0a4082fd0200000014000100fe80000000000000000000000000000114000600fffffffffffffffffef52f00fef52f000800080082000000",
    ]
    static let kernelLinkLocal = [
        "0a40c0fd0400000014000100fe8000000000000000aabbfffeccddee14000600fffffffffffffffffff52f00fff52f0008000800c0000000",
        "05000b0003000000",
    ]

    @Test func anIPv4EncapsulationIsReadWithEveryField() throws {
        let route = try RouteMessage.decode(Self.bytes(Self.encapIPRoute))
        let encapsulation = try #require(route.encapsulation)
        #expect(encapsulation.type == RouteMessage.Encapsulation.ip)
        #expect(encapsulation.id == 42 && encapsulation.destination == [10, 0, 0, 9] && encapsulation.source == [0, 0, 0, 0])
        #expect(encapsulation.ttl == 7 && encapsulation.tos == 0x10)
        // TUNNEL_KEY | TUNNEL_CSUM, sent big-endian.
        #expect(encapsulation.flags == 0x4 | 0x1 && !encapsulation.hasOptions)
    }

    @Test func anIPv6EncapsulationIsReadWithEveryField() throws {
        let route = try RouteMessage.decode(Self.bytes(Self.encapIP6Route))
        let encapsulation = try #require(route.encapsulation)
        #expect(encapsulation.type == RouteMessage.Encapsulation.ip6)
        #expect(encapsulation.id == 44 && encapsulation.destination == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x10])
        #expect(encapsulation.ttl == 9 && encapsulation.tos == 0x20 && encapsulation.flags == 0x8)
    }

    @Test func eachHopKeepsItsOwnRealmsAndEncapsulation() throws {
        let route = try RouteMessage.decode(Self.bytes(Self.multipathRoute))
        #expect(route.encapsulation == nil && route.realms == nil)
        #expect(route.nextHops.map(\.realms) == [5, 2 << 16 | 6])
        #expect(route.nextHops[0].encapsulation == nil)
        let second = try #require(route.nextHops[1].encapsulation)
        #expect(second.type == RouteMessage.Encapsulation.ip && second.id == 7 && second.destination == [10, 0, 0, 7])
        #expect(route.nextHops.map(\.hops) == [0, 8])
    }

    @Test func linkSettingsAreRead() throws {
        let link = try LinkMessage.decode(Self.bytes(Self.tapLink))
        #expect(link.name == Array("tcap1".utf8))
        #expect(link.broadcast == [0x02, 0xff, 0xff, 0xff, 0xff, 0xfe])
        #expect(link.linkMode == 1)
        // IN6_ADDR_GEN_MODE_NONE, inside IFLA_AF_SPEC's AF_INET6 nest.
        #expect(link.ipv6AddressGenerationMode == 1)
        #expect(link.gsoMaxSize == 30000 && link.gsoMaxSegments == 100 && link.groMaxSize == 40000)
        // IFLA_GSO_IPV4_MAX_SIZE and IFLA_GRO_IPV4_MAX_SIZE, which the kernel set with those.
        #expect(link.gsoIPv4MaxSize == 30000 && link.groIPv4MaxSize == 40000)
    }

    @Test func theKernelMarksOnlyItsOwnLinkLocalAddress() throws {
        let handMade = try AddressMessage.decode(Self.bytes(Self.handMadeLinkLocal))
        #expect(handMade.address?.prefix(2) == [0xfe, 0x80] && handMade.addressProtocol == nil)
        let automatic = try AddressMessage.decode(Self.bytes(Self.kernelLinkLocal))
        #expect(automatic.index == 4 && automatic.addressProtocol == AddressMessage.kernelLinkLocal)
    }

    /// A truncated encapsulation is an error, as any malformed attribute is, never a crash.
    @Test func aTruncatedEncapsulationIsAnError() throws {
        var header: [UInt8] = [2, 16, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0]
        var attributes = AttributeEncoder(prefix: header)
        attributes.append(type: RouteMessage.Attribute.encapType, payload: [2, 0])
        attributes.append(type: RouteMessage.Attribute.encap, payload: [12, 0, 1, 0, 0, 0])
        header = attributes.bytes
        #expect(throws: NetlinkError.self) { try RouteMessage.decode(header[...]) }
    }
}
