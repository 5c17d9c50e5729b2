#if os(Linux)
import Foundation
import Testing
@testable import Inventory
import Netlink
import TunwardenCore

/// Routes that name a nexthop object (RTA_NH_ID) and nothing else of where they go, as the kernel
/// dumps them while `net.ipv4.nexthop_compat_mode` is 0: the objects' bytes, the table of next
/// hops made from them, and what a watcher does with such a route's notification.
@Suite struct NexthopObjectTests {
    /// A `struct nhmsg` of `family` followed by `attributes`.
    static func object(family: UInt8 = 2, _ build: (inout AttributeEncoder) -> Void) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [family, 0, 3, 0, 0, 0, 0, 0])
        build(&attributes)
        return attributes.bytes
    }

    /// A `struct rtmsg` for 10.50.0.0/16 in the main table, followed by `attributes`.
    static func route(_ build: (inout AttributeEncoder) -> Void) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [2, 16, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0])
        attributes.append(type: RouteMessage.Attribute.destination, payload: [10, 50, 0, 0])
        build(&attributes)
        return attributes.bytes
    }

    @Test func objectsDecode() throws {
        let single = try NexthopMessage.decode(Self.object {
            $0.append(type: NexthopMessage.Attribute.id, uint32: 7)
            $0.append(type: NexthopMessage.Attribute.outputInterface, uint32: 12)
            $0.append(type: NexthopMessage.Attribute.gateway, payload: [10, 0, 0, 1])
        }[...])
        #expect(single.id == 7 && single.outputInterface == 12 && single.gateway == [10, 0, 0, 1] && single.members.isEmpty)
        // struct nexthop_grp: id (u32), weight - 1 (low byte), its high byte, then two reserved.
        let group = try NexthopMessage.decode(Self.object(family: 0) {
            $0.append(type: NexthopMessage.Attribute.id, uint32: 9)
            $0.append(type: NexthopMessage.Attribute.group, payload: withUnsafeBytes(of: UInt32(7), Array.init) + [2, 0, 0, 0]
                        + withUnsafeBytes(of: UInt32(8), Array.init) + [0xff, 1, 0, 0])
        }[...])
        #expect(group.members == [.init(id: 7, weight: 3), .init(id: 8, weight: 512)])
        let blackhole = try NexthopMessage.decode(Self.object { $0.append(type: NexthopMessage.Attribute.blackhole, payload: []) }[...])
        #expect(blackhole.blackhole)
        #expect(throws: NetlinkError.self) {
            try NexthopMessage.decode(Self.object { $0.append(type: NexthopMessage.Attribute.group, payload: [1, 2, 3]) }[...])
        }
        #expect(throws: NetlinkError.self) { try NexthopMessage.decode([2, 0, 0][...]) }
    }

    /// A group's next hops are its members', with their weights; a blackhole has none, and a
    /// member not dumped adds nothing.
    @Test func theTableGivesEachObjectsNextHops() throws {
        var one = NexthopMessage(), two = NexthopMessage(), group = NexthopMessage(), hole = NexthopMessage()
        (one.id, one.outputInterface) = (1, 5)
        (two.id, two.outputInterface, two.gateway) = (2, 6, [10, 0, 0, 9])
        (group.id, group.members) = (3, [.init(id: 1, weight: 3), .init(id: 2, weight: 1), .init(id: 99, weight: 1)])
        (hole.id, hole.blackhole) = (4, true)
        let table = LinuxInventory.nexthopTable([group, one, two, hole])
        #expect(table[1] == [NextHop(interfaceIndex: 5)])
        #expect(table[3] == [NextHop(interfaceIndex: 5, weight: 3), NextHop(gateway: IPAddress("10.0.0.9"), interfaceIndex: 6, weight: 1)])
        #expect(table[4] == nil)
        let message = try RouteMessage.decode(Self.route { $0.append(type: RouteMessage.Attribute.nexthopID, uint32: 3) }[...])
        #expect(LinuxInventory.needsNexthopObject(message))
        #expect(LinuxInventory.route(message, nexthops: table)?.nextHops.map(\.interfaceIndex) == [5, 6])
        #expect(LinuxInventory.route(message)?.nextHops.isEmpty == true)
    }

    /// A route notification that names only a nexthop object asks for a fresh inventory; one
    /// that also names its device (compat mode 1) is an ordinary change; an object's own
    /// notification asks for one only while routes use objects.
    @Test func aWatcherLooksAfreshForWhatOnlyTheObjectsTell() throws {
        var decoder = LinuxEventDecoder()
        let bare = NetlinkMessage.encode(type: NetlinkType.newRoute, flags: 0, sequence: 0,
                                         payload: Self.route { $0.append(type: RouteMessage.Attribute.nexthopID, uint32: 3) })
        #expect(throws: LinuxEventDecoder.NeedsFreshLook.self) { try decoder.changes(in: bare) }
        let compat = NetlinkMessage.encode(type: NetlinkType.newRoute, flags: 0, sequence: 0, payload: Self.route {
            $0.append(type: RouteMessage.Attribute.nexthopID, uint32: 3)
            $0.append(type: RouteMessage.Attribute.outputInterface, uint32: 5)
        })
        #expect(try decoder.changes(in: compat).count == 1)
        let object = NetlinkMessage.encode(type: NexthopMessage.newNexthop, flags: 0, sequence: 0,
                                           payload: Self.object { $0.append(type: NexthopMessage.Attribute.id, uint32: 3) })
        #expect(try decoder.changes(in: object).isEmpty)
        decoder.objectsInUse = true
        #expect(throws: LinuxEventDecoder.NeedsFreshLook.self) { try decoder.changes(in: object) }
        // A device that goes down or loses its carrier takes the objects through it with it,
        // unannounced: while routes use objects, that asks for a fresh look too.
        func link(flags: UInt32, type: UInt16 = NetlinkType.newLink) -> [UInt8] {
            var attributes = AttributeEncoder(prefix: [0, 0, 0, 0] + withUnsafeBytes(of: Int32(5), Array.init) + withUnsafeBytes(of: flags, Array.init) + [0, 0, 0, 0])
            attributes.append(type: 3, string: "nho9")
            return NetlinkMessage.encode(type: type, flags: 0, sequence: 0, payload: attributes.bytes)
        }
        #expect(try decoder.changes(in: link(flags: 0x1 | 0x10000)).count == 1)
        #expect(throws: LinuxEventDecoder.NeedsFreshLook.self) { try decoder.changes(in: link(flags: 0x1)) }
        #expect(throws: LinuxEventDecoder.NeedsFreshLook.self) { try decoder.changes(in: link(flags: 0x10000)) }
        #expect(throws: LinuxEventDecoder.NeedsFreshLook.self) { try decoder.changes(in: link(flags: 0x1 | 0x10000, type: NetlinkType.delLink)) }
        decoder.objectsInUse = false
        #expect(try decoder.changes(in: link(flags: 0)).count == 1)
    }
}
#endif
