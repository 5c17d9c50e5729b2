import Foundation
import Testing
@testable import TunwardenCore

/// Judging (and writing) the first interfaces while the rest are still being read must give the
/// assessment and report of judging the finished snapshot, and must step aside whenever what it
/// was given is not what the snapshot holds.
@Suite struct EarlyJudgingTests {
    /// Tun and tap devices of every state, kernel tunnels and context interfaces, with routes
    /// (a split default into a held one, dead routes into orphans) and a veth at `vethAt` if given.
    func snapshot(count: Int = 3_000, vethAt: Int? = nil) -> Snapshot {
        var interfaces: [NetworkInterface] = []
        var holders: [HolderAttachment] = []
        var routes: [Route] = []
        for index in 1...count {
            let name = "t\(index)"
            if index == vethAt {
                interfaces.append(NetworkInterface(index: index, name: name, kind: .veth, infoKind: "veth", link: 1_000_000))
                continue
            }
            switch index % 7 {
            case 0...4: interfaces.append(Build.tunOfState(index % 7, index, name, holders: &holders))
            case 5: interfaces.append(NetworkInterface(index: index, name: name, kind: .wireguard, infoKind: "wireguard"))
            default: interfaces.append(NetworkInterface(index: index, name: name, kind: .other, infoKind: "bridge"))
            }
            if index % 35 == 0 { routes.append(Build.route("10.\(index / 250 % 250).\(index % 250).0/24", index)) }
        }
        routes += [Build.route("0.0.0.0/1", 8), Build.route("128.0.0.0/1", 8)]
        var snapshot = Build.snapshot(interfaces, routes: routes, holders: holders)
        snapshot.interfaces[6].addresses = [InterfaceAddress(local: IPAddress("10.9.0.1")!, prefixLength: 24, scope: "global")]
        return snapshot
    }

    /// Feeds `snapshot`'s interfaces to `early` in batches of varying size, as an inventory would.
    func feed(_ early: EarlyJudging, _ snapshot: Snapshot, upTo end: Int? = nil, sizes: [Int] = [1, 256, 7, 1000, 64]) {
        early.begin(holders: snapshot.holders, routes: snapshot.routes)
        var position = 0
        var batch = 0
        let end = end ?? snapshot.interfaces.count
        while position < end {
            let next = min(end, position + sizes[batch % sizes.count])
            snapshot.interfaces.withUnsafeBufferPointer { early.feed(UnsafeBufferPointer(rebasing: $0[position..<next])) }
            position = next
            batch += 1
        }
    }

    func json(_ assessment: Assessment, early: EarlyJudging?, pretty: Bool) throws -> String {
        String(decoding: try AuditReport(assessment, early: early).json(pretty: pretty), as: UTF8.self)
    }

    @Test(arguments: [false, true])
    func earlyVerdictsAndEntriesAreTheWholeSnapshotsOwn(pretty: Bool) throws {
        let snapshot = snapshot()
        let plain = Heuristics.assess(snapshot, policy: AuditPolicy(), maxChunks: 2)
        for end in [snapshot.interfaces.count, 2_500, 300, 1] {
            let early = EarlyJudging(writingJSONEntries: pretty)
            feed(early, snapshot, upTo: end)
            #expect(early.judgedCount == end)
            let assessed = Heuristics.assess(snapshot, policy: AuditPolicy(), maxChunks: 2, early: early)
            #expect(assessed == plain, "fed \(end)")
            #expect(try json(assessed, early: early, pretty: pretty) == json(plain, early: nil, pretty: pretty), "fed \(end)")
            // The entries were written early, not again: the report holds the early segment.
            let entries = try #require(early.entries())
            #expect(entries.writtenCount == assessed.interfaces.prefix { $0.interface.index <= end }.count)
            // So were the findings the interfaces fed raised on their own.
            var raised: [Finding] = []
            let holders = Heuristics.HolderIndex(snapshot.holders)
            let routes = Heuristics.routesPerInterface(snapshot.routes)
            for interface in snapshot.interfaces.prefix(end) where interface.kind.isTunnelStyle {
                _ = Heuristics.judgeAlone(interface, holders: holders, routes: routes[interface.index] ?? [], findings: &raised)
            }
            if raised.isEmpty {
                #expect(end < 7 && early.findings(for: assessed.findings) == nil, "fed \(end)")
            } else {
                #expect(try #require(early.findings(for: assessed.findings)).writtenCount == raised.count, "fed \(end)")
            }
        }
        // The snapshot exercises what it claims to.
        #expect(Set(plain.interfaces.map(\.state)) == [.live, .orphaned, .suspect, .unknown])
        #expect(plain.findings.contains { $0.id == FindingID.deadTunnelRoute })
        #expect(plain.findings.contains { $0.id == FindingID.splitDefault })
    }

    @Test func aVethEndsTheEarlyPrefix() throws {
        let snapshot = snapshot(count: 2_000, vethAt: 900)
        let early = EarlyJudging(writingJSONEntries: false)
        feed(early, snapshot)
        #expect(early.stopped)
        #expect(early.judgedCount == 899)
        let assessed = Heuristics.assess(snapshot, policy: AuditPolicy(), maxChunks: 2, early: early)
        let plain = Heuristics.assess(snapshot, policy: AuditPolicy(), maxChunks: 1)
        #expect(assessed == plain)
        #expect(assessed.interfaces.contains { $0.interface.kind == .veth && $0.state == .suspect })
        #expect(try json(assessed, early: early, pretty: false) == json(plain, early: nil, pretty: false))
    }

    @Test(arguments: [false, true])
    func aDeviceFoundStackedOnLaterIsJudgedWithTheWholeSnapshot(pretty: Bool) throws {
        var snapshot = snapshot(count: 1_500)
        let orphans = Heuristics.assess(snapshot).interfaces.filter { $0.state == .orphaned }.map(\.interface.index)
        let lower = try #require(orphans.first), port = try #require(orphans.last)
        // A macvlan arriving at the end of the dump sits on an early orphan; another is a bridge port.
        snapshot.interfaces.append(NetworkInterface(index: 5_000, name: "mv0", kind: .other, infoKind: "macvlan", link: lower))
        snapshot.interfaces.append(NetworkInterface(index: 5_001, name: "br9", kind: .other, infoKind: "bridge"))
        snapshot.interfaces[port - 1].master = 5_001
        let plain = Heuristics.assess(snapshot, policy: AuditPolicy(), maxChunks: 1)
        let early = EarlyJudging(writingJSONEntries: pretty)
        feed(early, snapshot)
        let assessed = Heuristics.assess(snapshot, policy: AuditPolicy(), maxChunks: 2, early: early)
        #expect(assessed == plain)
        #expect(try json(assessed, early: early, pretty: pretty) == json(plain, early: nil, pretty: pretty))
        let states = Dictionary(uniqueKeysWithValues: plain.interfaces.map { ($0.interface.index, $0) })
        #expect(states[lower]?.state == .suspect && states[lower]?.reason.contains("mv0") == true)
        #expect(states[port]?.state == .suspect && states[port]?.reason.contains("port of br9") == true)
        #expect(plain.findings.filter { $0.id == FindingID.stackedTun }.count == 2)
        #expect(!plain.findings.contains { $0.id == FindingID.orphanedTun && [lower, port].map { "t\($0)" }.contains($0.ifname ?? "") })
    }

    @Test func verdictsReachedWithOtherHoldersOrRoutesOrInterfacesAreNotUsed() throws {
        let snapshot = snapshot(count: 700)
        let plain = Heuristics.assess(snapshot, policy: AuditPolicy())
        var lessHeld = snapshot
        lessHeld.holders.attachments.removeAll { $0.ifname == "t1" }
        var rerouted = snapshot
        rerouted.routes.removeLast()
        var renamed = snapshot
        renamed.interfaces[3].name = "other"
        for (what, fed) in [("holders", lessHeld), ("routes", rerouted), ("interfaces", renamed)] {
            let early = EarlyJudging(writingJSONEntries: false)
            feed(early, fed)
            #expect(early.judgedCount == 700)
            let assessed = Heuristics.assess(snapshot, policy: AuditPolicy(), early: early)
            #expect(assessed == plain, "different \(what)")
            #expect(early.entries() == nil, "different \(what)")
            #expect(try json(assessed, early: early, pretty: false) == json(plain, early: nil, pretty: false), "different \(what)")
        }
    }

    @Test func resetForgetsEverythingAndEntriesAreUsedOnlyInTheirStyle() throws {
        let snapshot = snapshot(count: 500)
        let early = EarlyJudging(writingJSONEntries: true)
        feed(early, snapshot)
        early.reset()
        #expect(early.judgedCount == 0)
        // Fed nothing after the reset (no begin): nothing is judged, and the assessment is whole.
        snapshot.interfaces.withUnsafeBufferPointer { early.feed($0) }
        #expect(early.judgedCount == 0)
        let plain = Heuristics.assess(snapshot, policy: AuditPolicy())
        #expect(Heuristics.assess(snapshot, policy: AuditPolicy(), early: early) == plain)

        let pretty = EarlyJudging(writingJSONEntries: true)
        feed(pretty, snapshot)
        let assessed = Heuristics.assess(snapshot, policy: AuditPolicy(), early: pretty)
        // Pretty entries in a compact report would change it: they are left out.
        #expect(try json(assessed, early: pretty, pretty: false) == json(plain, early: nil, pretty: false))
        #expect(try json(assessed, early: pretty, pretty: true) == json(plain, early: nil, pretty: true))
        // Observations and context rows make entries that are not the interface's alone.
        let context = String(decoding: try AuditReport(assessed, includeContext: true, early: pretty).json(pretty: true), as: UTF8.self)
        #expect(context == String(decoding: try AuditReport(plain, includeContext: true).json(pretty: true), as: UTF8.self))
    }

    /// Findings written early are used only where the report's own list has them, first in their
    /// group; any other list is written whole, and the report is the same either way.
    @Test(arguments: [false, true])
    func earlyFindingsAreUsedOnlyWhereTheReportHasThem(pretty: Bool) throws {
        let snapshot = snapshot(count: 1_400)
        let plain = Heuristics.assess(snapshot, policy: AuditPolicy(), maxChunks: 1)
        let early = EarlyJudging(writingJSONEntries: pretty)
        feed(early, snapshot)
        let assessed = Heuristics.assess(snapshot, policy: AuditPolicy(), early: early)
        let orphans = assessed.findings.indices.filter { assessed.findings[$0].id == FindingID.orphanedTun }
        #expect(orphans.count > 100)
        func report(_ findings: [Finding], early: EarlyJudging?) throws -> String {
            var changed = assessed
            changed.findings = findings
            return String(decoding: try AuditReport(changed, early: early).json(pretty: pretty), as: UTF8.self)
        }
        // A finding of an early group raised after the early ones is encoded after them.
        var extended = assessed.findings
        extended.insert(Finding(id: FindingID.orphanedTun, severity: .warning, ifname: "late", reapable: true, evidence: "later"),
                        at: orphans.last! + 1)
        let allEarly = try #require(early.findings(for: assessed.findings)).writtenCount
        #expect(allEarly >= orphans.count)
        #expect(try #require(early.findings(for: extended)).writtenCount == allEarly)
        #expect(try report(extended, early: early) == report(extended, early: nil))
        // One missing, two swapped, or one changed: the early bytes no longer stand for the list.
        var missing = assessed.findings
        missing.remove(at: orphans[10])
        var swapped = assessed.findings
        swapped.swapAt(orphans[3], orphans[4])
        var changed = assessed.findings
        changed[orphans[7]].evidence += " (changed)"
        for (what, findings) in [("missing", missing), ("swapped", swapped), ("changed", changed)] {
            #expect(early.findings(for: findings) == nil, "\(what)")
            #expect(try report(findings, early: early) == report(findings, early: nil), "\(what)")
        }
        // Untouched, they are used, and the report is the whole snapshot's own.
        #expect(early.findings(for: assessed.findings) != nil)
        #expect(try report(assessed.findings, early: early) == json(plain, early: nil, pretty: pretty))
    }

    /// The findings' order: most severe first, then by id, then as raised.
    @Test func findingsSortAsDefined() {
        var generator = SystemRandomNumberGenerator()
        let ids = ["orphaned-tun", "dead-tunnel-route", "tunnel-count", "holder-unknown", "split-default"]
        for _ in 0..<200 {
            let findings = (0..<Int.random(in: 0...80, using: &generator)).map { n in
                Finding(id: ids.randomElement(using: &generator)!, severity: [.info, .warning, .critical].randomElement(using: &generator)!,
                        ifname: "t\(n)", reapable: false, evidence: "\(n)")
            }
            let reference = findings.enumerated().sorted { a, b in
                let ka = (-a.element.severity.rank, a.element.id)
                let kb = (-b.element.severity.rank, b.element.id)
                return ka != kb ? ka < kb : a.offset < b.offset
            }.map(\.element)
            #expect(Heuristics.sorted(findings) == reference)
        }
    }
}
