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
        if let prefix = text.linePrefix { contents.notes.append("\(text.file): \(prefix.note)") }
        // The files of a capture directory are read in a fixed order, not the order they were
        // made in: moments compare within one file only.
        contents.moment = 0
        // Where commands start, in one pass.
        var commands: [ShellCommand] = []
        var position = 0
        while position < text.count {
            if mayStartCommand(text, at: position), var command = ShellCommand.recognize(in: text, at: position) {
                // What a prompt shows before its last word (`(base) user@host ~ %`, `[user@host
                // ~]$`) is the prompt's, not the end of the output before it: a few words back to
                // the line's start (a paste that lost its line breaks has many, and keeps them).
                // (When the line starts with a word shaped like a prompt's, at most four words
                // back: `(base) MacBook-Pro:~ user$`, `(base) user@mbp vpn %`.)
                var first = command.words.lowerBound
                while first > (commands.last?.words.upperBound ?? 0), text.line(first - 1) == text.line(command.words.lowerBound),
                      command.words.lowerBound - first < 4 {
                    first -= 1
                }
                if first < command.words.lowerBound, text.startsLine(first), Self.promptShaped(text[first]) {
                    command.words = first..<command.words.upperBound
                }
                commands.append(command)
                position = command.words.upperBound
                continue
            }
            position += 1
        }
        var sectionStart = 0
        var current: ShellCommand?
        var mixed = false
        // The last line's output spans moments (a loop, or a change between its listings): what
        // follows it is of another moment than any of it.
        var spanned = false
        // The last line waited on a person after its output (a pager): what follows is of a later moment.
        var paged = false
        // A loop typed over several lines is open: bash's `> …` continuation lines are its body.
        var loopOpen = false
        var repeating = false
        var piped: Set<ShellCommand.Tool> = []
        var listsEveryInterface = false
        contents.savedAt = [:]
        // Where the time in the lines' stamps (a CI log's, `ts`'s, a chat log's) jumps: what
        // follows is of another moment, as after a prompt's clock that moved on.
        let stampBreaks = Self.stampBreaks(text)
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
                section.read(into: &contents)
                contents.moment += 1
                contents.notes.append(note)
                (current, sectionStart, mixed, piped, repeating, listsEveryInterface, spanned, paged) = (nil, position, false, [], false, false, false, false)
            }
            return jumpsAtEnd
        }
        for command in commands {
            let stampJumps = readOutput(to: command.words.lowerBound, into: &contents)
            var section = Section(text: text, range: sectionStart..<command.words.lowerBound, command: current, hint: current == nil ? hint : nil)
            (section.mixedMoments, section.pipedOn, section.repeated, section.listsEveryInterface) = (mixed, piped, repeating, listsEveryInterface)
            section.read(into: &contents)
            if stampJumps { contents.moment += 1 }
            // A session that ended or began, or a clock far on, is a moment of its own.
            if Self.breaksSession(text, in: section.range) {
                contents.moment += 1
                contents.notes.append("\(text.file):\(text.line(section.range.lowerBound)): a terminal session ended or began here: what follows is of another moment")
            }
            if let current, (current.name as NSString).lastPathComponent == "date", let shown = Self.shownDate(text, in: section.range) {
                if let last = contents.lastShownDate, abs(shown.timeIntervalSince(last)) > Self.dateGapLimit {
                    contents.moment += 1
                    contents.notes.append("\(text.file):\(text.line(section.range.lowerBound)): `date` shows \(Int(abs(shown.timeIntervalSince(last)) / 60)) minutes since the last one: what follows is of another moment")
                }
                contents.lastShownDate = shown
            }
            contents.notes.append("\(text.file):\(text.line(command.words.lowerBound)): command `\(command.display)`")
            let line = ShellCommand.line(of: command, in: text)
            // (A command after bash's `>` continuation prompt of an open loop is the loop's body.)
            loopOpen = loopOpen && text[command.words.lowerBound] == ">"
            let repeats = ShellCommand.repeats(line: line) || loopOpen
            if repeats {
                contents.notes.append("\(text.file):\(text.line(command.words.lowerBound)): `\(command.display)` runs its commands again and again: its output spans moments, and what follows it is of another")
            }
            loopOpen = loopOpen || ShellCommand.opensLoop(line: line)
            let changes = ShellCommand.mayChangeTables(line: line) || repeats || ["exit", "logout"].contains(command.name)
            // Another machine's output (after `ssh host`, under a prompt naming another host) is
            // of no moment of this one's: a moment starts there, and again when it ends.
            let prompt = (command.words.lowerBound..<command.words.upperBound).prefix(6).map { String(text[$0]) }
            let promptWords = Array(prompt.prefix { $0 != command.name && $0 != "sudo" })
            // A prompt that shows the time, on the left or on the right: far on (or back, past
            // midnight) is another moment.
            if let clock = Self.promptClock(promptWords) ?? Self.promptClock(command.rightPrompt) {
                if let last = contents.lastPromptClock, clock - last > Int(Self.dateGapLimit) || clock < last {
                    contents.moment += 1
                    contents.notes.append("\(text.file):\(text.line(command.words.lowerBound)): the prompt's clock moved from \(last / 3600):\(String(format: "%02d", last / 60 % 60)) to \(clock / 3600):\(String(format: "%02d", clock / 60 % 60)): what follows is of another moment")
                }
                contents.lastPromptClock = clock
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
            let shownFiles = command.tool == .other && ["cat", "bat", "head", "tail", "less", "more"].contains((command.name as NSString).lastPathComponent)
                ? command.arguments.filter { !$0.hasPrefix("-") } : []
            repeating = repeats
            spanned = repeats || ShellCommand.changesBetweenItsCommands(line: line)
            mixed = spanned
                || (contents.moment > 0 && shownFiles.contains { contents.savedAt[$0] != contents.moment })
            piped = ShellCommand.listingsPipedOn(line: line)
            listsEveryInterface = ShellCommand.listsEveryInterface(line: line)
            current = command
            sectionStart = command.words.upperBound
        }
        _ = readOutput(to: text.count, into: &contents)
        var last = Section(text: text, range: sectionStart..<text.count, command: current, hint: current == nil ? hint : nil)
        (last.mixedMoments, last.pipedOn, last.repeated, last.listsEveryInterface) = (mixed, piped, repeating, listsEveryInterface)
        // A code block opened before any output and never closed: the paste was cut inside it.
        // (A lone fence after output may close a block whose opening was not pasted.)
        if let fence = text.unpairedFenceLine {
            let firstOutput = (0..<(commands.first?.words.lowerBound ?? text.count)).first { Self.startsOutput(text, at: $0) } ?? commands.first?.words.lowerBound
            last.cutAtEnd = firstOutput.map { text.line($0) > fence } ?? false
        }
        last.read(into: &contents)
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
    /// a clock (`[10:15:22]`) or a git status.
    static func promptShaped(_ word: Substring) -> Bool {
        guard let first = word.first else { return false }
        return (first == "(" && word.last == ")") || first == "[" || word.last == "]" || word.contains("@") || first == "~" || first == "/"
            || word.hasPrefix("git:(") || word.contains(":~") || word.contains(":/")
            // A clock (zsh's `%*`: `09:02:11 user@host ~ %`).
            || (first.isNumber && word.contains(":") && word.split(separator: ":").allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) })
    }

    /// A cheap test before the full one: commands start after a prompt or at a line's start.
    static func mayStartCommand(_ text: CaptureText, at position: Int) -> Bool {
        // A prompt ends with `$`, `%`, `#`, `>` or a character beyond ASCII (a theme's arrow), or
        // starts with one (a frame's corner); a Markdown heading, which may name a command
        // (`### ifconfig -a`), starts with `#`. Other words are told by their bytes alone.
        let (first, last) = (text.firstByte(position), text.lastByte(position))
        if first >= 0x80 || last >= 0x80 || first == UInt8(ascii: "#") || "$%#>".utf8.contains(last) {
            let word = text[position]
            if ShellCommand.isPrompt(word) { return true }
            if first == UInt8(ascii: "#"), word.count >= 2, word.allSatisfy({ $0 == "#" }) { return true }
        }
        guard text.startsLine(position) else { return false }
        let word = text[position]
        let name = word.utf8.contains(UInt8(ascii: "/")) ? (String(word) as NSString).lastPathComponent : String(word)
        return word == "sudo" || ShellCommand.tools[name] != nil || ShellCommand.directoryPromptEnd(in: text, at: position) != nil
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

/// The words between two command lines, with the command that printed them (if any).
struct Section {
    let text: CaptureText
    let range: Range<Int>
    let command: ShellCommand?
    let hint: ShellCommand.Tool?

    /// The netstat table being read: the family of its section title.
    var family: AddressFamily?
    var familiesSeen: Set<AddressFamily> = []
    var netstatHeader = false
    var cutShort = false
    var psLayout: PsLayout?
    /// `psLayout` is what the command line's options print (`ps ax`, `pgrep -l`), not what a
    /// header or a row's shape showed.
    var psLayoutFromCommand = false
    /// The section's command is a `pgrep` without `-l`, which prints pids alone; and the pids it
    /// printed.
    var pgrepPIDsOnly = false
    var pgrepPIDs: [String] = []
    var lsofPIDs: Set<Int32> = []
    var lsofRows = 0
    var psRows = 0
    var ifconfigBlocks = 0
    var ifconfigFragment = false
    var sawLoopback = false
    /// The names of the first blocks, up to three, when the first is lo0: `ifconfig -a` lists
    /// lo0 first and gif0 and stf0 right after it on every macOS (10.14 to 15 seen), which
    /// output pieced together from single blocks (`ifconfig lo0; ifconfig en0`) does not.
    var loopbackRun: [String] = []
    var skippedLines: [Int] = []

    init(text: CaptureText, range: Range<Int>, command: ShellCommand?, hint: ShellCommand.Tool?) {
        self.text = text
        self.range = range
        self.command = command
        self.hint = hint
    }

    var tool: ShellCommand.Tool? { shapeOnly ? nil : command?.tool ?? hint }
    /// The command's own output is not used, and the section is read by shape alone.
    var shapeOnly = false
    var file: String { text.file }

    func at(_ position: Int) -> String { "\(file):\(text.line(position))" }

    // MARK: Reading a section

    mutating func read(into contents: inout CaptureContents) {
        routesAtStart = contents.routes.count
        readNameFile(into: &contents)
        readCommandSightings(into: &contents)
        // `ps aux | grep zerotier | grep -v grep` answering nothing (the next command, or the
        // prompt alone, right after it) is an answer, but one a paste cannot tell from output left
        // out of it: the processes stay unknown, and the reason names the command rather than
        // asking for ps output that was pasted. (zsh's `no matches found` is not nothing.)
        if let command, command.tool == .ps || Self.isPgrep(command), !mixedMoments,
           range.isEmpty || (isBarePrompt(range.lowerBound) && text.line(range.upperBound - 1) == text.line(range.lowerBound)) {
            contents.psSeen = true
            contents.addProcessListing(.unseen("`\(command.display.prefix(80))` printed nothing, which a paste cannot tell from output left out of it; paste the output of `ps -axww -o pid,comm` instead"))
        }
        guard !range.isEmpty else {
            if let command, command.tool != .other { contents.notes.append("\(file): `\(command.display)` printed nothing") }
            return
        }
        // `^C` on a line of the output, or before the next prompt (`^Cuser@mbp ~ %`): the command
        // that printed it was stopped before its end (a slow `lsof` without -n often is), so
        // what it printed is cut.
        func interrupts(_ position: Int) -> Bool { position < text.count && text.startsLine(position) && text[position].hasPrefix("^C") }
        if let interrupted = range.first(where: interrupts) ?? (interrupts(range.upperBound) ? range.upperBound : nil) {
            interruptedAt = interrupted
            contents.notes.append("\(at(interrupted)): `^C`: \(command.map { "`\($0.display.prefix(60))`" } ?? "the command") was interrupted, so what it printed is partial")
        }
        var position = range.lowerBound
        if let command {
            // Rows shown without their header (`ps ax | grep zerotier`, `pgrep -l zerotier`)
            // have the columns the command line asked for.
            if let layout = Self.psLayout(of: command) ?? Self.pgrepLayout(of: command)?.layout {
                psLayout = layout
                psLayoutFromCommand = true
            }
            pgrepPIDsOnly = Self.pgrepLayout(of: command)?.pidsOnly ?? false
            // What `route` and a netstat that lists no routes print is not used; a route table
            // pasted after it (`sudo route -n delete …`, then the table) is read by its shape.
            if command.tool == .route || (command.tool == .netstat && !command.hasOption("r")) {
                contents.notes.append("\(at(range.lowerBound)): output of `\(command.display)` is not used; what follows it is read by its shape")
                shapeOnly = true
            }
            if command.tool == .ifconfig, command.hasOption("l") {
                // `ifconfig -l`: every interface's name on one line, nothing more; what follows
                // (`ifconfig -l; netstat -rn`) is read by its shape.
                // The names are one line, which a mail client may have wrapped: the lines that
                // hold nothing but interface names.
                var line = text.line(position)
                while position < range.upperBound, text.line(position) == line || Self.namesOnlyLine(text, position, limit: range.upperBound) {
                    line = text.line(position)
                    if ShellCommand.isInterfaceName(text[position]) {
                        var entry = DarwinParsers.IfconfigEntry(name: String(text[position]), flags: [])
                        entry.headerMissing = true
                        entry.nameOnly = true
                        add(entry, to: &contents)
                        ifconfigBlocks += 1
                    }
                    position += 1
                }
                // `-l inet` (or `ether`) lists only the interfaces with such addresses.
                if ifconfigBlocks > 0, command.filters.isEmpty, command.reshaping.isEmpty, command.unread.isEmpty,
                   !command.hasOption("d"), !command.hasOption("u"), !command.arguments.contains(where: { !$0.hasPrefix("-") }) {
                    recordWholeInterfaceListing(into: &contents)
                }
                contents.ifconfigSeen = contents.ifconfigSeen || ifconfigBlocks > 0
                ifconfigBlocks = 0
                shapeOnly = true
            }
        }
        while position < range.upperBound {
            let next: Int
            let (blocksBefore, fragmentBefore, routesBefore, headerBefore) = (ifconfigBlocks, ifconfigFragment, sectionRoutes, netstatHeader)
            let (psRowsBefore, psHeaderBefore) = (psRows, psHeaderSeen)
            if Self.isIfconfigHeader(text, position) {
                next = readIfconfigBlock(from: position, into: &contents)
            } else if Self.isNetstatTitle(text, position) || Self.isNetstatHeader(text, position)
                        || Self.routeRowEnd(text, position, strict: !netstatHeader && tool != .netstat, limit: range.upperBound) != nil {
                next = readNetstat(from: position, into: &contents)
            } else if Self.isLsofHeader(text, position) || isUtunSocket(position) || (tool == .lsof && lsofRowStart(position)) {
                next = readLsof(from: position, into: &contents)
            } else if let layout = Self.psHeader(text, position) {
                psLayout = layout
                psHeaderSeen = true
                next = readPs(from: position + layout.headerWords, into: &contents)
            } else if psRowLayout(position) != nil {
                next = readPs(from: position, into: &contents)
            } else if Self.isRouteGet(text, position) {
                next = skipRouteGet(from: position, into: &contents)
            } else if Self.isNetstatInterfacesHeader(text, position) {
                next = skipTable(from: position, what: "`netstat -i` output is used only to show which interfaces existed", into: &contents)
                readInterfaceTableRows(position, next, into: &contents)
            } else if pgrepPIDsOnly, text.startsLine(position), Int32(text[position]) != nil,
                      position + 1 >= range.upperBound || text.startsLine(position + 1) {
                // `pgrep zerotier`: a pid alone on its line, of a program it does not name.
                pgrepPIDs.append(String(text[position]))
                next = position + 1
            } else if let command, command.privileged, command.tool != .other, text.startsLine(position), text[position] == "sudo:" {
                // `sudo: a password is required`, `sudo: 3 incorrect password attempts`: sudo
                // did not run the command, so none of its output is here.
                var end = position
                while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
                let words = text.excerpt(position..<end, limit: 80)
                if contents.sudoFailures[command.tool] == nil { contents.sudoFailures[command.tool] = "`\(command.display.prefix(60))` did not run: \(words)" }
                contents.notes.append("\(at(position)): \(words): sudo did not run `\(command.display.prefix(60))`")
                next = end
            } else if let end = readAbsence(at: position, into: &contents) {
                next = end
            } else if let end = readSighting(at: position, into: &contents) {
                next = end
            } else if isBodyStart(position), ifconfigBlocks == 0 || tool == .ifconfig {
                next = readIfconfigFragment(from: position, into: &contents)
            } else if let end = elisionEnd(position) {
                // `...` where output was left out: the listing read last, or (before any) the
                // listing it is part of, is not whole.
                contents.notes.append("\(at(position)): '\(text.excerpt(position..<end, limit: 40))' marks output left out; the listing is partial")
                switch lastRecord {
                case .ifconfig: ifconfigFragment = true
                case .netstat: elided = true
                case .ps: psElided = true
                case nil: elidedBeforeAnything = true
                }
                next = end
            } else {
                if skippedLines.last != text.line(position) { skippedLines.append(text.line(position)) }
                // `ifconfig -a` prints nothing between its blocks: a line there was put in by hand
                // (`(removed 12 idle utuns)`), and what it stands for is not known.
                // Under its own command line, nothing but blocks comes after a block at all.
                // After the last block, a note in brackets (`(removed 12 idle utuns)`) or a cut
                // mark does the same; prose, a Markdown fence or the next prompt does not.
                if lastRecord != nil, isBarePrompt(position) { promptAfterLastRecord = true }
                if lastRecord == .ifconfig {
                    gapAfterBlock = true
                    if isHandMark(position) { ifconfigFragment = true }
                }
                next = position + 1
            }
            if ifconfigBlocks > blocksBefore {
                if gapAfterBlock { ifconfigFragment = true }
                gapAfterBlock = false
            }
            if ifconfigBlocks > blocksBefore || ifconfigFragment != fragmentBefore { lastRecord = .ifconfig; promptAfterLastRecord = false }
            if sectionRoutes > routesBefore || netstatHeader != headerBefore { lastRecord = .netstat; gapAfterBlock = false; promptAfterLastRecord = false }
            if psRows > psRowsBefore || psHeaderSeen != psHeaderBefore { lastRecord = .ps; gapAfterBlock = false; promptAfterLastRecord = false }
            position = max(next, position + 1)
        }
        if cutAtEnd, let record = lastRecord, !promptAfterLastRecord {
            contents.notes.append("\(file): the text ends inside a Markdown code block it opened (```): it was cut there, so the last listing is partial")
            switch record {
            case .ifconfig: ifconfigFragment = true
            case .netstat: elided = true
            case .ps: psElided = true
            }
        }
        finish(into: &contents)
    }

    var sectionRoutes = 0
    var sectionFamilies: Set<AddressFamily> { Set(sectionFamilyCounts.keys) }
    var psHeaderSeen = false
    var lsofHeaderSeen = false
    /// The lines of lsof rows cut before their utun control socket's unit was whole (see
    /// `controlSocketName`): whose socket each was is unknown.
    var cutUtunRows: [Int] = []
    /// How many routes were recorded before this section, and the rows this section read
    /// (recorded here or, the same row, before).
    var routesAtStart = 0
    var sectionKeys: Set<CaptureContents.RouteKey> = []
    /// The interface each general (not interface-scoped) destination of this section's rows
    /// leaves through, and the first destination found leaving through two (see `readRouteRow`).
    var generalRouteNetifs: [String: String] = [:]
    var destinationOfTwoNetifs: String?
    /// Which listing was read last, for an elision mark after it.
    var lastRecord: RecordKind?
    var elided = false
    /// An elision mark came before any listing of the section.
    var elidedBeforeAnything = false
    /// A line in the route table was not a row that could be read.
    var rowsSkipped = false
    /// A netstat section title was read since the last header (`Internet6:` starts the second
    /// table of one `netstat -rn`).
    var titleSinceHeader = false
    var sectionFamilyCounts: [AddressFamily: Int] = [:]

    enum RecordKind {
        case ifconfig, netstat, ps
    }
    /// A line that is no tool's output came after an interface block (see `read`).
    var gapAfterBlock = false
    /// An elision mark came after ps rows.
    var psElided = false
    /// Where a `^C` line shows the section's command was interrupted (see `read`).
    var interruptedAt: Int?
    /// Why listings of an interrupted section are partial.
    var interruptedReason: String { "`\(command?.display.prefix(60) ?? "")` was interrupted with ^C" }
    /// How far each ps row that starts a line reaches (see `psRowsCutAtWidth`).
    var psRowSpans: [Int] = []
    /// What follows this section's command line may be of more than one moment (see
    /// `mixedOutput`): its listings are not taken as whole.
    var mixedMoments = false
    /// The section's command line runs its commands again and again (a loop, `watch`): each
    /// block or table it printed is whole, but of a moment of its own.
    var repeated = false
    /// The text ends inside a code block it opened, after this section: its last listing was cut,
    /// unless a prompt after it shows the shell came back (`promptAfterLastRecord`).
    var cutAtEnd = false
    /// A bare prompt came after the last listing read: the listing ran to its end.
    var promptAfterLastRecord = false
    /// Listing tools the command line pipes on after another of its commands (`netstat -rn;
    /// ifconfig | head -20`): their listings here are cut.
    var pipedOn: Set<ShellCommand.Tool> = []
    /// The section's command line lists every interface with a plain `ifconfig` after commands
    /// that print no interface blocks (`date; ifconfig -a`): see `ShellCommand.listsEveryInterface`.
    var listsEveryInterface = false
    /// The interfaces this section's blocks named.
    var sectionInterfaceNames: Set<String> = []
    /// The pids of this section's ps rows.
    var psPIDs: Set<Int32> = []
    /// A line of this section's ps listing that is no row but names ZeroTier.
    var psStrayOwnerLine: String?
    /// The last line of the ps listing that was no row and no command text, until the next row.
    var psNoteLine: String?
    /// Whether a ps row of pid 1 (launchd) was read.
    var psSawLaunchd = false
    /// Where the command starts in each ps row that starts a line, counted as `psRowSpans` are.
    var psCommandOffsets: [Int] = []

    /// `lines 3, 5–9 and 12` from sorted line numbers.
    static func describe(lines: [Int]) -> String {
        var runs: [String] = []
        var start = lines[0], previous = lines[0]
        for line in lines.dropFirst() + [Int.min] {
            if line == previous + 1 { previous = line; continue }
            runs.append(start == previous ? "\(start)" : "\(start)–\(previous)")
            start = line
            previous = line
        }
        let word = lines.count == 1 ? "line" : "lines"
        if runs.count > 12 { return "\(word) \(runs.prefix(12).joined(separator: ", ")) and \(runs.count - 12) more runs" }
        return "\(word) \(runs.joined(separator: ", "))"
    }

    // MARK: Output that is recognised and left aside

    static func isRouteGet(_ text: CaptureText, _ position: Int) -> Bool {
        position + 1 < text.count && text[position] == "route" && text[position + 1] == "to:"
    }

    static func isNetstatInterfacesHeader(_ text: CaptureText, _ position: Int) -> Bool {
        position + 4 < text.count && text[position] == "Name" && text[position + 1] == "Mtu" && text[position + 2] == "Network"
            && text[position + 3] == "Address" && text[position + 4] == "Ipkts"
    }

    /// `route get` output: its fields, then a metrics header and one row of numbers.
    mutating func skipRouteGet(from start: Int, into contents: inout CaptureContents) -> Int {
        var position = start
        let end = range.upperBound
        let fields: Set<String> = ["route", "to:", "destination:", "mask:", "gateway:", "interface:", "flags:", "index:"]
        var sawMetrics = false
        while position < end {
            let word = String(text[position])
            if word == "recvpipe" {
                sawMetrics = true
                position += 1
                continue
            }
            if sawMetrics {
                if Int(word) != nil || ["sendpipe", "ssthresh", "rtt,msec", "rttvar", "hopcount", "mtu", "expire"].contains(word) { position += 1; continue }
                break
            }
            if text.startsLine(position), !fields.contains(word), position > start { break }
            position += 1
        }
        // Its `interface:` is the interface of the routing entry it found, as netstat's Netif is:
        // a static route into a tunnel that went away still names it, so it shows nothing exists.
        contents.notes.append("\(at(start))–\(text.line(max(start, position - 1))): `route get` output is not used: "
            + "the interface it names is its route's, which a route that outlived its tunnel names too")
        return position
    }

    /// A table left aside whole: to the first line that does not start like its rows.
    mutating func skipTable(from start: Int, what: String, into contents: inout CaptureContents) -> Int {
        var position = start + 1
        let end = range.upperBound
        while position < end {
            if text.startsLine(position), CaptureReader.startsOutput(text, at: position) || ShellCommand.isPrompt(text[position]) { break }
            if !text.startsLine(position), CaptureReader.startsOutput(text, at: position), !Self.isNetstatInterfacesHeader(text, position) { break }
            position += 1
        }
        contents.notes.append("\(at(start))–\(text.line(max(start, position - 1))): \(what)")
        return position
    }
}
