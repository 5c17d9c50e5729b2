import Foundation

/// Dead routes judged along the walk ordinary traffic takes through the policy rules, table after
/// table (`fib_rules_lookup`): a table that answers a destination ends the walk for it, one that
/// has no answer, or refuses its answer (`suppress_prefixlength`), or answers with `throw`, sends
/// it on to the next rule; a kill route's answer, an error, is never refused (TableAnswers.swift).
/// So a split default spread over two tables (`0.0.0.0/1` in a table an earlier rule looks up,
/// `128.0.0.0/1` in main) takes all traffic, though each table alone holds only half of it. Counted on the safe side for an outage: an answer the walk cannot weigh (a
/// `suppress_ifgroup` rule's, a table only this host's own traffic reaches) ends it there without
/// counting as captured.
extension Heuristics {
    /// What the best route of one prefix of a table does with a lookup that ends there.
    enum ChainAnswer {
        /// A dead route takes it.
        case dead
        /// A live route answers it.
        case live
        /// A `blackhole`, `unreachable` or `prohibit` route ends the walk with an error, which no
        /// rule refuses.
        case kill
        /// A `throw` route sends the walk on to the next rule.
        case onward
    }

    /// The most prefixes (routes and rule regions together) the walk is weighed for; beyond them
    /// it is not, and no outage is claimed from it.
    static let chainPrefixLimit = 200_000

    /// The share of `family`'s default traffic (see `defaultShare(of:)`) that ordinary traffic's
    /// walk through the rules (`reach`) ends in a route `isDead` calls dead, among `routes` (every
    /// route of the snapshot). Nil when the walk is too large to weigh (`chainPrefixLimit`).
    /// Routes that take only some traffic, that the kernel passes by, or that are scoped to an
    /// interface answer nothing here, as in `rankDead`.
    static func chainCapture(_ family: AddressFamily, reach: PolicyReach, routes: [Route], isDead: (Route) -> Bool) -> Double? {
        // The lookups ordinary traffic makes, in the order of the walk.
        let entries = reach.ordinary.flatMap { table, entries in entries.map { (table, $0) } }.sorted { $0.1.position < $1.1.position }
        guard !entries.isEmpty else { return 0 }
        let tables = Set(entries.map(\.0))
        // The best standing of each prefix's dead, live and `throw` routes, by table.
        var best: [RouteTable: [IPPrefix: (dead: Standing?, live: Standing?, onward: Standing?, kill: Bool)]] = [:]
        for route in routes where route.family == family && tables.contains(route.table) && takesAllTraffic(route) && !skippedByKernel(route) && !route.isInterfaceScoped {
            let standing = Standing(route)
            var entry = best[route.table]?[route.destination] ?? (nil, nil, nil, false)
            if route.type == .throw {
                entry.onward = min(entry.onward ?? standing, standing)
            } else if route.type == .unicast && isDead(route) {
                entry.dead = min(entry.dead ?? standing, standing)
            } else if entry.live.map({ standing < $0 }) ?? true {
                // (The best of the live routes decides whether the answer is a kill route's.)
                (entry.live, entry.kill) = (standing, route.type != .unicast)
            }
            best[route.table, default: [:]][route.destination] = entry
        }
        // A dead route wins its prefix against others of the same standing, as in `rankDead`.
        var answers: [RouteTable: [IPPrefix: ChainAnswer]] = [:]
        for (table, prefixes) in best {
            for (prefix, standing) in prefixes {
                let other = [standing.live, standing.onward].compactMap { $0 }.min()
                if let dead = standing.dead, other.map({ dead <= $0 }) ?? true {
                    answers[table, default: [:]][prefix] = .dead
                } else if let onward = standing.onward, standing.live.map({ onward < $0 }) ?? true {
                    answers[table, default: [:]][prefix] = .onward
                } else {
                    answers[table, default: [:]][prefix] = standing.kill ? .kill : .live
                }
            }
        }
        var all = Set(entries.map(\.1.region))
        all.insert(everywhere(family))
        for prefixes in answers.values { all.formUnion(prefixes.keys) }
        guard all.count <= chainPrefixLimit else { return nil }
        // Prefixes nest or are disjoint: each one's own part (itself less the prefixes inside
        // it) lies wholly inside or outside every other, and so goes one way through the walk.
        let (prefixes, parent) = nesting(all)
        var own = prefixes.map { defaultShare(of: $0) }
        for position in prefixes.indices where parent[position] >= 0 { own[parent[position]] -= defaultShare(of: prefixes[position]) }
        // The longest prefix of `table` holding the own part of the prefix at `position`: the
        // route a lookup there matches.
        func longest(_ table: RouteTable, from position: Int) -> IPPrefix? {
            var at = position
            while at >= 0 {
                if answers[table]?[prefixes[at]] != nil { return prefixes[at] }
                at = parent[at]
            }
            return nil
        }
        // What the local table answers (this host's own addresses, loopback's 127.0.0.0/8) is
        // never default traffic, and is left out of the whole.
        var captured = 0.0, local = 0.0
        for position in prefixes.indices where own[position] > 0 {
            walking: for (table, entry) in entries where entry.region.contains(prefixes[position]) {
                guard let match = longest(table, from: position), let answer = answers[table]?[match], answer != .onward,
                      match.length >= entry.shortestKept || answer == .kill else { continue }
                if table == .local { local += own[position] }
                if answer == .dead && !entry.hostOnly && entry.rule.suppressInterfaceGroup == nil { captured += own[position] }
                break walking
            }
        }
        return local < 1 ? min(1, max(0, captured / (1 - local))) : 0
    }
}

extension Heuristics {
    /// The sentence that says a device's dead routes in several `tables` capture `share` of
    /// `family`'s default traffic along the walk through the rules (`walk`), naming the tables
    /// in the order the walk looks them up and the rules that do.
    static func chainSentence(_ family: AddressFamily, share: Double, walk: PolicyReach, tables: Set<RouteTable>) -> String {
        let entries = walk.ordinary.filter { tables.contains($0.key) }.flatMap { table, entries in entries.map { (table, $0) } }.sorted { $0.1.position < $1.1.position }
        var order: [RouteTable] = []
        for (table, _) in entries where !order.contains(table) { order.append(table) }
        let named = order.map(tableName)
        let tablesText = named.count <= 1 ? named.joined() : named.dropLast().joined(separator: ", ") + " and " + named[named.count - 1]
        let name = family == .inet ? "IPv4" : "IPv6"
        let whole = share >= 255.0 / 256.0
        return "The policy rules send ordinary traffic to \(tablesText), one after the other (\(ruleList(entries.map(\.1.rule)))): what one table does not answer, "
            + "the next one is asked for, so together these routes capture \(whole ? "all" : "\(percent(share)) of the") \(name) traffic that would take the default route"
            + (whole ? "" : ", and dead routes of other devices the rest") + ", so it is blackholed: this is what turns a leaked tunnel into an outage."
    }
}
