import Foundation

/// Which routing tables traffic reaches through the policy rules, found by walking the rules in
/// the kernel's order (`fib_rules_lookup`): a rule that matches a packet looks its table up, and
/// an answer ends the walk, unless the rule's suppress_prefixlength or suppress_ifgroup refuses
/// it; `goto` jumps ahead, `nop` goes on, and `blackhole`, `unreachable` and `prohibit` end the
/// walk without a route. The walk follows ordinary traffic — unmarked, locally generated or
/// forwarded from any device, of any socket owner, protocol or port, to any destination — and
/// notes apart the traffic only some rules select (a mark, a source, a device, …).
extension Heuristics {
    /// How the traffic of one family reaches one table.
    enum TableReach: Equatable {
        /// Ordinary traffic reaches the table: its routes are judged as taking all traffic. So is
        /// every table when the rules are not known.
        case ordinary
        /// Only traffic some rules select reaches the table, each entry naming which and by what
        /// rule: "traffic marked 0x5 (rule 100: fwmark 0x5 lookup 100)".
        case selective([String])
        /// No traffic reaches the table: no rule looks it up, or ordinary traffic is answered or
        /// dropped before any rule that does (`stop` says where), and no selected traffic gets there.
        case unreached(lookedUp: Bool, stop: String?)
        /// Ordinary traffic reaches the table only through a rule that refuses answers of this
        /// route's prefix length (`suppress_prefixlength`), named with the rule, and no selected
        /// traffic gets there.
        case refused(String)
    }

    /// What the walk of one family's rules found.
    struct PolicyReach {
        /// Tables ordinary traffic reaches, each with the shortest prefix whose answer it takes
        /// there (0 unless every rule that leads it there has a suppress_prefixlength), and the
        /// rule that refuses shorter ones.
        var ordinary: [RouteTable: (shortestKept: Int, rule: PolicyRule)] = [:]
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

        /// How traffic reaches routes of `length` bits in `table`.
        func reach(of table: RouteTable, length: Int) -> TableReach {
            let reached = ordinary[table]
            if let reached, length >= reached.shortestKept { return .ordinary }
            if let selected = selective[table] { return .selective(selected) }
            if let vrf { return .selective([vrf]) }
            if let reached {
                return .refused("rule \(reached.rule.priority) (\(reached.rule.words)) refuses every answer of a prefix of \(reached.shortestKept - 1) bits or fewer there")
            }
            return .unreached(lookedUp: lookedUp.contains(table), stop: jumpedOver[table] ?? stop)
        }
    }

    /// How a rule matches the traffic of a walk.
    enum RuleMatch { case all, some, none }

    /// The walk of each family's rules, when the snapshot knows them; nil when it does not, and
    /// every table is then judged as one ordinary traffic reaches. The routes are gone through
    /// once, and each table's answer for one suppression is worked out once.
    static func policyReach(_ snapshot: Snapshot) -> [AddressFamily: PolicyReach]? {
        guard let rules = snapshot.policyRules else { return nil }
        // The destinations of the routes that answer a lookup whole (of a type that sends, drops
        // or refuses the packet, for every packet to their destination, not passed by), by
        // family and table. A `throw` route sends the walk on.
        var answering: [AddressFamily: [RouteTable: [IPPrefix]]] = [:]
        for route in snapshot.routes where takesAllTraffic(route) && !skippedByKernel(route) && !route.isInterfaceScoped {
            switch route.type {
            case .unicast, .blackhole, .unreachable, .prohibit: answering[route.family, default: [:]][route.table, default: []].append(route.destination)
            default: continue
            }
        }
        var found: [AddressFamily: PolicyReach] = [:]
        for family in [AddressFamily.inet, .inet6] {
            // In the kernel's order: by priority, rules of one priority as they were listed (added).
            let ordered = rules.enumerated().filter { $0.element.family == family }.sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }
            var known: [RouteTable: [Int: Bool]] = [:]
            found[family] = walkRules(ordered.map(\.element)) { table, rule in
                // Answers through a device group (suppress_ifgroup) cannot be told from here:
                // such a lookup is taken to leave the walk going.
                guard rule.suppressInterfaceGroup == nil else { return false }
                let shortestKept = (rule.suppressPrefixLength ?? -1) + 1
                if let answer = known[table]?[shortestKept] { return answer }
                let answer = answersEveryDestination(answering[family]?[table] ?? [], shortestKept: shortestKept)
                known[table, default: [:]][shortestKept] = answer
                return answer
            }
        }
        return found
    }

    /// Whether a table whose answering routes go to `destinations` ends the walk for all default
    /// traffic, once the answers of prefixes shorter than `shortestKept` are refused: a default
    /// route kept settles it; otherwise the kept prefixes must cover all of it.
    static func answersEveryDestination(_ destinations: [IPPrefix], shortestKept: Int) -> Bool {
        let kept = destinations.filter { $0.length >= shortestKept }
        guard !kept.isEmpty else { return false }
        if kept.contains(where: { $0.length == 0 }) { return true }
        return defaultShare(of: kept) >= 1 - 1e-12
    }

    /// Walks one family's rules (in the kernel's order) for ordinary traffic and for the traffic
    /// rules select; `answers` tells whether a lookup in a table ends the walk for all of it.
    /// Each rule is visited at most once by ordinary traffic and once by selected traffic.
    static func walkRules(_ rules: [PolicyRule], answers: (RouteTable, PolicyRule) -> Bool) -> PolicyReach {
        var reach = PolicyReach()
        var firstOfPriority: [UInt32: Int] = [:]
        for (position, rule) in rules.enumerated() {
            if firstOfPriority[rule.priority] == nil { firstOfPriority[rule.priority] = position }
            if case let .lookup(table) = rule.action, !rule.l3mdev { reach.lookedUp.insert(table) }
        }
        // A walk: where it starts, and (nil for ordinary traffic) what traffic it follows.
        var walks: [(start: Int, traffic: String?)] = [(0, nil)]
        var visited: [Bool: Set<Int>] = [true: [], false: []]
        while let (start, traffic) = walks.popLast() {
            var position = start
            walking: while position < rules.count, visited[traffic == nil]!.insert(position).inserted {
                let rule = rules[position]
                let match = ruleMatch(rule, ordinary: traffic == nil)
                // Traffic a rule that takes all ordinary traffic still passes by (a `not fwmark`
                // rule's marked packets) walks on by itself.
                func passedBy() {
                    if traffic == nil, rule.hasSelectors { walks.append((position + 1, passedByTraffic(rule))) }
                }
                switch (rule.action, match) {
                case (_, .none): break
                case (.lookup, _) where rule.l3mdev:
                    reach.vrf = reach.vrf ?? selectedTraffic(traffic, rule)
                case let (.lookup(table), .all):
                    if traffic == nil {
                        let kept = (rule.suppressPrefixLength ?? -1) + 1
                        if kept < reach.ordinary[table]?.shortestKept ?? Int.max { reach.ordinary[table] = (kept, rule) }
                    } else {
                        reach.selective[table, default: []].append(selectedTraffic(traffic, rule))
                    }
                    if answers(table, rule) {
                        if traffic == nil {
                            reach.stop = "rule \(rule.priority) (\(rule.words)) sends all of it to \(tableName(table)) first, whose routes answer every destination"
                            passedBy()
                        }
                        break walking
                    }
                case let (.lookup(table), .some):
                    reach.selective[table, default: []].append(selectedTraffic(traffic, rule))
                case let (.goto(target), _):
                    // A goto whose target is gone is passed by; the kernel only lets one jump ahead.
                    guard !rule.unresolved, let jump = firstOfPriority[target], jump > position else { break }
                    if match == .all {
                        passedBy()
                        if traffic == nil {
                            for skipped in rules[(position + 1)..<jump] {
                                guard case let .lookup(table) = skipped.action, reach.jumpedOver[table] == nil else { continue }
                                reach.jumpedOver[table] = "rule \(rule.priority) (\(rule.words)) takes all of it past rule \(skipped.priority) (\(skipped.words))"
                            }
                        }
                        position = jump
                        continue walking
                    }
                    walks.append((jump, selectedTraffic(traffic, rule, sentOn: true)))
                case (.blackhole, .all), (.unreachable, .all), (.prohibit, .all):
                    if traffic == nil {
                        reach.stop = "rule \(rule.priority) (\(rule.words)) ends the lookup of all of it first"
                        passedBy()
                    }
                    break walking
                default: break
                }
                position += 1
            }
        }
        return reach
    }

    /// How `rule` matches the traffic of a walk: for ordinary traffic by its selectors (a mark
    /// unmarked packets do not carry selects no ordinary packet, but marked ones; any other
    /// selector some packets), inverted by `not`; for selected traffic, only a rule without
    /// selectors is sure to match all of it.
    static func ruleMatch(_ rule: PolicyRule, ordinary: Bool) -> RuleMatch {
        guard rule.hasSelectors else { return rule.inverted ? .none : .all }
        guard ordinary else { return .some }
        let unmarkedMatch = rule.markMask == 0 || rule.mark & rule.markMask == 0
        var narrowed = rule
        (narrowed.mark, narrowed.markMask) = (0, 0)
        // What the selectors match of ordinary traffic, before `not`.
        let plain: RuleMatch = !unmarkedMatch ? .none : narrowed.hasSelectors ? .some : .all
        switch (plain, rule.inverted) {
        case (.all, true): return .some
        case (.none, true): return .all
        case (.none, false): return .some
        default: return plain
        }
    }

    /// The traffic `rule` selects, as the text names it with the rule: "traffic marked 0x5
    /// (rule 100: fwmark 0x5 lookup 100)"; after `traffic` (a walk of selected traffic), what
    /// that walk follows. With `sentOn`, the traffic a goto sends ahead.
    static func selectedTraffic(_ traffic: String?, _ rule: PolicyRule, sentOn: Bool = false) -> String {
        let phrases = rule.selectorPhrases
        var who = traffic ?? (rule.inverted ? "all traffic but that " : "traffic ") + phrases.joined(separator: " and ")
        if traffic != nil, !phrases.isEmpty { who += (rule.inverted ? ", unless also " : ", when also ") + phrases.joined(separator: " and ") }
        return who + (sentOn ? ", which rule \(rule.priority) (\(rule.words)) sends on" : " (rule \(rule.priority): \(rule.words))")
    }

    /// The traffic a rule that takes all ordinary traffic passes by: "traffic marked 0xca6c,
    /// which rule 32765 (not fwmark 0xca6c lookup 51820) passes by".
    static func passedByTraffic(_ rule: PolicyRule) -> String {
        let phrases = rule.selectorPhrases.joined(separator: " and ")
        return (rule.inverted ? "traffic \(phrases)" : "traffic that is not \(phrases)") + ", which rule \(rule.priority) (\(rule.words)) passes by"
    }
}

extension Heuristics {
    /// What the text says of the dead routes (`routes`, as shown) of a table ordinary traffic
    /// of `family` does not reach: which traffic takes them, or that none does. Nil for a
    /// table ordinary traffic reaches.
    static func reachSentence(_ reach: TableReach, family: AddressFamily, table: RouteTable, routes: String) -> String? {
        let familyName = family == .inet ? "IPv4" : "IPv6"
        switch reach {
        case .ordinary:
            return nil
        case let .refused(why):
            return "Ordinary \(familyName) traffic reaches \(tableName(table)) only where \(why), and no other traffic reaches it: no traffic takes \(routes) while that lasts."
        case let .selective(selected):
            let shown = selected.prefix(3).joined(separator: "; ") + (selected.count > 3 ? "; and \(selected.count - 3) more" : "")
            return "Only some \(familyName) traffic reaches \(tableName(table)): \(shown). Of it, traffic to \(routes) is blackholed; "
                + "no other traffic takes these routes, so they capture no default traffic as a whole."
        case let .unreached(lookedUp, stop):
            guard lookedUp else {
                return "No \(familyName) policy rule looks up \(tableName(table)) (`ip \(family == .inet6 ? "-6 " : "")rule` lists none that does): "
                    + "no traffic takes \(routes) while that lasts."
            }
            return "No \(familyName) traffic reaches \(tableName(table)): "
                + (stop.map { "\($0), and no rule sends other traffic there" } ?? "no rule that looks it up matches any traffic that gets to it")
                + "; no traffic takes \(routes) while that lasts."
        }
    }
}
