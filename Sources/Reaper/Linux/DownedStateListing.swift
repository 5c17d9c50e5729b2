#if os(Linux)
import Netlink

/// Reading what the fence takes from devices, from the kernel's dumps: their neighbour entries
/// made by hand, addresses and routes, and whose a route of a given key is.
extension DownedState {
    /// The neighbour entries made by hand of each of the devices `indices`: permanent ones, NOARP
    /// ones for a unicast address on a device with ARP (the kernel's own NOARP entries are for
    /// broadcast and multicast addresses, or on devices without ARP, `withoutARP`), managed ones
    /// (NTF_EXT_MANAGED, in whatever state the kernel keeps them), and proxy entries (one dump
    /// each: the kernel lists them apart).
    static func neighbours(of indices: Set<Int32>, withoutARP: Set<Int32> = [], client: RtnetlinkClient) throws -> [Int32: [NeighbourMessage]] {
        var found: [Int32: [NeighbourMessage]] = [:]
        for proxy in [false, true] {
            var ofKind: [Int32: [NeighbourMessage]] = [:]
            try client.dumpEach(operation: proxy ? "RTM_GETNEIGH (proxy)" : "RTM_GETNEIGH", request: { NeighbourMessage.dumpRequest(proxy: proxy, sequence: $0) },
                                restart: { ofKind = [:] }) { message in
                guard message.header.type == NetlinkType.newNeighbour else { return }
                let neighbour = try NeighbourMessage.decode(message.payload)
                guard indices.contains(neighbour.index), neighbour.destination != nil else { return }
                let byHand = proxy
                    ? neighbour.flags & NeighbourMessage.proxy != 0
                    : neighbour.state & NeighbourMessage.permanent != 0 || neighbour.isManaged
                        || (neighbour.state & NeighbourMessage.noARP != 0 && neighbour.type == NeighbourMessage.unicast && !withoutARP.contains(neighbour.index))
                if byHand { ofKind[neighbour.index, default: []].append(neighbour) }
            }
            found.merge(ofKind, uniquingKeysWith: +)
        }
        return found
    }

    /// The addresses of each of the devices `indices`, IPv4 then IPv6 (or of `families` only), as
    /// dumped payloads.
    static func addresses(of indices: Set<Int32>, families: [UInt8] = [inet, inet6], client: RtnetlinkClient) throws -> [Int32: [[UInt8]]] {
        var found: [Int32: [[UInt8]]] = [:]
        for family in families {
            var ofFamily: [Int32: [[UInt8]]] = [:]
            try client.dumpEach(operation: "RTM_GETADDR", request: { AddressMessage.dumpRequest(family: family, sequence: $0) },
                                restart: { ofFamily = [:] }) { message in
                guard message.header.type == NetlinkType.newAddress else { return }
                let address = try AddressMessage.decode(message.payload)
                let index = Int32(bitPattern: address.index)
                guard address.family == family, indices.contains(index) else { return }
                ofFamily[index, default: []].append(Array(message.payload))
            }
            found.merge(ofFamily, uniquingKeysWith: +)
        }
        return found
    }

    /// The routes through one device, as dumped payloads: those that leave through it alone, and
    /// the multipath ones it shares with other devices.
    struct Through {
        var alone: [[UInt8]] = []
        var shared: [[UInt8]] = []
    }

    /// The routes through each of the devices `indices` (not cached ones, not those through
    /// nexthop objects, not those learned from router advertisements), from one dump of each family
    /// (of `families` only, when given).
    static func routes(through indices: Set<Int32>, families: [UInt8] = [inet, inet6], client: RtnetlinkClient) throws -> [Int32: Through] {
        var found: [Int32: Through] = [:]
        for family in families {
            var ofFamily: [Int32: Through] = [:]
            try client.dumpEach(operation: "RTM_GETROUTE", request: { RouteMessage.dumpRequest(family: family, sequence: $0) },
                                restart: { ofFamily = [:] }) { message in
                guard message.header.type == NetlinkType.newRoute else { return }
                let route = try RouteMessage.decode(message.payload)
                guard route.flags & RouteMessage.cloned == 0, route.nexthopID == nil, route.protocolID != routerAdvertisement else { return }
                let devices = Set(route.nextHops.isEmpty ? [route.outputInterface].compactMap { $0 } : route.nextHops.map(\.interfaceIndex))
                for index in devices where indices.contains(index) {
                    if devices.count == 1 {
                        ofFamily[index, default: Through()].alone.append(Array(message.payload))
                    } else {
                        ofFamily[index, default: Through()].shared.append(Array(message.payload))
                    }
                }
            }
            for (index, through) in ofFamily {
                found[index, default: Through()].alone += through.alone
                found[index, default: Through()].shared += through.shared
            }
        }
        return found
    }

    /// Why the routes of `key` (of `family`) are not only this device's to replace: a route of
    /// the key that leaves through another device (or through a nexthop object), in words; nil
    /// when every route of the key leaves through device `index` alone. A dump that cannot be
    /// had is a reason too: then nothing is replaced.
    static func otherDevicesRoute(key: [UInt8], family: UInt8, index: Int32, client: RtnetlinkClient) -> String? {
        var other: String?
        do {
            try client.dumpEach(operation: "RTM_GETROUTE", request: { RouteMessage.dumpRequest(family: family, sequence: $0) },
                                restart: { other = nil }) { message in
                guard other == nil, message.header.type == NetlinkType.newRoute else { return }
                let route = try RouteMessage.decode(message.payload)
                guard route.flags & RouteMessage.cloned == 0, Self.key(Array(message.payload)) == key else { return }
                let devices = Set(route.nextHops.isEmpty ? [route.outputInterface].compactMap { $0 } : route.nextHops.map(\.interfaceIndex))
                if route.nexthopID != nil || devices != [index] {
                    let through = route.nexthopID.map { "nexthop object \($0)" } ?? devices.sorted().map { "ifindex \($0)" }.joined(separator: ", ")
                    other = "a route of the same destination, table and metric leaves through \(through)"
                }
            }
        } catch {
            return "the routes could not be listed to see whose that route is (\(error))"
        }
        return other
    }
}
#endif
