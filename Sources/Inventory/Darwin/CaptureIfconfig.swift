import Foundation
import TunwardenCore

/// Reading `ifconfig` output: interface blocks, blocks whose header was cut off, `ifconfig -v`
/// index and agent lines.
extension Section {
    static func isIfconfigHeader(_ text: CaptureText, _ position: Int) -> Bool {
        guard position + 1 < text.count, headerName(text[position]) != nil else { return false }
        return text[position + 1].hasPrefix("flags=")
    }

    /// The interface a header's first word names: `utun4:`, or `…<PERFORMNUD,DAD>utun4:` when a
    /// lost line break glued the header to the end of the line before it. (Words of a block's body
    /// that end in a flag list all end in `>`, so what follows the last `>` is the header's.)
    static func headerName(_ word: Substring) -> Substring? {
        guard word.count >= 3, word.last == ":" else { return nil }
        var name = word.dropLast()
        if let close = word.lastIndex(of: ">") {
            // Bounded by hand: a word cut inside a grapheme cluster must give no name, never a trap.
            let after = word.index(after: close)
            guard after < word.endIndex else { return nil }
            name = word[after..<word.endIndex].dropLast()
        }
        return ShellCommand.isInterfaceName(name) ? name : nil
    }

    /// An `inet6 …` or `inet …` at the start of a line (or of the text): the middle of a block.
    func isBodyStart(_ position: Int) -> Bool {
        guard text.startsLine(position) || position == range.lowerBound else { return false }
        let word = text[position]
        // Mid-line (right after a command, `ifconfig -a output`), only an address line is one.
        let relaxed = tool == .ifconfig && text.startsLine(position)
        guard word == "inet6" || word == "inet" || (relaxed && Self.isBodyWord(word)) else { return false }
        return position + 1 < range.upperBound && (IPAddress(String(text[position + 1]).split(separator: "%").first.map(String.init) ?? "") != nil
                                                    || relaxed)
    }

    /// Whether the block that includes the word before `position` ends at `position`.
    func blockEnds(at position: Int) -> Bool {
        if Self.isIfconfigHeader(text, position) { return true }
        if text.startsLine(position) {
            // A fence that closes the code block of the listing (or opens another) ends it.
            if position > 0, ((text.line(position - 1) + 1)...text.line(position)).contains(where: { text.fenceLines.contains($0) }) { return true }
            // Body lines are indented with a tab; a paste that lost indents still starts them with
            // a keyword. An indented header of another tool's table (`  PID COMM` of
            // `ps -axo pid,comm` run right after) is not a body line.
            if text.indented(position) {
                return !Self.isBodyWord(text[position]) && (Self.psHeader(text, position) != nil || Self.isLsofHeader(text, position)
                                                            || Self.isNetstatHeader(text, position) || Self.isNetstatTitle(text, position)
                                                            || Self.routeRowEnd(text, position, strict: true, limit: range.upperBound) != nil)
            }
            // An unindented line that says time passed (`link went down after sleep`, `tunnel
            // up, routes now:`) or holds a date or a time is none of ifconfig's.
            if Self.saysTimePassed(text.lineWords(at: position, within: range, limit: 16)[...]) { return true }
            // Its shape makes a line the block's only where the listing lost its indents: after
            // an indented body, only a line ifconfig begins with a known word or key
            // (`Address cache:`) continues it.
            if Self.isBodyWord(text[position]) || isDeviceStatusLine(position) || startsWithBodyKey(position)
                || (!ifconfigBodyIndented && isBodyLine(position)) { return false }
            // A body line wrapped by a mail client (at 72 or 76 columns) leaves its tail on a
            // line of its own, unindented: when the next line is indented again, the block goes on.
            return !continuesWrappedLine(at: position)
        }
        // Mid-line (a listing whose line breaks were lost): only another record ends it.
        return CaptureReader.startsOutput(text, at: position) && !Self.isBodyWord(text[position])
    }

    /// Where the line that `position` is on ends (within the section).
    func lineEnd(_ position: Int) -> Int {
        var end = position
        while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
        return end
    }

    /// Whether the line at `position` is nothing but a tuntaposx status line (`open (pid 4242)`,
    /// `closed`): a body line of a block whose paste lost its tab indents.
    func isDeviceStatusLine(_ position: Int) -> Bool {
        let end = lineEnd(position)
        switch end - position {
        case 1: return text[position] == "closed"
        case 3: return text[position] == "open" && text[position + 1] == "(pid" && text[position + 2].hasSuffix(")")
        default: return false
        }
    }

    /// Whether the unindented line at `position` is the tail of a wrapped body line: short, not
    /// the start of any record or command, and followed by an indented line.
    func continuesWrappedLine(at position: Int) -> Bool {
        var next = position
        while next < range.upperBound, text.line(next) == text.line(position) { next += 1 }
        guard next < range.upperBound, next - position <= 6, text.indented(next), Self.isBodyWord(text[next]),
              !CaptureReader.startsOutput(text, at: position), !ShellCommand.isPrompt(text[position]),
              !CaptureReader.mayStartCommand(text, at: position) else { return false }
        return true
    }

    mutating func readIfconfigBlock(from start: Int, into contents: inout CaptureContents) -> Int {
        let name = Self.headerName(text[start]) ?? text[start].dropLast()
        var entry = DarwinParsers.IfconfigEntry(name: String(name), flags: [])
        if text[start].count > name.count + 2, !text.startsLine(start) || !text[start].hasPrefix(">") {
            contents.notes.append("\(at(start)): \(name)'s header is glued to the end of the line before it ('\(text[start].prefix(48))'), a line break lost: read as a block of its own")
        }
        let flagsWord = text[start + 1]
        if let open = flagsWord.firstIndex(of: "<"), let close = flagsWord.lastIndex(of: ">"), open < close {
            entry.flags = flagsWord[flagsWord.index(after: open)..<close].split(separator: ",").map(String.init)
        }
        let end = readBody(from: start + 2, into: &entry, contents: &contents)
        // A header in the middle of its line whose block ends with that line, while the next line
        // goes on with words that are neither a header nor a body line: what stands before the
        // header (a prefix on every line that `LinePrefix` does not know, `run 42 | utun4: …`)
        // may stand before each body line too, and end the block after its header. Its
        // addresses are then unknown, not none.
        if !text.startsLine(start), !text[start].contains(">"), end < range.upperBound, end > start, text.startsLine(end),
           text.line(end - 1) == text.line(start), !Self.isIfconfigHeader(text, end), !Self.isBodyWord(text[end]) {
            entry.addressesPartial = true
            contents.unreadBodies.append(entry.name)
            let first = (max(start - 3, 0)..<start).first { text.line($0) == text.line(start) } ?? start
            contents.notes.append("\(at(start)): \(entry.name)'s header is not at its line's start ('\(text.excerpt(first..<(start + 1), limit: 48))'), and its block ends with that line: its body may be on the lines after it, behind the same prefix, so its addresses are unknown")
        }
        ifconfigBlocks += 1
        if entry.name == "lo0" {
            sawLoopback = true
            if ifconfigBlocks == 1 { loopbackRun = ["lo0"] }
        } else if !loopbackRun.isEmpty, loopbackRun.count < 3 {
            loopbackRun.append(entry.name)
        }
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
            if text.startsLine(position), text.indented(position), !Self.memberDetailWords.contains(text[position]) { ifconfigBodyIndented = true }
            // `...` inside a block (indented with it), or a note put in by hand (`(utun0-utun4
            // removed)`): output was left out of the listing.
            if text.startsLine(position), let elision = elisionEnd(position) ?? (isHandMark(position) ? lineEnd(position) : nil) {
                ifconfigFragment = true
                contents.notes.append("\(at(position)): '\(text.excerpt(position..<elision, limit: 40))' marks output left out; the listing is partial")
                position = elision
                continue
            }
            let current = text[position]
            // `status: activeutun4: flags=8051<…>`: a header glued to the line before it by a lost
            // line break, where the name's start cannot be told (`headerName` splits only after
            // a `>`). Interfaces are missing from the listing, and the body that follows is not
            // this block's. (A bridge's `member: en1 flags=3<…>` has no colon before `flags=`.)
            if position > start, current.hasPrefix("flags="), current.contains("<"), !text.startsLine(position - 1), text[position - 1].hasSuffix(":") {
                ifconfigFragment = true
                entry.addressesPartial = true
                contents.notes.append("\(at(position)): an interface header is glued to the end of the line before it ('\(text.excerpt((position - 1)..<(position + 1), limit: 48))'), a line break lost, and its name cannot be told apart; the listing is partial")
            }
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
            // tuntaposx's status line: `open (pid 4242)` while a process has /dev/tun0 open,
            // `closed` otherwise. Only a tun or tap block has one; the words are read as that
            // line only there, and `open (pid` only with its pid on the same line.
            case "open" where CapturedInventory.isTuntaposx(entry.name):
                guard position + 2 < end, text[position + 1] == "(pid", text.line(position + 2) == text.line(position),
                      text[position + 2].hasSuffix(")") else {
                    position += 1
                    continue
                }
                let pidWord = text[position + 2].dropLast()
                if let pid = Int(pidWord), DarwinParsers.Bounds.pid.contains(pid) {
                    entry.deviceStatus = .open(pid: Int32(pid))
                } else {
                    problem(position, "pid \(pidWord.prefix(24)) in \(name())'s status line is not a process id; whether its device is open is unknown")
                }
                position += 3
            case "closed" where CapturedInventory.isTuntaposx(entry.name):
                entry.deviceStatus = .closed
                position += 1
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
            // `INET6 FD7A:… PREFIXLEN 48`: an address line not as ifconfig prints it (round 37 F10)
            // is noted, and the block's addresses are not all known.
            case _ where text.startsLine(position) && ["inet", "inet6"].contains(current.lowercased()):
                entry.addressesPartial = true
                problem(position, "'\(text.excerpt(position..<lineEnd(position), limit: 48))' in \(name())'s block is no address line as ifconfig prints one; its addresses are not all known")
                position += 1
            default:
                position += 1
            }
        }
        // A value named by the block's last word (`mtu` and nothing after it) steps past its end.
        return min(position, end)
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
            // An address masked in the paste is still an address: the interface's are not all known.
            entry.addressesPartial = true
            return next
        }
        if let damaged {
            contents.problems.append("\(at(position)): \(damaged.prefix(40)) (\(name)) is not a contiguous hex netmask; that address is skipped")
            entry.addressesPartial = true
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
            entry.addressesPartial = true
            return next
        }
        if let damaged {
            contents.problems.append("\(at(position)): \(damaged) (\(name)); that address is skipped")
            entry.addressesPartial = true
            return next
        }
        // An address of another interface inside this block (`inet6 fe80::…%utun4` in utun3's):
        // a lost line break glued that interface's header into this block, so the listing holds
        // neither block as it was.
        if parts.count == 2, !entry.name.isEmpty, parts[1] != entry.name, ShellCommand.isInterfaceName(parts[1]) {
            if !entry.addressesPartial || !ifconfigFragment {
                contents.notes.append("\(at(position)): '\(addressWord.prefix(48))' in \(entry.name)'s block names another interface: its header was lost or glued to a line before; the listing is partial")
            }
            ifconfigFragment = true
            entry.addressesPartial = true
            return next
        }
        if parts.count == 2, zone == nil { zone = String(parts[1]) }
        if let scopeID, entry.scopeID == nil { entry.scopeID = scopeID }
        entry.addresses.append(InterfaceAddress(local: local, prefixLength: length, scope: local.isIPv6LinkLocal ? "link" : "global"))
        return next
    }
}
