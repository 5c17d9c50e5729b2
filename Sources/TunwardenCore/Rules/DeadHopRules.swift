import Foundation

/// Judging multipath routes that leave partly through dead tunnels. The kernel hashes each flow
/// of a multipath route onto one of its next hops, weighted, and passes by only the hops it
/// flags dead (RTNH_F_DEAD: the device is down, or has no carrier while
/// `ignore_routes_with_linkdown` is set). A hop through a tunnel that is merely without carrier
/// keeps its share (`fib_select_multipath`, IPv6's sibling selection), so that share of the
/// route's connections is sent into a device nobody reads: a partial blackhole, which no other
/// finding names, since `dead-tunnel-route` counts only routes all of whose hops are dead. The
/// finding, dead-tunnel-hop, is declared with the other route findings in RouteRules.swift.
extension Heuristics {
    /// One finding per unicast route some, not all, of whose next hops leave through a dead
    /// tunnel (`deadPosition`: the dead tunnels' positions in `interfaces`, by ifindex) that the
    /// kernel sends flows over, or may (`hopFlows`; `up`: whether each hop's device is up). It
    /// names the route, the dead hops and the share of the route's flows they take: their
    /// weights over the total weight of the hops the kernel sends flows over. Critical when the
    /// routes of a family and table with such hops would, ranked against every other route of
    /// that table (`others`) as `dead-tunnel-route` ranks dead ones, capture default traffic,
    /// this route is not outranked and takes all traffic to its destination, and whether each of
    /// its hops takes flows is known: that share of every connection leaving the host then
    /// breaks. Where it is not known, the finding says the dead hops *may* take up to their
    /// largest possible share, why that is unknown and what settles it, and is a warning: the
    /// kernel's forwarding may prove it wrong. Otherwise a warning. Never reapable: for IPv4 the
    /// kernel deletes a multipath route whole with any of its devices, live hops included (so
    /// the tap is `suspect` and reap leaves it alone), and the text gives the `ip route replace`
    /// that drops the dead hops; for IPv6 deleting the device drops only its hop, which an
    /// orphan's own `orphaned-tun` finding offers.
    static func deadHopFindings(_ partial: [Route], others: [Route], interfaces: [AssessedInterface], deadPosition: [Int: Int],
                                up: [Int: Bool] = [:], snapshot: Snapshot) -> [Finding] {
        guard !partial.isEmpty else { return [] }
        func isDeadHop(_ hop: NextHop) -> Bool { hop.interfaceIndex.map { deadPosition[$0] != nil } ?? false }
        func weight(_ hops: [NextHop]) -> Int { hops.reduce(0) { $0 + max(1, $1.weight ?? 1) } }
        let partialByGroup = Dictionary(grouping: partial, by: RouteGroup.init)
        var othersByGroup: [RouteGroup: [Route]] = [:]
        for route in others where partialByGroup[RouteGroup(route)] != nil { othersByGroup[RouteGroup(route), default: []].append(route) }
        var rankings: [RouteGroup: DeadRouteRanking] = [:]
        for (key, routes) in partialByGroup { rankings[key] = rankDead(routes, live: othersByGroup[key] ?? []) }
        let ip = snapshot.namespace.map { "ip -n \(ShellWord.quote(Array($0.utf8)))" } ?? "ip"

        var findings: [Finding] = []
        for route in partial {
            let key = RouteGroup(route)
            let ranking = rankings[key] ?? DeadRouteRanking()
            let flows = route.nextHops.map { hopFlows($0, of: route, up: up) }
            let counted = zip(route.nextHops, flows).filter { $0.1 != .no }.map(\.0)
            let unknown = zip(route.nextHops, flows).filter { $0.1 == .unknown }.map(\.0)
            let dead = counted.filter(isDeadHop)
            guard !dead.isEmpty else { continue }
            // Where some hop may or may not take flows, the dead hops' largest possible share:
            // every hop in doubt that is dead taking flows, every one that is live not.
            let total = unknown.isEmpty ? weight(counted) : weight(dead) + weight(counted.filter { !isDeadHop($0) && !unknown.contains($0) })
            let taken = weight(dead)
            let share = Double(taken) / Double(max(1, total))
            // The dead devices, once each, in the order of their hops.
            var devices: [AssessedInterface] = []
            for hop in dead {
                guard let index = hop.interfaceIndex, let position = deadPosition[index],
                      !devices.contains(where: { $0.interface.index == index }) else { continue }
                devices.append(interfaces[position])
            }
            guard let first = devices.first else { continue }
            let outranked = ranking.outranked.contains(route)
            let captures = ranking.alone >= 255.0 / 256.0 && ranking.taken >= 0.5 && !outranked && takesAllTraffic(route)
            let family = route.family == .inet ? "IPv4" : "IPv6"
            func device(_ hop: NextHop) -> String {
                hop.interfaceIndex.flatMap { deadPosition[$0] }.map { interfaces[$0].interface.name } ?? hop.interfaceName ?? "?"
            }
            let hopWords = dead.map { hop in (hop.gateway.map { "via \($0) " } ?? "") + "dev \(device(hop)) weight \(max(1, hop.weight ?? 1))" }
            let deviceWords = devices.map { entry in
                "\(entry.interface.kind.rawValue) \(entry.interface.name), which " + (entry.state == .orphaned ? "is orphaned (no process attached)" : "has no carrier")
            }
            let one = dead.count == 1
            var evidence = "\(route.display) \(unknown.isEmpty ? "sends" : "may send up to") \(percent(share)) of its flows into "
                + deviceWords.joined(separator: " and ") + ": next hop\(one ? "" : "s") " + hopWords.joined(separator: ", ")
                + ", of a total weight of \(total)\(unknown.isEmpty ? "" : " over the hops that may take flows"). "
                + "The kernel hashes each flow onto one next hop, passing by those it shared out nothing to (on a device that is down, or without carrier "
                + "while ignore_routes_with_linkdown was set when it last shared out the route's flows), so the connections hashed onto "
                + "\(one ? "this one" : "these") \(unknown.isEmpty ? "are" : "would be") blackholed while the others work."
            evidence += hopFlowsSentences(route, counted: counted, unknown: unknown, device: device)
            // Where the IPv6 router preference settled this route's prefix against a live route
            // of the same metric. (A multipath route's devices are its hops', named above.)
            let preferred = preferenceSentence(ranking.preferenceDecided.filter { $0.dead == route }, deadDevice: nil).map { " " + $0 } ?? ""
            if captures {
                let all = ranking.taken >= 255.0 / 256.0
                let rest = all || ranking.winnerCount == 0 ? "" : " (\(winnerNoun(ranking)) of \(tableName(key.table)) win the rest: \(winnerList(ranking)))"
                let whole = all ? "all" : "\(percent(ranking.taken)) of"
                evidence += " It carries \(whole) \(family) traffic that would take the default route\(rest), so "
                    + (unknown.isEmpty ? "\(percent(share)) of those connections fail, " : "if the kernel hashes flows onto the hops in doubt, up to \(percent(share)) of those connections fail, ")
                    + "by flow, with no clean outage to notice." + preferred
            } else if outranked {
                evidence += " \(ranking.winnerWithoutDevice ? "Other routes" : "Live routes") of \(tableName(key.table)) outrank it (\(winnerList(ranking))): no traffic takes it while those stay, but it takes over if they go." + preferred
            } else if !takesAllTraffic(route) {
                evidence += " It takes only packets " + (route.tos != 0 ? "of that tos" : "") + (route.tos != 0 && route.source != nil ? " and " : "")
                    + (route.source != nil ? "from those sources" : "") + "."
            }
            evidence += " " + deadHopRemedy(route, dead: dead, devices: devices, ip: ip)
            findings.append(Finding(id: FindingID.deadTunnelHop, severity: captures && unknown.isEmpty ? .critical : .warning,
                                    ifname: first.interface.name, reapable: false, evidence: evidence, routes: [route]))
        }
        return findings
    }

    /// How to take the dead hops out of `route`, as the kernel allows it: an IPv4 multipath
    /// route is deleted whole with any of its devices, so it is replaced without them; an IPv6
    /// one loses only the hop of a device deleted, and a hop can be deleted alone. A route
    /// through a nexthop object is changed through the object's group.
    static func deadHopRemedy(_ route: Route, dead: [NextHop], devices: [AssessedInterface], ip: String) -> String {
        let names = devices.map(\.interface.name).joined(separator: ", ")
        let them = devices.count == 1 ? "it" : "them"
        if let object = route.nexthopObject {
            return "The route uses nexthop object \(object): take the dead hop\(dead.count == 1 ? "" : "s") out of its group (`\(ip) nexthop replace id \(object) group …` without \(dead.count == 1 ? "it" : "them"))"
                + (route.family == .inet ? "." : ", or delete \(names), which takes \(dead.count == 1 ? "its hop" : "their hops") out of the group.")
        }
        if route.family == .inet {
            var kept = route
            kept.nextHops = route.nextHops.filter { hop in !dead.contains(hop) }
            // A hop kept alone becomes the route's one path: its encapsulation and realms become
            // the route's, where `ip route` writes them for a route of one path.
            if kept.nextHops.count == 1 {
                let hop = kept.nextHops[0]
                if let encapsulation = hop.encapsulation { kept.encapsulation = encapsulation }
                if let realms = hop.realms, realms != 0 { kept.realms = realms }
                kept.nextHops[0].encapsulation = nil
                kept.nextHops[0].realms = nil
            }
            var unwritten = kept.nextHops.compactMap { hop in hop.encapsulation?.unwritten.map { (hop, $0) } }
            if let what = kept.encapsulation?.unwritten, let hop = kept.nextHops.first { unwritten.append((hop, what)) }
            if let (hop, what) = unwritten.first {
                return "Do not delete \(names) to fix it: the kernel would delete this IPv4 multipath route whole with \(them), live hops included, "
                    + "so reap leaves \(them) alone. Replace the route without the dead hop\(dead.count == 1 ? "" : "s") (`\(ip) route replace` with the hops kept); "
                    + "no command is given here, because the kept hop \(hop.gateway.map { "via \($0) " } ?? "")dev \(hop.interfaceName ?? "?") "
                    + "had \(what), which one written here would leave out."
            }
            var fix = ""
            if let hop = kept.nextHops.first, let index = hop.interfaceIndex {
                // Written as the recreate commands write a route, but for the device of the hop kept.
                let device = NetworkInterface(index: index, name: hop.interfaceName ?? "\(index)", kind: .other)
                var keys = Set<String>()
                if let line = RecreateCommands.routeLines(kept, of: device, ip: ip, keys: &keys).last {
                    fix = ": `" + line.replacingOccurrences(of: "\(ip) route add ", with: "\(ip) route replace ") + "`"
                }
            }
            return "Do not delete \(names) to fix it: the kernel would delete this IPv4 multipath route whole with \(them), live hops included, "
                + "so reap leaves \(them) alone. Replace the route without the dead hop\(dead.count == 1 ? "" : "s")\(fix)."
        }
        let orphaned = devices.allSatisfy { $0.state == .orphaned }
        let deletes = dead.map { hop in
            var words = "\(ip) -6 route del \(route.destination)"
            if let source = route.source { words += " from \(source)" }
            if let gateway = hop.gateway { words += " via \(gateway)" }
            let device = devices.first { $0.interface.index == hop.interfaceIndex }?.interface.name ?? hop.interfaceName ?? "?"
            words += " dev \(ShellWord.quote(InterfaceName.kernelBytes(device)))"
            if route.table != .main { words += " table \(route.table)" }
            if let metric = route.metric { words += " metric \(metric)" }
            return "`\(words)`"
        }
        return "Deleting \(names) takes out just \(devices.count == 1 ? "its hop" : "their hops"): the kernel keeps an IPv6 multipath route's other hops"
            + (orphaned ? ", so reaping \(them) fixes this" : "")
            + ". Or delete the dead hop\(dead.count == 1 ? "" : "s") alone: " + deletes.joined(separator: "; ") + "."
    }
}
