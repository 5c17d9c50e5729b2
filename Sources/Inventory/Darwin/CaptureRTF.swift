import Foundation

/// The text of a paste saved as RTF: TextEdit's default format (`{\rtf1\ansi\ansicpg1252\cocoartf…`),
/// and what a ticket attachment or a Word or Pages export often is. The RTF is read for its text
/// alone, as the tools printed it: header groups (`{\fonttbl…}`, `{\colortbl…}`,
/// `{\*\expandedcolortbl…}`, every `{\*…}` destination, stylesheets, pictures) are left out,
/// `\par`, `\line` and a backslash before a line end are line breaks, `\tab` a tab, and the
/// escapes `\{ \} \\`, `\'xx` (a byte of the document's code page: `\ansicpg`, Windows-1252 unless
/// told) and `\uN` (a Unicode character, whose `\ucN` fallback characters are skipped) are the
/// characters they stand for. Other control words (fonts, sizes, colours) carry no text.
enum CaptureRTF {
    /// Whether `bytes` are an RTF document: `{\rtf` at the start, after blank space.
    static func isRTF(_ bytes: [UInt8]) -> Bool {
        let start = bytes.firstIndex { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } ?? bytes.endIndex
        return bytes[start...].starts(with: Array("{\\rtf".utf8))
    }

    /// Destinations whose group holds no text of the document.
    static let skippedDestinations: Set<String> = [
        "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "header", "footer", "headerl", "headerr",
        "footerl", "footerr", "footnote", "listtable", "listoverridetable", "filetbl", "revtbl", "rsidtbl", "generator",
        "xmlnstbl", "themedata", "colorschememapping", "latentstyles", "datastore", "fldinst", "bkmkstart", "bkmkend",
    ]

    /// The document's text. Never fails: what cannot be read is left out.
    static func plainText(_ bytes: [UInt8]) -> String {
        struct Group { var skipped: Bool; var fallback: Int }
        var stack: [Group] = []
        var group = Group(skipped: false, fallback: 1)
        var output = String.UnicodeScalarView()
        var codePage = String.Encoding.windowsCP1252
        // Bytes of `\'xx` escapes in a row, decoded together (a code page of two-byte characters).
        var pending: [UInt8] = []
        // Fallback characters still to skip after a `\uN`.
        var skipping = 0
        var highSurrogate: UInt32?
        func flush() {
            guard !pending.isEmpty else { return }
            let text = String(bytes: pending, encoding: codePage) ?? String(decoding: pending, as: UTF8.self)
            if !group.skipped { output.append(contentsOf: text.unicodeScalars) }
            pending = []
        }
        func emit(_ scalar: Unicode.Scalar) {
            flush()
            if !group.skipped { output.append(scalar) }
        }
        func isLetter(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) }
        func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
        var position = bytes.firstIndex(of: UInt8(ascii: "{")) ?? bytes.endIndex
        // Whether the group just opened has had nothing but `\*` yet (its destination word comes next).
        var groupStart = false
        var starred = false
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "{"):
                flush()
                stack.append(group)
                groupStart = true
                starred = false
                position += 1
                continue
            case UInt8(ascii: "}"):
                flush()
                group = stack.popLast() ?? group
                groupStart = false
                skipping = 0
                position += 1
                continue
            case 0x0A, 0x0D:
                // Line ends in the source are not text.
                position += 1
                continue
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count else { position += 1; continue }
                let next = bytes[position + 1]
                if isLetter(next) {
                    var end = position + 1
                    while end < bytes.count, isLetter(bytes[end]) { end += 1 }
                    let word = String(decoding: bytes[(position + 1)..<end], as: UTF8.self)
                    var numberEnd = end
                    if numberEnd < bytes.count, bytes[numberEnd] == UInt8(ascii: "-") { numberEnd += 1 }
                    while numberEnd < bytes.count, isDigit(bytes[numberEnd]) { numberEnd += 1 }
                    let parameter = numberEnd > end ? Int(String(decoding: bytes[end..<numberEnd], as: UTF8.self)) : nil
                    position = numberEnd
                    if position < bytes.count, bytes[position] == 0x20 { position += 1 }
                    if groupStart, starred || skippedDestinations.contains(word) { group.skipped = true }
                    groupStart = false
                    switch word {
                    case "par", "line", "sect", "page", "row": emit("\n")
                    case "tab", "cell": emit("\t")
                    case "emdash": emit("\u{2014}")
                    case "endash": emit("\u{2013}")
                    case "lquote": emit("\u{2018}")
                    case "rquote": emit("\u{2019}")
                    case "ldblquote": emit("\u{201C}")
                    case "rdblquote": emit("\u{201D}")
                    case "bullet": emit("\u{2022}")
                    case "ansicpg":
                        let pages: [Int: String.Encoding] = [1250: .windowsCP1250, 1251: .windowsCP1251, 1252: .windowsCP1252, 1253: .windowsCP1253,
                                                             1254: .windowsCP1254, 10000: .macOSRoman, 932: .shiftJIS, 65001: .utf8]
                        codePage = parameter.flatMap { pages[$0] } ?? .windowsCP1252
                    case "uc": group.fallback = max(0, parameter ?? 1)
                    case "u":
                        guard var value = parameter else { break }
                        if value < 0 { value += 65536 }
                        let code = UInt32(value)
                        if (0xD800...0xDBFF).contains(code) {
                            flush()
                            highSurrogate = code
                        } else if (0xDC00...0xDFFF).contains(code), let high = highSurrogate {
                            highSurrogate = nil
                            if let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)) { emit(scalar) }
                        } else if let scalar = Unicode.Scalar(code) {
                            emit(scalar)
                        }
                        skipping = group.fallback
                    default: break
                    }
                    continue
                }
                groupStart = false
                position += 2
                switch next {
                case UInt8(ascii: "*"):
                    starred = true
                    groupStart = true
                case UInt8(ascii: "'"):
                    guard position + 1 < bytes.count, let value = UInt8(String(decoding: bytes[position...position + 1], as: UTF8.self), radix: 16) else { break }
                    position += 2
                    if skipping > 0 { skipping -= 1; break }
                    if !group.skipped { pending.append(value) }
                case 0x0A, 0x0D:
                    // A backslash before a line end: a line break (TextEdit's `\` at each line's end).
                    if next == 0x0D, position < bytes.count, bytes[position] == 0x0A { position += 1 }
                    emit("\n")
                case UInt8(ascii: "~"): emit("\u{00A0}")
                case UInt8(ascii: "_"): emit("-")
                case UInt8(ascii: "-"): break
                default:
                    // `\\`, `\{`, `\}`: the character itself.
                    if skipping > 0 { skipping -= 1; break }
                    emit(Unicode.Scalar(next))
                }
                continue
            default:
                groupStart = false
                position += 1
                if skipping > 0 {
                    skipping -= 1
                    continue
                }
                if byte < 0x80 {
                    emit(Unicode.Scalar(byte))
                } else {
                    // (Raw 8-bit text, which RTF writers escape: read in the code page.)
                    if !group.skipped { pending.append(byte) }
                }
            }
        }
        flush()
        return String(output)
    }
}
