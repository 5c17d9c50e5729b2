#if os(Linux)
import CLinuxShims
import Foundation
import Glibc
import Inventory
import Netlink
import Storage
import TunwardenCore

/// Undoing what a reap killed outright left behind, from its intent records in the journal.
extension LinuxReaper {
    /// The intent records of this namespace that no result record answers: a reap cut off
    /// between the two, or one acting right now. An intent that names its namespace's identity is
    /// this namespace's only when the identity is this one's: a namespace made again under the
    /// same name, the same one after a restart, and another namespace without a name all differ.
    /// One written before identities were journaled goes by its namespace's name, as it did.
    /// `records` may be a whole journal, or the open intents `Journal.openIntents()` finds.
    public func unfinishedIntents(_ records: [JournalRecord]) -> [JournalRecord] {
        unfinishedIntents(records, held: held)
    }

    /// The same, for the namespace `held` holds (nil: the one `namespaceName` names now).
    func unfinishedIntents(_ records: [JournalRecord], held: HeldNamespace?) -> [JournalRecord] {
        var finished = Set<String>()
        for record in records where record.answersIntent { finished.insert("\(record.run)|\(record.ifindex)") }
        let open = records.filter { $0.type == .intent && $0.fenceGroup != nil && !finished.contains("\($0.run)|\($0.ifindex)") }
        guard !open.isEmpty else { return [] }
        let here: Set<String?> = [namespaceName, journalNamespace().netns]
        // Asked only when there is something to match: it opens a socket in the namespace.
        let identity = open.contains { $0.namespaceIdentity != nil }
            ? system.inventory(namespaceName, namespaceDirectory, held).namespaceIdentityAhead() : nil
        return open.filter { intent in
            guard let recorded = intent.namespaceIdentity else { return here.contains(intent.netns) }
            return recorded == identity
        }
    }

    /// Whether `link` is the device `intent` recorded, as far as what the intent kept tells: its
    /// name (the kernel's bytes), a tun device of the same type, and its hardware address where it
    /// had one. A device that is not fenced is only known by these; the ifindex alone can belong
    /// to another device in another namespace or incarnation of this one.
    static func isRecorded(_ link: LinkMessage, by intent: JournalRecord) -> Bool {
        guard link.name == InterfaceName.kernelBytes(intent.ifname), link.kind == "tun" else { return false }
        guard let prior = intent.prior else { return true }
        // What the intent did not keep (an address absent from it) tells nothing.
        var now = identity(of: link)
        if prior.address == nil { now.hardwareAddress = nil }
        return now.differences(from: DeviceIdentity(kind: prior.kind, hardwareAddress: prior.address)).isEmpty
    }

    /// Finds the reaps in `journal` that were cut off between their intent and result records
    /// (killed outright, or the machine went down) in this namespace, whatever other runs
    /// appended since (reaps in other namespaces, the watcher's), undoes their fences on the
    /// devices that are still there (link group, private name, alternative name), and journals a
    /// result for each, so that none is repaired twice. Returns what became of each device; one
    /// that could not be given back stays fenced, so that nothing takes it for an orphan, and its
    /// result is failed. Does nothing for runs that journaled their results. The caller holds the
    /// journal's lock: the results carry the checkpoint that bounds the next look.
    ///
    /// A device the killed run never fenced that something else renamed (or gave another
    /// hardware address) since is still at its ifindex: it is said to be so, and not touched. One
    /// gone from this namespace is looked for, by its fence, in the other namespaces it may have
    /// been moved to, and given back there (`goneSinceKilled`); one found nowhere is not said to be
    /// deleted, which nothing proves, but gone, deleted or moved (failed).
    ///
    /// The intents of a run killed before the journal was rotated lie in the newest rotated
    /// journal (`Journal.rotated`): those of this namespace are repaired too when no result in
    /// `journal` answers them, whatever state their devices are in (one a repair gave back
    /// without journaling it is compared with its intent as here), and their results go to
    /// `journal`. Older rotated journals are not read.
    ///
    /// A line among a run's intents that is no record (cut short, or NULs) was skipped by the
    /// look, which read on: the first repair of that run says so, since it may have been an
    /// intent whose device this repair cannot know of.
    public func repairInterrupted(journal: Journal) throws -> [ReapRepair] {
        let known = try journal.openIntents()
        let rotated = journal.rotatedOpenLook()
        guard !known.records.isEmpty || !rotated.records.isEmpty else { return [] }
        // One namespace from matching the intents to acting on them.
        let held = try holdNamespace()
        defer { withExtendedLifetime(held) {} }
        var open = unfinishedIntents(known.records, held: held)
        let older = unfinishedIntents(rotated.records, held: held)
        if !older.isEmpty { open = try journal.unanswered(older) + open }
        let fromRotated = Set(older.map { "\($0.run)|\($0.ifindex)" })
        guard !open.isEmpty else { return [] }
        let namespaceFD = held?.descriptor
        let client = RtnetlinkClient(transport: try system.rtnetlink.connect(namespaceFD: namespaceFD))
        let links = try Self.dumpLinks(client)
        let byIndex = Dictionary(links.map { (Int($0.index), $0) }, uniquingKeysWith: { a, _ in a })
        var skippedLines = known.skippedLines.merging(rotated.skippedLines) { $0 + $1 }
        var given: [ReapRepair] = []
        var repairs: [JournalRecord] = []
        let now = Date()
        for intent in open {
            let fenceName = intent.fenceName.map(InterfaceName.kernelBytes)
            var outcome: JournalRecord.Outcome = .skipped
            var detail: String
            // Part of the fence is still on the device (or where it is could not be told): its
            // result leaves the intent open, and says why.
            var leftOpen: LeftOpen?
            var leftFenced: Bool {
                get { leftOpen != nil }
                set { leftOpen = newValue ? leftOpen ?? .giveBack : nil }
            }
            let opened = OpenedIntent(run: intent.run, ifindex: intent.ifindex, open: known,
                                      rotated: fromRotated.contains("\(intent.run)|\(intent.ifindex)") ? rotated : nil)
            if let link = byIndex[intent.ifindex], Self.bearsFence(link, of: intent) {
                var done: [String] = []
                let index = Int32(intent.ifindex)
                // The name first: a device that cannot have its name back stays fenced (private
                // name, private group), which every audit and reap leaves alone.
                var keptFenced = false
                // The name the device answers to once this repair is done, for the commands.
                var current = link.name ?? []
                let ip = commandsPlace(recorded: intent.netns).ipWord
                if let fenceName, link.name == fenceName {
                    let original = InterfaceName.kernelBytes(intent.ifname)
                    do {
                        try client.request(operation: "RTM_NEWLINK (rename)") { LinkMessage.renameRequest(index: index, name: original, sequence: $0) }
                        done.append("renamed back")
                        current = original
                        let back = Self.setUpAndCheck(intent, index: index, setUp: intent.prior?.flags.contains("UP") == true,
                                                      checkAnyway: true, lacking: "before the fence", client: client, ip: ip, device: original)
                        done += back.done
                        if back.failed { outcome = .failed }
                        if back.stillDown { leftFenced = true }
                    } catch {
                        keptFenced = true
                        leftFenced = true
                        outcome = .failed
                        // Killed between renaming and grouping: the private group is set now.
                        var group = link.group ?? 0
                        if let fenceGroup = intent.fenceGroup, group != fenceGroup,
                           (try? client.request(operation: "RTM_NEWLINK (group)") { LinkMessage.setGroupRequest(index: index, group: fenceGroup, sequence: $0) }) != nil {
                            group = fenceGroup
                        }
                        let finish = Self.unfenceCommands(ip: ip, fenceName: fenceName, name: original,
                                                          group: intent.prior?.group ?? 0, up: intent.prior?.flags.contains("UP") == true)
                        done.append("could not be renamed back from \(intent.fenceName ?? "") (\(ReapRefusal.clause(error))): left fenced under that name and link group \(group), which audits and reaps leave alone; once the name \(intent.ifname) is free, `\(finish)`, and the journal's recreate commands list the addresses and routes it may have lost")
                    }
                }
                if !keptFenced, link.group == intent.fenceGroup {
                    let prior = intent.prior?.group ?? 0
                    do {
                        try client.request(operation: "RTM_NEWLINK (group)") { LinkMessage.setGroupRequest(index: index, group: prior, sequence: $0) }
                        done.append("group \(prior) restored")
                    } catch {
                        done.append("its link group could not be set back to \(prior) (\(ReapRefusal.clause(error)); `\(ip) link set dev \(ShellWord.quote(current)) group \(prior)`)")
                        outcome = .failed
                        leftFenced = true
                    }
                }
                // Said removed only once the kernel said so: a private alternative name left on
                // a device keeps every reap from planning it.
                if let fenceName, link.altNames.contains(fenceName) {
                    do {
                        try client.request(operation: "RTM_DELLINKPROP (altname)") { LinkMessage.altNameRequest(index: index, altName: fenceName, add: false, sequence: $0) }
                        done.append("private alternative name removed")
                    } catch {
                        done.append("its private alternative name \(InterfaceName.text(fenceName)) could not be removed (\(ReapRefusal.clause(error)); `\(ip) link property del dev \(ShellWord.quote(current)) altname \(ShellWord.quote(fenceName))`)")
                        outcome = .failed
                        leftFenced = true
                    }
                }
                // Not renamed back above: a single-queue fence, which renames nothing, or a
                // multi-queue one that something else renamed since (a repair killed after its
                // rename back, say). The fence of the latter took the device down: it is set up
                // again as it was, and what it lost named, as for one renamed back, also when it
                // is up already.
                if !keptFenced, fenceName == nil || link.name != fenceName {
                    if let fenceName, let name = link.name, name != fenceName, name != InterfaceName.kernelBytes(intent.ifname) {
                        done.append("renamed since by something else to \(InterfaceName.text(name)), a name it keeps")
                    }
                    // A multi-queue one found up was set up by a repair killed before it journaled
                    // (or before it set the group back): what the fence's down took is named. A
                    // single-queue one's fence flushed its entries that are not permanent: those
                    // its intent recorded are made again, and what it still lacks named.
                    let singleQueue = intent.prior?.tun?.multiQueue != true
                    if singleQueue, let prior = intent.prior { done += Self.remakeFlushedNeighbours(prior, index: index, client: client) }
                    let back = Self.setUpAndCheck(intent, index: index,
                                                  setUp: intent.prior?.flags.contains("UP") == true && link.flags & LinkMessage.up == 0,
                                                  checkAnyway: true, lacking: "before the fence",
                                                  client: client, ip: ip, device: current)
                    done += back.done
                    if back.failed { outcome = .failed }
                    if back.stillDown { leftFenced = true }
                }
                detail = opened.leftFenced(by: intent.run) + "; " + done.joined(separator: ", ")
                if leftFenced { detail += "; the next reap tries again to give it back" }
            } else if let link = byIndex[intent.ifindex], Self.isRecorded(link, by: intent) {
                // Bearing no mark, but perhaps taken down already (a multi-queue device is, before
                // its rename): set up again, and what it lacks named. A multi-queue one is
                // compared with its intent even when up: a repair whose own record was lost (killed,
                // or a full disk) took its marks off, and the routes and neighbour entries its
                // fence's down took went with that repair.
                let setUp = intent.prior?.flags.contains("UP") == true && link.flags & LinkMessage.up == 0
                let back = Self.setUpAndCheck(intent, index: Int32(intent.ifindex), setUp: setUp,
                                              checkAnyway: intent.prior?.tun?.multiQueue == true, lacking: "before", client: client,
                                              ip: commandsPlace(recorded: intent.netns).ipWord, device: link.name ?? [])
                if back.failed { outcome = .failed }
                if back.stillDown { leftFenced = true }
                // Untouched, it may never have been started: its run could have stopped, or failed
                // to journal its plan, right after writing this intent.
                detail = back.done.isEmpty ? opened.unmarked(by: intent.run) + ", and it bears no mark of its fence; nothing to undo"
                    : setUp && opened == .noResult ? "run \(intent.run) was interrupted before fencing it; " + back.done.joined(separator: ", ")
                    : opened.unmarked(by: intent.run) + ", and it bears no mark of its fence (it was not fenced, or something took the fence off: a repair whose record was lost, say); "
                        + back.done.joined(separator: ", ")
            } else if let link = byIndex[intent.ifindex], intent.namespaceIdentity != nil, Self.isSameDevice(link, as: intent) {
                // Renamed, or given another hardware address, by something else; never fenced.
                detail = Self.changedSince(link, intent: intent, opened: opened)
            } else {
                // Gone from here: another device has the ifindex now, or none does. An intent from
                // before identities were journaled may be another namespace's, whose own reap
                // answers it.
                if byIndex[intent.ifindex] != nil, intent.namespaceIdentity == nil { continue }
                (outcome, detail, leftOpen) = goneSinceKilled(intent, opened: opened, here: links, inspectedFD: namespaceFD, client: client)
                if let link = byIndex[intent.ifindex] {
                    detail += "; ifindex \(intent.ifindex) now belongs to \(InterfaceName.text(link.name ?? [])), which was left alone"
                }
            }
            if let lines = skippedLines.removeValue(forKey: intent.run) { detail += "; " + Self.skippedAmongIntents(lines, run: intent.run) }
            given.append(ReapRepair(run: intent.run, ifname: intent.ifname, ifindex: intent.ifindex, result: outcome, detail: detail))
            repairs.append(JournalRecord(time: now, run: intent.run, type: .result, netns: intent.netns, ifname: intent.ifname,
                                         ifindex: intent.ifindex, result: outcome, detail: detail, leftFenced: leftFenced ? true : nil, leftOpen: leftOpen))
        }
        // What was done is done: a journal that cannot take it does not unsay it.
        do {
            try journal.append(repairs, after: known)
        } catch {
            throw RepairJournalIncomplete(repairs: given, reason: "\(error)")
        }
        return given
    }

    /// What a repair of run `run` says of `lines`, found among its intents and skipped: the
    /// intents after them were read, but one of the lines may have been an intent too.
    static func skippedAmongIntents(_ lines: [TornRecord], run: String) -> String {
        let places = lines.prefix(3).map { "byte \($0.offset) of \($0.path)" }.joined(separator: ", ") + (lines.count > 3 ? ", …" : "")
        return "\(lines.count == 1 ? "a line" : "\(lines.count) lines") among run \(run)'s intents (\(places)) \(lines.count == 1 ? "is" : "are") no record "
            + "(cut short, or NULs) and \(lines.count == 1 ? "was" : "were") skipped: the intents after \(lines.count == 1 ? "it" : "them") were read, but a device whose intent was lost there "
            + "is not known to this repair; `tunwarden audit` names any device still fenced"
    }

    /// Whether `link` bears the fence `intent` names: its private link group, its private name,
    /// or its private alternative name.
    static func bearsFence(_ link: LinkMessage, of intent: JournalRecord) -> Bool {
        let fenceName = intent.fenceName.map(InterfaceName.kernelBytes)
        return link.group == intent.fenceGroup || link.name == fenceName || (fenceName.map(link.altNames.contains) ?? false)
    }

    /// The intents of this namespace in the newest rotated journal that `repairInterrupted` would
    /// repair: a killed run's that no result in `journal` answers, whatever state their devices
    /// are in. Empty when nothing can be read.
    public func unfinishedRotatedIntents(_ journal: Journal) -> [JournalRecord] {
        let rotated = journal.rotatedOpenIntents()
        guard !rotated.isEmpty else { return [] }
        let held: HeldNamespace?
        do { held = try holdNamespace() } catch { return [] }
        return withExtendedLifetime(held) {
            let older = unfinishedIntents(rotated, held: held)
            return (try? journal.unanswered(older)) ?? older
        }
    }

    /// Sets device `index` up again when `setUp`, then, when it did or `checkAnyway`, names what
    /// the device lacks of the state `intent` recorded (`lacking` says since when): what the run
    /// killed had kept of its addresses and routes died with it. Returns the words for the result
    /// and whether it is a failure, and whether it is still down (`ip` and `device` name the
    /// command that sets it up).
    static func setUpAndCheck(_ intent: JournalRecord, index: Int32, setUp: Bool, checkAnyway: Bool, lacking: String,
                              client: RtnetlinkClient, ip: String, device: [UInt8]) -> (done: [String], failed: Bool, stillDown: Bool) {
        var done: [String] = []
        var failed = false
        var stillDown = false
        if setUp {
            do {
                try client.request(operation: "RTM_NEWLINK (up)") { LinkMessage.setUpRequest(index: index, up: true, sequence: $0) }
                done.append("set up again")
            } catch {
                done.append("could not be set up again (\(ReapRefusal.clause(error)); `\(ip) link set dev \(ShellWord.quote(device)) up`)")
                failed = true
                stillDown = true
            }
        }
        if let prior = intent.prior, setUp || checkAnyway {
            let lost = Self.lostSince(prior, index: index, client: client)
            if !lost.isEmpty {
                done.append("but it lacks what it had \(lacking): \(lost.prefix(5).joined(separator: ", "))\(lost.count > 5 ? ", …" : "") (`tunwarden journal` shows the commands that recreate it, which list them)")
                failed = true
            }
        }
        return (done, failed, stillDown)
    }

    /// The `ip` commands that finish giving back a device left fenced (under `fenceName`) because
    /// its name was taken: once the name is free, its name, its link group, and up if it was.
    static func unfenceCommands(ip: String, fenceName: [UInt8], name: [UInt8], group: UInt32, up: Bool) -> String {
        let (fenced, named) = (ShellWord.quote(fenceName), ShellWord.quote(name))
        var commands = ["\(ip) link set dev \(fenced) name \(named)", "\(ip) link set dev \(named) group \(group)"]
        if up { commands.append("\(ip) link set dev \(named) up") }
        return commands.joined(separator: "; ")
    }

    /// Where the commands a result gives act: the namespace an intent recorded as `recorded`
    /// (its netns), found again as this reaper's own where it is the same (a name that is not
    /// UTF-8 is recorded with `\xHH` and given to `ip -n` by its bytes); else this reaper's own.
    func commandsPlace(recorded: String? = nil) -> RecreatePlace {
        let own = journalNamespace()
        guard let recorded, recorded != own.netns else { return own }
        return RecreatePlace(namespace: recorded)
    }

    /// What device `index` lacks now of the addresses, routes and neighbour entries made by hand
    /// `prior` recorded (going down drops its IPv6 addresses and routes and flushes its neighbour
    /// entries; renaming relabels IPv4 addresses), in words. The routes the kernel makes for
    /// addresses and IPv6 link-local ones are not asked for.
    static func lostSince(_ prior: PriorState, index: Int32, client: RtnetlinkClient) -> [String] {
        guard let addresses = try? DownedState.addresses(of: [index], client: client)[index] ?? [],
              let routes = try? DownedState.routes(through: [index], client: client)[index]?.alone ?? [] else {
            return ["(its addresses and routes could not be listed to check)"]
        }
        let now = addresses.compactMap { try? AddressMessage.decode($0[...]) }
        var lost: [String] = []
        for address in prior.addresses where !(address.family == .inet6 && address.isLinkLocal) {
            let match = now.first { message in
                message.prefixLength == UInt8(address.prefixLength) && (message.local ?? message.address).flatMap { IPAddress(bytes: $0) } == IPAddress(bytes: address.local.bytes)
            }
            if match == nil {
                lost.append("address \(address.local)/\(address.prefixLength)")
            } else if address.family == .inet, let label = address.label, let now = match?.label, InterfaceName.kernelBytes(label) != now {
                lost.append("the label \(label) of \(address.local) (now \(InterfaceName.text(now)))")
            }
        }
        let present = routes.compactMap { try? RouteMessage.decode($0[...]) }
        for route in prior.routes where route.routeProtocol != .kernel && route.nexthopObject == nil {
            let found = present.contains { message in
                Int(message.destinationLength) == route.destination.length && RouteTable(kernel: message.table) == route.table
                    && (message.destination.flatMap { IPAddress(bytes: $0) } ?? IPPrefix(address: route.destination.address, length: 0)?.address) == route.destination.address
            }
            if !found { lost.append("route \(route.display)") }
        }
        if let saved = prior.neighbours, !saved.isEmpty {
            guard let entries = try? DownedState.neighbours(of: [index], client: client)[index] ?? [] else {
                return lost + ["(its neighbour entries could not be listed to check)"]
            }
            let present = Set(entries.compactMap(LinuxReaper.recreated).map { "\($0.kind) \($0.address)" })
            for entry in saved where !present.contains("\(entry.kind) \(entry.address)") {
                lost.append("\(entry.kind == .proxy ? "proxy " : "")neighbour entry \(entry.address)")
            }
        }
        return lost
    }

    /// The links `request` dumps (every link by default), from a dump the kernel did not mark
    /// interrupted. Links that come and go around the reaper (other software at work) interrupt
    /// dumps; the reaper, unlike an audit, waits for a quiet moment rather than give up, up to
    /// `limit` tries a little further apart each time (20: about two seconds), and acts on
    /// nothing an interrupted dump showed.
    static func dumpLinks(_ client: RtnetlinkClient, attempts limit: Int = 20,
                          request: (UInt32) -> [UInt8] = { LinkMessage.dumpRequest(sequence: $0) }) throws -> [LinkMessage] {
        var attempt = 0
        while true {
            do {
                return try client.dump(operation: "RTM_GETLINK", request: request) { message in
                    message.header.type == NetlinkType.newLink ? try LinkMessage.decode(message.payload) : nil
                }
            } catch NetlinkError.dumpInterrupted(let operation, let attempts) {
                attempt += 1
                guard attempt < limit else { throw NetlinkError.dumpInterrupted(operation: operation, attempts: attempts * attempt) }
                usleep(useconds_t(5_000 * attempt))
            }
        }
    }
}
#endif
