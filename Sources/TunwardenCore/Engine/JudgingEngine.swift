import Foundation

/// The judging engine: it keeps the facts of one or more network namespaces (links, addresses,
/// routes, holders) with each tunnel-style interface's verdict, and when facts change it judges
/// again only what the change touches.
///
/// Interface-scope rules (`FindingRule.Scope.interface`) are re-run for the interfaces a change
/// concerns: the link itself, the links that name it (a veth's peer, a device stacked on it, a
/// port of it), the devices a route leaves through, the names a holder scan changed for.
/// Snapshot-scope rules are re-run over the kept verdicts when an assessment is read, which costs
/// a pass over the routes and the verdicts, never a judgement of every interface.
///
/// The one-shot audit loads a snapshot and reads the assessment; the watcher loads one and then
/// applies events. What it promises: the assessment after any sequence of changes equals the
/// assessment of a snapshot loaded with the facts those changes lead to (the tests hold the two
/// equal). Namespaces are kept apart by their identity (`Snapshot.namespaceIdentity`).
public final class JudgingEngine {
    /// The thresholds judged against. Changing them judges every namespace again.
    public var policy: AuditPolicy {
        didSet { if policy != oldValue { for state in namespaces.values { state.markAllDirty() } } }
    }

    private var namespaces: [String: NamespaceFacts] = [:]

    public init(policy: AuditPolicy = AuditPolicy()) {
        self.policy = policy
    }

    /// The identities of the namespaces held, in no particular order.
    public var namespaceIdentities: [String] { Array(namespaces.keys) }

    /// Takes a snapshot as the whole truth about its namespace: whatever was known of that
    /// namespace before is replaced (a resynchronisation).
    public func load(_ snapshot: Snapshot) {
        namespaces[snapshot.namespaceIdentity] = NamespaceFacts(snapshot)
    }

    /// Takes a finished streamed snapshot as the whole truth about its namespace, as `load` takes
    /// a snapshot, with the verdicts its links were given as they arrived.
    public func load(_ streamed: StreamedSnapshot) {
        let snapshot = streamed.snapshot
        namespaces[snapshot.namespaceIdentity] = NamespaceFacts(snapshot, streamed: streamed)
    }

    /// Forgets a namespace (it is gone, or no longer watched).
    public func forget(namespace identity: String) {
        namespaces[identity] = nil
    }

    /// Applies changes to a namespace loaded before, in order, as of `time`, when the boot clock
    /// read `bootClock` (see `Snapshot.bootClock`; nil where none is read). Returns whether the
    /// facts changed: false when every change only repeated what was known (a link read again
    /// and found as it was), and false, applying nothing, when the namespace was never loaded.
    @discardableResult
    public func apply(_ changes: [FactChange], to identity: String, at time: Date, bootClock: TimeInterval? = nil) -> Bool {
        guard let state = namespaces[identity] else { return false }
        var changed = false
        for change in changes { changed = state.apply(change) || changed }
        state.setTime(time, bootClock: bootClock)
        return changed
    }

    /// Sets the findings a namespace's history adds (a `leak-growth` finding, judged from the
    /// count history), kept until set again or the namespace is loaded again.
    /// They are put in place among the kept findings, not joined with a copy of them all.
    public func setHistoryFindings(_ findings: [Finding], of identity: String) {
        namespaces[identity]?.historyFindings = findings
    }

    /// The findings a namespace's history adds, as last set.
    public func historyFindings(of identity: String) -> [Finding] {
        namespaces[identity]?.historyFindings ?? []
    }

    /// The assessment of a namespace as it stands: equal to `Heuristics.assess` of the snapshot
    /// its facts make up, with its history findings added (`Assessment.adding`). Nil for a
    /// namespace never loaded.
    public func assessment(of identity: String) -> Assessment? {
        guard let state = namespaces[identity] else { return nil }
        return state.assessment(policy: policy)
    }

    /// The snapshot a namespace's facts make up now; nil for a namespace never loaded.
    public func snapshot(of identity: String) -> Snapshot? {
        namespaces[identity]?.snapshot
    }

    /// What changed for observations since the namespace was loaded or this was last asked:
    /// the verdicts that appeared or whose state, holders, traffic counters or name changed (a
    /// reworded reason is not a change), and the interfaces (index and name) that no longer
    /// have a verdict under that key. Read it after `assessment(of:)`, which judges what is due.
    public func takeChanges(of identity: String) -> (changed: [AssessedInterface], removed: [(index: Int, name: String)]) {
        namespaces[identity]?.takeChanges() ?? ([], [])
    }

    /// Whether a verdict that changed since the changes were last taken (every one, after a
    /// load) satisfies `test`, as it is now; read after `assessment(of:)`. Takes nothing.
    public func changesInclude(of identity: String, where test: (AssessedInterface) -> Bool) -> Bool {
        namespaces[identity]?.changesInclude(where: test) ?? false
    }

    /// Whether an interface (index and name) whose verdict went since the changes were last taken
    /// satisfies `test`. Takes nothing.
    public func removalsInclude(of identity: String, where test: (Int, String) -> Bool) -> Bool {
        namespaces[identity]?.removalsInclude(where: test) ?? false
    }

    /// How many interfaces were judged since the namespace was loaded or this was last asked:
    /// what the tests and the watcher's log use to show that a change re-judged only what it touched.
    public func takeJudgedCount(of identity: String) -> Int {
        guard let state = namespaces[identity] else { return 0 }
        defer { state.judgedCount = 0 }
        return state.judgedCount
    }
}
