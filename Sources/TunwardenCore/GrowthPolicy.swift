import Foundation

/// Leak detection from the count history: `leak-growth` when at least `growth` net new
/// tunnel-style interfaces appeared within `window`.
public struct GrowthPolicy: Sendable, Equatable {
    public var growth: Int
    public var window: TimeInterval

    public init(growth: Int = 5, window: TimeInterval = 3600) {
        self.growth = growth
        self.window = window
    }

    /// The count at the start of the window: the last sample at or before it, or the oldest one
    /// when the history is shorter than the window.
    public func baseline(_ counts: [CountSample], now: Date) -> CountSample? {
        let start = now.addingTimeInterval(-window)
        return counts.last { $0.time <= start } ?? counts.first
    }

    public func finding(_ counts: [CountSample], current: Int, now: Date) -> Finding? {
        guard let base = baseline(counts, now: now) else { return nil }
        let grown = current - base.count
        guard grown >= growth else { return nil }
        let elapsed = now.timeIntervalSince(base.time)
        let span = elapsed >= 1 ? "in \(DurationText.format(elapsed))" : "within a second of the previous sample"
        return Finding(
            id: FindingID.leakGrowth, severity: .warning, ifname: nil, reapable: false,
            evidence: "\(grown) net new tunnel-style interfaces \(span) (\(base.count) → \(current)); at least \(growth) within \(DurationText.format(window)) means something keeps creating them without cleaning up."
        )
    }
}
