import Foundation

extension FindingRules {
    /// The findings about the snapshot as a whole and its history.
    static let whole: [FindingRule] = [
        FindingRule(id: FindingID.tunnelCount, severity: "warning from --warn, critical at --limit", reap: nil, scope: .snapshot,
                    summary: "too many tunnel-style interfaces"),
        FindingRule(id: FindingID.leakGrowth, severity: "warning", reap: nil, scope: .history,
                    summary: "--growth net new tunnel-style interfaces within --growth-window"),
        FindingRule(id: FindingID.holderUnknown, severity: "info", reap: nil, scope: .snapshot,
                    summary: "holders could not be read, so nothing without a visible holder is called orphaned"),
        FindingRule(id: FindingID.useUnknown, severity: "info", reap: nil, scope: .snapshot,
                    summary: "other namespaces (for devices stacked on a tun/tap) or the rules that name devices by index (nftables, IPsec) could not be read, as without CAP_SYS_ADMIN or CAP_NET_ADMIN, so no unheld tun/tap is called orphaned"),
        FindingRule(id: FindingID.captureMissing, severity: "info", reap: nil, scope: .snapshot,
                    summary: "--from: a capture lacks some tool's output"),
    ]
}

/// Judging the whole snapshot: how many tunnels there are.
extension Heuristics {
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

    /// `use-unknown`: what may use an unheld tun/tap without holding it could not be read (other
    /// namespaces, for links stacked on it; the rule lists that name devices by index; the tc
    /// programs attached through tcx), which
    /// leaves every such device unknown (see `judgeTun`); nil when all of it was read, or the
    /// snapshot has no tun or tap.
    static func useUnknownFinding(_ snapshot: Snapshot, counts: VerdictCounts) -> Finding? {
        let unread = [snapshot.holders.stackingUnknown, snapshot.holders.rulesUnknown, snapshot.holders.tcProgramsUnknown].compactMap { $0 }
        guard snapshot.platform == .linux, !unread.isEmpty, counts.count(of: .tun) + counts.count(of: .tap) > 0 else { return nil }
        return Finding(
            id: FindingID.useUnknown, severity: .info, ifname: nil, reapable: false,
            evidence: "What may use a tun or tap without holding it could not all be read, so no tun or tap without a holder is called orphaned: "
                + unread.joined(separator: "; ") + "."
        )
    }
}
