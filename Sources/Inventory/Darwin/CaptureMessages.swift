import Foundation

/// Where a thread copied from a chat, a forum, an issue or a mail starts a new message, and what a
/// two-line prompt shows on its first line. A message is written at its own time, and a quote of
/// an earlier message is of that message's time (and maybe of another writer's Mac): listings on
/// either side of a message's start are of different moments, however few minutes its header shows.
extension CaptureReader {
    /// Where a new message starts in `text`, with the note that says so: at each line that heads
    /// a message (see `messageHeader`). What follows is read as output of no command the capture
    /// shows, as after a jump in the lines' stamps.
    static func messageBreaks(_ text: CaptureText) -> [(position: Int, note: String)] {
        var breaks: [(position: Int, note: String)] = []
        var position = 0
        while position < text.count {
            let line = text.line(position)
            var end = position
            while end < text.count, text.line(end) == line { end += 1 }
            if end - position <= 12, let header = messageHeader((position..<end).map { text[$0] }) {
                breaks.append((position, "\(text.file):\(line): a new message starts here ('\(header)'): what follows is of another moment"))
            }
            position = end
        }
        return breaks
    }

    /// The lines where the depth of quoting changes (`> ` lines quoting an earlier message, and
    /// the reply around them), with the note that says so: a command on one side and a command on
    /// the other are of different moments (see `CaptureReader.read`). A line quoted alone among
    /// lines that are not, or the one line not quoted among quoted ones, is no message of its
    /// own: a command line of a transcript whose prompt is `>`, or one line of an inline reply
    /// (`> and the routes?`), whose writer answers at one time. Nor is a run of quoted lines right
    /// after a command line: those are bash's `> ` continuation lines of that command (a loop
    /// typed over several lines, a pipeline continued), which `tokenize` cannot tell from a quote.
    static func quoteBoundaries(_ text: CaptureText, commandLines: Set<Int>) -> [(line: Int, note: String)] {
        // Runs of lines with words at one depth of quoting: (depth, lines in it, its first line, its last line).
        var runs: [(depth: Int, lines: Int, first: Int, last: Int)] = []
        var position = 0
        while position < text.count {
            let line = text.line(position)
            while position < text.count, text.line(position) == line { position += 1 }
            let depth = text.quoteDepths[line] ?? 0
            if let last = runs.last, last.depth == depth {
                runs[runs.count - 1].lines += 1
                runs[runs.count - 1].last = line
            } else {
                runs.append((depth, 1, line, line))
            }
        }
        var boundaries: [(line: Int, note: String)] = []
        for index in runs.indices.dropFirst() {
            let (before, run) = (runs[index - 1], runs[index])
            if before.lines == 1 || run.lines == 1 || (run.depth > before.depth && commandLines.contains(before.last)) { continue }
            let what = run.depth > before.depth ? "a quote of an earlier message starts here" : "the quote of an earlier message ends here"
            boundaries.append((run.first, "\(text.file):\(run.first): \(what): what follows is of another moment"))
        }
        return boundaries
    }

    /// The words of a line that heads a message, joined for a note, or nil when the line heads
    /// none: a time alone (Slack's `10:41 AM` under the author's name), a name and a time
    /// (`Jane Doe  10:41 AM`), Teams' `[10:41 AM] Jane Doe`, Discord's `Jane — Today at 10:41 AM`,
    /// a mail client's attribution (`On Fri, Dec 4, 2026 at 9:12 PM Bob <…> wrote:`, `Am … schrieb
    /// …:`, `Le … a écrit :`, `-----Original Message-----`), and GitHub's or a forum's `jane
    /// commented yesterday` (`2 days ago`, `on Dec 4`).
    static func messageHeader(_ words: [Substring]) -> String? {
        guard let first = words.first, words.count <= 12 else { return nil }
        let shown = words.joined(separator: " ")
        let lowered = words.map { $0.lowercased() }
        func isHalf(_ word: Substring) -> Bool { ["am", "pm"].contains(word.trimmingCharacters(in: CharacterSet(charactersIn: "[]()")).lowercased()) }
        func isName(_ word: Substring) -> Bool {
            guard let initial = word.first, initial.isUppercase, word.count <= 32 else { return false }
            return word.allSatisfy { $0.isLetter || ".-_'".contains($0) }
        }
        // A time, then at most a half-day mark: `10:41`, `10:41 AM`, `10:41AM`, `[10:41 AM]`.
        func timeEnds(_ words: ArraySlice<Substring>) -> Bool {
            guard let clock = words.first, isClock(clock) else { return false }
            return words.count == 1 || (words.count == 2 && isHalf(words.last!))
        }
        if timeEnds(words[...]) { return shown }
        // A name of one to four words, then the time.
        if let clockAt = words.firstIndex(where: isClock), (1...4).contains(clockAt), words[..<clockAt].allSatisfy(isName), timeEnds(words[clockAt...]) {
            return shown
        }
        // Teams: the time in brackets, then the name.
        if first.hasPrefix("["), let close = words.firstIndex(where: { $0.hasSuffix("]") }), close <= 1, timeEnds(words[...close]),
           words.count > close + 1, words.count <= close + 5, words[(close + 1)...].allSatisfy(isName) {
            return shown
        }
        // Discord: the name, a dash, and the day with its time or its date.
        if let dash = words.firstIndex(where: { $0 == "—" || $0 == "–" || $0 == "-" }), (1...4).contains(dash), dash + 1 < words.count {
            let rest = lowered[(dash + 1)...]
            if ["today", "yesterday", "heute", "gestern", "aujourd’hui", "hier"].contains(rest.first!), rest.contains(where: { isClock(Substring($0)) }) { return shown }
            if rest.count <= 3, rest.first!.split(separator: "/").count == 3, rest.first!.allSatisfy({ $0.isNumber || $0 == "/" }) { return shown }
        }
        // A mail client's attribution of the message it quotes.
        if (first == "On" && lowered.last == "wrote:") || (first == "Am" && lowered.contains("schrieb")) || (first == "Le" && lowered.contains("écrit")) {
            return shown
        }
        if first.hasPrefix("-----Original") || first.hasPrefix("-----Ursprüngliche") { return shown }
        // GitHub's and forums' `jane commented yesterday`.
        if let verb = lowered.firstIndex(where: { ["commented", "replied"].contains($0) }), (1...3).contains(verb), words.count - verb <= 6, verb + 1 < words.count {
            let rest = lowered[(verb + 1)...]
            if rest.last == "ago" || ["yesterday", "today", "on", "last"].contains(rest.first!) || rest.contains("ago") { return shown }
        }
        return nil
    }

    /// Whether a word is a time of day as a message header shows it: `10:41`, `9:02`, `10:41:07`,
    /// `10:41AM`, each maybe in brackets.
    static func isClock(_ word: Substring) -> Bool {
        var bare = word.trimmingCharacters(in: CharacterSet(charactersIn: "[]()"))
        if bare.count > 2, ["am", "pm"].contains(bare.suffix(2).lowercased()) { bare.removeLast(2) }
        let parts = bare.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), (1...2).contains(parts[0].count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
              parts.dropFirst().allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]), hour < 24, let minute = Int(parts[1]), minute < 60 else { return false }
        return true
    }

    /// The words of the first line of a two-line prompt (parrot's `┌─[jane@mbp]─[~]─[17:02:11]`
    /// above `└──╼ $`), split at its frame, when the command at `position` starts after the frame
    /// of the second line: there the prompt shows its clock and host. Empty otherwise.
    static func framePromptWords(_ text: CaptureText, at position: Int) -> [String] {
        var position = position
        while position > 0, !text.startsLine(position) { position -= 1 }
        guard position > 0, let corner = text[position].first, "└╰".contains(corner) else { return [] }
        var start = position - 1
        let line = text.line(start)
        guard line == text.line(position) - 1 else { return [] }
        while start > 0, text.line(start - 1) == line { start -= 1 }
        guard let top = text[start].first, "┌╭".contains(top) else { return [] }
        return (start..<position).flatMap { text[$0].split(whereSeparator: { "─━┌╭[]()".contains($0) }).map(String.init) }
    }
}
