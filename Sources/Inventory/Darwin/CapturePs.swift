import Foundation
import TunwardenCore

/// Reading `ps` output of any common layout (`-axo pid,comm`, `aux`, `-ef`, `ax`, `-A`), and
/// `pgrep`'s.
extension Section {
    /// Which columns a ps listing has: where the pid is, and how many words come before the command.
    struct PsLayout: Equatable {
        var pidColumn: Int
        var commandColumn: Int
        var headerWords: Int
        /// The column before the command is TIME (`0:53.91`): a row whose columns before it
        /// printed more words than one each has its command found after its time (see
        /// `commandStart`).
        var timeBeforeCommand = false
    }

    /// Whether the ps rows were cut at a terminal's width: macOS `ps` without `-ww` cuts each
    /// line at the window's edge, so several rows end at one column of 40 or more, and a
    /// program's path may be cut off (`/Library/Application Support/ZeroTier/On`).
    var psRowsCutAtWidth: Bool {
        if psColumnsAsked == Int.max { return false }
        guard let widest = psRowSpans.max(), widest >= 40 else { return false }
        // One row alone at the widest column is cut too when what it shows is the start of
        // ZeroTier's command, stopped inside it (`/Library/Application`): a hand-trimmed
        // listing may keep no other row that long, and a live feth pair's owner must not vanish.
        // (A cut that fell on a blank leaves the row a column short once trailing blanks go.)
        return psRowSpans.count { $0 == widest } >= 2
            || zip(psRowSpans, psSpanRows).contains { span, row in span >= widest - 1 && Self.mayBeCutDaemon(row.command) }
    }

    /// Whether a ps row's command is a proper start of the long daemon command tunwarden knows,
    /// as a row cut at the terminal's width inside it shows. The command is taken from its first
    /// path: words of a column no layout knows may stand before it.
    static func mayBeCutDaemon(_ shown: String) -> Bool {
        let path = shown.hasPrefix("/") ? Substring(shown) : shown.range(of: " /").map { shown[shown.index(after: $0.lowerBound)...] } ?? ""
        return path.count >= 2 && path.count < longDaemonCommand.count && longDaemonCommand.hasPrefix(path)
    }

    /// The rows of a listing ps cut at the terminal's width that reach that width: their
    /// commands may go on beyond what the paste shows.
    var psRowsReachingWidth: [(pid: Int32, command: String)] {
        guard psRowsCutAtWidth, let widest = psRowSpans.max() else { return [] }
        return zip(psRowSpans, psSpanRows).filter { $0.0 == widest || ($0.0 == widest - 1 && Self.mayBeCutDaemon($0.1.command)) }.map(\.1)
    }

    /// How many columns ps was told to print at least: 131 for one `w` (`ps auxw`), all of
    /// them for two (`ps auxww`, `-w -w`), none beyond the terminal's otherwise.
    var psColumnsAsked: Int? {
        guard let command, command.tool == .ps else { return nil }
        // Option words only: `-w`, `-ww`, `-efw`, or BSD letters first (`auxww`); not a value
        // (`-U www`).
        let options = command.arguments.enumerated().filter { position, argument in
            let letters = argument.hasPrefix("-") ? argument.dropFirst() : Substring(argument)
            let isValue = position > 0 && command.arguments[position - 1].hasPrefix("-")
                && (ShellCommand.valued[.ps] ?? []).contains(command.arguments[position - 1].last ?? " ")
            return !letters.isEmpty && letters.allSatisfy(\.isLetter) && !isValue && (argument.hasPrefix("-") || position == 0)
        }.map(\.element)
        switch options.reduce(0, { $0 + $1.count { $0 == "w" } }) {
        case 0: return nil
        case 1: return 131
        default: return Int.max
        }
    }

    /// Whether rows of this ps listing may have been cut at the terminal's width before a filter
    /// (`| grep -i zerotier`) saw them, so that a process the filter looks for can be missing
    /// from its output although it runs.
    ///
    /// macOS `ps` cuts its command column at the terminal's width whenever the terminal is its
    /// output, standard error or input: `ps aux | grep` in a terminal is cut as `ps aux` is,
    /// unless `-ww` is given. A row cut before the name the filter looks for is dropped whole,
    /// with nothing left to show it was there. The listing is trusted only where its own rows
    /// prove the terminal wide enough for a daemon's command as long as ZeroTier's to reach its
    /// name, from the column where the commands start: where the filter's word ends in that
    /// command (column 37 for `grep -i zerotier`, 54 for `grep zerotier-one`).
    func psRowsMayBeCut(before filter: TextFilter) -> Bool {
        // A filter that cannot be reasoned about says so itself.
        guard !filter.opaque, !filter.inverted else { return false }
        if let asked = psColumnsAsked, asked == Int.max { return false }
        guard let commandsStart = psCommandOffsets.max() else { return true }
        // Where the filter first finds its word in the daemon's command; a filter that would not
        // find it there shows no daemon row anyway, and says so itself.
        let daemon = filter.ignoreCase ? Self.longDaemonCommand.lowercased() : Self.longDaemonCommand
        let reaches = filter.patterns.compactMap { pattern -> Int? in
            let pattern = filter.ignoreCase ? pattern.lowercased() : pattern
            guard !pattern.isEmpty, let found = daemon.range(of: pattern) else { return nil }
            return daemon.utf8.distance(from: daemon.utf8.startIndex, to: found.upperBound)
        }
        guard let reach = reaches.min() else { return false }
        let proven = max(psRowSpans.max() ?? 0, psColumnsAsked ?? 0)
        return proven < commandsStart + reach + Self.columnsSlack
    }

    /// `filter` as what this ps listing went through: itself, or, where rows may have been cut
    /// before it saw them, a filter known only to hide what it may have hidden.
    func trusted(_ filter: TextFilter) -> TextFilter {
        psRowsMayBeCut(before: filter) ? Self.cutBeforeFiltering(filter) : filter
    }

    /// A row of this listing that its grep let through but that does not hold the grep's
    /// pattern (its own grep row aside): the row was wrapped or cut (`…/Library/Application`,
    /// its `Support/ZeroTier/One/zerotier-one` on the next line), and the listing proves
    /// nothing absent. Nil when every row holds it, or the filter cannot be reasoned about.
    func psRowMissingPattern(_ filter: TextFilter, contents: CaptureContents) -> String? {
        guard !filter.opaque, !filter.inverted, !filter.patterns.isEmpty else { return nil }
        for pid in psPIDs.sorted() {
            guard let command = contents.processes[pid] else { continue }
            let subject = filter.ignoreCase ? command.lowercased() : command
            let holds = filter.patterns.contains { subject.contains(filter.ignoreCase ? $0.lowercased() : $0) }
            if !holds, !["grep", "egrep", "fgrep", "rg"].contains(command.split(separator: " ").first.map { PathText.lastComponent($0) } ?? "") {
                return command
            }
        }
        return nil
    }

    /// The longest command of a daemon a filter looks for that tunwarden knows: ZeroTier's, as
    /// launchd starts it.
    static let longDaemonCommand = "/Library/Application Support/ZeroTier/One/zerotier-one"
    /// Columns of room for rows whose fields are wider than the row shown (a longer user name,
    /// a larger pid).
    static let columnsSlack = 4

    static func psHeader(_ text: CaptureText, _ position: Int) -> PsLayout? {
        let word = text[position]
        guard word == "PID" || word == "USER" || word == "UID", position + 1 < text.count else { return nil }
        var columns: [String] = []
        var at = position
        while at < text.count, columns.count < 14 {
            let column = String(text[at])
            columns.append(column)
            at += 1
            if ["COMMAND", "COMM", "CMD", "ARGS", "UCOMM"].contains(column) { break }
            guard column.allSatisfy({ $0.isUppercase || $0 == "%" }) else { return nil }
        }
        guard let pid = columns.firstIndex(of: "PID"), let command = columns.lastIndex(where: { ["COMMAND", "COMM", "CMD", "ARGS", "UCOMM"].contains($0) }),
              command == columns.count - 1, pid < command else { return nil }
        return PsLayout(pidColumn: pid, commandColumn: command, headerWords: columns.count, timeBeforeCommand: columns[command - 1] == "TIME")
    }

    /// The layout of a ps row without a header at `position`, when one starts there: `ps aux`
    /// (USER PID %CPU %MEM VSZ RSS TT STAT STARTED TIME COMMAND), `ps -ef` (UID PID PPID C STIME
    /// TTY TIME CMD), `ps ax` (PID TT STAT TIME COMMAND), `ps -A` (PID TTY TIME CMD), or PID
    /// COMMAND with an absolute path (`ps -axo pid,comm`).
    func psRowLayout(_ position: Int) -> PsLayout? {
        if let psLayout {
            // Under its command line or its header, a row is any line that starts with a number
            // where the header has PID (`402 zerotier-one`, a command that is not a path). A
            // layout known only from the command line's options (`ps ax | grep zerotier`) takes
            // rows of its shape only, where the shape can be told (a terminal, then a time).
            let checked = psLayoutFromCommand && !psHeaderSeen && Self.terminalLayouts.contains(psLayout)
            guard psRowFits(position, psLayout),
                  (!checked && (tool == .ps || psHeaderSeen || psLayoutFromCommand) && text.startsLine(position)) || rowShape(position, psLayout)
            else { return nil }
            return psLayout
        }
        for layout in [PsLayout(pidColumn: 1, commandColumn: 10, headerWords: 0, timeBeforeCommand: true),
                       PsLayout(pidColumn: 1, commandColumn: 7, headerWords: 0, timeBeforeCommand: true)]
            + Self.terminalLayouts + [PsLayout(pidColumn: 0, commandColumn: 1, headerWords: 0)]
        where psRowFits(position, layout) && rowShape(position, layout) {
            return layout
        }
        return nil
    }

    /// The layouts macOS `ps` prints without `-o`, `-f`, `-l`, `-j`, `-u` or `-v`: PID TT STAT
    /// TIME COMMAND for options without a dash (`ps ax`), PID TTY TIME CMD for options with one
    /// (`ps -A`, `ps -ax`, `ps -axc`).
    static let terminalLayouts = [PsLayout(pidColumn: 0, commandColumn: 4, headerWords: 0, timeBeforeCommand: true),
                                  PsLayout(pidColumn: 0, commandColumn: 3, headerWords: 0, timeBeforeCommand: true)]

    /// The columns a ps command line prints, for its rows shown without their header (`ps ax |
    /// grep zerotier`, `ps -axco pid,command | grep zero`): nil where the options do not tell
    /// (`-O`, fields of several words, `-l`), or where rows tell their layout themselves (`aux`,
    /// `-ef`).
    static func psLayout(of command: ShellCommand) -> PsLayout? {
        guard command.tool == .ps else { return nil }
        let options = command.arguments.enumerated().filter { position, argument in
            let isValue = position > 0 && command.arguments[position - 1].hasPrefix("-")
                && (ShellCommand.valued[.ps] ?? []).contains(command.arguments[position - 1].last ?? " ")
            return !isValue && (argument.hasPrefix("-") || position == 0)
        }.map(\.element)
        let letters = options.flatMap { $0.hasPrefix("-") ? Array($0.dropFirst()) : Array($0) }
        if letters.contains("O") { return nil }
        if letters.contains("o") {
            // The fields of every `-o`, each a word (`pid`, `comm=`), the command last.
            var fields: [String] = []
            for (position, argument) in command.arguments.enumerated() where argument.hasPrefix("-") && !argument.hasPrefix("--") {
                guard let at = argument.dropFirst().firstIndex(of: "o") else { continue }
                let rest = argument[argument.index(after: at)...]
                let value = !rest.isEmpty ? String(rest) : position + 1 < command.arguments.count ? command.arguments[position + 1] : ""
                fields += value.split(separator: ",", omittingEmptySubsequences: false).map { String($0.prefix { $0 != "=" }).lowercased() }
            }
            guard let last = fields.last, commandFields.contains(last), let pid = fields.firstIndex(of: "pid"),
                  fields.dropLast().allSatisfy(oneWordFields.contains) else { return nil }
            return PsLayout(pidColumn: pid, commandColumn: fields.count - 1, headerWords: 0,
                            timeBeforeCommand: fields.count > 1 && ["time", "cputime"].contains(fields[fields.count - 2]))
        }
        if letters.contains(where: { "fljuvmMLZ".contains($0) }) { return nil }
        if let first = command.arguments.first, !first.hasPrefix("-") { return terminalLayouts[0] }
        return terminalLayouts[1]
    }

    /// `-o` fields that name the command, and fields that print one word in every row.
    static let commandFields: Set<String> = ["comm", "command", "args", "ucomm"]
    static let oneWordFields: Set<String> = ["pid", "ppid", "pgid", "sess", "uid", "ruid", "user", "ruser", "%cpu", "pcpu", "%mem", "pmem",
                                             "rss", "vsz", "tt", "tty", "stat", "state", "time", "cputime", "etime", "nice", "pri", "flags",
                                             // (Five words, `Mon Jan  5 10:20:03 2026`, which `commandStart` finds by their shape.)
                                             "lstart"]

    /// How `pgrep` prints what it matched: its rows are PID NAME with `-l` (PID and the whole
    /// command with `-lf`), pids alone otherwise. Nil when `command` is no pgrep.
    static func pgrepLayout(of command: ShellCommand) -> (layout: PsLayout?, pidsOnly: Bool)? {
        guard isPgrep(command) else { return nil }
        let lists = command.arguments.contains { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains("l") }
        return lists ? (PsLayout(pidColumn: 0, commandColumn: 1, headerWords: 0), false) : (nil, true)
    }

    static func isPgrep(_ command: ShellCommand) -> Bool {
        command.tool == .other && PathText.lastComponent(command.name) == "pgrep"
    }

    func psRowFits(_ position: Int, _ layout: PsLayout) -> Bool {
        position + layout.commandColumn < range.upperBound && Int(text[position + layout.pidColumn]) != nil
    }

    /// Whether the words at `position` have the shapes of a row of `layout` (it fits already).
    func rowShape(_ position: Int, _ layout: PsLayout) -> Bool {
        func number(_ at: Int) -> Bool { Int(text[at]) != nil }
        func decimal(_ at: Int) -> Bool { text[at].contains(".") && Double(text[at]) != nil }
        // A terminal as ps shows it (`??`, `s001`, `ttys001`, `console`), a state (`Ss`, `S+`),
        // and a cpu time (`0:03.21`).
        func terminal(_ at: Int) -> Bool {
            let word = text[at]
            let unit = word.hasPrefix("ttys") ? word.dropFirst(4) : word.hasPrefix("s") ? word.dropFirst() : ""
            return word == "??" || word == "console" || (unit.count >= 3 && unit.allSatisfy(\.isNumber))
        }
        func state(_ at: Int) -> Bool {
            text[at].first.map { $0.isUppercase && $0.isASCII } == true && text[at].allSatisfy { $0.isASCII && ($0.isLetter || "<>+".contains($0)) }
        }
        func cpuTime(_ at: Int) -> Bool { Self.isCpuTime(text[at]) }
        switch (layout.pidColumn, layout.commandColumn) {
        case (1, 10): return decimal(position + 2) && decimal(position + 3) && number(position + 4) && number(position + 5)
        case (1, 7): return number(position) && number(position + 2) && number(position + 3) && text[position + 6].contains(":")
        case (0, 4): return terminal(position + 1) && state(position + 2) && cpuTime(position + 3)
        case (0, 3): return terminal(position + 1) && cpuTime(position + 2)
        default: return text[position + layout.commandColumn].hasPrefix("/")
        }
    }

    /// Whether `word` is a cpu time as ps prints it: `0:53.91` (macOS, minutes and seconds), or
    /// `00:00:01` (hours, minutes and seconds).
    static func isCpuTime(_ word: Substring) -> Bool {
        let parts = word.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }), parts.dropLast().allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return false }
        if parts.count == 2 { return Double(parts[1]) != nil && parts[1].count == 5 && parts[1].contains(".") }
        return parts.count == 3 && parts.dropFirst().allSatisfy { $0.count == 2 && $0.allSatisfy(\.isNumber) }
    }

    /// Where the command of the row at `position` starts. A column before it may print more
    /// words than the one the layout counts: `lstart` prints five (`Mon Jan  5 10:20:03 2026`),
    /// and a Japanese, Chinese or Korean `ps aux` prints STARTED of a process older than a week
    /// as two (` 5 1月25`: those locales pad their month names with a space). Where the column
    /// before the command is TIME, the command starts after the row's time.
    func commandStart(_ position: Int, _ layout: PsLayout) -> Int {
        var start = position + layout.commandColumn
        let line = text.line(position)
        func onLine(_ at: Int) -> Bool { at < range.upperBound && text.line(at) == line }
        if (position..<start).contains(where: isLstart), onLine(start + 4) { start += 4 }
        if layout.timeBeforeCommand, !Self.isCpuTime(text[start - 1]),
           let shift = (1...3).first(where: { onLine(start - 1 + $0 + 1) && Self.isCpuTime(text[start - 1 + $0]) }) {
            start += shift
        }
        return start
    }

    /// Whether `lstart`'s five words start at `at`: a weekday, a month, a day, a time of day and
    /// a year, as the C locale prints them.
    func isLstart(_ at: Int) -> Bool {
        guard at + 4 < range.upperBound, text.line(at + 4) == text.line(at) else { return false }
        let weekdays: Set<Substring> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let time = text[at + 3].split(separator: ":")
        return weekdays.contains(text[at]) && text[at + 1].count == 3 && text[at + 1].allSatisfy(\.isLetter)
            && Int(text[at + 2]).map { (1...31).contains($0) } == true
            && time.count == 3 && time.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isNumber) }
            && text[at + 4].count == 4 && Int(text[at + 4]) != nil
    }

    mutating func readPs(from start: Int, into contents: inout CaptureContents) -> Int {
        var position = start
        let end = range.upperBound
        while position < end {
            guard let layout = psRowLayout(position) else {
                // `[...]` where rows were left out: the listing is partial.
                if let elision = elisionEnd(position) {
                    psElided = true
                    psElidedReason = psElidedReason ?? "'\(text.excerpt(position..<elision, limit: 60))' stands for rows left out"
                    contents.notes.append("\(at(position)): '\(text.excerpt(position..<elision, limit: 40))' marks output left out; the listing is partial")
                    position = elision
                    continue
                }
                if text.startsLine(position), tool == .ps, !CaptureReader.startsOutput(text, at: position) {
                    var lineEnd = position
                    while lineEnd < end, text.line(lineEnd) == text.line(position) { lineEnd += 1 }
                    // The next prompt, with nothing typed after it, ends the listing.
                    if lineEnd - position <= 5, ShellCommand.isPrompt(text[lineEnd - 1]) {
                        if psRows > 0 { psEndShown = true }
                        position = lineEnd
                        continue
                    }
                    contents.problems.append("\(at(position)): not a ps row ('\(text.excerpt(position..<lineEnd, limit: 60))'); skipped")
                    let line = text.excerpt(position..<lineEnd, limit: 200)
                    noteTail(at: position, line)
                    if line.lowercased().contains("zerotier") { psStrayOwnerLine = line }
                    // A line of no command's shape (no path) after rows: a note put in by hand,
                    // whatever its words, unless only the prompt follows it (see below).
                    if psRows > 0, !line.contains("/") { psNoteLine = line }
                    position = lineEnd
                    continue
                }
                break
            }
            if psLayout == nil { psLayout = layout }
            (psEndShown, psTail) = (false, nil)
            if let note = psNoteLine {
                // Rows after it: it stands between rows of one listing, which ps never prints.
                psElided = true
                psElidedReason = psElidedReason ?? "'\(note.prefix(60))' stands between its rows"
                contents.notes.append("\(at(position)): '\(note.prefix(40))' between rows of the ps listing is no row: the listing was edited, and is partial")
                psNoteLine = nil
            }
            let pidWord = text[position + layout.pidColumn]
            let commandStart = commandStart(position, layout)
            var commandEnd = commandStart
            // The command runs to the end of its line, or where the next row starts.
            while commandEnd < end, !text.startsLine(commandEnd) || commandEnd == commandStart {
                if commandEnd > commandStart, psRowFits(commandEnd, layout), rowShape(commandEnd, layout) {
                    break
                }
                if commandEnd > commandStart, CaptureReader.startsOutput(text, at: commandEnd) { break }
                commandEnd += 1
            }
            let command = text.excerpt(commandStart..<commandEnd, limit: 4096)
            if let pid = Int(pidWord), DarwinParsers.Bounds.pid.contains(pid) {
                // A row ps cut at the terminal's width does not take the place of the whole one
                // another listing showed, whichever came first.
                let cutOfWhole = contents.processes[Int32(pid)].map { $0.count > command.count && $0.hasPrefix(command) } ?? false
                if !cutOfWhole { contents.processes[Int32(pid)] = command }
                contents.processStamps[Int32(pid), default: []].insert(contents.stamp(file))
                psPIDs.insert(Int32(pid))
                psRows += 1
                if pid == 1 { psSawLaunchd = true }
                if text.startsLine(position) {
                    // Columns as the terminal showed them: ps cut every row at one column.
                    let lead = text.lineLead(position)
                    psRowSpans.append(lead + text.lineSpan(position))
                    psCommandOffsets.append(lead + text.lineOffset(commandStart))
                    psSpanRows.append((Int32(pid), command))
                }
            } else {
                contents.problems.append("\(at(position)): pid \(pidWord.prefix(24)) is not a process id; row skipped")
            }
            position = commandEnd
        }
        return position
    }
}
