/// How a capture's carriage returns are read: as the line ends they stand for where the text has
/// no other, and as a line's end where `cat -v` wrote them `^M`.
extension CaptureText {
    /// `text` with its carriage returns made line feeds when it has no line break of another kind
    /// (a line feed, a next line): classic Mac OS's line ends, which some macOS apps still put on
    /// the clipboard. A text that has line feeds keeps its carriage returns (CRLF, a `script`
    /// typescript's `\r\r\n`), which read as blanks.
    static func withClassicLineEnds(_ text: String) -> String {
        // (Looked for byte by byte: Foundation's `contains` would convert the text to UTF-16.)
        var returns = false
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == 0x0A || (previous == 0xC2 && byte == 0x85) { return text }
            if byte == 0x0D { returns = true }
            previous = byte
        }
        guard returns else { return text }
        return String(decoding: text.utf8.map { $0 == 0x0D ? 0x0A : $0 }, as: UTF8.self)
    }

    /// `text` with the caret notation of a carriage return (`^M`, as `cat -v` and vim show a
    /// `script` typescript's line ends) made the carriage return it stands for, where it ends a
    /// line (`ifconfig -a^M`, `utun3^M`): glued to the last word, it would make that word unreadable.
    static func withCarriageReturns(_ text: String) -> String {
        // (Looked for byte by byte: Foundation's `contains` would convert the text to UTF-16.)
        var previous: UInt8 = 0
        var found = false
        for byte in text.utf8 {
            if previous == UInt8(ascii: "^"), byte == UInt8(ascii: "M") {
                found = true
                break
            }
            previous = byte
        }
        guard found else { return text }
        return text.replacingOccurrences(of: #"\^M(?=(?:\^M|[ \t\r])*(?:\n|$))"#, with: "\r", options: .regularExpression)
    }
}
