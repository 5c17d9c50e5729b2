/// Lines that end in a backslash as an editor's line break, not the shell's: Markdown's hard
/// break (pandoc, a Notion or Confluence export) and what is left of an RTF paste copied as its
/// source. The backslash glued to a row's last word would make the row unreadable (`utun7\` is
/// no interface name), so it is taken off.
extension CaptureText {
    /// `text` without the backslash that ends each line of a run of two or more lines ending in
    /// one, where the next line starts with no shell continuation: a line after a shell's `\`
    /// continues the command (`sudo lsof -nP \` over `  -c nesession \` over `  | grep utun`),
    /// and starts with its prompt (`> `) or the command's next word (an option, a pipe, `&&`);
    /// such a backslash is kept, and so is one ending a line alone. A doubled backslash is text.
    /// Returns the text and how many backslashes were taken off.
    static func withoutHardBreaks(_ text: String) -> (text: String, removed: Int) {
        // (Looked for byte by byte first: most text has no backslash before a line end.)
        var previous: UInt8 = 0
        var found = false
        for byte in text.utf8 {
            if previous == UInt8(ascii: "\\"), byte == 0x0A || byte == 0x0D {
                found = true
                break
            }
            previous = byte
        }
        guard found else { return (text, 0) }
        // (Split by scalars: a String's "\r\n" is one Character, which a split at "\n" misses.)
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(String.UnicodeScalarView.init)
        func body(_ line: String.UnicodeScalarView) -> String.UnicodeScalarView.SubSequence {
            var end = line[...]
            while let last = end.last, last == "\r" || last == " " || last == "\t" { end = end.dropLast() }
            return end
        }
        func endsInBreak(_ line: String.UnicodeScalarView) -> Bool {
            let end = body(line)
            return end.last == "\\" && end.dropLast().last != "\\"
        }
        func continues(_ line: String.UnicodeScalarView) -> Bool {
            let start = String(line.drop { $0 == " " || $0 == "\t" })
            return ["> ", ">\t", "|", "&", "-"].contains { start.hasPrefix($0) } || start == ">" || start == ">\r"
        }
        let breaks = lines.map(endsInBreak)
        var removed = 0
        for index in lines.indices where breaks[index] {
            let inRun = (index > 0 && breaks[index - 1]) || (index + 1 < lines.count && breaks[index + 1])
            guard inRun, index + 1 >= lines.count || !continues(lines[index + 1]) else { continue }
            let line = lines[index]
            let end = body(line)
            lines[index] = String.UnicodeScalarView(end.dropLast() + line[end.endIndex...])
            removed += 1
        }
        return (removed == 0 ? text : lines.map(String.init).joined(separator: "\n"), removed)
    }
}
