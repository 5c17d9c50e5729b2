#if os(Linux)
import Glibc
import Inventory
import Netlink
import TunwardenCore

/// What a device loses when the reaper fences it, kept so that it can be given back if the
/// device is not deleted after all: its addresses, the routes that leave only through it, and its
/// neighbour entries made by hand, as the kernel listed them right before.
///
/// A multi-queue device can only be renamed (its fence) while it is down. Down, it loses its IPv6
/// addresses (unless `keep_addr_on_down` is set), every route through it alone, in every
/// table, and its neighbour entries, permanent ones included; up again, the kernel makes the
/// routes of its addresses anew, including any the person had changed or deleted. Renaming also relabels its IPv4 addresses (`inetdev_changename`: the
/// first takes the device's name, the others the name and a `:N`). When a process attaches in
/// that moment, the device is kept, and it must come back as it was: the addresses are added
/// again (an IPv4 address the renames relabelled is reported, not deleted and added again, which
/// would take every route that has it as source with it), the routes added again or,
/// where the kernel remade one of the same key, replaced, and routes the kernel made that were
/// not there before deleted. Then the device is listed again and compared with what was kept:
/// whatever differs is reported. Routes through nexthop objects (`ip nexthop`) are not kept (the
/// kernel removes them with the object; a device without carrier has none), nor routes learned
/// from router advertisements (the next advertisement brings them back), and IPv6 link-local
/// addresses and routes, which the kernel makes by itself when the device gets a carrier, are
/// not compared.
struct DownedState {
    /// The dumped RTM_NEWADDR payloads of the device's addresses, IPv4 then IPv6, in the kernel's order.
    var addresses: [[UInt8]] = []
    /// The dumped RTM_NEWROUTE payloads of the routes that leave only through the device.
    var routes: [[UInt8]] = []
    /// Those of multipath routes that leave through it and other devices: they survive its going
    /// down (an IPv6 one is lost only when every device it leaves through is down, as when two
    /// targets of one batch share it), so they are added again only when missing, and checked.
    var shared: [[UInt8]] = []
    /// Its neighbour entries made by hand (`ip neigh add … nud permanent`, `nud noarp`, `ip neigh
    /// add proxy …`): the kernel flushes them when it goes down, and makes only learned ones
    /// again.
    var neighbours: [NeighbourMessage] = []

    /// IFA_F_TENTATIVE: an IPv6 address still in (or unable to start) duplicate address detection.
    static let tentative: UInt32 = 0x40
    /// RTPROT_KERNEL: a route the kernel made itself (for an address, a device coming up).
    static let kernelProtocol: UInt8 = 2
    /// RTPROT_RA: a route learned from a router advertisement, which comes back with the next one
    /// (given back, it would lose its expiry and become a static route).
    static let routerAdvertisement: UInt8 = 9
    static let inet: UInt8 = 2
    static let inet6: UInt8 = 10

    /// The state of each of the devices `indices`, from one dump of each family's addresses and
    /// routes. Throws when a dump cannot be had: then nothing may be taken down.
    /// `withoutARP`: those of them that are NOARP devices (a tun), whose every neighbour entry is
    /// NOARP and the kernel's own.
    static func read(for indices: Set<Int32>, withoutARP: Set<Int32> = [], client: RtnetlinkClient) throws -> [Int32: DownedState] {
        var states: [Int32: DownedState] = [:]
        for index in indices { states[index] = DownedState() }
        for (index, payloads) in try addresses(of: indices, client: client) { states[index]?.addresses = payloads }
        for (index, through) in try routes(through: indices, client: client) {
            for payload in through.alone {
                // Made into a request now, so that one the kernel would not take back is known before anything changes.
                _ = try Replay.addRouteRequest(fromDumped: payload[...], sequence: 0)
            }
            states[index]?.routes = through.alone
            states[index]?.shared = through.shared
        }
        for (index, entries) in try neighbours(of: indices, withoutARP: withoutARP, client: client) { states[index]?.neighbours = entries }
        return states
    }

    /// Gives device `index` (renamed back and up again) what was kept, then compares. Returns how
    /// many addresses and routes were kept, a description of each thing that still differs, and
    /// the kernel's multicast routes (`ff00::/8`) it has now and had not (see `compare`).
    func putBack(index: Int32, client: RtnetlinkClient) -> (addresses: Int, routes: Int, neighbours: Int, differences: [String], multicastAdded: [String]) {
        var problems: [String] = []
        let kept = addresses.compactMap { payload in (try? AddressMessage.decode(payload[...])).map { (payload, Self.comparable($0)) } }
        let current = (try? Self.addresses(of: [index], client: client)[index] ?? []) ?? []
        let now = current.compactMap { payload in (try? AddressMessage.decode(payload[...])).map { (payload, Self.comparable($0)) } }
        // IPv4 addresses the renames relabelled are left so (and named by the comparison): giving a
        // label back means deleting the address, which takes with it every route, of any device,
        // that has it as source.
        for (payload, saved) in kept where saved.family == Self.inet6 || !now.contains(where: { $0.1.sameAddress(as: saved) }) {
            // An IPv6 address that had passed duplicate address detection comes back without it.
            let flags = (try? AddressMessage.decode(payload[...]))?.flags ?? 0
            let passed = saved.family == Self.inet6 && flags & Self.tentative == 0
            if let problem = Self.send(client, "RTM_NEWADDR", { try Replay.addAddressRequest(fromDumped: payload[...], skipDAD: passed, sequence: $0) }) {
                problems.append("address \(Self.describeAddress(payload)) (\(problem))")
            }
        }
        // Routes in rounds, since one may need another's gateway first; one whose key the kernel
        // remade is replaced by the one kept. A second route of the same key (`ip route append`)
        // goes beside the first, not in its place. The kernel's own IPv6 link-local and multicast
        // routes are not sent: it makes them as the device comes up (sent again, the `local` route
        // of a link-local address would be added beside its own).
        var keysPut: Set<[UInt8]> = []
        var pending = routes.filter { payload in (try? RouteMessage.decode(payload[...])).map { !Self.kernelOwnsLinkLocal($0) } ?? true }
        var leftAlone: [[UInt8]: String] = [:]
        while !pending.isEmpty {
            var next: [[UInt8]] = []
            for payload in pending {
                let key = Self.key(payload)
                var problem = Self.send(client, "RTM_NEWROUTE") { try Replay.addRouteRequest(fromDumped: payload[...], sequence: $0) }
                if problem == Self.exists {
                    // A replace or an append acts on the routes of the key whatever their device
                    // (an IPv6 replace on the first of its prefix and metric in the table): only
                    // where every route of the key leaves through this device alone.
                    if let other = Self.otherDevicesRoute(key: key, family: payload.first ?? 0, index: index, client: client) {
                        leftAlone[payload] = other
                    } else {
                        let how: Replay.Adding = keysPut.contains(key) ? .appending : .replacing
                        problem = Self.send(client, "RTM_NEWROUTE (\(how))") { try Replay.addRouteRequest(fromDumped: payload[...], how, sequence: $0) }
                    }
                }
                if problem != nil { next.append(payload) } else { keysPut.insert(key); leftAlone[payload] = nil }
            }
            if next.count == pending.count { break }
            pending = next
        }
        for payload in pending {
            guard let why = leftAlone[payload], let route = try? RouteMessage.decode(payload[...]) else { continue }
            problems.append("route \(Self.describeRoute(route)) not given back: \(why), left alone")
        }
        if let through = try? Self.routes(through: [index], client: client)[index] ?? Through() {
            // Shared multipath routes that went (every device they leave through was down): added again.
            let sharedNow = through.shared.compactMap { try? RouteMessage.decode($0[...]) }.map(Self.comparable)
            for payload in shared {
                guard let route = try? RouteMessage.decode(payload[...]), !sharedNow.contains(Self.comparable(route)) else { continue }
                _ = Self.send(client, "RTM_NEWROUTE") { try Replay.addRouteRequest(fromDumped: payload[...], sequence: $0) }
            }
            // Routes the kernel made coming up that were not there (one the person had deleted).
            // Only the kernel's own: a route someone else added meanwhile is theirs, and only named.
            let keptRoutes = routes.compactMap { try? RouteMessage.decode($0[...]) }.map(Self.comparable)
            for payload in through.alone {
                guard let route = try? RouteMessage.decode(payload[...]), route.protocolID == Self.kernelProtocol, !Self.kernelOwnsLinkLocal(route),
                      !keptRoutes.contains(Self.comparable(route)) else { continue }
                _ = Self.send(client, "RTM_DELROUTE") { try Replay.deleteRouteRequest(fromDumped: payload[...], sequence: $0) }
            }
        }
        // The entries made by hand (learned ones come back with traffic), proxy ones included.
        for neighbour in neighbours {
            if let problem = Self.send(client, "RTM_NEWNEIGH", { sequence in
                guard let request = neighbour.addRequest(index: index, sequence: sequence) else { throw NetlinkError.malformed("a neighbour entry without an address") }
                return request
            }) {
                problems.append("neighbour entry \(Self.describe(neighbour)) (\(problem))")
            }
        }
        // The kernel finishes an IPv6 address in a work queue (its local route comes with that): an
        // IPv6 difference is looked at again a few times before it is reported.
        var (differences, settling, multicastAdded) = compare(index: index, client: client)
        for _ in 0..<10 where settling {
            usleep(20_000)
            (differences, settling, multicastAdded) = compare(index: index, client: client)
        }
        return (kept.count, routes.count, neighbours.count, problems + differences, multicastAdded)
    }

    /// What differs between the device now and what was kept, in words, and whether an IPv6
    /// address or route is among what is missing (the kernel may still be finishing it); and,
    /// apart, the kernel's IPv6 multicast routes it has now and had not. Giving an IPv6 address
    /// back to a device that is up makes the kernel add its `ff00::/8` route, with or without a
    /// carrier (`addrconf_add_dev`), which a device whose addresses were added while it was down
    /// never had: a change, though the kernel's own and harmless.
    func compare(index: Int32, client: RtnetlinkClient) -> (differences: [String], settling: Bool, multicastAdded: [String]) {
        guard let addressesNow = try? Self.addresses(of: [index], client: client)[index] ?? [],
              let routesNow = try? Self.routes(through: [index], client: client)[index] ?? Through() else {
            return (["its addresses and routes could not be listed again to check them"], false, [])
        }
        var settling = false
        var differences: [String] = []
        var now = addressesNow.compactMap { try? AddressMessage.decode($0[...]) }.map(Self.comparable)
        for payload in addresses {
            guard let saved = (try? AddressMessage.decode(payload[...])).map(Self.comparable) else { continue }
            if let position = now.firstIndex(of: saved) {
                now.remove(at: position)
            } else if let position = now.firstIndex(where: { $0.sameAddress(as: saved) }) {
                let current = now.remove(at: position)
                var relabelled = current
                relabelled.label = saved.label
                if relabelled == saved, let label = saved.label, let was = current.label {
                    differences.append("the rename relabelled address \(Self.describeAddress(payload)) from \(InterfaceName.text(label)) to \(InterfaceName.text(was)) (`ip addr del` and `ip addr add … label \(InterfaceName.text(label))` give it back, and drop every route that has it as source)")
                } else {
                    differences.append("address \(Self.describeAddress(payload)) changed (flags or metric)")
                }
            } else {
                differences.append("address \(Self.describeAddress(payload)) missing")
                if saved.family == Self.inet6 { settling = true }
            }
        }
        for extra in now where !(extra.family == Self.inet6 && extra.scope == 253) {
            differences.append("address \(Self.describe(extra)) not there before")
        }
        let savedMulticast = routes.compactMap { try? RouteMessage.decode($0[...]) }.filter(Self.isMulticast).map(Self.comparable)
        let multicastAdded = routesNow.alone.compactMap { try? RouteMessage.decode($0[...]) }
            .filter { Self.isMulticast($0) && !savedMulticast.contains(Self.comparable($0)) }.map(Self.describeRoute)
        var routesLeft = routesNow.alone.compactMap { try? RouteMessage.decode($0[...]) }.filter { !Self.kernelOwnsLinkLocal($0) }.map(Self.comparable)
        for payload in routes {
            guard let saved = try? RouteMessage.decode(payload[...]), !Self.kernelOwnsLinkLocal(saved) else { continue }
            if let position = routesLeft.firstIndex(of: Self.comparable(saved)) {
                routesLeft.remove(at: position)
            } else {
                differences.append("route \(Self.describeRoute(saved)) missing or changed")
                if saved.family == Self.inet6 { settling = true }
            }
        }
        for extra in routesLeft { differences.append("route \(Self.describeRoute(extra)) not there before") }
        if !shared.isEmpty {
            let sharedNow = routesNow.shared.compactMap { try? RouteMessage.decode($0[...]) }
            for payload in shared {
                guard let saved = try? RouteMessage.decode(payload[...]) else { continue }
                guard let now = sharedNow.first(where: { Self.comparable($0) == Self.comparable(saved) }) else {
                    differences.append("route \(Self.describeRoute(saved)), which it shares with other devices, missing")
                    continue
                }
                // Going down marks its hop dead (RTNH_F_DEAD), and coming up without carrier does
                // not clear it: the route is there, but ip shows the hop otherwise.
                func dead(_ route: RouteMessage) -> Bool { route.nextHops.contains { $0.interfaceIndex == index && UInt32($0.flags) & RouteMessage.deadNextHop != 0 } }
                if dead(now), !dead(saved) {
                    differences.append("route \(Self.describeRoute(saved)), which it shares with other devices, has its next hop through it marked dead "
                        + "(`dead` in ip route; the kernel clears that when its carrier comes on)")
                }
            }
        }
        if !neighbours.isEmpty {
            guard let entriesNow = try? Self.neighbours(of: [index], client: client)[index] ?? [] else {
                return (differences + ["its neighbour entries could not be listed again to check them"], settling, multicastAdded)
            }
            for saved in neighbours where !entriesNow.contains(where: { Self.sameEntry($0, saved) }) {
                differences.append("neighbour entry \(Self.describe(saved)) missing")
            }
        }
        return (differences, settling, multicastAdded)
    }

    /// Whether `entry` is the neighbour entry `saved` was: its address, and its link-layer address
    /// and kind (proxy, permanent, NOARP) or, for a managed one, whose state and link-layer
    /// address are the kernel's and change by themselves, that it is managed.
    static func sameEntry(_ entry: NeighbourMessage, _ saved: NeighbourMessage) -> Bool {
        guard entry.family == saved.family, entry.destination == saved.destination, entry.isManaged == saved.isManaged else { return false }
        if saved.isManaged { return true }
        let kind = NeighbourMessage.permanent | NeighbourMessage.noARP
        return entry.linkLayerAddress == saved.linkLayerAddress && entry.flags & NeighbourMessage.proxy == saved.flags & NeighbourMessage.proxy
            && entry.state & kind == saved.state & kind
    }

    static func describe(_ neighbour: NeighbourMessage) -> String {
        var address = neighbour.destination.flatMap { IPAddress(bytes: $0) }.map { "\($0)" } ?? "(unreadable)"
        if neighbour.flags & NeighbourMessage.proxy != 0 { address = "proxy " + address }
        if neighbour.isManaged { return address + " managed" }
        guard let link = neighbour.linkLayerAddress.flatMap({ LinuxInventory.macText($0) }) else { return address }
        return "\(address) lladdr \(link)"
    }

    /// What the kernel tells routes apart by in a table: family, prefix, type of service, table
    /// and metric.
    static func key(_ payload: [UInt8]) -> [UInt8] {
        guard let route = try? RouteMessage.decode(payload[...]) else { return payload }
        var key = [route.family, route.destinationLength, route.tos]
        key += route.destination ?? []
        withUnsafeBytes(of: route.table) { key += $0 }
        withUnsafeBytes(of: route.priority ?? 0) { key += $0 }
        return key
    }

    /// A route with what only reports its state taken out (dead, link down, offloaded).
    static func comparable(_ route: RouteMessage) -> RouteMessage {
        var route = route
        // Whether it expires, not the seconds left, which count down.
        route.expiresIn = route.expiresIn.map { _ in 1 }
        route.flags &= UInt32(Replay.onlink)
        for position in route.nextHops.indices { route.nextHops[position].flags &= Replay.onlink }
        return route
    }

    /// An address with what only reports its state taken out (lifetimes left, tentative,
    /// deprecated, DAD failed, optimistic).
    static func comparable(_ address: AddressMessage) -> AddressMessage {
        var address = address
        address.preferredLifetime = nil
        address.validLifetime = nil
        // secondary, home, permanent, mngtmpaddr, noprefixroute, autojoin, stable-privacy (not
        // nodad, which a put-back address may be given: see `putBack`).
        address.flags &= 0x01 | 0x10 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800
        return address
    }

    /// IPv6 link-local and multicast routes, and the local routes of link-local addresses: the
    /// kernel makes them when the device gets a carrier, and removes them when it loses it.
    static func kernelOwnsLinkLocal(_ route: RouteMessage) -> Bool {
        guard route.family == inet6 else { return false }
        let first = route.destination?.first ?? 0, second = route.destination?.dropFirst().first ?? 0
        return first == 0xff || (first == 0xfe && second & 0xc0 == 0x80)
    }

    /// An IPv6 multicast route (`ff00::/8` and the like), which the kernel makes itself.
    static func isMulticast(_ route: RouteMessage) -> Bool {
        route.family == inet6 && route.destination?.first == 0xff
    }

    /// What the kernel answers when a request adds what is already there.
    static let exists = "exists"

    /// Sends one request; nil when the kernel took it, `exists` for EEXIST, else what went wrong.
    private static func send(_ client: RtnetlinkClient, _ operation: String, _ build: (UInt32) throws -> [UInt8]) -> String? {
        // Built once first, so that nothing is sent (and waited on) for a request that cannot be made.
        let probe: [UInt8]
        do { probe = try build(0) } catch { return "\(error)" }
        do {
            try client.request(operation: operation) { sequence in (try? build(sequence)) ?? probe }
            return nil
        } catch NetlinkError.kernel(_, EEXIST, _) {
            return exists
        } catch {
            return "\(error)"
        }
    }

    static func describeAddress(_ payload: [UInt8]) -> String {
        guard let address = try? AddressMessage.decode(payload[...]) else { return "(unreadable)" }
        return describe(address)
    }

    static func describe(_ address: AddressMessage) -> String {
        guard let bytes = address.local ?? address.address, let ip = IPAddress(bytes: bytes) else { return "(unreadable)" }
        return "\(ip)/\(address.prefixLength)"
    }

    static func describeRoute(_ route: RouteMessage) -> String {
        let destination = route.destinationLength == 0 ? "default"
            : route.destination.flatMap { IPAddress(bytes: $0) }.map { "\($0)/\(route.destinationLength)" } ?? "(unreadable)"
        let main: UInt32 = 254
        return route.table == main ? destination : "\(destination) (table \(route.table))"
    }
}

extension AddressMessage {
    /// Whether `other` is the same address on the same device (local, peer and prefix length),
    /// whatever its label, flags or lifetimes.
    func sameAddress(as other: AddressMessage) -> Bool {
        family == other.family && prefixLength == other.prefixLength && local == other.local && address == other.address && index == other.index
    }
}
#endif
