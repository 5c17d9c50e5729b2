import Foundation
import Testing
import TunwardenCore

/// Numbers from outside (options, the configuration file) are bounded where they are read, and
/// the helpers that turn them into text or thresholds never trap on any value.
@Suite struct NumberBoundsTests {
    @Test func durationsLongerThanAHundredYearsAreRefused() {
        #expect(DurationText.maximum == 3_153_600_000)
        #expect(DurationText.parse("36500d") == DurationText.maximum)
        for text in ["36501d", "1e308d", "99999999999999999999d", "1e400", "inf", "nan", "-0.5s", ""] {
            #expect(DurationText.parse(text) == nil, "accepted '\(text)'")
        }
        #expect(throws: DurationError.tooLong("99999999999999999999d")) { try DurationText.checked("99999999999999999999d") }
        #expect(throws: DurationError.notADuration("1e308d")) { try DurationText.checked("1e308d") }
        #expect(throws: DurationError.notADuration("nan")) { try DurationText.checked("nan") }
        #expect(throws: DurationError.tooShort("0", minimum: 1)) { try DurationText.checked("0", minimum: 1) }
        #expect(DurationError.tooLong("1e308d").description == "must be at most 36500d (100 years); got '1e308d'")
    }

    /// Only decimal digits with at most one point are read: `0x10m` is not 16 minutes and
    /// `1e3s` not 1,000 seconds, as Double alone would read them.
    @Test func onlyDecimalNumbersAreDurations() {
        for text in ["0x10m", "0x1h", "1e3s", "1E1h", "1.5.5m", ".m", "+5m", "5 m", "٣m", "1_000s", "0x0"] {
            #expect(DurationText.parse(text) == nil, "accepted '\(text)'")
        }
        #expect(DurationText.parse("1.5h") == 5400)
        #expect(DurationText.parse(".5m") == 30)
        #expect(DurationText.parse("90s") == 90)
        #expect(DurationText.parse(" 15m ") == 900)
        #expect(DurationText.parse("0") == 0)
    }

    @Test func formattingAnyDurationNeverTraps() {
        #expect(DurationText.format(.infinity) == "\(Int.max / 86400)d \(Int.max % 86400 / 3600)h")
        #expect(DurationText.format(1e30) == DurationText.format(.infinity))
        #expect(DurationText.format(-.infinity) == "0s")
        #expect(DurationText.format(-1e30) == "0s")
        #expect(DurationText.format(.nan) == "0s")
        #expect(DurationText.format(DurationText.maximum) == "36500d")
    }

    /// A duration set, or what is left of one, is said whole, never rounded down to its largest
    /// units: `--min-age 90s` is "1m 30s", not "1m".
    @Test func aDurationSaidExactlyKeepsEveryUnit() {
        #expect(DurationText.exact(90) == "1m 30s")
        #expect(DurationText.exact(110) == "1m 50s")
        #expect(DurationText.exact(900) == "15m")
        #expect(DurationText.exact(86400 + 23 * 3600 + 59 * 60) == "1d 23h 59m")
        #expect(DurationText.exact(7205) == "2h 5s")
        #expect(DurationText.exact(0.4) == "0s" && DurationText.exact(59.6) == "1m")
        #expect(DurationText.exact(.nan) == "0s" && DurationText.exact(-5) == "0s")
        #expect(DurationText.exact(DurationText.maximum) == "36500d")
        #expect(!DurationText.exact(.infinity).isEmpty)
    }

    @Test func theDefaultWarningIsEightyPercentRoundedUpForEveryLimit() {
        for limit in 1...1000 {
            #expect(AuditPolicy(limit: limit).effectiveWarn == Int((Double(limit) * 0.8).rounded(.up)), "limit \(limit)")
        }
        #expect(AuditPolicy(limit: Int.max).effectiveWarn == Int.max - Int.max / 5)
    }
}
