import Foundation

/// One captured file as words, each with the line it is on: the form every capture parser reads.
///
/// Words make a listing that lost its line breaks (pasted into a forum, a chat or a ticket) read
/// the same as the original; the lines, where they survived, mark where rows and blocks end.
/// The text is cleaned first: bytes that are not UTF-8 become U+FFFD, terminal colour sequences
/// are dropped, and NUL, no-break (also written `&nbsp;`) and ideographic spaces separate words
/// like a space, as do the cell borders of a Markdown table's rows and the tags of an HTML
/// table's (`<tr><td>default</td>…`, whose row may span lines). Lines
/// quoted with `>` (a mail, a Markdown post), numbered by `cat -n`, or behind a prefix on every line
/// (`LinePrefix`: a CI log's timestamp, a chat nick) read as the lines they hold. Each word
/// costs twelve bytes, so ten megabytes of one line stay cheap.
struct CaptureText {
    /// The file the text came from, as notes name it.
    let file: String
    let text: String
    private var starts: [Int32] = []
    private var ends: [Int32] = []
    private var lines: [Int32] = []
    /// Whether the word is the first on its line and there is whitespace before it.
    private var indentedFlags: [Bool] = []
    /// Each word's first and last bytes (UTF-8), which tell most words apart from the words that
    /// start a record without reading them whole.
    private var firstBytes: [UInt8] = []
    private var lastBytes: [UInt8] = []
    /// How many lines the text has.
    private(set) var lineCount = 1
    /// The lines a Markdown fence (three backticks or more) or a Jira or Confluence block macro
    /// (`{noformat}`, `{code:bash}`) starts, which hold no word of it.
    private(set) var fenceLines: Set<Int> = []
    /// The first and last of `fenceLines`.
    private(set) var fenceBounds: ClosedRange<Int>?

    private mutating func insertFence(_ line: Int) {
        fenceLines.insert(line)
        fenceBounds = fenceBounds.map { min($0.lowerBound, line)...max($0.upperBound, line) } ?? line...line
    }

    /// How many quote markers (`>`) each quoted line started with, by its 1-based number: a
    /// mail's or a post's quote of an earlier message, one level per `>` (see `quoteMarker`).
    /// Lines not quoted are not in it.
    private(set) var quoteDepths: [Int: Int] = [:]

    /// The prefix taken off every line (a CI log's timestamp, a chat nick, `grep -n`'s number),
    /// when the lines carried one: see `LinePrefix`.
    let linePrefix: LinePrefix?

    /// How the text was written, when not as the tools print it: an RTF document whose text was
    /// read (`CaptureRTF`), lines ending in an editor's backslash (`withoutHardBreaks`).
    private(set) var writtenAs: [String] = []

    init(file: String, data: Data) {
        self.file = file
        var data = data
        if CaptureRTF.isRTF(Array(data.prefix(64))) {
            data = Data(CaptureRTF.plainText([UInt8](data)).utf8)
            writtenAs.append("an RTF document (TextEdit's default format): its text is read, without the formatting")
        }
        let (cleaned, removed) = Self.withoutHardBreaks(Self.clean(data))
        if removed > 0 { writtenAs.append("\(removed) line\(removed == 1 ? " ends" : "s end") in a backslash, an editor's line break (Markdown's, TextEdit's), which is taken off") }
        (text, linePrefix) = LinePrefix.strip(cleaned)
        tokenize()
    }

    init(file: String, text: String) {
        self.init(file: file, data: Data(text.utf8))
    }

    /// The line of the first Markdown fence (three backticks or more), when the text has an odd
    /// number of them: one block is never closed, or was pasted without its opening.
    var unpairedFenceLine: Int? {
        var fences = 0
        var run = 0
        var line = 1
        var first: Int?
        for byte in text.utf8 {
            if byte == 0x60 {
                run += 1
                continue
            }
            if run >= 3 {
                fences += 1
                if first == nil { first = line }
            }
            run = 0
            if byte == 0x0A { line += 1 }
        }
        if run >= 3 {
            fences += 1
            if first == nil { first = line }
        }
        return fences % 2 == 1 ? first : nil
    }

    var count: Int { starts.count }
    var isEmpty: Bool { starts.isEmpty }

    subscript(position: Int) -> Substring {
        let utf8 = text.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: Int(starts[position]))
        let end = utf8.index(start, offsetBy: Int(ends[position] - starts[position]))
        return text[start..<end]
    }

    /// The text between the word at `position` and the next word: the blanks (a space, a tab,
    /// a no-break space) that separate them as written, or nil after the last word.
    func separator(after position: Int) -> Substring? {
        guard position + 1 < count else { return nil }
        let utf8 = text.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: Int(ends[position]))
        let end = utf8.index(start, offsetBy: Int(starts[position + 1] - ends[position]))
        return text[start..<end]
    }

    /// The first byte (UTF-8) of the word at `position`.
    func firstByte(_ position: Int) -> UInt8 { firstBytes[position] }

    /// The last byte (UTF-8) of the word at `position`.
    func lastByte(_ position: Int) -> UInt8 { lastBytes[position] }

    /// The 1-based line the word at `position` is on.
    func line(_ position: Int) -> Int { Int(lines[position]) }

    /// Whether the word at `position` is the first on its line.
    func startsLine(_ position: Int) -> Bool { position == 0 || lines[position] != lines[position - 1] }

    /// Whether the word at `position` ends its line (or the text).
    func endsLine(_ position: Int) -> Bool { position + 1 >= count || lines[position + 1] != lines[position] }

    /// How many bytes the line that `position` is on takes from its first word to the end of its
    /// last: the column a row stops at, for rows that start at the line's start.
    func lineSpan(_ position: Int) -> Int {
        var first = position, last = position
        while first > 0, lines[first - 1] == lines[position] { first -= 1 }
        while last + 1 < count, lines[last + 1] == lines[position] { last += 1 }
        return Int(ends[last] - starts[first])
    }

    /// How many bytes into its line the word at `position` starts, counted from the line's first
    /// word: where a column begins, measured as `lineSpan` measures a row's end.
    func lineOffset(_ position: Int) -> Int {
        var first = position
        while first > 0, lines[first - 1] == lines[position] { first -= 1 }
        return Int(starts[position] - starts[first])
    }

    /// How many spaces come before the first word of the line `position` is on: with
    /// `lineSpan` or `lineOffset`, the column a terminal shows a row end or a column start at
    /// (ps right-aligns its first column, so rows start at different columns).
    func lineLead(_ position: Int) -> Int {
        var first = position
        while first > 0, lines[first - 1] == lines[position] { first -= 1 }
        let utf8 = text.utf8
        var index = utf8.index(utf8.startIndex, offsetBy: Int(starts[first]))
        var lead = 0
        while index > utf8.startIndex {
            index = utf8.index(before: index)
            guard utf8[index] == UInt8(ascii: " ") else { break }
            lead += 1
        }
        return lead
    }

    /// Whether the word at `position` begins an indented line (ifconfig's body lines start with a tab).
    func indented(_ position: Int) -> Bool { indentedFlags[position] }

    /// The words from `range`, joined by single spaces, cut to `limit` characters for a message.
    func excerpt(_ range: Range<Int>, limit: Int = 80) -> String {
        var result = ""
        for position in range {
            if !result.isEmpty { result += " " }
            result += self[position]
            if result.count > limit { return String(result.prefix(limit)) + "…" }
        }
        return result
    }

    /// `data` decoded as UTF-16, when it is: it starts with a UTF-16 byte order mark, or (no mark)
    /// NUL is every other byte of its start, as in ASCII text saved as UTF-16. Nil otherwise.
    static func utf16Text(_ data: Data) -> String? {
        let bytes = Array(data.prefix(512))
        guard bytes.count >= 2 else { return nil }
        var bigEndian: Bool
        var body = data
        if bytes[0] == 0xFF, bytes[1] == 0xFE {
            bigEndian = false
            body = data.dropFirst(2)
        } else if bytes[0] == 0xFE, bytes[1] == 0xFF {
            bigEndian = true
            body = data.dropFirst(2)
        } else {
            let pairs = bytes.count / 2
            let evenNULs = stride(from: 0, to: pairs * 2, by: 2).count { bytes[$0] == 0 && bytes[$0 + 1] != 0 }
            let oddNULs = stride(from: 0, to: pairs * 2, by: 2).count { bytes[$0 + 1] == 0 && bytes[$0] != 0 }
            guard pairs >= 4, max(evenNULs, oddNULs) * 10 >= pairs * 9 else { return nil }
            bigEndian = evenNULs > oddNULs
        }
        let units = stride(from: body.startIndex, to: body.endIndex - 1, by: 2).map { at -> UInt16 in
            let first = UInt16(body[at]), second = UInt16(body[at + 1])
            return bigEndian ? first << 8 | second : second << 8 | first
        }
        return String(decoding: units, as: UTF16.self)
    }

    /// Where words end and lines break, in one pass over the bytes.
    private mutating func tokenize() {
        let bytes = Array(text.utf8)
        let quoted = Self.isQuoted(bytes)
        var line: Int32 = 1
        var position = 0
        var wordStart = -1
        var lineHasWord = false
        var whitespaceBefore = false
        // Under a ps header (`PID COMM`) not itself numbered by `cat -n`, a row's pid and a tab
        // (`1<TAB>/sbin/launchd`, copied through a spreadsheet) are the row's, not a line number;
        // so, under a netstat header (`Destination Gateway …`), are a bare destination and a tab
        // (`127<TAB>127.0.0.1`, ClashX's `1<TAB>198.18.0.1`, copied from a rendered table).
        var underPsHeader = false, underRouteHeader = false
        var numberedLine = false
        func endWord(at end: Int) {
            guard wordStart >= 0 else { return }
            if !lineHasWord {
                let first = bytes[wordStart..<end]
                if first.elementsEqual("PID".utf8) { underPsHeader = !numberedLine } else if !first.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { underPsHeader = false }
                underRouteHeader = first.elementsEqual("Destination".utf8) ? !numberedLine : underRouteHeader && Self.startsRouteRow(first)
            }
            starts.append(Int32(wordStart))
            ends.append(Int32(end))
            lines.append(line)
            indentedFlags.append(!lineHasWord && whitespaceBefore)
            firstBytes.append(bytes[wordStart])
            lastBytes.append(bytes[end - 1])
            lineHasWord = true
            wordStart = -1
        }
        while position < bytes.count {
            let byte = bytes[position]
            // A line quoted in a mail or a Markdown post (`> `, `>> `, `> > `) is read as the line
            // it quotes: the markers and the one space after each go, the indent after them stays.
            if byte == UInt8(ascii: ">"), !lineHasWord, wordStart < 0, quoted || Self.quoteMarker(bytes, at: position) {
                position += 1
                if position < bytes.count, bytes[position] == 0x20 { position += 1 }
                whitespaceBefore = false
                quoteDepths[Int(line), default: 0] += 1
                continue
            }
            // A line numbered by `cat -n` or `nl` (`     3\t…`): the number and its tab go. No
            // tool's output starts a line with digits and a tab.
            if byte >= 0x30, byte <= 0x39, !lineHasWord, wordStart < 0, !underPsHeader, !underRouteHeader, let after = Self.lineNumberEnd(bytes, at: position) {
                numberedLine = true
                position = after
                whitespaceBefore = false
                continue
            }
            // A Jira or Confluence block macro (`{noformat}`, `{code:bash}`, `{quote}`, `{panel:…}`)
            // is a fence like Markdown's, alone on its line or glued to its first word.
            if byte == UInt8(ascii: "{"), !lineHasWord, wordStart < 0, let after = Self.blockMacroEnd(bytes, at: position) {
                whitespaceBefore = false
                insertFence(Int(line))
                position = after
                continue
            }
            // A Markdown fence (three backticks or more) separates words like a space, also when a
            // chat message glues it to the first line (```lo0: flags=…).
            if byte == 0x60, position + 2 < bytes.count, bytes[position + 1] == 0x60, bytes[position + 2] == 0x60 {
                var end = position
                while end < bytes.count, bytes[end] == 0x60 { end += 1 }
                endWord(at: position)
                if !lineHasWord { whitespaceBefore = false; insertFence(Int(line)) }
                position = end
                continue
            }
            let (spaceLength, lineBreak) = Self.blank(at: position, in: bytes)
            if spaceLength > 0 {
                endWord(at: position)
                if lineBreak {
                    line += 1
                    numberedLine = false
                    lineHasWord = false
                    whitespaceBefore = false
                } else if !lineHasWord {
                    whitespaceBefore = true
                }
                position += spaceLength
                continue
            }
            // parrot's two-line prompt glues `$` to the command on its second line (`└──╼ $ifconfig`):
            // after a frame corner alone at the line's start, the `$` or `#` is a word of its own.
            if wordStart < 0, byte == UInt8(ascii: "$") || byte == UInt8(ascii: "#"), position + 1 < bytes.count,
               (0x61...0x7A).contains(bytes[position + 1] | 0x20), Self.followsFrameCorner(bytes, starts: starts, lines: lines, line: line) {
                wordStart = position
                position += 1
                endWord(at: position)
                continue
            }
            if wordStart < 0 { wordStart = position }
            // nushell's prompt ends in `〉` (U+3009) glued to the command (`〉ifconfig -a`,
            // `~/src〉ifconfig -a`): in a line's first word, the word ends after it.
            if byte == 0xE3, !lineHasWord, position + 3 < bytes.count, bytes[position + 1] == 0x80, bytes[position + 2] == 0x89,
               bytes[position + 3] > 0x20 {
                position += 3
                endWord(at: position)
                continue
            }
            position += 1
        }
        endWord(at: bytes.count)
        lineCount = Int(line)
    }

    /// The bytes as UTF-8 text without terminal control sequences (CSI `ESC [ … final`, OSC
    /// `ESC ] … BEL`), which colourful prompts leave in a copied transcript. A byte order mark
    /// is dropped, and text in UTF-16 (what a Windows editor or PowerShell's `>` saves) is
    /// decoded as such. No other control character survives (see `withoutControls`): whatever
    /// of the text tunwarden shows again is safe to print.
    static func clean(_ data: Data) -> String {
        withLineBreakTags(withMarkdownTableRows(withHTMLTableRows(withStraightQuotes(withBlankEntities(withCarriageReturns(withClassicLineEnds(withoutControls(withoutEscapes(data)))))))))
    }

    /// `text` with each backspace taking back the character before it on its line (as a
    /// `script` typescript records a typo), and every other control character a terminal acts
    /// on dropped: C0 and C1 controls but tab, line feed, carriage return and next line, DEL, and every
    /// invisible format character: those that reorder text (a right-to-left override), and
    /// those a web page, a wiki or a chat puts inside words (zero-width space and joiners, word
    /// joiner, U+FEFF, soft hyphen). They take no room, so a row that holds them (`UGSc\u{200B}g`)
    /// reads as the row one sees.
    static func withoutControls(_ text: String) -> String {
        func unwanted(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            // (NEXT LINE, U+0085, is a line break a paste can have instead of a line feed: the
            // tokenizer ends the line there.)
            case 0x09, 0x0A, 0x0D, 0x85: return false
            case 0x00..<0x20, 0x7F...0x9F: return true
            case 0xA0..<0xAD: return false
            default: return scalar.value >= 0xAD && scalar.properties.generalCategory == .format
            }
        }
        guard text.unicodeScalars.contains(where: unwanted) else { return text }
        var kept = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value == 0x08 {
                if let last = kept.last, last != "\n" { kept.removeLast() }
            } else if !unwanted(scalar) {
                kept.append(scalar)
            }
        }
        return String(kept)
    }

    private static func withoutEscapes(_ data: Data) -> String {
        var data = data
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        if let utf16 = utf16Text(data) { data = Data(utf16.utf8) }
        // (Read as an array: Data's own iteration costs a call per byte.)
        let bytes = [UInt8](data)
        guard bytes.contains(0x1B) else { return String(decoding: bytes, as: UTF8.self) }
        var cleaned: [UInt8] = []
        cleaned.reserveCapacity(bytes.count)
        var position = 0
        while position < bytes.count {
            let byte = bytes[position]
            guard byte == 0x1B, position + 1 < bytes.count else {
                cleaned.append(byte)
                position += 1
                continue
            }
            let next = bytes[position + 1]
            position += 2
            if next == UInt8(ascii: "[") {
                while position < bytes.count, !(0x40...0x7E).contains(bytes[position]) { position += 1 }
                position += 1
            } else if next == UInt8(ascii: "]") {
                while position < bytes.count, bytes[position] != 0x07, bytes[position] != 0x1B { position += 1 }
                if position < bytes.count, bytes[position] == 0x1B { position += 1 }
                position += 1
            }
        }
        return String(decoding: cleaned, as: UTF8.self)
    }
}
