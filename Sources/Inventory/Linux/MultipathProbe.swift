#if os(Linux)
import Foundation
import Glibc
import Netlink
import TunwardenCore

/// Asking the kernel which hops of a multipath route take flows where its route listing cannot
/// say: a hop without carrier on a device that is up, whose `dead` flag follows the current
/// `ignore_routes_with_linkdown` while the shares that pick a flow's hop were set at the last link
/// event or route change (see `HopFlows`). Route lookups (RTM_GETROUTE for one destination, as
/// `ip route get` makes them; read-only, nothing is sent) to addresses sampled in the route's
/// prefix show which hop the kernel picks for each, and a second lookup with RTM_F_FIB_MATCH
/// for the same address shows the answer came from that route, not from a longer prefix or
/// another table a policy rule chose. Only routes with such a hop are asked about.
enum MultipathProbe {
    /// The chance a hop that does take flows is never picked in the lookups, at most, before it
    /// is said to take none: a hop of share p is missed by n lookups with chance (1 - p)^n.
    static let missChance = 1e-6
    /// The most addresses looked up for one route (two lookups each): enough for a hop with a
    /// share of 1/300; a smaller one not picked stays unknown.
    static let addressesPerRoute = 4096
    /// The most addresses looked up in one snapshot, all routes together: the routes after it
    /// stay unknown.
    static let addressesInAll = 40_000
    /// Addresses asked about in one datagram (two requests each).
    static let batch = 32

    /// Whether `route` has a hop the listing cannot settle: a unicast multipath route of a
    /// table (not a cached one, nor one through a nexthop object) with a linkdown hop.
    static func needsAsking(_ route: RouteMessage) -> Bool {
        route.nextHops.count > 1 && route.type == 1 && route.nexthopID == nil && route.flags & RouteMessage.cloned == 0
            && route.nextHops.contains { UInt32($0.flags) & RouteMessage.linkDownNextHop != 0 }
    }

    /// What lookups say of the linkdown hops of each route in `routes` that needs asking, by the
    /// route's position: for each hop, `yes` when picked, `no` when not picked in as many
    /// lookups from the route as make missing it unlikely enough (`missChance`), `unknown`
    /// otherwise, and nil for a hop the listing settles. `hashesDestination` says, by family,
    /// whether the kernel's multipath hash takes the destination address in (lookups to
    /// different addresses of one route pick among its hops as flows do); where it does not,
    /// every such hop is unknown. A lookup that fails leaves the route's hops unknown.
    /// A route of a table that only marked (or some user's) traffic reaches is asked about as
    /// such a packet would be looked up (`Selector`), given the policy rules (`rules`).
    static func flows(of routes: [RouteMessage], hashesDestination: (UInt8) -> Bool, client: RtnetlinkClient, rules: [PolicyRule]? = nil) -> [Int: [HopFlows?]] {
        var found: [Int: [HopFlows?]] = [:]
        var budget = addressesInAll
        var generator = SystemRandomNumberGenerator()
        for (position, route) in routes.enumerated() where needsAsking(route) {
            let doubted = route.nextHops.map { UInt32($0.flags) & RouteMessage.linkDownNextHop != 0 }
            var answer: [HopFlows?] = doubted.map { $0 ? .unknown : nil }
            defer { found[position] = answer }
            guard hashesDestination(route.family), budget > 0 else { continue }
            let weights = route.nextHops.map { Int($0.hops) + 1 }
            let total = weights.reduce(0, +)
            // A hop's share of the flows is at least its weight over every hop's.
            let needed = weights.map { lookupsNeeded(share: Double($0) / Double(total)) }
            let wanted = zip(needed, doubted).filter(\.1).map(\.0).max() ?? 0
            // Addresses another route answers for (a longer prefix, the local table, another
            // table a rule chose) do not count: more are drawn until enough are the route's own,
            // every hop in doubt was chosen, or the limits are reached.
            var tried = Set<[UInt8]>()
            var chosen = Set<Int>()
            var fromRoute = 0
            var failed = false
            while fromRoute < wanted, !route.nextHops.indices.allSatisfy({ !doubted[$0] || chosen.contains($0) }) {
                let room = min(addressesPerRoute - tried.count, budget)
                let more = sample(route, count: min(room, (wanted - fromRoute) * 5 / 4 + 4), excluding: tried, using: &generator)
                guard !more.isEmpty else { break }
                tried.formUnion(more)
                budget -= more.count
                guard let picked = try? picks(route, addresses: more, selector: selector(for: route, rules: rules), client: client) else {
                    failed = true
                    break
                }
                chosen.formUnion(picked.chosen)
                fromRoute += picked.fromRoute
            }
            for index in route.nextHops.indices where doubted[index] {
                answer[index] = chosen.contains(index) ? .yes : !failed && fromRoute >= needed[index] ? .no : .unknown
            }
        }
        return found
    }

    /// How many lookups miss a hop of `share` with chance below `missChance`.
    static func lookupsNeeded(share: Double) -> Int {
        guard share < 1 else { return 1 }
        guard share > 0 else { return Int.max }
        return Int((log(missChance) / log1p(-share)).rounded(.up))
    }

    /// Up to `count` different addresses in `route`'s destination prefix that are not in
    /// `excluding`, at random; every one left when the prefix holds no more than that.
    static func sample(_ route: RouteMessage, count: Int, excluding: Set<[UInt8]> = [], using generator: inout SystemRandomNumberGenerator) -> [[UInt8]] {
        let width = route.family == 2 ? 4 : 16
        let length = Int(route.destinationLength)
        let base = route.destination ?? [UInt8](repeating: 0, count: width)
        guard base.count == width, count > 0, length <= width * 8 else { return [] }
        let hostBits = width * 8 - length
        if hostBits < 20 && 1 << hostBits <= count + excluding.count {
            let every = (0..<(1 << hostBits)).map { part in
                var address = base
                for bit in 0..<hostBits {
                    let position = width * 8 - 1 - bit
                    let mask = UInt8(0x80) >> UInt8(position % 8)
                    address[position / 8] = (part >> bit) & 1 == 1 ? address[position / 8] | mask : address[position / 8] & ~mask
                }
                return address
            }
            return Array(every.lazy.filter { !excluding.contains($0) }.prefix(count))
        }
        var addresses = Set<[UInt8]>()
        while addresses.count < count {
            var address = base
            for byte in 0..<width {
                let prefixBits = max(0, min(8, length - byte * 8))
                let hostMask: UInt8 = prefixBits >= 8 ? 0 : 0xFF >> UInt8(prefixBits)
                address[byte] = address[byte] & ~hostMask | UInt8.random(in: 0...255, using: &generator) & hostMask
            }
            if !excluding.contains(address) { addresses.insert(address) }
        }
        return Array(addresses)
    }

    /// The hops (by position) lookups to `addresses` picked, and how many of the lookups the
    /// route itself answered (the same prefix, table, metric and type of service came back with
    /// RTM_F_FIB_MATCH, and the path picked is one of its hops).
    static func picks(_ route: RouteMessage, addresses: [[UInt8]], selector: Selector = Selector(), client: RtnetlinkClient) throws -> (chosen: Set<Int>, fromRoute: Int) {
        var chosen = Set<Int>()
        var fromRoute = 0
        for start in stride(from: 0, to: addresses.count, by: batch) {
            let part = addresses[start..<min(addresses.count, start + batch)]
            var requests: [(UInt32) -> [UInt8]] = []
            for address in part {
                for fibMatch in [true, false] {
                    requests.append { RouteLookup.request(family: route.family, destination: address, fibMatch: fibMatch, mark: selector.mark, uid: selector.uid,
                                                          tos: selector.tos, sequence: $0) }
                }
            }
            let answers = try client.askEach(operation: "RTM_GETROUTE", requests)
            for pair in stride(from: 0, to: answers.count, by: 2) {
                // (No route to an address, or one the kernel refuses to look up: not this route's.)
                guard case let .success(matched) = answers[pair], case let .success(path) = answers[pair + 1],
                      let table = try? RouteMessage.decode(matched.payload), sameRoute(table, route),
                      let taken = try? RouteMessage.decode(path.payload) else { continue }
                let hops = route.nextHops.indices.filter { index in
                    let hop = route.nextHops[index]
                    return hop.interfaceIndex == taken.outputInterface && (hop.gateway ?? []) == (taken.gateway ?? [])
                }
                guard !hops.isEmpty else { continue }
                fromRoute += 1
                chosen.formUnion(hops)
            }
        }
        return (chosen, fromRoute)
    }

    /// What a lookup carries so that the policy rules bring it to a route's table as they bring
    /// a packet: the firewall mark, user and type of service a rule that looks the table up
    /// selects. Empty (an ordinary lookup) for a table a rule without selectors looks up, or
    /// when no rule that selects only by those does.
    struct Selector: Equatable {
        var mark: UInt32?
        var uid: UInt32?
        var tos: UInt8 = 0
    }

    /// How lookups to `route` are made: as the packets of the first rule (by priority) that looks
    /// its table up and selects only by mark, user (`uidrange`), type of service, destination or
    /// `iif lo` (the lookups are this host's own).
    static func selector(for route: RouteMessage, rules: [PolicyRule]?) -> Selector {
        guard let rules else { return Selector() }
        let family: AddressFamily = route.family == 2 ? .inet : .inet6
        let table = RouteTable(kernel: route.table)
        let looking = rules.enumerated().filter { $0.element.family == family && $0.element.action == .lookup(table) && !$0.element.l3mdev }
            .sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }.map(\.element)
        for rule in looking {
            guard !rule.inverted, rule.source == nil, rule.inputInterface == nil || rule.inputInterface == "lo", rule.outputInterface == nil,
                  rule.ipProtocol == nil, rule.sourcePorts == nil, rule.destinationPorts == nil, rule.tunnelID == nil, !rule.otherSelectors,
                  rule.suppressPrefixLength == nil, rule.suppressInterfaceGroup == nil else { continue }
            return Selector(mark: rule.markMask != 0 ? rule.mark & rule.markMask : nil, uid: rule.uidRange?.lowerBound, tos: rule.tos)
        }
        return Selector()
    }

    /// Whether a lookup's matching table route (RTM_F_FIB_MATCH) is `route`.
    static func sameRoute(_ matched: RouteMessage, _ route: RouteMessage) -> Bool {
        let width = route.family == 2 ? 4 : 16
        let zero = [UInt8](repeating: 0, count: width)
        return matched.family == route.family && matched.destinationLength == route.destinationLength
            && (matched.destination ?? zero) == (route.destination ?? zero) && matched.table == route.table
            && (matched.priority ?? 0) == (route.priority ?? 0) && matched.tos == route.tos
            && matched.sourceLength == route.sourceLength && (matched.source ?? []) == (route.source ?? [])
    }

    /// Whether the multipath hash of the thread's namespace takes the destination address in, by
    /// family (2 IPv4, 10 IPv6), read under `procRoot`: every hash policy does (0 and 2 hash
    /// addresses, 1 addresses and ports) except 3, which hashes the fields
    /// `fib_multipath_hash_fields` names, the destination address being bit 0x2. Unreadable:
    /// false.
    static func hashesDestination(procRoot: String = "/proc") -> [UInt8: Bool] {
        func number(_ path: String) -> Int64? {
            guard let trimmed = DeviceFileSettings.text(Sys.readSmallFile(path, limit: 64)) else { return nil }
            return trimmed.hasPrefix("0x") ? Int64(trimmed.dropFirst(2), radix: 16) : Int64(trimmed)
        }
        var answer: [UInt8: Bool] = [:]
        for (family, directory) in [(UInt8(2), "ipv4"), (10, "ipv6")] {
            guard let policy = number("\(procRoot)/sys/net/\(directory)/fib_multipath_hash_policy") else { answer[family] = false; continue }
            if policy == 3 {
                answer[family] = number("\(procRoot)/sys/net/\(directory)/fib_multipath_hash_fields").map { $0 & 0x2 != 0 } ?? false
            } else {
                answer[family] = (0...2).contains(policy)
            }
        }
        return answer
    }
}
#endif
