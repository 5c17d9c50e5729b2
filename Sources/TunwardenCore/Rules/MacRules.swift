import Foundation

extension FindingRules {
    /// The findings about macOS utun and feth interfaces. (A tuntaposx tun or tap is judged by
    /// its status line, and the routes into a closed one by the route rules.)
    static let mac: [FindingRule] = [
        FindingRule(id: FindingID.utunHoard, severity: "warning", reap: .removeRoutes, scope: .snapshot,
                    summary: "macOS: one process holds 3 or more utuns, most of them idle; their link-local routes can go"),
        FindingRule(id: FindingID.orphanedFeth, severity: "warning", reap: .deleteInterface, scope: .snapshot,
                    summary: "macOS: a ZeroTier-named feth pair (fethN, feth(N+5000)) while no zerotier-one runs"),
    ]
}

/// Judging macOS utun and feth interfaces, and utuns one process hoards.
extension Heuristics {
    // MARK: macOS utun and feth

    /// A utun exists exactly as long as a process holds its control socket: one the capture lists
    /// is held by someone, and a complete lsof without its holder means the capture missed it
    /// (lsof not run as root?), not an orphan. One seen only in routes is unknown.
    static func judgeUtun(_ interface: NetworkInterface, holders: [Holder], scan: HolderScan) -> (InterfaceState, String) {
        if !holders.isEmpty { return (.live, "held") }
        if interface.unlisted {
            return (.unknown, "seen only in routes: \(interface.unlistedBecause ?? "the capture does not list it"), so its state and holders are unknown")
        }
        guard scan.complete else {
            return (.live, "held by a process the capture does not show (\(scan.incompleteReason ?? "no lsof output")): a utun exists only while its control socket is open")
        }
        return (.unknown, "no holder in the lsof output, yet a utun exists only while held (was lsof run as root?)")
    }

    // MARK: macOS tuntaposx tun and tap

    /// A tuntaposx `tunN` or `tapN` is used by whoever has its character device open, and its
    /// ifconfig block says who: `open (pid N)` or `closed`, the kext's answer to SIOCGIFSTATUS.
    /// Open is live, held by that pid, named from the capture's ps as a utun's holder is. Closed
    /// is orphaned: nothing reads what is sent into it, so the routes into it lead nowhere, as a
    /// gone tunnel's do (see `splitDefaultFindings`). Either way the interface is the kext's,
    /// which `ifconfig tunN destroy` cannot remove: no rule plans to delete it, only to remove
    /// the routes into a closed one. A block without the status line leaves the holder unknown,
    /// unless lsof shows a process with the device open: that process holds it. A `closed` that
    /// other output doubts (see `TuntaposxDevice.doubted`) leaves it unknown, with lsof's openers
    /// named: nothing of it is planned away.
    static func judgeTuntaposx(_ interface: NetworkInterface, device: TuntaposxDevice, routes: [Route], snapshot: Snapshot) -> AssessedInterface {
        let node = "/dev/\(interface.name)"
        // The processes lsof shows with the device open.
        let openers = snapshot.holders.attachments.filter { $0.ifname == interface.name && $0.inInspectedNamespace }.map(\.holder)
        var holders: [Holder] = []
        var holdersKnown = true
        let verdict: (InterfaceState, String)
        if interface.unlisted {
            holdersKnown = false
            verdict = (.unknown, "seen only in routes: \(interface.unlistedBecause ?? "the capture does not list it"), so whether a process has \(node) open is unknown")
        } else {
            switch device {
            case .open(let pid):
                let (name, note) = openerName(pid, snapshot: snapshot)
                let holder = Holder(pid: pid, comm: name ?? "?")
                holders = [holder]
                verdict = (.live, "held by \(holder.display): its ifconfig status line says `open (pid \(pid))`, so that process has \(node) open (tuntaposx)\(note)")
            case .closed:
                verdict = (.orphaned, "closed: its ifconfig status line says no process has \(node) open, so nothing reads what is sent into it; the interface belongs to tuntaposx's kext, which `ifconfig \(interface.name) destroy` cannot remove, so only the routes into it can be cleaned")
            case .doubted(let because, let settledBy):
                holdersKnown = false
                holders = openers
                verdict = (.unknown, "its ifconfig status line \(because), so whether anything reads what is sent into it when the routes were read is unknown; "
                    + (settledBy ?? "`ifconfig \(interface.name)` and `netstat -rn` with no command between them show it"))
            case .unstated(let because) where !openers.isEmpty:
                holders = openers
                holdersKnown = snapshot.holders.complete
                verdict = (.live, "held by \(openers.map(\.display).joined(separator: ", ")): lsof shows it with \(node) open (its ifconfig block has no status line: \(because ?? "an edited paste, or a driver other than tuntaposx"))")
            case .unstated(let because):
                holdersKnown = false
                verdict = (.unknown, "no status line in its ifconfig block (\(because ?? "an edited paste, or a driver other than tuntaposx")): tuntaposx prints `open (pid N)` while a process has \(node) open and `closed` otherwise, so whether anything holds it is unknown; `ifconfig \(interface.name)` shows it")
            }
        }
        return AssessedInterface(interface: interface, state: verdict.0, reason: verdict.1, holders: holders, holdersKnown: holdersKnown, routes: routes)
    }

    /// The name the capture's ps gives the process `pid` (the last path component of its
    /// program), or nil, with a clause that ends a verdict and says why there is none.
    static func openerName(_ pid: Int32, snapshot: Snapshot) -> (name: String?, note: String) {
        guard let processes = snapshot.processNames else { return (nil, "; the capture has no ps output to name it") }
        if let command = processes[pid] { return (programName(of: command) ?? command, "") }
        if let filter = snapshot.processFilters.first {
            return (nil, "; the capture's ps listing is partial (\(filter)) and does not show it")
        }
        return (nil, "; the capture's ps lists no process \(pid): it has exited since it passed the descriptor on (to a process it forked), or ps ran at another moment")
    }

    /// Whether `command` (a `ps` command column: a path, possibly with spaces, then arguments)
    /// runs `program`: some leading words form a path whose last component is `program`. A grep
    /// for the program (`grep zerotier-one`) does not run it.
    public static func command(_ command: String, runs program: String) -> Bool {
        executableNames(of: command).contains(program)
    }

    /// The names the program of a `ps` command column may have, shortest path first: the last
    /// path component of its first word, and, when that word starts a path (`/`), of each longer
    /// run of leading words, since a path may hold spaces ("Application Support"). Arguments
    /// follow the path, so some of these are not names at all; a caller matches against a name
    /// it knows (`zerotier-one`, lsof's cut-short COMMAND).
    public static func executableNames(of command: String) -> [String] {
        let words = command.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first else { return [] }
        func base(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? "" }
        var names = [base(String(first))]
        guard first.hasPrefix("/") else { return names }
        var path = String(first)
        for word in words.dropFirst().prefix(16) {
            path += " " + word
            names.append(base(path))
        }
        return names
    }

    /// The name of the program a `ps` command column runs, to name a process by: the last
    /// component of its path, where the path goes on over words that continue it
    /// (`/Library/Application Support/Tunnelblick/…/openvpn --cd …` runs `openvpn`). A word
    /// continues the path when it holds a `/` and starts no argument of its own (`-…`, `/…`).
    public static func programName(of command: String) -> String? {
        let words = command.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first else { return nil }
        var path = String(first)
        if first.hasPrefix("/") {
            for word in words.dropFirst() {
                guard word.contains("/"), !word.hasPrefix("-"), !word.hasPrefix("/") else { break }
                path += " " + word
            }
        }
        return path.split(separator: "/").last.map(String.init)
    }

    /// No process owns a feth; ZeroTier makes and destroys its pairs, the destroy only in an exit
    /// handler, so a pair with no owner process running is left over from a crash.
    static func judgeFeth(_ interface: NetworkInterface, snapshot: Snapshot, policy: AuditPolicy, hasInterface: (String) -> Bool,
                          findings: inout [Finding]) -> (InterfaceState, String) {
        if interface.unlisted {
            return (.unknown, "seen only in routes: \(interface.unlistedBecause ?? "the capture does not list it"), so its peer and state are unknown")
        }
        // ZeroTier names its pair fethN (N from 100 to 4999) and feth(N+5000); a pair named otherwise
        // was made by something else (by hand, for a VM's bridge), which no process owns either.
        guard isZeroTierPair(interface) else {
            let peer = interface.peerName.map { "its peer \($0)" } ?? "no peer"
            return (.unknown, "\(interface.name) with \(peer) is not named as ZeroTier names its pairs (fethN, N from 100 to 4999, with feth(N+5000)), so something else made it (by hand, a VM's bridge); no process owns a feth, so nothing in the capture shows whether it is in use")
        }
        guard let processes = snapshot.processNames else { return (.unknown, "running processes unknown (no ps output)") }
        let owners = processes.filter { entry in policy.fethOwners.contains { command(entry.value, runs: $0) } }
        if let owner = owners.min(by: { $0.key < $1.key }) {
            let name = policy.fethOwners.first { command(owner.value, runs: $0) } ?? owner.value
            return (.live, "\(name)[\(owner.key)] is running")
        }
        // A process whose command names ZeroTier without being its program is one cut short
        // (`ps aux` without -ww stops at the window's edge: `/Library/Application Support/ZeroTier/On`),
        // unless it is the search itself (`grep zerotier`).
        if let cut = processes.sorted(by: { $0.key < $1.key }).first(where: { entry in
            let words = entry.value.lowercased()
            // (ZeroTier's menu-bar app, `/Applications/ZeroTier.app/…`, runs on when the service
            // has crashed: it is whole, and not the service.)
            return words.contains("zerotier") && !words.contains(".app/contents/macos/")
                && !["grep", "egrep", "fgrep", "rg", "pgrep", "tail", "less", "cat"].contains { words.hasPrefix($0 + " ") }
        }) {
            return (.unknown, "pid \(cut.key) (\(cut.value.prefix(60))) may be ZeroTier with its command cut short (ps without -ww), so whether \(policy.fethOwners.joined(separator: " or ")) runs is unknown")
        }
        if let filter = snapshot.processFilters.first,
           !snapshot.processFilters.contains(where: { filter in policy.fethOwners.allSatisfy { filter.certainlyShows(word: $0) } }) {
            return (.unknown, "the process listing is partial (\(filter)), so whether \(policy.fethOwners.joined(separator: " or ")) runs is unknown")
        }
        // (A pair named as ZeroTier's always has its peer named.)
        let peer = interface.peerName ?? ""
        let peerText = hasInterface(peer) ? " (peer \(peer))" : " (its peer \(peer) is missing)"
        findings.append(Finding(
            id: FindingID.orphanedFeth, severity: .warning, ifname: interface.name, reapable: true,
            prose: "feth \(interface.name)\(peerText) exists while no \(policy.fethOwners.joined(separator: " or ")) process runs; ZeroTier destroys its pairs only in an exit handler, so a crash leaves them, and their addresses mislead other software. Reap with:",
            commands: [DarwinCommands.asRoot(DarwinCommands.destroy(interface.name).joined(separator: " "))]
        ))
        return (.orphaned, "no \(policy.fethOwners.joined(separator: "/")) process running")
    }

    /// Whether a feth and its peer are named as ZeroTier names its pairs: fethN, N from 100 to 4999
    /// (ZeroTier leaves lower numbers to other software), with feth(N+5000), either end.
    static func isZeroTierPair(_ interface: NetworkInterface) -> Bool {
        func unit(_ name: String) -> Int? {
            guard name.hasPrefix("feth"), let number = Int(name.dropFirst(4)), String(number) == name.dropFirst(4) else { return nil }
            return number
        }
        guard let own = unit(interface.name), let peer = interface.peerName.flatMap(unit) else { return false }
        return (100..<5000).contains(min(own, peer)) && max(own, peer) == min(own, peer) + 5000
    }

    /// Whether a route is an interface-scoped default (`default fe80::%utun4 UGcIg`), which macOS
    /// makes for every utun and which takes no general traffic; one without the I flag is the
    /// machine's default.
    static func isScopedDefault(_ route: Route) -> Bool {
        route.destination.length == 0 && route.isInterfaceScoped
    }

    /// macOS daemons that hold utuns for the system's own services on every Mac.
    static let systemUtunHolders: Set<String> = ["identityservicesd", "rapportd", "remoted", "sharingd", "networkserviceproxy", "WiFiAgent"]

    /// Whether a holder's command name is one of `systemUtunHolders` as lsof prints it: lsof cuts
    /// the COMMAND column to 9 characters unless told otherwise (`identitys`, `networkse`), and
    /// the kernel keeps at most 16 of a process's name (`identityservices`).
    static func isSystemUtunHolder(_ comm: String) -> Bool {
        systemUtunHolders.contains(comm) || (comm.count >= 9 && systemUtunHolders.contains { $0.count > comm.count && $0.hasPrefix(comm) })
    }

    /// One process holding several utuns, most of them idle (no address beyond link-local): the
    /// leak pattern of packet-tunnel apps and nesessionmanager. The idle units' link-local routes
    /// (`default fe80::%utunN`, `fe80::%utunN/64`) are reapable; the utuns themselves cannot be
    /// destroyed without killing the holder. A unit is idle only when the capture shows every
    /// route into it (see `routesLeftOut`): one behind a filtered or missing routing table is
    /// named as not known idle, and none of its routes is offered for removal.
    static func hoardFindings(_ interfaces: [AssessedInterface], snapshot: Snapshot, policy: AuditPolicy) -> [Finding] {
        var byHolder: [Int32: (holder: Holder, units: [AssessedInterface])] = [:]
        for position in interfaces.indices where interfaces[position].interface.kind == .utun {
            for holder in interfaces[position].holders { byHolder[holder.pid, default: (holder, [])].units.append(interfaces[position]) }
        }
        var findings: [Finding] = []
        for pid in byHolder.keys.sorted() {
            // macOS's own service daemons keep a few utuns each on a healthy Mac (iCloud,
            // Continuity); only a pile well beyond that is a hoard.
            guard let (holder, units) = byHolder[pid],
                  units.count >= (isSystemUtunHolder(holder.comm) ? max(policy.hoardThreshold, 10) : policy.hoardThreshold) else { continue }
            // A unit another process holds too (a VPN's provider, to which nesessionmanager handed
            // the utun) is that process's tunnel, in use: no idle member of the pile.
            let shared = units.filter { unit in unit.holders.contains { $0.pid != pid } }
            // A unit whose addresses the capture does not show (`ifconfig -l`) is not known idle.
            // (Nor is one that routes send traffic into beyond its link-local ones: a VPN's subnet,
            // or a default without the I flag, which is the general one, not the scoped one every
            // utun has.)
            let linkLocalOnly = units.filter { unit in
                !shared.contains { $0.interface.name == unit.interface.name }
                    && !unit.interface.addressesUnknown && unit.interface.addresses.allSatisfy(\.isLinkLocal)
                    && !unit.routes.contains { route in
                        let address = route.destination.address
                        return !(route.family == .inet6 && (address.isIPv6LinkLocal || address.bytes[0] == 0xff || isScopedDefault(route)))
                    }
            }
            // (Most of its own: a shared unit is the other process's tunnel, not part of the pile.)
            guard linkLocalOnly.count * 2 > units.count - shared.count else { continue }
            // Only a listing of every route into a unit shows it has none beyond link-local.
            let unsure = linkLocalOnly.compactMap { unit in routesLeftOut(into: unit.interface.name, snapshot: snapshot).map { (unit.interface.name, $0) } }
            // ifconfig -v names the app behind a Network Extension tunnel ("VPN: Example Tunnel").
            let agents = Array(Set(units.flatMap(\.interface.agentDescriptions).filter { $0.hasPrefix("VPN:") })).sorted()
            let behalf = agents.isEmpty ? "" : " on behalf of \(agents.map { "\"\($0)\"" }.joined(separator: ", ")) (ifconfig -v agent)"
            let restart = agents.isEmpty ? "\(holder.comm) closes them (restart it)" : "\(holder.comm) closes them (disconnect or remove that VPN configuration, or restart)"
            // Only a listing of every holder shows that no other process holds a unit too: an
            // lsof of one process (`-c nesessionmanager`, `-p 448`), cut (`| head`), filtered by
            // its name (`| grep nesession`) or run without sudo leaves the provider's row out,
            // and its connecting utun would look idle. Then no unit of the pile is known idle.
            if !snapshot.holders.complete {
                let names = linkLocalOnly.map(\.interface.name)
                if !names.isEmpty {
                    let (them, their) = names.count == 1 ? ("it", "its") : ("them", "their")
                    let idleText = "\(names.count) of them with no address beyond link-local (\(names.joined(separator: ", "))), but none known idle: "
                        + "the capture's lsof does not show every holder (\(snapshot.holders.incompleteReason ?? "it is partial")), so another process "
                        + "(a VPN's provider, to which \(holder.comm) handed the utun) may hold \(them) too and use \(them). None of \(their) routes is planned "
                        + "for removal; the whole `sudo lsof -nP` settles it."
                    findings.append(Finding(id: FindingID.utunHoard, severity: .warning, ifname: nil, reapable: false,
                                            evidence: "\(holder.display) holds \(units.count) utun interfaces\(behalf), \(idleText) The utuns go only when \(restart).",
                                            routes: nil))
                    continue
                }
            }
            let idle = linkLocalOnly.filter { unit in !unsure.contains { $0.0 == unit.interface.name } }
            let idleNames = Set(idle.map(\.interface.name))
            let routes = snapshot.routes.filter { route in
                route.family == .inet6 && route.nextHops.contains { idleNames.contains($0.interfaceName ?? "") }
                    && (isScopedDefault(route) || route.destination.address.bytes[0] == 0xfe)
            }
            // A unit whose routes the capture may not all show is named with why, and keeps them.
            var idleText = "\(idle.count) of them idle (no address or route beyond link-local): \(idle.map(\.interface.name).joined(separator: ", "))."
            if let (_, reason) = unsure.first {
                let names = unsure.map(\.0).joined(separator: ", ")
                let (them, their) = unsure.count == 1 ? ("it", "its") : ("them", "their")
                idleText = idle.isEmpty ? "\(unsure.count) of them with no address beyond link-local (\(names)), but none known idle" : idleText + " \(unsure.count) more (\(names)) have no address beyond link-local, but are not known idle"
                idleText += ": whether a route sends traffic into \(them) is unknown, since \(reason), and a route left out may be one such as `default fe80::%utunN UGcg`, the machine's general IPv6 default. None of \(their) routes is planned for removal; the whole `netstat -rn` settles it."
            }
            for unit in shared {
                let others = unit.holders.filter { $0.pid != pid }.map(\.display).joined(separator: " and ")
                idleText += " \(unit.interface.name) is held by \(others) too, which uses it."
            }
            let routeText = routes.isEmpty ? "" : unsure.isEmpty ? " Their \(routes.count) link-local routes can be removed."
                : " The \(routes.count) link-local routes of the idle ones can be removed."
            findings.append(Finding(
                id: FindingID.utunHoard, severity: .warning, ifname: nil, reapable: !routes.isEmpty,
                evidence: "\(holder.display) holds \(units.count) utun interfaces\(behalf), \(idleText) Each reconnect of a packet-tunnel app that leaks leaves one more.\(routeText) The utuns go only when \(restart).",
                routes: routes.isEmpty ? nil : routes
            ))
        }
        return findings
    }

    /// Why the capture may not show every route into the interface `name`, of `families` (either
    /// family unless told), or nil when it shows them all: a family it has no whole table of, a
    /// filter its route listing went through that may have left out a row of that interface
    /// (`netstat -rn -f inet6 | grep -v default`), routes into it read at another moment than
    /// its listing (see `Snapshot.routesOfOtherMoment`), or a row into it (or of a default) that
    /// could not be read. A rule that concludes an interface has no route of some kind asks this first.
    static func routesLeftOut(into name: String, of families: [AddressFamily] = [.inet6, .inet], snapshot: Snapshot) -> String? {
        let missing = families.filter { !(snapshot.routeFamilies?.contains($0) ?? true) }
        var reasons: [String] = []
        if missing.count < families.count, let filter = snapshot.routeFilter, !filter.certainlyShows(word: name) {
            reasons.append("the route listing is partial (\(filter))")
        }
        if !missing.isEmpty {
            reasons.append("the capture has no whole \(missing.map { $0 == .inet ? "IPv4" : "IPv6" }.joined(separator: " or ")) routing table")
        }
        // (Routes of another moment than the unit's listing say nothing of what it is now.)
        if let otherMoment = snapshot.routesOfOtherMoment[name] { reasons.append(otherMoment) }
        // (Nor does a listing with a row that could not be read, into it or of a default.)
        if let unreadable = snapshot.unreadableRoutes[name] ?? snapshot.unreadableRoutes[""] { reasons.append(unreadable) }
        return reasons.isEmpty ? nil : reasons.joined(separator: " and ")
    }

    /// More-specific routes that together capture default traffic into one tunnel (0/1 + 128/1,
    /// the 1/8 … 128/1 cascade, the IPv6 equivalents). Info when the tunnel is alive: it explains
    /// where all traffic goes. Critical when the tunnel is gone: every packet goes nowhere. (A
    /// tunnel that exists but is dead is reported by dead-tunnel-route.)
}
