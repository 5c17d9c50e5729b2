import Foundation

/// What a table answers a lookup the policy rules make there, prefix by prefix, as the kernel's
/// `fib_table_lookup` (IPv4) and `fib6_table_lookup` (IPv6) give it: the longest prefix that
/// holds the destination decides, and among the routes of that prefix the best standing (the
/// lowest metric, then the IPv6 preference). A `throw` route that stands first sends the walk on
/// to the next rule, whatever stands behind it. A `blackhole`, `unreachable` or `prohibit` route
/// (a kill switch's) answers with an error, which `fib_rules_lookup` never offers a rule's
/// suppress_prefixlength or suppress_ifgroup (`if (!err && ops->suppress …)`): it ends the walk
/// through every rule. A unicast route's answer is the one a rule may refuse.
extension Heuristics {
    /// What the best route of one prefix of a table does with a lookup that ends at that prefix.
    struct PrefixAnswer: Equatable {
        enum Kind: Equatable {
            /// A route through a device: it answers, unless a rule refuses the answer.
            case unicast
            /// A `blackhole`, `unreachable` or `prohibit` route: it ends the walk with an error
            /// that no rule refuses.
            case kill
            /// A `throw` route: the walk goes on at the next rule.
            case onward
        }
        var kind: Kind
        /// The link group of the device of the route's first hop, which a suppress_ifgroup rule
        /// weighs the answer by; nil when the device is not one the snapshot lists, or there is none.
        var group: UInt32?
        /// A kill route as the text names it: "unreachable default metric 2000".
        var killWords: String?
    }

    /// The best route of each prefix of each family and table, among the routes that answer
    /// every packet to their destination (not those of one `tos` or source), that the kernel does
    /// not pass by, and that are not scoped to an interface. Of routes standing alike, one that
    /// ends the walk comes before a `throw`, and otherwise the first listed.
    static func tableAnswers(_ routes: [Route], groups: [Int: UInt32]) -> [AddressFamily: [RouteTable: [IPPrefix: PrefixAnswer]]] {
        var best: [AddressFamily: [RouteTable: [IPPrefix: (Standing, PrefixAnswer)]]] = [:]
        for route in routes where takesAllTraffic(route) && !skippedByKernel(route) && !route.isInterfaceScoped {
            let kind: PrefixAnswer.Kind
            switch route.type {
            case .unicast: kind = .unicast
            case .blackhole, .unreachable, .prohibit: kind = .kill
            case .throw: kind = .onward
            default: continue
            }
            let answer = PrefixAnswer(kind: kind, group: route.nextHops.first?.interfaceIndex.flatMap { groups[$0] },
                                      killWords: kind == .kill ? routeWithoutDeviceWords(route) : nil)
            let standing = Standing(route)
            if let (held, heldAnswer) = best[route.family]?[route.table]?[route.destination] {
                guard standing < held || (standing == held && heldAnswer.kind == .onward && kind != .onward) else { continue }
            }
            best[route.family, default: [:]][route.table, default: [:]][route.destination] = (standing, answer)
        }
        return best.mapValues { tables in tables.mapValues { prefixes in prefixes.mapValues(\.1) } }
    }

    /// Whether the answers of one table (`answers`, by prefix) end the walk for all default
    /// traffic to `region`, for a rule that refuses unicast answers of prefixes shorter than
    /// `shortestKept` and, with `refusedGroup`, those through a device of that link group (or of
    /// a group not known): every destination in it finds a prefix there, and the answer of its
    /// longest one is a kill route's or a unicast one the rule keeps. Outside IPv6's internet
    /// addresses (in fc00::/7) the region is weighed whole.
    static func answersEveryDestination(_ answers: [IPPrefix: PrefixAnswer], in region: IPPrefix, shortestKept: Int = 0, refusedGroup: UInt32? = nil) -> Bool {
        func kept(_ prefix: IPPrefix, _ answer: PrefixAnswer) -> Bool {
            switch answer.kind {
            case .kill: return true
            case .onward: return false
            case .unicast: return prefix.length >= shortestKept && (refusedGroup.map { refused in answer.group.map { $0 != refused } ?? false } ?? true)
            }
        }
        let meeting = answers.keys.filter { $0.contains(region) || region.contains($0) }
        guard !meeting.isEmpty else { return false }
        let byDefault = defaultShare(of: region) > 0
        func weight(_ prefix: IPPrefix) -> Double { byDefault ? defaultShare(of: prefix) : prefix.shareOfAddressSpace }
        let (prefixes, parent) = nesting(Set(meeting + [region]))
        // Each prefix's own part (itself less its nearest held prefixes) goes to the answer of
        // the longest prefix holding it.
        var own = prefixes.map(weight)
        for position in prefixes.indices where parent[position] >= 0 { own[parent[position]] -= weight(prefixes[position]) }
        var unanswered = 0.0
        for position in prefixes.indices where own[position] > 0 && region.contains(prefixes[position]) {
            var at = position
            while at >= 0, answers[prefixes[at]] == nil { at = parent[at] }
            guard at >= 0, let answer = answers[prefixes[at]], kept(prefixes[at], answer) else {
                unanswered += own[position]
                continue
            }
        }
        return unanswered <= weight(region) * 1e-12
    }

    /// What the text adds where a rule that refuses short answers ends the walk in a table all
    /// the same, because kill routes there answer (`answers`, for `region`) that it would refuse
    /// of a unicast route: " (the unreachable default metric 2000 among them, a kill switch: …)".
    /// Empty when none does.
    static func killNote(_ answers: [IPPrefix: PrefixAnswer], in region: IPPrefix, shortestKept: Int, refusedGroup: UInt32?) -> String {
        let killing = answers.filter { prefix, answer in
            answer.kind == .kill && (prefix.contains(region) || region.contains(prefix)) && (prefix.length < shortestKept || refusedGroup != nil)
        }
        let words = killing.sorted { $0.key.length < $1.key.length }.compactMap(\.value.killWords)
        guard !words.isEmpty else { return "" }
        let shown = words.prefix(3).joined(separator: ", ") + (words.count > 3 ? " and \(words.count - 3) more" : "")
        return " (the \(shown) among them, a kill switch: a rule's suppress_prefixlength or suppress_ifgroup refuses no answer that drops the packet)"
    }
}
