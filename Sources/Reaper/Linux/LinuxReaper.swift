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
    /// Most devices attached at once; nil means as many as the descriptor limit allows.
    public var batchLimit: Int?
    /// Called between the steps of a batch with the step's name; tests use it to race the reaper.
    public var stepHook: ((_ step: String) -> Void)?
    /// Makes the last look before deleting check each target by itself, as it does when links
    /// churn too fast for a consistent dump; tests use it to reach that path every time.
    var lookTargetByTarget = false

    public init(namespaceName: String?) {
        self.namespaceName = namespaceName
    }

    /// TUNSETIFF, TUNGETIFF and the IFF_* flags they take, from include/uapi/linux/if_tun.h.
    static let tunSetIFF: UInt = 0x4004_54ca
    static let tunGetIFF: UInt = 0x8004_54d2
    static let iffTun: UInt16 = 0x0001, iffTap: UInt16 = 0x0002, iffNoPI: UInt16 = 0x1000
    static let iffVnetHeader: UInt16 = 0x4000, iffMultiQueue: UInt16 = 0x0100, iffPersist: UInt16 = 0x0800

    /// The signal that interrupted the last `execute`, or 0.
    public static var interruptingSignal: Int32 { tw_reap_signal() }

    /// Executes `plan`. Throws `ReapRefusal` (nothing changed) when the system cannot be trusted or
    /// acted on, and `ReapJournalIncomplete` (with every result) when it acted but could not journal
    /// the results; otherwise returns one result per planned item, in plan order.
    public func execute(_ plan: ReapPlan, journal: Journal, runID: String,
                        progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [ReapResult] {
        guard geteuid() == 0 else {
            throw ReapRefusal("reaping needs root (CAP_NET_ADMIN to delete links, and every process's descriptors readable to prove nobody holds them); nothing was changed")
        }
        guard !plan.items.isEmpty else { return [] }
        var results: [Int: ReapResult] = [:]
        let (verified, refused, usedGroups) = try reverify(plan)
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

        let now = Date()
        let place = journalNamespace()
        do {
            try journal.append(batches.flatMap { batch in
                batch.items.map { item in
                    JournalRecord(time: now, run: runID, type: .intent, netns: place.name, ifname: item.ifname, ifindex: item.interface.index,
                                  prior: PriorState(item.interface, routes: item.routes),
                                  recreate: RecreateCommands.commands(for: item.interface, routes: item.routes, namespace: place.name,
                                                                      unnamedNamespace: place.unnamedIdentity),
                                  fenceGroup: batch.group, fenceName: InterfaceName.text(fenceNames[item.interface.index]!))
                }
            })
        } catch {
            throw ReapRefusal("cannot journal the plan before acting: \(error); nothing was changed")
        }

        let namespaceFD = try openNamespace()
        defer { if let namespaceFD { close(namespaceFD) } }
        let client: RtnetlinkClient
        do {
            client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD))
        } catch {
            throw ReapRefusal("cannot open a netlink socket: \(error); nothing was changed")
        }
        stepHook?("reverified")

        tw_install_reap_signals()
        defer { tw_restore_reap_signals() }
        var done = 0
        for batch in batches {
            if let signal = Self.caughtSignal() {
                for item in batch.items {
                    results[item.interface.index] = ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind,
                                                              outcome: .skipped, detail: "not attempted: interrupted by \(signal)")
                }
                continue
            }
            let targets = batch.items.map { Target(item: $0, fenceName: fenceNames[$0.interface.index]!) }
            for result in reapBatch(targets, group: batch.group, client: client, namespaceFD: namespaceFD) { results[result.ifindex] = result }
            done += batch.items.count
            progress?(done, verified.count)
        }

        let finished = plan.items.map { item in
            results[item.interface.index] ?? ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind,
                                                       outcome: .failed, detail: "no result was recorded")
        }
        let end = Date()
        do {
            try journal.append(finished.map {
                JournalRecord(time: end, run: runID, type: .result, netns: place.name, ifname: $0.ifname, ifindex: $0.ifindex,
                              result: $0.outcome, detail: $0.detail)
            })
        } catch {
            throw ReapJournalIncomplete(results: finished, reason: "\(error)")
        }
        return finished
    }

    /// "SIGTERM" for the signal caught since the act phase began, or nil.
    static func caughtSignal() -> String? {
        switch tw_reap_signal() {
        case 0: return nil
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case let other: return "signal \(other)"
        }
    }

    // MARK: verification

    /// Takes a fresh inventory and keeps only the items that are still the same device (same
    /// ifindex, same name bytes) and still orphaned; also returns the link groups in use, so
    /// batches can pick groups nothing is in.
    func reverify(_ plan: ReapPlan) throws -> (verified: [ReapItem], refused: [ReapResult], usedGroups: Set<UInt32>) {
        let snapshot: Snapshot
        do {
            var inventory = LinuxInventory(namespaceName: namespaceName)
            inventory.snapshotAttempts = 10
            snapshot = try inventory.snapshot()
        } catch {
            throw ReapRefusal("cannot re-verify the plan: \(error); nothing was changed")
        }
        guard snapshot.holders.complete else {
            throw ReapRefusal("cannot re-verify the plan: holders could not be read (\(snapshot.holders.incompleteReason ?? "incomplete scan")); nothing was changed")
        }
        let assessment = Heuristics.assess(snapshot)
        let current = Dictionary(assessment.interfaces.map { ($0.interface.index, $0) }, uniquingKeysWith: { a, _ in a })
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
                skip("gone since the plan was made")
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
            var refreshed = item
            refreshed.interface = now.interface
            refreshed.routes = now.routes
            verified.append(refreshed)
        }
        return (verified, refused, Set(snapshot.interfaces.compactMap(\.group)))
    }

    func openNamespace() throws -> Int32? {
        guard let name = namespaceName else { return nil }
        let fd = open("\(namespaceDirectory)/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ReapRefusal("cannot open network namespace '\(name)': \(String(cString: strerror(errno))); nothing was changed")
        }
        return fd
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
        return max(16, min(65536, Int(limit.rlim_cur) - 128))
    }

    // MARK: one batch

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
            for var target in targets { record(target, outcome, detail + restore(&target, client: client)) }
        }
        var targets = batch

        // 1. One /dev/net/tun per single-queue device, opened inside the namespace: a tun
        //    descriptor is bound to the namespace it was opened in.
        let singleQueue = targets.indices.filter { !targets[$0].multiQueue }
        if !singleQueue.isEmpty {
            do {
                let open = { () throws -> [Int32] in try Self.openTunDescriptors(count: singleQueue.count) }
                let opened = try namespaceFD.map { try NamespaceThread.run(in: $0, open) } ?? open()
                for (position, fd) in zip(singleQueue, opened) { targets[position].fd = fd }
            } catch {
                targets.forEach { record($0, .failed, "cannot open /dev/net/tun: \(error)") }
                return results
            }
        }
        defer { for target in targets { if let fd = target.fd { close(fd) } } }

        // 2. Fence each device, by ifindex.
        var fenced: [Target] = []
        for var target in targets {
            if let signal = Self.caughtSignal() {
                record(target, .skipped, "not attempted: interrupted by \(signal)")
                continue
            }
            switch fence(&target, client: client) {
            case nil: fenced.append(target)
            case let (outcome, detail)?:
                let restored = restore(&target, client: client)
                record(target, outcome, detail + restored)
            }
        }
        stepHook?("fenced")

        // 3. Into the group.
        var grouped: [Target] = []
        for var target in fenced {
            do {
                try client.request(operation: "RTM_NEWLINK (group)") { LinkMessage.setGroupRequest(index: target.index, group: group, sequence: $0) }
                target.grouped = true
                grouped.append(target)
            } catch {
                record(target, .failed, "cannot set its group: \(error)" + restore(&target, client: client))
            }
        }
        stepHook?("grouped")

        // 4. Right before deleting: look, and take out of the group whatever fails verification,
        //    until a look shows every remaining target verified. The look is one dump of every
        //    link, which also proves the group holds nothing else; while links come and go too
        //    fast for a consistent dump, it is each target by itself plus the (small) dumps of
        //    the kinds that stack on a device, and the targets are then deleted one by one.
        var confirmed = grouped
        var settled = false
        var whole = true
        for _ in 0..<4 {
            if let signal = Self.caughtSignal() {
                abandon(confirmed, .skipped, "interrupted by \(signal) before deleting")
                return results
            }
            let targetIndices = Set(confirmed.map { Int($0.index) })
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
            let byIndex = Dictionary(view.links.map { (Int($0.index), $0) }, uniquingKeysWith: { a, _ in a })
            var kept: [Target] = []
            var released = false
            for var target in confirmed {
                guard let link = byIndex[Int(target.index)] else {
                    // Deleted by someone else: there is nothing to restore.
                    record(target, .skipped, "gone since the plan was made (deleted by something else)")
                    released = true
                    continue
                }
                if let problem = Self.verificationProblem(target, link: link, group: group, stackedOn: stacked[Int(target.index)] ?? []) {
                    record(target, .skipped, problem + restore(&target, client: client))
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
        if let signal = Self.caughtSignal() {
            abandon(confirmed, .skipped, "interrupted by \(signal) before deleting")
            return results
        }

        // 5. One deletion for the whole group, or, when the group could not be seen whole, one
        //    per target by ifindex (each pays the kernel's unregistration cost, but deletes
        //    exactly that device).
        if whole {
            do {
                try client.request(operation: "RTM_DELLINK (group \(group))") { LinkMessage.deleteGroupRequest(group: group, sequence: $0) }
            } catch {
                abandon(confirmed, .failed, "\(error)")
                return results
            }
        } else {
            var sent: [Target] = []
            for var target in confirmed {
                let index = target.index
                do {
                    try client.request(operation: "RTM_DELLINK") { LinkMessage.deleteRequest(index: index, sequence: $0) }
                    sent.append(target)
                } catch NetlinkError.kernel(_, ENODEV, _) {
                    record(target, .skipped, "gone since the plan was made (deleted by something else)")
                } catch {
                    record(target, .failed, "\(error)" + restore(&target, client: client))
                }
            }
            confirmed = sent
        }

        // 6. Check that they are gone, by ifindex.
        let present = Self.stillPresent(confirmed.map { Int($0.index) }, client: client)
        for target in confirmed {
            switch present[Int(target.index)] {
            case true?: record(target, .failed, "still present after RTM_DELLINK")
            case false?: record(target, .deleted)
            case nil: record(target, .deleted, "RTM_DELLINK succeeded; the check afterwards could not be made")
            }
        }
        return results
    }

    /// What the last check before deleting saw: every link (`whole`), or the targets and the
    /// links of the kinds that stack on a device.
    struct View {
        var links: [LinkMessage]
        var whole: Bool
    }

    /// Link kinds the kernel deletes together with their lower device: they name it in IFLA_LINK
    /// (macvlan, macvtap, vlan, ipvlan, ipvtap) or IFLA_VXLAN_LINK (vxlan).
    static let stackingKinds = ["macvlan", "macvtap", "vlan", "ipvlan", "ipvtap", "vxlan"]

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
        for kind in stackingKinds {
            links += try stacking(kind, client: client).filter { !targets.contains(Int($0.index)) }
        }
        return View(links: links, whole: false)
    }

    /// Every link of `kind`, from a kind-filtered dump. The kernel filters only by kinds whose
    /// driver is registered (`linkinfo_to_kind_ops`) and otherwise answers with every link; a
    /// link of another kind in the answer therefore proves that no link of this kind exists, and
    /// that answer need not be consistent.
    static func stacking(_ kind: String, client: RtnetlinkClient) throws -> [LinkMessage] {
        var attempt = 0
        while true {
            var found: [LinkMessage] = []
            var unfiltered = false
            do {
                try client.dumpOnce(operation: "RTM_GETLINK (\(kind))", request: { LinkMessage.dumpRequest(kind: kind, sequence: $0) }) { message in
                    guard message.header.type == NetlinkType.newLink else { return }
                    let link = try LinkMessage.decode(message.payload)
                    if link.kind == kind { found.append(link) } else { unfiltered = true }
                }
                return unfiltered ? [] : found
            } catch NetlinkError.dumpInterrupted(let operation, _) {
                if unfiltered { return [] }
                attempt += 1
                guard attempt < 20 else { throw NetlinkError.dumpInterrupted(operation: operation, attempts: attempt) }
                usleep(useconds_t(5_000 * attempt))
            }
        }
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
    /// is recorded in `target`, for `restore`).
    func fence(_ target: inout Target, client: RtnetlinkClient) -> (JournalRecord.Outcome, String)? {
        if target.multiQueue {
            if target.item.interface.isUp {
                do {
                    try client.request(operation: "RTM_NEWLINK (down)") { LinkMessage.setUpRequest(index: target.index, up: false, sequence: $0) }
                    target.takenDown = true
                } catch {
                    return Self.netlinkOutcome(error, doing: "take it down to rename it")
                }
            }
            do {
                try client.request(operation: "RTM_NEWLINK (rename)") { LinkMessage.renameRequest(index: target.index, name: target.fenceName, sequence: $0) }
                target.renamed = true
            } catch {
                return Self.netlinkOutcome(error, doing: "rename it to a private name")
            }
            return nil
        }
        do {
            try client.request(operation: "RTM_NEWLINKPROP (altname)") {
                LinkMessage.altNameRequest(index: target.index, altName: target.fenceName, add: true, sequence: $0)
            }
            target.altNameAdded = true
        } catch {
            return Self.netlinkOutcome(error, doing: "give it a private alternative name")
        }
        guard let fd = target.fd else { return (.failed, "no descriptor to attach with") }
        let code = Self.attach(fd: fd, name: target.fenceName, to: target.item.interface)
        switch code {
        case 0: break
        case EBUSY: return (.skipped, "became attached since the plan was made (TUNSETIFF: device busy)")
        case EINVAL: return (.skipped, "its type or features changed since the plan was made (TUNSETIFF: invalid argument)")
        default: return (.failed, "cannot attach to verify it is unused (TUNSETIFF: \(String(cString: strerror(code))))")
        }
        // TUNSETIFF creates a device when no device answers to the name: that one is not
        // persistent, and closing the descriptor removes it again.
        guard let flags = Self.attachedFlags(fd: fd), flags & Self.iffPersist != 0 else {
            return (.skipped, "gone since the plan was made (its private name reached no persistent device)")
        }
        return nil
    }

    /// Why a grouped target must not be deleted, judged by ifindex from the last dump; nil when
    /// it may be.
    static func verificationProblem(_ target: Target, link: LinkMessage, group: UInt32, stackedOn uppers: [String]) -> String? {
        guard link.group == group else { return "its link group was changed since it was fenced" }
        guard link.tun?.persist == true else { return "no longer a persistent tun/tap device" }
        if !uppers.isEmpty { return "\(uppers.joined(separator: ", ")) now sits on it (deleting it would delete them too)" }
        if let master = link.master, master != 0 { return "it became a port of ifindex \(master)" }
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
            // A rename after fencing changes nothing that matters: tunwarden holds the device's only
            // queue, so nobody can be attached to it, and the alternative name still proves which
            // device that is. (Renamed before fencing, it was skipped at re-verification.)
            guard link.altNames.contains(target.fenceName) else { return "its private alternative name was removed by something else" }
        }
        return nil
    }

    /// Undoes what fencing did to a target that will not be deleted: group, private name,
    /// down. tunwarden's own queue stays attached until the batch ends (the batch closes every
    /// descriptor it opened exactly once). Returns text to add to its result: empty when everything was restored, otherwise
    /// what could not be.
    func restore(_ target: inout Target, client: RtnetlinkClient) -> String {
        var problems: [String] = []
        let index = target.index
        if target.grouped {
            let prior = target.item.interface.group ?? 0
            if (try? client.request(operation: "RTM_NEWLINK (group)") { LinkMessage.setGroupRequest(index: index, group: prior, sequence: $0) }) == nil {
                problems.append("its link group could not be set back to \(prior)")
            }
            target.grouped = false
        }
        if target.altNameAdded {
            let name = target.fenceName
            _ = try? client.request(operation: "RTM_DELLINKPROP (altname)") { LinkMessage.altNameRequest(index: index, altName: name, add: false, sequence: $0) }
            target.altNameAdded = false
        }
        if target.renamed {
            let name = target.name
            if (try? client.request(operation: "RTM_NEWLINK (rename)") { LinkMessage.renameRequest(index: index, name: name, sequence: $0) }) == nil {
                problems.append("it could not be renamed back from \(InterfaceName.text(target.fenceName)) (the name \(target.item.ifname) may be taken)")
            }
            target.renamed = false
        }
        if target.takenDown {
            if (try? client.request(operation: "RTM_NEWLINK (up)") { LinkMessage.setUpRequest(index: index, up: true, sequence: $0) }) == nil {
                problems.append("it could not be set up again")
            } else {
                problems.append("it was set down and up again for the check, which drops its routes and IPv6 addresses: the journal's recreate commands restore them")
            }
            target.takenDown = false
        }
        return problems.isEmpty ? "" : "; " + problems.joined(separator: "; ")
    }

    /// The outcome of a refused fencing request: a device that vanished is skipped, anything else failed.
    static func netlinkOutcome(_ error: any Error, doing what: String) -> (JournalRecord.Outcome, String) {
        if case let NetlinkError.kernel(_, code, _) = error, code == ENODEV {
            return (.skipped, "gone since the plan was made")
        }
        return (.failed, "cannot \(what): \(error)")
    }

    // MARK: repairing a killed run

    /// The intent records of this namespace that no result record answers: a reap cut off
    /// between the two, or one acting right now.
    public func unfinishedIntents(_ records: [JournalRecord]) -> [JournalRecord] {
        var finished = Set<String>()
        for record in records where record.type == .result { finished.insert("\(record.run)|\(record.ifindex)") }
        let here: Set<String?> = [namespaceName, journalNamespace().name]
        return records.filter {
            $0.type == .intent && $0.fenceGroup != nil && here.contains($0.netns) && !finished.contains("\($0.run)|\($0.ifindex)")
        }
    }

    /// Finds the reaps in `journal` that were cut off between their intent and result records
    /// (killed outright, or the machine went down), undoes their fences on the devices that are
    /// still there (link group, private name, alternative name), and journals a result for each.
    /// Returns one line per device for people. Does nothing for runs that journaled their results.
    public func repairInterrupted(journal: Journal, records: [JournalRecord]) throws -> [String] {
        let open = unfinishedIntents(records)
        guard !open.isEmpty else { return [] }
        let namespaceFD = try openNamespace()
        defer { if let namespaceFD { close(namespaceFD) } }
        let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD))
        let links = try Self.dumpLinks(client)
        let byIndex = Dictionary(links.map { (Int($0.index), $0) }, uniquingKeysWith: { a, _ in a })
        var lines: [String] = []
        var repairs: [JournalRecord] = []
        let now = Date()
        for intent in open {
            let fenceName = intent.fenceName.map(InterfaceName.kernelBytes)
            var outcome: JournalRecord.Outcome = .skipped
            var detail: String
            if let link = byIndex[intent.ifindex], link.group == intent.fenceGroup || link.name == fenceName || (fenceName.map(link.altNames.contains) ?? false) {
                var done: [String] = []
                let index = Int32(intent.ifindex)
                if link.group == intent.fenceGroup {
                    let prior = intent.prior?.group ?? 0
                    _ = try? client.request(operation: "RTM_NEWLINK (group)") { LinkMessage.setGroupRequest(index: index, group: prior, sequence: $0) }
                    done.append("group \(prior) restored")
                }
                if let fenceName, link.altNames.contains(fenceName) {
                    _ = try? client.request(operation: "RTM_DELLINKPROP (altname)") { LinkMessage.altNameRequest(index: index, altName: fenceName, add: false, sequence: $0) }
                    done.append("private alternative name removed")
                }
                if let fenceName, link.name == fenceName {
                    let original = InterfaceName.kernelBytes(intent.ifname)
                    if (try? client.request(operation: "RTM_NEWLINK (rename)") { LinkMessage.renameRequest(index: index, name: original, sequence: $0) }) != nil {
                        done.append("renamed back")
                        if intent.prior?.flags.contains("UP") == true {
                            _ = try? client.request(operation: "RTM_NEWLINK (up)") { LinkMessage.setUpRequest(index: index, up: true, sequence: $0) }
                            done.append("set up again")
                        }
                    } else {
                        done.append("could not be renamed back from \(intent.fenceName ?? "")")
                    }
                }
                detail = "run \(intent.run) was interrupted before deleting it; " + done.joined(separator: ", ")
            } else if byIndex[intent.ifindex] == nil {
                outcome = .deleted
                detail = "run \(intent.run) was interrupted after its intent; the device is gone (deleted by that run, or since)"
            } else {
                detail = "run \(intent.run) was interrupted before fencing it; nothing to undo"
            }
            lines.append("Repaired \(intent.ifname) (ifindex \(intent.ifindex)): \(detail)")
            repairs.append(JournalRecord(time: now, run: intent.run, type: .result, netns: intent.netns, ifname: intent.ifname,
                                         ifindex: intent.ifindex, result: outcome, detail: detail))
        }
        try journal.append(repairs)
        return lines
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

    // MARK: system calls

    static func openTunDescriptors(count: Int) throws -> [Int32] {
        var descriptors: [Int32] = []
        descriptors.reserveCapacity(count)
        for _ in 0..<count {
            let fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else {
                let code = errno
                descriptors.forEach { close($0) }
                throw NetlinkError.system(call: "open(/dev/net/tun)", errno: code)
            }
            descriptors.append(fd)
        }
        return descriptors
    }

    /// TUNSETIFF with `name` (exact bytes) and the device's own type and features (so attaching
    /// changes none of them); returns 0 or the errno.
    static func attach(fd: Int32, name: [UInt8], to interface: NetworkInterface) -> Int32 {
        var flags = interface.kind == .tap ? iffTap : iffTun
        if interface.tun?.packetInfo != true { flags |= iffNoPI }
        if interface.tun?.vnetHeader == true { flags |= iffVnetHeader }
        if interface.tun?.multiQueue == true { flags |= iffMultiQueue }
        // struct ifreq: a 16-byte name, then the flags, in 40 bytes.
        var request = [UInt8](repeating: 0, count: 40)
        let bytes = name.prefix(15)
        request.replaceSubrange(0..<bytes.count, with: bytes)
        withUnsafeBytes(of: flags) { request.replaceSubrange(16..<18, with: $0) }
        while true {
            let rc = request.withUnsafeMutableBytes { tw_ioctl_ptr(fd, tunSetIFF, $0.baseAddress) }
            if rc == 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// The IFF_* flags of the device `fd` is attached to (TUNGETIFF), or nil.
    static func attachedFlags(fd: Int32) -> UInt16? {
        var request = [UInt8](repeating: 0, count: 40)
        let rc = request.withUnsafeMutableBytes { tw_ioctl_ptr(fd, tunGetIFF, $0.baseAddress) }
        guard rc == 0 else { return nil }
        return request.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt16.self) }
    }

    /// Private names for one run: `tw` and 13 hex digits (15 bytes, the most a name may have),
    /// all different, from one random seed (SplitMix64, a bijection on 64 bits, over a counter).
    /// One system random draw per run: drawing each digit cost a getrandom(2) call, 130,000 of
    /// them for 10,000 devices.
    struct PrivateNames {
        private var state = UInt64.random(in: 0...UInt64.max)
        private static let digits = Array("0123456789abcdef".utf8)

        mutating func next() -> [UInt8] {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z ^= z >> 31
            return Array("tw".utf8) + (0..<13).map { Self.digits[Int((z >> (UInt64($0) * 4)) & 0xf)] }
        }
    }

    /// A random link group outside `used` (and away from the small numbers people assign).
    static func unusedGroup(avoiding used: Set<UInt32>) -> UInt32 {
        while true {
            let candidate = UInt32.random(in: 0x0100_0000...0xFFFF_FFF0)
            if !used.contains(candidate) { return candidate }
        }
    }
}
#endif
