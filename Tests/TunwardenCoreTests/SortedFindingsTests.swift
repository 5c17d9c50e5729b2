import Foundation
import Testing
@testable import TunwardenCore

/// Findings kept in report order one interface at a time must stay in exactly the order a fresh
/// sort of the same findings gives, and an assessment given more findings must be the one judged
/// with them from the start.
@Suite struct SortedFindingsTests {
    static let ids = ["orphaned-tun", "dead-tunnel-route", "leak-growth", "veth-peer-gone", "count"]
    static let severities: [Severity] = [.info, .warning, .critical]

    static func randomFindings(_ owner: Int, using generator: inout some RandomNumberGenerator) -> [Finding] {
        (0..<Int.random(in: 0...3, using: &generator)).map { number in
            Finding(id: ids.randomElement(using: &generator)!, severity: severities.randomElement(using: &generator)!,
                    ifname: owner == SortedFindings.wholeOwner ? nil : "if\(owner)", reapable: false, evidence: "\(owner).\(number)")
        }
    }

    /// What a fresh sort gives: the interfaces' findings in index order, then the whole ones.
    static func expected(_ byOwner: [Int: [Finding]], whole: [Finding]) -> [Finding] {
        Heuristics.sorted(byOwner.keys.sorted().flatMap { byOwner[$0]! } + whole)
    }

    @Test func anySequenceOfReplacementsKeepsTheOrderASortGives() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            var byOwner: [Int: [Finding]] = [:]
            for owner in 1...Int.random(in: 1...40, using: &generator) where Bool.random(using: &generator) {
                byOwner[owner * 3] = Self.randomFindings(owner * 3, using: &generator)
            }
            var whole = Self.randomFindings(SortedFindings.wholeOwner, using: &generator)
            let owners = byOwner.keys.sorted()
            var sorted = SortedFindings(interfaceFindings: owners.flatMap { byOwner[$0]! },
                                        owners: owners.flatMap { owner in byOwner[owner]!.map { _ in owner } }, whole: whole)
            #expect(sorted.all == Self.expected(byOwner, whole: whole))
            for step in 0..<20 {
                if Int.random(in: 0...4, using: &generator) == 0 {
                    whole = Self.randomFindings(SortedFindings.wholeOwner, using: &generator)
                    sorted.setWhole(whole)
                } else {
                    // An interface that had findings, or a new one (between others, or past them all).
                    let owner = Bool.random(using: &generator) ? byOwner.keys.randomElement(using: &generator) ?? 1 : Int.random(in: 0...130, using: &generator)
                    let new = Bool.random(using: &generator) ? [] : Self.randomFindings(owner, using: &generator)
                    sorted.replace(owner: owner, old: byOwner[owner] ?? [], new: new)
                    byOwner[owner] = new.isEmpty ? nil : new
                }
                let expected = Self.expected(byOwner, whole: whole)
                #expect(sorted.all == expected, "round \(round), step \(step)")
                if sorted.all != expected { return }
            }
        }
    }

    @Test func addingFindingsGivesWhatJudgingWithThemGives() {
        var generator = SystemRandomNumberGenerator()
        let states: [InterfaceState] = [.live, .orphaned, .suspect, .unknown]
        for _ in 0..<300 {
            let interfaces = (0..<Int.random(in: 0...4, using: &generator)).map { index in
                AssessedInterface(interface: NetworkInterface(index: index + 1, name: "t\(index)", kind: .tun, infoKind: "tun"),
                                  state: states.randomElement(using: &generator)!, reason: "", holders: [], holdersKnown: true, routes: [])
            }
            let findings = Heuristics.sorted(Self.randomFindings(1, using: &generator) + Self.randomFindings(2, using: &generator))
            var extra = Self.randomFindings(SortedFindings.wholeOwner, using: &generator)
            if Int.random(in: 0...5, using: &generator) == 0 {
                extra.append(Finding(id: FindingID.captureMissing, severity: .info, ifname: nil, reapable: false, evidence: "missing"))
            }
            let snapshot = Snapshot(platform: .linux, takenAt: Date(timeIntervalSince1970: 0), interfaces: interfaces.map(\.interface), routes: [],
                                    holders: HolderScan(complete: true, incompleteReason: nil, attachments: [], processesScanned: 1))
            let before = Assessment(snapshot: snapshot, policy: AuditPolicy(), interfaces: interfaces, findings: findings,
                                    status: Heuristics.status(findings: findings, interfaces: interfaces))
            let all = Heuristics.sorted(findings + extra)
            let judged = Assessment(snapshot: snapshot, policy: AuditPolicy(), interfaces: interfaces, findings: all,
                                    status: Heuristics.status(findings: all, interfaces: interfaces))
            #expect(before.adding(extra) == judged)
            #expect(before.adding(extra).stateCounts == judged.stateCounts)
        }
    }
}
