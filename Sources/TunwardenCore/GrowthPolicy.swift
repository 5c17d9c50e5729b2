import Foundation

/// Leak detection from the count history: `leak-growth` when at least `growth` net new
/// tunnel-style interfaces appeared within `window`.
///
/// Once a count recorded within the window has reached `growth` net new, the finding stays while
/// more than half of `growth` remain: a host whose count hovers at the threshold (a container's
/// veth pair made and deleted every few seconds) keeps one finding, and one alert, rather than
/// raising and resolving it at every change. Net new is always counted from the window's start
/// as it is now: a sample that reached `growth` over today's baseline counts, even if a higher
/// baseline of its own time kept the finding from being raised then (the finding is judged from
/// the count history alone, so every run judges it alike).
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
        baselinePosition(counts, now: now).map { counts[$0] }
    }

    /// Where `baseline` is in `counts`.
    private func baselinePosition(_ counts: [CountSample], now: Date) -> Int? {
        let start = now.addingTimeInterval(-window)
        return counts.indices.last { counts[$0].time <= start } ?? counts.indices.first
    }

    /// How many net new the finding needs to stay once reached: more than this.
    public var kept: Int { growth / 2 }

    /// The finding for a namespace whose count is `current` now, given its samples (in time
    /// order, from the window's baseline on); nil when there is none.
    public func finding(_ counts: [CountSample], current: Int, now: Date) -> Finding? {
        guard let position = baselinePosition(counts, now: now) else { return nil }
        let base = counts[position]
        let grown = current - base.count
        // The most net new a sample since the baseline recorded.
        let peak = counts[(position + 1)...].lazy.map(\.count).max().map { $0 - base.count } ?? 0
        guard grown >= growth || (grown > kept && peak >= growth) else { return nil }
        let elapsed = now.timeIntervalSince(base.time)
        let span = elapsed >= 1 ? "in \(DurationText.format(elapsed))" : "within a second of the previous sample"
        let meaning = "at least \(growth) within \(DurationText.exact(window)) means something keeps creating them without cleaning up"
        let evidence = grown >= growth
            ? "\(grown) net new tunnel-style interfaces \(span) (\(base.count) → \(current)); \(meaning)."
            : "\(grown) net new tunnel-style interfaces \(span) (\(base.count) → \(current)), after \(peak) within the window; \(meaning), and the finding stays until \(kept) or fewer remain."
        return Finding(id: FindingID.leakGrowth, severity: .warning, ifname: nil, reapable: false, evidence: evidence)
    }
}
