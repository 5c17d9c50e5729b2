#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
import TunwardenCore

/// The parts of a batch's last look before deleting that read more than the links: what depends
/// on a target through addresses, routes, traffic control, nftables and iptables rules and vxlan
/// forwarding entries (the checks whose cost grows with the host), the kernel tunnels those
/// checks need from the links, and what is stacked on a target. The batch takes them in that
/// order and the links last (see `reapBatch`, step 4), so that what those checks take time to
/// read is not left unseen behind a link dump taken before them.
extension LinuxReaper {
    /// Why a last look refuses to let anything of the batch be deleted: every target is given
    /// back, failed, with `detail`.
    struct NothingDeleted: Error {
        var detail: String
    }

    /// What the slow checks of a last look read of the links: each kernel tunnel of the namespace
    /// (the kinds of `LinkMessage.tunnelKinds`, vxlan among them), with what those checks use of
    /// it (its local address for the routes' check, its ifindex for its forwarding entries, its
    /// name for what is said). The final look at the links must show the same, or what the
    /// checks judged by has changed since they read it and the look is not settled.
    struct TunnelFacts: Equatable {
        struct Tunnel: Hashable {
            var index: Int32
            var kind: String?
            var name: [UInt8]?
            var local: [UInt8]?
            var linkNetnsID: Int32?
        }

        var tunnels: Set<Tunnel>

        init(_ links: [LinkMessage]) {
            let kinds = Set(LinkMessage.tunnelKinds)
            tunnels = Set(links.filter { $0.kind.map(kinds.contains) == true }.map {
                Tunnel(index: $0.index, kind: $0.kind, name: $0.name, local: $0.tunnelLocal, linkNetnsID: $0.linkNetnsID)
            })
        }
    }

    /// Every link of each of `kinds`, each kind by the kernel's kind filter
    /// (`ForeignStacking.linksOf`): a dump that costs little more than the kernel's walk over the
    /// namespace's devices when few are of that kind, where a dump of every link costs the
    /// encoding and decoding of all of them. An answer the kernel did not filter (no driver of
    /// that kind: no link of it) is not read to its end, and `connect` opens another client.
    /// `consistent` as `linksOf` takes it.
    static func links(ofKinds kinds: [String], connect: () throws -> RtnetlinkClient, consistent: Bool) throws -> [LinkMessage] {
        var client = try connect()
        var links: [LinkMessage] = []
        for kind in kinds {
            if let found = try ForeignStacking.linksOf(kind, client: client, stopEarly: true, consistent: consistent) {
                links += found
            } else {
                client = try connect()
            }
        }
        return links
    }

    /// Why each of `targets` must not be deleted because something depends on it through
    /// traffic control, nftables or iptables rules, IPsec policies, vxlan forwarding entries,
    /// addresses or routes, configured since the plan by ifindex or address (which the fence does
    /// not stop): tc actions and nftables and iptables rules that send packets to one, tc filters
    /// that match one as the packets' input device, IPsec
    /// (xfrm) policies whose selector names one, MPTCP endpoints that name one, BPF programs attached
    /// to one through tcx, the forwarding entries
    /// of `tunnels`' vxlans and of those `elsewhere` found that send through one, and last (of
    /// these, the closest to the final look at the links) the routes and kernel tunnels of
    /// `dependentRoutes` (the tunnels from `tunnels`, this namespace's, and from `elsewhere`) and
    /// sockets bound to addresses only targets have (from `sockets`). Where several hold, the
    /// routes' reason is given first, then tc's, nftables', and the forwarding entries'. Throws
    /// `NothingDeleted` when any of these cannot be read whole, or names a device it cannot
    /// resolve, which may be any target.
    func dependents(of targets: [Target], sockets: SocketLists, elsewhere: ForeignStacking.Found, tunnels: [LinkMessage],
                    client: RtnetlinkClient, namespaceFD: Int32?) throws -> [Int32: String] {
        let indices = Set(targets.map { Int($0.index) })
        var dependents: [Int32: String] = [:]
        let redirects: TrafficRedirects.Found
        do {
            redirects = try TrafficRedirects.found(client: client)
        } catch {
            throw NothingDeleted(detail: "cannot list the traffic-control actions that may send packets to it: \(error); nothing deleted")
        }
        if let unresolved = redirects.unresolved { throw NothingDeleted(detail: "\(unresolved), which may be any of them; nothing deleted") }
        for (index, count) in redirects.counts where indices.contains(index) {
            if let reason = Heuristics.redirectReason(count, now: true) { dependents[Int32(index)] = reason }
        }
        // tc filters that match a target by its index since the plan.
        switch system.tcFilters(namespaceFD) {
        case let .success(found):
            if let name = found.unresolved.first {
                throw NothingDeleted(detail: "a tc filter matches the packets' input device \(name) by index, and which device that is cannot be told now (renamed or deleted as it was read), which may be any of them; nothing deleted")
            }
            if let range = found.ranges.first {
                throw NothingDeleted(detail: "a tc filter compares the packets' devices with a range of indexes or names (\(range)), which may take in any of them; nothing deleted")
            }
            for (index, filters) in found.matches where indices.contains(index) && dependents[Int32(index)] == nil {
                if let reason = Heuristics.tcFilterIndexReason(filters, now: true) { dependents[Int32(index)] = reason }
            }
        case let .failure(problem):
            throw NothingDeleted(detail: "cannot tell whether a tc filter matches it by index (\(problem)); nothing deleted")
        }
        switch system.forwards(namespaceFD) {
        case let .success(found):
            if let unresolved = found.unresolved { throw NothingDeleted(detail: "\(unresolved), which may be any of them; nothing deleted") }
            for (index, count) in found.counts where indices.contains(index) {
                if dependents[Int32(index)] == nil, let reason = Heuristics.forwardReason(count, now: true) { dependents[Int32(index)] = reason }
            }
            for target in targets where dependents[target.index] == nil {
                if let reason = Heuristics.hookReason(found.hooks.on(target.name), now: true)
                    ?? Heuristics.nftablesIndexReason(found.indexUses[Int(target.index)] ?? [], now: true)
                    ?? Heuristics.namedForwardReason(found.byName[target.name] ?? [], now: true) {
                    dependents[target.index] = reason
                }
            }
        case let .failure(problem):
            throw NothingDeleted(detail: "cannot tell whether an nftables or iptables rule sends packets to it (\(problem)); nothing deleted")
        }
        /// Marks each target a list that names devices by index gives a reason for (a target
        /// marked already keeps its reason); a list that cannot be read stops every deletion.
        func keep(_ listed: Result<[Int: [String]], SocketUse.Unreadable>, unreadable: String, reason: ([String]) -> String?) throws {
            switch listed {
            case let .success(found):
                for (index, items) in found where indices.contains(index) && dependents[Int32(index)] == nil {
                    if let reason = reason(items) { dependents[Int32(index)] = reason }
                }
            case let .failure(problem):
                throw NothingDeleted(detail: "cannot tell whether \(unreadable) (\(problem)); nothing deleted")
            }
        }
        // Each by ifindex since the plan, which the fence does not stop: IPsec policies that
        // select a target, MPTCP endpoints that name one, BPF programs attached through tcx.
        try keep(system.xfrmPolicies(namespaceFD), unreadable: "an IPsec (xfrm) policy selects it") { Heuristics.xfrmPolicyReason($0, now: true) }
        try keep(system.mptcpEndpoints(namespaceFD), unreadable: "an MPTCP endpoint names it") { Heuristics.mptcpEndpointReason($0, now: true) }
        try keep(system.tcPrograms(indices.sorted(), namespaceFD), unreadable: "a tc program is attached to it") { Heuristics.tcProgramReason($0, now: true) }
        // vxlan forwarding entries that send through a target (`bridge fdb add … via`): of this
        // namespace's vxlans, and of those made here and moved away.
        var vias: VxlanForwarding.Vias
        do {
            vias = try VxlanForwarding.vias(of: tunnels.filter { $0.kind == "vxlan" && $0.linkNetnsID == nil }, client: client, namespaceFD: namespaceFD, settled: true)
        } catch {
            throw NothingDeleted(detail: "cannot list the vxlan forwarding entries that may send through it: \(error); nothing deleted")
        }
        vias.merge(elsewhere.vias, uniquingKeysWith: +)
        for (index, names) in vias where indices.contains(index) {
            if dependents[Int32(index)] == nil, let reason = Heuristics.viaReason(names, now: true) { dependents[Int32(index)] = reason }
        }
        let routes: [Int32: String]
        do {
            routes = try Self.dependentRoutes(of: Set(targets.map(\.index)), addressSockets: sockets.addressSockets, rawAddressSockets: sockets.rawAddresses,
                                              tunnelLocals: Self.tunnelLocals(tunnels).merging(elsewhere.tunnelLocals, uniquingKeysWith: +), client: client)
        } catch {
            throw NothingDeleted(detail: "cannot list the addresses and routes that depend on it: \(error); nothing deleted")
        }
        return dependents.merging(routes) { _, route in route }
    }

    /// The devices stacked on each of `targets` (by ifindex): the links of `links`, this
    /// namespace's, that name one as their lower (IFLA_LINK, or a vxlan's IFLA_VXLAN_LINK), and
    /// those other namespaces stack on one (`elsewhere`), each by name.
    static func stacked(on targets: Set<Int>, links: [LinkMessage], elsewhere: ForeignStacking.Found) -> [Int: [String]] {
        var stacked: [Int: [String]] = [:]
        for link in links where link.linkNetnsID == nil {
            for lower in [link.link.map(Int.init), link.vxlanLink.map { Int($0) }].compactMap({ $0 }) where targets.contains(lower) && lower != Int(link.index) {
                stacked[lower, default: []].append(link.name.map(InterfaceName.text) ?? "ifindex \(link.index)")
            }
        }
        for (lower, names) in elsewhere.uppers where targets.contains(lower) { stacked[lower, default: []] += names }
        return stacked
    }
}
#endif
