import Foundation
import TunwardenCore

/// Everything read from a capture: the records recognised, what each listing covers (so that
/// what a listing leaves out is unknown rather than absent), and notes on what was left aside.
struct CaptureContents {
    typealias IfconfigEntry = DarwinParsers.IfconfigEntry

    var interfaces: [IfconfigEntry] = []
    var ifconfigSeen = false
    /// Some listing named every interface (plain `ifconfig`, `-a`, `-v`), not one or a fragment.
    var interfacesComplete = false

    var routes: [DarwinParsers.NetstatRow] = []
    var netstatSeen = false
    /// Families some route listing showed, and the filters (`grep`, a cut-off paste) each went through.
    var routeListings: [(families: Set<AddressFamily>, filter: TextFilter?)] = []

    var holders: [DarwinParsers.UtunHolder] = []
    var lsofSeen = false
    /// Why the lsof listings do not cover every process; empty when one does.
    var lsofLimits: [String] = []
    var lsofWhole = false
    /// Processes some lsof listing covered.
    var lsofPIDs: Set<Int32> = []

    var processes: [Int32: String] = [:]
    var psSeen = false
    var psWhole = false
    var processFilters: [TextFilter] = []

    /// What is already recorded, so that a listing pasted twice counts once, in constant time per
    /// record (a hostile paste may hold hundreds of thousands).
    var interfacePositions: [String: Int] = [:]
    var routeKeys: Set<RouteKey> = []
    var holderKeys: Set<DarwinParsers.UtunHolder> = []

    /// A route row without where it was read.
    struct RouteKey: Hashable {
        var destination: IPPrefix
        var gateway: IPAddress?
        var flags: String
        var netif: String
        var linkIndex: Int?
        var zone: String?
    }

    /// What was left aside as not tool output (for --verbose), and rows that could not be read.
    var notes: [String] = []
    var problems: [String] = []
    /// Whether the text had no words at all.
    var isBlank = true
    /// The capture's first words, for a refusal.
    var firstWords = ""

    /// Whether anything at all was recognised.
    var readSomething: Bool { ifconfigSeen || netstatSeen || lsofSeen || psSeen }

    /// What each route listing showed, before a later one superseded it: its families, and the
    /// interfaces its rows name.
    var routeListingNames: [(families: Set<AddressFamily>, names: Set<String>)] = []

    /// Whether a tunnel the routes name, but the listing of every interface does not, may have
    /// come after that listing rather than gone before it: the capture holds several route
    /// listings of a family it has routes in, and not all of them name it, so routes came or
    /// went between them (a VPN connected between two netstats) and the interface listing's
    /// time is not known to be the routes' time.
    func mayHaveComeSince(_ name: String, families: Set<AddressFamily>) -> Bool {
        let relevant = routeListingNames.filter { !$0.families.isDisjoint(with: families) }
        return relevant.count > 1 && !relevant.allSatisfy { $0.names.contains(name) }
    }
}

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
        // Where commands start, in one pass.
        var commands: [ShellCommand] = []
        var position = 0
        while position < text.count {
            if mayStartCommand(text, at: position), let command = ShellCommand.recognize(in: text, at: position) {
                commands.append(command)
                position = command.words.upperBound
                continue
            }
            position += 1
        }
        var sectionStart = 0
        var current: ShellCommand?
        for command in commands {
            var section = Section(text: text, range: sectionStart..<command.words.lowerBound, command: current, hint: current == nil ? hint : nil)
            section.read(into: &contents)
            contents.notes.append("\(text.file):\(text.line(command.words.lowerBound)): command `\(command.display)`")
            current = command
            sectionStart = command.words.upperBound
        }
        var last = Section(text: text, range: sectionStart..<text.count, command: current, hint: current == nil ? hint : nil)
        last.read(into: &contents)
    }

    /// A cheap test before the full one: commands start after a prompt or at a line's start.
    static func mayStartCommand(_ text: CaptureText, at position: Int) -> Bool {
        let word = text[position]
        if ShellCommand.isPrompt(word) { return true }
        // A Markdown heading may name a command (`### ifconfig -a`).
        if word.count >= 2, word.allSatisfy({ $0 == "#" }) { return true }
        return text.startsLine(position) && (word == "sudo" || ShellCommand.tools[(String(word) as NSString).lastPathComponent] != nil)
    }

    /// Whether a record of some tool plainly starts at `position`: an interface block, a netstat
    /// title or header, an lsof or ps header, `route get` output, or a route row.
    static func startsOutput(_ text: CaptureText, at position: Int) -> Bool {
        Section.isIfconfigHeader(text, position) || Section.isNetstatTitle(text, position) || Section.isNetstatHeader(text, position)
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
    var lsofPIDs: Set<Int32> = []
    var lsofRows = 0
    var psRows = 0
    var ifconfigBlocks = 0
    var ifconfigFragment = false
    var sawLoopback = false
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
        guard !range.isEmpty else {
            if let command, command.tool != .other { contents.notes.append("\(file): `\(command.display)` printed nothing") }
            return
        }
        var position = range.lowerBound
        if let command {
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
                    contents.ifconfigSeen = true
                    contents.interfacesComplete = true
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
                next = skipTable(from: position, what: "`netstat -i` output is not used", into: &contents)
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
            if ifconfigBlocks > blocksBefore || ifconfigFragment != fragmentBefore { lastRecord = .ifconfig }
            if sectionRoutes > routesBefore || netstatHeader != headerBefore { lastRecord = .netstat; gapAfterBlock = false }
            if psRows > psRowsBefore || psHeaderSeen != psHeaderBefore { lastRecord = .ps; gapAfterBlock = false }
            position = max(next, position + 1)
        }
        finish(into: &contents)
    }

    /// Records what the section covers once it is read.
    mutating func finish(into contents: inout CaptureContents) {
        if !skippedLines.isEmpty {
            let label = tool == nil || tool == .other ? "not tool output" : "not \(tool!.rawValue) output"
            contents.notes.append("\(file): \(Self.describe(lines: skippedLines)) skipped (\(label))")
        }
        // Output shown through `head if.txt`, `grep utun dump.txt`, `sed …` is part of a listing,
        // when the listing starts right under the command (a listing pasted later, after other
        // lines, is not its output), and the command reads like one (`cut` takes options; "100%
        // cut off from the internet" is prose).
        let cutter = command.map { ($0.name as NSString).lastPathComponent } ?? ""
        if let command, command.tool == .other, Self.cuttingCommands.contains(cutter), command.followedBy.isEmpty,
           cutter != "cut" || command.arguments.contains(where: { $0.hasPrefix("-") }),
           !range.isEmpty, CaptureReader.startsOutput(text, at: range.lowerBound) {
            if ifconfigBlocks > 0 { ifconfigFragment = true }
            if netstatHeader || sectionRoutes > 0 { elided = true }
        }
        if ifconfigBlocks > 0 || ifconfigFragment {
            contents.ifconfigSeen = true
            // A listing of every interface: `ifconfig`, `ifconfig -a`/`-v`/`-u`… without a name.
            var whole: Bool
            if let command, command.tool == .ifconfig {
                whole = !ifconfigFragment && !command.arguments.contains { ShellCommand.isInterfaceName($0) }
                    && command.filters.isEmpty && command.reshaping.isEmpty && command.unread.isEmpty
                    // `-d` and `-u` list only the interfaces that are down, or up.
                    && !command.hasOption("d") && !command.hasOption("u")
                    // `ifconfig -a; ifconfig utun4`: the named one's block may be any of them.
                    && !command.followedBy.contains { ShellCommand.isInterfaceName($0) }
            } else {
                // Without its command line, a listing is whole when it starts at an interface
                // header and holds lo0, which `ifconfig -a` always lists.
                whole = !ifconfigFragment && sawLoopback
            }
            if elidedBeforeAnything { whole = false }
            if whole { contents.interfacesComplete = true }
        }
        finishRouteListing(into: &contents)
        if lsofRows > 0 || lsofHeaderSeen {
            contents.lsofSeen = true
            contents.lsofPIDs.formUnion(lsofPIDs)
            if let command, command.tool == .lsof {
                if let pids = command.value(of: "p") {
                    contents.lsofLimits.append("`\(command.display)` lists only pid \(pids)")
                } else if command.value(of: "c") != nil || command.value(of: "u") != nil {
                    contents.lsofLimits.append("`\(command.display)` lists only some processes")
                } else if let filter = command.filters.first, !(filter.certainlyShows(word: "com.apple.net.utun_control")) {
                    contents.lsofLimits.append("`\(command.display)` may have filtered out utun sockets")
                } else if !command.reshaping.isEmpty {
                    contents.lsofLimits.append("`\(command.display)` reshaped the listing")
                } else if !command.privileged {
                    contents.lsofLimits.append("`\(command.display)` ran without sudo, so it shows only its user's sockets")
                } else {
                    contents.lsofWhole = true
                }
            } else if !lsofHeaderSeen {
                contents.lsofLimits.append("the lsof rows have no header, so the listing was filtered")
            } else if lsofPIDs.count == 1 {
                contents.lsofLimits.append("the lsof listing shows only pid \(lsofPIDs.first!)")
            } else {
                contents.lsofWhole = true
            }
        }
        if psRows > 0 || psHeaderSeen {
            contents.psSeen = true
            if psElided {
                contents.processFilters.append(.unseen("part of the ps listing was left out ('...')"))
            } else if psRowsCutAtWidth {
                contents.processFilters.append(.unseen("ps cut its rows at the terminal's width, so commands may be cut off (run it as ps auxww)"))
            } else if let command, command.tool == .ps {
                if let filter = command.filters.first {
                    contents.processFilters.append(filter)
                } else if !command.reshaping.isEmpty || command.value(of: "p") != nil || command.value(of: "U") != nil || command.value(of: "u") != nil {
                    contents.processFilters.append(.unseen("`\(command.display)` lists only some processes"))
                } else if command.arguments.isEmpty || (!command.hasOption("a") && !command.hasOption("A") && !command.hasOption("e")
                                                        && !(command.arguments.first?.contains("a") ?? false)) {
                    contents.processFilters.append(.unseen("`\(command.display)` lists only this terminal's processes (add -ax)"))
                } else {
                    contents.psWhole = true
                }
            } else if psHeaderSeen {
                contents.psWhole = true
            } else if let grep = contents.processes.values.sorted().first(where: { $0.hasPrefix("grep ") }),
                      let filter = TextFilter.grep(grep.split(separator: " ").dropFirst().map { ShellCommand.unquote(String($0)) }) {
                // `ps aux | grep -i zerotier` pasted without its command line shows the grep
                // itself, and with it the filter the listing went through.
                contents.processFilters.append(filter)
            } else {
                contents.processFilters.append(.unseen("the ps rows have no header, so the listing was filtered"))
            }
        }
    }

    /// Records the route listing read (if any): the families it covers and the filter it went
    /// through; a whole one supersedes earlier listings of its families.
    mutating func finishRouteListing(into contents: inout CaptureContents) {
        if netstatHeader || !familiesSeen.isEmpty || sectionRoutes > 0 {
            contents.netstatSeen = true
            var families = familiesSeen
            var filter: TextFilter?
            if let command, command.tool == .netstat {
                if let value = command.value(of: "f") {
                    families = value == "inet6" ? [.inet6] : value == "inet" ? [.inet] : []
                } else if families.isEmpty {
                    families = [.inet, .inet6]
                }
                filter = command.filters.first
                if !command.reshaping.isEmpty { filter = .unseen("`\(command.display)` reshaped the listing") }
            } else if !netstatHeader {
                // Rows without a header come from a filtered listing (`netstat -rn | grep utun`).
                filter = .unseen("the route rows have no header, so the listing was filtered")
                families = sectionFamilies
            } else if families.isEmpty {
                families = sectionFamilies
            }
            if cutShort { filter = .unseen("the listing stops in the middle of a row") }
            if elided { filter = .unseen("part of the listing was left out ('...')") }
            if rowsSkipped { filter = .unseen("some of its rows could not be read") }
            if elidedBeforeAnything { filter = .unseen("part of the listing was left out ('...')") }
            contents.routeListings.append((families, filter))
            // Only a whole listing says which interfaces had no routes then.
            if filter == nil { contents.routeListingNames.append((familiesSeen.union(sectionFamilies), Set(sectionKeys.map(\.netif)))) }
            // What a whole listing shows of a family: the families of its titles and rows.
            if filter == nil, netstatHeader { supersedeEarlierRoutes(of: familiesSeen.union(sectionFamilies), in: &contents) }
        }
    }

    var sectionRoutes = 0
    /// How many routes were recorded before this section, and the rows this section read
    /// (recorded here or, the same row, before).
    var routesAtStart = 0
    var sectionKeys: Set<CaptureContents.RouteKey> = []
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
    /// How far each ps row that starts a line reaches (see `psRowsCutAtWidth`).
    var psRowSpans: [Int] = []

    /// Words that say output was left out (`-- snip --`, `(output trimmed)`).
    static let elisionWords: Set<String> = ["snip", "snipped", "trimmed", "truncated", "omitted", "elided"]

    /// Whether the line starting at `position` holds nothing but interface names.
    static func namesOnlyLine(_ text: CaptureText, _ position: Int, limit: Int) -> Bool {
        guard text.startsLine(position) else { return false }
        var at = position
        while at < limit, text.line(at) == text.line(position) {
            guard ShellCommand.isInterfaceName(text[at]) else { return false }
            at += 1
        }
        return true
    }

    /// Whether the line at `position` is a note put into a listing by hand: it starts with a
    /// bracket (`(removed 12 idle utuns)`, `[40 more utun interfaces]`, `<cut>`), or is a cut
    /// mark (`---8<---`, `✂`). No line of ifconfig output starts so.
    func isHandMark(_ position: Int) -> Bool {
        guard text.startsLine(position), let lead = text[position].first else { return false }
        // A line that says something was taken out, however it is set (`# removed utun1-utun9`,
        // `<!-- 9 more utun blocks cut -->`, `*(utun1 to utun9 removed)*`).
        // It must say what: interfaces, blocks or lines (prose such as "the VPN cut out at 10:00"
        // or "I redacted my MAC address" removes nothing from the listing).
        var end = position
        while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
        if end - position <= 12, (position..<end).contains(where: { Self.removalWords.contains(text[$0].lowercased().filter(\.isLetter)) }),
           (position..<end).contains(where: { at in
               // Whole words ("offline" is not "line", "blocked" not "block").
               let word = text[at].lowercased().filter(\.isLetter)
               return word.hasPrefix("utun") || word.hasPrefix("feth")
                   || ["interface", "interfaces", "block", "blocks", "line", "lines"].contains(word)
           }) {
            return true
        }
        // A note that values were masked (`(MAC address redacted)`) takes no interface out.
        if (position..<end).contains(where: { at in
            ["redact", "anonymi", "mask", "censor", "obfuscat", "changed"].contains { text[at].lowercased().contains($0) }
        }) { return false }
        // HTML a forum wraps around a paste (`</details>`, `<br>`, a template's `<!-- Output of
        // … -->`) is markup, not a note.
        let tag = String(text[position].drop { $0 == "<" || $0 == "/" }.prefix { $0.isLetter || $0.isNumber }).lowercased()
        if lead == "<", Self.markupTags.contains(tag) || text[position].hasPrefix("<!") { return false }
        return "([<{".contains(lead) || text[position].contains("8<") || text[position].contains(">8") || text[position].contains("✂")
    }

    /// Words that say output was taken out of a paste.
    static let removalWords: Set<String> = ["removed", "omitted", "trimmed", "snipped", "snip", "truncated", "deleted", "elided",
                                            "cut", "hidden", "skipped"]

    /// Commands whose output is only part of what they read.
    static let cuttingCommands: Set<String> = ["head", "tail", "sed", "grep", "egrep", "fgrep", "rg", "awk", "cut", "sort", "uniq"]

    static let markupTags: Set<String> = ["details", "summary", "br", "p", "pre", "code", "div", "span", "b", "i", "em", "strong",
                                          "hr", "sub", "sup", "kbd", "blockquote", "ul", "ol", "li", "table", "tr", "td", "th", "tt",
                                          "a", "img", "picture", "source", "video", "h1", "h2", "h3", "h4", "h5", "h6", "small", "samp"]

    /// Where the line at `position` ends, when it is a mark where output was left out of a paste:
    /// a line of at most eight words that starts with a word of dots and brackets holding an
    /// ellipsis (`...`, `…`, `[...]`, `[... 12 more interfaces ...]`), or that starts with a
    /// bracket, a dash or an asterisk and says so (`-- snip --`, `(output trimmed)`, `<snip>`).
    /// Prose that ends with an ellipsis ("Here is my output...") is not one.
    func elisionEnd(_ position: Int) -> Int? {
        guard text.startsLine(position) else { return nil }
        var end = position
        while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
        guard end - position <= 8 else { return nil }
        let first = text[position]
        let punctuation = Set(".…[]()<>-–—*#:")
        if first.allSatisfy({ punctuation.contains($0) }), first.contains("...") || first.contains("…") { return end }
        guard let lead = first.first, "[(<-–—*#".contains(lead) else { return nil }
        for at in position..<end {
            let bare = text[at].lowercased().filter { $0.isLetter }
            if Self.elisionWords.contains(bare) { return end }
        }
        return nil
    }
    var sectionFamilies: Set<AddressFamily> { Set(sectionFamilyCounts.keys) }
    var psHeaderSeen = false
    var lsofHeaderSeen = false

    /// A whole listing of `families` is the routing table as it was when it ran: the rows of those
    /// families that listings before it showed and it does not are gone by then (a transcript of
    /// `netstat -rn`, `sudo route delete …`, `netstat -rn` again).
    mutating func supersedeEarlierRoutes(of families: Set<AddressFamily>, in contents: inout CaptureContents) {
        guard contents.routeListings.count <= Self.listingLimit else { return }
        let earlier = contents.routes[..<routesAtStart]
        let kept = earlier.filter { !families.contains($0.destination.family) || sectionKeys.contains(Self.key($0)) }
        guard kept.count < earlier.count else { return }
        contents.notes.append("\(file): \(earlier.count - kept.count) route rows of earlier listings are not in the later listing at line \(text.line(range.lowerBound)), which is used")
        contents.routes = Array(kept) + contents.routes[routesAtStart...]
        contents.routeKeys = Set(contents.routes.map(Self.key))
    }

    static func key(_ row: DarwinParsers.NetstatRow) -> CaptureContents.RouteKey {
        CaptureContents.RouteKey(destination: row.destination, gateway: row.gateway, flags: row.flags, netif: row.netif,
                                 linkIndex: row.linkIndex, zone: row.zone)
    }

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
        contents.notes.append("\(at(start))–\(text.line(max(start, position - 1))): `route get` output is not used")
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
