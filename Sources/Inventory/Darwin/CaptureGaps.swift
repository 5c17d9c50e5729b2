import Foundation

/// Two listings are of one moment only when the paste shows them side by side: nothing between
/// them but prompts, blank lines, fences, markup, and the commands it shows (each weighed for
/// what it may change). A line between them that is no tool output, no prompt and no command
/// tunwarden knows (a message's header in any chat's, forum's or mail client's form, a time
/// stamp a script printed, prose such as "Edit:" or "Then I clicked Connect") may stand for
/// any time and any change: what follows it is of another moment, so nothing read across it
/// is proof. (Round 37 F1–F3: listing each thread's header form never closes the family.)
extension Section {
    /// Whether this section has read a record of any listing.
    var recordsRead: Bool { lastRecord != nil || lsofRows > 0 || lsofHeaderSeen }

    /// Whether the line at `position` may stand between two listings of one moment: a bare
    /// prompt, a `^C`, or HTML markup alone (`</details>`, `<pre>`).
    func isHarmlessBetweenListings(_ position: Int) -> Bool {
        if isBarePrompt(position) || text[position].hasPrefix("^C") { return true }
        // The words of a prompt before the next command, on its line, and the top line of a
        // two-line prompt (`╭─jane@mbp ~`).
        if range.upperBound < text.count, text.line(range.upperBound) - text.line(position) <= 1,
           text.line(range.upperBound) == text.line(position) || text[position].first.map({ "┌╭".contains($0) }) == true { return true }
        if isTwoLinePromptTop(position) { return true }
        var words: [Substring] = []
        var at = position
        while at < range.upperBound, text.line(at) == text.line(position), words.count <= 12 {
            words.append(text[at])
            at += 1
        }
        // Markup alone, a fence's info string (```` ```console ````), a Markdown rule (`---`).
        if words.allSatisfy(ShellCommand.isMarkup) || text.fenceLines.contains(text.line(position))
            || (words.count == 1 && words[0].count >= 3 && words[0].allSatisfy { "-=*_".contains($0) }) { return true }
        if Self.introducesListing(words) || Self.namesListing(words) { return true }
        // The same with HTML's markup taken away: an image, a comment that names the listing, a
        // collapsible block's summary that does (`<details><summary>netstat -rn</summary>`).
        if let bare = Self.withoutMarkup(words) {
            if bare.isEmpty || Self.introducesListing(bare) || Self.namesListing(bare) { return true }
        }
        // A post's words between its code blocks, with no time, date, handle or address and no
        // word that says time passed: the writer's comment on the listings, in one message
        // ("次にルーティングテーブル。`1`、`2/7` … `128.0/1` が utun5 に向いたまま残っています。").
        // (Outside code blocks, in a transcript, a line that is no tool output is no comment.)
        let line = text.line(position)
        guard let fences = text.fenceBounds, fences.lowerBound < line, line < fences.upperBound else { return false }
        let joined = words.joined(separator: " ")
        guard CaptureReader.changeSpan(in: joined) == nil else { return false }
        // (What code spans hold is named, not stamped: `2/7`, `128.0/1`.)
        let prose = joined.replacingOccurrences(of: "(`+)(.+?)\\1|<code>.*?</code>|\\{\\{.*?\\}\\}", with: " ", options: .regularExpression)
            .split(separator: " ")
        // (A word that says what state something is in, `VPN: on`, `wifi: off`, may say it
        // changed between the listings.)
        return !Self.hasStamp(prose) && CaptureReader.timePassingWord(prose.map(String.init)) == nil
            && !prose.contains { Self.stateWords.contains($0.lowercased().filter(\.isLetter)) }
    }

    /// Words a note between two listings says a state with (`VPN: on`, `wifi: off`, `tunnel
    /// connected`): the state may have changed between them.
    static let stateWords: Set<String> = ["on", "off", "connected", "disconnected", "enabled", "disabled", "reconnected"]

    /// Whether the line at `position` is the first line of a two-line prompt whose second line,
    /// the next, holds the next command: pure's and starship's directory with its git and
    /// runtime segments (`~/src/vpn main*`, `~/src/vpn on  main [!?] via 🐹 v1.21.0`, `~ took
    /// 2s`, `jane@MacBook-Pro in ~`) and spaceship's `jane at MacBook-Pro in ~`, over a line that
    /// starts with a prompt character alone (`❯ netstat -rn`, `➜ ifconfig -a`). It holds a
    /// directory among a few words, and no word that says time passed or names a command that
    /// may change the tables.
    func isTwoLinePromptTop(_ position: Int) -> Bool {
        let line = text.line(position)
        guard range.upperBound < text.count, text.line(range.upperBound) == line + 1 else { return false }
        var words: [Substring] = []
        var next = position
        while next < text.count, text.line(next) == line {
            words.append(text[next])
            next += 1
            if words.count > 12 { return false }
        }
        guard next < text.count, text.line(next) == line + 1, text[next].count <= 3, ShellCommand.isPrompt(text[next]),
              text[next].allSatisfy({ ShellCommand.promptEnds.contains($0) }),
              words.contains(where: ShellCommand.isDirectoryWord) else { return false }
        return CaptureReader.timePassingWord(words.map(String.init)) == nil && CaptureReader.changeSpan(in: words.joined(separator: " ")) == nil
    }

    /// A line's words with the tags of `markupTags` (with their attributes) and the marks of an
    /// HTML comment (not what it says) taken away, or nil when it holds none.
    static func withoutMarkup(_ words: [Substring]) -> [Substring]? {
        let line = words.joined(separator: " ")
        guard line.contains("<") else { return nil }
        let tags = markupTags.sorted().joined(separator: "|")
        let bare = line.replacingOccurrences(of: "<!--|-->", with: " ", options: .regularExpression)
            .replacingOccurrences(of: "(?i)</?(?:\(tags))(?:\\s[^<>]*)?/?>", with: " ", options: .regularExpression)
        guard bare != line else { return nil }
        return bare.split(separator: " ").map { Substring($0) }
    }

    /// Whether a line only names a listing's command, as a script's header or a caption does
    /// (`--- netstat -rn -f inet ---`, "^ that was `ifconfig -a`"), with no time, handle or
    /// address, no word that says time passed and no command that may change the tables.
    static func namesListing(_ words: [Substring]) -> Bool {
        guard words.count <= 10, words.contains(where: { ShellCommand.tools[bareCommandWord(String($0))].map(ShellCommand.namedListingTools.contains) ?? false }),
              CaptureReader.timePassingWord(words.map(String.init)) == nil, !hasStamp(words) else { return false }
        return CaptureReader.changeSpan(in: words.joined(separator: " ")) == nil
    }

    /// Whether words hold a time, a date, a handle or an address: what a message's header has.
    static func hasStamp(_ words: [Substring]) -> Bool {
        words.contains { word in
            word.contains("@") || word.contains("<") || word.contains("[") || word.first?.isNumber == true
                || word.dropLast().contains { $0.isNumber } && (word.contains(":") || word.contains("/") || word.contains("."))
                || word.contains { "年月日時".contains($0) } || word.filter(\.isNumber).count >= 4
        }
    }

    /// Whether a line only introduces the listing after it, as forum posts do between their
    /// code blocks ("and the routes:", "Next, the routing table:", "以下是策略路由："): a few
    /// words ending in a colon, with no time, date, handle or address (a message's header has
    /// one: `[10:41] <bob> routes now:`, `Le … à 10:41, Bob <bob@…> a écrit :`) and no word
    /// that says time passed ("Edit:", "UPDATE: after reconnecting", "Next morning:").
    static func introducesListing(_ words: [Substring]) -> Bool {
        guard let last = words.last, (1...10).contains(words.count), last.hasSuffix(":") || last.hasSuffix("：") else { return false }
        if CaptureReader.timePassingWord(words.map(String.init)) != nil { return false }
        return !hasStamp(words) && CaptureReader.changeSpan(in: words.joined(separator: " ")) == nil
    }

    /// Notes a line skipped as no tool output at `position` (which starts it) when it stands
    /// after a listing: one of this section's, or (in prose or under a command named in prose,
    /// whose lines are not a typed command's output) one read earlier in the file. Lines under a
    /// typed command before its listing are its own (lsof's warnings, sudo's `Password:`).
    func noteGap(at position: Int, into contents: inout CaptureContents) {
        guard contents.unshownGap == nil, text.startsLine(position), recordsRead || contents.listingReadInFile else { return }
        if let command, !command.introduced, !recordsRead { return }
        // (A typed line of several commands, `ifconfig -a; date`: the others print too.)
        if let command, !command.introduced, ShellCommand.segments(line: ShellCommand.line(of: command, in: text)).count > 1 { return }
        guard !isHarmlessBetweenListings(position) else { return }
        let words = text.lineWords(at: position, within: range, limit: 10)
        contents.unshownGap = "\(at(position)): '\(words.joined(separator: " ").prefix(60))' stands between two listings and is no tool output, prompt or command tunwarden knows (a message's header, a time, prose): what follows is of another moment"
    }

    /// Whether a listing starts at `position`: a record's header or first row, or the output
    /// of this section's listing command.
    func startsListing(_ position: Int) -> Bool {
        if position == range.lowerBound, let command, command.tool != .other, !shapeOnly { return true }
        return text.startsLine(position) && CaptureReader.startsOutput(text, at: position)
    }

    /// A listing starts after a line noted by `noteGap`: it is of another moment.
    func openMomentAfterGap(at position: Int, into contents: inout CaptureContents) {
        guard let note = contents.unshownGap, startsListing(position) else { return }
        contents.unshownGap = nil
        contents.moment += 1
        contents.notes.append(note)
    }
}

extension CaptureReader {
    /// The history number a prompt shows (bash's `\\!`, zsh's `%!` or `%h`) in brackets or after
    /// `!`: `[502]`, `!502`. (A bracketed status, fish's `[2]`, jumps too: another moment, the
    /// safe side.)
    static func historyNumber(_ words: [String]) -> Int? {
        for word in words {
            var digits = Substring(word)
            if digits.hasPrefix("["), digits.hasSuffix("]") { digits = digits.dropFirst().dropLast() } else if digits.hasPrefix("!") { digits = digits.dropFirst() } else { continue }
            if (1...7).contains(digits.count), digits.allSatisfy(\.isASCII), let number = Int(digits) { return number }
        }
        return nil
    }

    /// Words with which a line of prose says that time passed or the network changed ("Edit:",
    /// "UPDATE: after reconnecting", "Next morning:", "After a reboot", "(after reconnect)").
    static let timePassingWords: Set<String> = [
        "after", "afterwards", "later", "edit", "edited", "update", "updated", "upd", "morning", "tomorrow", "yesterday",
        "reboot", "rebooted", "rebooting", "restart", "restarted", "restarting", "reconnect", "reconnected", "reconnecting",
        "reconnects", "wake", "woke", "waking",
        "waited", "waiting", "sleep", "slept", "clicked", "click", "toggled", "toggle", "relaunched", "relaunch", "reinstalled",
        "started", "launched", "opened", "killed", "quit", "stopped", "crashed", "restored", "switched", "changed",
        "now", "again", "nachher", "später", "danach", "neustart", "après", "ensuite", "después", "luego",
    ]

    /// The word with which prose says time passed (see `timePassingWords`), or nil.
    static func timePassingWord(_ words: [String]) -> String? {
        words.first { word in
            let bare = word.contains("<") ? word.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression) : word
            return timePassingWords.contains(bare.lowercased().filter(\.isLetter))
        }
    }

    /// Why the prose of the line that names `command` (a line introducing a code block, a
    /// Markdown heading) says what follows is of another moment, or nil: another code span of
    /// it names a command that may change the tables ("Then I ran `open -a Tunnelblick`, and
    /// `netstat -nr -f inet` shows:"), or its words say that time passed ("### netstat -nr
    /// (after reconnecting)", "UPDATE: after reconnecting, `netstat -rn`:").
    static func proseChange(of command: ShellCommand, in text: CaptureText) -> String? {
        let words = text.lineWords(at: command.words.lowerBound, within: 0..<text.count, limit: 48)
        let heading = words.first.map { $0.count >= 2 && $0.allSatisfy { $0 == "#" } } ?? false
        guard command.introduced || heading else { return nil }
        let line = words.joined(separator: " ")
        if let span = changeSpan(in: line) { return "`\(span.prefix(60))` is named in it, run before the listing" }
        // (The code spans' own words are commands, not prose.)
        let prose = line.replacingOccurrences(of: "(`+)(.+?)\\1|<code>.*?</code>|\\{\\{.*?\\}\\}", with: " ", options: .regularExpression)
        if let word = timePassingWord(prose.split(separator: " ").map(String.init)) { return "'\(word)' says time passed" }
        return nil
    }

    /// A code span of a line of prose that names a command that may change the tables (`open -a
    /// Tunnelblick`, `sudo killall -9 nesessionmanager`, `sleep 600`), or nil.
    static func changeSpan(in line: String) -> String? {
        guard line.contains("`") || line.contains("<") || line.contains("{{") else { return nil }
        for span in ShellCommand.codeSpans(in: line) {
            let spanWords = span.split(separator: " ").map(String.init)
            // (A word alone in a span is as often a name as a command: `utun4`, `nesessionmanager`.)
            guard spanWords.count >= 2, let program = ShellCommand.program(of: spanWords)?.name, ShellCommand.isCommandWord(program),
                  !ShellCommand.isInterfaceName(program),
                  ShellCommand.tools[program] == nil || ShellCommand.segmentMayChange(spanWords),
                  ShellCommand.mayChangeTables(line: spanWords) else { continue }
            return span
        }
        return nil
    }
}
