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
    ///
    /// A command line (a prompt and a command, `jane@mbp ~ % sudo lsof -nP \`, or a known
    /// command starting a run, `sudo lsof -nP \`) that ends in a backslash is the shell's, and so
    /// is every `\`-ended line that follows it, whatever continuation prompt the shell printed
    /// before them (`> `, Starship's `∙ `, `... `, zsh's `cmdsubst> ` or `quote> `, a custom PS2,
    /// or none): the command goes on there, with its filters (`-c nesession`). Taking those
    /// backslashes off would cut the command to `sudo lsof -nP` and pass a filtered listing for a
    /// whole one. Only when the line after the command line is plainly its tool's output (lsof's
    /// `COMMAND` header or a row, ifconfig's `lo0: flags=`, netstat's `Routing tables`, ps's `PID` header or a row),
    /// itself ending in a backslash, is the backslash an editor's break on every line. When in
    /// doubt it is kept: the command then reads as one whose words cannot all be told, a filtered
    /// or partial listing, never a whole one.
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
        // Whether the line before was a command line or its continuation, kept as the shell's.
        var inCommand = false
        for index in lines.indices {
            guard breaks[index] else {
                inCommand = false
                continue
            }
            let startsRun = index == 0 || !breaks[index - 1]
            if inCommand || isCommandLine(String(lines[index]), startsRun: startsRun) {
                // The shell's, unless the next line is plainly the tool's output, broken the same way.
                let next = index + 1 < lines.count ? String(lines[index + 1]) : ""
                inCommand = !(index + 1 < lines.count && breaks[index + 1] && isOutputStart(next))
                if inCommand { continue }
            }
            let inRun = (index > 0 && breaks[index - 1]) || (index + 1 < lines.count && breaks[index + 1])
            guard inRun, index + 1 >= lines.count || !continues(lines[index + 1]) else { continue }
            let line = lines[index]
            let end = body(line)
            lines[index] = String.UnicodeScalarView(end.dropLast() + line[end.endIndex...])
            removed += 1
        }
        return (removed == 0 ? text : lines.map(String.init).joined(separator: "\n"), removed)
    }

    /// Whether `line` is a command typed at a prompt: a prompt word (`%`, `$`, `jane@mbp~$`, `❯`)
    /// among its first words followed by a command tunwarden knows, or such a command first on a
    /// line that starts a run of backslash-ended lines (`sudo lsof -nP \` copied from a guide).
    static func isCommandLine(_ line: String, startsRun: Bool) -> Bool {
        let words = line.split { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = words.first else { return false }
        if startsRun, ShellCommand.isKnownCommand(first) { return true }
        for index in words.indices.prefix(8) where index + 1 < words.count && ShellCommand.isPrompt(words[index]) {
            if ShellCommand.isKnownCommand(words[index + 1]) { return true }
        }
        return false
    }

    /// Whether `line` starts a tool's listing as the tool prints it: lsof's and ps's headers and
    /// rows, an ifconfig interface block's header, netstat's title or column header. No shell
    /// continuation starts so (its words are the command's: options, a pipe, a prompt).
    static func isOutputStart(_ line: String) -> Bool {
        let words = line.split { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\\" }
        guard let first = words.first else { return false }
        if first == "COMMAND", words.count > 2, words[1] == "PID" { return true }
        if first == "PID" || first == "USER" || first == "UID", words.count > 1, words.dropFirst().contains(where: { ["PID", "COMM", "COMMAND", "CMD", "TTY"].contains($0) }) { return true }
        if first.hasSuffix(":"), words.count > 1, words[1].hasPrefix("flags=") { return true }
        if line.hasPrefix("Routing tables") || first == "Internet:" || first == "Internet6:" { return true }
        if first == "Destination", words.count > 1, words[1] == "Gateway" { return true }
        let isNumber = { (word: Substring) in !word.isEmpty && word.allSatisfy(\.isASCII) && word.allSatisfy(\.isNumber) }
        // An lsof row (`nesession 448 root 20u systm …`, a `| grep`'s output has no header), a ps
        // row (`  412 /usr/sbin/openvpn`).
        if words.count >= 5, isNumber(words[1]), words[3].first?.isNumber == true || ["cwd", "txt", "rtd", "mem"].contains(words[3]) { return true }
        if words.count >= 2, isNumber(first), words[1].hasPrefix("/") || words[1].first?.isLetter == true { return true }
        return false
    }
}
