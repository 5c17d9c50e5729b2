extension CaptureText {
    /// The blank or line break that starts at `position` of `bytes` (UTF-8): how many bytes it
    /// takes (0: none starts there) and whether it ends a line. ASCII blanks and NUL separate
    /// words; so do those beyond ASCII that word processors, mail and chat put into a paste:
    /// NO-BREAK SPACE, the EN QUAD … HAIR SPACE run (U+2000–U+200A), NARROW NO-BREAK SPACE
    /// (U+202F), MEDIUM MATHEMATICAL SPACE (U+205F) and IDEOGRAPHIC SPACE. A line feed, NEXT LINE
    /// (U+0085), and LINE and PARAGRAPH SEPARATOR (U+2028, U+2029) end a line.
    @inline(__always)
    static func blank(at position: Int, in bytes: [UInt8]) -> (length: Int, lineBreak: Bool) {
        let byte = bytes[position]
        // Most bytes are ASCII and none of these: decided without looking further.
        if byte > 0x20, byte < 0xC2 { return (0, false) }
        func follows(_ expected: UInt8...) -> Bool {
            position + expected.count < bytes.count && expected.indices.allSatisfy { bytes[position + 1 + $0] == expected[$0] }
        }
        let next = position + 2 < bytes.count ? bytes[position + 2] : 0
        switch byte {
        case 0x20, 0x09, 0x0B, 0x0C, 0x0D, 0x00: return (1, false)
        case 0x0A: return (1, true)
        case 0xC2 where follows(0xA0): return (2, false)
        case 0xC2 where follows(0x85): return (2, true)
        case 0xE3 where follows(0x80, 0x80): return (3, false)
        case 0xE2 where position + 2 < bytes.count && bytes[position + 1] == 0x80 && (next == 0xA8 || next == 0xA9): return (3, true)
        case 0xE2 where position + 2 < bytes.count && bytes[position + 1] == 0x80 && ((0x80...0x8A).contains(next) || next == 0xAF): return (3, false)
        case 0xE2 where follows(0x81, 0x9F): return (3, false)
        default: return (0, false)
        }
    }
}
