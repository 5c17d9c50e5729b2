/// Typographic quotes read as the ASCII quotes they replaced: a command copied from a web page,
/// a blog or a chat that renders `grep 'utun_control'` as `grep ‘utun_control’` ran with the
/// ASCII ones (what it printed shows it), and is read as the shell read it.
extension CaptureText {
    /// `text` with each pair of typographic quotes around words on one line (U+2018 with U+2019,
    /// U+201C with U+201D) made ASCII quotes (`'`, `"`): the opening one where a word starts
    /// (or after `=`, `(`), the closing one where a word ends (or before `;`, `|`, `&`, `)`, `>`).
    /// An apostrophe within a word (`Bob’s VPN`) and a quote left unpaired stay as they are.
    static func withStraightQuotes(_ text: String) -> String {
        // (Looked for byte by byte: the four quotes are E2 80 98, 99, 9C and 9D in UTF-8.)
        var previous: (UInt8, UInt8) = (0, 0)
        var found = false
        for byte in text.utf8 {
            if previous == (0xE2, 0x80), [0x98, 0x99, 0x9C, 0x9D].contains(byte) {
                found = true
                break
            }
            previous = (previous.1, byte)
        }
        guard found else { return text }
        // (By scalar: a CRLF is one Character, which would hide the line feed in it.)
        var scalars = Array(text.unicodeScalars)
        var lineStart = 0
        for position in scalars.indices where scalars[position] == "\n" {
            straighten(&scalars, lineStart..<position)
            lineStart = position + 1
        }
        straighten(&scalars, lineStart..<scalars.count)
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars)
        return String(result)
    }

    /// Makes the paired typographic quotes of the line `line` of `scalars` ASCII ones (see
    /// `withStraightQuotes`).
    private static func straighten(_ scalars: inout [Unicode.Scalar], _ line: Range<Int>) {
        func blank(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace }
        func opens(_ at: Int) -> Bool {
            at == line.lowerBound || blank(scalars[at - 1]) || scalars[at - 1] == "=" || scalars[at - 1] == "("
        }
        func closes(_ at: Int) -> Bool {
            at + 1 == line.upperBound || blank(scalars[at + 1]) || ";|&)>".unicodeScalars.contains(scalars[at + 1])
        }
        // The next closing quote of each kind at or after each position, found in one pass from
        // the end: a line of thousands of unpaired quotes costs no more than its length.
        var nextSingle = [Int?](repeating: nil, count: line.count + 1)
        var nextDouble = nextSingle
        for position in line.reversed() {
            let offset = position - line.lowerBound
            nextSingle[offset] = scalars[position] == "\u{2019}" && closes(position) ? position : nextSingle[offset + 1]
            nextDouble[offset] = scalars[position] == "\u{201D}" && closes(position) ? position : nextDouble[offset + 1]
        }
        var position = line.lowerBound
        while position < line.upperBound {
            let opening = scalars[position]
            guard opening == "\u{2018}" || opening == "\u{201C}", opens(position),
                  let end = (opening == "\u{2018}" ? nextSingle : nextDouble)[position + 1 - line.lowerBound] else {
                position += 1
                continue
            }
            let ascii: Unicode.Scalar = opening == "\u{2018}" ? "'" : "\""
            scalars[position] = ascii
            scalars[end] = ascii
            position = end + 1
        }
    }
}
