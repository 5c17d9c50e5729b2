import Testing
@testable import Netlink

/// Byte-level tests of the requests that add a dumped route or address again: the kernel's own
/// message comes back as a request, attribute for attribute, without the flags that only report
/// a route's state.
@Suite struct ReplayTests {
    /// A route as a dump reports it: link down, onlink and cloned in rtm_flags; a nested
    /// RTA_METRICS; a multipath whose hops are dead, link down and (one) onlink.
    static func dumpedRoute() -> [UInt8] {
        var header: [UInt8] = [2, 16, 0, 0, 254, 4, 0, 1]
        header.appendNative(UInt32(0x10 | 0x4 | 0x200))
        var attributes = AttributeEncoder(prefix: header)
        attributes.append(type: RouteMessage.Attribute.destination, payload: [10, 99, 0, 0])
        attributes.append(type: RouteMessage.Attribute.table, uint32: 254)
        attributes.appendNested(type: 8) { metrics in metrics.append(type: 2, uint32: 1300) }
        var hops: [UInt8] = []
        for (flags, index, gateway) in [(UInt8(0x11), Int32(7), [UInt8]([10, 9, 0, 2])), (0x15, 7, [10, 9, 0, 3])] {
            var gatewayAttribute = AttributeEncoder()
            gatewayAttribute.append(type: RouteMessage.Attribute.gateway, payload: gateway)
            hops.appendNative(UInt16(8 + gatewayAttribute.bytes.count))
            hops += [flags, 0]
            hops.appendNative(index)
            hops += gatewayAttribute.bytes
        }
        attributes.append(type: RouteMessage.Attribute.multipath, payload: hops)
        return attributes.bytes
    }

    @Test func aDumpedRouteBecomesARequestForTheSameRouteWithoutItsStateFlags() throws {
        let dumped = Self.dumpedRoute()
        let request = try Replay.addRouteRequest(fromDumped: dumped[...], sequence: 9)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == NetlinkType.newRoute)
        #expect(message.header.flags == NetlinkFlags.request | NetlinkFlags.ack | NetlinkFlags.create | NetlinkFlags.exclusive)
        #expect(message.header.sequence == 9)
        let original = try RouteMessage.decode(dumped[...]), replayed = try RouteMessage.decode(message.payload)
        #expect(replayed.flags == 0x4, "only onlink is asked for")
        #expect(replayed.nextHops.map(\.flags) == [0, 0x4])
        #expect(replayed.nextHops.map(\.gateway) == original.nextHops.map(\.gateway))
        #expect(replayed.destination == [10, 99, 0, 0] && replayed.destinationLength == 16 && replayed.protocolID == 4)
        // Byte for byte but for the flags: the nested bit of RTA_METRICS is kept.
        var expected = dumped
        expected.replaceSubrange(8..<12, with: [4, 0, 0, 0])
        let hopsAt = try #require(Self.offset(of: RouteMessage.Attribute.multipath, in: dumped)) + 4
        expected[hopsAt + 2] = 0
        expected[hopsAt + 16 + 2] = 4
        #expect(Array(message.payload) == expected)
    }

    @Test func aDumpedAddressIsHandedBackAsItCame() throws {
        var header: [UInt8] = [10, 64, 0x80, 0]
        header.appendNative(UInt32(5))
        var attributes = AttributeEncoder(prefix: header)
        attributes.append(type: AddressMessage.Attribute.address, payload: [0xfd, 9] + [UInt8](repeating: 0, count: 13) + [1])
        attributes.append(type: AddressMessage.Attribute.flags, uint32: 0x80 | 0x40)
        let request = try Replay.addAddressRequest(fromDumped: attributes.bytes[...], sequence: 3)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == NetlinkType.newAddress)
        #expect(message.header.flags & NetlinkFlags.create != 0 && message.header.flags & NetlinkFlags.exclusive != 0)
        #expect(Array(message.payload) == attributes.bytes)
    }

    /// The deletion keeps the header and the address attributes the kernel finds an address by,
    /// and drops the rest (flags, lifetimes, protocol), byte for byte.
    @Test func aDumpedAddressIsDeletedByItsHeaderAndAddressAlone() throws {
        var header: [UInt8] = [10, 64, 0x80, 253]
        header.appendNative(UInt32(7))
        let linkLocal: [UInt8] = [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [9]
        var dumped = AttributeEncoder(prefix: header)
        dumped.append(type: AddressMessage.Attribute.address, payload: linkLocal)
        dumped.append(type: AddressMessage.Attribute.flags, uint32: 0x80)
        dumped.append(type: AddressMessage.Attribute.cacheInfo, payload: [UInt8](repeating: 0xff, count: 16))
        dumped.append(type: AddressMessage.Attribute.proto, uint8: 3)
        let request = try Replay.deleteAddressRequest(fromDumped: dumped.bytes[...], sequence: 4)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == NetlinkType.delAddress)
        #expect(message.header.flags & (NetlinkFlags.create | NetlinkFlags.exclusive | NetlinkFlags.dump) == 0)
        var expected = AttributeEncoder(prefix: header)
        expected.append(type: AddressMessage.Attribute.address, payload: linkLocal)
        #expect(Array(message.payload) == expected.bytes)
        #expect(throws: NetlinkError.self) { try Replay.deleteAddressRequest(fromDumped: [10, 64][...], sequence: 1) }
    }

    @Test func malformedPayloadsAreRefused() {
        #expect(throws: NetlinkError.self) { try Replay.addRouteRequest(fromDumped: [2, 16, 0][...], sequence: 1) }
        #expect(throws: NetlinkError.self) { try Replay.addAddressRequest(fromDumped: [10, 64][...], sequence: 1) }
        var route = Self.dumpedRoute()
        route.append(contentsOf: [40, 0, 1, 0])  // an attribute longer than what is left
        #expect(throws: NetlinkError.self) { try Replay.addRouteRequest(fromDumped: route[...], sequence: 1) }
        var shortHop: [UInt8] = [2, 16, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0]
        shortHop += [12, 0, 9, 0, 4, 0, 0, 0, 0, 0, 0, 0]  // rtnexthop length 4
        #expect(throws: NetlinkError.self) { try Replay.addRouteRequest(fromDumped: shortHop[...], sequence: 1) }
    }

    static func offset(of type: UInt16, in payload: [UInt8]) -> Int? {
        var offset = RouteMessage.headerSize
        while offset + 4 <= payload.count {
            let length = Int(payload[offset]) | Int(payload[offset + 1]) << 8
            if (UInt16(payload[offset + 2]) | UInt16(payload[offset + 3]) << 8) & 0x3fff == type { return offset }
            offset += align4(max(length, 4))
        }
        return nil
    }
}
