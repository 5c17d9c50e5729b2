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
/// For each batch: a fresh inventory re-verifies every item; tunwarden attaches to each
/// single-queue device itself (TUNSETIFF answers EBUSY if a process attached since the plan, and
/// while tunwarden holds the device nobody else can attach); the targets move into an otherwise
/// unused link group; a last dump checks that the group holds exactly the targets and that no
/// multi-queue target has a queue but tunwarden's; then one RTM_DELLINK removes the whole group,
/// so the kernel's per-device unregistration cost is paid once per batch. Every item gets an
/// intent record in the journal before anything is done and a result record after.
public struct LinuxReaper {
    public var namespaceName: String?
    public var namespaceDirectory = "/run/netns"
    /// Most devices attached at once; nil means as many as the descriptor limit allows.
    public var batchLimit: Int?

    public init(namespaceName: String?) {
        self.namespaceName = namespaceName
    }

    /// TUNSETIFF and the IFF_* flags it takes, from include/uapi/linux/if_tun.h.
    static let tunSetIFF: UInt = 0x4004_54ca
    static let iffTun: UInt16 = 0x0001, iffTap: UInt16 = 0x0002, iffNoPI: UInt16 = 0x1000
    static let iffVnetHeader: UInt16 = 0x4000, iffMultiQueue: UInt16 = 0x0100

    /// Executes `plan`. Throws `ReapRefusal` (nothing changed) when the system cannot be trusted or
    /// acted on; otherwise returns one result per planned item, in plan order.
    public func execute(_ plan: ReapPlan, journal: Journal, runID: String,
                        progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [ReapResult] {
        guard geteuid() == 0 else {
            throw ReapRefusal("reaping needs root (CAP_NET_ADMIN to delete links, and every process's descriptors readable to prove nobody holds them); nothing was changed")
        }
        guard !plan.items.isEmpty else { return [] }
        var results: [Int: ReapResult] = [:]
        let (verified, refused, usedGroups) = try reverify(plan)
        for result in refused { results[result.ifindex] = result }

        let now = Date()
        try journal.append(verified.map { item in
            JournalRecord(time: now, run: runID, type: .intent, netns: namespaceName, ifname: item.ifname, ifindex: item.interface.index,
                          prior: PriorState(item.interface, routes: item.routes),
                          recreate: RecreateCommands.commands(for: item.interface, routes: item.routes, namespace: namespaceName))
        })

        let namespaceFD = try openNamespace()
        defer { if let namespaceFD { close(namespaceFD) } }
        let client: RtnetlinkClient
        do {
            client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD))
        } catch {
            throw ReapRefusal("cannot open a netlink socket: \(error); nothing was changed")
        }

        let batchSize = batchLimit ?? Self.descriptorBudget()
        var done = 0
        var start = 0
        var avoid = usedGroups
        while start < verified.count {
            let batch = Array(verified[start..<min(start + batchSize, verified.count)])
            let group = Self.unusedGroup(avoiding: avoid)
            avoid.insert(group)
            for result in reapBatch(batch, group: group, client: client, namespaceFD: namespaceFD) { results[result.ifindex] = result }
            start += batch.count
            done += batch.count
            progress?(done, verified.count)
        }

        let finished = plan.items.map { item in
            results[item.interface.index] ?? ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind,
                                                       outcome: .failed, detail: "no result was recorded")
        }
        let end = Date()
        try journal.append(finished.map {
            JournalRecord(time: end, run: runID, type: .result, netns: namespaceName, ifname: $0.ifname, ifindex: $0.ifindex,
                          result: $0.outcome, detail: $0.detail)
        })
        return finished
    }

    // MARK: verification

    /// Takes a fresh inventory and keeps only the items that are still the same device and still
    /// orphaned; also returns the link groups in use, so batches can pick groups nothing is in.
    func reverify(_ plan: ReapPlan) throws -> (verified: [ReapItem], refused: [ReapResult], usedGroups: Set<UInt32>) {
        let snapshot: Snapshot
        do {
            snapshot = try LinuxInventory(namespaceName: namespaceName).snapshot()
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
            guard let now = current[item.interface.index], now.interface.name == item.ifname else {
                skip("gone since the plan was made")
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

    /// `group` is one no link was in at re-verification; the check right before deleting proves
    /// it still holds nothing but the targets.
    func reapBatch(_ batch: [ReapItem], group: UInt32, client: RtnetlinkClient, namespaceFD: Int32?) -> [ReapResult] {
        var results: [ReapResult] = []
        func record(_ item: ReapItem, _ outcome: JournalRecord.Outcome, _ detail: String? = nil) {
            results.append(ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind, outcome: outcome, detail: detail))
        }

        // 1. Open one /dev/net/tun per device, inside the namespace: a tun descriptor is bound to
        //    the namespace it was opened in.
        let opened: [Int32]
        do {
            let open = { () throws -> [Int32] in try Self.openTunDescriptors(count: batch.count) }
            opened = try namespaceFD.map { try NamespaceThread.run(in: $0, open) } ?? open()
        } catch {
            batch.forEach { record($0, .failed, "cannot open /dev/net/tun: \(error)") }
            return results
        }
        defer { opened.forEach { close($0) } }

        // 2. Attach. For a single-queue device success proves nobody holds it, and holding it keeps
        //    everyone else out until it is gone.
        var attached: [(item: ReapItem, fd: Int32)] = []
        for (item, fd) in zip(batch, opened) {
            let code = Self.attach(fd: fd, to: item.interface)
            switch code {
            case 0: attached.append((item, fd))
            case EBUSY: record(item, .skipped, "became attached since the plan was made (TUNSETIFF: device busy)")
            case ENODEV, ENOENT: record(item, .skipped, "gone since the plan was made")
            default: record(item, .failed, "cannot attach to verify it is unused (TUNSETIFF: \(String(cString: strerror(code))))")
            }
        }
        guard !attached.isEmpty else { return results }

        // 3. Move the targets into a group nothing else uses.
        var grouped: [(item: ReapItem, fd: Int32)] = []
        for entry in attached {
            do {
                try client.request(operation: "RTM_NEWLINK (group)") { LinkMessage.setGroupRequest(index: Int32(entry.item.interface.index), group: group, sequence: $0) }
                grouped.append(entry)
            } catch {
                record(entry.item, .failed, "cannot set its group: \(error)")
            }
        }

        // 4. Right before deleting: the group must hold exactly the targets, each still persistent,
        //    and a multi-queue target no queue but ours.
        let links: [LinkMessage]
        do {
            links = try client.dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { message in
                message.header.type == NetlinkType.newLink ? try LinkMessage.decode(message.payload) : nil
            }
        } catch {
            restoreGroups(grouped.map(\.item), client: client)
            grouped.forEach { record($0.item, .failed, "cannot re-verify before deleting: \(error)") }
            return results
        }
        let inGroup = Dictionary(links.filter { $0.group == group }.map { (Int($0.index), $0) }, uniquingKeysWith: { a, _ in a })
        let targets = Set(grouped.map { $0.item.interface.index })
        if let stranger = inGroup.values.first(where: { !targets.contains(Int($0.index)) }) {
            restoreGroups(grouped.map(\.item), client: client)
            grouped.forEach { record($0.item, .failed, "group \(group) also holds \(stranger.name ?? "ifindex \(stranger.index)"), which is not a target; nothing deleted") }
            return results
        }
        var confirmed: [ReapItem] = []
        var released: [ReapItem] = []
        for entry in grouped {
            guard let link = inGroup[entry.item.interface.index], link.name == entry.item.ifname else {
                record(entry.item, .skipped, "gone since the plan was made")
                continue
            }
            if link.tun?.persist == false {
                released.append(entry.item)
                record(entry.item, .skipped, "no longer persistent")
            } else if entry.item.interface.tun?.multiQueue == true,
                      (link.tun?.numQueues ?? 0) != 1 || (link.tun?.numDisabledQueues ?? 0) != 0 {
                released.append(entry.item)
                record(entry.item, .skipped, "a process attached a queue since the plan was made")
            } else {
                confirmed.append(entry.item)
            }
        }
        restoreGroups(released, client: client)
        guard !confirmed.isEmpty else { return results }

        // 5. One deletion for the whole group.
        do {
            try client.request(operation: "RTM_DELLINK (group \(group))") { LinkMessage.deleteGroupRequest(group: group, sequence: $0) }
        } catch {
            restoreGroups(confirmed, client: client)
            confirmed.forEach { record($0, .failed, "\(error)") }
            return results
        }

        // 6. Check that they are gone.
        let remaining = (try? client.dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { message in
            message.header.type == NetlinkType.newLink ? try LinkMessage.decode(message.payload) : nil
        }).map { Set($0.filter { $0.group == group }.map { Int($0.index) }) }
        for item in confirmed {
            if let remaining, remaining.contains(item.interface.index) {
                record(item, .failed, "still present after RTM_DELLINK")
            } else {
                record(item, .deleted)
            }
        }
        return results
    }

    /// Puts devices back in the group they were in.
    func restoreGroups(_ items: [ReapItem], client: RtnetlinkClient) {
        for item in items {
            _ = try? client.request(operation: "RTM_NEWLINK (group)") {
                LinkMessage.setGroupRequest(index: Int32(item.interface.index), group: item.interface.group ?? 0, sequence: $0)
            }
        }
    }

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

    /// TUNSETIFF with the device's own name, type and features (so attaching changes none of
    /// them); returns 0 or the errno.
    static func attach(fd: Int32, to interface: NetworkInterface) -> Int32 {
        var flags = interface.kind == .tap ? iffTap : iffTun
        if interface.tun?.packetInfo != true { flags |= iffNoPI }
        if interface.tun?.vnetHeader == true { flags |= iffVnetHeader }
        if interface.tun?.multiQueue == true { flags |= iffMultiQueue }
        // struct ifreq: a 16-byte name, then the flags, in 40 bytes.
        var request = [UInt8](repeating: 0, count: 40)
        let name = Array(interface.name.utf8.prefix(15))
        request.replaceSubrange(0..<name.count, with: name)
        withUnsafeBytes(of: flags) { request.replaceSubrange(16..<18, with: $0) }
        while true {
            let rc = request.withUnsafeMutableBytes { tw_ioctl_ptr(fd, tunSetIFF, $0.baseAddress) }
            if rc == 0 { return 0 }
            if errno != EINTR { return errno }
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
