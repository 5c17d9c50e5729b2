import Foundation

/// The thresholds an audit judges against.
public struct AuditPolicy: Sendable, Equatable {
    /// Tunnel-style interfaces at which the count becomes critical. 95 is where macOS users report
    /// trouble (anecdotal; no kernel constant says so), and a sane ceiling elsewhere too.
    public var limit: Int
    /// Count from which the count is a warning; nil means 80 % of the limit, rounded up.
    public var warnAt: Int?

    /// Processes that own feth pairs; a feth with none of them running is orphaned.
    public var fethOwners: [String]
    /// utun interfaces one process must hold, most of them idle, to be a hoard.
    public var hoardThreshold: Int

    public init(limit: Int = 95, warnAt: Int? = nil, fethOwners: [String] = ["zerotier-one"], hoardThreshold: Int = 3) {
        self.limit = limit
        self.warnAt = warnAt
        self.fethOwners = fethOwners
        self.hoardThreshold = hoardThreshold
    }

    /// `limit - limit / 5` is 80 % rounded up, for every limit, without multiplying it first.
    public var effectiveWarn: Int { warnAt ?? limit - limit / 5 }
}

/// An interface with its verdict and the holders attributed to it.
public struct AssessedInterface: Sendable, Equatable {
    public var interface: NetworkInterface
    public var state: InterfaceState
    /// Why the state is what it is, in one sentence.
    public var reason: String
    /// Holders in the inspected namespace whose descriptor names this interface.
    public var holders: [Holder]
    /// Whether the holder list is complete (the scan could read every process).
    public var holdersKnown: Bool
    /// Routes whose next hop uses this interface.
    public var routes: [Route]
}

/// The result of judging a snapshot: every tunnel-style interface with its state, the findings,
/// and the overall status.
public struct Assessment: Sendable, Equatable {
    public var snapshot: Snapshot
    public var policy: AuditPolicy
    /// Tunnel-style interfaces, in interface-index order.
    public var interfaces: [AssessedInterface]
    /// Findings, most severe first.
    public var findings: [Finding]
    public var status: AuditStatus

    /// How many interfaces are in each state.
    public let stateCounts: [InterfaceState: Int]

    public init(snapshot: Snapshot, policy: AuditPolicy, interfaces: [AssessedInterface], findings: [Finding], status: AuditStatus) {
        self.snapshot = snapshot
        self.policy = policy
        self.interfaces = interfaces
        self.findings = findings
        self.status = status
        var counts: [InterfaceState: Int] = [:]
        // By position: iterating the values would copy every interface.
        for position in interfaces.indices { counts[interfaces[position].state, default: 0] += 1 }
        stateCounts = counts
    }

    public func count(_ state: InterfaceState) -> Int { stateCounts[state] ?? 0 }

    /// The same assessment with more findings (from history, which the snapshot alone cannot
    /// give), re-sorted, with the status they imply.
    public func adding(_ extra: [Finding]) -> Assessment {
        guard !extra.isEmpty else { return self }
        let all = Heuristics.sorted(findings + extra)
        return Assessment(snapshot: snapshot, policy: policy, interfaces: interfaces, findings: all,
                          status: Heuristics.status(findings: all, interfaces: interfaces))
    }
}

/// The heuristics: pure functions from a snapshot to states and findings. Nothing here reads the
/// system, so every judgement can be reproduced from a recorded snapshot.
public enum Heuristics {
    /// Judges a snapshot. `early` is the judging of its first interfaces done while it was being
    /// taken (see `EarlyJudging`); its verdicts are used when they match the snapshot.
    public static func assess(_ snapshot: Snapshot, policy: AuditPolicy = AuditPolicy(), early: EarlyJudging? = nil) -> Assessment {
        assess(snapshot, policy: policy, maxChunks: ProcessInfo.processInfo.activeProcessorCount, early: early)
    }

    /// Judges a snapshot, judging interfaces on up to `maxChunks` threads (tests compare 1 with more).
    static func assess(_ snapshot: Snapshot, policy: AuditPolicy, maxChunks: Int, early: EarlyJudging? = nil) -> Assessment {
        // The interfaces judged early are not judged again; their verdicts come first.
        var assessed: [AssessedInterface] = []
        var findings: [Finding] = []
        let stacking = Stacking(snapshot.interfaces)
        let start = early?.takeVerdicts(for: snapshot, assessed: &assessed, findings: &findings,
                                        accepting: { !stacking.involves($0.interface) }) ?? 0
        // Only veth judgements look interfaces up by index; most snapshots need no map at all.
        // (Early judging ends at the first veth: only the rest can hold one.)
        let namesByIndex = snapshot.interfaces[start...].contains { $0.kind == .veth }
            ? Dictionary(snapshot.interfaces.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
            : [:]
        let routesByIndex = routesPerInterface(snapshot.routes)
        let holderIndex = HolderIndex(snapshot.holders, namespaceNames: snapshot.namespaceNames)
        /// Judges the interfaces at `positions` of the snapshot, in order.
        @Sendable func judge(_ positions: Range<Int>) -> (assessed: [AssessedInterface], findings: [Finding]) {
            var assessed: [AssessedInterface] = []
            var findings: [Finding] = []
            assessed.reserveCapacity(positions.count)
            // Interfaces are visited by position: a for-in over the values copies each one first.
            for position in positions where snapshot.interfaces[position].kind.isTunnelStyle {
                let interface = snapshot.interfaces[position]
                let routes = routesByIndex[interface.index] ?? []
                if let alone = judgeAlone(interface, holders: holderIndex, routes: routes, stacking: stacking, findings: &findings) {
                    assessed.append(alone)
                    continue
                }
                let verdict: (InterfaceState, String)
                switch interface.kind {
                case .veth:
                    verdict = judgeVeth(interface, namesByIndex: namesByIndex, snapshot: snapshot, findings: &findings)
                default:
                    verdict = judgeFeth(interface, snapshot: snapshot, policy: policy, findings: &findings)
                }
                assessed.append(AssessedInterface(interface: interface, state: verdict.0, reason: verdict.1,
                                                  holders: holderIndex.split(interface.name).here,
                                                  // No process can hold a feth: its holders are known to be none.
                                                  holdersKnown: interface.kind == .feth || snapshot.holders.complete, routes: routes))
            }
            return (assessed, findings)
        }
        // Each interface's verdict depends on nothing another one's does: tens of thousands are
        // judged in chunks on every core, and the chunks joined in order (the same result).
        let count = snapshot.interfaces.count - start
        var parts = Chunked.map(count, chunks: Chunked.count(of: count, maxChunks: maxChunks, minimum: 2048), empty: ([], [])) {
            judge(($0.lowerBound + start)..<($0.upperBound + start))
        }
        // Without early verdicts the first chunk's arrays are taken over (no element is copied).
        if start == 0 { (assessed, findings) = parts.removeFirst() }
        for (moreAssessed, moreFindings) in parts {
            assessed += moreAssessed
            findings += moreFindings
        }

        findings += deadRouteFindings(assessed, snapshot: snapshot)
        findings += splitDefaultFindings(assessed, snapshot: snapshot)
        findings += hoardFindings(assessed, snapshot: snapshot, policy: policy)
        findings += defaultViaTunnelFindings(snapshot)
        if !snapshot.missingSources.isEmpty {
            findings.append(Finding(
                id: FindingID.captureMissing, severity: .info, ifname: nil, reapable: false,
                evidence: "The capture lacks \(snapshot.missingSources.joined(separator: ", ")); what those would show is unknown, not assumed absent."
            ))
        }
        if let count = countFinding(assessed.count, policy: policy) { findings.append(count) }
        if snapshot.platform == .darwin, !snapshot.holders.complete, !snapshot.holders.attachments.isEmpty || snapshot.holders.processesScanned > 0,
           assessed.contains(where: { $0.interface.kind == .utun }) {
            // A partial lsof (one process, a filtered listing): what it shows holds, the rest is unknown.
            findings.append(Finding(
                id: FindingID.holderUnknown, severity: .info, ifname: nil, reapable: false,
                evidence: "The capture's lsof covers only part of the processes (\(snapshot.holders.incompleteReason ?? "a partial listing")): a utun it shows no holder for is held by a process it does not cover, not by nobody. Capture `sudo lsof -nP` for every holder."
            ))
        } else if !snapshot.holders.complete, snapshot.platform != .darwin || snapshot.missingSources.isEmpty,
                  assessed.contains(where: { $0.interface.kind == .tun || $0.interface.kind == .tap || $0.interface.kind == .utun }) {
            findings.append(Finding(
                id: FindingID.holderUnknown, severity: .info, ifname: nil, reapable: false,
                evidence: "Holders could not be read (\(snapshot.holders.incompleteReason ?? "scan incomplete")), so no device without a visible holder is called orphaned. "
                    + (snapshot.holders.remedy.map { "\($0) for a definite answer." }
                        ?? (snapshot.platform == .darwin ? "Capture `sudo lsof -nP` for a definite answer." : "Run as root (or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH) for a definite answer."))
            ))
        }

        sort(&findings)
        return Assessment(snapshot: snapshot, policy: policy, interfaces: assessed, findings: findings,
                          status: status(findings: findings, interfaces: assessed))
    }

    /// Finds where an interface index sits in a list of interfaces without visiting them all: a
    /// binary search, right when the list is in index order (as the Linux inventory makes it) and
    /// checked on the element found. When nothing is found the list is checked for order once; an
    /// unordered list is then scanned, so it gives the same answers, only slower. Indices are
    /// unique in one snapshot.
    final class IndexPositions {
        private let count: Int
        private let indexAt: (Int) -> Int
        private var ordered: Bool?

        init(count: Int, indexAt: @escaping (Int) -> Int) {
            self.count = count
            self.indexAt = indexAt
        }

        func position(of index: Int) -> Int? {
            var low = 0
            var high = count
            while low < high {
                let middle = (low + high) / 2
                if indexAt(middle) < index { low = middle + 1 } else { high = middle }
            }
            if low < count, indexAt(low) == index { return low }
            if ordered == nil { ordered = (1..<max(count, 1)).allSatisfy { indexAt($0 - 1) < indexAt($0) } }
            return ordered == true ? nil : (0..<count).first { indexAt($0) == index }
        }
    }

    /// What judging one interface needs to know about holders, worked out once per snapshot.
    struct HolderIndex {
        let scan: HolderScan
        let byName: [String: [HolderAttachment]]
        /// `scanSummary(scan)`, the same for every orphan.
        let scanText: String

        /// `ip netns` names by `net:[INODE]`, to name the namespaces of holders elsewhere.
        var namespaceNames: [String: String] = [:]

        init(_ scan: HolderScan, namespaceNames: [String: String] = [:]) {
            self.scan = scan
            self.namespaceNames = namespaceNames
            byName = Dictionary(grouping: scan.attachments, by: \.ifname)
            scanText = Heuristics.scanSummary(scan)
        }

        /// The holders of a name here, and its attachments in other namespaces.
        func split(_ name: String) -> (here: [Holder], elsewhere: [HolderAttachment]) {
            // Most interfaces have no attachment at all: no lookup result, no arrays.
            guard !byName.isEmpty, let attachments = byName[name] else { return ([], []) }
            let elsewhere = attachments.filter { !$0.inInspectedNamespace }.map { attachment in
                // Named as `ip netns` names it, as veth findings name a peer's namespace.
                var attachment = attachment
                if let netns = attachment.holder.netns, let name = namespaceNames[netns] { attachment.holder.netns = "namespace \(name) (\(netns))" }
                return attachment
            }
            return (attachments.filter(\.inInspectedNamespace).map(\.holder), elsewhere)
        }
    }

    /// What is built on which device: the links stacked on each one (a macvlan, vlan or ipvlan
    /// names its lower device in IFLA_LINK, a vxlan the device it is bound to) and the names of
    /// masters (bridges, bonds). Deleting a device deletes what is stacked on it, and a device
    /// enslaved to a master has been configured into something: neither is an orphan.
    struct Stacking {
        /// Names of the links stacked on each interface index, in this namespace.
        let uppers: [Int: [String]]
        /// Names of the interfaces that are the master of some interface, by index.
        let masters: [Int: String]

        init(_ interfaces: [NetworkInterface]) {
            var uppers: [Int: [String]] = [:]
            for position in interfaces.indices {
                // A veth's link is its peer, not a device underneath it.
                if let lower = interfaces[position].link, interfaces[position].linkNetnsID == nil, interfaces[position].kind != .veth,
                   lower != interfaces[position].index {
                    uppers[lower, default: []].append(interfaces[position].name)
                }
            }
            self.uppers = uppers
            masters = NetworkInterface.masterNames(in: interfaces)
        }

        /// Whether a device's verdict depends on what is stacked on it or what it is a port of.
        func involves(_ interface: NetworkInterface) -> Bool {
            (interface.kind == .tun || interface.kind == .tap) && (uppers[interface.index] != nil || (interface.master ?? 0) > 0)
        }
    }

    /// Judges an interface whose verdict depends on nothing but itself, the holder scan, its own
    /// routes and what is stacked on it: tun, tap, utun and kernel-owned tunnels. Nil for veth and
    /// feth, which need the rest of the snapshot (peers, running processes), and for interfaces
    /// that are not tunnels. Without `stacking` (judging early, before every link is known) a
    /// tun/tap that is a port of a master is not judged alone either; one with links stacked on it
    /// is found out when the early verdicts are handed over (`Stacking.involves`).
    static func judgeAlone(_ interface: NetworkInterface, holders index: HolderIndex, routes: [Route], stacking: Stacking? = nil,
                           findings: inout [Finding]) -> AssessedInterface? {
        guard interface.kind.isTunnelStyle, interface.kind != .veth, interface.kind != .feth else { return nil }
        if stacking == nil, interface.kind == .tun || interface.kind == .tap, (interface.master ?? 0) > 0 { return nil }
        let (holders, elsewhere) = index.split(interface.name)
        var verdict: (InterfaceState, String)
        switch interface.kind {
        case .tun, .tap:
            let uppers = stacking?.uppers[interface.index] ?? []
            let master = interface.master.flatMap { $0 > 0 ? (stacking?.masters[$0] ?? "ifindex \($0)") : nil }
            verdict = judgeTun(interface, holders: holders, elsewhere: elsewhere, scan: index.scan, scanText: index.scanText,
                               uppers: uppers, master: master, findings: &findings)
        case .utun:
            verdict = judgeUtun(interface, holders: holders, scan: index.scan)
            if let scoped = routes.first(where: { $0.destination.length == 0 && $0.isInterfaceScoped }) {
                verdict.1 += "; its \(scoped.family == .inet6 ? "IPv6 " : "")default route is scoped to it (flag I), as macOS gives every utun, and carries no general traffic"
            }
        default:
            verdict = (.live, "\(interface.infoKind ?? interface.kind.rawValue) tunnels are owned by the kernel, not by a process")
        }
        if verdict.0 == .live, !holders.isEmpty, [.tun, .tap, .utun].contains(interface.kind) {
            verdict.1 = "held by " + holders.map(\.display).joined(separator: ", ")
        }
        return AssessedInterface(interface: interface, state: verdict.0, reason: verdict.1, holders: holders,
                                 holdersKnown: index.scan.complete, routes: routes)
    }

    /// Most severe first; within a severity by id, then in the order they were raised (interface
    /// order). Integer keys keep this cheap for tens of thousands of findings.
    static func sorted(_ findings: [Finding]) -> [Finding] {
        var findings = findings
        sort(&findings)
        return findings
    }

    /// Puts findings in the order `sorted` gives, in place: each finding is moved, never copied,
    /// so tens of thousands of them cost no reference counting and no second array.
    static func sort(_ findings: inout [Finding]) {
        // A stable bucket sort: findings of one severity and id keep the order they were raised
        // in. The ids are few, and runs of one id long (one per interface), so each bucket keeps
        // its runs of consecutive positions, and a run is extended by comparing with the previous
        // finding before any hashing.
        var buckets: [String: Int] = [:]
        var bucketKeys: [(severity: Int, id: String)] = []
        var runs: [[Range<Int>]] = []
        var position = findings.startIndex
        while position < findings.endIndex {
            let (id, severity) = (findings[position].id, findings[position].severity)
            var end = position + 1
            while end < findings.endIndex, findings[end].severity == severity, findings[end].id == id { end += 1 }
            let key = "\(severity.rank)|\(id)"
            let bucket: Int
            if let known = buckets[key] {
                bucket = known
            } else {
                bucket = runs.count
                buckets[key] = bucket
                bucketKeys.append((-severity.rank, id))
                runs.append([])
            }
            runs[bucket].append(position..<end)
            position = end
        }
        // Already in order (one run per bucket, buckets in order): nothing moves.
        let order = bucketKeys.indices.sorted { bucketKeys[$0] < bucketKeys[$1] }
        if runs.allSatisfy({ $0.count == 1 }), order.indices.dropFirst().allSatisfy({ runs[order[$0 - 1]][0].upperBound == runs[order[$0]][0].lowerBound }) {
            return
        }
        // source[d]: the position whose finding goes to position d.
        var source: [Int] = []
        source.reserveCapacity(findings.count)
        for bucket in order {
            for run in runs[bucket] { source.append(contentsOf: run) }
        }
        // The permutation is applied cycle by cycle with swaps, which move findings in memory.
        var placed = [Bool](repeating: false, count: findings.count)
        findings.withUnsafeMutableBufferPointer { buffer in
            for start in buffer.indices where !placed[start] {
                var destination = start
                while true {
                    placed[destination] = true
                    let from = source[destination]
                    if from == start { break }
                    buffer.swapAt(destination, from)
                    destination = from
                }
            }
        }
    }

    /// Critical or warning findings decide; otherwise an interface that could not be judged makes the
    /// answer unknown, because "no finding" would then be a guess.
    static func status(findings: [Finding], interfaces: [AssessedInterface]) -> AuditStatus {
        let worst = findings.map(\.severity).max()
        if worst == .critical { return .critical }
        if worst == .warning { return .warning }
        if interfaces.contains(where: { $0.state == .unknown }) { return .unknown }
        if findings.contains(where: { $0.id == FindingID.captureMissing }), interfaces.isEmpty { return .unknown }
        return .ok
    }

    /// A few pids for a message: "1, 7, 9, …".
    static func sample(_ pids: [Int32]) -> String {
        pids.prefix(3).map(String.init).joined(separator: ", ") + (pids.count > 3 ? ", …" : "")
    }

    static func routesPerInterface(_ routes: [Route]) -> [Int: [Route]] {
        var result: [Int: [Route]] = [:]
        for route in routes {
            var seen = Set<Int>()
            for hop in route.nextHops {
                if let index = hop.interfaceIndex, seen.insert(index).inserted { result[index, default: []].append(route) }
            }
        }
        return result
    }

    // MARK: tun and tap

    /// What the holder scan covered, as an orphan's evidence states it: the same for every
    /// interface of one snapshot, so it is put together once.
    static func scanSummary(_ scan: HolderScan) -> String {
        let opaque = scan.opaquePIDs
        return opaque.isEmpty
            ? "\(scan.processesScanned) processes scanned"
            : "\(scan.processesScanned) processes scanned; \(opaque.count) more (pid \(Self.sample(opaque))) cannot be inspected even with every privilege, and the kernel shows no queue attached"
    }

    static func judgeTun(_ interface: NetworkInterface, holders: [Holder], elsewhere: [HolderAttachment], scan: HolderScan,
                         scanText: String, uppers: [String] = [], master: String? = nil, findings: inout [Finding]) -> (InterfaceState, String) {
        let tun = interface.tun ?? TunDetails()
        let kind = interface.kind.rawValue
        if tun.persistent == false {
            return (.live, "not persistent: the kernel removes it when its last holder closes, so something holds it")
        }
        if !holders.isEmpty { return (.live, "held") }
        let queues = Int(tun.numQueues ?? 0) + Int(tun.numDisabledQueues ?? 0)
        if queues > 0 {
            return (.live, "\(queues) queue\(queues == 1 ? "" : "s") attached")
        }
        let opaque = scan.opaquePIDs
        if interface.carrier == true {
            guard scan.complete else {
                return (.live, "carrier on, so a queue is attached (holders could not be read)")
            }
            if !opaque.isEmpty, tun.numQueues == nil {
                return (.live, "carrier on, so a queue is attached (perhaps by a process that cannot be inspected: pid \(Self.sample(opaque)))")
            }
            if !elsewhere.isEmpty {
                return (.live, "carrier on; held from another namespace by " + elsewhere.map(\.holder.display).joined(separator: ", "))
            }
            findings.append(Finding(
                id: FindingID.carrierWithoutHolder, severity: .info, ifname: interface.name, reapable: false,
                evidence: "\(kind) \(interface.name) (ifindex \(interface.index)) has carrier but no process holds it in any namespace; carrier may have been forced with TUNSETCARRIER. Not touched."
            ))
            return (.suspect, "carrier on but no holder found")
        }
        guard scan.complete else {
            return (.unknown, "no carrier, but holders could not be read")
        }
        if !elsewhere.isEmpty {
            let names = elsewhere.map { "\($0.holder.display) in \($0.holder.netns ?? "a namespace it hides")" }.joined(separator: ", ")
            findings.append(Finding(
                id: FindingID.holderElsewhere, severity: .info, ifname: interface.name, reapable: false,
                evidence: "\(kind) \(interface.name) has no carrier and no holder here, but \(names) holds a device of the same name; names are per namespace, so this proves nothing either way. Not touched."
            ))
            return (.unknown, "a device of the same name is held in another namespace")
        }
        // Processes closed even to a fully privileged scan might hold it. The kernel rules them out:
        // for a multi-queue device by its count of attached and disabled queues; for a single-queue
        // device by the carrier, which its one queue's attachment turns on (and which the reaper
        // confirms by attaching exclusively before it deletes anything).
        let kernelRulesOut = tun.multiQueue == true ? tun.numQueues != nil && tun.numDisabledQueues != nil : tun.multiQueue == false
        if !opaque.isEmpty, !kernelRulesOut {
            return (.unknown, "no carrier, but \(opaque.count) process\(opaque.count == 1 ? "" : "es") cannot be inspected (pid \(Self.sample(opaque))) and the kernel does not report how many queues are attached")
        }
        if !uppers.isEmpty || master != nil {
            var parts: [String] = []
            if !uppers.isEmpty {
                parts.append("\(uppers.joined(separator: ", ")) \(uppers.count == 1 ? "sits" : "sit") on it, and deleting it would delete \(uppers.count == 1 ? "that" : "them") too")
            }
            if let master {
                var port = "it is a port of \(master)"
                if interface.name == master + "-nic" { port += " (libvirt keeps <bridge>-nic as the bridge's placeholder port, unheld on purpose)" }
                parts.append(port)
            }
            let reason = parts.joined(separator: "; ")
            findings.append(Finding(
                id: FindingID.stackedTun, severity: .info, ifname: interface.name, reapable: false,
                evidence: "\(kind) \(interface.name) (ifindex \(interface.index)) has no carrier and no holder, but it has been configured into something: \(reason). Not touched."
            ))
            return (.suspect, reason)
        }
        let persistent = tun.persistent == true
        let persistence = persistent ? "persistent" : "persistence not reported"
        let queueText = tun.numQueues != nil ? ", 0 queues attached" : ""
        findings.append(Finding(
            id: FindingID.orphanedTun, severity: .warning, ifname: interface.name, reapable: persistent,
            evidence: Text.join(kind, " ", interface.name, " (ifindex ", String(interface.index), ") is ", persistence, ", has no carrier", queueText,
                                ", and no process holds it (", scanText, ").")
        ))
        return (.orphaned, persistent ? "persistent, no carrier, no process attached" : "persistence not reported, no carrier, no process attached")
    }

    // MARK: macOS utun and feth

    /// A utun exists exactly as long as a process holds its control socket: one the capture lists
    /// is held by someone, and a complete lsof without its holder means the capture missed it
    /// (lsof not run as root?), not an orphan. One seen only in routes is unknown.
    static func judgeUtun(_ interface: NetworkInterface, holders: [Holder], scan: HolderScan) -> (InterfaceState, String) {
        if !holders.isEmpty { return (.live, "held") }
        if interface.unlisted {
            return (.unknown, "seen only in routes: the capture does not list it, so its state and holders are unknown")
        }
        guard scan.complete else {
            return (.live, "held by a process the capture does not show (\(scan.incompleteReason ?? "no lsof output")): a utun exists only while its control socket is open")
        }
        return (.unknown, "no holder in the lsof output, yet a utun exists only while held (was lsof run as root?)")
    }

    /// Whether `command` (a `ps` command column: a path, possibly with spaces, then arguments)
    /// runs `program`: some leading words form a path whose last component is `program`. A grep
    /// for the program (`grep zerotier-one`) does not run it.
    public static func command(_ command: String, runs program: String) -> Bool {
        let words = command.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first else { return false }
        if (first as Substring).split(separator: "/").last.map(String.init) == program { return true }
        // Only a path that starts with / may continue past a space ("Application Support").
        guard first.hasPrefix("/") else { return false }
        var path = String(first)
        for word in words.dropFirst().prefix(16) {
            path += " " + word
            if path.split(separator: "/").last.map(String.init) == program { return true }
        }
        return false
    }

    /// No process owns a feth; ZeroTier makes and destroys its pairs, the destroy only in an exit
    /// handler, so a pair with no owner process running is left over from a crash.
    static func judgeFeth(_ interface: NetworkInterface, snapshot: Snapshot, policy: AuditPolicy,
                          findings: inout [Finding]) -> (InterfaceState, String) {
        if interface.unlisted {
            return (.unknown, "seen only in routes: the capture does not list it, so its peer and state are unknown")
        }
        guard let processes = snapshot.processNames else { return (.unknown, "running processes unknown (no ps output)") }
        let owners = processes.filter { entry in policy.fethOwners.contains { command(entry.value, runs: $0) } }
        if let owner = owners.min(by: { $0.key < $1.key }) {
            let name = policy.fethOwners.first { command(owner.value, runs: $0) } ?? owner.value
            return (.live, "\(name)[\(owner.key)] is running")
        }
        if let filter = snapshot.processFilter, !policy.fethOwners.allSatisfy({ filter.certainlyShows(word: $0) }) {
            return (.unknown, "the process listing is partial (\(filter)), so whether \(policy.fethOwners.joined(separator: " or ")) runs is unknown")
        }
        let peerText: String
        if let peer = interface.peerName {
            peerText = snapshot.interfaces.contains { $0.name == peer } ? " (peer \(peer))" : " (its peer \(peer) is missing)"
        } else {
            peerText = " (no peer)"
        }
        findings.append(Finding(
            id: FindingID.orphanedFeth, severity: .warning, ifname: interface.name, reapable: true,
            evidence: "feth \(interface.name)\(peerText) exists while no \(policy.fethOwners.joined(separator: " or ")) process runs; ZeroTier destroys its pairs only in an exit handler, so a crash leaves them, and their addresses mislead other software. Reap with: ifconfig \(interface.name) destroy"
        ))
        return (.orphaned, "no \(policy.fethOwners.joined(separator: "/")) process running")
    }

    /// macOS daemons that hold utuns for the system's own services on every Mac.
    static let systemUtunHolders: Set<String> = ["identityservicesd", "rapportd", "remoted", "sharingd", "networkserviceproxy", "WiFiAgent"]

    /// One process holding several utuns, most of them idle (no address beyond link-local): the
    /// leak pattern of packet-tunnel apps and nesessionmanager. The idle units' link-local routes
    /// (`default fe80::%utunN`, `fe80::%utunN/64`) are reapable; the utuns themselves cannot be
    /// destroyed without killing the holder.
    static func hoardFindings(_ interfaces: [AssessedInterface], snapshot: Snapshot, policy: AuditPolicy) -> [Finding] {
        var byHolder: [Int32: (holder: Holder, units: [AssessedInterface])] = [:]
        for position in interfaces.indices where interfaces[position].interface.kind == .utun {
            for holder in interfaces[position].holders { byHolder[holder.pid, default: (holder, [])].units.append(interfaces[position]) }
        }
        var findings: [Finding] = []
        for pid in byHolder.keys.sorted() {
            // macOS's own service daemons keep a few utuns each on a healthy Mac (iCloud,
            // Continuity); only a pile well beyond that is a hoard.
            guard let (holder, units) = byHolder[pid],
                  units.count >= (systemUtunHolders.contains(holder.comm) ? max(policy.hoardThreshold, 10) : policy.hoardThreshold) else { continue }
            let idle = units.filter { $0.interface.addresses.allSatisfy(\.isLinkLocal) }
            guard idle.count * 2 > units.count else { continue }
            let idleNames = Set(idle.map(\.interface.name))
            let routes = snapshot.routes.filter { route in
                route.family == .inet6 && route.nextHops.contains { idleNames.contains($0.interfaceName ?? "") }
                    && (route.destination.length == 0 || route.destination.address.bytes[0] == 0xfe)
            }
            // ifconfig -v names the app behind a Network Extension tunnel ("VPN: Example Tunnel").
            let agents = Array(Set(units.flatMap(\.interface.agentDescriptions).filter { $0.hasPrefix("VPN:") })).sorted()
            let behalf = agents.isEmpty ? "" : " on behalf of \(agents.map { "\"\($0)\"" }.joined(separator: ", ")) (ifconfig -v agent)"
            let restart = agents.isEmpty ? "\(holder.comm) closes them (restart it)" : "\(holder.comm) closes them (disconnect or remove that VPN configuration, or restart)"
            findings.append(Finding(
                id: FindingID.utunHoard, severity: .warning, ifname: nil, reapable: !routes.isEmpty,
                evidence: "\(holder.display) holds \(units.count) utun interfaces\(behalf), \(idle.count) of them idle (no address beyond link-local): \(idle.map(\.interface.name).joined(separator: ", ")). Each reconnect of a packet-tunnel app that leaks leaves one more. Their \(routes.count) link-local routes can be removed; the utuns go only when \(restart).",
                routes: routes.isEmpty ? nil : routes
            ))
        }
        return findings
    }

    /// More-specific routes that together capture default traffic into one tunnel (0/1 + 128/1,
    /// the 1/8 … 128/1 cascade, the IPv6 equivalents). Info when the tunnel is alive: it explains
    /// where all traffic goes. Critical when the tunnel is gone: every packet goes nowhere. (A
    /// tunnel that exists but is dead is reported by dead-tunnel-route.)
    static func splitDefaultFindings(_ interfaces: [AssessedInterface], snapshot: Snapshot) -> [Finding] {
        let unicast = snapshot.routes.filter { $0.type == .unicast && $0.destination.length > 0 }
        guard !unicast.isEmpty else { return [] }
        // Routes are few and interfaces may be tens of thousands: look up only the interfaces
        // routes name, by position, without copying any.
        let needsIndexNames = unicast.contains { $0.nextHops.contains { $0.interfaceName == nil && $0.interfaceIndex != nil } }
        let nameByIndex = needsIndexNames
            ? Dictionary(snapshot.interfaces.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a }) : [:]
        var routeNames: [(route: Route, name: String)] = []
        for route in unicast {
            let names = Set(route.nextHops.compactMap { hop in hop.interfaceName ?? hop.interfaceIndex.flatMap { nameByIndex[$0] } })
            if names.count == 1, let name = names.first { routeNames.append((route, name)) }
        }
        let wanted = Set(routeNames.map(\.name))
        // Where every hop carries an index (Linux), its name was given by that index: interfaces
        // are ruled out by index, far cheaper than hashing tens of thousands of names.
        let indexed = unicast.allSatisfy { $0.nextHops.allSatisfy { $0.interfaceIndex != nil } }
        let wantedIndices = indexed ? Set(unicast.flatMap { $0.nextHops.compactMap(\.interfaceIndex) }) : []
        /// The positions of a list of interfaces that may hold a wanted name, in list order.
        func candidates(count: Int, indexAt: @escaping (Int) -> Int) -> [Int] {
            guard indexed else { return Array(0..<count) }
            let positions = IndexPositions(count: count, indexAt: indexAt)
            return wantedIndices.compactMap(positions.position(of:)).sorted()
        }
        var byName: [String: AssessedInterface] = [:]
        for position in candidates(count: interfaces.count, indexAt: { interfaces[$0].interface.index })
        where wanted.contains(interfaces[position].interface.name) {
            byName[interfaces[position].interface.name] = byName[interfaces[position].interface.name] ?? interfaces[position]
        }
        var known = Set<String>()
        for position in candidates(count: snapshot.interfaces.count, indexAt: { snapshot.interfaces[$0].index })
        where wanted.contains(snapshot.interfaces[position].name) {
            known.insert(snapshot.interfaces[position].name)
        }
        var groups: [String: [Route]] = [:]
        for (route, name) in routeNames {
            let tunnel = byName[name] != nil || (snapshot.interfacesKnown && !known.contains(name))
            if tunnel { groups["\(name)|\(route.family.rawValue)|\(route.table)", default: []].append(route) }
        }
        var findings: [Finding] = []
        for key in groups.keys.sorted() {
            guard let grouped = groups[key] else { continue }
            let name = String(key.split(separator: "|")[0])
            let family = grouped[0].family == .inet ? "IPv4" : "IPv6"
            var routes = grouped
            let whole = coverage(of: routes.map(\.destination)) >= 255.0 / 256.0
            var share = 1.0
            if !whole {
                // The pieces a split default leaves (8/5, 64/2, 128.0/1 of the 1/8 … 128/1
                // cascade): prefixes of /1 to /8 that together take a sizeable part of the space.
                routes = grouped.filter { (1...8).contains($0.destination.length) }
                share = coverage(of: routes.map(\.destination))
                guard share >= 1.0 / 16.0 else { continue }
            }
            let list = routes.map(\.display).joined(separator: ", ")
            let percent = "\(Int((share * 100).rounded(.down)))% of \(family)"
            let removal = snapshot.platform == .darwin
                ? " Remove them with: " + routes.map { "route -n delete\($0.family == .inet6 ? " -inet6" : "") -net \($0.destination)" }.joined(separator: "; ") : ""
            if let entry = byName[name] {
                guard !isDead(entry) else { continue }
                let what = "\(entry.interface.kind.rawValue) \(name)"
                let holders = entry.holders.isEmpty ? "" : ", held by \(entry.holders.map(\.display).joined(separator: ", "))"
                // A utun the capture lists is held by some process (the kernel keeps none otherwise),
                // so its routes lead somewhere; one seen only in routes may not.
                let alive = entry.state == .live
                if whole {
                    let unknown = alive ? "" : " Whether \(name) is still in use is unknown from this capture (\(entry.reason))."
                    findings.append(Finding(
                        id: FindingID.splitDefault, severity: .info, ifname: name, reapable: false,
                        evidence: "All \(family) traffic that would take the default route goes into \(what)\(holders), through \(routes.count) more-specific routes: \(list). This is how VPNs and proxies take all traffic without touching the default route.\(unknown)",
                        routes: routes
                    ))
                } else if alive || !entry.holders.isEmpty {
                    findings.append(Finding(
                        id: FindingID.splitDefault, severity: .info, ifname: name, reapable: false,
                        evidence: "\(routes.count) more-specific route\(routes.count == 1 ? "" : "s") (\(list)) take \(percent) into \(what)\(holders); the rest follows the default route. Pieces of a split default like these are what a VPN or proxy adds to take part of the traffic.",
                        routes: routes
                    ))
                } else {
                    findings.append(Finding(
                        id: FindingID.splitDefault, severity: .warning, ifname: name, reapable: false,
                        evidence: "\(routes.count) more-specific route\(routes.count == 1 ? "" : "s") (\(list)) take \(percent) into \(what), the residue of a split default (a proxy or VPN that died mid-cleanup, or routes removed by hand). Whether \(name) is still in use is unknown from this capture (\(entry.reason)); if its app is not running, that traffic goes nowhere.\(removal)",
                        routes: routes
                    ))
                }
            } else if whole {
                findings.append(Finding(
                    id: FindingID.splitDefault, severity: .critical, ifname: name, reapable: false,
                    evidence: "\(routes.count) routes capture all \(family) default traffic into \(name), which no longer exists: \(list). Every packet is blackholed — a proxy or VPN died without removing its routes.\(removal)",
                    routes: routes
                ))
            } else {
                findings.append(Finding(
                    id: FindingID.splitDefault, severity: share >= 0.5 ? .critical : .warning, ifname: name, reapable: false,
                    evidence: "\(routes.count) more-specific route\(routes.count == 1 ? "" : "s") (\(list)) send \(percent) into \(name), which no longer exists: that traffic is blackholed — the residue of a split default a proxy or VPN left.\(removal)",
                    routes: routes
                ))
            }
        }
        return findings
    }

    /// On macOS, a general (not interface-scoped) default route that leaves only through a
    /// tunnel-like interface while no physical interface with an address has a default route at
    /// all, not even a scoped one: what ZeroTier's full-tunnel option leaves after a network
    /// change. A VPN that takes the default keeps the physical one as a scoped default (flag I),
    /// so that case is not this. Needs every default route and every interface in the capture.
    static func defaultViaTunnelFindings(_ snapshot: Snapshot) -> [Finding] {
        guard snapshot.platform == .darwin, snapshot.interfacesKnown else { return [] }
        var findings: [Finding] = []
        let kindByName = Dictionary(snapshot.interfaces.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
        for family in [AddressFamily.inet, .inet6] where snapshot.listsEveryRoute(of: family, withWord: "default") {
            let defaults = snapshot.routes.filter { $0.family == family && $0.destination.length == 0 && $0.type == .unicast }
            let general = defaults.filter { !$0.isInterfaceScoped }
            let tunnels = Set(general.flatMap { $0.nextHops.compactMap(\.interfaceName) })
            guard !general.isEmpty, tunnels.allSatisfy({ (kindByName[$0] ?? .other).isTunnelStyle }) else { continue }
            let withDefault = Set(defaults.flatMap { $0.nextHops.compactMap(\.interfaceName) })
            let physical = snapshot.interfaces.filter { interface in
                interface.kind == .other && !interface.flags.contains("LOOPBACK") && !interface.flags.contains("POINTOPOINT")
                    && interface.isUp && interface.carrier != false
                    && interface.addresses.contains { $0.local.family == family && !$0.isLinkLocal }
            }
            guard !physical.isEmpty, physical.allSatisfy({ !withDefault.contains($0.name) }) else { continue }
            let familyName = family == .inet ? "IPv4" : "IPv6"
            let tunnelList = tunnels.sorted().joined(separator: ", ")
            let physicalList = physical.map { interface in
                "\(interface.name) (\(interface.addresses.filter { $0.local.family == family && !$0.isLinkLocal }.map(\.display).joined(separator: ", ")))"
            }.joined(separator: ", ")
            findings.append(Finding(
                id: FindingID.defaultViaTunnel, severity: .warning, ifname: tunnels.sorted().first, reapable: false,
                evidence: "The only \(familyName) default route leaves through \(tunnelList), while \(physicalList) \(physical.count == 1 ? "has" : "have") an address but no default route at all, not even an interface-scoped one: traffic for anything outside the tunnel's own networks depends on the tunnel. This is what ZeroTier's full-tunnel (default route) option leaves after a network change; a VPN that takes the default keeps the physical one as a scoped default. Check that the tunnel app is running and re-join or reconnect it, or renew \(physical[0].name)'s lease.",
                routes: general
            ))
        }
        return findings
    }

    // MARK: veth

    static func judgeVeth(_ interface: NetworkInterface, namesByIndex: [Int: String], snapshot: Snapshot,
                          findings: inout [Finding]) -> (InterfaceState, String) {
        guard let peerIndex = interface.link, peerIndex > 0 else {
            findings.append(Finding(
                id: FindingID.vethPeerMissing, severity: .warning, ifname: interface.name, reapable: false,
                evidence: "veth \(interface.name) (ifindex \(interface.index)) reports no peer. Not reaped automatically: check what created it."
            ))
            return (.suspect, "no peer reported")
        }
        if let nsid = interface.linkNetnsID {
            guard let peerNamespace = snapshot.peerNamespaces[nsid], let processes = peerNamespace.processCount else {
                return (.unknown, "peer is in namespace id \(nsid), which could not be inspected")
            }
            let nsName = peerNamespace.name.map { "namespace \($0)" } ?? "namespace id \(nsid)"
            if processes == 0 {
                findings.append(Finding(
                    id: FindingID.vethPeerNamespaceEmpty, severity: .warning, ifname: interface.name, reapable: false,
                    evidence: "veth \(interface.name) (ifindex \(interface.index)) has its peer in \(nsName), where no process runs: likely left by a container or a test that exited. Not reaped automatically."
                ))
                return (.suspect, "peer's namespace has no processes")
            }
            return (.live, "peer ifindex \(peerIndex) in \(nsName) (\(processes) process\(processes == 1 ? "" : "es"))")
        }
        guard let peer = namesByIndex[peerIndex] else {
            findings.append(Finding(
                id: FindingID.vethPeerMissing, severity: .warning, ifname: interface.name, reapable: false,
                evidence: "veth \(interface.name) (ifindex \(interface.index)) names peer ifindex \(peerIndex), which does not exist. Not reaped automatically."
            ))
            return (.suspect, "peer ifindex \(peerIndex) is missing")
        }
        return (.live, "peer \(peer)")
    }

    // MARK: routes

    /// A tunnel-style interface that traffic cannot leave through: orphaned, or without carrier.
    static func isDead(_ assessed: AssessedInterface) -> Bool {
        assessed.state == .orphaned || assessed.interface.carrier == false
    }

    /// Routes of type unicast whose every next hop leaves through a dead tunnel, grouped by
    /// interface. Critical when the dead routes of a family and table together capture default
    /// traffic: a default route, or more-specific routes covering all but at most the first /8 of
    /// the address space (0/1 + 128/1, or the 1/8 … 128/1 cascade), which proxies and VPNs add to
    /// take all traffic without touching the default route.
    static func deadRouteFindings(_ interfaces: [AssessedInterface], snapshot: Snapshot) -> [Finding] {
        let unicast = snapshot.routes.filter { $0.type == .unicast && !$0.nextHops.isEmpty }
        guard !unicast.isEmpty else { return [] }
        // Only interfaces routes leave through can matter; thousands of others are not visited.
        let hopIndices = Set(unicast.flatMap { $0.nextHops.compactMap(\.interfaceIndex) })
        let positions = IndexPositions(count: interfaces.count) { interfaces[$0].interface.index }
        var deadPosition: [Int: Int] = [:]
        for index in hopIndices {
            if let position = positions.position(of: index), isDead(interfaces[position]) { deadPosition[index] = position }
        }
        guard !deadPosition.isEmpty else { return [] }
        func isDeadHop(_ hop: NextHop) -> Bool { hop.interfaceIndex.map { deadPosition[$0] != nil } ?? false }

        var deadRoutes: [Route] = []
        var liveRoutes: [Route] = []
        for route in unicast {
            if route.nextHops.allSatisfy(isDeadHop) { deadRoutes.append(route) } else { liveRoutes.append(route) }
        }
        func group(_ route: Route) -> String { "\(route.family.rawValue)|\(route.table)" }
        // Which (family, table) groups capture default traffic.
        var capturing = Set<String>()
        for (key, routes) in Dictionary(grouping: deadRoutes, by: group) {
            let shadowedDefault = routes.contains { route in
                route.destination.length == 0 && liveRoutes.contains { other in
                    other.destination.length == 0 && other.family == route.family && other.table == route.table
                        && (other.metric ?? 0) < (route.metric ?? 0)
                }
            }
            let prefixes = routes.filter { $0.destination.length > 0 || !shadowedDefault }.map(\.destination)
            if coverage(of: prefixes) >= 255.0 / 256.0 { capturing.insert(key) }
        }
        var routesByInterface: [Int: [Route]] = [:]
        for route in deadRoutes {
            for index in Set(route.nextHops.compactMap(\.interfaceIndex)) { routesByInterface[index, default: []].append(route) }
        }
        var findings: [Finding] = []
        for index in routesByInterface.keys.sorted() {
            guard let routes = routesByInterface[index], let position = deadPosition[index] else { continue }
            let assessed = interfaces[position]
            let captures = routes.contains { capturing.contains(group($0)) }
            let interface = assessed.interface
            let why = assessed.state == .orphaned ? "is orphaned (no process attached)" : "has no carrier"
            let list = routes.map(\.display).joined(separator: ", ")
            var evidence = "\(routes.count) route\(routes.count == 1 ? "" : "s") send traffic into \(interface.kind.rawValue) \(interface.name), which \(why): \(list)."
            if captures {
                let families = Set(routes.filter { capturing.contains(group($0)) }.map(\.family))
                let names = families.sorted { $0.rawValue < $1.rawValue }.map { $0 == .inet ? "IPv4" : "IPv6" }.joined(separator: " and ")
                evidence += " Together they capture all \(names) traffic that would take the default route, so it is blackholed: this is what turns a leaked tunnel into an outage."
            } else {
                evidence += " Traffic to these destinations is blackholed."
            }
            if assessed.state == .orphaned {
                evidence += " They go away with the device when it is reaped."
            }
            findings.append(Finding(id: FindingID.deadTunnelRoute, severity: captures ? .critical : .warning,
                                    ifname: interface.name, reapable: false, evidence: evidence, routes: routes))
        }
        return findings
    }

    /// The share of the address space a set of same-family prefixes covers, counting overlaps once.
    /// Prefixes either nest or are disjoint, so dropping every prefix inside another leaves a disjoint set.
    public static func coverage(of prefixes: [IPPrefix]) -> Double {
        // In order of first address (family first), the shorter of equal starts first: the kept
        // prefixes are then disjoint and ordered, so a prefix inside any of them is inside the
        // last one kept. One pass, where checking every kept prefix was quadratic in the routes.
        let ordered = Set(prefixes).sorted { $0.address != $1.address ? $0.address < $1.address : $0.length < $1.length }
        var kept: [IPPrefix] = []
        for prefix in ordered where !(kept.last?.contains(prefix) ?? false) {
            kept.append(prefix)
        }
        return kept.reduce(0) { $0 + $1.shareOfAddressSpace }
    }

    // MARK: count

    static func countFinding(_ count: Int, policy: AuditPolicy) -> Finding? {
        let warn = policy.effectiveWarn
        guard count >= warn else { return nil }
        let critical = count >= policy.limit
        return Finding(
            id: FindingID.tunnelCount, severity: critical ? .critical : .warning, ifname: nil, reapable: false,
            evidence: "\(count) tunnel-style interfaces exist; \(critical ? "the limit is \(policy.limit)" : "warning from \(warn), critical at \(policy.limit)"). Counts that keep growing mean something leaks them; on macOS users report network trouble near 95 utun interfaces."
        )
    }
}
