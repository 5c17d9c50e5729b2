import Foundation
import TunwardenCore

/// Reads captured text of any shape: a tool's output alone, a terminal transcript with prompts and
/// other commands in between, a whole forum post or ticket with prose around the listings, and
/// any of these with their line breaks lost. Command lines, where present, say which tool printed
/// what follows and through which filters; elsewhere records are recognised by their shape.
enum CaptureReader {
    /// Reads `text`, whose output is expected to come from `hint` where no command line says
    /// otherwise (the file name of a capture directory's `netstat.txt`).
    static func read(_ text: CaptureText, expecting hint: ShellCommand.Tool? = nil) -> CaptureContents {
        var contents = CaptureContents()
        read(text, expecting: hint, into: &contents)
        return contents
    }

    static func read(_ text: CaptureText, expecting hint: ShellCommand.Tool?, into contents: inout CaptureContents) {
        if !text.isEmpty {
            contents.isBlank = false
            if contents.firstWords.isEmpty { contents.firstWords = text.excerpt(0..<min(text.count, 8), limit: 60) }
        }
        for form in text.writtenAs { contents.notes.append("\(text.file): \(form)") }
        if let prefix = text.linePrefix { contents.notes.append("\(text.file): \(prefix.note)") }
        // The files of a capture directory are read in a fixed order, not the order they were
        // made in: moments compare within one file only. Files of no known order (see
        // `CapturedInventory.fileOrder`) are each a moment of its own, numbered apart so that no
        // two files' moments pass for one.
        if contents.continuesMoment {
            // (A file of a group taken together: the moment of the group's first.)
        } else if contents.unorderedFiles, !contents.isBlank || contents.moment > 0 { contents.moment += 1 } else { contents.moment = 0 }
        contents.routesBeforeFile = contents.routes.count
        (contents.unshownGap, contents.listingReadInFile, contents.lastHistoryNumber) = (nil, false, nil)
        // Where commands start, in one pass.
        var commands: [ShellCommand] = []
        var position = 0
        while position < text.count {
            if mayStartCommand(text, at: position), var command = ShellCommand.recognize(in: text, at: position) {
                // What a prompt shows before its last word (`(base) user@host ~ %`, `[user@host
                // ~]$`) is the prompt's, not the end of the output before it: a few words back to
                // the line's start (a paste that lost its line breaks has many, and keeps them).
                // (When the line starts with a word shaped like a prompt's, at most six words
                // back: `(base) MacBook-Pro:~ user$`, `(base) user@mbp vpn %`, `[Sat Dec 05
                // 17:02] jane@mbp ~ %`.)
                var first = command.words.lowerBound
                while first > (commands.last?.words.upperBound ?? 0), text.line(first - 1) == text.line(command.words.lowerBound),
                      command.words.lowerBound - first < 6 {
                    first -= 1
                }
                if first < command.words.lowerBound, text.startsLine(first), Self.promptShaped(text[first]) {
                    command.words = first..<command.words.upperBound
                }
                commands.append(command)
                position = command.words.upperBound
                continue
            }
            // A line that introduces a code block with the command of its output.
            if text.startsLine(position), let command = ShellCommand.introduced(in: text, lineAt: position) {
                commands.append(command)
                position = command.words.upperBound
                continue
            }
            // A command that changes the tables alone on its line, without a prompt, among
            // others (a fence of commands and outputs, Warp's copied blocks).
            if text.startsLine(position),
               let command = ShellCommand.bareChange(in: text, lineAt: position,
                                                     inContext: !commands.isEmpty || ShellCommand.insideFence(text, line: text.line(position))) {
                commands.append(command)
                position = command.words.upperBound
                continue
            }
            position += 1
        }
        var sectionStart = 0
        var current: ShellCommand?
        var mixed = false
        // The moment the file the last line showed was saved at (`cat ~/if-before.txt`).
        var shownMoment: Int?
        // The last line's output spans moments (a loop, or a change between its listings): what
        // follows it is of another moment than any of it.
        var spanned = false
        // The last line waited on a person after its output (a pager): what follows is of a later moment.
        var paged = false
        // A loop typed over several lines is open: bash's `> …` continuation lines are its body.
        var loopOpen = false
        var repeating = false
        var piped: Set<ShellCommand.Tool> = []
        var holderListing: ShellCommand?
        var listsEveryInterface = false
        contents.savedAt = [:]
        // Where the time in the lines' stamps (a CI log's, `ts`'s, a chat log's) jumps: what
        // follows is of another moment, as after a prompt's clock that moved on.
        // (So does a new message of a thread copied from a chat, an issue or a mail, and a
        // quote of an earlier one: see `messageBreaks`.)
        let stampBreaks = (Self.stampBreaks(text) + Self.messageBreaks(text)).sorted { $0.position < $1.position }
        // (A quote of an earlier message and the reply around it are of different moments: a
        // command on one side and one on the other are.)
        let quoteBoundaries = Self.quoteBoundaries(text, commandLines: Set(commands.map { text.line($0.words.upperBound - 1) }))
        var nextBoundary = 0
        var nextBreak = 0
        /// Reads the output from `sectionStart` to `end` with the command that printed it, split
        /// where the stamps jump: the output after a jump is of another moment, and of no command
        /// the capture shows. Whether a jump falls on the line of the command at `end`.
        func readOutput(to end: Int, into contents: inout CaptureContents) -> Bool {
            var jumpsAtEnd = false
            while nextBreak < stampBreaks.count, stampBreaks[nextBreak].position <= end || (end < text.count && text.line(stampBreaks[nextBreak].position) == text.line(end)) {
                let (position, note) = stampBreaks[nextBreak]
                nextBreak += 1
                if end < text.count, text.line(position) == text.line(end) {
                    jumpsAtEnd = true
                    contents.notes.append(note)
                    continue
                }
                guard position > sectionStart else { continue }
                var section = Section(text: text, range: sectionStart..<position, command: current, hint: current == nil ? hint : nil)
                (section.mixedMoments, section.pipedOn, section.repeated, section.listsEveryInterface) = (mixed, piped, repeating, listsEveryInterface)
                section.holderListing = holderListing
                section.read(into: &contents)
                contents.moment += 1
                contents.notes.append(note)
                (current, sectionStart, mixed, piped, repeating, listsEveryInterface, spanned, paged) = (nil, position, false, [], false, false, false, false)
                shownMoment = nil
                holderListing = nil
            }
            return jumpsAtEnd
        }
        for command in commands {
            let stampJumps = readOutput(to: command.words.lowerBound, into: &contents)
            var quoteChanged = false
            while nextBoundary < quoteBoundaries.count, quoteBoundaries[nextBoundary].line <= text.line(command.words.lowerBound) {
                if current != nil || sectionStart > 0 {
                    quoteChanged = true
                    contents.notes.append(quoteBoundaries[nextBoundary].note)
                }
                nextBoundary += 1
            }
            var section = Section(text: text, range: sectionStart..<command.words.lowerBound, command: current, hint: current == nil ? hint : nil)
            (section.mixedMoments, section.pipedOn, section.repeated, section.listsEveryInterface) = (mixed, piped, repeating, listsEveryInterface)
            section.holderListing = holderListing
            section.endsAtCommand = !stampJumps
            // A time `date` printed before or after the listings of its line (`date; ifconfig -a`,
            // `ifconfig -a; date`) is theirs: far from the last, it starts their moment.
            for leading in [true, false] { Self.readShownTime(text, in: section.range, of: current, leading: leading, into: &contents) }
            Self.read(section, at: shownMoment, into: &contents)
            if stampJumps || quoteChanged { contents.moment += 1 }
            // A session that ended or began, or a clock far on, is a moment of its own.
            if Self.breaksSession(text, in: section.range) {
                contents.moment += 1
                contents.notes.append("\(text.file):\(text.line(section.range.lowerBound)): a terminal session ended or began here: what follows is of another moment")
            }
            contents.notes.append("\(text.file):\(text.line(command.words.lowerBound)): command `\(command.display)`"
                + (command.introduced ? ", named for the code block that follows" : ""))
            if let problem = CapturedInventory.iprouteProblem(command, at: "\(text.file):\(text.line(command.words.lowerBound))") { contents.problems.append(problem) }
            let line = ShellCommand.line(of: command, in: text)
            // (A command after bash's `>` continuation prompt of an open loop is the loop's body.)
            loopOpen = loopOpen && text[command.words.lowerBound] == ">"
            let repeats = ShellCommand.repeats(line: line) || loopOpen
            if repeats {
                contents.notes.append("\(text.file):\(text.line(command.words.lowerBound)): `\(command.display)` runs its commands again and again: its output spans moments, and what follows it is of another")
            }
            loopOpen = loopOpen || ShellCommand.opensLoop(line: line)
            // A line of prose that names the command may say what came before it ("Then I ran
            // `open -a Tunnelblick`, and `netstat -rn` shows:", "### netstat -rn (after reconnecting)").
            let proseChange = Self.proseChange(of: command, in: text)
            if let proseChange {
                contents.notes.append("\(text.file):\(text.line(command.words.lowerBound)): \(proseChange): what follows is of another moment")
            }
            let changes = ShellCommand.mayChangeTables(line: line) || repeats || ["exit", "logout"].contains(command.name) || proseChange != nil
            // Another machine's output (after `ssh host`, under a prompt naming another host) is
            // of no moment of this one's: a moment starts there, and again when it ends.
            // (An introduced command's line is prose, with no prompt.)
            let prompt = command.introduced ? [] : (command.words.lowerBound..<command.words.upperBound).prefix(8).map { String(text[$0]) }
            // (A two-line prompt shows its clock and host on the line above: see `framePromptWords`.)
            let promptWords = (command.introduced ? [] : Self.framePromptWords(text, at: command.words.lowerBound))
                + Array(prompt.prefix { ShellCommand.commandName($0) != command.name && ShellCommand.commandName($0) != "sudo" })
            // A prompt that shows the time, on the left or on the right: far on (or back, past
            // midnight) is another moment.
            if let clock = Self.promptClock(promptWords) ?? Self.promptClock(command.rightPrompt) {
                if let last = contents.lastPromptClock, clock - last > Int(Self.dateGapLimit) || clock < last {
                    contents.moment += 1
                    contents.notes.append("\(text.file):\(text.line(command.words.lowerBound)): the prompt's clock moved from \(last / 3600):\(String(format: "%02d", last / 60 % 60)) to \(clock / 3600):\(String(format: "%02d", clock / 60 % 60)): what follows is of another moment")
                }
                contents.lastPromptClock = clock
            }
            // A prompt that shows the history number (`[502] user@mbp$`, `user@mbp !502 $`): a
            // jump of more than one is commands left out of the paste (round 37 F9).
            if let number = Self.historyNumber(promptWords) {
                if let last = contents.lastHistoryNumber, number > last + 1 {
                    contents.moment += 1
                    contents.notes.append("\(text.file):\(text.line(command.words.lowerBound)): the prompt's history number moved from \(last) to \(number): \(number - last - 1) commands left out of the paste ran here, and what follows is of another moment")
                }
                contents.lastHistoryNumber = number
            }
            let host = ShellCommand.promptHost(promptWords)
            let otherHost = host != nil && contents.promptHost != nil && host != contents.promptHost
            if let host { contents.promptHost = host }
            let elsewhere = ShellCommand.goesElsewhere(line: line)
            if changes || otherHost || elsewhere || contents.elsewhere || spanned || paged { contents.moment += 1 }
            paged = ShellCommand.waitsAfterItsOutput(line: line)
            contents.elsewhere = elsewhere
            // Files shown after a change (`ifconfig -a > if.txt`, `open -a …`, `cat if.txt`) hold
            // listings of another moment. A file saved on a line that also changes the tables, or
            // appended to at two moments, is of no moment the capture tells (-1).
            for target in ShellCommand.redirectTargets(line: line) {
                let moment = ShellCommand.changesBetweenItsCommands(line: line) ? -1 : contents.moment
                if target.appending, let earlier = contents.savedAt[target.path], earlier != moment {
                    contents.savedAt[target.path] = -1
                } else {
                    contents.savedAt[target.path] = moment
                }
            }
            let shownFiles = Self.shownFiles(command, saved: contents.savedAt)
            repeating = repeats
            spanned = repeats || ShellCommand.changesBetweenItsCommands(line: line)
            mixed = spanned
                || (contents.moment > 0 && shownFiles.contains { contents.savedAt[$0] != contents.moment })
            // What a file shows is of the moment it was saved at, when the capture shows one.
            let savedMoments = Set(shownFiles.map { contents.savedAt[$0] ?? -1 })
            shownMoment = savedMoments.count == 1 && savedMoments.first! >= 0 && !spanned ? savedMoments.first : nil
            piped = ShellCommand.listingsPipedOn(line: line)
            holderListing = ShellCommand.holderListing(line: line)
            listsEveryInterface = ShellCommand.listsEveryInterface(line: line)
            current = command
            sectionStart = command.words.upperBound
        }
        _ = readOutput(to: text.count, into: &contents)
        var last = Section(text: text, range: sectionStart..<text.count, command: current, hint: current == nil ? hint : nil)
        (last.mixedMoments, last.pipedOn, last.repeated, last.listsEveryInterface) = (mixed, piped, repeating, listsEveryInterface)
        last.holderListing = holderListing
        // A code block opened before any output and never closed: the paste was cut inside it.
        // (A lone fence after output may close a block whose opening was not pasted.)
        // (A command named before the block, in prose, is outside it.)
        if let fence = text.unpairedFenceLine {
            let typed = commands.first { !$0.introduced }
            let firstOutput = (0..<(typed?.words.lowerBound ?? text.count)).first { Self.startsOutput(text, at: $0) } ?? typed?.words.lowerBound
            last.cutAtEnd = firstOutput.map { text.line($0) > fence } ?? false
        }
        for leading in [true, false] { Self.readShownTime(text, in: last.range, of: current, leading: leading, into: &contents) }
        Self.read(last, at: shownMoment, into: &contents)
    }

    /// Reads a section at `moment` when one is given (a saved file's), else at the current one.
    static func read(_ section: Section, at moment: Int?, into contents: inout CaptureContents) {
        var section = section
        let now = contents.moment
        if let moment { contents.moment = moment }
        section.read(into: &contents)
        contents.moment = now
    }

    /// Where the time in the stamps that start the lines jumps (`LinePrefix.stamps`): the first
    /// word of each line whose stamp is more than `dateGapLimit` after the last stamp before it, or
    /// more than a minute before it (a clock past midnight, another day), with the note that says so.
    static func stampBreaks(_ text: CaptureText) -> [(position: Int, note: String)] {
        guard let stamps = text.linePrefix?.stamps, !stamps.isEmpty, !text.isEmpty else { return [] }
        var breaks: [(position: Int, note: String)] = []
        var last: (line: Int, time: Int)?
        var position = 0
        for line in stamps.keys.sorted() {
            let time = stamps[line]!
            defer { last = (line, time) }
            guard let previous = last, time - previous.time > Int(dateGapLimit) || previous.time - time > 60 else { continue }
            while position < text.count, text.line(position) < line { position += 1 }
            guard position < text.count else { break }
            func shown(_ seconds: Int) -> String { "\(seconds % 86_400 / 3600):\(String(format: "%02d", seconds / 60 % 60))" }
            let days = time / 86_400 - previous.time / 86_400
            let later = days > 0 ? " \(days) day\(days == 1 ? "" : "s") later" : ""
            breaks.append((position, "\(text.file):\(line): the lines' stamps moved from \(shown(previous.time)) to \(shown(time))\(later): what follows is of another moment"))
        }
        return breaks
    }

    /// Whether a word looks like part of a shell prompt before its last word: a conda or
    /// virtualenv name (`(base)`), a bracketed `[user@host ~]`, a user and host, a directory,
    /// a clock (`[10:15:22]`, `{10:15:22}`), a day's name (`Sat Dec 05 17:02`) or a git status.
    static func promptShaped(_ word: Substring) -> Bool {
        guard let first = word.first else { return false }
        return (first == "(" && word.last == ")") || first == "[" || word.last == "]" || word.contains("@") || first == "~" || first == "/"
            || first == "{" || dayNames.contains(String(word))
            || word.hasPrefix("git:(") || word.contains(":~") || word.contains(":/")
            // A clock (zsh's `%*`: `09:02:11 user@host ~ %`).
            || (first.isNumber && word.contains(":") && word.split(separator: ":").allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) })
    }

    /// The days of the week as a prompt's date shows them (bash's `\d`, zsh's `%D{%a}`): `Sat`.
    static let dayNames: Set<String> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// A cheap test before the full one: commands start after a prompt or at a line's start.
    static func mayStartCommand(_ text: CaptureText, at position: Int) -> Bool {
        // A prompt ends with `$`, `%`, `#`, `>` or a character beyond ASCII (a theme's arrow), or
        // starts with one (a frame's corner); a Markdown heading, which may name a command
        // (`### ifconfig -a`), starts with `#`. Other words are told by their bytes alone.
        let (first, last) = (text.firstByte(position), text.lastByte(position))
        if first >= 0x80 || last >= 0x80 || first == UInt8(ascii: "#") || "$%#>".utf8.contains(last) {
            let word = text[position]
            if ShellCommand.isPrompt(word) || ShellCommand.endsDecoratedPrompt(text, at: position) { return true }
            if first == UInt8(ascii: "#"), word.count >= 2, word.allSatisfy({ $0 == "#" }) { return true }
        }
        guard text.startsLine(position) else { return false }
        // (A command word may be quoted or escaped: `\ifconfig`, `"sudo"`, `$'ifconfig'`, zsh's `=ifconfig`.)
        let word = "\\'\"$=".utf8.contains(first) || text[position].contains("\\") ? Substring(ShellCommand.commandName(text[position])) : text[position]
        let name = word.utf8.contains(UInt8(ascii: "/")) ? PathText.lastComponent(word) : String(word)
        return word == "sudo" || ShellCommand.tools[name] != nil || ShellCommand.directoryPromptEnd(in: text, at: position) != nil
            || ShellCommand.emojiPromptEnd(in: text, at: position) != nil
    }

    /// Whether a record of some tool plainly starts at `position`: an interface block, a netstat
    /// title or header, an lsof or ps header, `route get` output, or a route row.
    static func startsOutput(_ text: CaptureText, at position: Int) -> Bool {
        // Each record starts with a word of few shapes: an interface's name and colon, a title or
        // header (`Internet:`, `Routing`, `Destination`, `COMMAND`, `PID`, `USER`, `UID`, `Name`),
        // `route to:`, or a route row, whose flags start with U where no header vouches for it.
        // The words of other output are told from them by their first and last bytes.
        let first = text.firstByte(position)
        guard text.lastByte(position) == UInt8(ascii: ":") || first == UInt8(ascii: "r") || (first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z"))
                || (position + 2 < text.count && text.firstByte(position + 2) == UInt8(ascii: "U")) else { return false }
        return Section.isIfconfigHeader(text, position) || Section.isNetstatTitle(text, position) || Section.isNetstatHeader(text, position)
            || Section.isLsofHeader(text, position) || Section.psHeader(text, position) != nil || Section.isRouteGet(text, position)
            || Section.isNetstatInterfacesHeader(text, position) || Section.routeRowEnd(text, position, strict: true, limit: text.count) != nil
    }
}
