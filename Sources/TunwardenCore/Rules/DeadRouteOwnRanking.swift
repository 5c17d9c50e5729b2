import Foundation

/// Each dead device's own ranking in one family and table, read from one nesting of the table.
///
/// A device is blamed only for the default traffic its own dead routes take, with every other
/// route of the table, the other devices' dead routes among them, ranked against its own as live
/// ones: `rankDead(own, live: live + others)`. Ranked afresh for each device, that took time that
/// grows with the devices times the routes: a thousand leaked VPN tunnels, each with its `0/1`
/// and `128/1`, made an audit take seconds. Here the table's prefixes are nested once, and what
/// each prefix decides for a device that has no dead route of it (its share less its enclosed
/// prefixes', the routes that win it) is kept with sums over each stretch of the nesting; a
/// device's ranking reads those and works out only its own prefixes.
///
/// The answer is `rankDead`'s exactly, to the last bit of every share: a device's nesting below
/// its own prefixes holds the same prefixes as the table's (every route there is either its own
/// or one that can win from it, and every `elsewhere` prefix strictly inside one of its own is
/// one the table keeps too), so each prefix's share less its enclosed ones' is the same
/// subtraction in the same order, and the sums are taken in `rankDead`'s order.
/// `TableRankingTests` compares the two on random tables.
extension Heuristics {
    final class TableRankings {
        /// The routes that can win destinations from dead ones, in the order `rankDead` keeps
        /// its winning routes: the live ones as given, then the dead ones as given.
        private let candidates: [Route]
        /// For each dead route that is ranked (`takesAllTraffic`, not passed by, not scoped),
        /// its place among `candidates`.
        private let candidateOfDead: [Int?]
        /// Each candidate's standing, and whether it is a unicast route through a device.
        private let standings: [Standing]
        private let unicast: [Bool]
        private let elsewhere: [IPPrefix]
        /// Every prefix of a candidate, and every `elsewhere` prefix strictly inside a ranked dead
        /// route's, in `nesting` order: each prefix's enclosed ones follow it.
        private let prefixes: [IPPrefix]
        private let positionOf: [IPPrefix: Int]
        /// Where each prefix's stretch ends: positions `p..<end[p]` are the prefix and those inside it.
        private let end: [Int]
        /// The candidates of each prefix, by `Standing`, the better first, then in candidate order.
        private let candidatesAt: [[Int]]
        /// Each prefix's shares less those of the prefixes it immediately encloses (`rankDead`'s
        /// `ownDefault` and `ownWhole`).
        private let ownDefault: [Double]
        private let ownWhole: [Double]
        /// The candidates that win each prefix for a device with no dead route of it.
        private let otherWinners: [[Int]]
        /// Sums over positions `0..<p` of: prefixes with a positive `ownWhole`, candidates,
        /// winners, and winners that are not unicast routes through a device.
        private let positiveSums: [Int]
        private let candidateSums: [Int]
        private let winnerSums: [Int]
        private let withoutDeviceSums: [Int]
        /// The positions in `dead` of each device's dead routes (any of whose hops leave through it).
        private let byDevice: [Int: [Int]]
        /// The winners in a prefix's stretch, by prefix length and then candidate order, made the
        /// first time a device's ranking needs them.
        private var sortedWinners: [Int: [Int]] = [:]

        /// The table's dead routes as `rankDead` would be given them, its live routes and the
        /// destinations the policy rules keep elsewhere, as `deadRouteFindings` has them.
        init(dead: [Route], live: [Route], elsewhere: [IPPrefix]) {
            self.elsewhere = elsewhere
            let ranks = { (route: Route) in takesAllTraffic(route) && !skippedByKernel(route) && !route.isInterfaceScoped }
            var candidates = live.filter(ranks)
            var candidateOfDead = [Int?](repeating: nil, count: dead.count)
            var byDevice: [Int: [Int]] = [:]
            for (position, route) in dead.enumerated() {
                for index in Set(route.nextHops.compactMap(\.interfaceIndex)) { byDevice[index, default: []].append(position) }
                guard ranks(route) else { continue }
                candidateOfDead[position] = candidates.count
                candidates.append(route)
            }
            (self.candidates, self.candidateOfDead, self.byDevice) = (candidates, candidateOfDead, byDevice)
            let standings = candidates.map(Standing.init), unicast = candidates.map { $0.type == .unicast }
            (self.standings, self.unicast) = (standings, unicast)
            // The elsewhere prefixes any device's ranking may hold: those strictly inside a ranked dead route's.
            let rankedPrefixes = Set(candidateOfDead.compactMap { $0.map { candidates[$0].destination } })
            let rankedLengths = Set(rankedPrefixes.map(\.length)).sorted()
            let away = elsewhere.filter { prefix in prefix.isInside(lengths: rankedLengths.filter { $0 < prefix.length }, where: rankedPrefixes.contains) }
            let (prefixes, parent) = nesting(Set(candidates.map(\.destination)).union(away))
            self.prefixes = prefixes
            positionOf = Dictionary(uniqueKeysWithValues: prefixes.enumerated().map { ($0.element, $0.offset) })
            var end = prefixes.indices.map { $0 + 1 }
            for position in prefixes.indices.reversed() where parent[position] >= 0 {
                end[parent[position]] = max(end[parent[position]], end[position])
            }
            self.end = end
            // As `rankDead` takes them: each prefix's shares, less each enclosed one's in order.
            var ownDefault = prefixes.map { defaultShare(of: $0) }
            var ownWhole = prefixes.map(\.shareOfAddressSpace)
            for position in prefixes.indices where parent[position] >= 0 {
                ownDefault[parent[position]] -= defaultShare(of: prefixes[position])
                ownWhole[parent[position]] -= prefixes[position].shareOfAddressSpace
            }
            (self.ownDefault, self.ownWhole) = (ownDefault, ownWhole)
            var candidatesAt = [[Int]](repeating: [], count: prefixes.count)
            for (index, route) in candidates.enumerated() { candidatesAt[positionOf[route.destination]!].append(index) }
            for position in prefixes.indices where candidatesAt[position].count > 1 {
                candidatesAt[position].sort { (standings[$0], $0) < (standings[$1], $1) }
            }
            self.candidatesAt = candidatesAt
            // An `elsewhere` prefix inside a device's own, where the device has no dead route, is
            // won by no route named: `rankDead` gives it the best standing there is (metric 0, high
            // preference), which a route there matches only by having that standing too.
            let awaySet = Set(away)
            var otherWinners = [[Int]](repeating: [], count: prefixes.count)
            for position in prefixes.indices {
                let best = awaySet.contains(prefixes[position]) ? Standing(metric: 0, preference: 3) : candidatesAt[position].first.map { standings[$0] }
                // (Those of one standing are in candidate order already.)
                otherWinners[position] = candidatesAt[position].filter { standings[$0] == best }
            }
            self.otherWinners = otherWinners
            func sums(_ count: (Int) -> Int) -> [Int] {
                var sums = [0]
                sums.reserveCapacity(prefixes.count + 1)
                for position in prefixes.indices { sums.append(sums[position] + count(position)) }
                return sums
            }
            positiveSums = sums { ownWhole[$0] > 0 ? 1 : 0 }
            candidateSums = sums { candidatesAt[$0].count }
            winnerSums = sums { otherWinners[$0].count }
            withoutDeviceSums = sums { position in otherWinners[position].count(where: { !unicast[$0] }) }
        }

        /// The positions in the table's dead routes of those that leave through the device with
        /// this ifindex.
        func positions(of index: Int) -> [Int] { byDevice[index] ?? [] }

        /// What `rankDead(own, live: live + others, elsewhere: elsewhere)` answers, where `own` are
        /// the dead routes at `ownPositions` and `others` the rest, both as the table lists them.
        /// `ownPositions` are ascending, each once, as `positions(of:)` gives them.
        func ranking(own ownPositions: [Int]) -> DeadRouteRanking {
            var ranking = DeadRouteRanking()
            let ranked = ownPositions.compactMap { candidateOfDead[$0] }
            guard !ranked.isEmpty else { return ranking }
            let rankedRoutes = ranked.map { candidates[$0] }
            ranking.alone = defaultShare(of: rankedRoutes.map(\.destination))
            let away = Set(elsewhere.filter { prefix in rankedRoutes.contains { $0.destination.contains(prefix) && $0.destination != prefix } })
            if !away.isEmpty { ranking.alone = max(0, ranking.alone - defaultShare(of: Array(away))) }
            let isOwn = Set(ranked)
            // The best standing of the device's dead routes and of the other routes at each of its prefixes.
            var ownBest: [Int: Standing] = [:]
            for route in rankedRoutes {
                let position = positionOf[route.destination]!, standing = Standing(route)
                ownBest[position] = min(ownBest[position] ?? standing, standing)
            }
            let ownPrefixes = ownBest.keys.sorted()
            // (A prefix's candidates are in order of standing: the best other one is the first
            // that is not the device's, and those of its standing follow it.)
            var otherFirst: [Int: Int] = [:]
            var otherBest: [Int: Standing] = [:]
            for position in ownPrefixes {
                guard let first = candidatesAt[position].first(where: { !isOwn.contains($0) }) else { continue }
                (otherFirst[position], otherBest[position]) = (first, standings[first])
            }
            func deadWins(_ position: Int) -> Bool {
                guard let dead = ownBest[position] else { return false }
                return otherBest[position].map { dead <= $0 } ?? true
            }
            // The device's outermost prefixes: every other prefix it has lies in one of their stretches.
            var outermost: [Int] = []
            for position in ownPrefixes where outermost.last.map({ position >= end[$0] }) ?? true { outermost.append(position) }
            func total(_ sums: [Int]) -> Int { outermost.reduce(0) { $0 + sums[end[$1]] - sums[$1] } }
            guard total(candidateSums) > ranked.count || !away.isEmpty else {
                ranking.taken = ranking.alone
                return ranking
            }
            for position in ownPrefixes where deadWins(position) {
                ranking.taken += max(0, ownDefault[position])
            }
            ranking.taken = min(ranking.taken, ranking.alone)
            // Whether live routes win some of a prefix's stretch: a prefix there that no dead route
            // of the device wins, with some of its share its own.
            func liveWinsSome(_ position: Int) -> Bool {
                var count = positiveSums[end[position]] - positiveSums[position]
                for other in ownPrefixes where other >= position && other < end[position] && deadWins(other) && ownWhole[other] > 0 { count -= 1 }
                return count > 0
            }
            for route in rankedRoutes {
                let position = positionOf[route.destination]!
                let beaten = otherBest[position].map { $0 < Standing(route) } ?? false
                let share = route.destination.shareOfAddressSpace
                if beaten || (deadWins(position) && ownWhole[position] <= share * 1e-9 && liveWinsSome(position)) { ranking.outranked.append(route) }
            }
            // The routes that win: those of the table's stretches, less those at the device's own
            // prefixes, where the device's routes leave others to win.
            var ownWinners: [Int] = []
            for position in ownPrefixes where !deadWins(position) {
                guard let best = otherBest[position] else { continue }
                for candidate in candidatesAt[position] {
                    if standings[candidate] > best { break }
                    if standings[candidate] == best && !isOwn.contains(candidate) { ownWinners.append(candidate) }
                }
            }
            let ownSet = Set(ownPrefixes)
            ranking.winnerCount = total(winnerSums) - ownPrefixes.reduce(0) { $0 + otherWinners[$1].count } + ownWinners.count
            let withoutDevice = total(withoutDeviceSums) - ownPrefixes.reduce(0) { sum, position in sum + otherWinners[position].count(where: { !unicast[$0] }) }
                + ownWinners.count(where: { !unicast[$0] })
            ranking.winnerWithoutDevice = withoutDevice > 0
            // The widest first, those of one length in candidate order, as `rankDead` sorts them.
            var first = ownWinners.sorted(by: precedes).prefix(3).map { $0 }
            for position in outermost {
                var kept = 0
                for winner in stretchWinners(position) where !ownSet.contains(positionOf[candidates[winner].destination]!) {
                    first.append(winner)
                    kept += 1
                    if kept == 3 { break }
                }
            }
            ranking.winners = first.sorted(by: precedes).prefix(3).map { candidates[$0] }
            // Where the preference, not the metric, settled one of the device's prefixes.
            var decided: [(order: Int, decision: PreferenceDecision)] = []
            for position in ownPrefixes {
                guard let dead = ownBest[position], let live = otherBest[position], dead.metric == live.metric, dead.preference != live.preference,
                      let winner = otherFirst[position],
                      let deadRoute = rankedRoutes.first(where: { $0.destination == prefixes[position] && Standing($0) == dead }) else { continue }
                decided.append((winner, PreferenceDecision(dead: deadRoute, live: candidates[winner])))
            }
            ranking.preferenceDecided = decided.sorted { $0.order < $1.order }.map(\.decision)
            return ranking
        }

        /// Whether one winning candidate comes before another in `rankDead`'s list of winners: the
        /// shorter prefix first, those of one length in candidate order.
        private func precedes(_ a: Int, _ b: Int) -> Bool { (candidates[a].destination.length, a) < (candidates[b].destination.length, b) }

        /// The winners of the prefixes in a prefix's stretch for a device with none of them (see
        /// `sortedWinners`).
        private func stretchWinners(_ position: Int) -> [Int] {
            if let known = sortedWinners[position] { return known }
            let winners = (position..<end[position]).flatMap { otherWinners[$0] }.sorted(by: precedes)
            sortedWinners[position] = winners
            return winners
        }
    }
}
