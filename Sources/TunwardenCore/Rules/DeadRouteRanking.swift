import Foundation

/// How the kernel ranks the routes into dead tunnels against the live routes of their table: a
/// destination goes by the longest prefix that covers it, among routes of that prefix by the
/// lowest metric, and for IPv6, among those of one metric, by the highest router preference
/// (`Standing`). So a dead default under a live `0/1` + `128/1`, or dead routes under live ones
/// of the same prefixes and a lower metric (or of the same metric and a higher preference), take
/// no traffic, and capture nothing.
extension Heuristics {
    /// What the dead routes of one family and table take of the traffic that would take the
    /// default route, before and after the live routes of the table win theirs.
    struct DeadRouteRanking: Equatable {
        /// The share of default traffic (see `defaultShare(of:)`) the dead routes that take all
        /// traffic to their destinations would capture by themselves.
        var alone = 0.0
        /// The share they capture once every destination a live route of the table wins is left
        /// out. Where a dead and a live route of one prefix stand alike (the same metric, and for
        /// IPv6 the same preference), the kernel takes the one it was given first, which a
        /// watcher cannot always know: the dead one is counted, so that an outage is never called
        /// a warning.
        var taken = 0.0
        /// The dead routes no traffic takes because live routes of the table win: one of the
        /// same prefix has a lower metric (or, IPv6, the same metric and a higher preference), or
        /// longer prefixes take every destination it would, live ones among them.
        var outranked: [Route] = []
        /// Live routes that win destinations of the dead ones, the first few, for the text.
        var winners: [Route] = []
        /// How many live routes win destinations of the dead ones.
        var winnerCount = 0
        /// Whether a winner is not a unicast route through a device (a `blackhole`,
        /// `unreachable`, `prohibit` or `throw` route, a kill switch's): the text then calls the
        /// winners "other routes", not "live routes", and names their type.
        var winnerWithoutDevice = false
        /// The prefixes where the IPv6 router preference decided between the best dead and the
        /// best live route of one metric, so that the text can say so.
        var preferenceDecided: [PreferenceDecision] = []
    }

    /// A dead and a live IPv6 route of one prefix and metric whose router preferences differ:
    /// the one of the higher preference takes the prefix's traffic.
    struct PreferenceDecision: Equatable {
        let dead: Route
        let live: Route
        var deadWins: Bool { Standing(dead) < Standing(live) }
    }

    /// Where a route stands among the routes of its prefix in the kernel's lookup, the better
    /// first (`<`): the lower metric, and among IPv6 routes of one metric the higher router
    /// preference (`rt6_score_route`: high, then medium, then low; RTA_PREF's 2, which the kernel
    /// never stores, last). The lookup looks at one metric's routes, the lowest, and goes on to
    /// the next only when it finds none of them usable. IPv4 has no preference. (A kernel built
    /// without CONFIG_IPV6_ROUTER_PREF ignores it; distributions' kernels have it.)
    struct Standing: Comparable {
        let metric: UInt32
        /// The kernel's score of the preference, `IPV6_DECODE_PREF`: 3 high, 2 medium, 1 low.
        let preference: UInt8

        init(_ route: Route) {
            metric = route.metric ?? 0
            preference = route.family == .inet6 ? (route.preference ?? 0) ^ 2 : 2
        }

        init(metric: UInt32, preference: UInt8) {
            (self.metric, self.preference) = (metric, preference)
        }

        static func < (lhs: Standing, rhs: Standing) -> Bool {
            lhs.metric != rhs.metric ? lhs.metric < rhs.metric : lhs.preference > rhs.preference
        }
    }

    /// An IPv6 route's preference as `ip -6 route` writes it: `pref high`, `pref medium`, `pref low`.
    static func preferenceWords(_ route: Route) -> String {
        "pref " + (RecreateCommands.preferenceWords[route.preference ?? 0] ?? "medium")
    }

    /// Whether the kernel passes `route` by: each of its next hops is flagged dead
    /// (`NextHop.skippedByKernel`), as with no carrier and `ignore_routes_with_linkdown` set.
    static func skippedByKernel(_ route: Route) -> Bool {
        !route.nextHops.isEmpty && route.nextHops.allSatisfy(\.skippedByKernel)
    }

    /// Whether `route` takes every packet to its destination, not only those of one type of
    /// service (`tos`) or, for IPv6, from some sources (`from`, a source-specific route).
    static func takesAllTraffic(_ route: Route) -> Bool {
        route.tos == 0 && route.source == nil
    }

    /// The share of default traffic one prefix takes (see `defaultShare(of:)`).
    /// `prefixes` in address order, each after the prefixes that hold it, with the position of
    /// its nearest holder (-1 for none). Prefixes nest or are disjoint, so each prefix's own part
    /// (itself less its nearest held prefixes) goes one way through any route lookup.
    static func nesting<Prefixes: Sequence<IPPrefix>>(_ prefixes: Prefixes) -> (prefixes: [IPPrefix], parent: [Int]) {
        let sorted = prefixes.sorted { $0.address != $1.address ? $0.address < $1.address : $0.length < $1.length }
        var parent = [Int](repeating: -1, count: sorted.count)
        var stack: [Int] = []
        for position in sorted.indices {
            while let top = stack.last, !sorted[top].contains(sorted[position]) { stack.removeLast() }
            parent[position] = stack.last ?? -1
            stack.append(position)
        }
        return (sorted, parent)
    }

    static func defaultShare(of prefix: IPPrefix) -> Double {
        guard prefix.family == .inet6 else { return prefix.shareOfAddressSpace }
        if prefix.contains(globalUnicast) { return 1 }
        return globalUnicast.contains(prefix) ? prefix.shareOfAddressSpace / globalUnicast.shareOfAddressSpace : 0
    }

    /// Ranks the dead routes of one family and table (`dead`) against the other routes of that
    /// table (`live`: unicast routes not all of whose hops are dead, and routes of the types
    /// that end a lookup without a device, `blackhole`, `unreachable`, `prohibit`, `throw`), as
    /// the kernel's lookup does: longest prefix first, then `Standing` (the lowest metric, then for
    /// IPv6 the highest preference). Routes that take only some traffic (`takesAllTraffic`) or that the kernel passes by
    /// (`skippedByKernel`) are left out on both sides: such a dead route captures nothing whole,
    /// and such a live one wins nothing whole; so is a macOS route scoped to its interface, dead or live. Prefixes nest or are disjoint, so in order of first
    /// address, shorter first, each prefix's nearest enclosing one is on a stack: one sort and one
    /// pass, whatever the size of the table.
    /// `elsewhere` holds destinations inside dead routes that the traffic judged never brings to
    /// their table (a policy rule chooses it by destination): they count as won, by no route named.
    static func rankDead(_ dead: [Route], live: [Route], elsewhere: [IPPrefix] = []) -> DeadRouteRanking {
        var ranking = DeadRouteRanking()
        // (Nor does a dead macOS route scoped to its interface capture anything: it serves only
        // traffic already bound to that interface, never an unscoped lookup.)
        let ranked = dead.filter { takesAllTraffic($0) && !skippedByKernel($0) && !$0.isInterfaceScoped }
        guard !ranked.isEmpty else { return ranking }
        ranking.alone = defaultShare(of: ranked.map(\.destination))
        let away = Set(elsewhere.filter { prefix in ranked.contains { $0.destination.contains(prefix) && $0.destination != prefix } })
        if !away.isEmpty { ranking.alone = max(0, ranking.alone - defaultShare(of: Array(away))) }
        // The best standing of the dead and of the live routes of each prefix.
        var best: [IPPrefix: (dead: Standing?, live: Standing?)] = [:]
        for route in ranked {
            let standing = Standing(route)
            best[route.destination, default: (nil, nil)].dead = min(best[route.destination]?.dead ?? standing, standing)
        }
        // Only live routes inside a dead route's prefix (or of it) can win from it; a shorter
        // one always loses, and one beside it has nothing to win. Looked up by the prefix's
        // truncations to the lengths dead routes have, not against every dead route.
        let lengths = Set(ranked.map(\.destination.length)).sorted()
        let winning = live.filter { route in
            // (A macOS route scoped to its interface serves only traffic already bound to it.)
            guard takesAllTraffic(route), !skippedByKernel(route), !route.isInterfaceScoped else { return false }
            return route.destination.isInside(lengths: lengths) { best[$0]?.dead != nil }
        }
        guard !winning.isEmpty || !away.isEmpty else {
            ranking.taken = ranking.alone
            return ranking
        }
        for route in winning {
            let standing = Standing(route)
            best[route.destination, default: (nil, nil)].live = min(best[route.destination]?.live ?? standing, standing)
        }
        for prefix in away where best[prefix]?.dead == nil { best[prefix] = (nil, Standing(metric: 0, preference: 3)) }
        let (prefixes, parent) = nesting(best.keys)
        // What each prefix decides itself: its share less its nearest enclosed prefixes' shares.
        var ownDefault = prefixes.map { defaultShare(of: $0) }
        var ownWhole = prefixes.map(\.shareOfAddressSpace)
        for position in prefixes.indices where parent[position] >= 0 {
            ownDefault[parent[position]] -= defaultShare(of: prefixes[position])
            ownWhole[parent[position]] -= prefixes[position].shareOfAddressSpace
        }
        func deadWins(_ position: Int) -> Bool {
            guard let dead = best[prefixes[position]]?.dead else { return false }
            return best[prefixes[position]]?.live.map { dead <= $0 } ?? true
        }
        // The share of each prefix live routes win, its enclosed prefixes' included.
        var liveWon = prefixes.indices.map { deadWins($0) ? 0 : max(0, ownWhole[$0]) }
        for position in prefixes.indices.reversed() where parent[position] >= 0 {
            liveWon[parent[position]] += liveWon[position]
        }
        for position in prefixes.indices where deadWins(position) {
            ranking.taken += max(0, ownDefault[position])
        }
        ranking.taken = min(ranking.taken, ranking.alone)
        let positions = Dictionary(uniqueKeysWithValues: prefixes.enumerated().map { ($0.element, $0.offset) })
        for route in ranked {
            guard let position = positions[route.destination] else { continue }
            let beaten = best[route.destination]?.live.map { $0 < Standing(route) } ?? false
            let share = route.destination.shareOfAddressSpace
            if beaten || (deadWins(position) && ownWhole[position] <= share * 1e-9 && liveWon[position] > 0) { ranking.outranked.append(route) }
        }
        let winnerPrefixes = Set(prefixes.indices.filter { best[prefixes[$0]]?.live != nil && !deadWins($0) }.map { prefixes[$0] })
        // The widest first: what they win matters more than a subnet's route.
        for route in winning.sorted(by: { $0.destination.length < $1.destination.length })
        where winnerPrefixes.contains(route.destination) && Standing(route) == best[route.destination]?.live {
            ranking.winnerCount += 1
            if route.type != .unicast { ranking.winnerWithoutDevice = true }
            if ranking.winners.count < 3 { ranking.winners.append(route) }
        }
        // Where the preference, not the metric, settled a prefix between its best dead and
        // best live route.
        for route in winning {
            guard let standing = best[route.destination], let dead = standing.dead, let live = standing.live,
                  dead.metric == live.metric, dead.preference != live.preference, Standing(route) == live,
                  !ranking.preferenceDecided.contains(where: { $0.live.destination == route.destination }),
                  let deadRoute = ranked.first(where: { $0.destination == route.destination && Standing($0) == dead }) else { continue }
            ranking.preferenceDecided.append(PreferenceDecision(dead: deadRoute, live: route))
        }
        return ranking
    }
}
