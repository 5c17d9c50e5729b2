import Foundation
import Testing
@testable import TunwardenCore

/// A snapshot streamed link by link, judged as it arrives, must load into exactly the assessment
/// of the same snapshot loaded whole, whatever the links refer to and in whatever order they come.
@Suite struct StreamedSnapshotTests {
    typealias World = JudgingEngineTests.World

    /// A random world whose links also name links that come after them: a port before its
    /// bridge, a macvlan before its lower device, a veth before its peer, routes through devices
    /// still to come.
    static func randomWorld(using generator: inout some RandomNumberGenerator) -> World {
        var world = World()
        let count = Int.random(in: 1...30, using: &generator)
        for index in 1...count {
            world.links[index] = JudgingEngineTests.randomInterface(index, in: world, using: &generator)
        }
        for index in 1...count where Int.random(in: 0...4, using: &generator) == 0 {
            let target = Int.random(in: 1...count + 2, using: &generator)
            if Bool.random(using: &generator) { world.links[index]!.master = target } else { world.links[index]!.link = target }
        }
        for _ in 0..<Int.random(in: 0...10, using: &generator) {
            if var route = JudgingEngineTests.randomRoute(in: world, using: &generator), !world.routes.contains(where: { $0.identity == route.identity }) {
                if Int.random(in: 0...3, using: &generator) == 0, let other = world.links.keys.randomElement(using: &generator) {
                    route.nextHops.append(NextHop(interfaceIndex: other, interfaceName: world.links[other]!.name))
                }
                world.routes.append(route)
            }
        }
        return world
    }

    /// The world streamed as a link dump gives it: the frame first, its next hops unnamed, then
    /// each link without its master's name. `order` is the order the links come in; `restartAt`,
    /// where the dump starts again from the first link.
    static func stream(_ whole: Snapshot, order: [Int], restartAt: Int?) -> StreamedSnapshot {
        var frame = whole
        frame.interfaces = []
        frame.peerNamespaces = [:]
        for route in frame.routes.indices {
            for hop in frame.routes[route].nextHops.indices { frame.routes[route].nextHops[hop].interfaceName = nil }
        }
        let streamed = StreamedSnapshot(frame, judging: true)
        func feed(_ positions: ArraySlice<Int>) {
            for position in positions {
                var link = whole.interfaces[position]
                link.masterName = nil
                streamed.add(link)
            }
        }
        if let restartAt {
            feed(order[..<restartAt])
            streamed.restart()
        }
        feed(order[...])
        streamed.finish(peerNamespaces: whole.peerNamespaces)
        return streamed
    }

    @Test func aStreamedLoadJudgesAsTheWholeSnapshotDoes() {
        var generator = SystemRandomNumberGenerator()
        var judgedEarly = 0
        var takenBack = 0
        var whollyEarly = 0
        var partlyEarly = 0
        var outOfOrderEarly = 0
        // 400 random worlds, and more (up to 4,000) until each way of judging early has been
        // taken often enough: the counts below vary with the worlds drawn.
        var round = -1
        func covered() -> Bool { judgedEarly > 1000 && whollyEarly > 10 && partlyEarly > 10 && takenBack > 0 && outOfOrderEarly > 50 }
        while round < 399 || (!covered() && round < 3999) {
            round += 1
            let world = Self.randomWorld(using: &generator)
            let whole = world.snapshot(at: Date(timeIntervalSince1970: 1_800_000_000))
            var order = Array(whole.interfaces.indices)
            // Now and then the links come out of index order, which no kernel dump does.
            if round % 10 == 9 { order.shuffle(using: &generator) }
            let restartAt = round % 7 == 3 ? Int.random(in: 0...order.count, using: &generator) : nil
            let streamed = Self.stream(whole, order: order, restartAt: restartAt)
            #expect(streamed.snapshot == whole, "round \(round): the finished snapshot differs from the whole one")
            let engine = JudgingEngine(policy: AuditPolicy(limit: 20))
            engine.load(streamed)
            let expected = Heuristics.assess(whole, policy: AuditPolicy(limit: 20))
            let actual = engine.assessment(of: "ns")
            #expect(actual == expected, "round \(round): \(JudgingEngineTests.difference(actual, expected) ?? "")")
            if actual != expected { return }
            judgedEarly += streamed.judgedOnArrival
            if streamed.judgedEveryTunnel { whollyEarly += 1 } else if streamed.judgedOnArrival > 0 { partlyEarly += 1 }
            if round % 10 == 9 { outOfOrderEarly += streamed.judgedOnArrival }
            // Links judged early whose verdict a later upper took back.
            takenBack += whole.interfaces.indices.filter { position in
                Heuristics.judgesAlone(whole.interfaces[position].kind) && streamed.verdictsByPosition[position] == nil
                    && whole.interfaces.contains { $0.link == whole.interfaces[position].index && $0.index > whole.interfaces[position].index }
            }.count
            // Changes after a streamed load are applied as after any load.
            var changed = world
            changed.links[whole.interfaces.first!.index]!.carrier = !(whole.interfaces.first!.carrier ?? false)
            let later = Date(timeIntervalSince1970: 1_800_000_001)
            var link = changed.snapshot(at: later).interfaces.first!
            link.addresses = whole.interfaces.first!.addresses
            engine.apply([.link(link)], to: "ns", at: later)
            let expectedAfter = Heuristics.assess(changed.snapshot(at: later), policy: AuditPolicy(limit: 20))
            #expect(engine.assessment(of: "ns") == expectedAfter, "round \(round), after a change: \(JudgingEngineTests.difference(engine.assessment(of: "ns"), expectedAfter) ?? "")")
        }
        // Both ways of taking early verdicts were taken (every tunnel's lists whole, or some verdicts
        // by position), and so was taking an early verdict back.
        #expect(judgedEarly > 1000)
        #expect(whollyEarly > 10)
        #expect(partlyEarly > 10)
        #expect(takenBack > 0)
        // Links that come out of index order (older kernels dump by hash bucket) are judged too.
        #expect(outOfOrderEarly > 50)
    }

    @Test func aStreamNotJudgingOnlyGathers() {
        var generator = SystemRandomNumberGenerator()
        let world = Self.randomWorld(using: &generator)
        let whole = world.snapshot(at: Date(timeIntervalSince1970: 1_800_000_000))
        var frame = whole
        frame.interfaces = []
        let streamed = StreamedSnapshot(frame, judging: false)
        for var link in whole.interfaces {
            link.masterName = nil
            streamed.add(link)
        }
        #expect(streamed.finish(peerNamespaces: whole.peerNamespaces) == whole)
        #expect(streamed.judgedOnArrival == 0)
    }

    @Test func anIndexThatComesTwiceIsJudgedAtLoad() {
        let holders = HolderScan(complete: true, incompleteReason: nil, attachments: [], processesScanned: 5)
        var whole = Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(timeIntervalSince1970: 1_800_000_000), interfaces: [],
                             routes: [], holders: holders)
        let tun = TunDetails(persistent: true, multiQueue: false, numQueues: 0, numDisabledQueues: 0)
        whole.interfaces = [NetworkInterface(index: 3, name: "tun0", kind: .tun, infoKind: "tun", flags: [], carrier: false, tun: tun),
                            NetworkInterface(index: 3, name: "tun1", kind: .tun, infoKind: "tun", flags: [], carrier: false, tun: tun)]
        let streamed = Self.stream(whole, order: [0, 1], restartAt: nil)
        #expect(streamed.judgedOnArrival == 0)
        let engine = JudgingEngine()
        engine.load(streamed)
        #expect(engine.assessment(of: "ns") == Heuristics.assess(streamed.snapshot))
    }

    @Test func aTunJudgedOnArrivalIsJudgedAgainWhenSomethingIsStackedOnItLater() {
        let holders = HolderScan(complete: true, incompleteReason: nil, attachments: [], processesScanned: 5)
        let frame = Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(timeIntervalSince1970: 1_800_000_000), interfaces: [],
                             routes: [], holders: holders)
        let tap = NetworkInterface(index: 4, name: "tap0", kind: .tap, infoKind: "tun", flags: [], carrier: false,
                                   tun: TunDetails(persistent: true, multiQueue: false, numQueues: 0, numDisabledQueues: 0))
        let macvlan = NetworkInterface(index: 5, name: "mv0", kind: .other, infoKind: "macvlan", link: 4)
        let streamed = StreamedSnapshot(frame, judging: true)
        streamed.add(tap)
        #expect(streamed.judgedOnArrival == 1)
        streamed.add(macvlan)
        #expect(streamed.judgedOnArrival == 0)
        streamed.finish()
        let engine = JudgingEngine()
        engine.load(streamed)
        let verdict = engine.assessment(of: "ns")!.interfaces.first { $0.interface.name == "tap0" }!
        #expect(verdict.state == .suspect)
        #expect(verdict.reason.contains("mv0 sits on it"))
    }

    /// A tap whose address a kernel tunnel sends from is suspect, whichever comes first in the
    /// dump: a tunnel coming after the tap takes back the verdict it was given on arrival, and a
    /// tap coming after the tunnel is judged with the whole snapshot; both as a fresh load, and
    /// as the engine's changes give it (the watcher's path).
    @Test func aTapATunnelSendsFromIsSuspectWhateverComesFirst() {
        let holders = HolderScan(complete: true, incompleteReason: nil, attachments: [], processesScanned: 5)
        let frame = Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(timeIntervalSince1970: 1_800_000_000), interfaces: [],
                             routes: [], holders: holders)
        let address = IPAddress(bytes: [10, 47, 0, 1])!
        var tap = NetworkInterface(index: 4, name: "tap0", kind: .tap, infoKind: "tun", flags: ["UP"], carrier: false,
                                   tun: TunDetails(persistent: true, multiQueue: false, numQueues: 0, numDisabledQueues: 0))
        tap.addresses = [InterfaceAddress(local: address, prefixLength: 32, scope: "global")]
        var vxlan = NetworkInterface(index: 5, name: "vx0", kind: .other, infoKind: "vxlan")
        vxlan.tunnelLocal = address
        for order in [[tap, vxlan], [vxlan, tap]] {
            let streamed = StreamedSnapshot(frame, judging: true)
            for link in order { streamed.add(link) }
            #expect(streamed.judgedOnArrival == 0)
            streamed.finish()
            let engine = JudgingEngine()
            engine.load(streamed)
            let verdict = engine.assessment(of: "ns")!.interfaces.first { $0.interface.name == "tap0" }!
            #expect(verdict.state == .suspect)
            #expect(verdict.reason.contains("vxlan vx0 sends from its address 10.47.0.1"), "\(verdict.reason)")
            #expect(engine.assessment(of: "ns") == Heuristics.assess(streamed.snapshot))
        }
        var whole = frame
        whole.interfaces = [tap]
        let engine = JudgingEngine()
        engine.load(whole)
        func state() -> InterfaceState? { engine.assessment(of: "ns")?.interfaces.first { $0.interface.name == "tap0" }?.state }
        #expect(state() == .orphaned)
        _ = engine.apply([.link(vxlan)], to: "ns", at: whole.takenAt)
        #expect(state() == .suspect)
        var moved = vxlan
        moved.tunnelLocal = IPAddress(bytes: [10, 47, 0, 2])
        _ = engine.apply([.link(moved)], to: "ns", at: whole.takenAt)
        #expect(state() == .orphaned)
        _ = engine.apply([.link(vxlan)], to: "ns", at: whole.takenAt)
        _ = engine.apply([.linkRemoved(index: 5)], to: "ns", at: whole.takenAt)
        #expect(state() == .orphaned)
    }
}
