import Foundation

/// A prefix put before every line of a capture by what carried it rather than by the tools that
/// printed it: a CI log's timestamp (GitHub Actions' `2024-12-05T10:02:11.1234567Z `, Jenkins'
/// `[10:02:11] `), `ts`'s `Dec 05 10:02:01 `, a chat log's `10:02 < jane> ` or `<jane> `, the
/// `NN:` of `grep -n`, or the line numbers of `less -N` and vim (or `N. `, numbered as an
/// ordered list). Behind it, an interface block's body lines no longer start their lines, and
/// each block would end after its header: the prefix is taken off, and the lines read as the
/// tools printed them.
struct LinePrefix: Equatable {
    /// The kinds of prefix, each told by its own shape.
    enum Shape: Hashable {
        /// A date and time (`2024-12-05T10:02:11.1234567Z`, `2024-12-05 10:02:11`), bare or in brackets.
        case isoTimestamp(bracketed: Bool)
        /// A time of day (`10:02:11`, `10:02`), bare or in brackets.
        case clock(bracketed: Bool)
        /// A month, day and time, as `ts` and syslog write them (`Dec 05 10:02:01`).
        case syslogTimestamp(bracketed: Bool)
        /// A chat nick (`<jane> `, irssi's `< jane> `, `<@jane> `), after a time or not.
        case nick(after: Int)
        /// `grep -n`'s line number and colon (`82:`; `82-` for a context line).
        case grepLineNumber
        /// A line number and a space, as `less -N` and vim's `:set number` show one (or a
        /// period and a space, as an ordered list numbers lines).
        case lineNumber

        /// What a note calls the prefix.
        var description: String {
            switch self {
            case .isoTimestamp: return "a timestamp (a CI log's)"
            case .clock: return "a time of day (a log's or `ts`'s)"
            case .syslogTimestamp: return "a date and time (`ts`'s or a log's)"
            case .nick(let after): return after == 0 ? "a chat nick" : "a time and a chat nick (a chat log's)"
            case .grepLineNumber: return "`grep -n`'s line number"
            case .lineNumber: return "a line number (`less -N`'s or an editor's)"
            }
        }
    }

    let shape: Shape
    /// The prefix as the first line that has it shows it, for a note.
    let sample: String
    /// How many lines it was taken off.
    let lines: Int
    /// The time each stamped line's prefix shows, in seconds, by the line's 1-based number: a day
    /// count times 86,400 plus the time of day where the stamp has a date (`2024-12-05T10:02:11Z`,
    /// `Dec 05 10:02:01`), the time of day alone where it has none (`[10:02:11]`, `10:02 < jane>`).
    /// Empty for the prefixes that hold no time (a nick, a line number).
    var stamps: [Int: Int] = [:]

    /// The note that says the prefix was taken off.
    var note: String { "every line starts with \(shape.description) ('\(sample)'): the lines are read without it (\(lines) lines)" }

    /// `text` without the prefix most of its lines carry, and that prefix; `text` itself and nil
    /// when no one shape of prefix starts four lines in five that have words (and three at least).
    /// Only lines with the prefix change, and no line goes: line numbers in notes stay the file's.
    static func strip(_ text: String) -> (text: String, prefix: LinePrefix?) {
        // A cheap look at the first lines first: most captures have no prefix at all.
        var sampled: [Shape: Int] = [:]
        var sampledLines = 0
        var index = text.utf8.startIndex
        while index < text.utf8.endIndex, sampledLines < 40 {
            let end = text.utf8[index...].firstIndex(of: 0x0A) ?? text.utf8.endIndex
            let bytes = Array(text.utf8[index..<end])
            if bytes.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                sampledLines += 1
                if let match = match(bytes) { sampled[match.shape, default: 0] += 1 }
            }
            index = end < text.utf8.endIndex ? text.utf8.index(after: end) : end
        }
        guard let candidate = sampled.max(by: { $0.value < $1.value }), candidate.value * 2 >= sampledLines, candidate.value >= 3 else {
            return (text, nil)
        }
        let shape = candidate.key
        // Split at the byte: a Character takes "\r\n" whole, and a saved Windows log or a
        // typescript would not split at all.
        let lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { Substring($0) }
        var matches: [(line: Int, length: Int, number: Int?)] = []
        var nonBlank = 0
        for (number, line) in lines.enumerated() {
            let bytes = Array(line.utf8)
            guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            nonBlank += 1
            if let match = match(bytes), match.shape == shape { matches.append((number, match.length, match.number)) }
        }
        switch shape {
        case .lineNumber:
            // Numbers that count the lines: each is its line's number plus one offset (a view
            // that starts further down the file). A column of pids is no such count.
            var offsets: [Int: Int] = [:]
            for match in matches { offsets[(match.number ?? 0) - match.line, default: 0] += 1 }
            guard let offset = offsets.max(by: { $0.value < $1.value })?.key else { return (text, nil) }
            matches = matches.filter { ($0.number ?? 0) - $0.line == offset }
        case .grepLineNumber:
            // grep's numbers rise from line to line, and at least one line goes on with a word
            // no IPv6 address starts with (a table of `2001:db8::/32` rows is no grep output).
            let numbers = matches.compactMap(\.number)
            guard zip(numbers, numbers.dropFirst()).allSatisfy({ $0 < $1 }) else { return (text, nil) }
            let wordy = matches.contains { match in
                let rest = lines[match.line].utf8.dropFirst(match.length)
                guard let first = rest.first else { return false }
                return !(first == UInt8(ascii: ":") || (0x30...0x39).contains(first) || (0x61...0x66).contains(first | 0x20))
            }
            guard wordy else { return (text, nil) }
        default:
            break
        }
        guard matches.count >= 3, matches.count * 5 >= nonBlank * 4 else { return (text, nil) }
        var stripped = lines.map { String($0) }
        for match in matches {
            var line = Substring(lines[match.line].utf8.dropFirst(match.length))
            // GitHub Actions shows a step's command after `##[group]Run `: the command line.
            if line.hasPrefix("##[group]Run ") { line = line.dropFirst("##[group]Run ".count) }
            stripped[match.line] = String(line)
        }
        let first = matches[0]
        let sample = String(decoding: lines[first.line].utf8.prefix(first.length), as: UTF8.self).trimmingCharacters(in: .whitespaces)
        var prefix = LinePrefix(shape: shape, sample: sample, lines: matches.count)
        for match in matches {
            if let time = time(Array(lines[match.line].utf8.prefix(match.length))) { prefix.stamps[match.line + 1] = time }
        }
        return (stripped.joined(separator: "\n"), prefix)
    }

    /// The prefix at the start of `line`: its shape, how many bytes it takes (with the one space
    /// after it), and the number it holds (for the line-number shapes).
    static func match(_ line: [UInt8]) -> (shape: Shape, length: Int, number: Int?)? {
        var at = 0
        var stamp: Shape?
        if let (shape, end) = timestamp(line, at: 0) {
            stamp = shape
            at = end
        }
        if let end = nick(line, at: at) {
            return (.nick(after: stamp == nil ? 0 : 1), end, nil)
        }
        if let stamp { return (stamp, at, nil) }
        // `82:…` of grep -n (no space before the number).
        var digitsEnd = 0
        while digitsEnd < line.count, digitsEnd < 8, isDigit(line[digitsEnd]) { digitsEnd += 1 }
        if digitsEnd > 0, digitsEnd < 8, digitsEnd < line.count, line[digitsEnd] == UInt8(ascii: ":") || line[digitsEnd] == UInt8(ascii: "-") {
            return (.grepLineNumber, digitsEnd + 1, Int(String(decoding: line[0..<digitsEnd], as: UTF8.self)))
        }
        // `     12 …` of less -N, `  12 …` of vim: right-aligned, then one space (or the line's end).
        // (Or a period and a space: `12. …`, lines numbered as an ordered list.)
        var start = 0
        while start < line.count, line[start] == 0x20 { start += 1 }
        var end = start
        while end < line.count, end - start < 8, isDigit(line[end]) { end += 1 }
        if end > start, end - start < 8, end + 1 < line.count, line[end] == UInt8(ascii: "."), line[end + 1] == 0x20 {
            return (.lineNumber, end + 2, Int(String(decoding: line[start..<end], as: UTF8.self)))
        }
        guard end > start, end - start < 8, end == line.count || line[end] == 0x20 || line[end] == 0x0D else { return nil }
        let number = Int(String(decoding: line[start..<end], as: UTF8.self))
        return (.lineNumber, end < line.count && line[end] == 0x20 ? end + 1 : end, number)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// Whether a byte is a lowercase hex digit.
    static func isHex(_ byte: UInt8) -> Bool { isDigit(byte) || (0x61...0x66).contains(byte) }

    /// A timestamp at `at`, bare or in brackets, and where it ends with the space after it.
    static func timestamp(_ line: [UInt8], at start: Int) -> (Shape, Int)? {
        let bracketed = start < line.count && line[start] == UInt8(ascii: "[")
        let at = bracketed ? start + 1 : start
        var found: (Shape, Int)?
        if let end = isoTimestamp(line, at: at) {
            found = (.isoTimestamp(bracketed: bracketed), end)
        } else if let end = syslogTimestamp(line, at: at) {
            found = (.syslogTimestamp(bracketed: bracketed), end)
        } else if let end = clock(line, at: at, seconds: false) {
            found = (.clock(bracketed: bracketed), end)
        }
        guard let (shape, stampEnd) = found else { return nil }
        var end = stampEnd
        if bracketed {
            guard end < line.count, line[end] == UInt8(ascii: "]") else { return nil }
            end += 1
        }
        // The stamp ends its line (a blank line of the log) or is followed by one space.
        if end == line.count || line[end] == 0x0D { return (shape, end) }
        guard line[end] == 0x20 else { return nil }
        end += 1
        // GitLab's raw job log puts the stream after the stamp: two hex digits, `O` or `E`, and
        // `+` on a line that goes on the last one (`2024-12-05T10:02:11.123456Z 00O `).
        if case .isoTimestamp(bracketed: false) = shape, end + 3 <= line.count, isHex(line[end]), isHex(line[end + 1]),
           line[end + 2] == UInt8(ascii: "O") || line[end + 2] == UInt8(ascii: "E") {
            var markerEnd = end + 3
            if markerEnd < line.count, line[markerEnd] == UInt8(ascii: "+") { markerEnd += 1 }
            if markerEnd == line.count || line[markerEnd] == 0x0D { return (shape, markerEnd) }
            if line[markerEnd] == 0x20 { return (shape, markerEnd + 1) }
        }
        return (shape, end)
    }

    /// `HH:MM`, `HH:MM:SS`, with a fraction of a second after the seconds: where it ends.
    static func clock(_ line: [UInt8], at start: Int, seconds: Bool) -> Int? {
        var at = start
        func digits(_ count: ClosedRange<Int>) -> Bool {
            var n = 0
            while at < line.count, n < count.upperBound, isDigit(line[at]) { at += 1; n += 1 }
            return count.contains(n)
        }
        guard digits(1...2), at < line.count, line[at] == UInt8(ascii: ":"), { at += 1; return true }(), digits(2...2) else { return nil }
        if at + 2 < line.count, line[at] == UInt8(ascii: ":"), isDigit(line[at + 1]), isDigit(line[at + 2]) {
            at += 3
            if at + 1 < line.count, line[at] == UInt8(ascii: ".") || line[at] == UInt8(ascii: ","), isDigit(line[at + 1]) {
                at += 1
                while at < line.count, isDigit(line[at]) { at += 1 }
            }
        } else if seconds {
            return nil
        }
        return at
    }

    /// `2024-12-05T10:02:11.1234567Z`, `2024-12-05 10:02:11`, with a zone (`Z`, `+01:00`) or none.
    static func isoTimestamp(_ line: [UInt8], at start: Int) -> Int? {
        let shape = Array("dddd-dd-dd".utf8)
        guard start + shape.count + 1 < line.count else { return nil }
        for (offset, expected) in shape.enumerated() {
            let byte = line[start + offset]
            guard expected == UInt8(ascii: "d") ? isDigit(byte) : byte == expected else { return nil }
        }
        let separator = line[start + shape.count]
        guard separator == UInt8(ascii: "T") || separator == 0x20, var at = clock(line, at: start + shape.count + 1, seconds: true) else { return nil }
        if at < line.count, line[at] == UInt8(ascii: "Z") {
            at += 1
        } else if at + 2 < line.count, line[at] == UInt8(ascii: "+") || line[at] == UInt8(ascii: "-"), isDigit(line[at + 1]), isDigit(line[at + 2]) {
            at += 3
            if at < line.count, line[at] == UInt8(ascii: ":") { at += 1 }
            while at < line.count, isDigit(line[at]) { at += 1 }
        }
        return at
    }

    /// The time a line's prefix shows, as `stamps` holds it; nil when it shows none.
    static func time(_ prefix: [UInt8]) -> Int? {
        let at = prefix.first == UInt8(ascii: "[") ? 1 : 0
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= prefix.count else { return nil }
            return Int(String(decoding: prefix[range], as: UTF8.self))
        }
        if isoTimestamp(prefix, at: at) != nil, let year = number(at..<(at + 4)), let month = number((at + 5)..<(at + 7)),
           let day = number((at + 8)..<(at + 10)), let clock = seconds(prefix, at: at + 11) {
            return dayNumber(year: year, month: month, day: day) * 86_400 + clock
        }
        if let clockEnd = syslogTimestamp(prefix, at: at) {
            let month = monthOrder.firstIndex(of: String(decoding: prefix[at..<(at + 3)], as: UTF8.self)) ?? 0
            var start = at + 4
            while start < prefix.count, prefix[start] == 0x20 { start += 1 }
            var end = start
            while end < prefix.count, isDigit(prefix[end]) { end += 1 }
            guard let day = number(start..<end), clockEnd > end, let clock = seconds(prefix, at: end + 1) else { return nil }
            // No year: within one capture, a later month is a later day (December to January aside).
            return (month * 31 + day) * 86_400 + clock
        }
        return seconds(prefix, at: at)
    }

    /// The seconds since midnight of the `HH:MM` or `HH:MM:SS` at `start`.
    static func seconds(_ line: [UInt8], at start: Int) -> Int? {
        guard let end = clock(line, at: start, seconds: false) else { return nil }
        let parts = String(decoding: line[start..<end], as: UTF8.self).split(whereSeparator: { $0 == "." || $0 == "," }).first?.split(separator: ":").compactMap { Int($0) } ?? []
        guard parts.count >= 2 else { return nil }
        return parts[0] * 3600 + parts[1] * 60 + (parts.count > 2 ? parts[2] : 0)
    }

    /// Days from a fixed origin to a date of the proleptic Gregorian calendar.
    static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let m = month <= 2 ? month + 9 : month - 3
        return 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + day
    }

    static let monthOrder = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static let months: Set<String> = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Dec 05 10:02:01`, `Dec  5 10:02:01`: where it ends.
    static func syslogTimestamp(_ line: [UInt8], at start: Int) -> Int? {
        guard start + 8 < line.count, months.contains(String(decoding: line[start..<(start + 3)], as: UTF8.self)), line[start + 3] == 0x20 else { return nil }
        var at = start + 4
        if line[at] == 0x20 { at += 1 }
        var digits = 0
        while at < line.count, digits < 2, isDigit(line[at]) { at += 1; digits += 1 }
        guard digits > 0, at < line.count, line[at] == 0x20 else { return nil }
        return clock(line, at: at + 1, seconds: true)
    }

    /// A chat nick at `at` (`<jane>`, `< jane>`, `<@jane>`) and the space after it: where they end.
    static func nick(_ line: [UInt8], at start: Int) -> Int? {
        guard start < line.count, line[start] == UInt8(ascii: "<") else { return nil }
        var at = start + 1
        if at < line.count, " @+%&~".utf8.contains(line[at]) { at += 1 }
        let nameStart = at
        while at < line.count, at - nameStart <= 32, ![0x20, 0x09, UInt8(ascii: "<"), UInt8(ascii: ">")].contains(line[at]) { at += 1 }
        guard at > nameStart, at - nameStart <= 32, at < line.count, line[at] == UInt8(ascii: ">") else { return nil }
        at += 1
        if at == line.count || line[at] == 0x0D { return at }
        return line[at] == 0x20 ? at + 1 : nil
    }
}
