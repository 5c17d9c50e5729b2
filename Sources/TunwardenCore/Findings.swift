/// How serious a finding is. Ordered: info < warning < critical.
public enum Severity: String, Sendable, Comparable {
    case info, warning, critical

    var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// The verdict on one interface.
public enum InterfaceState: String, Sendable {
    /// Something uses it: a holder, an attached queue, or a kernel-owned tunnel.
    case live
    /// Provably unused: persistent, no queue attached, and a complete holder scan found nobody.
    case orphaned
    /// Looks abandoned but cannot be proven so (a veth whose peer is gone, carrier without a holder).
    case suspect
    /// Cannot be judged: holders could not be read, or a holder of the same name sits in another namespace.
    case unknown
}

/// The overall result of an audit, which is also the exit code: 0 ok, 1 warning, 2 critical, 3 unknown.
public enum AuditStatus: String, Decodable, Sendable {
    case ok, warning, critical, unknown

    public var exitCode: Int32 {
        switch self {
        case .ok: 0
        case .warning: 1
        case .critical: 2
        case .unknown: 3
        }
    }
}

/// One explainable judgement: which heuristic, how serious, about which interface, why (in a
/// sentence a person can check against `ip` output), and whether the reaper may act on it.
public struct Finding: JSONRecord, Sendable, Equatable {
    /// The heuristic's stable id (`orphaned-tun`, `dead-tunnel-route`, …).
    public var id: String
    public var severity: Severity
    /// The interface concerned; nil for findings about the whole system.
    public var ifname: String?
    public var reapable: Bool
    /// Why, in full: the prose, then the `commands` (if any) joined by "; ". JSON has it so.
    public var evidence: String
    /// The routes concerned, for route findings.
    public var routes: [Route]?
    /// Commands that act on the finding, each whole and as a person types it (`sudo route -n
    /// delete -net 1.0.0.0/8`), which `evidence` ends with. The table prints them one to a line,
    /// never wrapped, so that each can be copied from a terminal as it is.
    public var commands: [String]
    /// Whether the finding leaves the audit's answer unknown when nothing worse is found: it says
    /// the capture shows output it could not read (a routing table none of whose rows could be
    /// read), which may hold what would be critical. Not in the JSON, which has the status.
    public var leavesUnknown = false

    public init(id: String, severity: Severity, ifname: String?, reapable: Bool, evidence: String, routes: [Route]? = nil) {
        self.id = id
        self.severity = severity
        self.ifname = ifname
        self.reapable = reapable
        self.evidence = evidence
        self.routes = routes
        self.commands = []
    }

    /// A finding whose evidence is `prose` followed by `commands`: the prose ends where the
    /// commands are introduced ("Remove them with:"), and the evidence JSON gives is the prose and
    /// the commands joined by "; " after it.
    public init(id: String, severity: Severity, ifname: String?, reapable: Bool, prose: String, commands: [String], routes: [Route]? = nil) {
        self.init(id: id, severity: severity, ifname: ifname, reapable: reapable,
                  evidence: commands.isEmpty ? prose : prose + " " + commands.joined(separator: "; "), routes: routes)
        self.commands = commands
    }

    /// The evidence without the commands it ends with.
    public var prose: String {
        let tail = commands.isEmpty ? "" : " " + commands.joined(separator: "; ")
        return evidence.hasSuffix(tail) ? String(evidence.dropLast(tail.count)) : evidence
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("id", id)
            json.field("severity", severity.rawValue)
            json.field("ifname", ifname)
            json.field("reapable", reapable)
            json.field("evidence", evidence)
            json.field("routes", routes)
        }
    }
}

/// The ids of every finding tunwarden can raise, for documentation and tests.
public enum FindingID {
    public static let orphanedTun = "orphaned-tun"
    public static let deadTunnelRoute = "dead-tunnel-route"
    public static let deadTunnelHop = "dead-tunnel-hop"
    public static let tunnelCount = "tunnel-count"
    public static let holderUnknown = "holder-unknown"
    public static let useUnknown = "use-unknown"
    public static let holderElsewhere = "holder-in-other-netns"
    public static let carrierWithoutHolder = "carrier-without-holder"
    public static let stackedTun = "stacked-tun"
    public static let provisionedTun = "provisioned-tun"
    public static let vethPeerMissing = "veth-peer-missing"
    public static let vethPeerNamespaceEmpty = "veth-peer-netns-empty"
    public static let utunHoard = "utun-hoard"
    public static let splitDefault = "split-default"
    public static let orphanedFeth = "orphaned-feth"
    public static let captureMissing = "capture-missing"
    public static let leakGrowth = "leak-growth"
    public static let defaultViaTunnel = "default-via-tunnel"

    /// Every id, in the order `tunwarden audit --help` lists them: the registry's.
    public static var all: [String] { FindingRules.all.map(\.id) }
}

extension Finding {
    /// What orders findings in a report (`Heuristics.sort`): severity, most severe first, then id.
    /// Findings with equal keys keep the order they were raised in.
    struct ReportKey: Hashable, Comparable {
        let rank: Int
        let id: String

        init(_ finding: Finding) {
            rank = -finding.severity.rank
            id = finding.id
        }

        static func < (lhs: ReportKey, rhs: ReportKey) -> Bool { (lhs.rank, lhs.id) < (rhs.rank, rhs.id) }

        /// Where the findings with this key are in findings in report order (empty, where they
        /// would go, if there are none), by binary search.
        func positions(in findings: [Finding]) -> Range<Int> {
            let start = Heuristics.firstPosition(where: { !(ReportKey(findings[$0]) < self) }, count: findings.count)
            let end = start + Heuristics.firstPosition(where: { self < ReportKey(findings[start + $0]) }, count: findings.count - start)
            return start..<end
        }
    }
}
