import Foundation

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
    /// Whether a process was seen attached to it since the last look, though none holds it now
    /// (`AttachEvidence`): recorded, its orphaned run starts again. Set by the watcher and by a
    /// reap's look after its question, never by judging.
    public var attachSeen = false
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

    /// How many interfaces there are of each kind in each state (those with none left out).
    public let kindStateCounts: [KindStateCount]
    /// How many interfaces are in each state (those with none left out).
    public var stateCounts: [InterfaceState: Int] {
        kindStateCounts.reduce(into: [:]) { $0[$1.state, default: 0] += $1.count }
    }

    public init(snapshot: Snapshot, policy: AuditPolicy, interfaces: [AssessedInterface], findings: [Finding], status: AuditStatus) {
        self.snapshot = snapshot
        self.policy = policy
        self.interfaces = interfaces
        self.findings = findings
        self.status = status
        kindStateCounts = VerdictCounts(interfaces).kindStateCounts
    }

    /// An assessment of interfaces the judging engine counted as it judged them.
    init(snapshot: Snapshot, policy: AuditPolicy, interfaces: [AssessedInterface], findings: [Finding], status: AuditStatus,
         counts: VerdictCounts) {
        self.snapshot = snapshot
        self.policy = policy
        self.interfaces = interfaces
        self.findings = findings
        self.status = status
        kindStateCounts = counts.kindStateCounts
    }

    /// An assessment whose interfaces are counted already.
    private init(_ other: Assessment, findings: [Finding], status: AuditStatus) {
        snapshot = other.snapshot
        policy = other.policy
        interfaces = other.interfaces
        kindStateCounts = other.kindStateCounts
        self.findings = findings
        self.status = status
    }

    public func count(_ state: InterfaceState) -> Int { kindStateCounts.reduce(0) { $1.state == state ? $0 + $1.count : $0 } }

    /// The same assessment with more findings (from history, which the snapshot alone cannot
    /// give), re-sorted, with the status they imply. This copies every finding; a caller that
    /// needs only the status asks `status(adding:)`, and the watcher keeps history's findings in
    /// its judging engine (`JudgingEngine.setHistoryFindings`) instead.
    public func adding(_ extra: [Finding]) -> Assessment {
        guard !extra.isEmpty else { return self }
        // Each goes after the findings it does not sort before, as sorting them all would put it
        // (the sort is stable, and these come last).
        var all = findings
        for finding in extra { all.insert(finding, at: Finding.ReportKey(finding).positions(in: all).upperBound) }
        return Assessment(self, findings: all, status: status(adding: extra))
    }

    /// The status `adding(extra)` would have: from the status the others implied and what the
    /// extra findings add, without a look at every finding and interface again.
    public func status(adding extra: [Finding]) -> AuditStatus {
        guard !extra.isEmpty else { return status }
        let worst = extra.map(\.severity).max()
        if worst == .critical || status == .critical { return .critical }
        if worst == .warning || status == .warning { return .warning }
        if status == .unknown || extra.contains(where: { $0.id == FindingID.captureMissing && (interfaces.isEmpty || $0.leavesUnknown) }) { return .unknown }
        return .ok
    }
}
