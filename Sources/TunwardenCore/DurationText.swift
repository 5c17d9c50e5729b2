import Foundation

/// Short human durations: "42s", "15m", "3h", "2d 4h" (rounded down to the two largest units,
/// for ages shown), or said in full (`exact`).
public enum DurationText {
    /// The longest duration tunwarden takes anywhere: 100 years of 365 days. Beyond it a grace
    /// period or a window means nothing, and the arithmetic on dates and whole seconds stays exact.
    public static let maximum: TimeInterval = 36_500 * 86_400

    public static func format(_ seconds: TimeInterval) -> String {
        // Int(exactly:) refuses what does not fit (and NaN); those read as "as long as can be" or 0.
        let total = max(0, Int(exactly: seconds.rounded(.down)) ?? (seconds > 0 ? Int.max : 0))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m" }
        if total < 86400 {
            let minutes = (total % 3600) / 60
            return minutes == 0 ? "\(total / 3600)h" : "\(total / 3600)h \(minutes)m"
        }
        let hours = (total % 86400) / 3600
        return hours == 0 ? "\(total / 86400)d" : "\(total / 86400)d \(hours)h"
    }

    /// A duration said in full, every unit down to the second: "1m 30s", "1d 23h 59m", "2h 5s".
    /// For what was set (a grace period, a window) and what is left of it, which `format`
    /// would round down: `--min-age 90s` is not "1m". Rounded to the nearest second.
    public static func exact(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(exactly: seconds.rounded()) ?? (seconds > 0 ? Int.max : 0))
        guard total > 0 else { return "0s" }
        let parts = [(total / 86400, "d"), (total % 86400 / 3600, "h"), (total % 3600 / 60, "m"), (total % 60, "s")]
        return parts.filter { $0.0 > 0 }.map { "\($0.0)\($0.1)" }.joined(separator: " ")
    }

    /// Parses "0", "90s", "15m", "2h", "1d", "1.5h"; nil for anything else, including a negative
    /// number, hexadecimal or an exponent, a number other than 0 without a unit, and anything longer than `maximum`.
    public static func parse(_ text: String) -> TimeInterval? {
        try? checked(text)
    }

    /// The duration `text` spells, at least `minimum` and at most `maximum`; otherwise an error
    /// saying which of those it is not. Only 0 may be written without a unit: a reader takes
    /// `--min-age 15` for 15 minutes, the unit of the default, so reading it as 15 seconds would
    /// quietly shorten a safety margin sixtyfold.
    public static func checked(_ text: String, minimum: TimeInterval = 0) throws(DurationError) -> TimeInterval {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { throw .notADuration(text) }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let (number, unit): (String, Double?) = units[last].map { (String(trimmed.dropLast()), $0) } ?? (trimmed, nil)
        // Decimal digits with at most one point: Double would also take `0x10` and `1e3`, which
        // nobody means as a grace period, and a typo there would pass unseen.
        let digits = number.utf8.filter { $0 != UInt8(ascii: ".") }
        guard !digits.isEmpty, number.utf8.count - digits.count <= 1, digits.allSatisfy({ (0x30...0x39).contains($0) }),
              let value = Double(number), value.isFinite else { throw .notADuration(text) }
        guard unit != nil || value == 0 else { throw .missingUnit(text) }
        let seconds = value * (unit ?? 1)
        guard seconds <= maximum else { throw .tooLong(text) }
        guard seconds >= minimum else { throw .tooShort(text, minimum: minimum) }
        return seconds
    }
}
