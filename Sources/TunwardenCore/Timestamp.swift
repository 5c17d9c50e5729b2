import Foundation

/// ISO 8601 timestamps for reports and tunwarden's files (UTC, whole seconds).
///
/// A state file holds a few timestamps per interface, tens of thousands in all, so they are
/// written and read here from the calendar arithmetic (days from the civil date) instead of
/// through Foundation's format style, which costs several thousand instructions each. The text
/// is the one `Date.ISO8601FormatStyle()` writes and the `.iso8601` decoding strategy reads; the
/// tests compare the two.
public enum Timestamp {
    private static let style = Date.ISO8601FormatStyle()
    /// 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z. Foundation's calendar is Julian before
    /// 1582, which this arithmetic is not; dates outside the range go to the format style.
    private static let writable: ClosedRange<Int64> = 0 ... 253_402_300_799

    /// `2026-12-02T15:40:17Z`: UTC, with any fraction of a second dropped.
    public static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// How many bytes a timestamp of the years done here takes.
    static let length = 20

    /// Appends `format(date)`'s UTF-8 bytes: a report or a state file writes tens of thousands.
    static func append(_ date: Date, to bytes: inout [UInt8]) {
        let interval = date.timeIntervalSince1970.rounded(.down)
        guard interval.isFinite, let seconds = Int64(exactly: interval), writable.contains(seconds) else {
            bytes.append(contentsOf: style.format(date).utf8)
            return
        }
        let days = seconds / 86_400
        let time = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        func put(_ value: Int64) { bytes.append(digit(value)) }
        func put(_ separator: Unicode.Scalar) { bytes.append(UInt8(ascii: separator)) }
        put(year / 1000); put(year / 100); put(year / 10); put(year); put("-")
        put(month / 10); put(month); put("-"); put(day / 10); put(day); put("T")
        put(time / 36_000); put(time / 3600); put(":"); put(time % 3600 / 600); put(time % 3600 / 60); put(":")
        put(time % 60 / 10); put(time % 60); put("Z")
    }

    /// The date of exactly the text `format` writes (`YYYY-MM-DDTHH:MM:SSZ`, a real calendar date
    /// from 1970 on and a time of day); nil for anything else, including other ISO 8601 spellings.
    public static func parse<Text: RandomAccessCollection<UInt8>>(_ text: Text) -> Date? where Text.Index == Int {
        guard text.count == length else { return nil }
        func byte(_ offset: Int) -> UInt8 { text[text.startIndex + offset] }
        guard byte(4) == UInt8(ascii: "-"), byte(7) == UInt8(ascii: "-"), byte(10) == UInt8(ascii: "T"),
              byte(13) == UInt8(ascii: ":"), byte(16) == UInt8(ascii: ":"), byte(19) == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for offset in range {
                let byte = byte(offset)
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              year >= 1970, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60 else { return nil }
        let seconds = days(fromYear: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static func digit(_ value: Int64) -> UInt8 { UInt8(ascii: "0") + UInt8(value % 10) }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years, years from March).
    static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` days after 1970-01-01: the inverse of `days(fromYear:…)`.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * marchMonth + 2) / 5 + 1
        let month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
