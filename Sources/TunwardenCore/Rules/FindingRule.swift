import Foundation

/// One kind of finding, as the registry declares it: its stable id, how serious it is, whether
/// and how the reaper may act on it, what it looks at, and what it means in one line. The audit's
/// `--help`, the README's findings table and the man page name exactly these (a test checks), and
/// the reap plan asks a finding's rule what the reaper may do.
public struct FindingRule: Sendable, Equatable {
    /// What a rule judges: one interface (with its holders and routes), the whole snapshot, or
    /// tunwarden's history of it.
    public enum Scope: String, Sendable {
        case interface, snapshot, history
    }

    /// What the reaper does for a reapable finding of this rule.
    public enum Reap: String, Sendable {
        /// Deletes the interface (a tun/tap, a feth).
        case deleteInterface
        /// Removes the finding's routes; the interface stays (a macOS utun cannot be destroyed).
        case removeRoutes
    }

    public let id: String
    /// Its severity, or how the severity is chosen, in words.
    public let severity: String
    /// What the reaper may do; nil for a finding that is never reaped.
    public let reap: Reap?
    public let scope: Scope
    /// What it means, in one line.
    public let summary: String
}

/// The registry of rules, one family per file (`TunRules`, `VethRules`, `RouteRules`, `MacRules`,
/// `CountRules`): adding a finding is adding its rule there, next to the code that raises it.
public enum FindingRules {
    /// Every rule, in the order `tunwarden audit --help` lists them.
    public static let all: [FindingRule] = {
        let linux: [FindingRule] = Array(tun.prefix(1)) + Array(routes.prefix(3)) + Array(whole.prefix(4)) + Array(tun.dropFirst()) + tunKept + veth
        let mac: [FindingRule] = Self.mac + Array(routes.dropFirst(3)) + Array(whole.dropFirst(4))
        return linux + mac
    }()

    /// The rule of a finding id.
    public static func rule(_ id: String) -> FindingRule? { all.first { $0.id == id } }
}
