#if os(Linux)
import CLinuxShims
import Foundation
import Glibc
import Inventory
import Netlink
import Storage
import TunwardenCore

/// Carries out a reap plan on Linux, race-free and in batches.
///
/// Every step after the plan is keyed by ifindex, and a device is deleted only once tunwarden has
/// *fenced* it, so that no other process can attach a queue between the last check and the delete:
///
/// - A single-queue device gets a private alternative name (RTM_NEWLINKPROP, by ifindex), and
///   tunwarden attaches to it through that name (TUNSETIFF looks alternative names up like names).
///   The kernel answers EBUSY when any queue is attached, and while tunwarden's queue is attached
///   every other TUNSETIFF gets EBUSY: the device is held exclusively, and it is the device at that
///   ifindex, whatever it is called by then.
/// - A multi-queue device has no exclusive attach (TUNSETIFF adds a queue), so it is taken down if
///   it was up and renamed to a private name (by ifindex). From then on an attach by its old name
///   creates a new device instead of reaching this one; the last dump must show it under the
///   private name with no alternative name, no attached and no disabled queue.
///
/// Fenced devices move into a link group nothing else uses. A dump then checks every member by
/// ifindex: still fenced, still persistent, nothing stacked on it and no master. Anything that
/// fails is taken out of the group and restored (group, name, up) and the group dumped again, until
/// a dump shows the group holding exactly the verified targets; only then one RTM_DELLINK removes
/// the group, paying the kernel's per-device unregistration cost once per batch.
///
/// Every item gets an intent record (naming its fence) in the journal before anything is done and
/// a result record after. SIGTERM, SIGINT and SIGHUP during the act phase roll back the batch in
/// hand (unless its delete was already sent) and stop; a run killed outright is undone by the next
/// one from its intent records (`repairInterrupted`).
public struct LinuxReaper {
    public var namespaceName: String?
    public var namespaceDirectory = "/run/netns"
    /// The namespace to act in, held open (the watcher's own): every look and act goes through
    /// its descriptor. Without it, a named namespace is opened by name once per `execute` or
    /// repair, and held for its duration.
    public var held: HeldNamespace?
    /// Most devices attached at once; nil means as many as the descriptor limit allows.
    public var batchLimit: Int?
    /// Called between the steps of a batch with the step's name; tests use it to race the reaper.
    public var stepHook: ((_ step: String) -> Void)?
    /// Makes the last look before deleting check each target by itself, as it does when links
    /// churn too fast for a consistent dump; tests use it to reach that path every time.
    var lookTargetByTarget = false
    /// What the reaper takes from the system: the real kernel, or scripted stand-ins in tests.
    var system = System.kernel
    /// The longest a last look may take from its first list to the deletion and surely be acted
    /// on: a reaper stopped or starved in between deletes on what it saw, which may no longer
    /// hold. The last look of 10,000 devices beside 57,000 sockets takes about a tenth of a
    /// second; one that asks thousands of other namespaces, or reads a full routing table, may
    /// take longer honestly, and is acted on when it is no slower than the batch's quickest by
    /// half.
    var lastLookLimit: Duration = .seconds(1)

    public init(namespaceName: String?) {
        self.namespaceName = namespaceName
    }

    /// A reaper acting in the namespace `held` holds, whatever its name comes to name.
    public init(holding held: HeldNamespace) {
        namespaceName = held.name
        namespaceDirectory = held.directory
        self.held = held
    }

    /// TUNSETIFF, TUNGETIFF and the IFF_* flags they take, from include/uapi/linux/if_tun.h.
    static let tunSetIFF: UInt = 0x4004_54ca
    static let tunGetIFF: UInt = 0x8004_54d2
    static let iffTun: UInt16 = 0x0001, iffTap: UInt16 = 0x0002, iffNoPI: UInt16 = 0x1000
    static let iffVnetHeader: UInt16 = 0x4000, iffMultiQueue: UInt16 = 0x0100, iffPersist: UInt16 = 0x0800

    /// The signal that interrupted the last `execute`, or 0.
    public static var interruptingSignal: Int32 { tw_reap_signal() }

    /// A neighbour entry made by hand as recreate commands give it back; nil without an address.
    static func recreated(_ neighbour: NeighbourMessage) -> RecreateCommands.Neighbour? {
        guard let address = neighbour.destination.flatMap({ IPAddress(bytes: $0) }) else { return nil }
        let kind: RecreateCommands.Neighbour.Kind = neighbour.flags & NeighbourMessage.proxy != 0 ? .proxy
            : neighbour.isManaged ? .managed : neighbour.state & NeighbourMessage.permanent != 0 ? .permanent : .noarp
        // A managed entry's link-layer address is the kernel's, resolved again by itself.
        let link = kind == .managed ? nil : neighbour.linkLayerAddress.flatMap { LinuxInventory.macText($0) }
        return RecreateCommands.Neighbour(address: address, linkLayerAddress: link,
                                          kind: kind, router: neighbour.flags & NeighbourMessage.router != 0,
                                          externLearned: neighbour.flags & NeighbourMessage.externLearned != 0, protocolID: neighbour.protocolID)
    }

    /// Executes `plan`. Throws `ReapRefusal` (nothing changed) when the system cannot be trusted or
    /// acted on, and `ReapJournalIncomplete` (with every result) when it acted but could not journal
    /// the results; otherwise returns one result per planned item, in plan order. `linkWatch`,
    /// begun (`watchLinks()`) before the plan's inventory, tells a planned device replaced since by
    /// another under its ifindex and name (see `reverify`).
    public func execute(_ plan: ReapPlan, journal: Journal, runID: String, linkWatch: PlanLinkWatch? = nil,
                        progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [ReapResult] {
        guard system.isPrivileged() else {
            throw ReapRefusal("reaping needs root (CAP_NET_ADMIN to delete links, and every process's descriptors readable to prove nobody holds them); nothing was changed")
        }
        guard !plan.items.isEmpty else { return [] }
        var results: [Int: ReapResult] = [:]
        // One namespace from the re-verification to the deletion: the one the name names now,
        // held, which must be the one the plan was made in.
        let held = try holdNamespace()
        defer { withExtendedLifetime(held) {} }
        let (verified, refused, usedGroups, identity) = try reverify(plan, held: held, linkWatch: linkWatch)
        for result in refused { results[result.ifindex] = result }

        // Batches, their groups and every device's private name are chosen before anything is
        // journaled, so that the intent records name the fence a killed run leaves behind.
        let batchSize = batchLimit ?? Self.descriptorBudget()
        var batches: [(items: [ReapItem], group: UInt32)] = []
        var avoid = usedGroups
        var start = 0
        while start < verified.count {
            let group = Self.unusedGroup(avoiding: avoid)
            avoid.insert(group)
            batches.append((Array(verified[start..<min(start + batchSize, verified.count)]), group))
            start += batchSize
        }
        var fenceNames: [Int: [UInt8]] = [:]
        var names = PrivateNames()
        for item in verified { fenceNames[item.interface.index] = names.next() }

        let namespaceFD = held?.descriptor
        let client: RtnetlinkClient
        do {
            client = RtnetlinkClient(transport: try system.rtnetlink.connect(namespaceFD: namespaceFD))
        } catch {
            throw ReapRefusal("cannot open a netlink socket: \(ReapRefusal.clause(error)); nothing was changed")
        }
        // Neighbour entries made by hand go with a deleted device, and the kernel never makes
        // them again: the recreate commands give them back too.
        let neighbours: [Int32: [NeighbourMessage]]
        do {
            neighbours = try DownedState.neighbours(of: Set(verified.map { Int32($0.interface.index) }),
                                                    withoutARP: Set(verified.filter { $0.interface.flags.contains("NOARP") }.map { Int32($0.interface.index) }),
                                                    client: client)
        } catch {
            throw ReapRefusal("cannot list the neighbour entries made by hand, to journal them: \(ReapRefusal.clause(error)); nothing was changed")
        }

        // What the commands cannot make again (qdiscs, policy rules naming a device) is named in them.
        let unrecreated = Self.unrecreated(of: verified.map(\.interface), client: client)
        // What they have beyond their link dump (sysctl files, neighbour parameters, multicast
        // addresses added by hand), given back by the commands or named in them.
        let extras = extraSettings(of: verified.map(\.interface), client: client, namespaceFD: namespaceFD)

        let now = Date()
        var place = journalNamespace()
        place.kernelMarksAddresses = plan.kernelMarksAddresses
        // What a new device takes there, for the lines that set the devices' own sysctls again.
        if verified.contains(where: { $0.interface.deviceSysctls != nil }) { place.sysctlDefaults = SysctlDefaults.read(namespaceFD: namespaceFD) }
        // The intents still open in the journal (killed runs of any namespace), so that this
        // run's appends carry the checkpoint that keeps the next look short; without it (the
        // journal could not be read back), none is written, and the next look reads further.
        var known = try? journal.openIntents()
        do {
            // The commands of the whole run are written together, in the journal's order, so that
            // they work replayed in that order (a route may need a device made after its own).
            let runItems = batches.flatMap { batch in batch.items.map { (item: $0, group: batch.group) } }
            let byHand = runItems.map { (neighbours[Int32($0.item.interface.index)] ?? []).compactMap(Self.recreated) }
            let recreate = RecreateCommands.commands(forRun: runItems.indices.map { position in
                var interface = runItems[position].item.interface
                interface.unrecreated = unrecreated[interface.index] ?? []
                interface.extraSettings = extras[interface.index]
                return RecreateCommands.RunDevice(interface, routes: runItems[position].item.routes, neighbours: byHand[position],
                                                  sharedRouteKeys: runItems[position].item.sharedRouteKeys)
            },
                                                     place: place)
            known = try journal.append(runItems.indices.map { position in
                let item = runItems[position].item
                return JournalRecord(time: now, run: runID, type: .intent, netns: place.netns, ifname: item.ifname, ifindex: item.interface.index,
                                     prior: PriorState(item.interface, routes: item.routes, neighbours: byHand[position]),
                                     recreate: recreate[position],
                                     fenceGroup: runItems[position].group, fenceName: InterfaceName.text(fenceNames[item.interface.index]!),
                                     namespaceIdentity: identity)
            }, after: known)
        } catch {
            // What of the intents reached the file would read as a run killed outright: results
            // saying that nothing was started answer them, when the journal takes them.
            _ = try? journal.append(verified.map { item in
                JournalRecord(time: now, run: runID, type: .result, netns: place.netns, ifname: item.ifname, ifindex: item.interface.index,
                              result: .skipped, detail: "not started: the plan could not be journaled before acting; nothing was changed")
            }, after: known)
            throw ReapRefusal("cannot journal the plan before acting: \(ReapRefusal.clause(error)); nothing was changed")
        }
        stepHook?("reverified")

        system.signals.install()
        defer { system.signals.restore() }
        var done = 0
        // Devices deleted without being planned (see `ReapResult.unplanned`), reported after the plan's.
        var unplanned: [ReapResult] = []
        for batch in batches {
            if let signal = caughtSignal() {
                for item in batch.items {
                    results[item.interface.index] = ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind,
                                                              outcome: .skipped, detail: "not attempted: interrupted by \(signal)")
                }
                continue
            }
            let targets = batch.items.map { Target(item: $0, fenceName: fenceNames[$0.interface.index]!, protect: plan.protect) }
            for result in reapBatch(targets, group: batch.group, client: client, namespaceFD: namespaceFD, linkWatch: linkWatch) {
                if result.unplanned { unplanned.append(result) } else { results[result.ifindex] = result }
            }
            done += batch.items.count
            progress?(done, verified.count)
        }

        let finished = plan.items.map { item in
            results[item.interface.index] ?? ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind,
                                                       outcome: .failed, detail: "no result was recorded")
        } + unplanned
        let end = Date()
        do {
            try journal.append(finished.map {
                JournalRecord(time: end, run: runID, type: .result, netns: place.netns, ifname: $0.ifname, ifindex: $0.ifindex,
                              result: $0.outcome, detail: $0.detail, leftFenced: $0.leftFenced ? true : nil, leftOpen: $0.leftFenced ? $0.leftOpen : nil,
                              kind: $0.unplanned ? $0.kindWord : nil, unplanned: $0.unplanned ? true : nil)
            }, after: known)
        } catch {
            throw ReapJournalIncomplete(results: finished, reason: "\(error)")
        }
        return finished
    }

    /// "SIGTERM" for the signal caught since the act phase began, or nil.
    func caughtSignal() -> String? {
        switch system.signals.caught() {
        case 0: return nil
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case let other: return "signal \(other)"
        }
    }

    // MARK: verification

    /// Takes a fresh inventory of the namespace `held` holds (nil: this process's own) and keeps
    /// only the items that are still the same device (same ifindex, same name bytes, and nothing
    /// telling another device that took them since: see `replacement(of:by:watch:client:)`, with
    /// what `linkWatch` saw from before the plan's inventory to this one) and still orphaned; also returns the link groups in use, so batches can pick groups nothing is in,
    /// and the identity of the namespace it looked at. Refuses the whole plan when that namespace
    /// is not the one the plan was made in (one made again under its name since): its devices
    /// are others, however alike, and none of them was ever seen orphaned.
    func reverify(_ plan: ReapPlan, held: HeldNamespace?, linkWatch: PlanLinkWatch? = nil) throws -> (verified: [ReapItem], refused: [ReapResult], usedGroups: Set<UInt32>, identity: String) {
        let snapshot: Snapshot
        do {
            snapshot = try system.inventory(namespaceName, namespaceDirectory, held).snapshot()
        } catch {
            throw ReapRefusal("cannot re-verify the plan: \(ReapRefusal.clause(error)); nothing was changed")
        }
        guard snapshot.namespaceIdentity == plan.namespaceIdentity else {
            let place = namespaceName.map { "network namespace '\(InterfaceName.text(Array($0.utf8)))'" } ?? "this process's network namespace"
            throw ReapRefusal("\(place) is not the one the plan was made in (\(plan.namespaceIdentity)) but another (\(snapshot.namespaceIdentity)): it was deleted and made again under its name since, and the planned devices went with the old one; nothing was changed")
        }
        guard snapshot.holders.complete else {
            throw ReapRefusal("cannot re-verify the plan: holders could not be read (\(snapshot.holders.incompleteReason ?? "incomplete scan")); nothing was changed")
        }
        let assessment = Heuristics.assess(snapshot)
        let current = Dictionary(assessment.interfaces.map { ($0.interface.index, $0) }, uniquingKeysWith: { a, _ in a })
        // Read after the inventory: every removal up to it is among these.
        let watched = Self.departures(since: linkWatch, among: Set(plan.items.map { Int32($0.interface.index) }))
        var lookClient: RtnetlinkClient?
        let client = { () -> RtnetlinkClient? in
            if lookClient == nil { lookClient = (try? system.rtnetlink.connect(namespaceFD: held?.descriptor)).map { RtnetlinkClient(transport: $0) } }
            return lookClient
        }
        var verified: [ReapItem] = []
        var refused: [ReapResult] = []
        for item in plan.items {
            func skip(_ why: String) {
                refused.append(ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind, outcome: .skipped, detail: why))
            }
            guard item.action == .deleteInterface, item.interface.kind == .tun || item.interface.kind == .tap else {
                skip("not a Linux tun/tap device")
                continue
            }
            guard let now = current[item.interface.index] else {
                skip("gone since the plan was made" + (watched?.departed[Int32(item.interface.index)].map { ": it " + departureWords($0, planned: item.interface, client: client) } ?? ""))
                continue
            }
            if let replaced = replacement(of: item, by: now.interface, watch: watched, client: client) {
                skip(replaced)
                continue
            }
            guard InterfaceName.kernelBytes(now.interface.name) == InterfaceName.kernelBytes(item.ifname) else {
                skip("renamed since the plan was made (now \(now.interface.name))")
                continue
            }
            guard now.state == .orphaned else {
                if !now.holders.isEmpty {
                    skip("became attached: held by \(now.holders.map(\.display).joined(separator: ", "))")
                } else {
                    skip("no longer orphaned (\(now.state.rawValue): \(now.reason))")
                }
                continue
            }
            // Its fence, an attach, would make live the routes the kernel passes by for want of
            // its carrier (set since the plan: a sysctl, a route added).
            let woken = CarrierFence.woken(of: now.interface, routes: now.routes, policyRules: snapshot.policyRules)
            guard woken.isEmpty else {
                skip(CarrierFence.reason(woken, quotedDevice: ShellWord.quote(InterfaceName.kernelBytes(item.ifname))))
                continue
            }
            var refreshed = item
            refreshed.interface = now.interface
            refreshed.routes = now.routes
            verified.append(refreshed)
        }
        return (verified, refused, Set(snapshot.interfaces.compactMap(\.group)), snapshot.namespaceIdentity)
    }

    /// The neighbour entries made by hand of the Linux devices `items` plans to delete, by
    /// ifindex, as the recreate commands give them back: for the plan (`execute` reads them again
    /// for the journal). Throws when they cannot be listed.
    public func neighboursMadeByHand(of items: [ReapItem]) throws -> [Int: [RecreateCommands.Neighbour]] {
        let devices = items.filter { $0.action == .deleteInterface && !$0.onMacOS }
        guard !devices.isEmpty else { return [:] }
        let held = try holdNamespace()
        let client = RtnetlinkClient(transport: try system.rtnetlink.connect(namespaceFD: held?.descriptor))
        let found = try withExtendedLifetime(held) {
            try DownedState.neighbours(of: Set(devices.map { Int32($0.interface.index) }),
                                       withoutARP: Set(devices.filter { $0.interface.flags.contains("NOARP") }.map { Int32($0.interface.index) }),
                                       client: client)
        }
        return Dictionary(uniqueKeysWithValues: found.map { (Int($0.key), $0.value.compactMap(Self.recreated)) })
    }

    /// The namespace to act in, held for the caller's duration: the one `held` holds, else the
    /// one `namespaceName` names now (nil: this process's own).
    func holdNamespace() throws -> HeldNamespace? {
        if let held { return held }
        guard let name = namespaceName else { return nil }
        do {
            return try HeldNamespace(name: name, directory: namespaceDirectory)
        } catch {
            throw ReapRefusal("\(error); nothing was changed")
        }
    }

    /// How many devices one batch may hold open: the descriptor limit, less a margin.
    static func descriptorBudget() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 512 }
        // Raise the soft limit as far as allowed: each attached device is one descriptor.
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, 1 << 20)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        // Less what is open already, and a margin for the sockets and namespace descriptors the
        // last look opens: half of a small limit. Under a limit too small for even one device
        // beside those, batches of one fail honestly, device by device.
        let soft = Int(min(limit.rlim_cur, 1 << 30))
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 16
        return max(1, min(65536, soft - open - min(128, soft / 2)))
    }
}
#endif
