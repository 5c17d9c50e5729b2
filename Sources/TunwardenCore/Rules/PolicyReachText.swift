import Foundation

/// What the text says of the traffic the policy rules bring to a table of dead routes.
extension Heuristics {
    /// The traffic `rule` selects, as the text names it with the rule: "traffic marked 0x5
    /// (rule 100: fwmark 0x5 lookup 100)"; after `traffic` (a walk of selected traffic), what
    /// that walk follows. With `sentOn`, the traffic a goto sends ahead.
    static func selectedTraffic(_ traffic: String?, _ rule: PolicyRule, sentOn: Bool = false) -> String {
        let phrases = rule.selectorPhrases
        var who = traffic ?? (rule.inverted ? "all traffic but that " : "traffic ") + phrases.joined(separator: " and ")
        if traffic != nil, !phrases.isEmpty { who += (rule.inverted ? ", unless also " : ", when also ") + phrases.joined(separator: " and ") }
        return who + (sentOn ? ", which rule \(rule.priority) (\(rule.words)) sends on" : " (rule \(rule.priority): \(rule.words))")
    }

    /// The traffic a rule that takes all of a region of ordinary traffic passes by, named by the
    /// selectors but the destination: "traffic marked 0xca6c, which rule 32765 (not fwmark 0xca6c
    /// lookup 51820) passes by".
    static func passedByTraffic(_ rule: PolicyRule) -> String {
        var others = rule
        others.destination = nil
        let phrases = others.selectorPhrases.joined(separator: " and ")
        return (rule.inverted ? "traffic \(phrases)" : "traffic that is not \(phrases)") + ", which rule \(rule.priority) (\(rule.words)) passes by"
    }

    /// What the text says of the dead routes (`routes`, as shown) of a table ordinary traffic
    /// of `family` does not reach: which traffic takes them, or that none does. Nil for a
    /// table ordinary traffic reaches.
    static func reachSentence(_ reach: TableReach, family: AddressFamily, table: RouteTable, routes: String) -> String? {
        let familyName = family == .inet ? "IPv4" : "IPv6"
        switch reach {
        case .ordinary, .part:
            return nil
        case let .refused(why):
            return "Ordinary \(familyName) traffic reaches \(tableName(table)) only where \(why), and no other traffic reaches it: no traffic takes \(routes) while that lasts."
        case let .selective(selected):
            let shown = selected.prefix(3).joined(separator: "; ") + (selected.count > 3 ? "; and \(selected.count - 3) more" : "")
            return "Only some \(familyName) traffic reaches \(tableName(table)): \(shown). Of it, traffic to \(routes) is blackholed; "
                + "no other traffic takes these routes, so they capture no default traffic as a whole."
        case let .elsewhere(destinations):
            return "Ordinary \(familyName) traffic reaches \(tableName(table)) only for other destinations, \(destinations), and no other traffic reaches it: "
                + "no traffic takes \(routes) while that lasts."
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

    /// What the text says of how ordinary traffic of `family` comes to `table` (`entries`, as
    /// the walk found them), when rules choose it by destination, keep it to this host's own, or
    /// take all of it but what a `not` leaves out: which rules, for which destinations, whose
    /// traffic, and what they leave out. Nil when rules without such a selector bring all of it.
    static func ordinarySentence(_ entries: [OrdinaryReach], family: AddressFamily, table: RouteTable) -> String? {
        // What `not` rules leave out besides a destination: "traffic of tos 0x10".
        var leftOut: [String] = []
        for rule in entries.map(\.rule) where rule.inverted && selectsBesidesDestination(rule) {
            var others = rule
            others.destination = nil
            let text = "traffic " + others.selectorPhrases.joined(separator: " and ")
            if !leftOut.contains(text) { leftOut.append(text) }
        }
        guard entries.contains(where: { $0.region.length > 0 || $0.hostOnly }) || !leftOut.isEmpty else { return nil }
        let familyName = family == .inet ? "IPv4" : "IPv6"
        let rules = entries.map(\.rule)
        let regions = Set(entries.map(\.region)).sorted { $0.address < $1.address }
        let left = subtracting(regions, from: everywhere(family))
        // Rules that choose traffic by destination themselves (`to`): only several of them make
        // a split default. Regions that other rules' `to` cut out before them, which add up to
        // every destination, say nothing a rule without selectors would not.
        let choosing = Set(rules.filter { ($0.destination?.length ?? 0) > 0 }.map(\.priority))
        if left.isEmpty, choosing.isEmpty, !entries.contains(where: \.hostOnly), leftOut.isEmpty { return nil }
        let whose = entries.allSatisfy(\.hostOnly) ? "the \(familyName) traffic this host sends (not traffic it forwards, which the `iif lo` rule passes by)"
            : "ordinary \(familyName) traffic"
        let destinations: String
        if left.isEmpty {
            destinations = choosing.count > 1 ? "for every destination, together: a split default made of rules" : "for every destination"
        } else {
            let share = defaultShare(of: regions)
            destinations = (left.count < regions.count ? "for every destination but \(prefixList(left))" : "only for \(prefixList(regions))")
                + ", \(percent(share)) of the \(familyName) traffic that would take the default route"
        }
        let verb = Set(rules.map(\.priority)).count == 1 ? "brings" : "bring"
        let but = leftOut.isEmpty ? "" : ", all of it but " + leftOut.prefix(3).joined(separator: " or ") + (leftOut.count > 3 ? " and more" : "")
        return "\(ruleList(rules).prefix(1).uppercased())\(ruleList(rules).dropFirst()) \(verb) \(whose) to \(tableName(table)) \(destinations)\(but)."
    }
}
