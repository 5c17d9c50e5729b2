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
    /// Fences, verifies and deletes one batch (`reapBatch`), noting in `lost` the neighbour
    /// entries each target given back lost to its fence, and, when one of them is attached, begins
    /// `carrierWatch` right before its descriptors are closed.
    func actOnBatch(_ batch: [Target], group: UInt32, client: RtnetlinkClient, namespaceFD: Int32?, linkWatch: PlanLinkWatch?,
                    lost: inout [LostNeighbours], carrierWatch: inout CarrierWatch?) -> [ReapResult] {
        var results: [ReapResult] = []
        // Watched from before the fence: a target moved to another namespace at any moment after
        // vanishes from this one's dumps as if deleted, still fenced where it went, and its
        // removal notification is what tells (see `goneFromHere`, and step 6). Read between the
        // steps, so that the batch's own changes do not overflow it. The watch begun before the
        // plan (`linkWatch`) is this one while it has lost nothing: it also tells of a target
        // replaced before its fence (step 2).
        let planWatch = (linkWatch?.source as? any LinkDepartures).flatMap { $0.departed(among: []) == nil ? nil : $0 }
        let departures = planWatch ?? system.departures(namespaceFD)
        func record(_ target: Target, _ outcome: JournalRecord.Outcome, _ detail: String? = nil) {
            results.append(ReapResult(ifname: target.item.ifname, ifindex: target.item.interface.index, kind: target.item.interface.kind,
                                      outcome: outcome, detail: detail, leftFenced: target.markLeft != nil, leftOpen: target.markLeft))
        }
        /// Restores every one of `targets` and records it with `outcome`, `detail` and what could
        /// not be restored: the batch stops short of deleting them.
        func abandon(_ targets: [Target], _ outcome: JournalRecord.Outcome, _ detail: String) {
            for target in targets { giveBack(target, outcome, detail) }
        }
        /// Restores `target` and records it with `outcome` and `detail`, or as failed, saying what,
        /// when it could not be restored whole.
        func giveBack(_ target: Target, _ outcome: JournalRecord.Outcome, _ detail: String) {
            giveBackSaying(target, outcome) { _ in detail }
        }
        /// As `giveBack`, with the detail's start told whether the device was given back whole.
        func giveBackSaying(_ target: Target, _ outcome: JournalRecord.Outcome, _ detail: (_ whole: Bool) -> String) {
            var target = target
            let (text, whole) = restore(&target, fenceGroup: group, client: client, departures: departures, namespaceFD: namespaceFD)
            record(target, whole ? outcome : .failed, detail(whole) + text)
            if !target.lostNeighbours.isEmpty {
                lost.append(LostNeighbours(result: results.count - 1, index: target.index, name: target.name, entries: target.lostNeighbours, attached: target.attached))
            }
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
        /// The IPv6 addresses of the batch's single-queue targets that were up when planned, read
        /// once, when the first one is fenced.
        var attachTraces: [Int32: AttachTraces]?
        let upSingleQueueIndices = Set(batch.filter { !$0.multiQueue && $0.item.interface.isUp }.map(\.index))
        func traces(of index: Int32) throws -> AttachTraces? {
            guard upSingleQueueIndices.contains(index) else { return nil }
            if attachTraces == nil { attachTraces = try AttachTraces.read(for: upSingleQueueIndices, client: client) }
            return attachTraces?[index] ?? AttachTraces()
        }
        var targets = batch

        // 1. One /dev/net/tun per single-queue device, opened inside the namespace: a tun
        //    descriptor is bound to the namespace it was opened in.
        let singleQueue = targets.indices.filter { !targets[$0].multiQueue }
        if !singleQueue.isEmpty {
            do {
                let opened = try system.tun.open(count: singleQueue.count, namespaceFD: namespaceFD)
                for (position, fd) in zip(singleQueue, opened) { targets[position].fd = fd }
                let features = system.tun.features(of: singleQueue.map { (targets[$0].index, targets[$0].name) }, namespaceFD: namespaceFD)
                for position in singleQueue { targets[position].features = features[targets[position].index] }
            } catch {
                targets.forEach { record($0, .failed, "cannot open /dev/net/tun: \(error)") }
                return results
            }
        }
        defer {
            if lost.contains(where: \.attached) { carrierWatch = CarrierWatch(namespaceFD: namespaceFD, devices: Set(lost.filter(\.attached).map(\.index)), client: client) }
            for target in targets { if let fd = target.fd { system.tun.close(fd) } }
        }

        // 2. Fence each device, by ifindex. Right before, a last look at the routes of the
        //    single-queue devices that are up: one whose attach would make live routes the kernel
        //    passes by for want of its carrier is not attached to (see `CarrierFence`).
        let unfenceable = Self.carrierRefusals(targets, client: client)
        var fenced: [Target] = []
        for var target in targets {
            if let signal = caughtSignal() {
                record(target, .skipped, "not attempted: interrupted by \(signal)")
                continue
            }
            if let (outcome, why) = unfenceable[target.index] {
                record(target, outcome, why)
                continue
            }
            // Replaced before its fence, as far as the notifications read so far tell: nothing is
            // done to the device now at its ifindex.
            if linkWatch != nil, let departure = Self.departures(since: linkWatch, among: [target.index])?.departed[target.index] {
                record(target, .skipped, "replaced since the plan was made: the planned \(target.item.interface.kind.rawValue) \(departureWords(departure, planned: target.item.interface, client: { client })); whatever device is now at its ifindex and name is left alone")
                continue
            }
            switch fence(&target, client: client, downedState: downedState, traces: traces) {
            case nil: fenced.append(target)
            case let (outcome, detail)?: giveBack(target, outcome, detail)
            }
            _ = departures?.departed(among: [])
        }
        stepHook?("fenced")
        // A removal of a fenced target's ifindex told of only now came around its fence: either
        // the planned device was replaced by another just before it (what was fenced is that
        // other), or the fenced device itself left since. Either way it is not deleted, and what
        // the fence changed is given back where it stands. With notifications lost, one without a
        // hardware address (which the last look compares) cannot be told from such another, and
        // is given back too.
        if linkWatch != nil, !fenced.isEmpty {
            let watched = Self.departures(since: linkWatch, among: Set(fenced.map(\.index))) ?? ([:], true)
            fenced = fenced.filter { target in
                if let departure = watched.departed[target.index] {
                    giveBack(target, .skipped, "its ifindex saw a removal around its fence (the \(target.item.interface.kind.rawValue) there \(departureWords(departure, planned: target.item.interface, client: { client }))): either the planned device was replaced by another just before its fence, or the fenced device itself left since; not deleted, and what the fence changed is given back")
                    return false
                }
                if watched.lost, target.item.interface.hardwareAddress == nil {
                    giveBack(target, .skipped, "not proved to be the planned device: the link notifications watched since the plan was made were lost (ENOBUFS), and a \(target.item.interface.kind.rawValue) without a hardware address has nothing else to tell it by; not deleted")
                    return false
                }
                return true
            }
        }

        // 3. Into the group, each by its private name: a device that took the ifindex of a
        //    target deleted by something else since the fence answers to no such name.
        var grouped: [Target] = []
        for var target in fenced {
            do {
                let (index, fenceName, alternative, marked) = (target.index, target.fenceName, !target.renamed, target)
                try Self.change(&target.grouped, index, "RTM_NEWLINK (group)", client: client, isDone: { $0.group == group && Self.isTarget($0, marked) }) {
                    LinkMessage.setGroupRequest(name: fenceName, alternative: alternative, group: group, sequence: $0)
                }
                grouped.append(target)
            } catch NetlinkError.kernel(_, ENODEV, _) {
                giveBack(target, .skipped, "no device in this namespace answers to its private name \(InterfaceName.text(target.fenceName)) any more (deleted, renamed or moved away by something else since it was fenced)")
            } catch {
                giveBack(target, .failed, "cannot set its group: \(error)")
            }
            _ = departures?.departed(among: [])
        }
        stepHook?("grouped")

        // 4. Right before deleting: look, and take out of the group whatever fails verification,
        //    until a look shows every remaining target verified. The fence stops attaching by
        //    name, not what is done to a device by ifindex or address (stacking a device on it,
        //    making it a port, attaching an XDP program, routes that depend on it, binding a
        //    socket to it), so each look asks again, in this order:
        //    a. what grows with the load: the socket lists (as long as the namespace has
        //       sockets), then the other namespaces (as many as the host has);
        //    b. the kernel tunnels of this namespace, by the kernel's kind filter: the next
        //       checks need their local addresses and their vxlans;
        //    c. tc actions, nftables and iptables rules, vxlan forwarding entries, and last the
        //       targets' addresses and routes (`dependents`), which grow with the rulesets and
        //       the routing table;
        //    d. the links last, right before the deletion, so that what is done to a target by
        //       ifindex (stacking a device on it, making it a port, regrouping or renaming it) is
        //       unseen only for the time of one link dump: one dump of every link, which also
        //       proves the group holds nothing else; while links come and go too fast for a
        //       consistent dump, each target by itself plus the (small) kind-filtered dumps of
        //       the kinds that stack on a device and of the kernel tunnels, and the targets are
        //       then deleted one by one. Between it and the deletion the reaper asks the kernel
        //       nothing: it judges what it holds, checks for a signal and times the look.
        //    A final look whose kernel tunnels differ from those (b) read (one made, gone, or
        //    given another local address since) is not settled: what (c) judged by has changed,
        //    and the look is taken again.
        //    The look is only as good as it is recent: one that took longer than
        //    `lastLookLimit` from its first list to the deletion (the reaper stopped or starved,
        //    a stalled machine) is taken again. A host whose honest look takes longer (a full
        //    routing table, hundreds of namespaces) is not refused for it: a look that took at
        //    most half as long again as the quickest of this batch's is acted on. After three
        //    looks too slow for either, nothing is deleted.
        let connect = { RtnetlinkClient(transport: try self.system.rtnetlink.connect(namespaceFD: namespaceFD)) }
        var confirmed = grouped
        var whole = true
        var staleLooks: [Duration] = []
        /// The name the final look read of each target renamed by something else after its fence
        /// (single-queue: deleted all the same): the name the kernel deletes it under.
        var renamedAtLook: [Int32: [UInt8]] = [:]
        /// The link (IFLA_LINK: a veth's peer) each device the final look read names in this
        /// namespace: a device that joins the group unannounced is not announced with its peer.
        var linksAtLook: [Int32: Int32] = [:]
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
                // a. A process that bound a socket to a target since the plan (tcpdump, a server
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
                if let unread = elsewhere.unreadText() {
                    abandon(confirmed, .failed, "cannot look for devices stacked on it from other network namespaces: \(unread); nothing deleted")
                    return results
                }
                // b, c. What depends on a target through the kernel tunnels, routes, rules and
                // forwarding entries.
                let tunnels: [LinkMessage]
                let dependents: [Int32: String]
                do {
                    tunnels = try Self.links(ofKinds: LinkMessage.tunnelKinds, connect: connect, consistent: false)
                    dependents = try self.dependents(of: confirmed, sockets: sockets, elsewhere: elsewhere, tunnels: tunnels, client: client, namespaceFD: namespaceFD)
                } catch let refusal as NothingDeleted {
                    abandon(confirmed, .failed, refusal.detail)
                    return results
                } catch {
                    abandon(confirmed, .failed, "cannot re-verify before deleting: \(error)")
                    return results
                }
                stepHook?("dependents-read")
                // d. The links, last. From here to the deletion, the link notifications tell of a
                // device that joins the group after this look has passed it.
                departures?.watchGroup(group)
                let view: View
                do {
                    view = try Self.look(at: targetIndices, client: client, connect: connect, wholeFirst: !lookTargetByTarget)
                } catch {
                    abandon(confirmed, .failed, "cannot re-verify before deleting: \(error)")
                    return results
                }
                whole = view.whole
                linksAtLook = Dictionary(view.links.compactMap { link in link.linkNetnsID == nil ? link.link.map { (link.index, $0) } : nil },
                                         uniquingKeysWith: { a, _ in a })
                // A target that left and came back under another ifindex bears its private name:
                // it is no stranger, and is given back below, found by that name.
                let fenceNames = confirmed.map(\.fenceName)
                if let stranger = view.links.first(where: { link in
                    link.group == group && !targetIndices.contains(Int(link.index)) && !fenceNames.contains { link.name == $0 || link.altNames.contains($0) }
                }) {
                    let name = stranger.name.map(InterfaceName.text) ?? "ifindex \(stranger.index)"
                    abandon(confirmed, .failed, "group \(group) also holds \(name), which is not a target; nothing deleted")
                    return results
                }
                guard TunnelFacts(view.links) == TunnelFacts(tunnels) else { continue }
                let stacked = Self.stacked(on: targetIndices, links: view.links, elsewhere: elsewhere)
                let byIndex = Dictionary(view.links.map { (Int($0.index), $0) }, uniquingKeysWith: { a, _ in a })
                var kept: [Target] = []
                var released = false
                renamedAtLook = [:]
                for target in confirmed {
                    guard let link = byIndex[Int(target.index)], Self.isTarget(link, target, group: group) else {
                        // Gone: deleted, or moved away and given back where it went; a device
                        // that took its ifindex since is not touched.
                        giveBack(target, .skipped, "gone from its ifindex since it was fenced")
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
                        if link.name != target.name, link.name != target.fenceName { renamedAtLook[target.index] = link.name }
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
        //    A device the notifications read since the final look began show joining the group,
        //    which the look may have passed before it joined, would go with a group deletion:
        //    nothing is deleted.
        var unanswered: [Int32: String] = [:]
        if whole, let joined = departures?.strangers(besides: Set(confirmed.map(\.index)))?.present.min(by: { $0.key < $1.key }) {
            abandon(confirmed, .failed, "\(joined.value) (ifindex \(joined.key)) joined group \(group) after the last look, and is not a target; nothing deleted")
            return results
        }
        // From here, the notifications tell of what goes with what the batch deletes (a veth's
        // peer, what is stacked on a device): step 6 reports each.
        departures?.deleting()
        stepHook?("deleting")
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
                // By its private name, which no device but the target answers to: the device at
                // its ifindex may be another since the look, if the target was deleted meanwhile.
                let (index, fenceName, alternative) = (target.index, target.fenceName, !target.renamed)
                do {
                    try client.request(operation: "RTM_DELLINK") { LinkMessage.deleteRequest(name: fenceName, alternative: alternative, sequence: $0) }
                    sent.append(target)
                } catch NetlinkError.unanswered(let operation, let detail) {
                    unanswered[index] = "\(operation)'s answer was lost (\(detail))"
                    sent.append(target)
                } catch NetlinkError.kernel(_, ENODEV, _) {
                    giveBack(target, .skipped, "not deleted: no device in this namespace answers to its private name \(InterfaceName.text(fenceName)) any more (deleted, renamed or moved away by something else since the last look)")
                } catch {
                    giveBack(target, .failed, "\(error)")
                }
            }
            confirmed = sent
        }

        stepHook?("deleted")

        // 6. What became of each.
        verdicts(confirmed, batch: batch, group: group, whole: whole, unanswered: unanswered, renamedAtLook: renamedAtLook, linksAtLook: linksAtLook,
                 departures: departures, client: client, namespaceFD: namespaceFD, unplanned: { results += $0 }, record: record, giveBackSaying: giveBackSaying)
        return results
    }
}
#endif
