import Foundation
import Testing
@testable import TunwardenCore

/// The judging engine's promise: whatever changes it is given, its assessment equals judging the
/// snapshot those changes lead to from scratch; and a change judges again only what it touches.
@Suite struct JudgingEngineTests {
    /// A small random world: tun/tap devices in every state, veth pairs (some with a peer in
    /// another namespace, some whose peer is gone), a macvlan stacked on a tun, a bridge with a
    /// tap port, kernel tunnels, plain interfaces, addresses, routes into any of them (split
    /// defaults included) and holders here and elsewhere.
    struct World {
        var links: [Int: NetworkInterface] = [:]
        var routes: [Route] = []
        var holders: [HolderAttachment] = []
        var complete = true
        var socketsUnknown: String?
        /// nftables statements sending packets to devices, and a statement whose device is not known.
        var forwards: [Int: Int] = [:]
        var forwardsUnknown: String?
        var processes = 12
        var peers: [Int32: PeerNamespace] = [:]

        /// What Linux does once `address`, an IPv4 one, is on no device: it deletes the main
        /// table's routes that take it as source.
        mutating func removeRoutesSourced(from address: InterfaceAddress) {
            guard address.family == .inet, !links.values.contains(where: { $0.addresses.contains { $0.local == address.local } }) else { return }
            routes.removeAll { $0.family == .inet && $0.table == .main && $0.preferredSource == address.local }
        }

        func snapshot(at time: Date) -> Snapshot {
            var interfaces = links.keys.sorted().map { links[$0]! }
            let masters = NetworkInterface.masterNames(in: interfaces)
            for position in interfaces.indices {
                interfaces[position].masterName = interfaces[position].master.flatMap { masters[$0] }
            }
            var scan = HolderScan(complete: complete, incompleteReason: complete ? nil : "permission denied", attachments: holders, processesScanned: processes)
            scan.socketsUnknown = socketsUnknown
            (scan.forwards, scan.forwardsUnknown) = (forwards, forwardsUnknown)
            var snapshot = Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: time, interfaces: interfaces, routes: routes,
                                    holders: scan, peerNamespaces: peers)
            snapshot.namespaceNames = ["net:[9]": "blue"]
            return snapshot
        }
    }

    static let prefixes = ["0.0.0.0/1", "128.0.0.0/1", "0.0.0.0/0", "10.1.0.0/16", "192.168.7.0/24", "::/1", "8000::/1", "fd00::/8"]

    static func randomInterface(_ index: Int, in world: World, using generator: inout some RandomNumberGenerator) -> NetworkInterface {
        let name = Bool.random(using: &generator) ? "if\(index)" : "t\(Int.random(in: 1...30, using: &generator))"
        var interface: NetworkInterface
        switch Int.random(in: 0...9, using: &generator) {
        case 0...3:
            interface = NetworkInterface(index: index, name: name, kind: Bool.random(using: &generator) ? .tun : .tap, infoKind: "tun",
                                         flags: ["UP"], carrier: Bool.random(using: &generator),
                                         tun: TunDetails(persistent: Int.random(in: 0...5, using: &generator) > 0,
                                                         multiQueue: Bool.random(using: &generator),
                                                         numQueues: UInt32.random(in: 0...1, using: &generator), numDisabledQueues: 0))
            if Int.random(in: 0...6, using: &generator) == 0 { interface.master = world.links.keys.randomElement(using: &generator) }
        case 4, 5:
            let peer = Int.random(in: 0...3, using: &generator) == 0 ? nil : world.links.keys.randomElement(using: &generator) ?? index + 1
            interface = NetworkInterface(index: index, name: name, kind: .veth, infoKind: "veth", link: peer,
                                         linkNetnsID: Int.random(in: 0...3, using: &generator) == 0 ? Int32.random(in: 1...3, using: &generator) : nil)
        case 6:
            interface = NetworkInterface(index: index, name: name, kind: .other, infoKind: "macvlan",
                                         link: world.links.keys.randomElement(using: &generator))
        case 7:
            interface = NetworkInterface(index: index, name: name, kind: .wireguard, infoKind: "wireguard", carrier: Bool.random(using: &generator))
        default:
            interface = NetworkInterface(index: index, name: name, kind: .other, infoKind: "bridge")
        }
        if Bool.random(using: &generator) {
            interface.addresses = [InterfaceAddress(local: IPAddress("10.9.\(index % 250).1")!, prefixLength: 24, scope: "global")]
        }
        if Int.random(in: 0...2, using: &generator) == 0 {
            interface.addresses.append(InterfaceAddress(local: IPAddress("fd09:\(index % 250)::1")!, prefixLength: 64, scope: "global"))
        }
        return interface
    }

    static func randomRoute(in world: World, using generator: inout some RandomNumberGenerator) -> Route? {
        guard let index = world.links.keys.randomElement(using: &generator) else { return nil }
        var prefix = prefixes.randomElement(using: &generator)!
        if prefix.contains(":") == false, Bool.random(using: &generator) { prefix = "10.\(Int.random(in: 0...3, using: &generator)).0.0/16" }
        let blackhole = Int.random(in: 0...5, using: &generator) == 0
        var route = Route(destination: IPPrefix(prefix)!, type: blackhole ? .blackhole : .unicast,
                          table: Bool.random(using: &generator) ? .main : .local, metric: UInt32.random(in: 0...2, using: &generator),
                          nextHops: [NextHop(interfaceIndex: index, interfaceName: world.links[index]!.name)])
        // Now and then a multipath one, its second hop through another device and of another
        // weight (a hop into a dead tunnel makes a dead-tunnel-hop finding, which the watcher
        // must judge as a whole snapshot would).
        if !blackhole, Int.random(in: 0...3, using: &generator) == 0, let other = world.links.keys.randomElement(using: &generator), other != index {
            route.nextHops[0].weight = 1
            route.nextHops.append(NextHop(interfaceIndex: other, interfaceName: world.links[other]!.name, weight: Int.random(in: 1...3, using: &generator)))
        }
        // Now and then one that takes a device's address of its family as source (tying that
        // device to it), or, as a blackhole route or one through a nexthop object, that names no device.
        if Int.random(in: 0...2, using: &generator) == 0,
           let source = world.links.values.flatMap({ $0.addresses.filter { $0.family == route.family } }).randomElement(using: &generator) {
            route.preferredSource = source.local
            if blackhole || Int.random(in: 0...4, using: &generator) == 0 { route.nextHops = [] }
        }
        return route
    }

    /// Changes a world at random and returns the changes that describe it, as a watcher would
    /// receive them.
    static func mutate(_ world: inout World, using generator: inout some RandomNumberGenerator) -> [FactChange] {
        var changes: [FactChange] = []
        for _ in 0..<Int.random(in: 1...6, using: &generator) {
            switch Int.random(in: 0...9, using: &generator) {
            case 0, 1:
                let index = (world.links.keys.max() ?? 0) + Int.random(in: 1...3, using: &generator)
                var interface = randomInterface(index, in: world, using: &generator)
                let addresses = interface.addresses
                interface.addresses = []
                world.links[index] = interface
                changes.append(.link(interface))
                for address in addresses {
                    world.links[index]!.addresses.append(address)
                    changes.append(.addressAdded(index: index, address))
                }
            case 2:
                guard let index = world.links.keys.randomElement(using: &generator) else { continue }
                let addresses = world.links[index]!.addresses
                world.links[index] = nil
                world.routes.removeAll { $0.nextHops.contains { $0.interfaceIndex == index } }
                for address in addresses { world.removeRoutesSourced(from: address) }
                changes.append(.linkRemoved(index: index))
            case 3:
                // A link changes: carrier, queues, persistence, or its name.
                guard let index = world.links.keys.randomElement(using: &generator), var interface = world.links[index] else { continue }
                interface.carrier = Bool.random(using: &generator)
                if interface.tun != nil { interface.tun?.numQueues = UInt32.random(in: 0...1, using: &generator) }
                if Int.random(in: 0...3, using: &generator) == 0 { interface.xdpProgram = interface.xdpProgram == nil ? UInt32.random(in: 0...9, using: &generator) : nil }
                if Bool.random(using: &generator) { interface.name = "r\(Int.random(in: 1...30, using: &generator))" }
                world.links[index] = interface
                for position in world.routes.indices {
                    for hop in world.routes[position].nextHops.indices where world.routes[position].nextHops[hop].interfaceIndex == index {
                        world.routes[position].nextHops[hop].interfaceName = interface.name
                    }
                }
                var message = interface
                message.addresses = []
                changes.append(.link(message))
            case 4:
                guard let route = randomRoute(in: world, using: &generator) else { continue }
                world.routes.removeAll { $0.identity == route.identity }
                world.routes.append(route)
                changes.append(.routeAdded(route))
            case 5:
                guard let route = world.routes.randomElement(using: &generator) else { continue }
                world.routes.removeAll { $0.identity == route.identity }
                changes.append(.routeRemoved(route))
            case 6:
                guard let route = randomRoute(in: world, using: &generator) else { continue }
                world.routes.removeAll { $0.baseIdentity == route.baseIdentity }
                world.routes.append(route)
                changes.append(.routeReplaced(route))
            case 7:
                // A new holder scan: a holder comes or goes, or the scan's completeness changes.
                if Bool.random(using: &generator), let victim = world.holders.indices.randomElement(using: &generator) {
                    world.holders.remove(at: victim)
                } else if let index = world.links.keys.randomElement(using: &generator) {
                    let here = Int.random(in: 0...3, using: &generator) > 0
                    world.holders.append(HolderAttachment(holder: Holder(pid: Int32(index), comm: "openvpn", netns: here ? "net:[1]" : "net:[9]"),
                                                          ifname: world.links[index]!.name, inInspectedNamespace: here))
                }
                if Int.random(in: 0...4, using: &generator) == 0 { world.complete.toggle() }
                if Int.random(in: 0...5, using: &generator) == 0 { world.socketsUnknown = world.socketsUnknown == nil ? "no inet_diag" : nil }
                if Int.random(in: 0...3, using: &generator) == 0, let index = world.links.keys.randomElement(using: &generator) {
                    world.forwards[index] = world.forwards[index] == nil ? Int.random(in: 1...2, using: &generator) : nil
                }
                if Int.random(in: 0...7, using: &generator) == 0 { world.forwardsUnknown = world.forwardsUnknown == nil ? "an nftables rule picks" : nil }
                if Int.random(in: 0...2, using: &generator) == 0 { world.processes += 1 }
                changes.append(.holders(world.snapshot(at: Date()).holders, namespaceNames: ["net:[9]": "blue"]))
            case 8:
                guard let index = world.links.keys.randomElement(using: &generator), var interface = world.links[index] else { continue }
                // (An IPv4 one may be another device's, and a route's source.)
                let address = Bool.random(using: &generator)
                    ? InterfaceAddress(local: IPAddress("fd00::\(Int.random(in: 1...3, using: &generator))")!, prefixLength: 64, scope: "global")
                    : InterfaceAddress(local: IPAddress("10.9.\(Int.random(in: 1...8, using: &generator)).1")!, prefixLength: 24, scope: "global")
                if interface.addresses.contains(where: { $0.local == address.local }) {
                    interface.addresses.removeAll { $0.local == address.local }
                    changes.append(.addressRemoved(index: index, address))
                    world.links[index] = interface
                    // Linux drops the IPv4 routes through a device that loses its last IPv4
                    // address, and those of the main table whose source address no device has.
                    if address.family == .inet, !interface.addresses.contains(where: { $0.family == .inet }) {
                        world.routes.removeAll { $0.family == .inet && !$0.nextHops.isEmpty && $0.nextHops.allSatisfy { $0.interfaceIndex == index } }
                    }
                    world.removeRoutesSourced(from: address)
                } else {
                    interface.addresses.append(address)
                    changes.append(.addressAdded(index: index, address))
                    world.links[index] = interface
                }
            default:
                let nsid = Int32.random(in: 1...3, using: &generator)
                world.peers[nsid] = Bool.random(using: &generator) ? nil
                    : PeerNamespace(name: Bool.random(using: &generator) ? "blue" : nil, processCount: Int.random(in: 0...2, using: &generator))
                changes.append(.peerNamespaces(world.peers))
            }
        }
        return changes
    }

    /// The first way two assessments differ, briefly (a whole assessment is too long to read).
    static func difference(_ actual: Assessment?, _ expected: Assessment) -> String? {
        guard let actual else { return "no assessment" }
        if actual.snapshot.interfaces != expected.snapshot.interfaces {
            for (a, e) in zip(actual.snapshot.interfaces, expected.snapshot.interfaces) where a != e { return "interface \(a) != \(e)" }
            return "interfaces \(actual.snapshot.interfaces.map(\.index)) != \(expected.snapshot.interfaces.map(\.index))"
        }
        if actual.snapshot.routes != expected.snapshot.routes { return "routes \(actual.snapshot.routes) != \(expected.snapshot.routes)" }
        if actual.snapshot != expected.snapshot { return "snapshot metadata differs" }
        for (a, e) in zip(actual.interfaces, expected.interfaces) where a != e {
            return "verdict \(a.interface.name): \(a.state) \(a.reason) holders \(a.holders) \(a.holdersKnown) routes \(a.routes.count) != \(e.state) \(e.reason) holders \(e.holders) \(e.holdersKnown) routes \(e.routes.count)\(a.interface == e.interface ? "" : "; interface \(a.interface) != \(e.interface)")"
        }
        if actual.interfaces.count != expected.interfaces.count { return "\(actual.interfaces.count) verdicts != \(expected.interfaces.count)" }
        for (a, e) in zip(actual.findings, expected.findings) where a != e { return "finding \(a) != \(e)" }
        if actual.findings.count != expected.findings.count { return "findings \(actual.findings.map(\.id)) != \(expected.findings.map(\.id))" }
        return actual == expected ? nil : "status \(actual.status) != \(expected.status)"
    }

    @Test func anySequenceOfChangesEndsWhereAFreshJudgementDoes() {
        var generator = SystemRandomNumberGenerator()
        var compared = 0
        var partlyDead = 0
        for round in 0..<150 {
            var world = World()
            for index in 1...Int.random(in: 1...25, using: &generator) {
                world.links[index] = Self.randomInterface(index, in: world, using: &generator)
            }
            for _ in 0..<Int.random(in: 0...8, using: &generator) {
                if let route = Self.randomRoute(in: world, using: &generator), !world.routes.contains(where: { $0.identity == route.identity }) {
                    world.routes.append(route)
                }
            }
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let engine = JudgingEngine(policy: AuditPolicy(limit: 20))
            engine.load(world.snapshot(at: start))
            #expect(engine.assessment(of: "ns") == Heuristics.assess(world.snapshot(at: start), policy: AuditPolicy(limit: 20)))
            // What a history adds (leak growth), set now and then as a recording would, of any
            // severity: it is kept in place among the findings as changes come.
            var history: [Finding] = []
            for step in 1...12 {
                let changes = Self.mutate(&world, using: &generator)
                let time = start.addingTimeInterval(Double(step))
                engine.apply(changes, to: "ns", at: time)
                if Int.random(in: 0...2, using: &generator) == 0 {
                    history = (0..<Int.random(in: 0...2, using: &generator)).map { count in
                        Finding(id: FindingID.leakGrowth, severity: [Severity.info, .warning, .critical].randomElement(using: &generator)!,
                                ifname: nil, reapable: false, evidence: "\(step).\(count)")
                    }
                    engine.setHistoryFindings(history, of: "ns")
                }
                // Read only now and then, so that several bursts of changes pile up unjudged.
                guard Bool.random(using: &generator) || step == 12 else { continue }
                let expected = Heuristics.assess(world.snapshot(at: time), policy: AuditPolicy(limit: 20)).adding(history)
                let actual = engine.assessment(of: "ns")
                partlyDead += expected.findings.count { $0.id == FindingID.deadTunnelHop }
                #expect(actual == expected, "round \(round), step \(step): \(Self.difference(actual, expected) ?? "") after \(changes)")
                if actual != expected { return }
                // The counts the metrics use, kept as verdicts change, are those of the verdicts.
                let byHand = InterfaceKind.allCases.flatMap { kind in
                    [InterfaceState.live, .orphaned, .suspect, .unknown].compactMap { state -> KindStateCount? in
                        let count = expected.interfaces.count { $0.interface.kind == kind && $0.state == state }
                        return count > 0 ? KindStateCount(kind: kind, state: state, count: count) : nil
                    }
                }
                #expect(actual?.kindStateCounts == byHand)
                // What the watcher asks before putting a recording off: whether a verdict changed
                // since the changes were last taken is orphaned. Taken now and then, so that
                // changes pile up between takes too.
                // Removals are answered for every key gone (a superset of those taken: a key used
                // again is not taken as removed).
                let orphanChanged = engine.changesInclude(of: "ns") { $0.state == .orphaned }
                let anyRemoval = engine.removalsInclude(of: "ns") { _, _ in true }
                if Bool.random(using: &generator) {
                    let taken = engine.takeChanges(of: "ns")
                    #expect(orphanChanged == taken.changed.contains { $0.state == .orphaned })
                    #expect(anyRemoval || taken.removed.isEmpty)
                    #expect(!engine.changesInclude(of: "ns") { _ in true } && !engine.removalsInclude(of: "ns") { _, _ in true })
                }
                compared += 1
            }
        }
        #expect(compared > 150)
        #expect(partlyDead > 20, "multipath routes partly into dead tunnels were compared \(partlyDead) times")
    }

    @Test func aNameGivenAwayAndBackWithinABurstIsNotRemoved() {
        var world = World()
        world.links[5] = Build.tun(5, "tapx", kind: .tap)
        world.links[6] = Build.tun(6, "other")
        let engine = JudgingEngine()
        engine.load(world.snapshot(at: Date()))
        _ = engine.assessment(of: "ns")
        _ = engine.takeChanges(of: "ns")
        // Renamed away and back, and another renamed, before one judgement: observations keyed
        // by index and name must keep (5, tapx), and lose (6, other).
        var away = world.links[5]!
        away.name = "tmp"
        var renamed = world.links[6]!
        renamed.name = "moved"
        engine.apply([.link(away), .link(world.links[5]!), .link(renamed)], to: "ns", at: Date())
        _ = engine.assessment(of: "ns")
        let changes = engine.takeChanges(of: "ns")
        #expect(changes.changed.map(\.interface.name) == ["moved"])
        // (5, tmp) may be named too: it was never recorded, and nothing is lost by forgetting it.
        let removed = changes.removed.map { "\($0.index):\($0.name)" }
        #expect(removed.contains("6:other"))
        #expect(!removed.contains("5:tapx"))
    }

    /// A device removed and another made or moved in at its ifindex under its name, within one
    /// burst, is another device: its observation is removed, so that the newcomer's starts afresh.
    @Test func aDeviceReplacedWithinABurstIsRemoved() {
        var world = World()
        world.links[5] = Build.tun(5, "tapx", kind: .tap)
        let engine = JudgingEngine()
        engine.load(world.snapshot(at: Date()))
        _ = engine.assessment(of: "ns")
        _ = engine.takeChanges(of: "ns")
        engine.apply([.linkRemoved(index: 5), .link(world.links[5]!)], to: "ns", at: Date())
        _ = engine.assessment(of: "ns")
        let changes = engine.takeChanges(of: "ns")
        #expect(changes.changed.map(\.interface.name) == ["tapx"])
        #expect(changes.removed.map { "\($0.index):\($0.name)" } == ["5:tapx"])
    }

    @Test func aChangeJudgesOnlyWhatItTouches() {
        var world = World()
        for index in 1...1000 { world.links[index] = Build.tun(index, "tun\(index)") }
        world.links[1001] = NetworkInterface(index: 1001, name: "va", kind: .veth, infoKind: "veth", link: 1002)
        world.links[1002] = NetworkInterface(index: 1002, name: "vb", kind: .veth, infoKind: "veth", link: 1001)
        let engine = JudgingEngine()
        engine.load(world.snapshot(at: Date()))
        _ = engine.assessment(of: "ns")
        #expect(engine.takeJudgedCount(of: "ns") == 1002)

        // A carrier change on one tun: that tun.
        var changed = world.links[500]!
        changed.carrier = true
        world.links[500] = changed
        engine.apply([.link(changed)], to: "ns", at: Date())
        let fresh = Heuristics.assess(world.snapshot(at: Date()))
        #expect(engine.assessment(of: "ns")?.interfaces.first { $0.interface.index == 500 }?.state
                    == fresh.interfaces.first { $0.interface.index == 500 }?.state)
        #expect(fresh.interfaces.first { $0.interface.index == 500 }?.state != .orphaned)
        #expect(engine.takeJudgedCount(of: "ns") == 1)

        // One veth of a pair goes: the other one (its peer is now missing), and nothing else.
        engine.apply([.linkRemoved(index: 1002)], to: "ns", at: Date())
        let after = engine.assessment(of: "ns")
        #expect(engine.takeJudgedCount(of: "ns") == 1)
        #expect(after?.interfaces.first { $0.interface.name == "va" }?.state == .suspect)

        // A route into one tun: that tun (its routes are part of its entry).
        engine.apply([.routeAdded(Build.route("10.0.0.0/8", 7))], to: "ns", at: Date())
        _ = engine.assessment(of: "ns")
        #expect(engine.takeJudgedCount(of: "ns") == 1)

        // A holder appears for one tun, with the same number of processes scanned: that tun.
        let scan = HolderScan(complete: true, attachments: [Build.holder(9, "tun9")], processesScanned: 12)
        engine.apply([.holders(scan, namespaceNames: ["net:[9]": "blue"])], to: "ns", at: Date())
        #expect(engine.assessment(of: "ns")?.interfaces.first { $0.interface.index == 9 }?.state == .live)
        #expect(engine.takeJudgedCount(of: "ns") == 1)
    }

    /// A scan that differs only in how many processes it read (a process started or ended, the
    /// usual scan of a busy host) judges nothing again: the orphans' findings are reworded to
    /// name the new count, exactly as judging them again would, single- and multi-queue alike,
    /// also after two such scans in one burst, and beside a device judged for another reason.
    @Test func aScanThatOnlyCountsOtherProcessesRewordsWithoutJudging() {
        var links: [NetworkInterface] = []
        for index in 1...300 { links.append(Build.tun(index, "rw\(index)", multiQueue: index % 3 == 0, queues: index % 3 == 0 ? 0 : nil)) }
        func scan(_ processes: Int, opaque: [Int32], holders: [HolderAttachment] = []) -> HolderScan {
            var scan = HolderScan(complete: true, attachments: holders, processesScanned: processes)
            scan.opaquePIDs = opaque
            return scan
        }
        for opaque: [Int32] in [[], [1], [1, 77]] {
            var snapshot = Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(), interfaces: links, routes: [], holders: scan(40, opaque: opaque))
            let engine = JudgingEngine()
            engine.load(snapshot)
            _ = engine.assessment(of: "ns")
            _ = engine.takeJudgedCount(of: "ns")
            for processes in [41, 57] {
                snapshot.holders = scan(processes, opaque: opaque)
                snapshot.takenAt = Date()
                engine.apply([.holders(snapshot.holders, namespaceNames: [:])], to: "ns", at: snapshot.takenAt)
            }
            let reworded = engine.assessment(of: "ns")
            #expect(engine.takeJudgedCount(of: "ns") == 0)
            #expect(Self.difference(reworded, Heuristics.assess(snapshot)) == nil, "opaque \(opaque)")
            #expect(reworded?.findings.contains { $0.evidence.contains("57 processes scanned") } == true)

            // A holder comes with a new count: its device is judged, the others reworded.
            snapshot.holders = scan(58, opaque: opaque, holders: [Build.holder(9, "rw9")])
            snapshot.takenAt = Date()
            engine.apply([.holders(snapshot.holders, namespaceNames: [:])], to: "ns", at: snapshot.takenAt)
            let mixed = engine.assessment(of: "ns")
            #expect(engine.takeJudgedCount(of: "ns") == 1)
            #expect(Self.difference(mixed, Heuristics.assess(snapshot)) == nil, "opaque \(opaque)")
        }
    }

    /// The rewording's byte search: the first occurrence only, at either end, in text that is
    /// not ASCII, and none where the phrase is cut short or absent.
    @Test func rewordingReplacesTheFirstOccurrenceOfThePhraseOnly() {
        func replaced(_ old: String, _ new: String, _ text: String) -> String? {
            NamespaceFacts.replacingFirst(Array(old.utf8), with: Array(new.utf8), in: text)
        }
        #expect(replaced("(4 p).", "(15 p).", "x (4 p). y (4 p).") == "x (15 p). y (4 p).")
        #expect(replaced("(4 p).", "(5 p).", "(4 p).") == "(5 p).")
        #expect(replaced("(4 p).", "(5 p).", "tun é🙂 (4 p).") == "tun é🙂 (5 p).")
        #expect(replaced("(4 p).", "(5 p).", "tun (4 p)") == nil)
        #expect(replaced("(4 p).", "(5 p).", "") == nil)
    }

    /// Linux flushes a device's IPv4 routes when it is set down, and says nothing; its IPv6
    /// routes go with deletions of their own.
    @Test func aDeviceSetDownLosesItsIPv4RoutesOnLinux() {
        var world = World()
        world.links[1] = Build.tun(1, "tun0", carrier: true)
        world.links[2] = Build.tun(2, "tun1", carrier: true)
        let v4 = Route(destination: IPPrefix("0.0.0.0/1")!, nextHops: [NextHop(interfaceIndex: 1, interfaceName: "tun0")])
        let v6 = Route(destination: IPPrefix("::/1")!, nextHops: [NextHop(interfaceIndex: 1, interfaceName: "tun0")])
        let both = Route(destination: IPPrefix("10.0.0.0/8")!, nextHops: [NextHop(interfaceIndex: 1, interfaceName: "tun0"), NextHop(interfaceIndex: 2, interfaceName: "tun1")])
        world.routes = [v4, v6, both]
        let engine = JudgingEngine()
        engine.load(world.snapshot(at: Date()))
        var down = world.links[1]!
        down.flags = ["POINTOPOINT"]
        engine.apply([.link(down)], to: "ns", at: Date())
        // The multipath route keeps its other next hop; the kernel marks the dead one, not the route.
        #expect(engine.snapshot(of: "ns")?.routes == [v6, both])
        #expect(engine.assessment(of: "ns")?.interfaces.first?.routes == [v6, both])
    }

    /// Linux also flushes them when the device loses its last IPv4 address.
    @Test func losingTheLastIPv4AddressLosesTheIPv4RoutesOnLinux() {
        var world = World()
        var tun = Build.tun(1, "tun0", carrier: true)
        let first = InterfaceAddress(local: IPAddress("10.1.0.1")!, prefixLength: 24, scope: "global")
        let second = InterfaceAddress(local: IPAddress("10.1.0.2")!, prefixLength: 24, scope: "global")
        tun.addresses = [first, second]
        world.links[1] = tun
        let v4 = Route(destination: IPPrefix("10.2.0.0/16")!, nextHops: [NextHop(interfaceIndex: 1, interfaceName: "tun0")])
        world.routes = [v4]
        let engine = JudgingEngine()
        engine.load(world.snapshot(at: Date()))
        engine.apply([.addressRemoved(index: 1, first)], to: "ns", at: Date())
        #expect(engine.snapshot(of: "ns")?.routes == [v4])
        engine.apply([.addressRemoved(index: 1, second)], to: "ns", at: Date())
        #expect(engine.snapshot(of: "ns")?.routes == [])
    }

    /// The changes the watcher records: what appeared or changed state, holders or name, and
    /// the keys that went; never an interface whose verdict only reads differently.
    @Test func changesForObservationsNameOnlyWhatChanged() {
        var world = World()
        for index in 1...50 { world.links[index] = Build.tun(index, "tun\(index)") }
        let engine = JudgingEngine()
        engine.load(world.snapshot(at: Date()))
        _ = engine.assessment(of: "ns")
        #expect(engine.takeChanges(of: "ns").changed.count == 50)
        // Another holder scan with more processes rewords every orphan's reason: no change.
        engine.apply([.holders(HolderScan(complete: true, attachments: [], processesScanned: 99), namespaceNames: [:])], to: "ns", at: Date())
        _ = engine.assessment(of: "ns")
        #expect(engine.takeJudgedCount(of: "ns") == 100)
        var changes = engine.takeChanges(of: "ns")
        #expect(changes.changed.isEmpty && changes.removed.isEmpty)
        // A holder for one, a rename of another, a deletion and a new device.
        var renamed = world.links[2]!
        renamed.name = "vpn2"
        engine.apply([.holders(HolderScan(complete: true, attachments: [Build.holder(7, "tun1")], processesScanned: 99), namespaceNames: [:]),
                      .link(renamed), .linkRemoved(index: 3), .link(Build.tun(60, "tun60"))], to: "ns", at: Date())
        _ = engine.assessment(of: "ns")
        changes = engine.takeChanges(of: "ns")
        #expect(changes.changed.map(\.interface.name) == ["tun1", "vpn2", "tun60"])
        #expect(changes.removed.map { "\($0.index) \($0.name)" }.sorted() == ["2 tun2", "3 tun3"])
    }

    @Test func namespacesAreKeptApart() {
        var blue = World()
        blue.links[1] = Build.tun(1, "tun0")
        var red = World()
        red.links[1] = Build.tun(1, "tun0", carrier: true)
        var blueSnapshot = blue.snapshot(at: Date())
        blueSnapshot.namespaceIdentity = "blue"
        var redSnapshot = red.snapshot(at: Date())
        redSnapshot.namespaceIdentity = "red"
        let engine = JudgingEngine()
        engine.load(blueSnapshot)
        engine.load(redSnapshot)
        engine.apply([.linkRemoved(index: 1)], to: "red", at: Date())
        #expect(engine.assessment(of: "blue")?.interfaces.map(\.state) == [.orphaned])
        #expect(engine.assessment(of: "red")?.interfaces.isEmpty == true)
        #expect(engine.apply([.linkRemoved(index: 1)], to: "green", at: Date()) == false)
        #expect(Set(engine.namespaceIdentities) == ["blue", "red"])
    }
}
