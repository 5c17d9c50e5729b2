#if os(Linux)
import Foundation
@testable import Inventory
import Netlink
import Testing

/// Which neighbour notifications make a watcher read vxlan forwarding entries again: those that
/// name a device, and those of an entry that sent through one; not ARP, NDP, a bridge's learned
/// addresses or a vxlan's entries without a device.
struct ForwardingEventsTests {
    static let vxlan: Int32 = 9
    static let address: [UInt8] = [0x02, 0, 0, 0, 0x62, 0x01]

    /// One neighbour notification: an ndmsg of `family` on device `index`, with NDA_LLADDR and,
    /// when given, NDA_IFINDEX.
    static func message(type: UInt16 = NetlinkType.newNeighbour, family: UInt8, index: Int32 = vxlan, address: [UInt8] = address,
                        via: Int32? = nil) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: NeighbourMessage.headerSize)
        payload[0] = family
        withUnsafeBytes(of: index) { payload.replaceSubrange(4..<8, with: $0) }
        func attribute(_ type: UInt16, _ data: [UInt8]) {
            withUnsafeBytes(of: UInt16(4 + data.count)) { payload += $0 }
            withUnsafeBytes(of: type) { payload += $0 }
            payload += data
            while payload.count % 4 != 0 { payload.append(0) }
        }
        attribute(2, address)
        if let via { attribute(8, withUnsafeBytes(of: via) { Array($0) }) }
        return NetlinkMessage.encode(type: type, flags: 0, sequence: 0, payload: payload)
    }

    @Test func onlyAChangeThatNamesADeviceOrSentThroughOneCounts() {
        var events = ForwardingEvents()
        let bridge = NeighbourMessage.bridgeFamily
        // ARP and NDP, whatever their attributes say, are passed over on their family.
        #expect(!events.mayChangeVias(Self.message(family: 2, via: 3)[...]))
        #expect(!events.mayChangeVias(Self.message(family: 10, via: 3)[...]))
        // An entry added or deleted via a device.
        #expect(events.mayChangeVias(Self.message(family: bridge, via: 3)[...]))
        #expect(events.mayChangeVias(Self.message(type: NetlinkType.delNeighbour, family: bridge, via: 3)[...]))
        // Without one (a learned address, a remote without a device), or asked for: nothing.
        #expect(!events.mayChangeVias(Self.message(family: bridge)[...]))
        #expect(!events.mayChangeVias(Self.message(family: bridge, via: 0)[...]))
        #expect(!events.mayChangeVias(Self.message(type: NetlinkType.getNeighbour, family: bridge, via: 3)[...]))
        // The same entry, as last read sending through a device: replaced without it.
        events.sending = [VxlanForwarding.Key(vxlan: Self.vxlan, address: Self.address)]
        #expect(events.mayChangeVias(Self.message(family: bridge)[...]))
        #expect(!events.mayChangeVias(Self.message(family: bridge, index: Self.vxlan + 1)[...]))
        #expect(!events.mayChangeVias(Self.message(family: bridge, address: [0x02, 0, 0, 0, 0x62, 0x02])[...]))
        // The one that counts among others in a datagram.
        let datagram = Self.message(family: 2) + Self.message(family: bridge, index: 4) + Self.message(family: bridge, index: 5, via: 3)
        #expect(events.mayChangeVias(datagram[...]))
        // What cannot be read counts: what it said is unknown.
        var cut = Self.message(family: bridge)
        cut.removeLast(4)
        #expect(events.mayChangeVias(cut[...]))
    }
}
#endif
