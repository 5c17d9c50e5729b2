import Foundation

/// Which routing tables traffic reaches through the policy rules, found by walking the rules in
/// the kernel's order (`fib_rules_lookup`): a rule that matches a packet looks its table up, and
/// an answer ends the walk, unless it is a `throw` or the rule's suppress_prefixlength or
/// suppress_ifgroup refuses it (which it never does to a kill route's error, TableAnswers.swift);
/// `goto` jumps ahead, `nop` goes on, and `blackhole`, `unreachable` and `prohibit` end the walk
/// without a route. The walk follows ordinary traffic (see PolicyRuleMatch.swift) region by
/// region of its destinations, since `to` selectors send parts of it different ways, and notes
/// apart the traffic only some rules select (a mark, a source, a device, …).
extension Heuristics {
    /// How the traffic of one family reaches the destination of one route in one table.
    enum TableReach: Equatable {
        /// Ordinary traffic to all of the destination reaches the table: the route is judged as
        /// taking all traffic. So is every table when the rules are not known.
        case ordinary
        /// Ordinary traffic reaches the table only for these parts of the destination; the rest
        /// of it never looks the table up.
        case part([IPPrefix])
        /// Only traffic some rules select reaches the table, each entry naming which and by what
        /// rule: "traffic marked 0x5 (rule 100: fwmark 0x5 lookup 100)".
        case selective([String])
        /// Ordinary traffic reaches the table, but only for other destinations, named with the
        /// rules that bring it ("192.168.0.0/16 (rule 32766: from all lookup main)"), and no
        /// selected traffic gets there.
        case elsewhere(String)
        /// No traffic reaches the table: no rule looks it up, or ordinary traffic is answered or
        /// dropped before any rule that does (`stop` says where), and no selected traffic gets there.
        case unreached(lookedUp: Bool, stop: String?)
        /// Ordinary traffic reaches the table only through a rule that refuses answers of this
        /// route's prefix length (`suppress_prefixlength`), named with the rule, and no selected
        /// traffic gets there.
        case refused(String)

        /// Whether ordinary traffic takes the route, to all of its destination or a part.
        var isOrdinary: Bool {
            switch self {
            case .ordinary, .part: return true
            default: return false
            }
        }
    }

    /// One region of ordinary traffic's destinations that a rule brings to a table: the shortest
    /// prefix whose answer it takes there (0 unless the rule has a suppress_prefixlength), and
    /// whether only the traffic this host sends gets there (an `iif lo` rule on the way).
    struct OrdinaryReach: Equatable {
        var region: IPPrefix
        var shortestKept: Int
        var rule: PolicyRule
        var hostOnly: Bool
        /// Where the rule stands in the walk (its place among the family's rules in the kernel's
        /// order): the lookups of ordinary traffic come one after another in this order.
        var position = 0
    }

    /// What the walk of one family's rules found.
    struct PolicyReach {
        /// Tables ordinary traffic reaches, each with the regions it reaches them for.
        var ordinary: [RouteTable: [OrdinaryReach]] = [:]
        /// Tables only selected traffic reaches, each with what selects it.
        var selective: [RouteTable: [String]] = [:]
        /// Tables some rule names in a lookup, reached or not.
        var lookedUp: Set<RouteTable> = []
        /// An `l3mdev` rule that traffic of VRF devices takes to each device's own table, which may be any table.
        var vrf: String?
        /// Where the walk of ordinary traffic ended, for the text; nil when it ran past the last rule.
        var stop: String?
        /// Tables whose lookup rules a goto took ordinary traffic past, each with the text that says so.
        var jumpedOver: [RouteTable: String] = [:]

        /// How traffic reaches routes to `destination` in `table` through a device of link group
        /// `group` (nil: not known, or no device).
        func reach(of table: RouteTable, destination: IPPrefix, group: UInt32? = nil) -> TableReach {
            let entries = ordinary[table] ?? []
            let meeting = entries.filter { $0.region.contains(destination) || destination.contains($0.region) }
            let kept = meeting.filter { destination.length >= $0.shortestKept && !refusesGroup($0.rule, group) }
            if kept.contains(where: { $0.region.contains(destination) }) { return .ordinary }
            if !kept.isEmpty {
                let parts = Set(kept.map(\.region)).sorted { $0.address < $1.address }
                return coverage(of: parts) >= destination.shareOfAddressSpace * (1 - 1e-9) ? .ordinary : .part(parts)
            }
            if let selected = selective[table] { return .selective(selected) }
            if let vrf { return .selective([vrf]) }
            if let refusing = meeting.first(where: { refusesGroup($0.rule, group) }), let group {
                return .refused("rule \(refusing.rule.priority) (\(refusing.rule.words)) refuses every answer through a device of link group \(group) there")
            }
            if let refusing = meeting.min(by: { $0.shortestKept < $1.shortestKept }) {
                return .refused("rule \(refusing.rule.priority) (\(refusing.rule.words)) refuses every answer of a prefix of \(refusing.shortestKept - 1) bits or fewer there")
            }
            if !entries.isEmpty {
                return .elsewhere("\(regionPhrase(entries.map(\.region))) (\(ruleList(entries.map(\.rule), colon: true)))")
            }
            return .unreached(lookedUp: lookedUp.contains(table), stop: jumpedOver[table] ?? stop)
        }

        /// Whether `rule` refuses an answer through a device of link group `group`
        /// (`suppress_ifgroup`, `fib4_rule_suppress`).
        func refusesGroup(_ rule: PolicyRule, _ group: UInt32?) -> Bool {
            guard let suppressed = rule.suppressInterfaceGroup, let group else { return false }
            return suppressed == group
        }

        /// Whether only the traffic this host sends reaches `table` as ordinary traffic.
        func hostOnly(_ table: RouteTable) -> Bool {
            guard let entries = ordinary[table], !entries.isEmpty else { return false }
            return entries.allSatisfy(\.hostOnly)
        }
    }

    /// Rules for people, the first few: "rule 100 (to 0.0.0.0/1 lookup 300) and rule 101 (…)";
    /// with `colon`, "rule 100: to 0.0.0.0/1 lookup 300", for inside parentheses.
    static func ruleList(_ rules: [PolicyRule], colon: Bool = false) -> String {
        var named: [String] = []
        for rule in rules {
            let text = colon ? "rule \(rule.priority): \(rule.words)" : "rule \(rule.priority) (\(rule.words))"
            if !named.contains(text) { named.append(text) }
        }
        let shown = Array(named.prefix(3))
        let more = named.count - shown.count
        if more > 0 { return shown.joined(separator: ", ") + " and \(more) more" }
        return shown.count <= 1 ? shown.joined() : shown.dropLast().joined(separator: ", ") + " and " + shown[shown.count - 1]
    }

    /// Destinations for people: "0.0.0.0/1", or where naming what is left out is shorter,
    /// "every destination but 192.168.0.0/16".
    static func regionPhrase(_ regions: [IPPrefix]) -> String {
        guard let family = regions.first?.family else { return "no destination" }
        let sorted = Set(regions).sorted { $0.address < $1.address }
        let left = subtracting(sorted, from: everywhere(family))
        if left.isEmpty { return "every destination" }
        return left.count < sorted.count ? "every destination but \(prefixList(left))" : prefixList(sorted)
    }

    /// Prefixes for people, the first few: "0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/9 and 13 more".
    static func prefixList(_ prefixes: [IPPrefix]) -> String {
        prefixes.prefix(3).map(\.description).joined(separator: ", ") + (prefixes.count > 3 ? " and \(prefixes.count - 3) more" : "")
    }

    /// The walk of each family's rules, when the snapshot knows them; nil when it does not, and
    /// every table is then judged as one ordinary traffic reaches. The routes are gone through
    /// once, and each table's answer for one suppression and region is worked out once.
    static func policyReach(_ snapshot: Snapshot, groups: [Int: UInt32]? = nil) -> [AddressFamily: PolicyReach]? {
        guard let rules = snapshot.policyRules else { return nil }
        // What each table answers, prefix by prefix (TableAnswers.swift): a `throw` that stands
        // first sends the walk on, a kill route ends it whatever the rule refuses.
        let answers = tableAnswers(snapshot.routes, groups: groups ?? linkGroups(snapshot))
        var found: [AddressFamily: PolicyReach] = [:]
        for family in [AddressFamily.inet, .inet6] {
            // In the kernel's order: by priority, rules of one priority as they were listed (added).
            let ordered = rules.enumerated().filter { $0.element.family == family }.sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }
            var known: [RouteTable: [Int: [IPPrefix: String?]]] = [:]
            found[family] = walkRules(ordered.map(\.element)) { table, rule, region in
                let prefixes = answers[family]?[table] ?? [:]
                let shortestKept = (rule.suppressPrefixLength ?? -1) + 1
                func ending(_ refused: UInt32?) -> String? {
                    guard answersEveryDestination(prefixes, in: region, shortestKept: shortestKept, refusedGroup: refused) else { return nil }
                    return killNote(prefixes, in: region, shortestKept: shortestKept, refusedGroup: refused)
                }
                // (A suppress_ifgroup rule's answers depend on the group, and are not remembered.)
                if let refused = rule.suppressInterfaceGroup { return ending(refused) }
                if let answer = known[table]?[shortestKept]?[region] { return answer }
                let answer = ending(nil)
                known[table, default: [:]][shortestKept, default: [:]][region] = answer
                return answer
            }
        }
        return found
    }

    /// The link group of each interface of the snapshot that reports one, by ifindex: what a
    /// `suppress_ifgroup` rule weighs an answer by.
    static func linkGroups(_ snapshot: Snapshot) -> [Int: UInt32] {
        Dictionary(snapshot.interfaces.compactMap { device in device.group.map { (device.index, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    /// Walks one family's rules (in the kernel's order) for ordinary traffic and for the traffic
    /// rules select; `answers` tells whether a lookup in a table ends the walk for all of the
    /// traffic to a region. Ordinary traffic goes through the rules once, in order, each region
    /// of it where the rules send it (a goto only jumps ahead); each rule is visited at most once
    /// by selected traffic.
    static func walkRules(_ rules: [PolicyRule], answers: (RouteTable, PolicyRule, IPPrefix) -> Bool) -> PolicyReach {
        walkRules(rules, ends: { answers($0, $1, $2) ? "" : nil })
    }

    /// The walk, where `ends` gives, for a lookup that ends the walk for all of a region's
    /// traffic, what the text adds to "whose routes answer every destination" (nil: the walk goes on).
    static func walkRules(_ rules: [PolicyRule], ends answers: (RouteTable, PolicyRule, IPPrefix) -> String?) -> PolicyReach {
        var reach = PolicyReach()
        var firstOfPriority: [UInt32: Int] = [:]
        for (position, rule) in rules.enumerated() {
            if firstOfPriority[rule.priority] == nil { firstOfPriority[rule.priority] = position }
            if case let .lookup(table) = rule.action, !rule.l3mdev { reach.lookedUp.insert(table) }
        }
        guard let family = rules.first?.family else { return reach }
        let whole = everywhere(family)
        // Walks of selected traffic: where each starts, and what traffic it follows.
        var walks: [(start: Int, traffic: String)] = []
        var started = Set<String>()
        func walk(from start: Int, _ traffic: String) {
            if started.insert("\(start)|\(traffic)").inserted { walks.append((start, traffic)) }
        }
        func select(_ table: RouteTable, _ text: String) {
            if reach.selective[table]?.contains(text) != true { reach.selective[table, default: []].append(text) }
        }
        var stops: [String] = []
        // The ordinary traffic that comes to each rule, from the rule before or by a goto.
        var arriving = [[OrdinaryTraffic]](repeating: [], count: rules.count + 1)
        arriving[0] = [OrdinaryTraffic(region: whole)]
        for (position, rule) in rules.enumerated() {
            // Traffic a rule that takes all of a region of ordinary traffic still passes by (a
            // `not fwmark` rule's marked packets, an `iif lo` rule's forwarded ones) walks on by itself.
            func passedBy() {
                if selectsBesidesDestination(rule) { walk(from: position + 1, passedByTraffic(rule)) }
            }
            var onward: [OrdinaryTraffic] = []
            for traffic in arriving[position] {
                for (part, match) in ruleMatch(rule, traffic: traffic) {
                    let whose = part.region.length == 0 ? "all of it" : "what goes to \(part.region)"
                    switch (rule.action, match) {
                    case (_, .none):
                        onward.append(part)
                    case (.lookup, _) where rule.l3mdev:
                        reach.vrf = reach.vrf ?? selectedTraffic(nil, rule)
                        onward.append(part)
                    case let (.lookup(table), .all):
                        let kept = (rule.suppressPrefixLength ?? -1) + 1
                        reach.ordinary[table, default: []].append(OrdinaryReach(region: part.region, shortestKept: kept, rule: rule,
                                                                                hostOnly: part.hostOnly || selectsHostTraffic(rule), position: position))
                        if let note = answers(table, rule, part.region) {
                            stops.append("rule \(rule.priority) (\(rule.words)) sends \(whose) to \(tableName(table)) first, whose routes answer every destination\(note)")
                            passedBy()
                        } else {
                            onward.append(part)
                        }
                    case let (.lookup(table), .some):
                        select(table, selectedTraffic(nil, rule))
                        onward.append(part)
                    case let (.goto(target), _):
                        // A goto whose target is gone is passed by; the kernel only lets one jump ahead.
                        guard !rule.unresolved, let jump = firstOfPriority[target], jump > position else {
                            onward.append(part)
                            break
                        }
                        guard match == .all else {
                            walk(from: jump, selectedTraffic(nil, rule, sentOn: true))
                            onward.append(part)
                            break
                        }
                        passedBy()
                        for skipped in rules[(position + 1)..<jump] {
                            guard case let .lookup(table) = skipped.action, reach.jumpedOver[table] == nil else { continue }
                            reach.jumpedOver[table] = "rule \(rule.priority) (\(rule.words)) takes \(whose) past rule \(skipped.priority) (\(skipped.words))"
                        }
                        arriving[jump].append(OrdinaryTraffic(region: part.region, hostOnly: part.hostOnly || selectsHostTraffic(rule)))
                    case (.blackhole, .all), (.unreachable, .all), (.prohibit, .all):
                        stops.append("rule \(rule.priority) (\(rule.words)) ends the lookup of \(whose) first")
                        passedBy()
                    default:
                        onward.append(part)
                    }
                }
            }
            arriving[position + 1] += onward
        }
        if !stops.isEmpty { reach.stop = stops.prefix(3).joined(separator: "; ") + (stops.count > 3 ? "; and \(stops.count - 3) more" : "") }

        let everything = whole
        var visited = Set<Int>()
        while let (start, traffic) = walks.popLast() {
            var position = start
            walking: while position < rules.count, visited.insert(position).inserted {
                let rule = rules[position]
                let match = ruleMatchOfSelected(rule)
                switch (rule.action, match) {
                case (_, .none): break
                case (.lookup, _) where rule.l3mdev:
                    reach.vrf = reach.vrf ?? selectedTraffic(traffic, rule)
                case let (.lookup(table), .all):
                    select(table, selectedTraffic(traffic, rule))
                    if answers(table, rule, everything) != nil { break walking }
                case let (.lookup(table), .some):
                    select(table, selectedTraffic(traffic, rule))
                case let (.goto(target), _):
                    guard !rule.unresolved, let jump = firstOfPriority[target], jump > position else { break }
                    if match == .all {
                        position = jump
                        continue walking
                    }
                    walk(from: jump, selectedTraffic(traffic, rule, sentOn: true))
                case (.blackhole, .all), (.unreachable, .all), (.prohibit, .all):
                    break walking
                default: break
                }
                position += 1
            }
        }
        return reach
    }
}
