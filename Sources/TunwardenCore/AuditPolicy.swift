import Foundation

/// The thresholds an audit judges against.
public struct AuditPolicy: Sendable, Equatable {
    /// Tunnel-style interfaces at which the count becomes critical. 95 is where macOS users report
    /// trouble (anecdotal; no kernel constant says so), and a sane ceiling elsewhere too.
    public var limit: Int
    /// Count from which the count is a warning; nil means 80 % of the limit, rounded up.
    public var warnAt: Int?

    /// Processes that own feth pairs; a feth with none of them running is orphaned.
    public var fethOwners: [String]
    /// utun interfaces one process must hold, most of them idle, to be a hoard.
    public var hoardThreshold: Int

    public init(limit: Int = 95, warnAt: Int? = nil, fethOwners: [String] = ["zerotier-one"], hoardThreshold: Int = 3) {
        self.limit = limit
        self.warnAt = warnAt
        self.fethOwners = fethOwners
        self.hoardThreshold = hoardThreshold
    }

    /// `limit - limit / 5` is 80 % rounded up, for every limit, without multiplying it first.
    public var effectiveWarn: Int { warnAt ?? limit - limit / 5 }
}
