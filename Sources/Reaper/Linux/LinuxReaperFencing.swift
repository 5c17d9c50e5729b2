#if os(Linux)
import Glibc
import Netlink
import Storage
import TunwardenCore

/// Fencing one target of a batch and giving back one that is not deleted. Each step of the fence
/// is recorded in the target as it is made, a step whose answer was lost included, so that
/// `restore` undoes exactly what was done and says what it could not undo.
extension LinuxReaper {
    /// Fences one device; nil when it is fenced, else the outcome and why (what was done so far
    /// is recorded in `target`, for `restore`). `downedState` gives what a device that must be
    /// taken down would lose, read before it is; `traces`, what IPv6 addresses and neighbour
    /// entries a single-queue device that is up has before it is fenced and tunwarden's attach
    /// turns its carrier on (nil for one that is down).
    func fence(_ target: inout Target, client: RtnetlinkClient, downedState: (Int32) throws -> DownedState,
               traces: (Int32) throws -> AttachTraces? = { _ in nil }) -> (JournalRecord.Outcome, String)? {
        if target.multiQueue {
            // Renaming needs the device down, and down it loses its IPv6 addresses and routes. The
            // last look before that: a process that attached since re-verification keeps the
            // device untouched (one that attaches after it finds the device given back whole).
            let live: LinkMessage
            do {
                guard let link = try Self.link(at: target.index, client: client) else {
                    return (.failed, "cannot look at it before fencing: RTM_GETLINK gave no link")
                }
                live = link
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
        // Read before the alternative name is added: that change makes the kernel flush the
        // neighbour entries of a device without carrier that are not permanent (NETDEV_CHANGE).
        do {
            target.traces = try traces(target.index)
        } catch {
            return (.failed, "cannot read its IPv6 addresses, routes and neighbour entries before fencing it: \(error)")
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
        let code = system.tun.attach(fd, name: target.fenceName, to: target.item.interface, features: target.features)
        switch code {
        case 0: target.attached = true
        // A queue is attached: since the plan, or all along where the holder scan does not look
        // (an io_uring ring's registered files, a descriptor in flight in an SCM_RIGHTS message).
        case EBUSY: return (.skipped, "a queue is attached to it (TUNSETIFF: device busy): attached since the plan was made, or held where no scan sees it")
        case EINVAL: return (.skipped, "its type or features changed since the plan was made (TUNSETIFF: invalid argument)")
        default: return (.failed, "cannot attach to verify it is unused (TUNSETIFF: \(String(cString: strerror(code))))")
        }
        // TUNSETIFF creates a device when no device answers to the name: that one is not
        // persistent, and closing the descriptor removes it again.
        guard let attached = system.tun.attached(fd) else {
            // Not known to be on the target: what else its descriptor would tell is not trusted.
            target.attached = false
            return (.skipped, "the device its private name reached could not be read back (TUNGETIFF failed), so it is not proved to be the planned one; left alone")
        }
        guard attached.flags & Self.iffPersist != 0 else {
            // That queue is on no target: what its descriptor tells is not about the target.
            target.attached = false
            return (.skipped, "gone from this namespace since the plan was made (its private name reached no persistent device)")
        }
        // The private name reaches the device whatever its name: one renamed since the plan (to
        // a name --protect keeps, say) is not the one the plan, the report and the journal name.
        guard attached.name == target.name else {
            return (.skipped, "renamed since the plan was made (now \(InterfaceName.text(attached.name)))")
        }
        return nil
    }

    /// Undoes what fencing did to a target that will not be deleted: group, private name, down,
    /// and what the rename and going down changed of its addresses and routes (`DownedState`),
    /// checked against what it had. tunwarden's own queue stays attached until
    /// the batch ends (the batch closes every descriptor it opened exactly once), and the neighbour
    /// entries the fence flushed are made again after that (`lostNeighbours`). Returns text to add
    /// to its result (what was given back beyond the fence, what could not be) and whether the
    /// device is as it was, those entries aside.
    ///
    /// A target gone from the namespace is not taken for deleted: `departures` (the batch's watch
    /// on the link notifications of the namespace `namespaceFD` names) and tunwarden's own queue
    /// on it tell whether it was deleted or moved, and one that moved is given back where it is
    /// now (`goneFromHere`).
    func restore(_ target: inout Target, fenceGroup: UInt32, client: RtnetlinkClient,
                 departures: (any LinkDepartures)? = nil, namespaceFD: Int32? = nil) -> (text: String, whole: Bool) {
        var problems: [String] = []
        var notes: [String] = []
        let index = target.index
        let (wasDown, wasRenamed, wasAltNamed) = (target.takenDown, target.renamed, target.altNameAdded)
        let changed = wasDown || wasRenamed
        // Everything below acts by ifindex: first, that the device there is still the target. A
        // target gone from the namespace was deleted or moved (and is given back where it went),
        // and a device that took its ifindex since is not touched.
        if changed || target.grouped || target.altNameAdded, case let .gone(other) = Self.lookUp(target, group: fenceGroup, client: client) {
            let fenced = target
            target.renamed = false
            target.grouped = false
            target.altNameAdded = false
            target.takenDown = false
            // A fence that could not be taken off where the device went (or whose device could
            // not be found, or whose notices could not tell) leaves the intent open: the next
            // reap looks for it by its private name and gives it back.
            func leftWhereItWent(_ gone: (text: String, whole: Bool, open: Bool)) -> (text: String, whole: Bool) {
                guard !gone.whole || gone.open else { return (gone.text, gone.whole) }
                target.markLeft = gone.open ? .whereabouts : .giveBack
                return (gone.open ? gone.text : gone.text + "; the next reap tries again from this run's intent", false)
            }
            guard let other else { return leftWhereItWent(goneFromHere(fenced, fenceGroup: fenceGroup, departures: departures, namespaceFD: namespaceFD, client: client)) }
            let left = "; the device at its ifindex now, \(other), bears no mark of the fence"
            // Where the kernel tells that the target left (another device moved in under its
            // ifindex, as sandboxes number theirs alike), its fence is given back where it went.
            if markedHere(fenced, namespaceFD: namespaceFD, client: client) != nil || departures?.removals(of: index, orNamed: fenced.fenceName)?.isEmpty == false {
                let gone = leftWhereItWent(goneFromHere(fenced, fenceGroup: fenceGroup, departures: departures, namespaceFD: namespaceFD, client: client))
                return (left + ", so it is left alone" + gone.text, gone.whole)
            }
            return (left + " (the target deleted or moved away by something else and the ifindex taken, or renamed by something else), so it is left alone", true)
        }
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
                let finish = Self.unfenceCommands(ip: commandsPlace().ipWord, fenceName: target.fenceName, name: target.name,
                                                  group: target.item.interface.group ?? 0, up: target.item.interface.isUp)
                // Its answer lost and the device not to be looked at: the kernel may have renamed
                // it back. Said as unknown, and the rest of the fence kept, as for a refusal.
                let unknown: Bool
                if case NetlinkError.unanswered = error { unknown = true } else { unknown = false }
                let taken: Bool
                if case let NetlinkError.kernel(_, code, _) = error, code == EEXIST { taken = true } else { taken = false }
                let what = unknown
                    ? "whether it was given its name back from \(InterfaceName.text(target.fenceName)) could not be told (\(ReapRefusal.clause(error))): `ip link show` tells; if it still has that name, it is left fenced under it and link group \(fenceGroup), which audits and reaps leave alone, and `\(finish)` finishes giving it back"
                    : taken
                    ? "it could not be given its name back from \(InterfaceName.text(target.fenceName)) (\(ReapRefusal.clause(error)): another device has taken \(target.item.ifname)): it is left fenced under that name and link group \(fenceGroup), which audits and reaps leave alone; once the name is free, `\(finish)`"
                    : "it could not be given its name back from \(InterfaceName.text(target.fenceName)) (\(ReapRefusal.clause(error))): it is left fenced under that name and link group \(fenceGroup), which audits and reaps leave alone; `\(finish)` finishes giving it back"
                problems.append(what + (wasDown ? ", and the journal's recreate commands list the addresses and routes going down took from it" : "")
                                + "; the next reap tries again from this run's intent")
                target.markLeft = .giveBack
                return ("; " + problems.joined(separator: "; "), false)
            }
        }
        // Only tunwarden's own group is taken off: one set by something else since is left.
        if target.grouped, let now = try? Self.link(at: index, client: client), let group = now.group, group != fenceGroup {
            notes.append("its link group, \(group), was set by something else since it was fenced, and is left as it is (it had \(target.item.interface.group ?? 0) before)")
            target.grouped = false
        }
        if target.grouped {
            let prior = target.item.interface.group ?? 0
            var back = false
            do {
                try Self.change(&back, index, "RTM_NEWLINK (group)", client: client, isDone: { $0.group == prior }) {
                    LinkMessage.setGroupRequest(index: index, group: prior, sequence: $0)
                }
            } catch {
                problems.append("its link group could not be set back to \(prior) (\(ReapRefusal.clause(error)); `\(commandsPlace().ipWord) link set dev \(ShellWord.quote(target.name)) group \(prior)`)")
                target.markLeft = .giveBack
            }
            target.grouped = false
        }
        if target.altNameAdded {
            let name = target.fenceName
            var back = false
            do {
                try Self.change(&back, index, "RTM_DELLINKPROP (altname)", client: client, isDone: { !$0.altNames.contains(name) }) {
                    LinkMessage.altNameRequest(index: index, altName: name, add: false, sequence: $0)
                }
            } catch {
                problems.append("its private alternative name \(InterfaceName.text(name)) could not be removed (\(ReapRefusal.clause(error)); `\(commandsPlace().ipWord) link property del dev \(ShellWord.quote(target.name)) altname \(ShellWord.quote(name))`)")
                target.markLeft = .giveBack
            }
            target.altNameAdded = false
        }
        if target.takenDown {
            var back = false
            if (try? Self.change(&back, index, "RTM_NEWLINK (up)", client: client, isDone: { $0.flags & LinkMessage.up != 0 }) {
                LinkMessage.setUpRequest(index: index, up: true, sequence: $0)
            }) == nil {
                problems.append("it could not be set up again (`\(commandsPlace().ipWord) link set dev \(ShellWord.quote(target.name)) up`), and its IPv6 addresses and routes are gone: the journal's recreate commands list them")
                target.markLeft = .giveBack
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
            // Its own attach accounts for the kernel's multicast route where there was one (said below).
            let added = target.attached ? [] : back.multicastAdded
            let kernels = "the kernel's own multicast route\(added.count == 1 ? "" : "s") \(added.joined(separator: ", ")), "
                + "which it added as the IPv6 addresses were given back to the device, up (as it does for any device that is up), left there"
            if back.differences.isEmpty {
                notes.append("\(done); \(what) are as they were" + (added.isEmpty ? "" : ", but for \(kernels)"))
            } else {
                problems.append("\(done), but \(what) are not all as they were: \(back.differences.prefix(5).joined(separator: "; "))\(back.differences.count > 5 ? "; …" : "") (the journal's recreate commands list what it had)")
                if !added.isEmpty { notes.append("it has \(kernels)") }
            }
        }
        target.downed = nil
        // tunwarden's own attach turned the carrier on: what the kernel configured then is said.
        if target.attached, let traces = target.traces {
            let now = AttachTraces.addressesNow(index: index, client: client)
            switch now.map(traces.gained(now:)) {
            case let gained? where !gained.isEmpty:
                notes.append("its carrier came on while tunwarden was attached, so the kernel configured IPv6 on it as for any holder: it now has the "
                             + "link-local address\(gained.count == 1 ? "" : "es") \(gained.joined(separator: ", ")), with the fe80::/64 and ff00::/8 routes, "
                             + "which are left (without them its next holder would get no link-local address)")
            case nil:
                notes.append("whether its carrier coming on while tunwarden was attached gave it an IPv6 link-local address could not be seen")
            default: break
            }
            // As for any holder too: duplicate address detection ran on its tentative addresses.
            notes += traces.changedDuplicateDetection(index: index, now: now, client: client).map { "it keeps \($0)" }
        }
        // What its private name and the carrier going off flush, tunwarden's doing: made again
        // once its queue has let go of it (`LostNeighbours`).
        if wasAltNamed || target.attached, let traces = target.traces {
            target.lostNeighbours = traces.flushable
            target.traces = nil
        }
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
            guard let link = (try? link(at: index, client: client)) ?? nil else {
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
