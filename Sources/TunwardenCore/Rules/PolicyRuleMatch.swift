import Foundation

/// Which ordinary traffic one policy rule matches, as the kernel's `fib_rule_match` decides it:
/// by destination region (`to P`, with or without `not`), and by the other selectors, each of
/// which matches all ordinary traffic, some of it, or none. Ordinary traffic is unmarked, of type
/// of service 0, sent through no chosen device (no `oif`), of any socket owner, protocol or port,
/// to any destination; locally generated traffic's lookups come in on lo (the kernel sets the
/// flow's input device to `LOOPBACK_IFINDEX` for every output route lookup), and forwarded
/// traffic is followed apart once an `iif lo` rule passes it by.
extension Heuristics {
    /// How a rule matches the traffic of a walk.
    enum RuleMatch { case all, some, none }

    /// A part of the destinations ordinary traffic goes to, followed through the rules; `hostOnly`
    /// once an `iif lo` rule sent only the traffic this host sends on (forwarded traffic walks apart).
    struct OrdinaryTraffic: Equatable {
        var region: IPPrefix
        var hostOnly = false
    }

    /// The parts of `traffic` that `rule` matches, each with how: a `to` selector splits the
    /// region at its prefix, and a `not` turns each part around; a rule without one matches the
    /// whole region alike.
    static func ruleMatch(_ rule: PolicyRule, traffic: OrdinaryTraffic) -> [(OrdinaryTraffic, RuleMatch)] {
        guard rule.hasSelectors else { return [(traffic, rule.inverted ? .none : .all)] }
        var others = rule
        others.destination = nil
        let rest = selectorMatch(others)
        // Of the traffic the destination lets through: what the rule matches, after any `not`.
        // Traffic ordinary traffic is not (a mark) may still match where ordinary traffic does not,
        // so the rule then matches some traffic; only without other selectors is the answer exact.
        // A `not` of selectors that match none of it, or only a narrow part, matches all of it but
        // that part, which walks on apart as the marked traffic of `not fwmark` does.
        let plain: RuleMatch = rest == .all ? .all : .some
        let flipped: RuleMatch = !others.hasSelectors ? .none : rest == .none || (rest == .some && selectsNarrowly(others)) ? .all : .some
        guard let destination = rule.destination, destination.length > 0 else { return [(traffic, rule.inverted ? flipped : plain)] }
        var parts: [(OrdinaryTraffic, RuleMatch)] = []
        if let inside = intersection(traffic.region, destination) {
            parts.append((OrdinaryTraffic(region: inside, hostOnly: traffic.hostOnly), rule.inverted ? flipped : plain))
        }
        for outside in subtracting(destination, from: traffic.region) {
            parts.append((OrdinaryTraffic(region: outside, hostOnly: traffic.hostOnly), rule.inverted ? .all : .none))
        }
        return parts
    }

    /// How a rule matches traffic the walk follows apart (selected traffic): only a rule without
    /// selectors is sure to match all of it.
    static func ruleMatchOfSelected(_ rule: PolicyRule) -> RuleMatch {
        guard rule.hasSelectors else { return rule.inverted ? .none : .all }
        return .some
    }

    /// What a rule's selectors but its destination match of ordinary traffic, before `not`: a
    /// mark unmarked packets do not carry, a type of service other than 0, an `oif` and a
    /// `tun_id` (ordinary traffic carries no tunnel id, `fib_rule_match`) none of it;
    /// `iif lo`, a uid range of every valid uid (0–4294967294) and a port range of every port all
    /// of it; any other selector (a source, another input device, a protocol, …) some of it.
    static func selectorMatch(_ rule: PolicyRule) -> RuleMatch {
        var match = RuleMatch.all
        func narrow(_ by: RuleMatch) {
            if by == .none || match == .none { match = .none } else if by == .some { match = .some }
        }
        if rule.markMask != 0 { narrow(rule.mark & rule.markMask == 0 ? .all : .none) }
        if let source = rule.source, source.length > 0 { narrow(.some) }
        if let destination = rule.destination, destination.length > 0 { narrow(.some) }
        if rule.tos != 0 { narrow(.none) }
        if let input = rule.inputInterface { narrow(input == "lo" ? .all : .some) }
        if rule.outputInterface != nil || rule.tunnelID != nil { narrow(.none) }
        if let uids = rule.uidRange { narrow(uids.lowerBound == 0 && uids.upperBound >= 4_294_967_294 ? .all : .some) }
        if rule.ipProtocol != nil { narrow(.some) }
        for ports in [rule.sourcePorts, rule.destinationPorts].compactMap({ $0 }) { narrow(ports == 0...UInt16.max ? .all : .some) }
        if rule.l3mdev || rule.otherSelectors { narrow(.some) }
        return match
    }

    /// Whether the selectors of `rule` that match some ordinary traffic together match only a
    /// narrow part of it, a kind of traffic most of it is not, so that their `not` matches the
    /// rest, all of it but that part. A selector is narrow when it is: an input device other than
    /// lo (traffic forwarded from it, none of this host's own); a source prefix without the
    /// unspecified address (`0.0.0.0`, `::`), which the host's own lookups carry until a source is
    /// chosen; a uid range without uid 0 (root's traffic, and every forwarded packet's); a
    /// protocol other than TCP and UDP; or ports (one service's, or a few; under a mask, only one of
    /// at least 8 bits: `dport 0/0x1` takes half of them). A uid range with
    /// uid 0, TCP or UDP, a source prefix holding the unspecified address, `l3mdev` and selectors
    /// tunwarden does not name may match most of it, and their `not` only some.
    static func selectsNarrowly(_ rule: PolicyRule) -> Bool {
        if let source = rule.source, source.length > 0, !source.contains(IPPrefix(address: everywhere(source.family).address, length: source.family.bits)!) {
            return true
        }
        if let input = rule.inputInterface, input != "lo" { return true }
        if let uids = rule.uidRange, uids.lowerBound > 0 { return true }
        if let proto = rule.ipProtocol, proto != 6, proto != 17 { return true }
        // A masked port matches one port in 2^(bits of the mask): `dport 0/0x1` half of them. A
        // mask of at least 8 bits (one port in 256) is as narrow as a few ports.
        let whole = { (mask: UInt16?) in mask.map { $0.nonzeroBitCount >= 8 } ?? true }
        return (rule.sourcePorts.map { $0 != 0...UInt16.max && whole(rule.sourcePortMask) } ?? false)
            || (rule.destinationPorts.map { $0 != 0...UInt16.max && whole(rule.destinationPortMask) } ?? false)
    }

    /// Whether `rule` keeps what it matches of ordinary traffic to this host's own (`iif lo`):
    /// forwarded traffic passes it by.
    static func selectsHostTraffic(_ rule: PolicyRule) -> Bool {
        rule.inputInterface == "lo" && !rule.inverted
    }

    /// Whether `rule` has a selector besides its destination that some packet may fail (not a
    /// uid range of every valid uid, nor a port range of every port): traffic outside ordinary
    /// traffic (marked, forwarded, …) may then pass by a rule that matches all ordinary traffic.
    static func selectsBesidesDestination(_ rule: PolicyRule) -> Bool {
        var others = rule
        others.destination = nil
        if let uids = others.uidRange, uids.lowerBound == 0, uids.upperBound >= 4_294_967_294 { others.uidRange = nil }
        if others.sourcePorts == 0...UInt16.max { others.sourcePorts = nil }
        if others.destinationPorts == 0...UInt16.max { others.destinationPorts = nil }
        return others.hasSelectors
    }

    /// The part two prefixes share: the longer one when one holds the other, else nothing.
    static func intersection(_ a: IPPrefix, _ b: IPPrefix) -> IPPrefix? {
        b.contains(a) ? a : a.contains(b) ? b : nil
    }

    /// What is left of `region` without `prefix`, as disjoint prefixes: the region whole when they
    /// do not meet, nothing when the prefix holds it, else the sibling of each prefix on the way
    /// down from the region to it.
    static func subtracting(_ prefix: IPPrefix, from region: IPPrefix) -> [IPPrefix] {
        if prefix.contains(region) { return [] }
        guard region.contains(prefix) else { return [region] }
        return ((region.length + 1)...prefix.length).compactMap { length in
            guard var bytes = IPPrefix(address: prefix.address, length: length)?.address.bytes else { return nil }
            bytes[(length - 1) / 8] ^= UInt8(0x80 >> ((length - 1) % 8))
            return IPAddress(bytes: bytes).flatMap { IPPrefix(address: $0, length: length) }
        }
    }

    /// What is left of `region` without any of `prefixes`, as disjoint prefixes.
    static func subtracting(_ prefixes: [IPPrefix], from region: IPPrefix) -> [IPPrefix] {
        prefixes.reduce([region]) { left, prefix in left.flatMap { subtracting(prefix, from: $0) } }
    }

    /// The whole address space of `family` (`0.0.0.0/0`, `::/0`).
    static func everywhere(_ family: AddressFamily) -> IPPrefix {
        IPPrefix(address: IPAddress(bytes: [UInt8](repeating: 0, count: family == .inet ? 4 : 16))!, length: 0)!
    }
}
