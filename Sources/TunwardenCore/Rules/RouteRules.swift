import Foundation

extension FindingRules {
    /// The findings about routes: the first three Linux's too, the rest macOS's alone.
    static let routes: [FindingRule] = [
        FindingRule(id: FindingID.deadTunnelRoute, severity: "critical when it captures default traffic, else warning", reap: .removeRoutes, scope: .snapshot,
                    summary: "unicast routes whose every next hop leaves through an orphaned tunnel or one without carrier; macOS: routes into a tunnel that is gone or listed but down, or into a closed tuntaposx tun or tap, which are reapable"),
        FindingRule(id: FindingID.deadTunnelHop, severity: "critical when the routes with such hops capture default traffic as dead-tunnel-route counts it and the hops' share is known, else warning", reap: nil, scope: .snapshot,
                    summary: "multipath routes some, not all, of whose next hops leave through an orphaned tunnel or one without carrier that the kernel hashes flows onto, as route lookups show, or may: that share of the route's flows is blackholed"),
        FindingRule(id: FindingID.splitDefault, severity: "info into a live tunnel, critical into one that is gone, closed or down", reap: .removeRoutes, scope: .snapshot,
                    summary: "more-specific routes that capture default traffic, or a sizeable part of it, into one tunnel; a default route into one that is gone; macOS: either into a tunnel that is listed but down; either into a closed tuntaposx tun or tap, which are reapable"),
        FindingRule(id: FindingID.defaultViaTunnel, severity: "info through a tunnel a live VPN client holds that replaces the default route, else warning", reap: nil, scope: .snapshot,
                    summary: "macOS: the only default route leaves through a feth or utun while a physical interface has none"),
    ]
}

/// Judging routes: into dead tunnels, split defaults, and defaults that leave only through a tunnel.
extension Heuristics {
    /// Split defaults, and on macOS every route into a tunnel that leads nowhere: one that is
    /// gone, or a tuntaposx device that is closed (nobody has /dev/tunN open). The routes into a
    /// closed one are judged as a gone tunnel's, and since the interface is still there to
    /// remove them from, those findings are reapable: the plan removes the routes, never the
    /// interface (see `judgeTuntaposx`).
    static func splitDefaultFindings(_ interfaces: [AssessedInterface], snapshot: Snapshot) -> [Finding] {
        let goneDefaults = goneDefaultFindings(snapshot)
        let closed = snapshot.platform == .darwin ? closedTuntaposx(in: interfaces.lazy.map(\.interface)) : []
        // General default routes into a tunnel that is gone or closed which `goneDefaultFindings`
        // does not judge, since another general default of the family is read beside them (two
        // moments' tables run together): whatever takes them is blackholed all the same.
        var strayDefaults: [String: [Route]] = [:]
        if snapshot.platform == .darwin, snapshot.interfacesKnown || !snapshot.goneInterfaces.isEmpty || !closed.isEmpty {
            let existing = Set(snapshot.interfaces.map(\.name))
            for route in snapshot.routes where route.type == .unicast && route.destination.length == 0 && !route.isInterfaceScoped
                && !goneDefaults.contains(where: { $0.routes?.contains(route) == true }) {
                let names = Set(route.nextHops.compactMap(\.interfaceName))
                if names.count == 1, let name = names.first, !isSystemInterfaceName(name), closed.contains(name) || snapshot.isGone(name, existing: existing) {
                    strayDefaults[name, default: []].append(route)
                }
            }
        }
        // (A route scoped to its interface, flag I, is kept in that interface's scoped table and
        // serves only traffic already bound to it: it captures no default traffic, however wide,
        // and says nothing of where the rest goes. Whatever the split, it is left out.)
        let unicast = snapshot.routes.filter { $0.type == .unicast && $0.destination.length > 0 && !$0.isInterfaceScoped }
        guard !unicast.isEmpty else {
            return goneDefaults + strayDefaults.keys.sorted().compactMap {
                goneTunnelRoutes(strayDefaults[$0] ?? [], into: $0, snapshot: snapshot, closed: closed.contains($0))
            }
        }
        // Routes are few and interfaces may be tens of thousands: look up only the interfaces
        // routes name, by position, without copying any.
        let needsIndexNames = unicast.contains { $0.nextHops.contains { $0.interfaceName == nil && $0.interfaceIndex != nil } }
        let nameByIndex = needsIndexNames
            ? Dictionary(snapshot.interfaces.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a }) : [:]
        var routeNames: [(route: Route, name: String)] = []
        for route in unicast {
            let names = Set(route.nextHops.compactMap { hop in hop.interfaceName ?? hop.interfaceIndex.flatMap { nameByIndex[$0] } })
            if names.count == 1, let name = names.first { routeNames.append((route, name)) }
        }
        let wanted = Set(routeNames.map(\.name))
        // Where every hop carries an index (Linux), its name was given by that index: interfaces
        // are ruled out by index, far cheaper than hashing tens of thousands of names.
        let indexed = unicast.allSatisfy { $0.nextHops.allSatisfy { $0.interfaceIndex != nil } }
        let wantedIndices = indexed ? Set(unicast.flatMap { $0.nextHops.compactMap(\.interfaceIndex) }) : []
        /// The positions of a list of interfaces that may hold a wanted name, in list order.
        func candidates(count: Int, indexAt: @escaping (Int) -> Int) -> [Int] {
            guard indexed else { return Array(0..<count) }
            let positions = IndexPositions(count: count, indexAt: indexAt)
            return wantedIndices.compactMap(positions.position(of:)).sorted()
        }
        var byName: [String: AssessedInterface] = [:]
        for position in candidates(count: interfaces.count, indexAt: { interfaces[$0].interface.index })
        where wanted.contains(interfaces[position].interface.name) {
            byName[interfaces[position].interface.name] = byName[interfaces[position].interface.name] ?? interfaces[position]
        }
        var known = Set<String>()
        for position in candidates(count: snapshot.interfaces.count, indexAt: { snapshot.interfaces[$0].index })
        where wanted.contains(snapshot.interfaces[position].name) {
            known.insert(snapshot.interfaces[position].name)
        }
        var groups: [String: [Route]] = [:]
        for (route, name) in routeNames {
            let tunnel = byName[name] != nil || snapshot.isGone(name, existing: known)
            if tunnel { groups["\(name)|\(route.family.rawValue)|\(route.table)", default: []].append(route) }
        }
        var findings: [Finding] = []
        // The routes into each tunnel that is gone that no split-default finding names.
        var leftOver: [String: [Route]] = [:]
        // The routes into each tunnel that is listed but down that no split-default finding names.
        var downLeftOver: [String: [Route]] = [:]
        for key in groups.keys.sorted() {
            guard let grouped = groups[key] else { continue }
            let name = String(key.split(separator: "|")[0])
            // (A closed tuntaposx device is judged as gone: nothing reads what is sent into it.)
            let closedHere = closed.contains(name)
            let family = grouped[0].family == .inet ? "IPv4" : "IPv6"
            var routes = grouped
            let whole = defaultShare(of: routes.map(\.destination)) >= 255.0 / 256.0
            var share = 1.0
            // The pieces a split default is made of: prefixes of /1 to /8 of the space default
            // traffic goes to (8/5, 64/2, 128.0/1 of the 1/8 … 128/1 cascade; for IPv6 within or
            // around 2000::/3, such as `::/1` and `8000::/1`, not a ULA's fc00::/7), not the
            // tunnel's own subnet and host routes.
            let pieces = grouped.filter { route in
                (1...8).contains(route.destination.length)
                    && (defaultShare(of: [route.destination]) > 0 || (route.family == .inet6 && !Self.localIPv6.contains { $0.contains(route.destination) }))
            }
            if whole {
                if defaultShare(of: pieces.map(\.destination)) >= 255.0 / 256.0 { routes = pieces }
            } else {
                routes = pieces
                share = defaultShare(of: routes.map(\.destination))
            }
            // A tunnel the listing shows down sends nothing, as one that is gone: judged so.
            let downHere = snapshot.platform == .darwin && !closedHere && byName[name].map { entry in
                !isDead(entry) && snapshot.interfaces.first { $0.name == name }.map { isListedDown($0, snapshot: snapshot) } == true
            } == true
            if byName[name] == nil || closedHere || downHere {
                let named = whole || share >= 1.0 / 16.0 ? routes : []
                let rest = grouped.filter { route in !named.contains { $0 == route } }
                if downHere { downLeftOver[name, default: []] += rest } else { leftOver[name, default: []] += rest }
            }
            guard whole || share >= 1.0 / 16.0 else { continue }
            let list = routes.map(\.display).joined(separator: ", ")
            let percent = "\(Int((share * 100).rounded(.down)))% of \(family)\(grouped[0].family == .inet6 ? " (of its internet addresses, 2000::/3)" : "")"
            let removal = snapshot.platform == .darwin ? " Remove \(routes.count == 1 ? "it" : "them") with:" : ""
            let commands = snapshot.platform != .darwin ? []
                : uniqued(routes.map { DarwinCommands.asRoot(DarwinCommands.deleteText($0, interface: name, present: byName[name] != nil || closedHere)) })
            if downHere {
                findings.append(downSplitDefault(routes, into: name, whole: whole, share: share, percent: percent, commands: commands))
            } else if let entry = byName[name], !closedHere {
                guard !isDead(entry) else { continue }
                let what = "\(entry.interface.kind.rawValue) \(name)"
                let holders = entry.holders.isEmpty ? "" : ", held by \(entry.holders.map(\.display).joined(separator: ", "))"
                // A utun the capture lists is held by some process (the kernel keeps none otherwise),
                // so its routes lead somewhere; one seen only in routes may not.
                let alive = entry.state == .live
                if whole {
                    let unknown = alive ? "" : " Whether \(name) is still in use is unknown from this capture (\(entry.reason))."
                    findings.append(Finding(
                        id: FindingID.splitDefault, severity: .info, ifname: name, reapable: false,
                        evidence: "All \(family) traffic that would take the default route goes into \(what)\(holders), through \(routes.count) more-specific route\(routes.count == 1 ? "" : "s"): \(list). This is how VPNs and proxies take all traffic without touching the default route.\(unknown)",
                        routes: routes
                    ))
                } else if let leftOut = routesLeftOut(into: name, of: [grouped[0].family], snapshot: snapshot) {
                    // Half a split default read from a listing that may leave the other half out
                    // (cut by `| head`, `^C` or the paste's end, a row that could not be read) is
                    // no residue: the rest may go into the tunnel too, unseen.
                    findings.append(Finding(
                        id: FindingID.splitDefault, severity: .info, ifname: name, reapable: false,
                        evidence: "\(routes.count) more-specific route\(routes.count == 1 ? " (\(list)) takes" : "s (\(list)) take") \(percent) into \(what)\(holders). Whether the rest of a split default goes into it too is unknown, since \(leftOut): the other half may be in a route the capture does not show. Nothing here is known to be the residue of a split default.",
                        routes: routes
                    ))
                } else if alive || !entry.holders.isEmpty {
                    findings.append(Finding(
                        id: FindingID.splitDefault, severity: .info, ifname: name, reapable: false,
                        evidence: "\(routes.count) more-specific route\(routes.count == 1 ? " (\(list)) takes" : "s (\(list)) take") \(percent) into \(what)\(holders); the rest follows the default route. Pieces of a split default like these are what a VPN or proxy adds to take part of the traffic.",
                        routes: routes
                    ))
                } else {
                    findings.append(Finding(
                        id: FindingID.splitDefault, severity: .warning, ifname: name, reapable: false,
                        prose: "\(routes.count) more-specific route\(routes.count == 1 ? " (\(list)) takes" : "s (\(list)) take") \(percent) into \(what), the residue of a split default (a proxy or VPN that died mid-cleanup, or routes removed by hand). Whether \(name) is still in use is unknown from this capture (\(entry.reason)); if its app is not running, that traffic goes nowhere.\(removal)",
                        commands: commands, routes: routes
                    ))
                }
            } else if whole {
                findings.append(Finding(
                    id: FindingID.splitDefault, severity: .critical, ifname: name, reapable: closedHere,
                    prose: "\(routes.count) route\(routes.count == 1 ? " captures" : "s capture") all \(family) default traffic into \(name), \(leadsNowhere(name, closed: closedHere)): \(list). Every packet is blackholed — a proxy or VPN died without removing its routes.\(removal)",
                    commands: commands, routes: routes
                ))
            } else {
                findings.append(Finding(
                    id: FindingID.splitDefault, severity: share >= 0.5 ? .critical : .warning, ifname: name, reapable: closedHere,
                    prose: "\(routes.count) more-specific route\(routes.count == 1 ? " (\(list)) sends" : "s (\(list)) send") \(percent) into \(name), \(leadsNowhere(name, closed: closedHere)): that traffic is blackholed — the residue of a split default a proxy or VPN left.\(removal)",
                    commands: commands, routes: routes
                ))
            }
        }
        for (name, routes) in strayDefaults { leftOver[name, default: []].insert(contentsOf: routes, at: 0) }
        for name in leftOver.keys.sorted() {
            if let finding = goneTunnelRoutes(leftOver[name] ?? [], into: name, snapshot: snapshot, closed: closed.contains(name)) { findings.append(finding) }
        }
        for name in downLeftOver.keys.sorted() {
            if let finding = downTunnelRoutes(downLeftOver[name] ?? [], into: name, snapshot: snapshot) { findings.append(finding) }
        }
        return goneDefaults + findings
    }

    /// The split default (or the part of one, `share` of the family's default traffic, `percent`
    /// in words) whose `routes` go into `name`, a tunnel listed but down: what they take is
    /// blackholed as into a gone tunnel, and as the general default into that tunnel is (see
    /// `goneDefaultFindings`). Critical from half the space; the tunnel is there to bring up
    /// again, so the VPN that owns it is named first, then the commands that remove the routes.
    static func downSplitDefault(_ routes: [Route], into name: String, whole: Bool, share: Double, percent: String, commands: [String]) -> Finding {
        let list = routes.map(\.display).joined(separator: ", ")
        let down = "which is down (its flags lack UP: nothing is sent out of it)"
        let taken = whole ? "\(routes.count) route\(routes.count == 1 ? " captures" : "s capture") all \(routes[0].family == .inet ? "IPv4" : "IPv6") default traffic into \(name), \(down): \(list). Every packet is blackholed"
            : "\(routes.count) more-specific route\(routes.count == 1 ? " (\(list)) sends" : "s (\(list)) send") \(percent) into \(name), \(down): that traffic is blackholed"
        return Finding(
            id: FindingID.splitDefault, severity: whole || share >= 0.5 ? .critical : .warning, ifname: name, reapable: false,
            prose: "\(taken) — a tunnel that took \(whole ? "all" : "that") traffic was taken down (`ifconfig … down`, or by its app) with its routes left in place. Reconnect the VPN that owns \(name) (or bring it up again), or remove \(routes.count == 1 ? "the route" : "the routes") with:",
            commands: commands, routes: routes
        )
    }

    /// `commands` without any it repeats, in order: two routes one command names (an IPv6 host
    /// route and a /128 net route to one address, which `route` cannot tell apart, see
    /// `DarwinCommands.routeCommand`) are advised once; a rerun shows any the command left.
    static func uniqued(_ commands: [String]) -> [String] {
        var seen = Set<String>()
        return commands.filter { seen.insert($0).inserted }
    }

    /// Routes into a macOS tunnel (utun, feth, or any interface but the system's own, see
    /// `isSystemInterfaceName`) a listing of every interface no longer holds, or
    /// (`closed`) into a tuntaposx device nobody has open, beside any split default into it:
    /// what they send is blackholed too (a corporate VPN's 10/8 and 172.16/12 after it died).
    /// Link-local and interface-scoped rows, which the kernel keeps per interface and which say
    /// nothing of where traffic goes, are left out; nil when none is left. Into a closed device
    /// the finding is reapable: the plan removes these routes from it.
    static func goneTunnelRoutes(_ routes: [Route], into name: String, snapshot: Snapshot, closed: Bool = false) -> Finding? {
        guard snapshot.platform == .darwin, !isSystemInterfaceName(name) else { return nil }
        let routes = routes.filter { route in
            let address = route.destination.address
            let linkLocal = route.family == .inet6 ? address.isIPv6LinkLocal : address.bytes[0] == 169 && address.bytes[1] == 254
            return !route.isInterfaceScoped && !linkLocal
        }
        guard !routes.isEmpty else { return nil }
        let list = routes.map(\.display).joined(separator: ", ")
        // (Only unscoped routes are listed: the system picks the route to delete by destination,
        // mask and scope, not gateway, so each command deletes the one unscoped route of its
        // destination, which is this one, and the scoped routes of other interfaces stay.)
        return Finding(
            id: FindingID.deadTunnelRoute, severity: .warning, ifname: name, reapable: closed,
            prose: "\(routes.count) route\(routes.count == 1 ? " sends" : "s send") traffic into \(name), \(leadsNowhere(name, closed: closed)): \(list). That traffic is blackholed. Remove \(routes.count == 1 ? "it" : "them") with:",
            commands: uniqued(routes.map { DarwinCommands.asRoot(DarwinCommands.deleteText($0, interface: name, present: closed)) }), routes: routes
        )
    }

    /// Why a tunnel the routes of a finding go into leads nowhere, as a clause after its name:
    /// it no longer exists, or (a macOS tuntaposx device) it is closed.
    static func leadsNowhere(_ name: String, closed: Bool) -> String {
        closed ? "which is closed (its ifconfig status line says no process has /dev/\(name) open)"
            : "which no longer exists"
    }

    /// The names of the macOS tuntaposx devices among `interfaces` that are closed (and listed,
    /// not only seen in routes): nobody reads what is sent into them.
    static func closedTuntaposx<S: Sequence>(in interfaces: S) -> Set<String> where S.Element == NetworkInterface {
        var names = Set<String>()
        for interface in interfaces where interface.tuntaposx == .closed && !interface.unlisted { names.insert(interface.name) }
        return names
    }

    /// On macOS, a general (not interface-scoped) default route that leaves only through a
    /// tunnel-like interface while no physical interface with an address has a default route at
    /// all, not even a scoped one. Needs every default route and every interface in the capture.
    ///
    /// A warning where the system's own VPN machinery or ZeroTier carries it: a configd or
    /// NetworkExtension VPN (nesessionmanager, a provider extension) and ZeroTier's full-tunnel
    /// option keep the physical default as a scoped one (flag I), so its loss is what ZeroTier
    /// leaves after a network change, or a kill switch. Info where every such tunnel is held by a
    /// live process of another kind (see `replacesTheDefault`): openconnect's vpnc-script and
    /// OpenVPN's `redirect-gateway` without `def1` delete the physical default and add their own,
    /// which is how they carry all traffic while connected. A tunnel whose holder is unknown stays
    /// a warning.
    static func defaultViaTunnelFindings(_ assessed: [AssessedInterface], snapshot: Snapshot) -> [Finding] {
        guard snapshot.platform == .darwin, snapshot.interfacesKnown else { return [] }
        var findings: [Finding] = []
        // (A default into a closed tuntaposx device leads nowhere: `goneDefaultFindings` says so.)
        let kindByName = Dictionary(snapshot.interfaces.filter { $0.tuntaposx != .closed }.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
        for family in [AddressFamily.inet, .inet6] where snapshot.listsEveryRoute(of: family, withWord: "default") {
            let defaults = snapshot.routes.filter { $0.family == family && $0.destination.length == 0 && $0.type == .unicast }
            let general = defaults.filter { !$0.isInterfaceScoped }
            let tunnels = Set(general.flatMap { $0.nextHops.compactMap(\.interfaceName) })
            guard !general.isEmpty, tunnels.allSatisfy({ (kindByName[$0] ?? .other).isTunnelStyle }) else { continue }
            let withDefault = Set(defaults.flatMap { $0.nextHops.compactMap(\.interfaceName) })
            let physical = snapshot.interfaces.filter { interface in
                interface.kind == .other && !interface.flags.contains("LOOPBACK") && !interface.flags.contains("POINTOPOINT")
                    && interface.isUp && interface.carrier != false
                    && interface.addresses.contains { $0.local.family == family && !$0.isLinkLocal }
            }
            guard !physical.isEmpty, physical.allSatisfy({ !withDefault.contains($0.name) }) else { continue }
            let familyName = family == .inet ? "IPv4" : "IPv6"
            let tunnelList = tunnels.sorted().joined(separator: ", ")
            let physicalList = physical.map { interface in
                "\(interface.name) (\(interface.addresses.filter { $0.local.family == family && !$0.isLinkLocal }.map(\.display).joined(separator: ", ")))"
            }.joined(separator: ", ")
            let carriers = tunnels.sorted().compactMap { name in assessed.first { $0.interface.name == name } }
            if carriers.count == tunnels.count, carriers.allSatisfy({ replacesTheDefault($0, snapshot: snapshot) }) {
                let held = carriers.map { "\($0.interface.name), held by \($0.holders.map(\.display).joined(separator: ", "))" }.joined(separator: "; ")
                findings.append(Finding(
                    id: FindingID.defaultViaTunnel, severity: .info, ifname: tunnels.sorted().first, reapable: false,
                    evidence: "The only \(familyName) default route leaves through \(held), while \(physicalList) \(physical.count == 1 ? "has" : "have") no default route at all: this is how a VPN client that replaces the default route (openconnect's vpnc-script, OpenVPN's redirect-gateway without def1) carries all traffic while it is connected. If it exits without putting the default back, renewing \(physical[0].name)'s lease does.",
                    routes: general
                ))
                continue
            }
            findings.append(Finding(
                id: FindingID.defaultViaTunnel, severity: .warning, ifname: tunnels.sorted().first, reapable: false,
                evidence: "The only \(familyName) default route leaves through \(tunnelList), while \(physicalList) \(physical.count == 1 ? "has" : "have") an address but no default route at all, not even an interface-scoped one: traffic for anything outside the tunnel's own networks depends on the tunnel. This is what ZeroTier's full-tunnel (default route) option leaves after a network change: it, and the system's own VPNs (configd's, NetworkExtension apps'), keep the physical default as a scoped one when they take the default. Check that the tunnel app is running and re-join or reconnect it, or renew \(physical[0].name)'s lease.",
                routes: general
            ))
        }
        return findings
    }

    /// Whether `tunnel` is held by a live process that takes the default route by replacing it
    /// (openconnect, vpnc, OpenVPN, a proxy): a utun or a tuntaposx device the capture shows
    /// held, none of whose holders is the system's VPN machinery — nesessionmanager, or a
    /// NetworkExtension provider (a `.systemextension` or `.appex` the capture's ps shows, or a
    /// process named by its bundle identifier, `net.lumen.vpn.tunnel`, as lsof shows one without
    /// ps), which keep the physical default scoped. A feth has no holder: ZeroTier keeps the
    /// scoped default.
    static func replacesTheDefault(_ tunnel: AssessedInterface, snapshot: Snapshot) -> Bool {
        guard tunnel.state == .live, !tunnel.holders.isEmpty, [.utun, .tun, .tap].contains(tunnel.interface.kind) else { return false }
        return !tunnel.holders.contains { holder in
            let line = snapshot.processNames?[holder.pid] ?? ""
            let name = programName(of: line) ?? holder.comm
            return holder.comm.hasPrefix("nesession") || name == "nesessionmanager" || name.contains(".") || holder.comm.contains(".")
                || [".systemextension/", ".appex/"].contains { line.contains($0) }
        }
    }
}
