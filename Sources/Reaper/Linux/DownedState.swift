#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// What a device loses when the reaper takes it down to fence it, kept so that it can be given
/// back if the device is not deleted after all: its IPv6 addresses and the routes that leave only
/// through it, as the kernel listed them right before.
///
/// A multi-queue device can only be renamed (its fence) while it is down, and down it loses its
/// IPv6 addresses (unless `keep_addr_on_down` is set) and every route through it alone, in every
/// table. When a process attaches in that moment, the device is kept, and it must come back as it
/// was. IPv4 addresses survive; the routes the kernel makes for its addresses and its link-local
/// address come back by themselves (adding them again finds them there). Routes that also leave
/// through another device survive with that hop marked dead, and come back to life with the
/// device. Not kept: routes through nexthop objects (`ip nexthop`), which the kernel removes with
/// the object.
struct DownedState {
    /// The dumped RTM_NEWADDR payloads of the device's IPv6 addresses.
    var addresses: [[UInt8]] = []
    /// The dumped RTM_NEWROUTE payloads of the routes that leave only through the device.
    var routes: [[UInt8]] = []

    /// RTPROT_KERNEL: routes the kernel makes for addresses and devices, which it makes again.
    static let kernelProtocol: UInt8 = 2
    /// RTM_F_CLONED: a cached route, not one of the table's.
    static let cloned: UInt32 = 0x200
    static let inet: UInt8 = 2
    static let inet6: UInt8 = 10

    /// The state of each of the devices `indices`, from one dump of the IPv6 addresses and one of
    /// each family's routes. Throws when a dump cannot be had: then nothing may be taken down.
    static func read(for indices: Set<Int32>, client: RtnetlinkClient) throws -> [Int32: DownedState] {
        var states: [Int32: DownedState] = [:]
        for index in indices { states[index] = DownedState() }
        try client.dumpEach(operation: "RTM_GETADDR (IPv6)", request: { AddressMessage.dumpRequest(family: inet6, sequence: $0) },
                            restart: { for index in indices { states[index]?.addresses = [] } }) { message in
            guard message.header.type == NetlinkType.newAddress else { return }
            let address = try AddressMessage.decode(message.payload)
            let index = Int32(bitPattern: address.index)
            guard address.family == inet6, indices.contains(index) else { return }
            states[index]?.addresses.append(Array(message.payload))
        }
        for family in [inet, inet6] {
            try client.dumpEach(operation: "RTM_GETROUTE", request: { RouteMessage.dumpRequest(family: family, sequence: $0) },
                                restart: { for index in indices { states[index]?.routes.removeAll { $0.first == family } } }) { message in
                guard message.header.type == NetlinkType.newRoute else { return }
                let route = try RouteMessage.decode(message.payload)
                guard route.protocolID != kernelProtocol, route.flags & cloned == 0, route.nexthopID == nil else { return }
                let devices = route.nextHops.isEmpty ? [route.outputInterface].compactMap { $0 } : route.nextHops.map(\.interfaceIndex)
                guard let index = devices.first, devices.allSatisfy({ $0 == index }), indices.contains(index) else { return }
                // Made into a request now, so that one the kernel would not take back is known before anything changes.
                _ = try Replay.addRouteRequest(fromDumped: message.payload, sequence: 0)
                states[index]?.routes.append(Array(message.payload))
            }
        }
        return states
    }

    /// Adds the addresses, then the routes, again. Routes go in rounds, since one may need
    /// another's gateway first; one already there counts as put back. Returns how many of each
    /// came back and a description of each that did not.
    func putBack(client: RtnetlinkClient) -> (addresses: Int, routes: Int, missing: [String]) {
        var missing: [String] = []
        var addressesBack = 0
        for payload in addresses {
            switch Self.add(client, operation: "RTM_NEWADDR", { try Replay.addAddressRequest(fromDumped: payload[...], sequence: $0) }) {
            case nil: addressesBack += 1
            case let problem?: missing.append("address \(Self.describeAddress(payload)) (\(problem))")
            }
        }
        var pending = routes
        var problems: [String] = []
        var routesBack = 0
        while !pending.isEmpty {
            var next: [[UInt8]] = []
            problems = []
            for payload in pending {
                if let problem = Self.add(client, operation: "RTM_NEWROUTE", { try Replay.addRouteRequest(fromDumped: payload[...], sequence: $0) }) {
                    next.append(payload)
                    problems.append("route \(Self.describeRoute(payload)) (\(problem))")
                } else {
                    routesBack += 1
                }
            }
            if next.count == pending.count { break }
            pending = next
        }
        return (addressesBack, routesBack, missing + problems)
    }

    /// Sends one request; nil when the kernel took it or already had what it adds.
    private static func add(_ client: RtnetlinkClient, operation: String, _ build: (UInt32) throws -> [UInt8]) -> String? {
        do {
            var built: Result<Void, any Error> = .success(())
            try client.request(operation: operation) { sequence in
                do { return try build(sequence) } catch {
                    built = .failure(error)
                    return []
                }
            }
            if case let .failure(error) = built { return "\(error)" }
            return nil
        } catch NetlinkError.kernel(_, EEXIST, _) {
            return nil
        } catch {
            return "\(error)"
        }
    }

    static func describeAddress(_ payload: [UInt8]) -> String {
        guard let address = try? AddressMessage.decode(payload[...]), let bytes = address.local ?? address.address,
              let ip = IPAddress(bytes: bytes) else { return "(unreadable)" }
        return "\(ip)/\(address.prefixLength)"
    }

    static func describeRoute(_ payload: [UInt8]) -> String {
        guard let route = try? RouteMessage.decode(payload[...]) else { return "(unreadable)" }
        let destination = route.destinationLength == 0 ? "default"
            : route.destination.flatMap { IPAddress(bytes: $0) }.map { "\($0)/\(route.destinationLength)" } ?? "(unreadable)"
        let main: UInt32 = 254
        return route.table == main ? destination : "\(destination) (table \(route.table))"
    }
}
#endif
