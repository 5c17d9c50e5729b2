import Foundation

/// What in a transcript says that time passed between two of its commands, however few commands
/// ran: a terminal session that ended and another that began (a day later, as like as not), or
/// two `date` outputs far apart. Listings on either side of it are of different moments (see
/// `CaptureContents.moment`): a process list from yesterday says nothing of the owner of a pair
/// listed today, which may have been started from a menu since, with no command at all.
extension CaptureReader {
    /// Two `date` outputs further apart than this are of different moments.
    static let dateGapLimit: TimeInterval = 10 * 60

    /// Whether a line in `range` marks a session's end or start: the terminal's `Last login:`
    /// banner, `[Process completed]`, the shell's `logout`, `Saving session...`, `[Restored …]`,
    /// `script`'s `Script started on …` and `Script done on …`.
    static func breaksSession(_ text: CaptureText, in range: Range<Int>) -> Bool {
        for position in range where text.startsLine(position) {
            let word = text[position]
            let next = position + 1 < range.upperBound && text.line(position + 1) == text.line(position) ? text[position + 1] : nil
            switch word {
            case "Last": if next == "login:" || next == "failed" { return true }
            case "Session": if next?.hasPrefix("ended") == true || next?.hasPrefix("closed") == true || next?.hasPrefix("restored") == true { return true }
            case "[Process": if next == "completed]" { return true }
            case "Script": if next == "started" || next == "done" { return true }
            case "Saving": if next?.hasPrefix("session") == true { return true }
            case "logout": if next == nil { return true }
            default: if word.hasPrefix("[Restored") || (word == "Restored" && next?.hasPrefix("session") == true) { return true }
            }
        }
        return false
    }

    /// The time a `date` command printed at the start of `range`: its default form (`Fri Dec  4
    /// 10:11:02 CET 2026`, in English, German, French, Chinese or Japanese), `-u`, `-R`, `-I`, `+%F %T`. The zone is
    /// taken where it is printed (`CET`, `+0100`, `UTC`); without one, both times are read in one.
    static func shownDate(_ text: CaptureText, in range: Range<Int>) -> Date? {
        guard !range.isEmpty else { return nil }
        let line = text.line(range.lowerBound)
        var words: [String] = []
        for position in range {
            guard text.line(position) == line, words.count < 10 else { break }
            words.append(String(text[position]))
        }
        return parseDate(words)
    }

    static let monthNames: [String: Int] = [
        "jan": 1, "feb": 2, "mar": 3, "mär": 3, "mrz": 3, "apr": 4, "may": 5, "mai": 5, "jun": 6, "jul": 7, "aug": 8,
        "sep": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12, "dez": 12, "déc": 12, "fév": 2, "aoû": 8,
    ]

    /// A date and time of day from the words of one line, or nil when they do not hold both.
    static func parseDate(_ words: [String]) -> Date? {
        var year: Int?, month: Int?, day: Int?, clock: [Int]?, zone: TimeZone?
        func readClock(_ word: Substring) {
            let parts = word.split(separator: ":").map { Int($0) }
            if parts.count >= 2, parts.count <= 3, parts.allSatisfy({ $0 != nil }) { clock = parts.map { $0! } + (parts.count == 2 ? [0] : []) }
        }
        func readOffset(_ word: Substring) {
            guard let sign = word.first, sign == "+" || sign == "-" else { return }
            let digits = word.dropFirst().filter(\.isNumber)
            // `+0100`, `+01:00`, and the two digits macOS prints for zones without a name (`+03`).
            guard digits.count == 4 || digits.count == 2, let value = Int(digits) else { return }
            let seconds = digits.count == 2 ? value * 3600 : (value / 100) * 3600 + (value % 100) * 60
            zone = TimeZone(secondsFromGMT: (sign == "-" ? -1 : 1) * seconds)
        }
        for word in words {
            let trimmed = word.trimmingCharacters(in: CharacterSet(charactersIn: ",."))
            // ISO 8601: 2026-12-05, 2026-12-05T09:02:11+01:00
            let iso = trimmed.split(separator: "T", maxSplits: 1)
            let dateParts = iso[0].split(separator: "-").map { Int($0) }
            if dateParts.count == 3, dateParts.allSatisfy({ $0 != nil }), iso[0].count == 10 {
                (year, month, day) = (dateParts[0], dateParts[1], dateParts[2])
                if iso.count == 2 {
                    let rest = iso[1]
                    let cut = rest.firstIndex { $0 == "+" || $0 == "-" || $0 == "Z" } ?? rest.endIndex
                    readClock(rest[..<cut])
                    if rest[cut...].first == "Z" { zone = TimeZone(identifier: "UTC") } else { readOffset(rest[cut...]) }
                }
                continue
            }
            if trimmed.contains(":"), trimmed.first?.isNumber == true { readClock(Substring(trimmed)); continue }
            if trimmed.hasPrefix("+") || (trimmed.hasPrefix("-") && (trimmed.count == 5 || trimmed.count == 3 || trimmed.count == 6)) {
                readOffset(Substring(trimmed))
                continue
            }
            // Japanese: 2026年12月 5日 09時02分11秒, or its parts.
            if trimmed.contains(where: { "年月日時时分秒".contains($0) }) {
                var number = ""
                var time: [Int] = []
                for character in trimmed {
                    if character.isNumber { number.append(character); continue }
                    // (土曜日, "Saturday", ends in 日 too: only a number before it counts.)
                    switch character {
                    case "年": year = Int(number) ?? year
                    case "月": month = Int(number) ?? month
                    case "日": day = Int(number) ?? day
                    case "時", "时", "分", "秒": if let value = Int(number) { time.append(value) }
                    default: break
                    }
                    number = ""
                }
                if time.count >= 2 { clock = time + (time.count == 2 ? [0] : []) }
                continue
            }
            if let value = Int(trimmed) {
                if trimmed.count == 4 { year = value } else if trimmed.count <= 2, day == nil { day = value }
                continue
            }
            // French first (juin and juil share their first three letters), then by three letters.
            let frenchMonths = ["janv": 1, "févr": 2, "mars": 3, "avr": 4, "mai": 5, "juin": 6, "juil": 7, "août": 8, "sept": 9, "oct": 10, "nov": 11, "déc": 12]
            if let named = frenchMonths[trimmed.lowercased()] { month = named; continue }
            if trimmed.count >= 3, let named = monthNames[String(trimmed.prefix(3)).lowercased()] { month = named; continue }
            if trimmed.count >= 3, trimmed.count <= 5, trimmed.allSatisfy({ $0.isUppercase }), let named = TimeZone(abbreviation: trimmed) { zone = named }
        }
        guard let year, let month, let day, let clock else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        (components.hour, components.minute, components.second) = (clock[0], clock[1], clock[2])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone ?? TimeZone(identifier: "UTC")!
        return calendar.date(from: components)
    }

    /// The time of day a prompt shows (`[09:02:11]`, `(09:02)`, `[11:55 PM]`, `09:02:11 user@host`),
    /// in seconds.
    static func promptClock(_ words: [String]) -> Int? {
        for (position, word) in words.enumerated() {
            // (Glued to the prompt's character too: bash's `\u \t$`, fish's `~ 17:02:11>`.)
            var bare = word.trimmingCharacters(in: CharacterSet(charactersIn: "[]()<>{}$%#"))
            // A 12-hour clock: `11:55 PM`, `11:55PM`.
            var half: String?
            for marker in ["AM", "PM", "am", "pm"] where bare.hasSuffix(marker) {
                half = marker.uppercased()
                bare = String(bare.dropLast(2))
            }
            if half == nil, position + 1 < words.count {
                let next = words[position + 1].trimmingCharacters(in: CharacterSet(charactersIn: "[]()<>{}")).uppercased()
                if next == "AM" || next == "PM" { half = next }
            }
            let parts = bare.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count >= 2, parts.count <= 3, parts.allSatisfy({ $0 != nil }), bare.first?.isNumber == true else { continue }
            var values = parts.map { $0! }
            guard values[0] < 24, values[1] < 60 else { continue }
            if let half, values[0] <= 12 { values[0] = values[0] % 12 + (half == "PM" ? 12 : 0) }
            return values[0] * 3600 + values[1] * 60 + (values.count == 3 ? values[2] : 0)
        }
        return nil
    }
}
