import Foundation
import TunwardenCore

/// A macOS snapshot from captured tool output, on any OS: either a directory holding any of
/// `ifconfig.txt`, `netstat.txt`, `lsof.txt` and `ps.txt` (as `tunwarden snapshot` writes them),
/// or one file of any shape (a terminal session, a ticket, a saved forum post) holding any mix
/// of `ifconfig`, `netstat -r`, `lsof`, `ps` and other output. What the capture does not show is
/// reported as unknown, never guessed: a listing of one interface says nothing of the others, a
/// grep'd routing table nothing of the routes it filtered out, `lsof -p PID` nothing of other
/// processes' holders.
public struct CapturedInventory: InventoryBackend {
    /// The directory or file; `-` for standard input (`pbpaste | tunwarden audit --from -`).
    public var path: String

    /// The path that stands for standard input, read as one file of pasted output.
    public static let standardInput = "-"

    /// The largest capture file read: far beyond any real listing, small enough to read whole.
    public static let maximumFileSize = 64 << 20

    public init(path: String) {
        self.path = path
    }

    /// The snapshot model of what was read, with what it does not cover marked as unknown.
    static func snapshot(from contents: CaptureContents, label: String, takenAt: Date = Date()) -> Snapshot {
        var contents = contents
        settleCutSightings(&contents)
        // A tunnel other output showed to exist at or after the moment of the last listing of
        // every interface, which lacks it: neither listed nor gone.
        do {
            let listedNames = Set(contents.interfaces.map(\.name))
            let latest = contents.interfacesComplete ? contents.completeInterfaceMoments.max() : nil
            for (name, moments) in contents.sightings.sorted(by: { $0.key < $1.key })
            where !listedNames.contains(name) && kind(of: name).isTunnelStyle && moments.contains(where: { $0 >= (latest ?? Int.min) }) {
                contents.disputedNames.insert(name)
                if latest != nil {
                    let sources = (contents.sightingSources[name] ?? []).prefix(3).joined(separator: ", ")
                    contents.problems.append("\(name) is not in the listing of every interface, but other output (\(sources)) shows it at that moment or later: whether it went away is unknown")
                }
            }
        }
        // Names neither listed nor gone: cut by netstat's column, or disputed by two listings.
        let cutShortNames = restoreCutNames(&contents).union(contents.disputedNames)
        var problems = contents.problems
        // Told without --verbose: a listing whose bodies went unread must not pass for one that
        // shows every unit idle or addressless.
        if !contents.unreadBodies.isEmpty {
            let names = contents.unreadBodies.prefix(6).joined(separator: ", ") + (contents.unreadBodies.count > 6 ? ", …" : "")
            problems.append("the bodies of \(contents.unreadBodies.count) interface block\(contents.unreadBodies.count == 1 ? "" : "s") (\(names)) could not be read: each header stands in the middle of its line, behind a prefix tunwarden does not know, so their addresses are unknown")
        }

        // Which index each name has, where the routing table shows it: `link#N` in the Gateway
        // column names the index of the row's interface, or of its destination's zone. Not on the
        // local route of another interface's own address, a host row into lo0 with the L flag
        // and no zone (`fd7a:115c:a1e0::1234:5678  link#19  UHL  lo0`, a utun's Tailscale
        // address): there it names the index of the address's owner, and lo0's index shows only
        // where lo0's own rows name it (`fe80::1%lo0  link#1`).
        var routeIndices: [String: Set<Int>] = [:]
        for row in contents.routes {
            guard let index = row.linkIndex else { continue }
            let bytes = row.destination.address.bytes
            let loopback = row.destination.family == .inet ? bytes[0] == 127 : bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1
            if row.netif == "lo0", row.zone == nil, row.flags.contains("H"), row.flags.contains("L"), !loopback { continue }
            routeIndices[row.zone ?? row.netif, default: []].insert(index)
        }
        let indexFromRoutes = routeIndices.compactMapValues { $0.count == 1 ? $0.first : nil }

        var nextIndex = max(contents.interfaces.compactMap(\.kernelIndex).max() ?? 0, indexFromRoutes.values.max() ?? 0) + 1
        func standIn() -> Int { defer { nextIndex += 1 }; return nextIndex }
        // The interfaces the routing table shows to have a link-local address: the gateway of a
        // directly attached route (`fe80::%utun4/64  fe80::1015:2003:ab03:1%utun4  UcI  utun4`
        // names the interface's own address) or its own host route (`fe80::…%utun4 link#20
        // UHLI lo0`). A block of one of them that shows no such address lost lines, and its
        // addresses are unknown rather than none.
        var linkLocalInRoutes: Set<String> = []
        for row in contents.routes where row.destination.family == .inet6 {
            if !row.flags.contains("G"), let gateway = row.gateway, gateway.isIPv6LinkLocal, gateway.bytes[8...].contains(where: { $0 != 0 }) {
                linkLocalInRoutes.insert(row.netif)
            }
            if row.destination.length == 128, row.destination.address.isIPv6LinkLocal, row.flags.contains("L"), let zone = row.zone, zone != row.netif {
                linkLocalInRoutes.insert(zone)
            }
        }
        var interfaces: [NetworkInterface] = []
        var conflicts: [String] = []
        // The names of both sides of each disagreement: neither listing's index ties them.
        var conflicting: Set<String> = []
        let processes = contents.psSeen ? contents.processes : nil
        for entry in contents.interfaces {
            let index = entry.kernelIndex ?? indexFromRoutes[entry.name] ?? standIn()
            if let seen = indexFromRoutes[entry.name], seen != index {
                conflicts.append("\(entry.name): index \(index) in ifconfig, \(seen) in netstat")
                conflicting.insert(entry.name)
            }
            let kind = kind(of: entry.name)
            var interface = NetworkInterface(
                index: index, name: entry.name, kind: kind, infoKind: kind == .other ? nil : kind.rawValue, flags: entry.flags,
                operstate: entry.status.map { $0 == "active" ? "UP" : "DOWN" }, carrier: entry.status.map { $0 == "active" },
                mtu: entry.mtu, hardwareAddress: entry.ether, addresses: entry.addresses, peerName: entry.peer
            )
            interface.agentDescriptions = entry.agents
            if kind == .tun || kind == .tap {
                // (Lines a filter or a cut took out may have held the status line.)
                interface.tuntaposx = entry.deviceStatus
                    ?? .unstated(because: entry.linesMayBeMissing
                        ?? (entry.addressesPartial || entry.headerMissing ? "lines of its block may be missing from the capture" : nil))
                // `closed` of another moment than the routes, or that lsof contradicts.
                if let dispute = contents.disputedDeviceStatus[entry.name] {
                    interface.tuntaposx = .doubted(because: dispute, settledBy: "`ifconfig \(entry.name)`, `netstat -rn` and `sudo lsof -nP` taken together (`tunwarden snapshot DIR`) show which is now")
                } else if entry.deviceStatus == .closed,
                   let doubt = closedStatusDoubt(of: entry, contents: contents, processes: processes) {
                    interface.tuntaposx = doubt
                } else if entry.deviceStatus == .closed, let place = contents.routeGetInterfaces[entry.name], !contents.netstatSeen {
                    // `route get` shows traffic routed into the closed tun, and no routing table says
                    // which routes (round 37 F8): not "OK", but unknown until netstat is pasted.
                    interface.tuntaposx = .doubted(because: "says `closed`, but `route get` (\(place)) shows traffic routed into it, a blackhole; the capture has no routing table to show which routes lead there: paste `netstat -rn`")
                }
            }
            interface.addressesUnknown = entry.nameOnly || entry.addressesPartial
            if !interface.addressesUnknown, linkLocalInRoutes.contains(entry.name), !entry.addresses.contains(where: \.isLinkLocal) {
                interface.addressesUnknown = true
                problems.append("\(entry.name)'s block shows no link-local address, but the routing table shows it has one: lines of the block were lost, so its addresses are unknown")
            }
            interfaces.append(interface)
        }
        // The same interface under another name in the routing table: an index ifconfig gives
        // one name that netstat's `link#N` gives another, or a point-to-point pair ifconfig
        // shows on one utun that a host route shows on another. A VPN that reconnected between
        // the two listings moves from utun3 to utun4 so; neither listing then speaks for the
        // other's moment.
        let nameByIndex = Dictionary(contents.interfaces.compactMap { entry in entry.kernelIndex.map { ($0, entry.name) } }, uniquingKeysWith: { a, _ in a })
        for (name, index) in indexFromRoutes.sorted(by: { $0.key < $1.key }) {
            if let listed = nameByIndex[index], listed != name {
                conflicts.append("index \(index): \(listed) in ifconfig, \(name) in netstat")
                conflicting.formUnion([listed, name])
            }
        }
        var peerPairs: [String: String] = [:]
        for entry in contents.interfaces {
            for address in entry.addresses {
                if let peer = address.peer { peerPairs["\(peer)|\(address.local)"] = entry.name }
            }
        }
        for row in contents.routes where row.destination.length == (row.destination.family == .inet ? 32 : 128) {
            guard let gateway = row.gateway, let listed = peerPairs["\(row.destination.address)|\(gateway)"], listed != row.netif else { continue }
            conflicts.append("\(listed)'s point-to-point pair in ifconfig is \(row.netif)'s in netstat")
            conflicting.formUnion([listed, row.netif])
        }
        conflicts += contents.indexConflicts
        conflicting.formUnion(contents.indexConflicts.map { String($0.prefix { $0 != ":" }) })
        if !conflicts.isEmpty {
            problems.append("ifconfig and netstat disagree on interface indexes (\(conflicts.prefix(4).joined(separator: "; "))\(conflicts.count > 4 ? "; …" : "")): they were taken at different times (or an interface was re-created in between), so routes of those names are not tied to the interfaces ifconfig shows")
        }
        var indexByName: [String: Int] = [:]
        for interface in interfaces where indexByName[interface.name] == nil { indexByName[interface.name] = interface.index }
        // Routes of a name the two listings disagree on belong to neither instance for sure.
        for name in conflicting { indexByName[name] = nil }
        let listed = Set(interfaces.map(\.name))
        /// Adds an interface the capture shows only in routes, a holder or a disputed listing:
        /// kind from its name, state unknown, and its addresses unknown rather than none (it is
        /// never an idle unit of a hoard).
        func addUnlisted(_ name: String, index: Int, because reason: String? = nil) {
            let kind = kind(of: name)
            var interface = NetworkInterface(index: index, name: name, kind: kind, infoKind: kind == .other ? nil : kind.rawValue)
            interface.unlisted = true
            interface.addressesUnknown = true
            if kind == .tun || kind == .tap { interface.tuntaposx = .unstated(because: nil) }
            if !contents.interfacesComplete { interface.unlistedBecause = contents.interfaceListingLimits.first }
            if let reason { interface.unlistedBecause = reason }
            indexByName[name] = interface.index
            interfaces.append(interface)
        }

        // Each general default and each half of a split default `route get` showed, where no
        // routing table row (an unscoped one, for the general default) is that route: traffic it
        // takes goes where it leads. Answers are kept by the route they found, destination and
        // mask together, so the lookup of 8.8.8.8 (`0.0.0.0/1` into utun4) and then of `default`
        // (en0's) are two routes, neither in the other's place; of two answers for one route,
        // the later shows it as it is now.
        var lookedUp: [IPPrefix: CaptureContents.RouteGetDefault] = [:]
        for found in contents.routeGetDefaults where !contents.routes.contains(where: { row in
            found.destination.length == 0 ? row.destination.family == found.family && row.destination.length == 0 && !row.flags.contains("I")
                : row.destination == found.destination && !row.flags.contains("I")
        }) {
            lookedUp[found.destination] = found
        }
        let routeGetRoutes = lookedUp.values.sorted { ($0.destination.length, $0.family.rawValue, $0.destination.description)
            < ($1.destination.length, $1.family.rawValue, $1.destination.description) }

        // Interfaces the capture shows only in routes: kind from the name, state unknown. With a
        // listing of every interface, only those that may have come since it (see
        // `CaptureContents.mayHaveComeSince`); the others are gone.
        var routeFamilies: [String: Set<AddressFamily>] = [:]
        for row in contents.routes { routeFamilies[row.netif, default: []].insert(row.destination.family) }
        // Tunnels the capture shows gone at the moment of every route into them, without a
        // listing of every interface (see `goneAt`).
        var shownGone: Set<String> = []
        do {
            // (Also when the listings disagree on indexes, or a name is misread, `utunl0` for
            // `utun10`: the listing says nothing sure of it.)
            var complete = contents.interfacesComplete && conflicts.isEmpty && !interfaces.contains { Self.misread($0.name) }
            let moments = contents.routeMoments()
            // The routes the system makes for an interface that exists go when its addresses go,
            // which is when it goes: its point-to-point host route (`198.18.0.1 198.18.0.1 UH`),
            // its subnet's (`UC`), its link-local ones (`fe80::%utun6/64`, its own `…%utun6` host
            // route): routes without the S flag, and not cloned (W) from another. With one of them
            // in the table, the interface existed when netstat ran, whatever a listing of another
            // moment says; only static routes (an app's split, `UGSc`) are taken to outlive it.
            var existedThen = Set(contents.routes.filter { !$0.flags.contains("S") && !$0.flags.contains("W") }.map(\.netif))
            existedThen.formUnion(contents.routes.compactMap { row in row.zone.flatMap { zone in (row.destination.family == .inet6 && zone == row.netif) || row.netif == "lo0" ? zone : nil } })
            // Such a route read at the moment of the listing of every interface, into a tunnel
            // the listing lacks: the listing is not all of that moment (cut, or of another time),
            // and proves no other tunnel gone either.
            if complete {
                var existedAt: [String: Set<Int>] = [:]
                for row in contents.routes where !row.flags.contains("S") && !row.flags.contains("W") {
                    existedAt[row.netif, default: []].insert(row.moment)
                    if let again = contents.repeatedRouteMoments[Section.key(row)] { existedAt[row.netif, default: []].formUnion(again) }
                }
                let contradicted = existedThen.filter { name in
                    !listed.contains(name) && ShellCommand.isInterfaceName(name) && kind(of: name).isTunnelStyle && !cutShortNames.contains(name)
                        && !Self.misread(name) && !(existedAt[name] ?? []).isDisjoint(with: contents.completeInterfaceMoments)
                }
                if !contradicted.isEmpty {
                    complete = false
                    let names = contradicted.sorted().prefix(4).joined(separator: ", ")
                    problems.append("the listing of every interface lacks \(names), which routes the system makes only for an interface that exists show at that moment: the listing is cut or of another time, so no tunnel is taken as gone")
                }
            }
            // Tunnels ifconfig said do not exist (`ifconfig: interface utun4 does not exist`) at
            // every moment routes into them were read: gone for those routes, as they would be by
            // a listing of every interface that lacks them. A route the system makes only for an
            // interface that exists, a holder, or other output showing the tunnel at such a moment
            // (`wg show`, `netstat -i`) contradicts the answer; routes read at another moment (a
            // command between may have made the tunnel) are not settled by it. Any name but the
            // system's own (`en0`, see `Heuristics.isSystemInterfaceName`) counts, as a listing of
            // every interface that lacks it would: the built-in VPNs' `ipsec0` and `ppp0` and
            // GlobalProtect's `gpd0` go away with their connection as a utun does.
            var doubtedGone: [String: String] = [:]
            for (name, goneMoments) in contents.goneAt.sorted(by: { $0.key < $1.key })
            where !listed.contains(name) && !Heuristics.isSystemInterfaceName(name) && !cutShortNames.contains(name) {
                guard let routeMoments = moments[name] else { continue }
                if existedThen.contains(name) || contents.holders.contains(where: { $0.ifname == name })
                    || !(contents.sightings[name] ?? []).isDisjoint(with: goneMoments) {
                    problems.append("ifconfig said \(name) does not exist, but other output of that moment (a route the system makes only for an interface that exists, a holder, a sighting) shows it: whether it is gone is unknown")
                    doubtedGone[name] = "ifconfig said it does not exist, but other output shows it"
                } else if routeMoments.isSubset(of: goneMoments) {
                    shownGone.insert(name)
                } else {
                    doubtedGone[name] = "ifconfig said it does not exist at another moment than some routes into it were read, with a command between that may have made it"
                }
            }
            for row in contents.routes where !listed.contains(row.netif) && indexByName[row.netif] == nil && !shownGone.contains(row.netif)
                && (ShellCommand.isInterfaceName(row.netif) || cutShortNames.contains(row.netif))
                && (!complete || contents.mayHaveComeSince(row.netif, families: routeFamilies[row.netif] ?? [], moments: moments)
                    || Self.misread(row.netif) || cutShortNames.contains(row.netif) || existedThen.contains(row.netif)) {
                // (An index the listings disagree on, or that ifconfig gave another interface, is
                // not this one's: a stand-in keeps its routes off that interface.)
                let index = indexFromRoutes[row.netif].flatMap { conflicting.contains(row.netif) || nameByIndex[$0] != nil ? nil : $0 }
                addUnlisted(row.netif, index: index ?? standIn(), because: doubtedGone[row.netif])
            }
            // The interface of a general default only `route get` showed, which no listing of
            // every interface of its moment settles (nor ifconfig's answer that it does not
            // exist): neither listed nor gone.
            for found in routeGetRoutes where !listed.contains(found.interface) && indexByName[found.interface] == nil && !shownGone.contains(found.interface) {
                let settled = complete && contents.completeInterfaceMoments.contains(found.moment) && !cutShortNames.contains(found.interface) && !Self.misread(found.interface)
                guard !settled else { continue }
                let when = !contents.interfacesComplete ? "; the capture does not list every interface"
                    : complete ? ", at another moment than the listing of every interface" : ""
                let route = found.destination.length == 0 ? "the default route's" : "\(found.destination)'s (half of a split default)"
                addUnlisted(found.interface, index: standIn(), because: "named only by `route get` at \(found.place) as \(route) interface\(when)")
            }
        }

        // An interface two listings of one moment disagree on is neither listed nor gone.
        for name in contents.disputedNames.sorted() where indexByName[name] == nil && !listed.contains(name) {
            addUnlisted(name, index: standIn())
        }

        // A utun an lsof listing shows held exists; a partial capture may not list it otherwise,
        // and a listing of every interface that lacks it is contradicted (taken at another time).
        do {
            for holder in contents.holders where indexByName[holder.ifname] == nil && !listed.contains(holder.ifname) {
                addUnlisted(holder.ifname, index: standIn())
            }
        }

        // A tunnel named only by a route line that could not be read: what that route did, and
        // whether the tunnel is still there, are unknown. (One that rows read show gone stays
        // gone: those rows decide.)
        for name in contents.unreadableRouteRows.flatMap(\.tunnels)
        where indexByName[name] == nil && !listed.contains(name) && routeFamilies[name] == nil && !Self.misread(name) {
            addUnlisted(name, index: standIn())
            problems.append("\(name) is named only by route rows that could not be read: whether it is gone, and where those routes sent traffic, is unknown")
        }

        var routes = contents.routes.map { row -> Route in
            let type: RouteType = row.flags.contains("B") ? .blackhole : row.flags.contains("R") ? .unreachable
                : row.flags.contains("b") ? .broadcast : row.flags.contains("m") || isMulticast(row.destination) ? .multicast : .unicast
            // Without the G flag a route is directly attached: its Gateway column names the
            // interface's own address or link, not a next hop.
            var route = Route(destination: row.destination, type: type, table: .main, routeProtocol: row.flags.contains("S") ? .static : nil,
                              nextHops: [NextHop(gateway: row.flags.contains("G") ? row.gateway : nil, interfaceIndex: indexByName[row.netif],
                                                 interfaceName: row.netif)])
            route.bsdFlags = row.flags
            return route
        }

        var routeLookups: [AddressFamily: String] = [:]
        for found in routeGetRoutes {
            var route = Route(destination: found.destination, type: .unicast, table: .main, routeProtocol: found.flags.contains("S") ? .static : nil,
                              nextHops: [NextHop(gateway: found.gateway, interfaceIndex: indexByName[found.interface], interfaceName: found.interface)])
            route.bsdFlags = found.flags
            routes.append(route)
            if found.destination.length == 0 { routeLookups[found.family] = found.place }
        }

        let holders = holderScan(contents, processes: processes, problems: &problems)
        var snapshot = Snapshot(platform: .darwin, namespace: nil, namespaceIdentity: "capture:\(label)", takenAt: takenAt,
                                interfaces: interfaces, routes: routes, holders: holders)
        snapshot.interfacesKnown = contents.interfacesComplete && conflicts.isEmpty
        snapshot.goneInterfaces = shownGone
        snapshot.routeLookups = routeLookups
        snapshot.processNames = processes
        // The process listings of the moments the feths were listed at (of every moment, without
        // feths), whatever their order: a whole one, or one whose grep shows the owner's rows,
        // settles what a cut one leaves open.
        let fethMoments = Set(contents.interfaces.filter { $0.name.hasPrefix("feth") }.map(\.moment))
        snapshot.processFilters = contents.ownerAnswered.map { [$0] }
            ?? contents.processFilters(at: fethMoments.isEmpty ? contents.psMoments : fethMoments) ?? []
        // Every process at another moment than a feth's listing (`ps aux`, then `sudo launchctl
        // load …zerotier…`, then `ifconfig -a`) says nothing of whether its owner runs with it.
        if contents.psSeen, !fethMoments.isSubset(of: contents.psMoments) {
            snapshot.processFilters = [.unseen("the ps listing was taken at another moment than the feth's listing, with a command or other text between them that may have started or stopped processes")]
        }
        // Routes into a utun read across a change from its listing (and from the holders tied to
        // it): XNU gives a freed unit to the next tunnel, so they may be another's. Into another
        // app's interface (`gpd0`), the listing's flags may not be the routes' moment's either.
        for (name, stamps) in contents.routeStamps where kind(of: name) == .utun || !Heuristics.isSystemInterfaceName(name) {
            guard let listed = contents.interfaceStamps[name], stamps.contains(where: { !$0.isSameMoment(as: listed) }) else { continue }
            snapshot.routesOfOtherMoment[name] = "routes into \(name) were read at another moment than its listing, with a command or other text between them that may have changed "
                + (kind(of: name) == .utun ? "which tunnel has that unit" : "it")
        }
        let whole = contents.routeListings.filter { $0.filter == nil }
        if !whole.isEmpty {
            snapshot.routeFamilies = whole.reduce(into: Set<AddressFamily>()) { $0.formUnion($1.families) }
        } else {
            snapshot.routeFamilies = contents.routeListings.reduce(into: Set<AddressFamily>()) { $0.formUnion($1.families) }
            snapshot.routeFilter = contents.routeListings.first?.filter
        }
        snapshot.readingNotes = contents.notes
        snapshot.readingProblems = problems
        var missing: [String] = []
        // (Where sudo refused to run the tool, that is why.)
        func failure(_ tool: ShellCommand.Tool) -> String { contents.sudoFailures[tool].map { ": \($0)" } ?? "" }
        if !contents.ifconfigSeen { missing.append("ifconfig output (interfaces\(failure(.ifconfig)))") }
        if !contents.netstatSeen {
            missing.append("netstat -rn output (routes\(failure(.netstat)))")
        } else if let unreadable = contents.unreadableRouteListings.first, whole.isEmpty {
            missing.append("readable netstat -rn rows (routes: \(unreadable))")
            snapshot.routesUnread = true
        }
        if contents.unreadableRouteRows.contains(where: \.wide) { snapshot.routesUnread = true }
        for row in contents.unreadableRouteRows {
            for name in row.tunnels.isEmpty ? [""] : row.tunnels where snapshot.unreadableRoutes[name] == nil {
                snapshot.unreadableRoutes[name] = "a route row \(name.isEmpty ? "of a default" : "into \(name)") at \(row.place) could not be read"
            }
        }
        if !contents.unreadableRouteRows.isEmpty {
            let rows = contents.unreadableRouteRows
            let what = rows.map { row in row.tunnels.isEmpty ? "a default route at \(row.place)" : "a route into \(row.tunnels.joined(separator: ", ")) at \(row.place)" }
            missing.append("readable route rows (\(what.prefix(4).joined(separator: "; "))\(rows.count > 4 ? "; …" : ""): where they sent traffic)")
        }
        if !contents.lsofSeen, interfaces.contains(where: { $0.kind == .utun }) { missing.append("lsof output (utun holders\(failure(.lsof)))") }
        if !contents.psSeen, interfaces.contains(where: { $0.kind == .feth }) { missing.append("ps output (running processes\(failure(.ps)))") }
        snapshot.missingSources = missing
        return snapshot
    }

    static func isMulticast(_ prefix: IPPrefix) -> Bool {
        let first = prefix.address.bytes[0]
        return prefix.family == .inet ? (224...239).contains(first) && prefix.length >= 4 : first == 0xff && prefix.length >= 8
    }

    /// Whether a tunnel's name is one macOS never gives: letters after `utun` or `feth` (`utunl0`,
    /// `utunI0`), as text read off a screenshot has them.
    static func misread(_ name: String) -> Bool {
        let letters = name.prefix { $0.isLetter }
        return ["utun", "feth"].contains { letters.hasPrefix($0) && letters.count > $0.count }
    }

    /// The kind macOS gives an interface of this name: `utunN` (and `utun` misread, see
    /// `misread`), `fethN`, and tuntaposx's `tunN` and `tapN`, which only digits follow (`tun0`
    /// to `tun15`, `tap0` to `tap15`); everything else is context.
    static func kind(of name: String) -> InterfaceKind {
        if name.hasPrefix("utun") { return .utun }
        if name.hasPrefix("feth") { return .feth }
        for (prefix, kind) in [("tun", InterfaceKind.tun), ("tap", .tap)] where name.hasPrefix(prefix) {
            let unit = name.dropFirst(prefix.count)
            if !unit.isEmpty, unit.allSatisfy(\.isASCII), unit.allSatisfy(\.isNumber) { return kind }
        }
        return .other
    }

    /// Whether a name is a tuntaposx interface's (`tun0`, `tap3`).
    static func isTuntaposx(_ name: String) -> Bool {
        [.tun, .tap].contains(kind(of: name))
    }
}
