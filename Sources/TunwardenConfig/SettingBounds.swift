import Foundation

/// The bounds of every number a setting takes, the same on the command line and in the file, so
/// nothing from outside reaches arithmetic that could overflow.
public enum SettingBounds {
    /// Counts of tunnel-style interfaces: `limit`, `warn` and `growth`.
    public static let count: ClosedRange<Int> = 1...1_000_000
    /// `coalesce`, in milliseconds.
    public static let coalesce: ClosedRange<Int> = 0...60_000
    /// `event-buffer`, in bytes.
    public static let eventBuffer: ClosedRange<Int> = 1024...(1 << 30)
    /// The shortest `min-age` (the longest of any duration is `DurationText.maximum`).
    public static let shortestMinimumAge: TimeInterval = 0
    /// The shortest `growth-window` and `stats-interval`.
    public static let shortestInterval: TimeInterval = 1
}
