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
            case "Last": if next == "login:" { return true }
            case "[Process": if next == "completed]" { return true }
            case "Script": if next == "started" || next == "done" { return true }
            case "Saving": if next?.hasPrefix("session") == true { return true }
            case "logout": if next == nil { return true }
            default: if word.hasPrefix("[Restored") || (word == "Restored" && next?.hasPrefix("session") == true) { return true }
            }
        }
        return false
    }

    /// The time a `date` command printed at the start of `range`, in its default form (`Fri Dec  4
    /// 10:11:02 CET 2026`, the zone optional), read as if in one zone: only the gap between two
    /// of them matters.
    static func shownDate(_ text: CaptureText, in range: Range<Int>) -> Date? {
        let words = range.prefix(6).map { String(text[$0]) }
        guard words.count >= 5 else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: words[1]), let day = Int(words[2]) else { return nil }
        let clock = words[3].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, let year = Int(words[4]) ?? (words.count > 5 ? Int(words[5]) : nil) else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month + 1, day)
        (components.hour, components.minute, components.second) = (clock[0], clock[1], clock[2])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)
    }
}
