import Foundation

/// Judging macOS's general default routes: the one route of a family that every packet without a
/// more specific route takes.
extension Heuristics {
    /// Why the interface a route leaves through cannot carry what the route sends into it.
    enum DeadEnd: Equatable {
        /// A listing of every interface lacks it, or ifconfig said it does not exist.
        case gone
        /// A tuntaposx tun or tap whose status line says no process has its device open.
        case closed
        /// Listed with flags that lack UP (`flags=8010<POINTOPOINT,MULTICAST>`, as after
        /// `sudo ifconfig utun12 down`): the system sends nothing out of it (ENETDOWN).
        case down
    }

    /// Where the route into `name` leads nowhere, why; nil when it may lead somewhere.
    ///
    /// Any interface a listing of every interface lacks is gone, whatever its name (GlobalProtect's
    /// `gpd0`, ZeroTier's old `zt0` as much as a utun), except one of the names macOS gives its
    /// own hardware and system interfaces (`en0`, `bridge100`, `awdl0`, see
    /// `isSystemInterfaceName`): their block missing from a paste says more of the paste (a user
    /// who took out the block that shows the Wi-Fi MAC address) than of the route. For the same
    /// reason only such other interfaces are judged down by their flags, and only where the
    /// routes were read at the moment of the listing (see `Snapshot.routesOfOtherMoment`); a
    /// physical interface that is up without a link (`status: inactive`, a cable pulled) is not
    /// down, and its default is scoped then anyway.
    static func deadEnd(of name: String, snapshot: Snapshot, existing: Set<String>, closed: Set<String>, listed: [String: NetworkInterface]) -> DeadEnd? {
        if closed.contains(name) { return .closed }
        guard !isSystemInterfaceName(name) else { return nil }
        if snapshot.isGone(name, existing: existing) { return .gone }
        if let interface = listed[name], isListedDown(interface, snapshot: snapshot) { return .down }
        return nil
    }

    /// Whether `interface`, a tunnel (any interface but the system's own), is listed with flags
    /// that lack UP, read at the moment of the routes into it: what is routed into it is not
    /// sent (ENETDOWN), for a general default and for the more-specific routes of a split
    /// default alike.
    static func isListedDown(_ interface: NetworkInterface, snapshot: Snapshot) -> Bool {
        !isSystemInterfaceName(interface.name) && !interface.unlisted && !interface.flags.isEmpty && !interface.isUp
            && snapshot.routesOfOtherMoment[interface.name] == nil
    }

    /// Routes into `name`, a macOS tunnel listed but down (`isListedDown`), that no split-default
    /// finding names (a corporate VPN's 10/8 after `sudo ifconfig utun4 down`, or its app taking
    /// the tunnel down without its routes): what they send is not sent at all (ENETDOWN), as into
    /// a gone tunnel. Host routes to the tunnel's own addresses and peers, which the system keeps
    /// with the address and which go when it does, are left out, as are link-local and
    /// interface-scoped rows (see `goneTunnelRoutes`); nil when none is left, or when `name` is a
    /// tuntaposx device. Never reapable: the
    /// tunnel is there to bring up again, so the VPN that owns it is named first, then the
    /// commands that remove the routes.
    static func downTunnelRoutes(_ routes: [Route], into name: String, snapshot: Snapshot) -> Finding? {
        // (A tuntaposx tun or tap is down whenever its device is closed, and whether it was
        // opened again is judged apart: see `judgeTuntaposx`.)
        let listed = snapshot.interfaces.filter { $0.name == name }
        guard snapshot.platform == .darwin, !isSystemInterfaceName(name), listed.allSatisfy({ $0.tuntaposx == nil }) else { return nil }
        let own = Set(listed.flatMap { $0.addresses.flatMap { [$0.local] + ($0.peer.map { [$0] } ?? []) } })
        let routes = routes.filter { route in
            let address = route.destination.address
            let linkLocal = route.family == .inet6 ? address.isIPv6LinkLocal : address.bytes[0] == 169 && address.bytes[1] == 254
            let ownHost = route.destination.length == address.bytes.count * 8 && own.contains(address)
            return !route.isInterfaceScoped && !linkLocal && !ownHost
        }
        guard !routes.isEmpty else { return nil }
        let list = routes.map(\.display).joined(separator: ", ")
        return Finding(
            id: FindingID.deadTunnelRoute, severity: .warning, ifname: name, reapable: false,
            prose: "\(routes.count) route\(routes.count == 1 ? " sends" : "s send") traffic into \(name), which is down (its flags lack UP: nothing is sent out of it): \(list). That traffic is blackholed — a tunnel was taken down (`ifconfig … down`, or by its app) with its routes left in place. Reconnect the VPN that owns \(name) (or bring it up again), or remove \(routes.count == 1 ? "the route" : "the routes") with:",
            commands: uniqued(routes.map { DarwinCommands.asRoot(DarwinCommands.deleteText($0, interface: name, present: true)) }), routes: routes
        )
    }

    /// Whether `name` is one macOS gives its own hardware or system interfaces (Ethernet and Wi-Fi
    /// `enN`, `bridgeN`, `apN`, `awdlN`, `llwN`, `anpiN`, the loopback, `gifN`, `stfN`, capture,
    /// FireWire, VLAN and bond interfaces, a virtual machine's `vmenetN`), not a tunnel some app made.
    public static func isSystemInterfaceName(_ name: String) -> Bool {
        let letters = name.prefix { $0.isLetter }
        let unit = name.dropFirst(letters.count)
        guard !unit.isEmpty, unit.allSatisfy(\.isNumber) else { return true }
        return ["en", "bridge", "ap", "awdl", "llw", "anpi", "lo", "gif", "stf", "pktap", "iptap", "XHC", "fw", "vlan", "bond", "vmenet", "p2p", "pflog"]
            .contains(String(letters))
    }

    /// macOS: general (not interface-scoped) default routes of a family whose every next hop
    /// leads nowhere (see `deadEnd`): every packet that takes the default route is blackholed —
    /// what a VPN that took the default route leaves when it dies without removing it.
    ///
    /// macOS keeps one general default route per family (`route add default` of a second one
    /// fails with "File exists"); every other default is scoped to its interface (flag I) and
    /// serves only traffic already bound to it. So a general default read from a filtered table
    /// (`netstat -rn | grep utun12`) is the family's default as much as one read from the whole
    /// table: no working default can hide beside it. The same holds for the default `route get`
    /// found in a capture without a routing table (see `Snapshot.routeLookups`).
    static func goneDefaultFindings(_ snapshot: Snapshot) -> [Finding] {
        guard snapshot.platform == .darwin else { return [] }
        // (A closed tuntaposx device leads nowhere as a gone tunnel does.)
        let closed = closedTuntaposx(in: snapshot.interfaces)
        let existing = Set(snapshot.interfaces.map(\.name))
        let listed = Dictionary(snapshot.interfaces.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var findings: [Finding] = []
        for family in [AddressFamily.inet, .inet6] {
            let general = snapshot.routes.filter { $0.family == family && $0.destination.length == 0 && $0.type == .unicast && !$0.isInterfaceScoped }
            let names = general.map { Set($0.nextHops.compactMap(\.interfaceName)) }
            var ends: [String: DeadEnd] = [:]
            for name in names.reduce(into: Set<String>(), { $0.formUnion($1) }) {
                ends[name] = deadEnd(of: name, snapshot: snapshot, existing: existing, closed: closed, listed: listed)
            }
            guard !general.isEmpty, names.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ends[$0] != nil } }) else { continue }
            let dead = ends.keys.sorted()
            let closedOnes = dead.filter { ends[$0] == .closed }
            let downOnes = dead.filter { ends[$0] == .down }
            let familyName = family == .inet ? "IPv4" : "IPv6"
            let removal = uniqued(general.map { route in
                let name = route.nextHops.compactMap(\.interfaceName).first ?? dead[0]
                return DarwinCommands.asRoot(DarwinCommands.deleteText(route, interface: name, present: ends[name] != .gone))
            })
            let nowhere: String
            if closedOnes.isEmpty && downOnes.isEmpty {
                nowhere = "which no longer exist\(dead.count == 1 ? "s" : ""), and no default route of \(familyName) leaves through an interface that does"
            } else if dead.count == 1, let only = dead.first {
                let why = ends[only] == .closed ? leadsNowhere(only, closed: true) : "which is down (its flags lack UP: nothing is sent out of it)"
                nowhere = "\(why), and no default route of \(familyName) leaves through an interface that works"
            } else {
                let parts = [closedOnes.isEmpty ? nil : "closed (\(closedOnes.joined(separator: ", ")): no process has \(closedOnes.count == 1 ? "its device" : "their devices") open",
                             downOnes.isEmpty ? nil : "down (\(downOnes.joined(separator: ", ")))"].compactMap { $0 }
                nowhere = "which no longer exist or are \(parts.joined(separator: ", or ")), and no default route of \(familyName) leaves through an interface that works"
            }
            let seen = snapshot.routeLookups[family].map { " (as `route get` at \($0) shows; the capture has no routing table that lists it)" } ?? ""
            let cause = downOnes.isEmpty ? "a VPN or proxy that took the default route died without removing it"
                : "a tunnel that took the default route was taken down (`ifconfig … down`, or by its app) with the route left in place"
            // (A VPN's downed tunnel is brought back by the VPN, not by removing its route.)
            let recovery = downOnes.isEmpty ? " Once it is removed, renewing the network's lease (or turning Wi-Fi off and on) gets the default route back."
                : " Reconnect the VPN that owns \(downOnes.joined(separator: ", ")) (or bring it up again), or remove the route; renewing the network's lease (or turning Wi-Fi off and on) then gets the default route back."
            findings.append(Finding(
                id: FindingID.splitDefault, severity: .critical, ifname: dead[0], reapable: !closedOnes.isEmpty && downOnes.isEmpty,
                prose: "The \(familyName) default route\(seen) leaves through \(dead.joined(separator: ", ")), \(nowhere): every packet that takes the default route is blackholed — \(cause).\(recovery) Remove it with:",
                commands: removal, routes: general
            ))
        }
        return findings
    }
}
