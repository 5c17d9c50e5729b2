import Foundation

/// The heuristics: pure functions from a snapshot to states and findings. Nothing here reads the
/// system, so every judgement can be reproduced from a recorded snapshot.
public enum Heuristics {
    /// Judges a snapshot: the judging engine loaded with it, read once.
    public static func assess(_ snapshot: Snapshot, policy: AuditPolicy = AuditPolicy()) -> Assessment {
        let engine = JudgingEngine(policy: policy)
        engine.load(snapshot)
        return engine.assessment(of: snapshot.namespaceIdentity)!
    }

    /// What judging one interface needs beyond itself and its routes: the snapshot it is part of
    /// (peer namespaces, running processes, what a capture covers), the holder index, what is
    /// stacked on what, and two look-ups the engine answers from its own indexes.
    struct JudgingContext {
        let snapshot: Snapshot
        let policy: AuditPolicy
        let holders: HolderIndex
        let stacking: Stacking
        /// The name of the interface with this index, if there is one.
        let nameOf: (Int) -> String?
        /// Whether an interface of this name exists.
        let hasInterface: (String) -> Bool
        /// The routes that take a source address, by it (see `routesBySource`).
        let routesBySource: [[UInt8]: [Route]]
        /// The kernel tunnels that send from an address, by it (see `tunnelsByLocal`).
        let tunnelsByLocal: [[UInt8]: [String]]
        /// Whether a device other than the one with this index has this address (4 bytes IPv4, 16 IPv6).
        let addressElsewhere: ([UInt8], Int) -> Bool
    }

    /// Judges one tunnel-style interface: the interface-scope rules, whose findings go to `findings`.
    static func judge(_ interface: NetworkInterface, routes: [Route], context: JudgingContext, findings: inout [Finding]) -> AssessedInterface {
        if let device = interface.tuntaposx {
            return judgeTuntaposx(interface, device: device, routes: routes, snapshot: context.snapshot)
        }
        // The closures capture only what they read: with `context` captured, a profile showed the
        // whole context (snapshot, holder index, stacking, route maps) copied and destroyed at
        // every interface judged, a third of a watcher's judging time.
        let (addressElsewhere, index, masters) = (context.addressElsewhere, interface.index, context.stacking.masters)
        if let alone = judgeAlone(interface, holders: context.holders, routes: routes, uppers: context.stacking.uppers[index] ?? [],
                                  sourced: routesSourced(from: interface, bySource: context.routesBySource,
                                                         heldElsewhere: { addressElsewhere($0, index) }),
                                  tunnelsSourced: tunnelsSourced(from: interface, byLocal: context.tunnelsByLocal,
                                                                 heldElsewhere: { addressElsewhere($0, index) }),
                                  ownAddressSockets: socketsOnOwnAddresses(of: interface, addressSockets: context.holders.scan.addressSockets,
                                                                           heldElsewhere: { addressElsewhere($0, index) }),
                                  policyRules: context.snapshot.policyRules, masterName: { masters[$0] }, findings: &findings) {
            return alone
        }
        let verdict: (InterfaceState, String)
        switch interface.kind {
        case .veth:
            verdict = judgeVeth(interface, nameOf: context.nameOf, snapshot: context.snapshot, findings: &findings)
        default:
            verdict = judgeFeth(interface, snapshot: context.snapshot, policy: context.policy, hasInterface: context.hasInterface, findings: &findings)
        }
        return AssessedInterface(interface: interface, state: verdict.0, reason: verdict.1,
                                 holders: context.holders.split(interface.name).here,
                                 // No process can hold a feth: its holders are known to be none.
                                 holdersKnown: interface.kind == .feth || context.snapshot.holders.complete, routes: routes)
    }

    /// The snapshot-scope rules, over the verdicts of every interface, in the order their
    /// findings are listed within a severity and id.
    /// `counts`: the verdicts' counts, which spare the rules a pass over every verdict.
    static func snapshotFindings(_ assessed: [AssessedInterface], counts: VerdictCounts, snapshot: Snapshot, policy: AuditPolicy) -> [Finding] {
        var findings: [Finding] = []
        findings += deadRouteFindings(assessed, snapshot: snapshot)
        findings += splitDefaultFindings(assessed, snapshot: snapshot)
        if counts.utun > 0 { findings += hoardFindings(assessed, snapshot: snapshot, policy: policy) }
        findings += defaultViaTunnelFindings(assessed, snapshot: snapshot)
        if !snapshot.missingSources.isEmpty {
            var missing = Finding(
                id: FindingID.captureMissing, severity: .info, ifname: nil, reapable: false,
                evidence: "The capture lacks \(snapshot.missingSources.joined(separator: ", ")); what those would show is unknown, not assumed absent."
                    + (snapshot.routesUnread ? " It shows routes it could not read, any of which may send default traffic into a tunnel that is gone: the status is unknown until `netstat -rn` is pasted as it prints." : "")
            )
            missing.leavesUnknown = snapshot.routesUnread
            findings.append(missing)
        }
        if let count = countFinding(assessed.count, policy: policy) { findings.append(count) }
        if let unread = useUnknownFinding(snapshot, counts: counts) { findings.append(unread) }
        if snapshot.platform == .darwin, !snapshot.holders.complete, !snapshot.holders.attachments.isEmpty || snapshot.holders.processesScanned > 0,
           counts.utun > 0 {
            // A partial lsof (one process, a filtered listing, one of another moment than the
            // interface listing): what it shows holds, the rest is unknown.
            findings.append(Finding(
                id: FindingID.holderUnknown, severity: .info, ifname: nil, reapable: false,
                evidence: "The capture's lsof does not show every utun's holder (\(snapshot.holders.incompleteReason ?? "a partial listing")): a utun it shows no holder for is held by a process it does not show, not by nobody. Capture `sudo lsof -nP` for every holder, with no command between it and `ifconfig -a`."
            ))
        } else if !snapshot.holders.complete, snapshot.platform != .darwin || snapshot.missingSources.isEmpty,
                  // (On macOS lsof names only utuns' holders: a tuntaposx device's own status
                  // line names its opener, and says so when it has none.)
                  (snapshot.platform == .darwin ? counts.utun : counts.holderDevices) > 0 {
            findings.append(Finding(
                id: FindingID.holderUnknown, severity: .info, ifname: nil, reapable: false,
                evidence: "Holders could not be read (\(snapshot.holders.incompleteReason ?? "scan incomplete")), so no device without a visible holder is called orphaned. "
                    + (snapshot.holders.remedy.map { "\($0) for a definite answer." }
                        ?? (snapshot.platform == .darwin ? "Capture `sudo lsof -nP` for a definite answer." : "Run as root (or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH) for a definite answer."))
            ))
        }

        return findings
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
            let low = Heuristics.firstPosition(notBelow: index, count: count, indexAt: indexAt)
            if low < count, indexAt(low) == index { return low }
            if ordered == nil { ordered = (1..<max(count, 1)).allSatisfy { indexAt($0 - 1) < indexAt($0) } }
            return ordered == true ? nil : (0..<count).first { indexAt($0) == index }
        }
    }

    /// The first of the positions `0..<count` whose interface index is not below `index`, where
    /// `indexAt` gives each position's index in increasing order (`count` when there is none): a
    /// binary search, for every list kept by index (the engine's, the watcher's look).
    @inlinable
    public static func firstPosition(notBelow index: Int, count: Int, indexAt: (Int) -> Int) -> Int {
        firstPosition(where: { indexAt($0) >= index }, count: count)
    }

    /// The first of the positions `0..<count` where `isAtOrPast` holds (`count` when it holds
    /// nowhere), for a predicate false up to some position and true from there on.
    @inlinable
    public static func firstPosition(where isAtOrPast: (Int) -> Bool, count: Int) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if isAtOrPast(middle) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// What judging one interface needs to know about holders, worked out once per snapshot.
    struct HolderIndex {
        let scan: HolderScan
        let byName: [String: [HolderAttachment]]
        /// `scanSummary(scan, multiQueue:)` for single-queue and for multi-queue orphans.
        let scanText: (singleQueue: String, multiQueue: String)

        /// `ip netns` names by `net:[INODE]`, to name the namespaces of holders elsewhere.
        var namespaceNames: [String: String] = [:]

        init(_ scan: HolderScan, namespaceNames: [String: String] = [:]) {
            self.scan = scan
            self.namespaceNames = namespaceNames
            byName = Dictionary(grouping: scan.attachments, by: \.ifname)
            scanText = (Heuristics.scanSummary(scan, multiQueue: false), Heuristics.scanSummary(scan, multiQueue: true))
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
        /// Names of the links stacked on each interface index: in this namespace, then those of
        /// other namespaces (`Snapshot.foreignUppers`).
        let uppers: [Int: [String]]
        /// Names of the interfaces that are the master of some interface, by index.
        let masters: [Int: String]

        init(_ interfaces: [NetworkInterface], foreign: [Int: [String]] = [:]) {
            var uppers: [Int: [String]] = [:]
            for position in interfaces.indices {
                // A veth's link is its peer, not a device underneath it.
                if let lower = interfaces[position].link, interfaces[position].linkNetnsID == nil, interfaces[position].kind != .veth,
                   lower != interfaces[position].index {
                    uppers[lower, default: []].append(interfaces[position].name)
                }
            }
            for (lower, names) in foreign { uppers[lower, default: []] += names }
            self.uppers = uppers
            masters = NetworkInterface.masterNames(in: interfaces)
        }
    }

    /// Judges an interface whose verdict depends on nothing but itself, the holder scan, its own
    /// routes, the names of the links stacked on it (`uppers`) and the name of its master (looked up
    /// by index with `masterName`): tun, tap, utun and kernel-owned tunnels. Nil for veth and feth,
    /// which need the rest of the snapshot (peers, running processes), and for interfaces that are
    /// not tunnels (see `judgesAlone`).
    static func judgeAlone(_ interface: NetworkInterface, holders index: HolderIndex, routes: [Route], uppers: [String], sourced: [Route],
                           tunnelsSourced: [(address: IPAddress, tunnels: [String])] = [],
                           ownAddressSockets: [(address: IPAddress, sockets: Int)] = [], policyRules: [PolicyRule]? = nil,
                           masterName: (Int) -> String?, findings: inout [Finding]) -> AssessedInterface? {
        // (A macOS tuntaposx tun or tap is judged by its status line, see `judgeTuntaposx`.)
        guard judgesAlone(interface.kind), interface.tuntaposx == nil else { return nil }
        let (holders, elsewhere) = index.split(interface.name)
        var verdict: (InterfaceState, String)
        switch interface.kind {
        case .tun, .tap:
            let master = interface.master.flatMap { $0 > 0 ? (masterName($0) ?? "ifindex \($0)") : nil }
            verdict = judgeTun(interface, holders: holders, elsewhere: elsewhere, scan: index.scan,
                               scanText: interface.tun?.multiQueue == true ? index.scanText.multiQueue : index.scanText.singleQueue,
                               uppers: uppers, master: master, routes: routes, sourced: sourced, tunnelsSourced: tunnelsSourced, ownAddressSockets: ownAddressSockets,
                               policyRules: policyRules, findings: &findings)
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

    /// Whether interfaces of this kind are judged by `judgeAlone`.
    static func judgesAlone(_ kind: InterfaceKind) -> Bool {
        kind.isTunnelStyle && kind != .veth && kind != .feth
    }

    /// Critical or warning findings decide; otherwise an interface that could not be judged makes the
    /// answer unknown, because "no finding" would then be a guess.
    static func status(findings: [Finding], interfaces: [AssessedInterface]) -> AuditStatus {
        status(findings: findings, anyUnknown: interfaces.contains { $0.state == .unknown }, noInterfaces: interfaces.isEmpty)
    }

    /// `status` with what it asks of the interfaces known already. `inReportOrder`: the findings
    /// are in report order, most severe first, so the first says how severe the worst is (a
    /// watcher's burst then walks none of thousands of findings).
    static func status(findings: [Finding], anyUnknown: Bool, noInterfaces: Bool, inReportOrder: Bool = false) -> AuditStatus {
        var worst: Severity? = inReportOrder ? findings.first?.severity : nil
        if !inReportOrder {
            for position in findings.indices where worst.map({ $0 < findings[position].severity }) ?? true {
                worst = findings[position].severity
                if worst == .critical { return .critical }
            }
        }
        if worst == .critical { return .critical }
        if worst == .warning { return .warning }
        if anyUnknown { return .unknown }
        if findings.contains(where: { $0.id == FindingID.captureMissing && (noInterfaces || $0.leavesUnknown) }) { return .unknown }
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

}
