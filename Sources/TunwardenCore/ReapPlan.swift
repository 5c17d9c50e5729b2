import Foundation

/// A reap plan: computed from a fresh assessment, printed before anything is done, executed only
/// after consent, and re-verified item by item right before acting.
public struct ReapPlan: Sendable, Equatable {
    public var items: [ReapItem]
    public var excluded: [ReapExclusion]

    /// The namespace the plan is for (nil: the caller's own).
    public var namespace: String?
    /// The identity of the namespace the plan was made in, one incarnation in one boot (see
    /// `NamespaceIdentity`): the reaper acts only in that one, not in one made again under its
    /// name since, whose devices were never seen orphaned however alike they are.
    public var namespaceIdentity: String
    public var madeAt: Date
    /// The `--protect` patterns the plan was made with: the reaper's last look asks them again of
    /// each target's names, which may have changed since (an alternative name added).
    public var protect: [String] = []
    /// Where the recreate commands make the devices again, as the reaper journals it: set for a
    /// plan of the live system (the caller's namespace identified by its name under /run/netns);
    /// nil: the namespace `namespace` names, or none.
    public var place: RecreatePlace?
    /// Whether the kernel of the namespace the plan was made in marks the addresses it makes
    /// (`Snapshot.kernelMarksAddresses`), which the recreate commands go by.
    public var kernelMarksAddresses = false
    /// `place`, or the one `namespace` names, with `kernelMarksAddresses`.
    public var recreatePlace: RecreatePlace {
        var recreated = place ?? RecreatePlace(namespace: namespace)
        recreated.kernelMarksAddresses = recreated.kernelMarksAddresses || kernelMarksAddresses
        return recreated
    }

    /// Leaves out the devices (by ifindex) that this run's repair of a killed reap could not give
    /// back whole (see `ReapExclusion.Reason.repairFailed`), and the pair peers planned with them.
    /// `interfaces`: the devices the plan was made from, where the peers are found.
    public mutating func leaveOut(repairFailed indexes: Set<Int>, interfaces: [NetworkInterface]) {
        guard !indexes.isEmpty else { return }
        for item in items where indexes.contains(item.interface.index) {
            excluded.append(ReapExclusion(ifname: item.ifname, reason: .repairFailed))
        }
        items.removeAll { indexes.contains($0.interface.index) }
        Self.keepPairsWhole(items: &items, excluded: &excluded, interfaces: interfaces)
    }

    /// Plans the removal of every orphan the heuristics call reapable, minus protected names,
    /// unselected kinds and orphans not yet seen orphaned for `policy.minimumAge`, and minus the
    /// side of a feth pair whose peer is kept for any of these (`keepPairsWhole`). It names too the
    /// single-queue devices whose fence would make routes live that the kernel passes by
    /// (`CarrierFence`), which the heuristics do not call reapable for that reason alone.
    ///
    /// An orphan's age counts on the snapshot's boot clock where it has one (its `agingClock`,
    /// read beside `now`; see `InterfaceObservation.orphanedAge`): a wall clock stepped forward
    /// makes no orphan reapable early, and one stepped back none late. `now`, the wall clock, only
    /// dates what is shown: "reapable at" is `now` plus the time still to wait.
    ///
    /// Only reapable findings whose rule deletes the interface (`orphaned-tun`, `orphaned-feth`),
    /// on interfaces in state `orphaned` with their holders known, are candidates; so an interface
    /// whose holders are unknown is never a target, and neither is a macOS tuntaposx device,
    /// which its kext owns. A rule that removes routes (`utun-hoard`; `split-default` and
    /// `dead-tunnel-route` into a closed tuntaposx device) plans its routes instead, one item per
    /// interface with the routes of every such finding.
    public static func make(_ assessment: Assessment, observations: Observations, namespaceKey: String,
                            policy: ReapPolicy, now: Date) -> ReapPlan {
        // An orphaned tun or tap that only its routes keep back (`CarrierFence`) is not reapable,
        // but the plan says why it leaves it alone.
        let reapable = Dictionary(
            assessment.findings.filter { ($0.reapable || $0.id == FindingID.orphanedTun) && FindingRules.rule($0.id)?.reap == .deleteInterface }
                .compactMap { finding in finding.ifname.map { ($0, finding) } },
            uniquingKeysWith: { first, _ in first }
        )
        var items: [ReapItem] = []
        var excluded: [ReapExclusion] = []
        /// Applies --protect, --only and the minimum age (`age`: how long it has been seen
        /// orphaned, or existed); records why an interface is left out and returns false, or
        /// returns true for a target.
        func admits(_ interface: NetworkInterface, age: TimeInterval) -> Bool {
            let name = interface.name
            if let pattern = Self.protectingPattern(policy.protect, names: [name] + interface.altNames) {
                excluded.append(ReapExclusion(ifname: name, reason: .protected(pattern: pattern)))
                return false
            }
            if let kinds = policy.onlyKinds, !kinds.contains(interface.kind) {
                excluded.append(ReapExclusion(ifname: name, reason: .kindNotSelected))
                return false
            }
            if age < policy.minimumAge {
                excluded.append(ReapExclusion(ifname: name, reason: .tooYoung(reapableAt: now.addingTimeInterval(policy.minimumAge - age))))
                return false
            }
            return true
        }
        for entry in assessment.interfaces where entry.state == .orphaned && entry.holdersKnown && entry.interface.kind.isTunnelStyle
            && entry.interface.tuntaposx == nil {
            guard let finding = reapable[entry.interface.name] else { continue }
            // Fenced by an attach, it would send the traffic of routes the kernel now passes by
            // into itself for as long as the fence holds: it is left alone whatever its age, and
            // named when nothing else keeps it back (the audit does not call it reapable).
            let woken = CarrierFence.woken(of: entry.interface, routes: entry.routes, policyRules: assessment.snapshot.policyRules)
            guard woken.isEmpty else {
                if finding.reapable || Heuristics.deletableDevice(entry.interface) {
                    excluded.append(ReapExclusion(ifname: entry.interface.name, reason: .carrierWouldWakeRoutes(woken)))
                }
                continue
            }
            guard finding.reapable else { continue }
            var observation = observations.observation(of: entry.interface, in: namespaceKey)
            // An observation of another device at this ifindex and name (recorded by another run
            // from facts older than these) gives this one no age: it waits out its own.
            if let seen = observation, !InterfaceObservation.replacement(of: seen, by: entry.interface).isEmpty { observation = nil }
            let age = observation?.orphanedAge(at: now, bootClock: assessment.snapshot.agingClock) ?? 0
            guard admits(entry.interface, age: age) else { continue }
            items.append(ReapItem(interface: entry.interface, evidence: finding.evidence, orphanedSince: observation?.orphanedSince ?? now,
                                  orphanedFor: age, routes: entry.routes))
        }
        // A feth or veth pair goes whole or not at all.
        keepPairsWhole(items: &items, excluded: &excluded, interfaces: assessment.snapshot.interfaces)
        // The routes of the devices to delete that share their key with another device's, which
        // their recreate commands add beside it: looked for among the routes of their prefixes only.
        let destinations = Set(items.flatMap { $0.routes.map(\.destination) })
        let candidates = destinations.isEmpty ? [] : assessment.snapshot.routes.filter { destinations.contains($0.destination) }
        for position in items.indices {
            items[position].sharedRouteKeys = RecreateCommands.sharedRouteKeys(of: items[position].interface.index, among: candidates)
        }
        // Hoarded idle utuns: their link-local routes, once the utun has existed for the minimum
        // age. Closed tuntaposx devices: the routes into them, once closed for the minimum age.
        // A second finding about an interface already planned adds its routes to that item.
        var planned: [Int: Int] = [:]
        var refused = Set<Int>()
        for finding in assessment.findings where finding.reapable && FindingRules.rule(finding.id)?.reap == .removeRoutes {
            let routes = finding.routes ?? []
            for entry in assessment.interfaces
            where entry.interface.kind == .utun || (entry.interface.tuntaposx == .closed && entry.state == .orphaned) {
                let own = routes.filter { route in route.nextHops.contains { $0.interfaceName == entry.interface.name } }
                guard !own.isEmpty, !refused.contains(entry.interface.index) else { continue }
                if let item = planned[entry.interface.index] {
                    items[item].routes += own.filter { !items[item].routes.contains($0) }
                    items[item].evidence += " " + finding.evidence
                    continue
                }
                // An idle utun's age counts from when it was first seen; a closed device's from
                // when it was first seen closed. (Both are macOS's, whose snapshots carry no boot
                // clock: these ages are the wall clock's.)
                let observation = observations.observation(of: entry.interface, in: namespaceKey)
                let age = (entry.interface.kind == .utun ? observation.map { now.timeIntervalSince($0.firstSeen) }
                    : observation?.orphanedAge(at: now, bootClock: assessment.snapshot.agingClock)) ?? 0
                guard admits(entry.interface, age: age) else {
                    refused.insert(entry.interface.index)
                    continue
                }
                planned[entry.interface.index] = items.count
                items.append(ReapItem(action: .removeRoutes, interface: entry.interface, evidence: finding.evidence, orphanedSince: nil,
                                      routes: own, holders: entry.holders))
            }
        }
        var plan = ReapPlan(items: items, excluded: excluded, namespace: assessment.snapshot.namespace, namespaceIdentity: namespaceKey, madeAt: now)
        plan.protect = policy.protect
        plan.kernelMarksAddresses = assessment.snapshot.kernelMarksAddresses
        return plan
    }

    /// The first of `patterns` that matches any of a device's `names` (its name and its
    /// alternative names, each of which the kernel takes for it wherever a device is named), or
    /// nil: a device is protected when any of its names matches.
    public static func protectingPattern(_ patterns: [String], names: [String]) -> String? {
        guard !patterns.isEmpty else { return nil }
        return patterns.first { pattern in names.contains { Glob.matches(pattern, $0) } }
    }

    /// "Would delete tun kure_tun (ifindex 7): persistent, no process attached, orphaned for 3h;
    /// its routes 0.0.0.0/1, 128.0.0.0/1, local default table 100 go with it".
    public static func describe(_ item: ReapItem, now: Date, conditional: Bool) -> String {
        let interface = item.interface
        if item.action == .removeRoutes, interface.tuntaposx != nil {
            return "\(conditional ? "Would remove" : "Removing") \(item.routes.count) route\(item.routes.count == 1 ? "" : "s") into closed \(interface.kind.rawValue) \(interface.name): \(item.routes.map(\.display).joined(separator: ", ")); \(interface.name) itself stays, since tuntaposx's kext owns it"
        }
        if item.action == .removeRoutes {
            let holders = item.holders.isEmpty ? "its holder" : item.holders.map(\.display).joined(separator: " and ")
            return "\(conditional ? "Would remove" : "Removing") \(item.routes.count) link-local route\(item.routes.count == 1 ? "" : "s") of idle \(interface.kind.rawValue) \(interface.name): \(item.routes.map(\.display).joined(separator: ", ")); the \(interface.kind.rawValue) itself stays until \(holders) \(item.holders.count > 1 ? "close" : "closes") it"
        }
        if interface.kind == .feth {
            let peer = interface.peerName.map { " (peer \($0))" } ?? ""
            return "\(conditional ? "Would destroy" : "Destroying") feth \(interface.name)\(peer): no process that owns feth pairs is running"
        }
        var text = "\(conditional ? "Would delete" : "Deleting") \(interface.kind.rawValue) \(interface.name) (ifindex \(interface.index)): "
        text += interface.tun?.persistent == true ? "persistent, no process attached" : "no process attached"
        if let age = item.orphanedFor ?? item.orphanedSince.map({ now.timeIntervalSince($0) }), age >= 1 {
            text += ", orphaned for \(DurationText.format(age))"
        }
        // Every route the kernel deletes with the device is named but those it made itself for
        // its addresses (as the recreate commands leave them out), which go with the addresses: a
        // `local` or `multicast` route made by hand (a TPROXY catch-all) goes too. A route of
        // another type is named with its type, one of another table with it, as the audit's
        // finding names it: two routes of one prefix in two tables are two routes.
        let routes = item.routes.filter { !($0.routeProtocol == .kernel && RecreateCommands.kernelMade($0, of: interface)) }.map {
            ($0.type == .unicast ? "" : "\($0.type) ") + ($0.destination.length == 0 ? "default" : $0.destination.description)
                + ($0.table == .main ? "" : " table \($0.table)")
        }
        let addresses = item.interface.addresses.map(\.display)
        var goes: [String] = []
        if !routes.isEmpty { goes.append("its route\(routes.count == 1 ? "" : "s") \(routes.joined(separator: ", "))") }
        if !addresses.isEmpty { goes.append("its address\(addresses.count == 1 ? "" : "es") \(addresses.joined(separator: ", "))") }
        if !goes.isEmpty { text += "; \(goes.joined(separator: " and ")) go\(goes.count == 1 && routes.count + addresses.count == 1 ? "es" : "") with it" }
        return text
    }
}

/// Shell patterns as fnmatch(3) reads them with no flags, matched against a name's kernel bytes:
/// `*` any run of bytes, `?` one byte, `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`) one byte of a set,
/// and a backslash makes the next character literal, inside brackets too. A `[` without its `]`
/// is itself. The name is the `InterfaceName` text tunwarden carries; it is matched as the bytes
/// that text stands for, so `?` matches a byte that is not UTF-8 just as it matches a letter.
/// `\xHH` (two hex digits) in a pattern is the byte HH, as names are shown: a name copied from
/// tunwarden's output matches itself, and so does a pattern given in the name's own bytes (the
/// command line writes those that are not UTF-8 so, see `pattern(fromArgument:)`).
public enum Glob {
    /// What in `pattern` is almost certainly a slip, in words, or nil: a `[` with no `]` to close
    /// it (fnmatch then takes it as itself, so `tun[0-9` protects only a name with a bracket in
    /// it), or a trailing backslash (which matches nothing).
    public static func slip(in pattern: String) -> String? {
        let p = Array(pattern.utf8)
        var i = 0
        while i < p.count {
            switch p[i] {
            case UInt8(ascii: "\\"):
                if i + 1 == p.count { return "it ends with a backslash, which matches nothing" }
                i += 2
            case UInt8(ascii: "["):
                var j = i + 1
                if j < p.count, p[j] == UInt8(ascii: "!") || p[j] == UInt8(ascii: "^") { j += 1 }
                // A "]" right after the opening is one of the set, as is a class like "[:alpha:]".
                if j < p.count, p[j] == UInt8(ascii: "]") { j += 1 }
                while j < p.count, p[j] != UInt8(ascii: "]") {
                    if p[j] == UInt8(ascii: "["), j + 1 < p.count, p[j + 1] == UInt8(ascii: ":"),
                       let close = (j + 2..<max(j + 2, p.count - 1)).first(where: { p[$0] == UInt8(ascii: ":") && p[$0 + 1] == UInt8(ascii: "]") }) {
                        j = close + 2
                        continue
                    }
                    j += p[j] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard j < p.count else {
                    return "its '[' has no ']' to close it, so it would match only a name with a '[' in it (write '\\[' for that)"
                }
                i = j + 1
            default:
                i += 1
            }
        }
        return nil
    }

    public static func matches(_ pattern: String, _ name: String) -> Bool {
        matches(pattern: bytes(of: pattern), name: InterfaceName.kernelBytes(name))
    }

    /// The pattern as fnmatch reads it: `\xHH` becomes the byte HH, escaped, so that it is
    /// itself even where it is `*`, `?` or `[`.
    static func bytes(of pattern: String) -> [UInt8] {
        let utf8 = Array(pattern.utf8)
        guard utf8.contains(0x5c) else { return utf8 }
        var bytes: [UInt8] = []
        var position = 0
        while position < utf8.count {
            if utf8[position] == 0x5c, position + 3 < utf8.count, utf8[position + 1] == UInt8(ascii: "x"),
               let high = InterfaceName.hexValue(utf8[position + 2]), let low = InterfaceName.hexValue(utf8[position + 3]) {
                bytes += [0x5c, high << 4 | low]
                position += 4
            } else if utf8[position] == 0x5c, position + 1 < utf8.count {
                // An escape and what it escapes, as they are: `\\x41` is a backslash, then `x41`.
                bytes += utf8[position...position + 1]
                position += 2
            } else {
                bytes.append(utf8[position])
                position += 1
            }
        }
        return bytes
    }

    /// A pattern given as a command-line argument's bytes, as text this type reads: each byte that
    /// is not UTF-8 written `\xHH`, as `InterfaceName.text(_:)` writes it, rather than lost to
    /// U+FFFD. A backslash right before such a byte escaped it, as fnmatch reads it; `\xHH` is
    /// already that byte as itself, so the backslash goes (`vm\<0xff>0` matches `vm<0xff>0` as
    /// fnmatch would).
    public static func pattern(fromArgument bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var text = ""
        var escaping = false
        var position = 0
        while position < bytes.count {
            let length = InterfaceName.scalarLength(bytes, at: position)
            if length > 0 {
                text += String(decoding: bytes[position..<position + length], as: UTF8.self)
                escaping = bytes[position] == 0x5c ? !escaping : false
                position += length
            } else {
                if escaping { text.removeLast() }
                text += InterfaceName.escape(bytes[position])
                escaping = false
                position += 1
            }
        }
        return text
    }

    /// The pattern as people are shown it: a character that is not printable as its UTF-8 bytes
    /// in `\xHH` (which the pattern reads as those bytes), never a raw control character.
    public static func display(_ pattern: String) -> String {
        InterfaceName.escaping(pattern) { !InterfaceName.isPrintable($0) }
    }

    /// fnmatch(3) on bytes: the pattern's bytes against the name's.
    public static func matches(pattern p: [UInt8], name s: [UInt8]) -> Bool {
        var pi = 0, si = 0
        // Where to resume after the last `*`: the pattern just past it, and the name position it
        // has swallowed up to. Resuming from the last star is enough: a later star can match
        // anything an earlier one could.
        var starP = -1, starS = -1
        while si < s.count {
            if pi < p.count, p[pi] == UInt8(ascii: "*") {
                starP = pi + 1
                starS = si
                pi += 1
                continue
            }
            if pi < p.count, let next = single(p, pi, s[si]) {
                pi = next
                si += 1
                continue
            }
            guard starP >= 0 else { return false }
            pi = starP
            starS += 1
            si = starS
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Where the next pattern element starts when the element at `pi` matches `c`; nil when it
    /// does not.
    private static func single(_ p: [UInt8], _ pi: Int, _ c: UInt8) -> Int? {
        let backslash = UInt8(ascii: "\\")
        switch p[pi] {
        case UInt8(ascii: "?"):
            return pi + 1
        case backslash:
            // A trailing backslash escapes nothing and matches nothing, as in glibc.
            guard pi + 1 < p.count else { return nil }
            return p[pi + 1] == c ? pi + 2 : nil
        case UInt8(ascii: "["):
            var i = pi + 1
            var negate = false
            if i < p.count, p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^") {
                negate = true
                i += 1
            }
            var matched = false
            var first = true
            while i < p.count, p[i] != UInt8(ascii: "]") || first {
                first = false
                var low = p[i]
                if low == backslash, i + 1 < p.count {
                    i += 1
                    low = p[i]
                }
                // A range whose end is the end of the pattern matches nothing, as in glibc, unless it
                // starts at a "[" (glibc then finds the bracket unterminated: the "[" is itself).
                if i + 2 == p.count, p[i + 1] == UInt8(ascii: "-"), low != UInt8(ascii: "[") { return nil }
                if i + 2 < p.count, p[i + 1] == UInt8(ascii: "-"), p[i + 2] != UInt8(ascii: "]") {
                    var high = p[i + 2]
                    var end = i + 3
                    if high == backslash, i + 3 < p.count {
                        high = p[i + 3]
                        end = i + 4
                    }
                    if low <= c, c <= high { matched = true }
                    i = end
                } else {
                    if low == c { matched = true }
                    i += 1
                }
            }
            // No closing bracket: the "[" is itself.
            guard i < p.count else { return c == UInt8(ascii: "[") ? pi + 1 : nil }
            return matched != negate ? i + 1 : nil
        default:
            return p[pi] == c ? pi + 1 : nil
        }
    }
}
