import Foundation

/// One sample of the tunnel count.
public struct CountSample: Decodable, JSONRecord, Sendable, Equatable {
    public var time: Date
    public var count: Int

    public init(time: Date, count: Int) {
        self.time = time
        self.count = count
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("time", time)
            json.field("count", count)
        }
    }
}

/// An alert that was sent, kept so that `history` can show when alerts fired.
public struct AlertMoment: Decodable, JSONRecord, Sendable, Equatable {
    public var time: Date
    public var event: String
    public var status: AuditStatus

    public init(time: Date, event: String, status: AuditStatus) {
        self.time = time
        self.event = event
        self.status = status
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("time", time)
            json.field("event", event)
            json.field("status", status.rawValue)
        }
    }
}

/// What tunwarden remembers about one namespace as a whole: the tunnel count over time, what it
/// last alerted about (so an unchanged condition never alerts twice, across timer runs too), and
/// how many interfaces it has reaped.
public struct NamespaceHistory: Decodable, JSONRecord, Sendable, Equatable {
    /// Samples kept, oldest first; older ones are dropped.
    public static let maximumSamples = 2000
    /// Alert moments kept.
    public static let maximumAlerts = 200

    public var counts: [CountSample] = []
    public var alertedStatus: AuditStatus?
    public var alertedOrphans: [String] = []
    public var alerts: [AlertMoment] = []
    public var reapedTotal: Int = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case counts, alertedStatus = "alerted_status", alertedOrphans = "alerted_orphans", alerts, reapedTotal = "reaped_total"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        counts = try c.decodeIfPresent([CountSample].self, forKey: .counts) ?? []
        alertedStatus = try c.decodeIfPresent(AuditStatus.self, forKey: .alertedStatus)
        alertedOrphans = try c.decodeIfPresent([String].self, forKey: .alertedOrphans) ?? []
        alerts = try c.decodeIfPresent([AlertMoment].self, forKey: .alerts) ?? []
        reapedTotal = try c.decodeIfPresent(Int.self, forKey: .reapedTotal) ?? 0
    }

    /// A namespace's history in the state file.
    public func write(to json: inout JSONWriter) {
        json.object { json in writeMembers(to: &json) }
    }

    /// The history's members, into an object already open: `history --format json` writes them
    /// after who the namespace is.
    public func writeMembers(to json: inout JSONWriter) {
        json.field("counts", counts)
        json.field("alerted_status", alertedStatus?.rawValue)
        json.field("alerted_orphans", alertedOrphans)
        json.field("alerts", alerts)
        json.field("reaped_total", reapedTotal)
    }

    /// Room for a full history: the samples are most of it.
    public var jsonSizeHint: Int { 256 + counts.count * 48 + alerts.count * 80 + alertedOrphans.count * 20 }

    public mutating func addSample(_ sample: CountSample) {
        counts.append(sample)
        if counts.count > Self.maximumSamples { counts.removeFirst(counts.count - Self.maximumSamples) }
    }

    public mutating func addAlert(_ moment: AlertMoment) {
        alerts.append(moment)
        if alerts.count > Self.maximumAlerts { alerts.removeFirst(alerts.count - Self.maximumAlerts) }
    }
}

/// Decides whether a run alerts: only on a change of the overall status (including back to ok,
/// "resolved") or when an orphan appears that was not alerted before. An unchanged condition never
/// alerts again.
public enum AlertDecision {
    /// What `--alert-exec` reads on its standard input and `--alert-webhook` posts.
    public struct Alert: JSONRecord, Sendable, Equatable {
        /// "transition", "resolved" or "new-orphan".
        public var event: String
        public var status: AuditStatus
        public var previousStatus: AuditStatus
        public var newOrphans: [String]
        public var summary: String
        public var time: Date
        public var netns: String?
        public var host: String
        /// The findings that explain the alert, at most `AlertDecision.findingsLimit` (see
        /// `decide`), in report order.
        public var findings: [Finding]
        /// How many findings (info left out) there were, when some are not in `findings`; nil
        /// when all are.
        public var findingsTotal: Int?
        /// Whether nothing was alerted in this namespace before: `previousStatus` is then the ok
        /// that an empty history stands for, not a status any run reported. Not in the JSON.
        public var first = false

        public func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("event", event)
                json.field("status", status.rawValue)
                json.field("previous_status", previousStatus.rawValue)
                json.field("new_orphans", newOrphans)
                json.field("summary", summary)
                json.field("time", time)
                json.field("netns", netns)
                json.field("host", host)
                json.field("findings", findings)
                json.field("findings_total", findingsTotal)
            }
        }
    }

    /// The most findings an alert carries. A leaking host has thousands (one per orphan): every
    /// one of them in each alert made megabytes, sent to every sink (webhooks refuse them), and
    /// kept with each of the alerts the state keeps.
    public static let findingsLimit = 100

    /// The findings an alert carries, in report order: of those not about one interface and
    /// those about an orphan the alert is about (`fresh`) first, then of the rest, at most
    /// `findingsLimit` in all; and how many there were (info left out) when some are left out.
    static func chosen(_ findings: [Finding], fresh: [String]) -> (findings: [Finding], total: Int?) {
        let about = Set(fresh)
        var chosen = [Bool](repeating: false, count: findings.count)
        var total = 0, taken = 0
        for position in findings.indices where findings[position].severity != .info {
            total += 1
            guard taken < findingsLimit, findings[position].ifname.map(about.contains) ?? true else { continue }
            chosen[position] = true
            taken += 1
        }
        for position in findings.indices where taken < findingsLimit && !chosen[position] && findings[position].severity != .info {
            chosen[position] = true
            taken += 1
        }
        return (findings.indices.filter { chosen[$0] }.map { findings[$0] }, total > taken ? total : nil)
    }

    public static func decide(_ assessment: Assessment, history: NamespaceHistory, host: String) -> Alert? {
        // A set: with thousands of orphans, searching the list for each was quadratic.
        decide(assessment, history: history, host: host, orphans: orphanNames(assessment), alerted: Set(history.alertedOrphans))
    }

    /// The names of the assessment's orphans, in its order (read in place: an assessed interface
    /// is large, and a leaking host has thousands).
    public static func orphanNames(_ assessment: Assessment) -> [String] {
        var names: [String] = []
        for position in assessment.interfaces.indices where assessment.interfaces[position].state == .orphaned {
            names.append(assessment.interfaces[position].interface.name)
        }
        return names
    }

    /// `decide` with the orphans' names and those alerted before already at hand, for the
    /// assessment with `extra` findings added (history's, see `Assessment.adding`). The findings
    /// are joined only for an alert: most judgements decide on none, and joining copies thousands.
    public static func decide(_ assessment: Assessment, adding extra: [Finding] = [], history: NamespaceHistory, host: String,
                              orphans: [String], alerted: Set<String>) -> Alert? {
        let previous = history.alertedStatus ?? .ok
        let status = assessment.status(adding: extra)
        let fresh = orphans.filter { !alerted.contains($0) }
        let event: String
        if status != previous {
            event = status == .ok ? "resolved" : "transition"
        } else if !fresh.isEmpty {
            event = "new-orphan"
        } else {
            return nil
        }
        let judged = assessment.adding(extra)
        let (findings, total) = chosen(judged.findings, fresh: fresh)
        return Alert(event: event, status: status, previousStatus: previous, newOrphans: fresh,
                     summary: AuditTable.summaryLine(judged), time: judged.snapshot.takenAt,
                     netns: judged.snapshot.namespace, host: host,
                     findings: findings, findingsTotal: total, first: history.alertedStatus == nil)
    }

    /// The `resolved` alert of a namespace that was deleted while its status, as alerted, was
    /// `previous` (not ok): its interfaces went with it, and no later run can ever judge it again
    /// (a namespace made under its name is another one), so the incident is closed now.
    public static func namespaceDeleted(previous: AuditStatus, netns: String?, host: String, at time: Date) -> Alert {
        Alert(event: "resolved", status: .ok, previousStatus: previous, newOrphans: [],
              summary: "The namespace was deleted; its interfaces, the orphans among them, went with it",
              time: time, netns: netns, host: host, findings: [], findingsTotal: nil)
    }

    /// How a watcher damps improvements: a crash-looping daemon closes and re-attaches its
    /// persistent tun every few hundred milliseconds, and alerting each re-attach as "resolved"
    /// made every close a transition and its device a new orphan again (two alerts per restart).
    /// An improvement is alerted only once it has lasted `holdDown`; until then what was alerted
    /// stays remembered, so a relapse within it is no change. A worsening is never held. The
    /// one-shot audit runs an hour apart and holds nothing.
    public struct Hold: Sendable, Equatable {
        /// How long an improvement must last before it is alerted; 0 alerts it at once.
        public var holdDown: TimeInterval
        /// Since when an improvement has been held back; nil when none is.
        public var since: Date?

        public init(holdDown: TimeInterval, since: Date? = nil) {
            self.holdDown = holdDown
            self.since = since
        }
    }

    /// Whether an alert only tells of things getting better: a move to a less severe status with
    /// no orphan alerted for the first time. Moves to or from unknown are not ranked (an audit
    /// that could not judge is neither better nor worse than one that could) and are alerted at once.
    public static func isImprovement(_ alert: Alert) -> Bool {
        func rank(_ status: AuditStatus) -> Int? {
            switch status {
            case .ok: 0
            case .warning: 1
            case .critical: 2
            case .unknown: nil
            }
        }
        guard alert.newOrphans.isEmpty, let now = rank(alert.status), let before = rank(alert.previousStatus) else { return false }
        return now < before
    }

    /// Applies a watcher's hold-down to the alert `decide` made at `now`: the alert to make now,
    /// and since when an improvement is held back (nil when none is). An improvement seen for the
    /// first time starts the hold; one that has lasted `hold.holdDown` is alerted. Anything else
    /// (a worsening, a new orphan, or no alert at all because the status is back to the one
    /// alerted) ends the hold. While one is held, the caller must leave what was alerted
    /// remembered as it is, not `remember` the better state.
    public static func damp(_ alert: Alert?, now: Date, hold: Hold) -> (alert: Alert?, heldSince: Date?) {
        guard let alert, hold.holdDown > 0, isImprovement(alert) else { return (alert, nil) }
        let since = hold.since ?? now
        return now.timeIntervalSince(since) >= hold.holdDown ? (alert, nil) : (nil, since)
    }

    /// Remembers what was alerted (or, with no alert, that the condition is unchanged).
    public static func remember(_ assessment: Assessment, alert: Alert?, in history: inout NamespaceHistory) {
        history.alertedStatus = assessment.status
        history.alertedOrphans = assessment.interfaces.filter { $0.state == .orphaned }.map(\.interface.name)
        if let alert { history.addAlert(AlertMoment(time: alert.time, event: alert.event, status: alert.status)) }
    }
}

/// Prometheus textfile-collector metrics for one assessment.
public enum TextfileMetrics {
    public static func render(_ assessment: Assessment, history: NamespaceHistory?, now: Date) -> String {
        let netns = assessment.snapshot.namespace.map { ",netns=\"\(escape($0))\"" } ?? ""
        let only = assessment.snapshot.namespace.map { "{netns=\"\(escape($0))\"}" } ?? ""
        var text = ""
        text += "# HELP tunwarden_interfaces Tunnel-style interfaces by kind and state.\n# TYPE tunwarden_interfaces gauge\n"
        // Counted as the verdicts were (a watcher renders this every second of a busy spell, and
        // a walk over thousands of verdicts read megabytes); put in the order of their
        // "kind|state" text.
        let byKindState = assessment.kindStateCounts.map { ("\($0.kind.rawValue)|\($0.state.rawValue)", $0.count) }
        for (key, count) in byKindState.sorted(by: { $0.0 < $1.0 }) {
            let parts = key.split(separator: "|")
            text += "tunwarden_interfaces{kind=\"\(parts[0])\",state=\"\(parts[1])\"\(netns)} \(count)\n"
        }
        text += "# HELP tunwarden_findings Findings by id and severity.\n# TYPE tunwarden_findings gauge\n"
        // Findings come sorted by severity and id: each key is one run.
        let byFinding = countRuns(assessment.findings.count) { position in
            IDSeverity(id: assessment.findings[position].id, severity: assessment.findings[position].severity)
        }
        for (key, count) in byFinding.map({ ("\($0.key.id)|\($0.key.severity.rawValue)", $0.value) }).sorted(by: { $0.0 < $1.0 }) {
            let parts = key.split(separator: "|")
            text += "tunwarden_findings{id=\"\(parts[0])\",severity=\"\(parts[1])\"\(netns)} \(count)\n"
        }
        text += "# HELP tunwarden_tunnel_limit Tunnel-style interfaces at which the count is critical.\n# TYPE tunwarden_tunnel_limit gauge\n"
        text += "tunwarden_tunnel_limit\(only) \(assessment.policy.limit)\n"
        text += "# HELP tunwarden_tunnel_warn Tunnel-style interfaces from which the count is a warning.\n# TYPE tunwarden_tunnel_warn gauge\n"
        text += "tunwarden_tunnel_warn\(only) \(assessment.policy.effectiveWarn)\n"
        text += "# HELP tunwarden_status Overall status: 0 ok, 1 warning, 2 critical, 3 unknown.\n# TYPE tunwarden_status gauge\n"
        text += "tunwarden_status\(only) \(assessment.status.exitCode)\n"
        text += "# HELP tunwarden_reaped_total Interfaces tunwarden has deleted.\n# TYPE tunwarden_reaped_total counter\n"
        text += "tunwarden_reaped_total\(only) \(history?.reapedTotal ?? 0)\n"
        text += "# HELP tunwarden_last_run_timestamp_seconds When tunwarden last judged this namespace.\n# TYPE tunwarden_last_run_timestamp_seconds gauge\n"
        text += "tunwarden_last_run_timestamp_seconds\(only) \(Int(now.timeIntervalSince1970))\n"
        return text
    }

    /// How many of the positions `0..<count` have each key. Neighbours mostly share a key (a
    /// watcher renders this over every interface and finding), so a run of one key is counted
    /// before it is hashed, once.
    private static func countRuns<Key: Hashable>(_ count: Int, key: (Int) -> Key) -> [Key: Int] {
        var counts: [Key: Int] = [:]
        var run: (key: Key, count: Int)?
        for position in 0..<count {
            let next = key(position)
            if let current = run, current.key == next {
                run?.count += 1
            } else {
                if let current = run { counts[current.key, default: 0] += current.count }
                run = (next, 1)
            }
        }
        if let current = run { counts[current.key, default: 0] += current.count }
        return counts
    }

    private struct IDSeverity: Hashable {
        let id: String
        let severity: Severity
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// The tunnel count over time as a terminal sparkline.
public enum Sparkline {
    static let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// At most `width` characters: the samples are split into that many buckets, each showing its maximum.
    /// A series that never changes is drawn at mid height (all the lowest bar only when it is all
    /// zeros): the lowest bar alone reads as "none", which six tunnels throughout are not.
    public static func render(_ values: [Int], width: Int = 60) -> String {
        guard let low = values.min(), let high = values.max(), !values.isEmpty else { return "" }
        let buckets = min(width, values.count)
        var text = ""
        for b in 0..<buckets {
            let slice = values[(values.count * b / buckets)..<max(values.count * (b + 1) / buckets, values.count * b / buckets + 1)]
            let value = slice.max() ?? low
            let level = high == low ? (high == 0 ? 0 : bars.count / 2 - 1) : (value - low) * (bars.count - 1) / (high - low)
            text.append(bars[level])
        }
        return text
    }
}
