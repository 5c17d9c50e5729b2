import Foundation
import TunwardenCore

/// The columns lsof prints between PID and USER, and how a row's PID and COMMAND are found with
/// them.
///
/// lsof(8) prints `COMMAND PID USER FD TYPE …` by default; `-R` adds a PPID column and `-g` a
/// PGID column (in that order, print.c), both right after PID, and on systems with tasks `-K`
/// adds TID (empty on a process's own rows) and TASKCMD. COMMAND itself may hold spaces (`+c 0`,
/// or `OpenVPN C` at the default nine characters). A row is therefore read from both ends: USER
/// is the word before FD, FD the word before TYPE, and PID the word before the middle columns;
/// COMMAND is every word from the row's start up to PID. Which middle columns there are comes
/// from the listing's header, or, for rows without one (`| grep utun_control`), from the lsof
/// command line. When neither says, a row is read only when its words allow a single reading.
enum LsofIdColumns: Equatable {
    /// These columns, each one number on every row (`PPID`, `PGID`; none for a plain lsof).
    case named([String])
    /// Columns whose words cannot be counted on (`TID`, empty on a process's own rows; `TASKCMD`
    /// with spaces; a column tunwarden does not know): no row is lined up with them.
    case unmappable([String])
    /// Neither a header nor a command line says which columns there are.
    case unknown

    /// The middle columns whose every row has exactly one number.
    static let numeric: Set<String> = ["PPID", "PGID"]

    /// The columns of a header's middle, by name.
    init(header middle: [String]) {
        self = middle.allSatisfy(Self.numeric.contains) ? .named(middle) : .unmappable(middle)
    }

    /// The columns an lsof command line's options add (`-R`, `-g`, `-g 448`, `-nPR`, `-K`).
    init(command: ShellCommand) {
        let letters = Self.optionLetters(command)
        if letters.contains("K") { self = .unmappable(["TID"]); return }
        self = .named((letters.contains("R") ? ["PPID"] : []) + (letters.contains("g") ? ["PGID"] : []))
    }

    /// The option letters of lsof's `-` options in `command`. A letter that takes a value
    /// (`-c nesession`, `-p448`, `-g448`, `-Ki`) ends its cluster, so that a value's letters
    /// (`-cRapport`) are not read as options; `-Ki` (ignore tasks) is left out.
    static func optionLetters(_ command: ShellCommand) -> Set<Character> {
        let takingValues: Set<Character> = ["c", "d", "k", "m", "p", "u", "e", "D", "g", "i", "K", "o", "s", "r", "S", "T", "F", "L", "x", "A", "E"]
        var letters: Set<Character> = []
        for argument in command.arguments where argument.hasPrefix("-") && !argument.hasPrefix("--") {
            var rest = argument.dropFirst()
            while let letter = rest.first {
                rest = rest.dropFirst()
                if letter == "K", rest == "i" { break }
                letters.insert(letter)
                if takingValues.contains(letter) { break }
            }
        }
        return letters
    }

    /// How a row's words from its start to just before USER (`lead`) divide into COMMAND, PID
    /// and the middle columns; nil when they do not divide in exactly one way.
    func read(_ lead: [Substring]) -> (command: String, pid: Substring)? {
        // (A sign or too many digits is a number that is no id: read, and refused as such.)
        func number(_ word: Substring) -> Bool {
            let digits = word.hasPrefix("-") ? word.dropFirst() : word
            return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
        }
        let middle: Int
        switch self {
        case .unmappable:
            return nil
        case .named(let columns):
            middle = columns.count
        case .unknown:
            // `identitys 412 1 jane`: PID 412 with PPID 1, or a COMMAND `identitys 412` with
            // PID 1? A number before the last word, after the first, allows both.
            if lead.count >= 3, number(lead[lead.count - 2]) { return nil }
            middle = 0
        }
        guard lead.count >= middle + 2 else { return nil }
        let pidAt = lead.count - 1 - middle
        guard number(lead[pidAt]), lead[(pidAt + 1)...].allSatisfy(number) else { return nil }
        return (lead[..<pidAt].joined(separator: " "), lead[pidAt])
    }
}

extension Section {
    /// The words between PID and USER of an lsof header at `position` (`COMMAND PID PGID USER
    /// FD`: `["PGID"]`), or nil when no lsof header starts there.
    static func lsofHeaderMiddle(_ text: CaptureText, _ position: Int) -> [String]? {
        guard position + 3 < text.count, text[position] == "COMMAND", text[position + 1] == "PID", !text.endsLine(position) else { return nil }
        var middle: [String] = []
        var at = position + 2
        while at + 1 < text.count, middle.count <= 4, !text.endsLine(at - 1) {
            if text[at] == "USER", text[at + 1] == "FD", !text.endsLine(at) { return middle }
            let word = text[at]
            guard !word.isEmpty, word.allSatisfy({ $0.isUppercase || $0 == "-" }) else { return nil }
            middle.append(String(word))
            at += 1
        }
        return nil
    }

    static func isLsofHeader(_ text: CaptureText, _ position: Int) -> Bool { lsofHeaderMiddle(text, position) != nil }

    /// The columns between PID and USER of this section's lsof rows: as its header named them,
    /// else as its lsof command line's options print them.
    var lsofIdColumns: LsofIdColumns {
        if let lsofHeaderColumns { return LsofIdColumns(header: lsofHeaderColumns) }
        if let command, command.tool == .lsof { return LsofIdColumns(command: command) }
        if let holderListing { return LsofIdColumns(command: holderListing) }
        return .unknown
    }

    /// The position of the TYPE word of an lsof row that starts at `position`
    /// (`COMMAND PID [PPID] [PGID] USER FD TYPE`), or nil when no such row starts there.
    func lsofTypeAt(_ position: Int) -> Int? {
        guard position + 4 < range.upperBound, let pid = Int(text[position + 1]), pid >= 0 else { return nil }
        let middles: ClosedRange<Int>
        switch lsofIdColumns {
        case .named(let columns): middles = columns.count...columns.count
        case .unmappable, .unknown: middles = 0...2
        }
        for middle in middles where position + 4 + middle < range.upperBound {
            guard (0..<middle).allSatisfy({ Int(text[position + 2 + $0]) != nil }) else { break }
            if Self.lsofTypes.contains(String(text[position + 4 + middle])) { return position + 4 + middle }
        }
        return nil
    }
}
