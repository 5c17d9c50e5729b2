#if os(Linux)
import CLinuxShims
import Foundation
import Glibc
import Inventory
import Netlink
import Storage
import TunwardenCore

/// One batch of a reap: fencing each target by ifindex, the last look at the kernel, deleting,
/// and putting back what is not deleted.
extension LinuxReaper {
    /// One device of a batch and how far it has been fenced, so that it can be restored exactly.
    struct Target {
        var item: ReapItem
        var index: Int32 { Int32(item.interface.index) }
        var name: [UInt8] { InterfaceName.kernelBytes(item.ifname) }
        var multiQueue: Bool { item.interface.tun?.multiQueue == true }
        /// The private name: an alternative name (single-queue) or the new name (multi-queue).
        var fenceName: [UInt8]
        /// tunwarden's own queue on a single-queue device.
        var fd: Int32?
        var altNameAdded = false
        var takenDown = false
        var renamed = false
        var grouped = false
        /// Its addresses and routes before fencing (multi-queue), to be given back if it is not deleted.
        var downed: DownedState?

        init(item: ReapItem, fenceName: [UInt8]) {
            self.item = item
            self.fenceName = fenceName
        }
    }

    /// Fences, verifies and deletes one batch; `group` is one no link was in at re-verification.
    func reapBatch(_ batch: [Target], group: UInt32, client: RtnetlinkClient, namespaceFD: Int32?) -> [ReapResult] {
        var results: [ReapResult] = []
        func record(_ target: Target, _ outcome: JournalRecord.Outcome, _ detail: String? = nil) {
            results.append(ReapResult(ifname: target.item.ifname, ifindex: target.item.interface.index, kind: target.item.interface.kind,
                                      outcome: outcome, detail: detail))
        }
        /// Restores every one of `targets` and records it with `outcome`, `detail` and what could
        /// not be restored: the batch stops short of deleting them.
        func abandon(_ targets: [Target], _ outcome: JournalRecord.Outcome, _ detail: String) {
            for target in targets { giveBack(target, outcome, detail) }
        }
        /// Restores `target` and records it with `outcome` and `detail`, or as failed, saying what,
        /// when it could not be restored whole.
        func giveBack(_ target: Target, _ outcome: JournalRecord.Outcome, _ detail: String) {
            var target = target
            let (text, whole) = restore(&target, fenceGroup: group, client: client)
            record(target, whole ? outcome : .failed, detail + text)
        }
        /// The addresses and routes of the batch's multi-queue targets, read once, when the first
        /// one is fenced.
        var downedStates: [Int32: DownedState]?
        let multiQueueIndices = Set(batch.filter(\.multiQueue).map(\.index))
        func downedState(of index: Int32) throws -> DownedState {
            if downedStates == nil {
                let withoutARP = Set(batch.filter { $0.multiQueue && $0.item.interface.flags.contains("NOARP") }.map(\.index))
                downedStates = try DownedState.read(for: multiQueueIndices, withoutARP: withoutARP, client: client)
            }
            return downedStates?[index] ?? DownedState()
        }
        var targets = batch

        // 1. One /dev/net/tun per single-queue device, opened inside the namespace: a tun
        //    descriptor is bound to the namespace it was opened in.
        let singleQueue = targets.indices.filter { !targets[$0].multiQueue }
        if !singleQueue.isEmpty {
            do {
                let opened = try system.tun.open(count: singleQueue.count, namespaceFD: namespaceFD)
                for (position, fd) in zip(singleQueue, opened) { targets[position].fd = fd }
            } catch {
                targets.forEach { record($0, .failed, "cannot open /dev/net/tun: \(error)") }
                return results
            }
        }
        defer { for target in targets { if let fd = target.fd { system.tun.close(fd) } } }

        // 2. Fence each device, by ifindex.
        var fenced: [Target] = []
        for var target in targets {
            if let signal = caughtSignal() {
                record(target, .skipped, "not attempted: interrupted by \(signal)")
                continue
            }
            switch fence(&target, client: client, downedState: downedState) {
            case nil: fenced.append(target)
            case let (outcome, detail)?: giveBack(target, outcome, detail)
            }
        }
        stepHook?("fenced")

        // 3. Into the group.
        var grouped: [Target] = []
        for var target in fenced {
            do {
                let index = target.index
                try Self.change(&target.grouped, index, "RTM_NEWLINK (group)", client: client, isDone: { $0.group == group }) {
                    LinkMessage.setGroupRequest(index: index, group: group, sequence: $0)
                }
                grouped.append(target)
            } catch {
                giveBack(target, .failed, "cannot set its group: \(error)")
            }
        }
        stepHook?("grouped")

        // 4. Right before deleting: look, and take out of the group whatever fails verification,
        //    until a look shows every remaining target verified. The fence stops attaching by
        //    name, not what is done to a device by ifindex or address (stacking a device on it,
        //    making it a port, attaching an XDP program, routes that depend on it, binding a
        //    socket to it): what grows with the load is asked first (the socket lists, as long
        //    as the namespace has sockets; other namespaces, as many as the host has), then the
        //    targets' addresses and routes, and the links last, right before the deletion, so
        //    that what the fence leaves open has the least time to go unseen. The look at the
        //    links is one dump of every link, which also proves the group holds nothing else;
        //    while links come and go too fast for a consistent dump, it is each target by itself
        //    plus the (small) dumps of the kinds that stack on a device, and the targets are then
        //    deleted one by one.
        //    The look is only as good as it is recent: one that took longer than
        //    `lastLookLimit` from its first list to the deletion (the reaper stopped or starved,
        //    a stalled machine) is taken again. A host whose honest look takes longer (a full
        //    routing table, hundreds of namespaces) is not refused for it: a look that took at
        //    most half as long again as the quickest of this batch's is acted on. After three
        //    looks too slow for either, nothing is deleted.
        // Watched from before the first look: a target moved to another namespace at any moment
        // after it vanishes from this one's dumps as if deleted (see step 6).
        let departures = system.departures(namespaceFD)
        var confirmed = grouped
        var whole = true
        var staleLooks: [Duration] = []
        var quickestLook: Duration?
        lastLook: while true {
            var settled = false
            var lookStarted = ContinuousClock.now
            for _ in 0..<4 {
                lookStarted = ContinuousClock.now
                if let signal = caughtSignal() {
                    abandon(confirmed, .skipped, "interrupted by \(signal) before deleting")
                    return results
                }
                let targetIndices = Set(confirmed.map { Int($0.index) })
                // A process that bound a socket to a target since the plan (tcpdump, a server
                // listening only on it or on an address only it has), or joined a multicast group
                // on it, uses it; with the lists unreadable, any target may be used.
                let sockets: SocketLists
                switch system.socketUse(namespaceFD) {
                case let .success(counts): sockets = counts
                case let .failure(problem):
                    abandon(confirmed, .failed, "cannot tell whether a socket is bound to it (\(problem)); nothing deleted")
                    return results
                }
                // Devices stacked on a target from another namespace (a macvlan moved into a
                // container's) go with it too: every other namespace is asked, and one that cannot be
                // leaves nothing deleted.
                let elsewhere = system.foreignStacking(namespaceFD, namespaceDirectory)
                guard elsewhere.unread.isEmpty else {
                    abandon(confirmed, .failed, "cannot look for devices stacked on it from other network namespaces (\(elsewhere.unread.prefix(3).joined(separator: ", ")) could not be read); nothing deleted")
                    return results
                }
                // Routes of other devices that depend on a target, and traffic-control actions and
                // nftables rules that send packets to one, configured since the plan (by ifindex or
                // address, which the fence does not stop).
                var dependents: [Int32: String]
                let redirects: TrafficRedirects.Found
                do {
                    dependents = try Self.dependentRoutes(of: Set(targetIndices.map(Int32.init)), addressSockets: sockets.addressSockets,
                                                         rawAddressSockets: sockets.rawAddresses, client: client)
                    redirects = try TrafficRedirects.found(client: client)
                } catch {
                    abandon(confirmed, .failed, "cannot list the addresses and routes that depend on it: \(error); nothing deleted")
                    return results
                }
                if let unresolved = redirects.unresolved {
                    abandon(confirmed, .failed, "\(unresolved), which may be any of them; nothing deleted")
                    return results
                }
                for (index, count) in redirects.counts where targetIndices.contains(index) {
                    if dependents[Int32(index)] == nil, let reason = Heuristics.redirectReason(count, now: true) { dependents[Int32(index)] = reason }
                }
                switch system.forwards(namespaceFD) {
                case let .success(found):
                    if let unresolved = found.unresolved {
                        abandon(confirmed, .failed, "\(unresolved), which may be any of them; nothing deleted")
                        return results
                    }
                    for (index, count) in found.counts where targetIndices.contains(index) {
                        if dependents[Int32(index)] == nil, let reason = Heuristics.forwardReason(count, now: true) { dependents[Int32(index)] = reason }
                    }
                    for target in confirmed where dependents[target.index] == nil {
                        if let reason = Heuristics.hookReason(found.hooks.on(target.name), now: true)
                            ?? Heuristics.namedForwardReason(found.byName[target.name] ?? [], now: true) {
                            dependents[target.index] = reason
                        }
                    }
                case let .failure(problem):
                    abandon(confirmed, .failed, "cannot tell whether an nftables or iptables rule sends packets to it (\(problem)); nothing deleted")
                    return results
                }
                let view: View
                do {
                    view = try Self.look(at: targetIndices, client: client, wholeFirst: !lookTargetByTarget)
                } catch {
                    abandon(confirmed, .failed, "cannot re-verify before deleting: \(error)")
                    return results
                }
                whole = view.whole
                if let stranger = view.links.first(where: { $0.group == group && !targetIndices.contains(Int($0.index)) }) {
                    let name = stranger.name.map(InterfaceName.text) ?? "ifindex \(stranger.index)"
                    abandon(confirmed, .failed, "group \(group) also holds \(name), which is not a target; nothing deleted")
                    return results
                }
                var stacked: [Int: [String]] = [:]
                for link in view.links where link.linkNetnsID == nil {
                    for lower in [link.link.map(Int.init), link.vxlanLink.map { Int($0) }].compactMap({ $0 }) where targetIndices.contains(lower) && lower != Int(link.index) {
                        stacked[lower, default: []].append(link.name.map(InterfaceName.text) ?? "ifindex \(link.index)")
                    }
                }
                for (lower, names) in elsewhere.uppers where targetIndices.contains(lower) { stacked[lower, default: []] += names }
                let byIndex = Dictionary(view.links.map { (Int($0.index), $0) }, uniquingKeysWith: { a, _ in a })
                var kept: [Target] = []
                var released = false
                for target in confirmed {
                    guard let link = byIndex[Int(target.index)] else {
                        // Deleted by someone else: there is nothing to restore.
                        record(target, .skipped, "gone since the plan was made (deleted by something else)")
                        released = true
                        continue
                    }
                    if let use = Heuristics.socketUse(sockets, index: Int(target.index), now: true) {
                        giveBack(target, .skipped, use)
                        released = true
                    } else if let dependent = dependents[target.index] {
                        giveBack(target, .skipped, dependent)
                        released = true
                    } else if let problem = Self.verificationProblem(target, link: link, group: group, stackedOn: stacked[Int(target.index)] ?? []) {
                        giveBack(target, .skipped, problem)
                        released = true
                    } else {
                        kept.append(target)
                    }
                }
                confirmed = kept
                if !released {
                    settled = true
                    break
                }
            }
            guard !confirmed.isEmpty else { return results }
            guard settled else {
                abandon(confirmed, .failed, "the devices kept changing while being verified; nothing deleted")
                return results
            }
            stepHook?("verified")
            if let signal = caughtSignal() {
                abandon(confirmed, .skipped, "interrupted by \(signal) before deleting")
                return results
            }
            let took = ContinuousClock.now - lookStarted
            let quickest = min(quickestLook ?? took, took)
            // The quickest look counts as honest only once another was timed beside it.
            let honest = quickestLook.map { _ in quickest * 3 / 2 } ?? .zero
            quickestLook = quickest
            if took > max(lastLookLimit, honest) {
                staleLooks.append(took)
                if staleLooks.count < 3 { continue lastLook }
                let times = staleLooks.map { Self.seconds($0) }.joined(separator: ", ")
                abandon(confirmed, .failed, "each last look before deleting took too long to reach the deletion (\(times)): longer than \(Self.seconds(lastLookLimit)) "
                        + "and half as long again as the quickest, as when the reaper is stopped or starved or the machine stalls; what a look saw may no longer hold; nothing deleted")
                return results
            }
            break
        }

        // 5. One deletion for the whole group, or, when the group could not be seen whole, one
        //    per target by ifindex (each pays the kernel's unregistration cost, but deletes
        //    exactly that device).
        //    A deletion whose answer is lost may have been carried out: step 6 tells, device by
        //    device, and gives back what is still there.
        var unanswered: [Int32: String] = [:]
        if whole {
            do {
                try client.request(operation: "RTM_DELLINK (group \(group))") { LinkMessage.deleteGroupRequest(group: group, sequence: $0) }
            } catch NetlinkError.unanswered(let operation, let detail) {
                for target in confirmed { unanswered[target.index] = "\(operation)'s answer was lost (\(detail))" }
            } catch {
                abandon(confirmed, .failed, "\(error)")
                return results
            }
        } else {
            var sent: [Target] = []
            var checkpoint = ContinuousClock.now
            for (position, target) in confirmed.enumerated() {
                // One by one, each deletion is a step a stop can fall between: a signal, or a
                // pause longer than a look may take, leaves the rest undeleted.
                let paused = ContinuousClock.now - checkpoint
                if let signal = caughtSignal() {
                    abandon(Array(confirmed[position...]), .skipped, "interrupted by \(signal) before deleting")
                    break
                }
                if paused > lastLookLimit {
                    abandon(Array(confirmed[position...]), .skipped, "not deleted: \(Self.seconds(paused)) passed between two deletions (the reaper stopped or starved), so the last look may no longer hold; the next reap looks again")
                    break
                }
                checkpoint = ContinuousClock.now
                let index = target.index
                do {
                    try client.request(operation: "RTM_DELLINK") { LinkMessage.deleteRequest(index: index, sequence: $0) }
                    sent.append(target)
                } catch NetlinkError.unanswered(let operation, let detail) {
                    unanswered[index] = "\(operation)'s answer was lost (\(detail))"
                    sent.append(target)
                } catch NetlinkError.kernel(_, ENODEV, _) {
                    if let namespace = departures?.moved(among: [index])?[index] {
                        record(target, .failed, Self.movedAway(target, to: namespace))
                    } else {
                        record(target, .skipped, "gone since the plan was made (deleted by something else)")
                    }
                } catch {
                    giveBack(target, .failed, "\(error)")
                }
            }
            confirmed = sent
        }

        // 6. Check that they are gone, by ifindex, and that they went with the deletion: a target
        //    moved to another namespace before it (`ip link set … netns`) is gone from this one
        //    too, alive elsewhere, and only its removal notification says so.
        let present = Self.stillPresent(confirmed.map { Int($0.index) }, client: client)
        let moved = departures?.moved(among: Set(confirmed.map(\.index)))
        for target in confirmed {
            switch present[Int(target.index)] {
            case true? where unanswered[target.index] != nil:
                giveBack(target, .failed, "not deleted: \(unanswered[target.index]!), and it is still there")
            case true?: record(target, .failed, "still present after RTM_DELLINK")
            case false? where moved == nil:
                record(target, .deleted, "gone after RTM_DELLINK; whether it went to another network namespace just before could not be told (the link notifications were \(departures == nil ? "not to be had" : "lost"))")
            case false?:
                if let namespace = moved?[target.index] { record(target, .failed, Self.movedAway(target, to: namespace)) } else { record(target, .deleted) }
            case nil where unanswered[target.index] != nil:
                record(target, .failed, "\(unanswered[target.index]!), and whether it is gone could not be checked: `ip link show` tells; it is fenced (link group \(group)) if it is there")
            case nil: record(target, .deleted, "RTM_DELLINK succeeded; the check afterwards could not be made")
            }
        }
        return results
    }

    /// Why `target` counts as not deleted, having moved to the network namespace with id
    /// `namespace` (as the inspected one knows it), with the commands that take this reap's fence
    /// off it there.
    static func movedAway(_ target: Target, to namespace: Int32) -> String {
        let fence = ShellWord.quote(target.fenceName), name = ShellWord.quote(target.name)
        let group = target.item.interface.group ?? 0
        let giveBack = target.multiQueue
            ? "ip link set dev \(fence) name \(name); ip link set dev \(name) group \(group)\(target.takenDown ? "; ip link set dev \(name) up" : "")"
            : "ip link property del dev \(name) altname \(fence); ip link set dev \(name) group \(group)"
        return "not deleted: it moved to another network namespace (netns id \(namespace) as this one knows it, `ip netns list-id`) before the deletion "
            + "and lives on there, still fenced by this reap; there, `\(giveBack)` gives it back"
    }

    /// Why deleting each of `targets` would take other devices' routes with it, where it would:
    /// an IPv4 route of the main table that takes one of its IPv4 addresses as source and does
    /// not leave through it alone (the kernel deletes it with the address), or an IPv4 multipath
    /// route that leaves through it and another device (the kernel deletes it whole). The
    /// audit's rules say the same of the plan's inventory (`Heuristics.routesSourced`,
    /// `sharedRoutes`); this is what changed since. Also, first, sockets bound to an address
    /// only targets have (`addressSockets`, by address: see `HolderScan.addressSockets`), whose
    /// deletion deletes the address under them (`Heuristics.socketsOnOwnAddresses`), the raw and
    /// ping sockets among them named from `rawAddressSockets`. Throws when a dump cannot be had.
    static func dependentRoutes(of targets: Set<Int32>, addressSockets: [[UInt8]: Int] = [:], rawAddressSockets: [[UInt8]: [String]] = [:],
                                client: RtnetlinkClient) throws -> [Int32: String] {
        let inet: UInt8 = 2, inet6: UInt8 = 10, main: UInt32 = 254
        var owners: [[UInt8]: Set<Int32>] = [:]
        // Addresses a device that stays has too: they stay, and so do their routes.
        var staying = Set<[UInt8]>()
        // IPv6 addresses matter only to sockets bound to one.
        let families = addressSockets.keys.contains(where: { $0.count == 16 }) ? [inet, inet6] : [inet]
        for family in families {
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
        // The route dump starts over (and empties what it found) before each try, the first
        // included: what the sockets showed stays apart from it.
        var byRoutes: [Int32: String] = [:]
        try client.dumpEach(operation: "RTM_GETROUTE", request: { RouteMessage.dumpRequest(family: inet, sequence: $0) }, restart: { byRoutes = [:] }) { message in
            guard message.header.type == NetlinkType.newRoute else { return }
            let route = try RouteMessage.decode(message.payload)
            guard route.family == inet else { return }
            let devices = Set(route.nextHops.isEmpty ? [route.outputInterface].compactMap { $0 } : route.nextHops.map(\.interfaceIndex))
            let destination = route.destinationLength == 0 ? "default"
                : route.destination.flatMap { IPAddress(bytes: $0) }.map { "\($0)/\(route.destinationLength)" } ?? "a route"
            // A route through targets alone goes with them anyway.
            let throughTargetsAlone = !devices.isEmpty && devices.isSubset(of: targets)
            if route.table == main, let source = route.preferredSource, let sourced = owners[source], !throughTargetsAlone {
                for target in sourced where found[target] == nil && byRoutes[target] == nil {
                    let address = IPAddress(bytes: source).map { "\($0)" } ?? "its address"
                    byRoutes[target] = "a route (\(destination)) takes its address \(address) as source, which no device that stays has, and the kernel would delete it with the address"
                }
            }
            if route.nextHops.count > 1, !throughTargetsAlone {
                for target in devices.intersection(targets) where found[target] == nil && byRoutes[target] == nil {
                    byRoutes[target] = "a multipath route (\(destination)) also leaves through a device that stays, and the kernel would delete it whole with it"
                }
            }
        }
        found.merge(byRoutes) { sockets, _ in sockets }
        return found
    }

    /// What the last check before deleting saw: every link (`whole`), or the targets and the
    /// links of the kinds that stack on a device.
    struct View {
        var links: [LinkMessage]
        var whole: Bool
    }

    /// Looks at the targets right before deleting: one consistent dump of every link if the
    /// kernel gives one within a few tries, otherwise each target by itself (RTM_GETLINK by
    /// ifindex, answered from one moment) and the kind-filtered dumps of `stackingKinds`, which
    /// are small enough to come back uninterrupted. Throws when neither can be had.
    static func look(at targets: Set<Int>, client: RtnetlinkClient, wholeFirst: Bool = true) throws -> View {
        if wholeFirst {
            do {
                return View(links: try dumpLinks(client, attempts: 6), whole: true)
            } catch NetlinkError.dumpInterrupted {}
        }
        var links: [LinkMessage] = []
        for index in targets {
            do {
                let replies = try client.request(operation: "RTM_GETLINK") { LinkMessage.getRequest(index: Int32(index), sequence: $0) }
                if let reply = replies.first(where: { $0.header.type == NetlinkType.newLink }) { links.append(try LinkMessage.decode(reply.payload)) }
            } catch NetlinkError.kernel(_, ENODEV, _) {
                continue
            }
        }
        for kind in ForeignStacking.stackingKinds {
            links += try ForeignStacking.linksOf(kind, client: client).filter { !targets.contains(Int($0.index)) }
        }
        return View(links: links, whole: false)
    }

    /// Whether each device is still there after the delete, by ifindex: from one dump, or device
    /// by device while dumps keep being interrupted; nil for a device that could not be checked.
    static func stillPresent(_ indices: [Int], client: RtnetlinkClient) -> [Int: Bool] {
        if let links = try? dumpLinks(client, attempts: 6) {
            let present = Set(links.map { Int($0.index) })
            return Dictionary(uniqueKeysWithValues: indices.map { ($0, present.contains($0)) })
        }
        var result: [Int: Bool] = [:]
        for index in indices {
            do {
                try client.request(operation: "RTM_GETLINK") { LinkMessage.getRequest(index: Int32(index), sequence: $0) }
                result[index] = true
            } catch NetlinkError.kernel(_, ENODEV, _) {
                result[index] = false
            } catch {
                continue
            }
        }
        return result
    }

    /// Fences one device; nil when it is fenced, else the outcome and why (what was done so far
    /// is recorded in `target`, for `restore`). `downedState` gives what a device that must be
    /// taken down would lose, read before it is.
    func fence(_ target: inout Target, client: RtnetlinkClient, downedState: (Int32) throws -> DownedState) -> (JournalRecord.Outcome, String)? {
        if target.multiQueue {
            // Renaming needs the device down, and down it loses its IPv6 addresses and routes. The
            // last look before that: a process that attached since re-verification keeps the
            // device untouched (one that attaches after it finds the device given back whole).
            let live: LinkMessage
            do {
                let index = target.index
                let replies = try client.request(operation: "RTM_GETLINK") { LinkMessage.getRequest(index: index, sequence: $0) }
                guard let reply = replies.first(where: { $0.header.type == NetlinkType.newLink }) else {
                    return (.failed, "cannot look at it before fencing: RTM_GETLINK gave no link")
                }
                live = try LinkMessage.decode(reply.payload)
            } catch {
                return Self.netlinkOutcome(error, doing: "look at it before fencing")
            }
            if let queues = live.tun?.numQueues, let disabled = live.tun?.numDisabledQueues, queues + disabled > 0 {
                return (.skipped, "became attached since the plan was made (a process holds a queue: \(queues) attached, \(disabled) disabled)")
            }
            guard live.name == target.name else {
                return (.skipped, "renamed since the plan was made (now \(live.name.map(InterfaceName.text) ?? "unnamed"))")
            }
            // Renaming relabels its IPv4 addresses, and down it loses more: what it has is read first.
            do {
                target.downed = try downedState(target.index)
            } catch {
                return (.failed, "cannot read its addresses and routes before renaming it: \(error)")
            }
            if live.flags & LinkMessage.up != 0 {
                do {
                    let index = target.index
                    try Self.change(&target.takenDown, index, "RTM_NEWLINK (down)", client: client, isDone: { $0.flags & LinkMessage.up == 0 }) {
                        LinkMessage.setUpRequest(index: index, up: false, sequence: $0)
                    }
                } catch {
                    return Self.netlinkOutcome(error, doing: "take it down to rename it")
                }
            }
            do {
                let (index, fenceName) = (target.index, target.fenceName)
                try Self.change(&target.renamed, index, "RTM_NEWLINK (rename)", client: client, isDone: { $0.name == fenceName }) {
                    LinkMessage.renameRequest(index: index, name: fenceName, sequence: $0)
                }
            } catch {
                return Self.netlinkOutcome(error, doing: "rename it to a private name")
            }
            return nil
        }
        do {
            let (index, fenceName) = (target.index, target.fenceName)
            try Self.change(&target.altNameAdded, index, "RTM_NEWLINKPROP (altname)", client: client, isDone: { $0.altNames.contains(fenceName) }) {
                LinkMessage.altNameRequest(index: index, altName: fenceName, add: true, sequence: $0)
            }
        } catch {
            return Self.netlinkOutcome(error, doing: "give it a private alternative name")
        }
        guard let fd = target.fd else { return (.failed, "no descriptor to attach with") }
        let code = system.tun.attach(fd, name: target.fenceName, to: target.item.interface)
        switch code {
        case 0: break
        case EBUSY: return (.skipped, "became attached since the plan was made (TUNSETIFF: device busy)")
        case EINVAL: return (.skipped, "its type or features changed since the plan was made (TUNSETIFF: invalid argument)")
        default: return (.failed, "cannot attach to verify it is unused (TUNSETIFF: \(String(cString: strerror(code))))")
        }
        // TUNSETIFF creates a device when no device answers to the name: that one is not
        // persistent, and closing the descriptor removes it again.
        guard let attached = system.tun.attached(fd), attached.flags & Self.iffPersist != 0 else {
            return (.skipped, "gone since the plan was made (its private name reached no persistent device)")
        }
        // The private name reaches the device whatever its name: one renamed since the plan (to
        // a name --protect keeps, say) is not the one the plan, the report and the journal name.
        guard attached.name == target.name else {
            return (.skipped, "renamed since the plan was made (now \(InterfaceName.text(attached.name)))")
        }
        return nil
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
        guard link.tun?.persist == true else { return "no longer a persistent tun/tap device" }
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

    /// Undoes what fencing did to a target that will not be deleted: group, private name, down,
    /// and what the rename and going down changed of its addresses and routes (`DownedState`),
    /// checked against what it had. tunwarden's own queue stays attached until
    /// the batch ends (the batch closes every descriptor it opened exactly once). Returns text to
    /// add to its result (what was given back beyond the fence, what could not be) and whether the
    /// device is as it was.
    func restore(_ target: inout Target, fenceGroup: UInt32, client: RtnetlinkClient) -> (text: String, whole: Bool) {
        var problems: [String] = []
        var notes: [String] = []
        let index = target.index
        let (wasDown, wasRenamed) = (target.takenDown, target.renamed)
        let changed = wasDown || wasRenamed
        // The name first: a device that cannot have it back (a restarting daemon made a new device
        // under it meanwhile) stays fenced, in the private group, which every audit and reap leaves
        // alone, and the person is told how to finish.
        if target.renamed {
            let name = target.name
            do {
                var back = false
                try Self.change(&back, index, "RTM_NEWLINK (rename)", client: client, isDone: { $0.name == name }) {
                    LinkMessage.renameRequest(index: index, name: name, sequence: $0)
                }
                target.renamed = false
            } catch {
                if !target.grouped {
                    _ = try? client.request(operation: "RTM_NEWLINK (group)") { LinkMessage.setGroupRequest(index: index, group: fenceGroup, sequence: $0) }
                }
                let finish = Self.unfenceCommands(namespace: namespaceName, fenceName: target.fenceName, name: target.name,
                                                  group: target.item.interface.group ?? 0, up: target.item.interface.isUp)
                // Its answer lost and the device not to be looked at: the kernel may have renamed
                // it back. Said as unknown, and the rest of the fence kept, as for a refusal.
                let unknown: Bool
                if case NetlinkError.unanswered = error { unknown = true } else { unknown = false }
                let what = unknown
                    ? "whether it was given its name back from \(InterfaceName.text(target.fenceName)) could not be told (\(ReapRefusal.clause(error))): `ip link show` tells; if it still has that name, it is left fenced under it and link group \(fenceGroup), which audits and reaps leave alone, and `\(finish)` finishes giving it back"
                    : "it could not be given its name back from \(InterfaceName.text(target.fenceName)) (\(ReapRefusal.clause(error)); another device may have taken \(target.item.ifname)): it is left fenced under that name and link group \(fenceGroup), which audits and reaps leave alone; once the name is free, `\(finish)`"
                problems.append(what + (wasDown ? ", and the journal's recreate commands list the addresses and routes going down took from it" : ""))
                return ("; " + problems.joined(separator: "; "), false)
            }
        }
        if target.grouped {
            let prior = target.item.interface.group ?? 0
            var back = false
            if (try? Self.change(&back, index, "RTM_NEWLINK (group)", client: client, isDone: { $0.group == prior }) {
                LinkMessage.setGroupRequest(index: index, group: prior, sequence: $0)
            }) == nil {
                problems.append("its link group could not be set back to \(prior)")
            }
            target.grouped = false
        }
        if target.altNameAdded {
            let name = target.fenceName
            var back = false
            if (try? Self.change(&back, index, "RTM_DELLINKPROP (altname)", client: client, isDone: { !$0.altNames.contains(name) }) {
                LinkMessage.altNameRequest(index: index, altName: name, add: false, sequence: $0)
            }) == nil {
                problems.append("its private alternative name \(InterfaceName.text(name)) could not be removed (`ip link property del dev \(ShellWord.quote(target.name)) altname \(ShellWord.quote(name))`)")
            }
            target.altNameAdded = false
        }
        if target.takenDown {
            var back = false
            if (try? Self.change(&back, index, "RTM_NEWLINK (up)", client: client, isDone: { $0.flags & LinkMessage.up != 0 }) {
                LinkMessage.setUpRequest(index: index, up: true, sequence: $0)
            }) == nil {
                problems.append("it could not be set up again, and its IPv6 addresses and routes are gone: the journal's recreate commands list them")
                target.downed = nil
            }
            target.takenDown = false
        }
        // Renamed (and perhaps taken down): what that changed is given back and checked.
        if changed, let downed = target.downed {
            let back = downed.putBack(index: index, client: client)
            let what = back.neighbours == 0
                ? "its \(Self.counted(back.addresses, "address", "addresses")) and \(Self.counted(back.routes, "route", "routes"))"
                : "its \(Self.counted(back.addresses, "address", "addresses")), \(Self.counted(back.routes, "route", "routes")) and \(Self.counted(back.neighbours, "neighbour entry made by hand", "neighbour entries made by hand"))"
            let done = switch (wasRenamed, wasDown) {
            case (true, true): "it was renamed and taken down to be fenced, then given its name back and set up again"
            case (true, false): "it was renamed to be fenced, then given its name back"
            default: "it was taken down to be fenced, then set up again"
            }
            if back.differences.isEmpty {
                notes.append("\(done); \(what) are as they were")
            } else {
                problems.append("\(done), but \(what) are not all as they were: \(back.differences.prefix(5).joined(separator: "; "))\(back.differences.count > 5 ? "; …" : "") (the journal's recreate commands list what it had)")
            }
        }
        target.downed = nil
        let text = (notes + problems).map { "; " + $0 }.joined()
        return (text, problems.isEmpty)
    }

    /// Sends `request`, a change to device `index`, and sets `made` once it is made. The kernel's
    /// refusal throws. When the answer is lost, the device is looked at and `isDone` tells from
    /// it whether the change was made; when it cannot be looked at either, the change may have
    /// been made: `made` is set all the same, so that `restore` undoes it, and the error thrown.
    static func change(_ made: inout Bool, _ index: Int32, _ operation: String, client: RtnetlinkClient,
                       isDone: (LinkMessage) -> Bool, request: (UInt32) -> [UInt8]) throws {
        do {
            try client.request(operation: operation, request)
        } catch NetlinkError.unanswered(let operation, let detail) {
            let replies = try? client.request(operation: "RTM_GETLINK") { LinkMessage.getRequest(index: index, sequence: $0) }
            guard let reply = replies?.first(where: { $0.header.type == NetlinkType.newLink }), let link = try? LinkMessage.decode(reply.payload) else {
                made = true
                throw NetlinkError.unanswered(operation: operation, detail: detail)
            }
            guard isDone(link) else { throw NotCarriedOut(operation: operation, detail: detail) }
        }
        made = true
    }

    /// A change whose answer was lost and which the device, looked at, shows was not made.
    struct NotCarriedOut: Error, CustomStringConvertible {
        var operation: String
        var detail: String
        var description: String { "\(operation) was not carried out (its answer was lost: \(detail); the device shows no change)" }
    }

    static func counted(_ count: Int, _ one: String, _ many: String) -> String {
        "\(count) \(count == 1 ? one : many)"
    }

    /// The outcome of a refused fencing request: a device that vanished is skipped, anything else failed.
    static func netlinkOutcome(_ error: any Error, doing what: String) -> (JournalRecord.Outcome, String) {
        if case let NetlinkError.kernel(_, code, _) = error, code == ENODEV {
            return (.skipped, "gone since the plan was made")
        }
        return (.failed, "cannot \(what): \(error)")
    }
}
#endif
