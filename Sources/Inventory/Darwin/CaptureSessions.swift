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

    /// Notes the time a `date` (or `gdate`, `uptime`) of `command`'s line printed, and starts a
    /// new moment when it is more than `dateGapLimit` from the last one shown. With `leading`, the
    /// line's first command is weighed and its output is the first line of `range` (`date;
    /// ifconfig -a`, `date` alone, `date && netstat -rn`); else its last, after others (`ifconfig
    /// -a; date`), whose output is the last line of `range`. Either way the line's commands run
    /// within moments of each other: it is called before the output in `range` is read, so
    /// that the listings of the line are of the moment the time starts.
    static func readShownTime(_ text: CaptureText, in range: Range<Int>, of command: ShellCommand?, leading: Bool, into contents: inout CaptureContents) {
        guard let command, !range.isEmpty else { return }
        let parts = ShellCommand.segments(line: ShellCommand.line(of: command, in: text))
        guard let part = leading ? parts.first : parts.last, leading || parts.count > 1,
              let program = ShellCommand.program(of: part)?.name, ["date", "gdate", "uptime"].contains(program) else { return }
        var position = leading ? range.lowerBound : range.upperBound - 1
        var words = text.lineWords(at: position, within: range, limit: 12)
        // (A trailing time may stand above a prompt left empty at the paste's end.)
        let shows = { (words: [String]) in
            (program != "uptime" && (parseDate(words) ?? epochDate(words)) != nil) || shownClock(words, uptime: program == "uptime") != nil
        }
        if !leading, !shows(words) {
            position = text.lineStart(of: position, notBefore: range.lowerBound)
            guard position > range.lowerBound else { return }
            position -= 1
            words = text.lineWords(at: position, within: range, limit: 12)
        }
        let place = "\(text.file):\(text.line(position))"
        if program != "uptime", let shown = parseDate(words) ?? epochDate(words) {
            if let last = contents.lastShownDate, abs(shown.timeIntervalSince(last)) > dateGapLimit {
                contents.moment += 1
                contents.notes.append("\(place): `date` shows \(Int(abs(shown.timeIntervalSince(last)) / 60)) minutes since the last one: what follows is of another moment")
            }
            contents.lastShownDate = shown
        } else if let clock = shownClock(words, uptime: program == "uptime") {
            if let last = contents.lastShownClock, clock - last > Int(dateGapLimit) || clock < last {
                contents.moment += 1
                contents.notes.append("\(place): `\(program)` shows \(clock / 3600):\(String(format: "%02d", clock / 60 % 60)) after \(last / 3600):\(String(format: "%02d", last / 60 % 60)): what follows is of another moment")
            }
            contents.lastShownClock = clock
        }
    }

    /// The time `date +%s` prints: seconds since 1970, alone on its line.
    static func epochDate(_ words: [String]) -> Date? {
        guard words.count == 1, (9...11).contains(words[0].count), let seconds = Int(words[0]) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// The time of day, in seconds, that `date +%T` (or `+%H:%M`) prints alone on its line, or
    /// that `uptime` prints first (`17:02  up 3 days, 2:11, 2 users, …`).
    static func shownClock(_ words: [String], uptime: Bool) -> Int? {
        guard let first = words.first, uptime ? words.count > 1 && words[1] == "up" : words.count == 1 else { return nil }
        let parts = first.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count >= 2, parts.count <= 3, parts.allSatisfy({ $0 != nil }), first.first?.isNumber == true else { return nil }
        let values = parts.map { $0! }
        guard values[0] < 24, values[1] < 60, values.count == 2 || values[2] < 60 else { return nil }
        return values[0] * 3600 + values[1] * 60 + (values.count == 3 ? values[2] : 0)
    }

    static let monthNames: [String: Int] = [
        "jan": 1, "feb": 2, "mar": 3, "mär": 3, "mrz": 3, "apr": 4, "may": 5, "mai": 5, "jun": 6, "jul": 7, "aug": 8,
        "sep": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12, "dez": 12, "déc": 12, "fév": 2, "aoû": 8,
        // Spanish, Italian, Portuguese, Dutch, Polish and Russian, as macOS's `date` prints them.
        "ene": 1, "abr": 4, "ago": 8, "dic": 12, "gen": 1, "mag": 5, "giu": 6, "lug": 7, "set": 9, "ott": 10, "fev": 2, "out": 10,
        "mrt": 3, "mei": 5, "sty": 1, "lut": 2, "kwi": 4, "maj": 5, "cze": 6, "lip": 7, "sie": 8, "wrz": 9, "paź": 10, "lis": 11, "gru": 12,
        "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7, "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
    ]

    /// A date and time of day from the words of one line, or nil when they do not hold both:
    /// `date`'s default form (`Fri Dec  4 10:11:02 CET 2026`, in English, German, French, Spanish,
    /// Italian, Portuguese, Dutch, Polish, Russian, Chinese, Japanese or Korean), `-u`, `-R`, `-I`,
    /// `+%F %T`. The zone is taken where it is printed (`CET`,
    /// `+0100`, `UTC`); without one, both times are read in one.
    static func parseDate(_ words: [String]) -> Date? {
        var year: Int?, month: Int?, day: Int?, clock: [Int]?, zone: TimeZone?
        var cjkTime: [Int] = []
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
            // Japanese: 2026年12月 5日 09時02分11秒, or its parts; Korean: 2026년 12월  5일 17시 02분 11초.
            if trimmed.contains(where: { "年月日時时分秒년월일시분초".contains($0) }) {
                var number = ""
                for character in trimmed {
                    if character.isNumber { number.append(character); continue }
                    // (土曜日, "Saturday", ends in 日 too: only a number before it counts.)
                    switch character {
                    case "年", "년": year = Int(number) ?? year
                    case "月", "월": month = Int(number) ?? month
                    case "日", "일": day = Int(number) ?? day
                    case "時", "时", "分", "秒", "시", "분", "초": if let value = Int(number) { cjkTime.append(value) }
                    default: break
                    }
                    number = ""
                }
                // (Korean prints each part as a word of its own.)
                if cjkTime.count >= 2 { clock = Array(cjkTime.prefix(3)) + (cjkTime.count == 2 ? [0] : []) }
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
