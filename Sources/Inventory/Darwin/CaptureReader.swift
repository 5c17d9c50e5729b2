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

    /// What was left aside as not tool output (for --verbose), and rows that could not be read.
    var notes: [String] = []
    var problems: [String] = []
    /// Whether the text had no words at all.
    var isBlank = true
    /// The capture's first words, for a refusal.
    var firstWords = ""

    /// Whether anything at all was recognised.
    var readSomething: Bool { ifconfigSeen || netstatSeen || lsofSeen || psSeen }
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

    var tool: ShellCommand.Tool? { command?.tool ?? hint }
    var file: String { text.file }

    func at(_ position: Int) -> String { "\(file):\(text.line(position))" }

    // MARK: Reading a section

    mutating func read(into contents: inout CaptureContents) {
        guard !range.isEmpty else {
            if let command, command.tool != .other { contents.notes.append("\(file): `\(command.display)` printed nothing") }
            return
        }
        if let command {
            if command.tool == .route {
                contents.notes.append("\(at(range.lowerBound))–\(text.line(range.upperBound - 1)): output of `\(command.display)` is not used")
                return
            }
            if command.tool == .ifconfig, command.hasOption("l") {
                // `ifconfig -l`: every interface's name on one line, nothing more.
                for position in range where ShellCommand.isInterfaceName(text[position]) {
                    var entry = DarwinParsers.IfconfigEntry(name: String(text[position]), flags: [])
                    entry.headerMissing = true
                    add(entry, to: &contents)
                    ifconfigBlocks += 1
                }
                if ifconfigBlocks > 0, command.filters.isEmpty, command.reshaping.isEmpty {
                    contents.ifconfigSeen = true
                    contents.interfacesComplete = true
                }
                return
            }
            if command.tool == .netstat, !command.hasOption("r") {
                contents.notes.append("\(at(range.lowerBound)): output of `\(command.display)` is not a routing table; not used")
                return
            }
        }
        var position = range.lowerBound
        while position < range.upperBound {
            let next: Int
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
            } else {
                if skippedLines.last != text.line(position) { skippedLines.append(text.line(position)) }
                next = position + 1
            }
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
        if ifconfigBlocks > 0 || ifconfigFragment {
            contents.ifconfigSeen = true
            // A listing of every interface: `ifconfig`, `ifconfig -a`/`-v`/`-u`… without a name.
            let whole: Bool
            if let command, command.tool == .ifconfig {
                whole = !ifconfigFragment && !command.arguments.contains { ShellCommand.isInterfaceName($0) }
                    && command.filters.isEmpty && command.reshaping.isEmpty
            } else {
                // Without its command line, a listing is whole when it starts at an interface
                // header and holds lo0, which `ifconfig -a` always lists.
                whole = !ifconfigFragment && sawLoopback
            }
            if whole { contents.interfacesComplete = true }
        }
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
            contents.routeListings.append((families, filter))
        }
        if lsofRows > 0 || Self.hasLsofHeader(text, range) {
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
            } else if !Self.hasLsofHeader(text, range) {
                contents.lsofLimits.append("the lsof rows have no header, so the listing was filtered")
            } else if lsofPIDs.count == 1 {
                contents.lsofLimits.append("the lsof listing shows only pid \(lsofPIDs.first!)")
            } else {
                contents.lsofWhole = true
            }
        }
        if psRows > 0 || psHeaderSeen {
            contents.psSeen = true
            if let command, command.tool == .ps {
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

    var sectionRoutes = 0
    var sectionFamilyCounts: [AddressFamily: Int] = [:]
    var sectionFamilies: Set<AddressFamily> { Set(sectionFamilyCounts.keys) }
    var psHeaderSeen = false

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

    /// Whether the word at `position` begins a line that does not belong to the record before it.
    func endsRecordLine(_ position: Int) -> Bool {
        text.startsLine(position) && !text.indented(position)
    }

    // MARK: ifconfig

    static func isIfconfigHeader(_ text: CaptureText, _ position: Int) -> Bool {
        guard position + 1 < text.count else { return false }
        let word = text[position]
        guard word.count >= 3, word.last == ":", ShellCommand.isInterfaceName(word.dropLast()) else { return false }
        return text[position + 1].hasPrefix("flags=")
    }

    /// Words that begin the lines of an interface block, for pastes that lost its tab indents.
    static let bodyWords: Set<String> = [
        "inet", "inet6", "ether", "nd6", "media:", "status:", "member:", "Configuration:", "id", "maxage", "root", "ipfilter",
        "ifmaxaddr", "peer:", "agent", "type:", "link", "state", "scheduler:", "effective", "generation", "qosmarking",
        "low", "multi", "routermode4", "netem", "desc:", "vlan:", "parent", "lladdr", "tunnel", "bond", "uplink", "mpklog",
        "subfamily:", "thread", "txstart", "unit", "interface", "ipsec", "channel", "netif", "input", "output", "mode",
    ]

    static func isBodyWord<S: StringProtocol>(_ word: S) -> Bool {
        bodyWords.contains(String(word)) || word.hasPrefix("options=") || word.hasPrefix("eflags=") || word.hasPrefix("xflags=")
            || word.hasPrefix("capabilities=") || word.hasPrefix("hwassist=")
    }

    /// An `inet6 …` or `inet …` at the start of a line (or of the text): the middle of a block.
    func isBodyStart(_ position: Int) -> Bool {
        guard text.startsLine(position) || position == range.lowerBound else { return false }
        let word = text[position]
        guard word == "inet6" || word == "inet" || (tool == .ifconfig && Self.isBodyWord(word)) else { return false }
        return position + 1 < range.upperBound && (IPAddress(String(text[position + 1]).split(separator: "%").first.map(String.init) ?? "") != nil
                                                    || tool == .ifconfig)
    }

    /// Whether the block that includes the word before `position` ends at `position`.
    func blockEnds(at position: Int) -> Bool {
        if Self.isIfconfigHeader(text, position) { return true }
        if text.startsLine(position) {
            // Body lines are indented with a tab; a paste that lost indents still starts them with a keyword.
            if text.indented(position) { return false }
            return !Self.isBodyWord(text[position])
        }
        // Mid-line (a listing whose line breaks were lost): only another record ends it.
        return CaptureReader.startsOutput(text, at: position) && !Self.isBodyWord(text[position])
    }

    mutating func readIfconfigBlock(from start: Int, into contents: inout CaptureContents) -> Int {
        var entry = DarwinParsers.IfconfigEntry(name: String(text[start].dropLast()), flags: [])
        let flagsWord = text[start + 1]
        if let open = flagsWord.firstIndex(of: "<"), let close = flagsWord.lastIndex(of: ">"), open < close {
            entry.flags = flagsWord[flagsWord.index(after: open)..<close].split(separator: ",").map(String.init)
        }
        let end = readBody(from: start + 2, into: &entry, contents: &contents)
        ifconfigBlocks += 1
        if entry.name == "lo0" { sawLoopback = true }
        add(entry, to: &contents)
        return end
    }

    /// A block whose header was cut off: it is kept when an inet6 address's zone names its interface.
    mutating func readIfconfigFragment(from start: Int, into contents: inout CaptureContents) -> Int {
        var entry = DarwinParsers.IfconfigEntry(name: "", flags: [])
        entry.headerMissing = true
        var zone: String?
        let end = readBody(from: start, into: &entry, contents: &contents, zone: &zone)
        ifconfigFragment = true
        if let zone, ShellCommand.isInterfaceName(zone) {
            entry.name = zone
            add(entry, to: &contents)
            contents.notes.append("\(at(start)): the start of \(zone)'s block is cut off; its flags and state are unknown")
        } else {
            contents.problems.append("\(at(start))–\(text.line(max(start, end - 1))): part of an interface block whose header is cut off, naming no interface; skipped")
        }
        return end
    }

    func add(_ entry: DarwinParsers.IfconfigEntry, to contents: inout CaptureContents) {
        if let existing = contents.interfaces.firstIndex(where: { $0.name == entry.name }) {
            // The same interface listed twice (`ifconfig -a`, then `ifconfig utun3`): the fuller block wins.
            if contents.interfaces[existing].headerMissing || entry.addresses.count > contents.interfaces[existing].addresses.count {
                contents.interfaces[existing] = entry
            }
        } else {
            contents.interfaces.append(entry)
        }
    }

    mutating func readBody(from start: Int, into entry: inout DarwinParsers.IfconfigEntry, contents: inout CaptureContents) -> Int {
        var zone: String?
        return readBody(from: start, into: &entry, contents: &contents, zone: &zone)
    }

    /// Reads an interface block's body from `start` to its end, which it returns. Values that
    /// cannot be read are skipped with a note naming the line; the rest of the block still counts.
    mutating func readBody(from start: Int, into entry: inout DarwinParsers.IfconfigEntry, contents: inout CaptureContents,
                           zone: inout String?) -> Int {
        var position = start
        let end = range.upperBound
        func word(_ at: Int) -> Substring? { at < end ? text[at] : nil }
        func problem(_ at: Int, _ message: String) { contents.problems.append("\(self.at(at)): \(message)") }
        let label = entry.name.isEmpty ? "an interface whose header is cut off" : entry.name
        func name() -> String { label }
        while position < end {
            if position > start, blockEnds(at: position) { break }
            let current = text[position]
            switch current {
            case "mtu":
                if let value = word(position + 1), let mtu = Int(value) {
                    if DarwinParsers.Bounds.mtu.contains(mtu) { entry.mtu = mtu } else { problem(position, "mtu \(value) of \(name()) is out of range; ignored") }
                }
                position += 2
            case "index":
                if let value = word(position + 1), let index = Int(value) {
                    if DarwinParsers.Bounds.interfaceIndex.contains(index) { entry.index = index } else { problem(position, "index \(value) of \(name()) is out of range; ignored") }
                    position += 2
                } else {
                    position += 1
                }
            case "ether":
                entry.ether = word(position + 1).map(String.init)
                position += 2
            case "peer:":
                entry.peer = word(position + 1).map(String.init)
                position += 2
            case "status:":
                entry.status = word(position + 1).map(String.init)
                position += 2
            case "agent":
                position += 1
                // `agent domain:NetworkExtension type:VPN flags:0x… desc:"VPN: Example Tunnel"`
                var scanned = 0
                while position < end, scanned < 24, !(text.startsLine(position) && scanned > 0) {
                    if text[position].hasPrefix("desc:\"") {
                        var description = String(text[position].dropFirst(6))
                        var closed = description.hasSuffix("\"") && !description.isEmpty
                        position += 1
                        while !closed, position < end, scanned < 24, !text.startsLine(position) {
                            description += " " + text[position]
                            closed = text[position].hasSuffix("\"")
                            position += 1
                            scanned += 1
                        }
                        if description.hasSuffix("\"") { description.removeLast() }
                        if !description.isEmpty { entry.agents.append(description) }
                        break
                    }
                    position += 1
                    scanned += 1
                }
            case "inet":
                position = readInet(at: position, into: &entry, contents: &contents, name: name())
            case "inet6":
                position = readInet6(at: position, into: &entry, contents: &contents, name: name(), zone: &zone)
            default:
                position += 1
            }
        }
        return position
    }

    mutating func readInet(at position: Int, into entry: inout DarwinParsers.IfconfigEntry, contents: inout CaptureContents, name: String) -> Int {
        let end = range.upperBound
        guard position + 1 < end else { return position + 1 }
        let addressWord = text[position + 1]
        var next = position + 2
        var peer: IPAddress?
        var length = 32
        var damaged: String?
        while next + 1 < end, !text.startsLine(next) || text.line(next) == text.line(position) {
            let key = text[next]
            if key == "-->" { peer = IPAddress(String(text[next + 1])); next += 2 }
            else if key == "netmask" {
                if let bits = DarwinParsers.netmaskLength(text[next + 1]) { length = bits } else { damaged = "netmask \(text[next + 1])" }
                next += 2
            } else if key == "broadcast" { next += 2 }
            else { break }
        }
        guard let local = IPAddress(String(addressWord)), local.family == .inet else {
            contents.problems.append("\(at(position)): '\(addressWord.prefix(40))' after inet (\(name)) is not an IPv4 address (redacted?); that address is skipped")
            return next
        }
        if let damaged {
            contents.problems.append("\(at(position)): \(damaged.prefix(40)) (\(name)) is not a contiguous hex netmask; that address is skipped")
            return next
        }
        entry.addresses.append(InterfaceAddress(local: local, prefixLength: length, peer: peer, scope: "global"))
        return next
    }

    mutating func readInet6(at position: Int, into entry: inout DarwinParsers.IfconfigEntry, contents: inout CaptureContents, name: String,
                            zone: inout String?) -> Int {
        let end = range.upperBound
        guard position + 1 < end else { return position + 1 }
        let addressWord = String(text[position + 1])
        let parts = addressWord.split(separator: "%", maxSplits: 1)
        var next = position + 2
        var length = 128
        var damaged: String?
        var scopeID: Int?
        while next < end, text.line(next) == text.line(position) || !text.startsLine(next) {
            let key = text[next]
            if key == "prefixlen", next + 1 < end {
                if let value = Int(text[next + 1]), DarwinParsers.Bounds.inet6PrefixLength.contains(value) { length = value }
                else { damaged = "prefixlen \(text[next + 1].prefix(24)) is not 0–128" }
                next += 2
            } else if key == "scopeid", next + 1 < end {
                let value = text[next + 1]
                if value.hasPrefix("0x"), value.count <= 10, let index = Int(value.dropFirst(2), radix: 16), DarwinParsers.Bounds.interfaceIndex.contains(index) {
                    scopeID = index
                } else {
                    contents.problems.append("\(at(next)): scopeid \(value.prefix(24)) (\(name)) is not an interface index; ignored")
                }
                next += 2
            } else if ["secured", "autoconf", "temporary", "deprecated", "dynamic", "detached", "tentative", "duplicated", "optimistic"].contains(key) {
                next += 1
            } else {
                break
            }
        }
        guard let first = parts.first, let local = IPAddress(String(first)), local.family == .inet6 else {
            contents.problems.append("\(at(position)): '\(addressWord.prefix(40))' after inet6 (\(name)) is not an IPv6 address (redacted?); that address is skipped")
            return next
        }
        if let damaged {
            contents.problems.append("\(at(position)): \(damaged) (\(name)); that address is skipped")
            return next
        }
        if parts.count == 2, zone == nil { zone = String(parts[1]) }
        if let scopeID, entry.scopeID == nil { entry.scopeID = scopeID }
        let linkLocal = local.bytes[0] == 0xfe && local.bytes[1] & 0xc0 == 0x80
        entry.addresses.append(InterfaceAddress(local: local, prefixLength: length, scope: linkLocal ? "link" : "global"))
        return next
    }

    // MARK: netstat -r

    static func isNetstatTitle(_ text: CaptureText, _ position: Int) -> Bool {
        let word = text[position]
        if word == "Internet:" || word == "Internet6:" { return true }
        return word == "Routing" && position + 1 < text.count && text[position + 1] == "tables"
    }

    static func isNetstatHeader(_ text: CaptureText, _ position: Int) -> Bool {
        position + 2 < text.count && text[position] == "Destination" && text[position + 1] == "Gateway" && text[position + 2] == "Flags"
    }

    static let headerWords: Set<String> = ["Gateway", "Flags", "Refs", "Use", "Mtu", "Netif", "Expire", "Interface"]

    /// The end of a route row starting at `position` (DESTINATION GATEWAY FLAGS [REFS USE] [MTU]
    /// NETIF [EXPIRE]), or nil when none starts there. `strict` (no header vouches for the rows)
    /// also wants flags that start with U and a destination that reads as one.
    static func routeRowEnd(_ text: CaptureText, _ position: Int, strict: Bool, limit: Int) -> Int? {
        guard position + 3 < limit, DarwinParsers.isRouteFlags(text[position + 2], strict: strict) else { return nil }
        var netif = position + 3
        var numbers = 0
        while numbers < 3, netif < limit, Int(text[netif]) != nil { netif += 1; numbers += 1 }
        guard netif < limit else { return nil }
        let name = text[netif]
        guard ShellCommand.isInterfaceName(name), text[position].first.map({ $0.isLetter || $0.isNumber || $0 == ":" }) == true else { return nil }
        if strict {
            let destination = text[position]
            guard destination == "default" || destination == "localhost" || destination.first?.isHexDigit == true else { return nil }
        }
        return netif + 1
    }

    mutating func readNetstat(from start: Int, into contents: inout CaptureContents) -> Int {
        var position = start
        let end = range.upperBound
        while position < end {
            if Self.isNetstatTitle(text, position) {
                if text[position] == "Internet:" { family = .inet; familiesSeen.insert(.inet) }
                if text[position] == "Internet6:" { family = .inet6; familiesSeen.insert(.inet6) }
                position += text[position] == "Routing" ? 2 : 1
                continue
            }
            if Self.isNetstatHeader(text, position) {
                netstatHeader = true
                position += 3
                while position < end, Self.headerWords.contains(String(text[position])) { position += 1 }
                continue
            }
            let strict = !netstatHeader && tool != .netstat
            if let rowEnd = Self.routeRowEnd(text, position, strict: strict, limit: end) {
                readRouteRow(position, netifAt: rowEnd - 1, into: &contents)
                position = rowEnd
                // The Expire column: `!`, seconds, or both, unless a row starts there (`127 …`).
                while position < end, text[position] == "!" || Int(text[position]) != nil,
                      !text.startsLine(position), Self.routeRowEnd(text, position, strict: strict, limit: end) == nil {
                    position += 1
                }
                continue
            }
            // A line of the table that is not a row: damaged, or the listing cut off mid-row.
            if text.startsLine(position) || position == start, looksLikeRouteLine(position) {
                var lineEnd = position
                while lineEnd < end, text.line(lineEnd) == text.line(position) { lineEnd += 1 }
                if lineEnd >= end, lineEnd - position < 4 {
                    cutShort = true
                    contents.problems.append("\(at(position)): the route listing stops in the middle of a row ('\(text.excerpt(position..<lineEnd, limit: 60))'); routes after it are unknown")
                } else {
                    contents.problems.append("\(at(position)): not a route row ('\(text.excerpt(position..<lineEnd, limit: 60))'); skipped")
                }
                position = lineEnd
                continue
            }
            break
        }
        return position
    }

    /// Whether the line at `position` reads as a damaged route row rather than prose: it starts
    /// with a destination-like word and has few words.
    func looksLikeRouteLine(_ position: Int) -> Bool {
        guard netstatHeader || tool == .netstat || !familiesSeen.isEmpty else { return false }
        let first = text[position]
        guard first == "default" || first.first?.isHexDigit == true || first.contains(".") || first.contains(":") else { return false }
        var words = 0
        var at = position
        while at < range.upperBound, text.line(at) == text.line(position) { words += 1; at += 1 }
        return words <= 8
    }

    var hostNameRows = 0

    mutating func readRouteRow(_ position: Int, netifAt netifPosition: Int, into contents: inout CaptureContents) {
        let destinationWord = text[position]
        let gatewayWord = text[position + 1]
        // The family of a row without a section title (a grep'd listing) shows in its addresses.
        let inferred: AddressFamily? = family ?? (destinationWord.contains(":") || (gatewayWord.contains(":") && !gatewayWord.hasPrefix("link#")
            && !(gatewayWord.split(separator: ":").count == 6 && !gatewayWord.contains("::"))) ? .inet6 : .inet)
        guard let (destination, zone) = DarwinParsers.destinationPrefix(destinationWord, family: inferred) else {
            let isName = destinationWord.contains(where: { $0.isLetter && !$0.isHexDigit }) || destinationWord.split(separator: ":").count > 1
            contents.problems.append(isName
                ? "\(at(position)): destination '\(destinationWord.prefix(40))' is a host name or a cut-off address (netstat without -n?); row skipped"
                : "\(at(position)): destination '\(destinationWord.prefix(40))' is not an address or prefix; row skipped")
            return
        }
        var row = DarwinParsers.NetstatRow(destination: destination, gateway: DarwinParsers.gatewayAddress(gatewayWord),
                                           flags: String(text[position + 2]), netif: String(text[netifPosition]))
        if gatewayWord.hasPrefix("link#"), let index = Int(gatewayWord.dropFirst(5)), DarwinParsers.Bounds.interfaceIndex.contains(index) {
            row.linkIndex = index
        }
        row.zone = zone
        row.line = text.line(position)
        sectionRoutes += 1
        sectionFamilyCounts[destination.family, default: 0] += 1
        if !contents.routes.contains(row) { contents.routes.append(row) }
    }

    // MARK: lsof

    static func isLsofHeader(_ text: CaptureText, _ position: Int) -> Bool {
        position + 3 < text.count && text[position] == "COMMAND" && text[position + 1] == "PID" && text[position + 2] == "USER" && text[position + 3] == "FD"
    }

    static func hasLsofHeader(_ text: CaptureText, _ range: Range<Int>) -> Bool {
        range.contains { text[$0] == "COMMAND" && isLsofHeader(text, $0) }
    }

    func isUtunSocket(_ position: Int) -> Bool {
        text[position] == "[ctl" && position + 1 < range.upperBound && text[position + 1] == "com.apple.net.utun_control"
    }

    static let lsofTypes: Set<String> = ["DIR", "REG", "CHR", "PIPE", "unix", "IPv4", "IPv6", "KQUEUE", "systm", "NPOLICY", "FSEVENT",
                                         "PSXSHM", "PSXSEM", "ndrv", "key", "NEXUS", "CHAN", "ATALK", "LINK", "FIFO", "unknown", "0000", "NPOLICY"]

    /// COMMAND PID USER FD TYPE: an lsof row.
    func lsofRowStart(_ position: Int) -> Bool {
        guard position + 4 < range.upperBound, let pid = Int(text[position + 1]), pid >= 0 else { return false }
        return Self.lsofTypes.contains(String(text[position + 4]))
    }

    mutating func readLsof(from start: Int, into contents: inout CaptureContents) -> Int {
        var position = start
        let end = range.upperBound
        if Self.isLsofHeader(text, position) {
            position += 4
            while position < end, ["TYPE", "DEVICE", "SIZE/OFF", "NODE", "NAME", "SIZE", "OFF"].contains(String(text[position])) { position += 1 }
        }
        while position < end {
            if position > start {
                if text.startsLine(position) {
                    // A line that is not an lsof row ends the listing.
                    guard lsofRowStart(position) || Self.isLsofHeader(text, position) || isUtunSocket(position) else { break }
                } else if !isUtunSocket(position), CaptureReader.startsOutput(text, at: position) {
                    break
                }
            }
            if Self.isLsofHeader(text, position) {
                position += 4
                continue
            }
            if lsofRowStart(position), let pid = Int32(text[position + 1]) {
                lsofPIDs.insert(pid)
                lsofRows += 1
            }
            if isUtunSocket(position) {
                readUtunSocket(position, into: &contents)
                lsofRows += 1
            }
            position += 1
        }
        return position
    }

    /// `COMMAND PID USER FD systm DEVICE SIZE/OFF [ctl com.apple.net.utun_control id N unit U]`.
    mutating func readUtunSocket(_ position: Int, into contents: inout CaptureContents) {
        var systm: Int?
        for back in 1...4 where position - back >= range.lowerBound && text[position - back] == "systm" { systm = position - back; break }
        var unitWord: Substring?
        var after = position + 2
        while after + 1 < range.upperBound, after < position + 8 {
            if text[after] == "unit" { unitWord = text[after + 1]; break }
            after += 1
        }
        guard let systm, systm - 4 >= range.lowerBound, let pid = Int(text[systm - 3]) else {
            contents.problems.append("\(at(position)): a utun control socket without the 'COMMAND PID USER FD systm' columns before it; skipped")
            return
        }
        guard let unitWord, let unit = Int(unitWord.trimmingCharacters(in: CharacterSet(charactersIn: "]"))) else {
            contents.problems.append("\(at(position)): a utun control socket of pid \(pid) without its unit; skipped")
            return
        }
        guard DarwinParsers.Bounds.pid.contains(pid) else {
            contents.problems.append("\(at(position)): pid \(text[systm - 3].prefix(24)) is not a process id; skipped")
            return
        }
        guard DarwinParsers.Bounds.utunUnit.contains(unit) else {
            contents.problems.append("\(at(position)): unit \(unitWord.trimmingCharacters(in: CharacterSet(charactersIn: "]")).prefix(24)) is not a utun control unit (1 to \(UInt32.max)); skipped")
            return
        }
        lsofPIDs.insert(Int32(pid))
        let holder = DarwinParsers.UtunHolder(pid: Int32(pid), command: String(text[systm - 4]), user: String(text[systm - 2]), unit: unit)
        if !contents.holders.contains(holder) { contents.holders.append(holder) }
    }

    // MARK: ps

    /// Which columns a ps listing has: where the pid is, and how many words come before the command.
    struct PsLayout: Equatable {
        var pidColumn: Int
        var commandColumn: Int
        var headerWords: Int
    }

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
        return PsLayout(pidColumn: pid, commandColumn: command, headerWords: columns.count)
    }

    /// The layout of a ps row without a header at `position`, when one starts there: `ps aux`
    /// (USER PID %CPU %MEM VSZ RSS TT STAT STARTED TIME COMMAND), `ps -ef` (UID PID PPID C STIME
    /// TTY TIME CMD), or PID COMMAND with an absolute path (`ps -axo pid,comm`).
    func psRowLayout(_ position: Int) -> PsLayout? {
        if let psLayout {
            guard psRowFits(position, psLayout), (tool == .ps && text.startsLine(position)) || rowShape(position, psLayout) else { return nil }
            return psLayout
        }
        for layout in [PsLayout(pidColumn: 1, commandColumn: 10, headerWords: 0), PsLayout(pidColumn: 1, commandColumn: 7, headerWords: 0),
                       PsLayout(pidColumn: 0, commandColumn: 1, headerWords: 0)]
        where psRowFits(position, layout) && rowShape(position, layout) {
            return layout
        }
        return nil
    }

    func psRowFits(_ position: Int, _ layout: PsLayout) -> Bool {
        position + layout.commandColumn < range.upperBound && Int(text[position + layout.pidColumn]) != nil
    }

    /// Whether the words at `position` have the shapes of a row of `layout` (it fits already).
    func rowShape(_ position: Int, _ layout: PsLayout) -> Bool {
        func number(_ at: Int) -> Bool { Int(text[at]) != nil }
        func decimal(_ at: Int) -> Bool { text[at].contains(".") && Double(text[at]) != nil }
        switch (layout.pidColumn, layout.commandColumn) {
        case (1, 10): return decimal(position + 2) && decimal(position + 3) && number(position + 4) && number(position + 5)
        case (1, 7): return number(position) && number(position + 2) && number(position + 3) && text[position + 6].contains(":")
        default: return text[position + layout.commandColumn].hasPrefix("/")
        }
    }

    mutating func readPs(from start: Int, into contents: inout CaptureContents) -> Int {
        var position = start
        let end = range.upperBound
        while position < end {
            guard let layout = psRowLayout(position) else {
                if text.startsLine(position), tool == .ps, !CaptureReader.startsOutput(text, at: position) {
                    var lineEnd = position
                    while lineEnd < end, text.line(lineEnd) == text.line(position) { lineEnd += 1 }
                    contents.problems.append("\(at(position)): not a ps row ('\(text.excerpt(position..<lineEnd, limit: 60))'); skipped")
                    position = lineEnd
                    continue
                }
                break
            }
            if psLayout == nil { psLayout = layout }
            let pidWord = text[position + layout.pidColumn]
            var commandEnd = position + layout.commandColumn
            // The command runs to the end of its line, or where the next row starts.
            while commandEnd < end, !text.startsLine(commandEnd) || commandEnd == position + layout.commandColumn {
                if commandEnd > position + layout.commandColumn, psRowFits(commandEnd, layout), rowShape(commandEnd, layout) {
                    break
                }
                if commandEnd > position + layout.commandColumn, CaptureReader.startsOutput(text, at: commandEnd) { break }
                commandEnd += 1
            }
            let command = text.excerpt((position + layout.commandColumn)..<commandEnd, limit: 4096)
            if let pid = Int(pidWord), DarwinParsers.Bounds.pid.contains(pid) {
                contents.processes[Int32(pid)] = command
                psRows += 1
            } else {
                contents.problems.append("\(at(position)): pid \(pidWord.prefix(24)) is not a process id; row skipped")
            }
            position = commandEnd
        }
        return position
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
