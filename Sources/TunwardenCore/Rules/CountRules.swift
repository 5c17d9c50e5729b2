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
}
