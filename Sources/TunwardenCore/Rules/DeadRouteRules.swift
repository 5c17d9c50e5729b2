import Foundation

/// Judging routes into dead tunnels: unicast routes whose every next hop leaves through an
/// orphaned tunnel or one without carrier, critical when together they capture default traffic,
/// and (DeadHopRules.swift) multipath routes only some of whose hops do. The findings,
/// dead-tunnel-route and dead-tunnel-hop, are declared with the other route findings in
/// RouteRules.swift.
extension Heuristics {
    /// A tunnel-style interface that traffic cannot leave through: orphaned, or without carrier.
    static func isDead(_ assessed: AssessedInterface) -> Bool {
        assessed.state == .orphaned || assessed.interface.carrier == false
    }

    /// The family and table of a route: the kernel ranks routes against those of both alike.
    struct RouteGroup: Hashable {
        let family: AddressFamily
        let table: RouteTable
        init(_ route: Route) { (family, table) = (route.family, route.table) }
    }

    /// Routes of type unicast whose every next hop leaves through a dead tunnel, grouped by
    /// interface. Critical when the dead routes of a family and table together would capture
    /// default traffic — a default route, or more-specific routes covering all but at most 1/256
    /// of the space default traffic goes to (0/1 + 128/1, or the 1/8 … 128/1 cascade; for IPv6
    /// its internet addresses, 2000::/3, which `::/1` or `2000::/3` alone cover), which proxies
    /// and VPNs add to take all traffic without touching the default route — and still take at
    /// least half of it once every destination a live route of that table wins is left out
    /// (`rankDead`). A dead route the kernel passes by, or one that takes only some traffic (of
    /// one `tos`, or from some sources), captures nothing whole, and the text says why. So does
    /// one of a table ordinary traffic does not reach through the policy rules (`policyReach`):
    /// the text names the table, the rule that keeps traffic from it, or the traffic that gets
    /// there; without known rules every table counts as reached. The
    /// multipath routes only some of whose hops are dead follow, as `deadHopFindings` judges them.
    static func deadRouteFindings(_ interfaces: [AssessedInterface], snapshot: Snapshot) -> [Finding] {
        let unicast = snapshot.routes.filter { $0.type == .unicast && !$0.nextHops.isEmpty }
        guard !unicast.isEmpty else { return [] }
        // Only interfaces routes leave through can matter; thousands of others are not visited.
        let hopIndices = Set(unicast.flatMap { $0.nextHops.compactMap(\.interfaceIndex) })
        let positions = IndexPositions(count: interfaces.count) { interfaces[$0].interface.index }
        var deadPosition: [Int: Int] = [:]
        for index in hopIndices {
            // (The routes into a closed tuntaposx device are judged as a gone tunnel's, by
            // `splitDefaultFindings`, which can offer their removal.)
            if let position = positions.position(of: index), isDead(interfaces[position]), interfaces[position].interface.tuntaposx != .closed {
                deadPosition[index] = position
            }
        }
        guard !deadPosition.isEmpty else { return [] }
        func isDeadHop(_ hop: NextHop) -> Bool { hop.interfaceIndex.map { deadPosition[$0] != nil } ?? false }
        var up: [Int: Bool] = [:]
        for index in hopIndices { if let position = positions.position(of: index) { up[index] = interfaces[position].interface.isUp } }

        var deadRoutes: [Route] = []
        var liveRoutes: [Route] = []
        // Routes with some hops through dead tunnels that the kernel still hashes flows onto, or
        // may (`deadHopFindings`), and the routes they are ranked against: every other one.
        var partRoutes: [Route] = []
        var wholeRoutes: [Route] = []
        // The local table decides before any other (rule 0): a route another table holds for
        // destinations a local-table route covers whole takes no traffic — as IPv6 multicast
        // routes an `autojoin` address adds, which every device's `multicast ff00::/8` of the
        // local table shadows.
        // (A `throw` there sends the lookup on; a route of one `tos` or source decides only for
        // those.)
        var localPrefixes = Set<IPPrefix>()
        for route in snapshot.routes where route.table == .local && route.type != .throw && takesAllTraffic(route) && !skippedByKernel(route) {
            localPrefixes.insert(route.destination)
        }
        let localLengths = Dictionary(grouping: localPrefixes, by: \.family).mapValues { Set($0.map(\.length)).sorted() }
        func shadowed(_ route: Route) -> Bool {
            guard route.table != .local, let lengths = localLengths[route.family] else { return false }
            return route.destination.isInside(lengths: lengths, where: localPrefixes.contains)
        }
        for route in unicast where !shadowed(route) {
            if route.nextHops.allSatisfy(isDeadHop) {
                deadRoutes.append(route)
                wholeRoutes.append(route)
            } else {
                liveRoutes.append(route)
                if route.nextHops.contains(where: { isDeadHop($0) && hopFlows($0, of: route, up: up) != .no }) { partRoutes.append(route) } else { wholeRoutes.append(route) }
            }
        }
        // Routes that end a lookup without a device win destinations as live ones do: a kill
        // switch's `unreachable default metric 10` outranks a dead tunnel's default.
        for route in snapshot.routes where Self.endsLookupWithoutDevice(route.type) && !shadowed(route) {
            liveRoutes.append(route)
            wholeRoutes.append(route)
        }
        // How the dead routes of each family and table fare against the live ones, and which
        // capture default traffic.
        // Which tables (and prefix lengths) the policy rules send ordinary traffic to: only dead
        // routes there can capture it, and only they are ranked.
        let groups = linkGroups(snapshot)
        let reaches = policyReach(snapshot, groups: groups)
        func reach(_ route: Route) -> TableReach {
            let group = route.nextHops.first?.interfaceIndex.flatMap { groups[$0] }
            return reaches?[route.family]?.reach(of: route.table, destination: route.destination, group: group) ?? .ordinary
        }
        let deadReach = deadRoutes.map(reach)
        let deadByGroup = Dictionary(grouping: deadRoutes.indices.filter { deadReach[$0].isOrdinary }.map { deadRoutes[$0] }, by: RouteGroup.init)
        // The destinations of dead routes that ordinary traffic never brings to their table
        // (rules that choose it by destination): no traffic is lost to those routes there. But
        // where a longer dead route of the table that ordinary traffic reaches holds a
        // destination, the lookup there answers with it (or a longer route), whichever rule
        // brought the traffic (one that refuses the shorter route's answer among them): that
        // traffic is still taken by dead routes, as `rankDead` weighs the longer one.
        var elsewhere: [RouteGroup: [IPPrefix]] = [:]
        for (position, route) in deadRoutes.enumerated() {
            guard case let .part(parts) = deadReach[position] else { continue }
            var taken: [IPPrefix] = []
            for (other, otherReach) in zip(deadRoutes, deadReach) where RouteGroup(other) == RouteGroup(route)
                && other.destination.length > route.destination.length && route.destination.contains(other.destination) {
                switch otherReach {
                case .ordinary: taken.append(other.destination)
                case let .part(otherParts): taken += otherParts
                default: break
                }
            }
            elsewhere[RouteGroup(route), default: []] += subtracting(parts + taken, from: route.destination)
        }
        var liveByGroup: [RouteGroup: [Route]] = [:]
        for route in liveRoutes where deadByGroup[RouteGroup(route)] != nil { liveByGroup[RouteGroup(route), default: []].append(route) }
        var rankings: [RouteGroup: DeadRouteRanking] = [:]
        for (key, routes) in deadByGroup { rankings[key] = rankDead(routes, live: liveByGroup[key] ?? [], elsewhere: elsewhere[key] ?? []) }
        let capturing = Set(rankings.filter { $0.value.alone >= 255.0 / 256.0 && $0.value.taken >= 0.5 }.keys)
        // Each table's outranked dead routes by destination: with thousands of dead devices whose
        // routes live ones outrank, searching the table's list for each device's routes would take
        // time that grows with the square of their number.
        let outrankedAt = rankings.mapValues { Dictionary(grouping: $0.outranked, by: \.destination) }
        func isOutranked(_ route: Route) -> Bool { outrankedAt[RouteGroup(route)]?[route.destination]?.contains(route) == true }
        // Where dead routes lie in more than one table ordinary traffic looks up, the walk through
        // the rules may bring all of a family's traffic to them though no one table's dead routes
        // capture it (DeadRouteChain.swift): the families where they do.
        func isDeadRoute(_ route: Route) -> Bool { !route.nextHops.isEmpty && route.nextHops.allSatisfy(isDeadHop) }
        var chainFamilies: [AddressFamily: PolicyReach] = [:]
        for family in [AddressFamily.inet, .inet6] {
            guard let walk = reaches?[family], Set(deadRoutes.filter { $0.family == family && reach($0).isOrdinary }.map(\.table)).count > 1,
                  let share = chainCapture(family, reach: walk, routes: snapshot.routes, isDead: isDeadRoute), share >= 255.0 / 256.0 else { continue }
            chainFamilies[family] = walk
        }
        var routesByInterface: [Int: [Route]] = [:]
        for route in deadRoutes {
            for index in Set(route.nextHops.compactMap(\.interfaceIndex)) { routesByInterface[index, default: []].append(route) }
        }
        var findings: [Finding] = []
        var tableRankings: [RouteGroup: TableRankings] = [:]
        for index in routesByInterface.keys.sorted() {
            guard let routes = routesByInterface[index], let position = deadPosition[index] else { continue }
            let assessed = interfaces[position]
            let groups = Set(routes.map(RouteGroup.init)).sorted { ($0.family.rawValue, "\($0.table)") < ($1.family.rawValue, "\($1.table)") }
            // A capturing family and table is this device's only where a route of its own there
            // takes a share of default traffic: another device's dead IPv6 default does not make
            // this one's IPv6 prefix route part of an outage.
            func takesDefault(_ route: Route) -> Bool {
                takesAllTraffic(route) && !skippedByKernel(route) && !route.isInterfaceScoped && defaultShare(of: route.destination) > 0
            }
            func sharesDefault(_ key: RouteGroup) -> Bool { routes.contains { RouteGroup($0) == key && takesDefault($0) } }
            // Other devices' dead routes win destinations from this one's as live routes do: a
            // device is blamed only for the default traffic its own routes take, at least half of
            // it in a family and table whose dead routes together capture it. A lone subnet route
            // beside another device's dead split default is no outage of its own.
            func isOwn(_ route: Route) -> Bool { route.nextHops.contains { $0.interfaceIndex == index } }
            func deadElsewhere(_ route: Route) -> Bool { route.type == .unicast && !isOwn(route) && route.nextHops.allSatisfy(isDeadHop) }
            var ownRankings: [RouteGroup: DeadRouteRanking] = [:]
            for key in groups {
                guard let all = deadByGroup[key], let ranking = rankings[key] else { continue }
                // (Below a whole capture the table's ranking says all the text needs. The capture
                // is asked first, and the search for another device's dead route here stops at the
                // first: with thousands of dead devices, filtering the table's dead routes for
                // each would take time that grows with the square of their number.)
                guard ranking.alone >= 255.0 / 256.0, all.contains(where: { !isOwn($0) }) else {
                    ownRankings[key] = ranking
                    continue
                }
                let table = tableRankings[key] ?? TableRankings(dead: all, live: liveByGroup[key] ?? [], elsewhere: elsewhere[key] ?? [])
                tableRankings[key] = table
                let ownPositions = table.positions(of: index)
                let own = ownPositions.map { all[$0] }
                // (Routes that cover less than half of it can neither capture nor would: they are
                // not ranked, which with thousands of devices' subnets beside one capture would
                // rank the table once for each.)
                let share = defaultShare(of: own.filter { takesAllTraffic($0) && !skippedByKernel($0) && !$0.isInterfaceScoped }.map(\.destination))
                guard share >= Self.ownHalf else {
                    var small = DeadRouteRanking()
                    (small.alone, small.taken) = (share, share)
                    ownRankings[key] = small
                    continue
                }
                // Its own routes against every other route of the table, the other devices' dead
                // ones among them, read from the table's nesting made once (DeadRouteOwnRanking.swift).
                ownRankings[key] = table.ranking(own: ownPositions)
            }
            let ownCapturing = groups.filter { key in
                guard capturing.contains(key), let own = ownRankings[key], own.taken >= Self.ownHalf else { return false }
                return routes.contains { RouteGroup($0) == key && takesDefault($0) && own.outranked.contains($0) != true }
            }
            // This device's share of a capture the walk makes across tables, at least half.
            var chained: [(family: AddressFamily, share: Double, walk: PolicyReach)] = []
            for family in [AddressFamily.inet, .inet6] where !ownCapturing.contains(where: { $0.family == family }) {
                guard let walk = chainFamilies[family], routes.contains(where: { $0.family == family && takesDefault($0) }),
                      let share = chainCapture(family, reach: walk, routes: snapshot.routes, isDead: { isOwn($0) && isDeadRoute($0) }), share >= Self.ownHalf else { continue }
                chained.append((family, share, walk))
            }
            let captures = !ownCapturing.isEmpty || !chained.isEmpty
            let interface = assessed.interface
            let why = assessed.state == .orphaned ? "is orphaned (no process attached)" : "has no carrier"
            let list = routes.map(\.display).joined(separator: ", ")
            var evidence = "\(routes.count) \(routes.count == 1 ? "route sends" : "routes send") traffic into \(interface.kind.rawValue) \(interface.name), which \(why): \(list)."
            let outranked = routes.filter(isOutranked)
            let skipped = routes.filter(skippedByKernel)
            let partial = routes.filter { !takesAllTraffic($0) && !skippedByKernel($0) }
            if captures {
                if !ownCapturing.isEmpty {
                    let hostOnly = Set(ownCapturing.filter { reaches?[$0.family]?.hostOnly($0.table) == true })
                    evidence += " " + captureSentence(ownCapturing.compactMap { key in ownRankings[key].map { (key, $0) } }, hostOnly: hostOnly, deadElsewhere: deadElsewhere)
                }
                for key in ownCapturing where (ownRankings[key]?.taken ?? 0) < 255.0 / 256.0 && (rankings[key]?.taken ?? 0) >= 255.0 / 256.0 {
                    evidence += " With the dead routes of other devices in \(tableName(key.table)), all \(key.family == .inet ? "IPv4" : "IPv6") traffic that would take "
                        + "the default route is blackholed (their findings name them)."
                }
                var sentences = chained.map { family, share, walk in
                    chainSentence(family, share: share, walk: walk, tables: Set(routes.filter { $0.family == family && reach($0).isOrdinary }.map(\.table)))
                }
                // (The same walk for both families is said once.)
                if sentences.count == 2, sentences[0].replacingOccurrences(of: "IPv4", with: "IPv6") == sentences[1] {
                    sentences = [sentences[0].replacingOccurrences(of: "IPv4", with: "IPv4 and IPv6")]
                }
                for sentence in sentences { evidence += " " + sentence }
            } else {
                // Dead routes that would capture default traffic, but that live routes outrank.
                for key in groups where sharesDefault(key) {
                    guard let ranking = ownRankings[key], ranking.alone >= 255.0 / 256.0 else { continue }
                    let family = key.family == .inet ? "IPv4" : "IPv6"
                    evidence += " Together they would capture all \(family) traffic that would take the default route, but \(winnerNoun(ranking, deadElsewhere: deadElsewhere)) of \(tableName(key.table)) "
                        + "(\(winnerList(ranking, deadElsewhere: deadElsewhere))) outrank them for "
                        + (ranking.taken > 0 ? "all but \(percent(ranking.taken)) of it, which is blackholed." : "all of it, so none of it goes into \(interface.name) while those stay.")
                    // A kill switch wins by dropping: nothing is lost to the tunnel, but nothing
                    // gets through either.
                    let dropping = ranking.winners.filter { [.blackhole, .unreachable, .prohibit].contains($0.type) }
                    if !dropping.isEmpty {
                        evidence += " The \(dropping.map(routeWithoutDeviceWords).joined(separator: ", ")) \(dropping.count == 1 ? "drops" : "drop") what \(dropping.count == 1 ? "it wins" : "they win") "
                            + "(a kill switch): that traffic is blocked, not delivered, while \(dropping.count == 1 ? "it stays" : "they stay")."
                    }
                }
                // Where other devices' dead routes make the outage, reaping this one does not end it.
                for key in groups where capturing.contains(key) && !ownCapturing.contains(key) {
                    let family = key.family == .inet ? "IPv4" : "IPv6"
                    evidence += " Dead routes of other devices in \(tableName(key.table)) capture the \(family) traffic that would take the default route (their findings name them): "
                        + "reaping \(interface.name) does not end that."
                }
                for family in chainFamilies.keys.sorted(by: { $0.rawValue < $1.rawValue }) where routes.contains(where: { $0.family == family && reach($0).isOrdinary }) {
                    evidence += " Dead routes of other devices capture the \(family == .inet ? "IPv4" : "IPv6") traffic that would take the default route, in the tables the policy rules "
                        + "send it to one after the other (their findings name them): reaping \(interface.name) does not end that."
                }
                // (Those of tables ordinary traffic does not reach are named with what reaches them.)
                let reached = routes.filter { reach($0).isOrdinary }
                let blackholed = reached.filter { !outranked.contains($0) && !skippedByKernel($0) }
                if !blackholed.isEmpty {
                    let destinations = reached.count == routes.count ? (outranked.isEmpty && skipped.isEmpty ? "these destinations" : "the others")
                        : blackholed.map(\.display).joined(separator: ", ")
                    let brought = blackholed.contains { reach($0) != .ordinary } ? " where the policy rules bring it to their table" : ""
                    evidence += " Traffic to \(destinations) is blackholed\(brought)."
                }
            }
            // How ordinary traffic comes to a table where rules choose it by destination or keep
            // it to this host's own.
            for key in groups where routes.contains(where: { RouteGroup($0) == key && reach($0).isOrdinary }) {
                if let entries = reaches?[key.family]?.ordinary[key.table], let sentence = ordinarySentence(entries, family: key.family, table: key.table) {
                    evidence += " " + sentence
                }
            }
            // Routes ordinary traffic does not reach: what traffic, if any, takes them.
            for key in groups {
                let inTable = routes.filter { RouteGroup($0) == key && !reach($0).isOrdinary }
                var kinds: [TableReach] = []
                for route in inTable where !kinds.contains(reach(route)) { kinds.append(reach(route)) }
                for reached in kinds {
                    let alike = inTable.filter { reach($0) == reached }
                    if let sentence = reachSentence(reached, family: key.family, table: key.table, routes: alike.map(\.display).joined(separator: ", ")) {
                        evidence += " " + sentence
                    }
                }
            }
            if let problem = snapshot.policyRulesProblem {
                evidence += " The policy rules could not be read (\(problem)): every table is judged as one all traffic reaches."
            }
            // Where the IPv6 router preference settled a prefix between this device's dead route
            // and a live one of the same metric, either way.
            let decided = groups.flatMap { rankings[$0]?.preferenceDecided ?? [] }.filter { routes.contains($0.dead) }
            if !outranked.isEmpty {
                let noun = outranked.contains { rankings[RouteGroup($0)]?.winnerWithoutDevice == true } ? "Other routes" : "Live routes"
                let preferred = decided.contains { !$0.deadWins && outranked.contains($0.dead) }
                evidence += " \(noun) of their table outrank \(outranked.map(\.display).joined(separator: ", ")) (a longer prefix, or the same one with a lower metric"
                    + (preferred ? ", or with the same metric and a higher router preference" : "") + "): "
                    + "no traffic takes \(outranked.count == 1 ? "it" : "them") while those stay, but \(outranked.count == 1 ? "it takes" : "they take") over if they go."
            }
            if let sentence = preferenceSentence(decided, deadDevice: interface.name) { evidence += " " + sentence }
            if !skipped.isEmpty {
                evidence += " The kernel passes \(skipped.map(\.display).joined(separator: ", ")) by (it flags \(skipped.count == 1 ? "its next hop" : "their next hops") `dead`: "
                    + "the device is down, or has no carrier while ignore_routes_with_linkdown is set for it or for all): no traffic takes \(skipped.count == 1 ? "it" : "them") while that lasts."
            }
            if !partial.isEmpty {
                let selected = partial.map { route in
                    "\(route.display) takes only packets " + (route.tos != 0 ? "of that tos" : "") + (route.tos != 0 && route.source != nil ? " and " : "")
                        + (route.source != nil ? "from those sources" : "")
                }
                evidence += " " + selected.joined(separator: "; ") + ": \(partial.count == 1 ? "it does" : "they do") not capture default traffic as a whole."
            }
            let scoped = routes.filter { $0.isInterfaceScoped && takesAllTraffic($0) && !skippedByKernel($0) }
            if !scoped.isEmpty {
                evidence += " \(scoped.map(\.display).joined(separator: ", ")) \(scoped.count == 1 ? "is" : "are") scoped to \(interface.name) (flag I): "
                    + "\(scoped.count == 1 ? "it takes" : "they take") only traffic already bound to it, and capture\(scoped.count == 1 ? "s" : "") no default traffic."
            }
            if assessed.state == .orphaned {
                evidence += " They go away with the device when it is reaped."
            }
            findings.append(Finding(id: FindingID.deadTunnelRoute, severity: captures ? .critical : .warning,
                                    ifname: interface.name, reapable: false, evidence: evidence, routes: routes))
        }
        return findings + deadHopFindings(partRoutes, others: wholeRoutes, interfaces: interfaces, deadPosition: deadPosition, up: up, snapshot: snapshot)
    }

    /// The sentence that says what share of default traffic the capturing dead routes take, per
    /// family and table, and what live routes win of the rest.
    /// `deadElsewhere` tells the dead routes of other devices among the winners.
    static func captureSentence(_ groups: [(RouteGroup, DeadRouteRanking)], hostOnly: Set<RouteGroup> = [],
                                deadElsewhere: (Route) -> Bool = { _ in false }) -> String {
        let whole = groups.allSatisfy { $0.1.taken >= 255.0 / 256.0 }
        let families = Set(groups.map(\.0.family)).sorted { $0.rawValue < $1.rawValue }.map { $0 == .inet ? "IPv4" : "IPv6" }.joined(separator: " and ")
        // (Where only an `iif lo` rule brings traffic to the table, it is the traffic this host sends.)
        func whose(_ key: RouteGroup) -> String { hostOnly.contains(key) ? "traffic this host sends" : "traffic" }
        let sameWhose = Set(groups.map { whose($0.0) }).count == 1
        if whole, sameWhose, let first = groups.first {
            return "Together they capture all \(families) \(whose(first.0)) that would take the default route, so it is blackholed: this is what turns a leaked tunnel into an outage."
        }
        let parts = groups.map { key, ranking in
            let family = key.family == .inet ? "IPv4" : "IPv6"
            let share = ranking.taken >= 255.0 / 256.0 ? "all" : "\(percent(ranking.taken)) of"
            let rest = ranking.winnerCount == 0 ? ""
                : " (\(winnerNoun(ranking, deadElsewhere: deadElsewhere)) of \(tableName(key.table)) win the rest: \(winnerList(ranking, deadElsewhere: deadElsewhere)))"
            return "\(share) \(family) \(whose(key)) that would take the default route\(rest)"
        }
        return "Together they capture \(parts.joined(separator: ", and ")), so it is blackholed: this is what turns a leaked tunnel into an outage."
    }

    /// The sentence that says where the IPv6 router preference decided between a dead route and
    /// a live one of the same prefix and metric (`rt6_score_route`): "default (::/0) dev eth0
    /// pref high outranks default (::/0) dev tun0 pref low …". Nil when it decided nothing.
    static func preferenceSentence(_ decided: [PreferenceDecision], deadDevice: String?) -> String? {
        guard !decided.isEmpty else { return nil }
        func words(_ route: Route, device: String?) -> String {
            route.display + (device.map { " dev \($0)" } ?? "") + " " + preferenceWords(route)
        }
        let pairs = decided.map { decision in
            let dead = words(decision.dead, device: deadDevice)
            let live = words(decision.live, device: decision.live.type == .unicast ? decision.live.nextHops.compactMap(\.interfaceName).first : nil)
            return decision.deadWins ? "\(dead) outranks the live \(live)" : "\(live) outranks \(dead)"
        }
        return "Of IPv6 routes of one prefix and metric the kernel takes the one of the highest router preference (high, then medium, then low): "
            + pairs.joined(separator: "; ") + "."
    }

    /// What the text calls the routes that win from dead ones: "live routes", or "other routes"
    /// where one of them is a `blackhole`, `unreachable`, `prohibit` or `throw` route, or a dead
    /// route of another device (`deadElsewhere`).
    static func winnerNoun(_ ranking: DeadRouteRanking, deadElsewhere: (Route) -> Bool = { _ in false }) -> String {
        ranking.winnerWithoutDevice || ranking.winners.contains(where: deadElsewhere) ? "other routes" : "live routes"
    }

    /// Whether a route of `type` ends the lookup of its table without sending through any
    /// device: `blackhole` and `prohibit` drop the packet, `unreachable` refuses it, `throw` sends
    /// the lookup on to the next policy rule. Each wins the destinations it covers as a live
    /// route would.
    static func endsLookupWithoutDevice(_ type: RouteType) -> Bool {
        type == .blackhole || type == .unreachable || type == .prohibit || type == .throw
    }

    /// The share of default traffic a device's own dead routes must take for an outage to be
    /// its own: half, less the 1/256 of it a capture may leave to live routes (a `0.0.0.0/1`
    /// beside a live `10.0.0.0/24` still takes half of it).
    static let ownHalf = 0.5 - 1.0 / 256.0

    /// A route that sends through no device, named by its type, as `ip route` writes it, so that
    /// it is never taken for a dead route of the same prefix: "blackhole 0.0.0.0/1 metric 50",
    /// "unreachable default metric 10".
    static func routeWithoutDeviceWords(_ route: Route) -> String {
        "\(route.type) \(route.display)" + (route.metric.map { " metric \($0)" } ?? "")
    }

    /// A share as a whole percentage, rounded down: "49%", or "less than 1%".
    static func percent(_ share: Double) -> String {
        let whole = Int((share * 100).rounded(.down))
        return whole == 0 && share > 0 ? "less than 1%" : "\(whole)%"
    }

    /// A table for people: "the main table", "table 100".
    static func tableName(_ table: RouteTable) -> String {
        table == .main ? "the main table" : "table \(table)"
    }

    /// The live routes that win from dead ones, the first few, each with its device; one of a
    /// type without a device with that type and its metric (`unreachable default metric 10`); a
    /// dead one of another device (`deadElsewhere`) marked "(dead too)".
    static func winnerList(_ ranking: DeadRouteRanking, deadElsewhere: (Route) -> Bool = { _ in false }) -> String {
        let shown = ranking.winners.map { route in
            guard route.type == .unicast else { return routeWithoutDeviceWords(route) }
            let devices = route.nextHops.compactMap(\.interfaceName)
            return route.display + (devices.isEmpty ? "" : " dev \(devices.joined(separator: ", "))") + (deadElsewhere(route) ? " (dead too)" : "")
        }
        let more = ranking.winnerCount - shown.count
        return shown.joined(separator: ", ") + (more > 0 ? " and \(more) more" : "")
    }
}
