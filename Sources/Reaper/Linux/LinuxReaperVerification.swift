#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
import TunwardenCore

/// What a batch looks at around its deletion. Right before it: the routes and the sockets bound to
/// addresses that depend on a target, then the links as one consistent dump or target by target, and
/// whether each grouped target may still be deleted. Right after it: whether each target is gone
/// (where one that moved to another network namespace went is `goneFromHere`'s). Each look is by
/// ifindex, as the fence is. A look that cannot be had before the deletion throws; the check
/// after it answers nil for a target it could not check, never a guess.
extension LinuxReaper {
    /// Why deleting each of `targets` would take other devices' routes with it, where it would:
    /// a route of any table and either family that takes one of its addresses as source and does
    /// not leave through it alone (the kernel deletes an IPv4 one of the main table with the
    /// address, leaves an IPv4 one of another table unusable, and keeps an IPv6 one sending from
    /// the address no device has: `Heuristics.sourceLossConsequence`), a kernel tunnel in `tunnelLocals` (by address, see
    /// `tunnelLocals(_:)`) that sends from one of its addresses, or an IPv4 multipath
    /// route that leaves through it and another device (the kernel deletes it whole). The
    /// audit's rules say the same of the plan's inventory (`Heuristics.routesSourced`,
    /// `sharedRoutes`); this is what changed since. Also, first, sockets bound to an address
    /// only targets have (`addressSockets`, by address: see `HolderScan.addressSockets`), whose
    /// deletion deletes the address under them (`Heuristics.socketsOnOwnAddresses`), the raw and
    /// ping sockets among them named from `rawAddressSockets`. Throws when a dump cannot be had.
    static func dependentRoutes(of targets: Set<Int32>, addressSockets: [[UInt8]: Int] = [:], rawAddressSockets: [[UInt8]: [String]] = [:],
                                tunnelLocals: [[UInt8]: [String]] = [:], client: RtnetlinkClient) throws -> [Int32: String] {
        let inet: UInt8 = 2, inet6: UInt8 = 10, main: UInt32 = 254
        var owners: [[UInt8]: Set<Int32>] = [:]
        // Addresses a device that stays has too: they stay, and so do their routes.
        var staying = Set<[UInt8]>()
        // IPv6 addresses too: routes of either family take them as source (`src`).
        for family in [inet, inet6] {
            try client.dumpEach(operation: "RTM_GETADDR", request: { AddressMessage.dumpRequest(family: family, sequence: $0) },
                                restart: { (owners, staying) = (owners.filter { $0.key.count != (family == inet ? 4 : 16) }, staying.filter { $0.count != (family == inet ? 4 : 16) }) }) { message in
                guard message.header.type == NetlinkType.newAddress else { return }
                let address = try AddressMessage.decode(message.payload)
                let index = Int32(bitPattern: address.index)
                guard address.family == family, let local = address.local ?? address.address else { return }
                if targets.contains(index) { owners[local, default: []].insert(index) } else { staying.insert(local) }
            }
        }
        for address in staying { owners[address] = nil }
        var found: [Int32: String] = [:]
        for (address, sockets) in addressSockets where sockets > 0 {
            guard let holders = owners[address], let text = IPAddress(bytes: address) else { continue }
            for target in holders where found[target] == nil {
                found[target] = Heuristics.socketUse(SocketLists(rawAddresses: rawAddressSockets), index: Int(target), ownAddresses: [(text, sockets)], now: true)
            }
        }
        // Kernel tunnels that send from an address only targets have.
        for (address, tunnels) in tunnelLocals {
            guard let holders = owners[address] else { continue }
            for target in holders where found[target] == nil {
                found[target] = Heuristics.tunnelLocalReason(tunnels, address: IPAddress(bytes: address), now: true)
            }
        }
        // The route dump starts over (and empties what it found) before each try, the first
        // included: what the sockets showed stays apart from it. IPv6 routes are dumped only when
        // a target has an IPv6 address no device that stays has; their multipath routes only
        // lose the hop.
        var byRoutes: [Int32: String] = [:]
        let routeFamilies = owners.keys.contains(where: { $0.count == 16 }) ? [inet, inet6] : [inet]
        for family in routeFamilies {
            var dumped: [Int32: String] = [:]
            try client.dumpEach(operation: "RTM_GETROUTE", request: { RouteMessage.dumpRequest(family: family, sequence: $0) }, restart: { dumped = [:] }) { message in
                guard message.header.type == NetlinkType.newRoute else { return }
                let route = try RouteMessage.decode(message.payload)
                guard route.family == family, route.flags & RouteMessage.cloned == 0 else { return }
                let devices = Set(route.nextHops.isEmpty ? [route.outputInterface].compactMap { $0 } : route.nextHops.map(\.interfaceIndex))
                let destination = route.destinationLength == 0 ? "default"
                    : route.destination.flatMap { IPAddress(bytes: $0) }.map { "\($0)/\(route.destinationLength)" } ?? "a route"
                // A route through targets alone goes with them anyway.
                let throughTargetsAlone = !devices.isEmpty && devices.isSubset(of: targets)
                if let source = route.preferredSource, let sourced = owners[source], !throughTargetsAlone {
                    for target in sourced where found[target] == nil && byRoutes[target] == nil && dumped[target] == nil {
                        let address = IPAddress(bytes: source).map { "\($0)" } ?? "its address"
                        let table = route.table == main ? "" : " table \(route.table)"
                        dumped[target] = "a route (\(destination)\(table)) takes its address \(address) as source, which no device that stays has, and "
                            + Heuristics.sourceLossConsequence(ipv6: family == inet6, mainTable: route.table == main, count: 1)
                    }
                }
                if family == inet, route.nextHops.count > 1, !throughTargetsAlone {
                    for target in devices.intersection(targets) where found[target] == nil && byRoutes[target] == nil && dumped[target] == nil {
                        dumped[target] = "a multipath route (\(destination)) also leaves through a device that stays, and the kernel would delete it whole with it"
                    }
                }
            }
            byRoutes.merge(dumped) { first, _ in first }
        }
        found.merge(byRoutes) { sockets, _ in sockets }
        return found
    }

    /// The kernel tunnels among `links` that send from a local address (a vxlan's `local`, a gre,
    /// ipip, sit, ip6tnl or vti tunnel's), by that address, each named `KIND NAME`.
    static func tunnelLocals(_ links: [LinkMessage]) -> [[UInt8]: [String]] {
        var result: [[UInt8]: [String]] = [:]
        for link in links where link.linkNetnsID == nil {
            guard let local = link.tunnelLocal else { continue }
            result[local, default: []].append("\(link.kind ?? "tunnel") \(link.name.map(InterfaceName.text) ?? "ifindex \(link.index)")")
        }
        return result
    }

    /// What the last check before deleting saw: every link (`whole`), or the targets and the
    /// links of the kinds that stack on a device and of the kernel tunnels.
    struct View {
        var links: [LinkMessage]
        var whole: Bool
    }

    /// Looks at the targets right before deleting: one consistent dump of every link if the
    /// kernel gives one within a few tries, otherwise each target by itself (RTM_GETLINK by
    /// ifindex, answered from one moment) and the consistent kind-filtered dumps of
    /// `stackingKinds` and `LinkMessage.tunnelKinds`, which are small enough to come back
    /// uninterrupted (through conversations `connect` opens). Throws when neither can be had.
    static func look(at targets: Set<Int>, client: RtnetlinkClient, connect: () throws -> RtnetlinkClient, wholeFirst: Bool = true) throws -> View {
        if wholeFirst {
            do {
                return View(links: try dumpLinks(client, attempts: 6), whole: true)
            } catch NetlinkError.dumpInterrupted {}
        }
        var links: [LinkMessage] = []
        for index in targets {
            do {
                if let link = try link(at: Int32(index), client: client) { links.append(link) }
            } catch NetlinkError.kernel(_, ENODEV, _) {
                continue
            }
        }
        var kinds = ForeignStacking.stackingKinds
        kinds += LinkMessage.tunnelKinds.filter { !kinds.contains($0) }
        links += try Self.links(ofKinds: kinds, connect: connect, consistent: true).filter { !targets.contains(Int($0.index)) }
        return View(links: links, whole: false)
    }

    /// Whether each target is still there after the delete: a device at its ifindex that is the
    /// target (`isTarget`; another device may have taken the ifindex the deletion freed), from one
    /// dump, or device by device while dumps keep being interrupted; nil for one that could not
    /// be checked.
    static func stillPresent(_ targets: [Target], group: UInt32, client: RtnetlinkClient) -> [Int32: Bool] {
        if let links = try? dumpLinks(client, attempts: 6) {
            let byIndex = Dictionary(links.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
            return Dictionary(uniqueKeysWithValues: targets.map { target in (target.index, byIndex[target.index].map { isTarget($0, target, group: group) } ?? false) })
        }
        var result: [Int32: Bool] = [:]
        for target in targets {
            switch lookUp(target, group: group, client: client) {
            case .target: result[target.index] = true
            case .gone: result[target.index] = false
            case .unknown: continue
            }
        }
        return result
    }

    /// What is at a target's ifindex now.
    enum Lookup {
        case target
        /// Nothing, or another device (`other` names it).
        case gone(other: String?)
        case unknown(any Error)
    }

    /// The device at ifindex `index` as the kernel shows it now (RTM_GETLINK); nil when the answer
    /// holds no link. The kernel's refusal (ENODEV for no device there) throws.
    static func link(at index: Int32, client: RtnetlinkClient) throws -> LinkMessage? {
        let replies = try client.request(operation: "RTM_GETLINK") { LinkMessage.getRequest(index: index, sequence: $0) }
        return try replies.first { $0.header.type == NetlinkType.newLink }.map { try LinkMessage.decode($0.payload) }
    }

    /// Looks at the device at `target`'s ifindex (RTM_GETLINK) and tells whether it is the target
    /// (`isTarget`, with the batch's private `group`).
    static func lookUp(_ target: Target, group: UInt32, client: RtnetlinkClient) -> Lookup {
        let index = target.index
        do {
            guard let link = try link(at: index, client: client) else { return .gone(other: nil) }
            return isTarget(link, target, group: group) ? .target : .gone(other: link.name.map(InterfaceName.text) ?? "an unnamed device")
        } catch NetlinkError.kernel(_, ENODEV, _) {
            return .gone(other: nil)
        } catch {
            return .unknown(error)
        }
    }

    /// Whether `link`, found at a target's ifindex, is the target: a tun/tap device bearing a
    /// mark the fence left on it (the private link group `group`, into which the reaper puts
    /// devices only by their private name; the private name as its name, multi-queue, or among
    /// its alternative names, single-queue), or, before any mark, its name. The kernel gives a
    /// freed ifindex to the next device that asks for it (one moved in from another namespace
    /// keeps its own, `ip link add … index N` and CRIU ask for one): a target deleted by something
    /// else may have another device at its ifindex, which is never taken for it.
    static func isTarget(_ link: LinkMessage, _ target: Target, group: UInt32? = nil) -> Bool {
        guard link.index == target.index, link.tun != nil else { return false }
        // Renamed by someone since, it is still the device the reaper grouped.
        if let group, target.grouped, link.group == group { return true }
        // A rename whose answer was lost may or may not have been made.
        if target.renamed { return link.name == target.fenceName || link.name == target.name }
        if target.altNameAdded { return link.altNames.contains(target.fenceName) }
        return link.name == target.name
    }

    /// A duration in seconds for people, to the millisecond (`1.204 s`).
    static func seconds(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        return "\(whole).\(String(format: "%03lld", fraction / 1_000_000_000_000_000)) s"
    }

    /// Why a grouped target must not be deleted, judged by ifindex from the last dump; nil when
    /// it may be.
    static func verificationProblem(_ target: Target, link: LinkMessage, group: UInt32, stackedOn uppers: [String]) -> String? {
        guard link.group == group else { return "its link group was changed since it was fenced" }
        // A name given to it since the plan that `--protect` keeps (the fence's own excepted).
        let names = ([link.name].compactMap { $0 } + link.altNames).filter { $0 != target.fenceName }.map(InterfaceName.text)
        if let pattern = ReapPlan.protectingPattern(target.protect, names: names) {
            return "it now has a name the protect pattern '\(Glob.display(pattern))' matches (\(names.first { Glob.matches(pattern, $0) } ?? ""))"
        }
        guard link.tun?.persist == true else { return "no longer a persistent tun/tap device" }
        let differences = identity(of: link).differences(from: DeviceIdentity(target.item.interface))
        if !differences.isEmpty { return "it is not the device the plan showed (\(differences.joined(separator: ", ")))" }
        if !uppers.isEmpty { return "\(uppers.joined(separator: ", ")) now sits on it (deleting it would delete them too)" }
        if let master = link.master, master != 0 { return "it became a port of ifindex \(master)" }
        if let attached = Heuristics.xdpReason(program: link.xdpProgramID, now: true) { return attached }
        if target.multiQueue {
            guard link.name == target.fenceName else {
                return "renamed by something else since it was fenced (now \(link.name.map(InterfaceName.text) ?? "unnamed"))"
            }
            if !link.altNames.isEmpty {
                return "it has alternative names (\(link.altNames.map(InterfaceName.text).joined(separator: ", "))), through which a process could attach"
            }
            let queues = link.tun?.numQueues, disabled = link.tun?.numDisabledQueues
            guard queues == 0, disabled == 0 else {
                if queues == nil || disabled == nil { return "the kernel did not report its queues" }
                return "a process holds a queue (\(queues!) attached, \(disabled!) disabled)"
            }
        } else {
            // A rename after fencing changes nothing that matters: tunwarden holds the device's
            // only queue, so nobody can be attached to it, and the alternative name still proves
            // which device that is. (Renamed before, it was skipped at its fence; skipping renames
            // here would keep a look from ever settling while something renames devices.)
            guard link.altNames.contains(target.fenceName) else { return "its private alternative name was removed by something else" }
        }
        return nil
    }
}
#endif
