import Foundation

/// A snapshot that arrives one link at a time, as a Linux link dump delivers it, judged as it
/// arrives: the way the one-shot audit overlaps judging with the kernel's dump.
///
/// Everything but the links (holders, routes, namespace names) is known before the first link is
/// added, and each link comes with its addresses. Route next hops are named from the links when
/// the snapshot is finished (a next hop through a device that never came is left unnamed).
///
/// A link is judged on arrival only when its verdict can depend on nothing still to come: a tun,
/// tap or kernel tunnel (`judgeAlone`) whose master, if it has one, and whose routes' devices
/// have all arrived already. A later link stacked
/// on it takes that verdict back. Everything else (veth and feth, which need peers and process
/// counts the inventory finds only after its dump; ports of a master that comes later) is judged
/// when the snapshot is loaded into the engine, as the links of any snapshot are.
///
/// What it promises: `JudgingEngine.load(_:)` of a finished stream gives exactly the assessment
/// that loading the finished snapshot whole gives (the tests hold the two equal for links in any
/// order, referring to each other either way).
public final class StreamedSnapshot {
    /// The snapshot without its links; its routes' next hops are named when it is finished.
    private var frame: Snapshot
    /// The holder index judging looks up (nil when only gathering).
    private let holders: Heuristics.HolderIndex?
    /// The frame's routes by the devices they leave through, next hops not yet named.
    private let routesByIndex: [Int: [Route]]
    /// The frame's routes that take a source address, by it, next hops not yet named.
    private let routesBySource: [[UInt8]: [Route]]
    private var interfaces: [NetworkInterface] = []
    /// The name of every link so far, by index, once they came out of index order (in order, a
    /// name is found by its index in `interfaces`; see `name(of:)`).
    private var names: [Int: String] = [:]
    /// The links stacked on each index so far (see `Heuristics.Stacking`).
    private var uppers: [Int: [(index: Int, name: String)]] = [:]
    /// The addresses kernel tunnels so far send from (`NetworkInterface.tunnelLocal`): a tun or
    /// tap with one is judged when the snapshot is whole.
    private var tunnelLocals = Set<[UInt8]>()
    /// The verdicts given on arrival, in arrival order, with each one's findings, its link's
    /// position, and whether a later link took it back. Kept as the lists the engine keeps, so
    /// that a load in which every tunnel was judged on arrival takes them as they are.
    private(set) var arrivals = ArrivalVerdicts()
    /// How many tunnel-style links came (judged on arrival or not).
    private var tunnels = 0
    /// Whether indexes have only increased so far, as recent kernels dump them (older ones go by
    /// hash bucket): then the arrival lists are in the engine's order.
    private var increasing = true
    /// Whether an index came twice (never in a kernel dump): then nothing is judged early, and
    /// what was is dropped.
    private var repeated = false
    private(set) var finished = false

    /// `frame`: the snapshot with everything but its interfaces. `judging`: whether to judge links
    /// as they arrive, for an engine to load, or only to gather them into a snapshot.
    public init(_ frame: Snapshot, judging: Bool) {
        self.frame = frame
        self.frame.interfaces = []
        // A stream that only gathers never looks up holders or routes.
        holders = judging ? Heuristics.HolderIndex(frame.holders, namespaceNames: frame.namespaceNames) : nil
        routesByIndex = judging ? Heuristics.routesPerInterface(frame.routes) : [:]
        routesBySource = judging ? Heuristics.routesBySource(frame.routes) : [:]
        // Room reserved is address space until written (see `listReservation`); regrowing these
        // lists of large values would move them into fresh pages again and again.
        interfaces.reserveCapacity(NetworkInterface.listReservation)
        // (Not the tables by index: a hash table reserved is written all over, so it costs its
        // whole size in pages, where one that grows costs what it holds.)
        if judging { arrivals.reserve(NetworkInterface.listReservation) }
    }

    /// How many links were judged on arrival (and kept).
    public var judgedOnArrival: Int { arrivals.kept }

    /// Whether every tunnel-style link was judged on arrival and kept its verdict, in index order:
    /// then the arrival lists are the engine's lists as they are.
    var judgedEveryTunnel: Bool { increasing && arrivals.kept == tunnels && arrivals.list.count == tunnels }

    /// Adds the next link, with its addresses; its master's name is filled in here.
    public func add(_ link: NetworkInterface) {
        precondition(!finished, "a link added to a finished snapshot")
        if increasing, let last = interfaces.last, link.index <= last.index {
            increasing = false
            // First come, first named, as a dump never repeats an index.
            for position in interfaces.indices where names[interfaces[position].index] == nil {
                names[interfaces[position].index] = interfaces[position].name
            }
        }
        if !increasing {
            if names[link.index] == nil {
                names[link.index] = link.name
            } else if !repeated {
                repeated = true
                arrivals = ArrivalVerdicts()
            }
        }
        interfaces.append(link)
        let position = interfaces.count - 1
        if let master = link.master, master > 0, let name = name(of: master) { interfaces[position].masterName = name }
        // A device stacked on a link judged already changes what that verdict rests on.
        if let lower = link.link, link.linkNetnsID == nil, link.kind != .veth, lower != link.index {
            uppers[lower, default: []].append((link.index, link.name))
            if let earlier = arrivalEntry(of: lower) { arrivals.takeBack(earlier) }
        }
        // A tunnel sending from an address ties the devices judged already that have it.
        if let local = link.tunnelLocal?.bytes, tunnelLocals.insert(local).inserted {
            for entry in arrivals.list.indices where arrivals.list[entry].interface.hasAddress(local) { arrivals.takeBack(entry) }
        }
        if link.kind.isTunnelStyle { tunnels += 1 }
        if let (assessed, findings) = judgeOnArrival(interfaces[position]) {
            arrivals.append(assessed, findings: findings, position: position)
        }
    }

    /// Adds the devices vxlan forwarding entries send through (`HolderScan.vxlanVias`), found
    /// after the links came: the namespace's own vxlans are known only once the dump has listed
    /// them. The verdicts given on arrival to those devices are taken back, to be given again
    /// when the snapshot is judged whole. Call before `finish`.
    public func addVxlanVias(_ vias: [Int: [String]]) {
        precondition(!finished, "vxlan entries added to a finished snapshot")
        guard !vias.isEmpty else { return }
        frame.holders.vxlanVias.merge(vias, uniquingKeysWith: +)
        for index in vias.keys {
            if let entry = arrivalEntry(of: index) { arrivals.takeBack(entry) }
        }
    }

    /// Adds what was asked of the tcx programs attached to the tun/tap devices with `indices`
    /// (see `HolderScan.tcPrograms`), found after the links came, since only the link dump says
    /// which devices are tun/taps: the programs found, or why they could not be asked. The
    /// verdicts given on arrival to the devices it changes are taken back, to be given again
    /// when the snapshot is judged whole. Call before `finish`.
    public func addTcPrograms<Failure: Error>(_ found: Result<[Int: [String]], Failure>, asked indices: [Int]) {
        precondition(!finished, "tc programs added to a finished snapshot")
        let changed: [Int]
        switch found {
        case let .success(programs):
            guard !programs.isEmpty else { return }
            frame.holders.tcPrograms.merge(programs, uniquingKeysWith: +)
            changed = Array(programs.keys)
        case let .failure(problem):
            frame.holders.tcProgramsUnknown = "\(problem)"
            changed = indices
        }
        for index in changed {
            if let entry = arrivalEntry(of: index) { arrivals.takeBack(entry) }
        }
    }

    /// The name of the link with this index that came so far.
    private func name(of index: Int) -> String? {
        guard increasing else { return names[index] }
        let low = Heuristics.firstPosition(notBelow: index, count: interfaces.count) { interfaces[$0].index }
        return low < interfaces.count && interfaces[low].index == index ? interfaces[low].name : nil
    }

    /// Where in `arrivals` the verdict of the link with this index is, if it was judged on arrival.
    private func arrivalEntry(of index: Int) -> Int? {
        let list = arrivals.list
        guard increasing else { return list.lastIndex { $0.interface.index == index } }
        let low = Heuristics.firstPosition(notBelow: index, count: list.count) { list[$0].interface.index }
        return low < list.count && list[low].interface.index == index ? low : nil
    }

    /// The verdicts given on arrival, by the position of their link in the finished snapshot.
    var verdictsByPosition: [Int: (assessed: AssessedInterface, findings: [Finding])] {
        // Links that came out of index order were sorted when the snapshot was finished.
        var sortedPosition: [Int: Int] = [:]
        if !increasing, finished {
            for (position, interface) in frame.interfaces.enumerated() { sortedPosition[interface.index] = position }
        }
        var result: [Int: (assessed: AssessedInterface, findings: [Finding])] = [:]
        for entry in arrivals.list.indices where !arrivals.takenBack.contains(entry) {
            let position = increasing ? arrivals.positions[entry] : sortedPosition[arrivals.list[entry].interface.index] ?? arrivals.positions[entry]
            result[position] = (arrivals.list[entry], arrivals.findings[entry])
        }
        return result
    }

    /// Forgets every link added: the dump is starting again.
    public func restart() {
        precondition(!finished, "a finished snapshot restarted")
        interfaces.removeAll(keepingCapacity: true)
        arrivals = ArrivalVerdicts()
        tunnels = 0
        names = [:]
        uppers = [:]
        tunnelLocals = []
        increasing = true
        repeated = false
    }

    /// Completes the snapshot: names the masters that came after their ports and every route's
    /// devices, puts the links in index order where they were not, and adds the peer namespaces
    /// (which only veth verdicts use). Returns the snapshot; the stream can then be loaded.
    @discardableResult
    public func finish(peerNamespaces: [Int32: PeerNamespace] = [:]) -> Snapshot {
        if !finished {
            finished = true
            for position in interfaces.indices where interfaces[position].masterName == nil {
                if let master = interfaces[position].master, master > 0, let name = name(of: master) { interfaces[position].masterName = name }
            }
            for route in frame.routes.indices {
                for hop in frame.routes[route].nextHops.indices {
                    if let index = frame.routes[route].nextHops[hop].interfaceIndex {
                        frame.routes[route].nextHops[hop].interfaceName = name(of: index)
                    }
                }
            }
            if repeated {
                // Names as `NetworkInterface.masterNames` gives them when an index came twice.
                let masters = NetworkInterface.masterNames(in: interfaces)
                for position in interfaces.indices {
                    if let master = interfaces[position].master, let name = masters[master] { interfaces[position].masterName = name }
                }
            }
            if !increasing { interfaces.sort { $0.index < $1.index } }
            frame.interfaces = interfaces
            frame.peerNamespaces = peerNamespaces
            interfaces = []
        }
        return frame
    }

    /// The snapshot; read it only once finished.
    public var snapshot: Snapshot {
        precondition(finished, "an unfinished snapshot read")
        return frame
    }

    /// The verdict of a link whose verdict rests on nothing still to come, or nil.
    private func judgeOnArrival(_ interface: NetworkInterface) -> (assessed: AssessedInterface, findings: [Finding])? {
        guard let holders, !repeated, Heuristics.judgesAlone(interface.kind) else { return nil }
        if let master = interface.master, master > 0, name(of: master) == nil { return nil }
        // Routes named as the finished snapshot names them; a device still to come leaves the
        // verdict for later.
        func named(_ routes: [Route]) -> [Route]? {
            var routes = routes
            for route in routes.indices {
                for hop in routes[route].nextHops.indices {
                    guard let index = routes[route].nextHops[hop].interfaceIndex else { continue }
                    guard let name = name(of: index) else { return nil }
                    routes[route].nextHops[hop].interfaceName = name
                }
            }
            return routes
        }
        // A tap some route takes an address of as source is judged when every device is in:
        // whether another has that address too decides.
        // So is one with an address a socket is bound to.
        let addressSockets = holders.scan.addressSockets
        // And so is one with an address a kernel tunnel sends from, of this namespace or another.
        let foreignLocals = holders.scan.foreignTunnelLocals
        guard addressSockets.isEmpty || !interface.addresses.contains(where: { addressSockets[$0.local.bytes] != nil }),
              tunnelLocals.isEmpty || !interface.addresses.contains(where: { tunnelLocals.contains($0.local.bytes) }),
              foreignLocals.isEmpty || !interface.addresses.contains(where: { foreignLocals[$0.local.bytes] != nil }),
              Heuristics.routesSourced(from: interface, bySource: routesBySource).isEmpty,
              let routes = named(routesByIndex[interface.index] ?? []) else { return nil }
        var findings: [Finding] = []
        // Listed in index order, as `Heuristics.Stacking` lists them, whatever order they came in.
        var stacked = uppers[interface.index] ?? []
        if stacked.count > 1 { stacked.sort { $0.index < $1.index } }
        // Then those of other namespaces, as `Heuristics.Stacking` lists them.
        let names = stacked.map(\.name) + (frame.foreignUppers[interface.index] ?? [])
        guard let assessed = Heuristics.judgeAlone(interface, holders: holders, routes: routes, uppers: names, sourced: [],
                                                   policyRules: frame.policyRules, masterName: name(of:), findings: &findings) else { return nil }
        return (assessed, findings)
    }
}

/// The verdicts a `StreamedSnapshot` gave on arrival, as parallel lists in arrival order.
struct ArrivalVerdicts {
    var list: [AssessedInterface] = []
    /// Each verdict's findings, and all of them joined in order with the index of the interface
    /// that raised each.
    var findings: [[Finding]] = []
    var joinedFindings: [Finding] = []
    var joinedOwners: [Int] = []
    /// The position of each verdict's link in the snapshot.
    var positions: [Int] = []
    /// Entries whose verdict a later link took back.
    var takenBack = Set<Int>()

    var kept: Int { list.count - takenBack.count }

    mutating func reserve(_ count: Int) {
        list.reserveCapacity(count)
        findings.reserveCapacity(count)
        joinedFindings.reserveCapacity(count)
        positions.reserveCapacity(count)
    }

    mutating func append(_ assessed: AssessedInterface, findings: [Finding], position: Int) {
        list.append(assessed)
        self.findings.append(findings)
        if !findings.isEmpty {
            joinedFindings += findings
            joinedOwners += repeatElement(assessed.interface.index, count: findings.count)
        }
        positions.append(position)
    }

    mutating func takeBack(_ entry: Int) {
        takenBack.insert(entry)
    }
}
