import Foundation
import Testing
@testable import TunwardenCore

/// Judging tens of thousands of interfaces takes shortcuts (verdicts kept between changes, a
/// one-pass prefix coverage); these tests hold them to the plain way of getting the same answer.
@Suite struct LargeSnapshotTests {
    /// 9,000 interfaces of every kind and state: orphans, held, carrier without holder, held
    /// elsewhere, multi-queue, veth pairs and lone veths, kernel tunnels, context interfaces,
    /// with routes into some of them.
    func snapshot() -> Snapshot {
        var interfaces: [NetworkInterface] = []
        var holders: [HolderAttachment] = []
        var routes: [Route] = []
        for index in 1...9_000 {
            let name = "if\(index)"
            switch index % 9 {
            case 0...4: interfaces.append(Build.tunOfState(index % 9, index, name, holders: &holders))
            case 5: interfaces.append(NetworkInterface(index: index, name: name, kind: .veth, infoKind: "veth", link: index + 1))
            case 6: interfaces.append(NetworkInterface(index: index, name: name, kind: .veth, infoKind: "veth", link: 1_000_000))
            case 7: interfaces.append(NetworkInterface(index: index, name: name, kind: .wireguard, infoKind: "wireguard"))
            default: interfaces.append(NetworkInterface(index: index, name: name, kind: .other, infoKind: "bridge"))
            }
            if index % 45 == 0 { routes.append(Build.route("10.\(index / 250 % 250).\(index % 250).0/24", index)) }
        }
        routes += [Build.route("0.0.0.0/1", 90), Build.route("128.0.0.0/1", 90), Build.route("0.0.0.0/1", 99)]
        return Build.snapshot(interfaces, routes: routes, holders: holders)
    }

    /// A snapshot loaded whole and the same snapshot built up by events, interface by interface,
    /// get the same assessment.
    @Test func judgingByEventsGivesTheLoadedAnswer() {
        var snapshot = snapshot()
        // Routes name their devices, as the inventory names them, and as the engine does.
        let names = Dictionary(uniqueKeysWithValues: snapshot.interfaces.map { ($0.index, $0.name) })
        for route in snapshot.routes.indices {
            for hop in snapshot.routes[route].nextHops.indices {
                snapshot.routes[route].nextHops[hop].interfaceName = snapshot.routes[route].nextHops[hop].interfaceIndex.flatMap { names[$0] }
            }
        }
        let serial = Heuristics.assess(snapshot, policy: AuditPolicy())
        var empty = snapshot
        empty.interfaces = []
        empty.routes = []
        let engine = JudgingEngine()
        engine.load(empty)
        var changes: [FactChange] = snapshot.interfaces.map { .link($0) }
        changes += snapshot.routes.map { .routeAdded($0) }
        engine.apply(changes, to: snapshot.namespaceIdentity, at: snapshot.takenAt)
        let built = engine.assessment(of: snapshot.namespaceIdentity)
        #expect(built == serial, "\(JudgingEngineTests.difference(built, serial) ?? "")")
        // The snapshot exercises what it claims to.
        #expect(Set(serial.interfaces.map(\.state)) == [.live, .orphaned, .suspect, .unknown])
        #expect(serial.findings.contains { $0.id == FindingID.deadTunnelRoute && $0.severity == .critical })
    }

    /// Positions by interface index: found by binary search in an ordered list, by a scan in any
    /// other, and absent ones absent either way.
    @Test func indexPositionsAgreeWithAScan() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var indices = Array(Set((0..<Int.random(in: 0...60, using: &generator)).map { _ in Int.random(in: 1...200, using: &generator) }))
            if Bool.random(using: &generator) { indices.sort() }
            let positions = Heuristics.IndexPositions(count: indices.count) { indices[$0] }
            for index in 0...201 {
                #expect(positions.position(of: index) == indices.firstIndex(of: index), "\(index) in \(indices)")
            }
        }
    }

    /// The quadratic definition: drop every prefix inside another, sum the rest.
    func referenceCoverage(_ prefixes: [IPPrefix]) -> Double {
        let unique = Array(Set(prefixes))
        let outer = unique.filter { prefix in !unique.contains { $0 != prefix && $0.contains(prefix) } }
        return outer.reduce(0) { $0 + $1.shareOfAddressSpace }
    }

    @Test func onePassCoverageMatchesTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let v6 = Bool.random(using: &generator)
            let prefixes = (0..<Int.random(in: 0...60, using: &generator)).map { _ -> IPPrefix in
                // Few distinct high bytes, so prefixes nest and repeat often.
                var bytes = [UInt8](repeating: 0, count: v6 ? 16 : 4)
                bytes[0] = UInt8.random(in: 0...3, using: &generator) << 6
                bytes[1] = UInt8.random(in: 0...3, using: &generator)
                let length = Int.random(in: 0...(v6 ? 20 : 12), using: &generator)
                return IPPrefix(address: IPAddress(bytes: bytes)!, length: length)!
            }
            #expect(Heuristics.coverage(of: prefixes) == referenceCoverage(prefixes), "\(prefixes)")
        }
        #expect(IPPrefix("10.0.0.0/8")!.contains(IPPrefix("10.255.0.0/16")!))
        #expect(!IPPrefix("10.0.0.0/9")!.contains(IPPrefix("10.128.0.0/16")!))
        #expect(IPPrefix("::/0")!.contains(IPPrefix("fe80::/10")!))
        #expect(!IPPrefix("::/0")!.contains(IPPrefix("10.0.0.0/8")!))
    }
}
