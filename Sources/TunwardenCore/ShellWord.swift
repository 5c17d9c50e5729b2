/// Words for a POSIX shell (`sh`, dash, bash) that give back exact bytes, for commands tunwarden
/// writes for people to run.
public enum ShellWord {
    /// A word that `sh` expands to exactly `bytes`, which must not hold a NUL:
    /// - bytes that are all letters, digits or `-_.:/@%+=,` are their own word;
    /// - other printable ASCII goes in single quotes, a `'` written `'\''`;
    /// - anything else (a byte that is not printable ASCII) becomes `"$(printf '…')"`, whose
    ///   format writes each such byte as a three-digit octal escape, `\` as `\\`, `%` as `%%`,
    ///   `'` as `\047`, and a leading `-` (which printf would take for an option) as `\055`.
    ///   printf's escapes give the bytes back in any locale. Newlines at the end, which a command
    ///   substitution strips, follow as themselves in single quotes: the only raw control bytes
    ///   a word can hold.
    public static func quote<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        if !bytes.isEmpty, bytes.allSatisfy(isPlain) { return String(decoding: bytes, as: UTF8.self) }
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
            return "'" + String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        var body = Array(bytes)
        var trailingNewlines = 0
        while body.last == 0x0a {
            body.removeLast()
            trailingNewlines += 1
        }
        var word = ""
        if !body.isEmpty {
            var format = ""
            for (position, byte) in body.enumerated() {
                switch byte {
                case UInt8(ascii: "-") where position == 0: format += "\\055"
                case UInt8(ascii: "\\"): format += "\\\\"
                case UInt8(ascii: "%"): format += "%%"
                case UInt8(ascii: "'"): format += "\\047"
                case 0x20..<0x7f: format.unicodeScalars.append(Unicode.Scalar(byte))
                default: format += "\\" + octal(byte)
                }
            }
            word = "\"$(printf '\(format)')\""
        }
        if trailingNewlines > 0 { word += "'" + String(repeating: "\n", count: trailingNewlines) + "'" }
        return word
    }

    static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("-_.:/@%+=,".utf8).contains(byte)
        }
    }

    static func octal(_ byte: UInt8) -> String {
        String(byte >> 6) + String(byte >> 3 & 7) + String(byte & 7)
    }
}
