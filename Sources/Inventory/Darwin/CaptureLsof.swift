import Foundation
import TunwardenCore

/// Reading `lsof` output: the utun control sockets, and which processes a listing covers.
extension Section {
    /// The tuntaposx interface whose character device the lsof row at `position` has open
    /// (`openvpn-2 412 root 5u CHR 33,0 0t2240 637 /dev/tun0`: NAME, the row's last word, is
    /// `/dev/tunN` or `/dev/tapN`), or nil.
    func openedDevice(_ position: Int) -> String? {
        guard let type = lsofTypeAt(position), text[type] == "CHR" else { return nil }
        // DEVICE, SIZE/OFF, NODE and NAME follow TYPE; a line that goes on much further is not
        // such a row (and a line of many `CHR` words is looked at in linear time).
        var last = type
        while last + 1 < range.upperBound, last - position < Self.lsofRowWords, !text.endsLine(last) { last += 1 }
        guard text.endsLine(last) || last + 1 == range.upperBound else { return nil }
        let name = text[last]
        guard name.hasPrefix("/dev/") else { return nil }
        let device = String(name.dropFirst("/dev/".count))
        return CapturedInventory.isTuntaposx(device) ? device : nil
    }

    func isUtunSocket(_ position: Int) -> Bool {
        text.firstByte(position) == UInt8(ascii: "[") && text[position] == "[ctl" && position + 1 < range.upperBound && text[position + 1] == "com.apple.net.utun_control"
    }

    /// The most words an lsof row is read over: COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE,
    /// then a NAME of up to six words (`[ctl com.apple.net.utun_control id 7 unit 4]`), with room
    /// to spare. Each look along a row stops there, so that a line of repeated row openings is read
    /// in time linear in its length, not quadratic.
    static let lsofRowWords = 16

    static let lsofTypes: Set<String> = ["DIR", "REG", "CHR", "PIPE", "unix", "IPv4", "IPv6", "KQUEUE", "systm", "NPOLICY", "FSEVENT",
                                         "PSXSHM", "PSXSEM", "ndrv", "key", "NEXUS", "CHAN", "ATALK", "LINK", "FIFO", "unknown", "0000"]

    /// COMMAND PID USER FD TYPE (with PPID or PGID after PID, when lsof printed them): an lsof row.
    func lsofRowStart(_ position: Int) -> Bool { lsofTypeAt(position) != nil }

    /// The words of an lsof header after FD: TYPE, the `+f` columns, DEVICE, SIZE/OFF (SIZE with
    /// `-s`, OFFSET with `-o`), NODE and NAME.
    static let lsofHeaderTail: Set<String> = ["TYPE", "FILE-ADDR", "FCT", "FILE-FLAG", "NODE-ID", "DEVICE", "SIZE/OFF", "NODE", "NAME", "SIZE", "OFF", "OFFSET"]

    /// Reads the lsof header at `position`, and returns the position after it.
    mutating func readLsofHeader(_ position: Int) -> Int {
        let middle = Self.lsofHeaderMiddle(text, position) ?? []
        lsofHeaderSeen = true
        lsofHeaderColumns = middle
        var next = position + 4 + middle.count
        while next < range.upperBound, !text.startsLine(next), Self.lsofHeaderTail.contains(String(text[next])) { next += 1 }
        return next
    }

    mutating func readLsof(from start: Int, into contents: inout CaptureContents) -> Int {
        var position = start
        let end = range.upperBound
        if Self.isLsofHeader(text, position) { position = readLsofHeader(position) }
        // A `systm` row whose line ended before its NAME column (a terminal or a forum's box
        // wrapped it at 44 to 58 columns): its line, and how many lines of its rest were read.
        var openRow: (line: Int, continued: Int)?
        func closeOpenRow(_ contents: inout CaptureContents) {
            guard let row = openRow else { return }
            contents.problems.append("\(file):\(row.line): an lsof row ends before its NAME column and its rest could not be read (wrapped or cut), so which socket it held is unknown; the lsof listing counts as partial")
            cutUtunRows.append(row.line)
            openRow = nil
        }
        while position < end {
            if position > start {
                if text.startsLine(position) {
                    if let row = openRow, row.continued < 3, !lsofRowStart(position), !Self.isLsofHeader(text, position),
                       !CaptureReader.startsOutput(text, at: position), !ShellCommand.isPrompt(text[position]) {
                        // The rest of a wrapped row: its DEVICE column's tail, SIZE/OFF, and the
                        // start of its NAME (`621d1ff 0t0 [ctl com.appl`).
                        openRow?.continued = row.continued + 1
                    } else {
                        closeOpenRow(&contents)
                        // A line that is not an lsof row ends the listing.
                        guard lsofRowStart(position) || Self.isLsofHeader(text, position) || isUtunSocket(position) else { break }
                    }
                } else if !isUtunSocket(position), CaptureReader.startsOutput(text, at: position) {
                    break
                }
            }
            if Self.isLsofHeader(text, position) {
                position = readLsofHeader(position)
                continue
            }
            if let type = lsofTypeAt(position), let pid = Int32(text[position + 1]) {
                lsofPIDs.insert(pid)
                lsofRows += 1
                if let ifname = openedDevice(position) {
                    let opener = CaptureContents.DeviceOpener(pid: pid, command: String(text[position]), ifname: ifname,
                                                             stamp: contents.stamp(file))
                    if !contents.deviceOpeners.contains(opener) { contents.deviceOpeners.append(opener) }
                }
                if text[type] == "systm" {
                    var name = type + 1
                    while name < end, name - position < Self.lsofRowWords, !text.startsLine(name), !text[name].hasPrefix("[") { name += 1 }
                    if name >= end || text.startsLine(name) { openRow = (text.line(position), 0) }
                }
            }
            if text.firstByte(position) == UInt8(ascii: "["), text[position] == "[ctl" || ("[ctl".hasPrefix(text[position]) && text.endsLine(position)) {
                openRow = nil
                switch controlSocketName(position) {
                case .utun(let unit, let last):
                    readUtunSocket(position, unitWord: unit, into: &contents)
                    lsofRows += 1
                    position = last
                case .other(let last):
                    position = last
                case .cut:
                    var lineEnd = position
                    while lineEnd + 1 < end, !text.endsLine(lineEnd) { lineEnd += 1 }
                    contents.problems.append("\(at(position)): an lsof row was wrapped or cut inside its utun control socket's name ('\(text.excerpt(position..<lineEnd + 1, limit: 70))'), so its unit is unknown; skipped, and the lsof listing counts as partial")
                    cutUtunRows.append(text.line(position))
                    lsofRows += 1
                }
            }
            position += 1
        }
        closeOpenRow(&contents)
        return position
    }

    /// What the NAME column that opens with `[ctl` at `position` names, and the position of its
    /// last word.
    enum ControlSocketName: Equatable {
        /// A utun control socket, with its unit's digits.
        case utun(unit: String, last: Int)
        /// Another kernel control (`com.apple.network.statistics`), or a name not in lsof's form.
        case other(last: Int)
        /// A name that may be a utun control socket's, but the row was cut before its `]`: its
        /// unit is not known.
        case cut
    }

    static let utunControl = "com.apple.net.utun_control"

    /// How many words past `[ctl` a control socket's name is looked for: the name has five
    /// (`com.apple.net.utun_control id 7 unit 4]`), one more allows for a break inside a word.
    static let controlNameWords = 6

    /// Reads `[ctl com.apple.net.utun_control id N unit U]` at `position`. The name ends with
    /// the `]` after the unit, on the same line. When a terminal or a mail program wrapped the
    /// row, the `]` is on the next line, which then holds nothing but the rest of the name
    /// (`0]` after `… unit 1`, `1]` after `… unit`, `tl com.apple…` after `[c`). That line is
    /// joined to the row when exactly one way of joining gives the name's form: the break fell
    /// inside a word (`1` and `0]` make `10]`) or between two (`unit` and `1]`). A name that is
    /// neither closed nor joined is cut, unless what is left of it shows it names another control.
    func controlSocketName(_ position: Int) -> ControlSocketName {
        let end = range.upperBound
        var last = position
        while last + 1 < end, last - position < Self.controlNameWords, !text[last].hasSuffix("]"), !text.endsLine(last) { last += 1 }
        // More words than a name has, none closing it, and the line goes on: not a control's name.
        // (Only a name that ends its line can be cut, and then it has at most six words.)
        if last - position == Self.controlNameWords, !text[last].hasSuffix("]"), !text.endsLine(last) { return .other(last: position) }
        let words = (position...last).map { String(text[$0]) }
        if words.last?.hasSuffix("]") == true {
            guard words.count > 1, words[1] == Self.utunControl else { return .other(last: last) }
            guard let unitAt = words.lastIndex(of: "unit"), unitAt == words.count - 2 else { return .utun(unit: "", last: last) }
            return .utun(unit: String(words[unitAt + 1].dropLast()), last: last)
        }
        // The name ends its line unclosed: the next line may hold its rest, and nothing more.
        var rest: [String] = []
        var restLast = last + 1
        if restLast < end, !lsofRowStart(restLast), !isUtunSocket(restLast), !CaptureReader.startsOutput(text, at: restLast) {
            while restLast + 1 < end, restLast - last < Self.controlNameWords, !text[restLast].hasSuffix("]"), !text.endsLine(restLast) { restLast += 1 }
            if text[restLast].hasSuffix("]"), text.endsLine(restLast) {
                rest = (last + 1...restLast).map { String(text[$0]) }
            }
        }
        if !rest.isEmpty {
            let spaced = words + rest
            let joined = Array(words.dropLast()) + [words[words.count - 1] + rest[0]] + Array(rest.dropFirst())
            let readings = [spaced, joined].compactMap(Self.controlName)
            if readings.count == 1, let reading = readings.first {
                return reading.name == Self.utunControl ? .utun(unit: reading.unit, last: restLast) : .other(last: restLast)
            }
        }
        // What is left of the name may still be a utun control socket's.
        guard words.count < 2 || Self.utunControl.hasPrefix(words[1]) else { return .other(last: last) }
        return .cut
    }

    /// The control's name and unit of `[ctl NAME id N unit U]`, when the words are that.
    static func controlName(_ words: [String]) -> (name: String, unit: String)? {
        func digits(_ word: Substring) -> Bool { !word.isEmpty && word.allSatisfy(\.isASCII) && word.allSatisfy(\.isNumber) }
        guard words.count == 6, words[0] == "[ctl", words[2] == "id", digits(Substring(words[3])), words[4] == "unit",
              words[5].hasSuffix("]"), digits(words[5].dropLast()) else { return nil }
        return (words[1], String(words[5].dropLast()))
    }

    /// `COMMAND PID USER FD systm DEVICE SIZE/OFF [ctl com.apple.net.utun_control id N unit U]`,
    /// with the unit's digits as `controlSocketName` read them. USER and FD are the two words
    /// before `systm`; PID and COMMAND are found in the words before USER as `lsofIdColumns`
    /// says. A row whose words do not line up one way is not read, and the listing counts as
    /// partial: a PGID or PPID read as the PID once made macOS's own utuns look like a hoard.
    mutating func readUtunSocket(_ position: Int, unitWord: String, into contents: inout CaptureContents) {
        var systm: Int?
        for back in 1...4 where position - back >= range.lowerBound && text[position - back] == "systm" { systm = position - back; break }
        guard let systm, systm - 4 >= range.lowerBound, Int(text[systm - 3]) != nil else {
            contents.problems.append("\(at(position)): a utun control socket without the 'COMMAND PID USER FD systm' columns before it (the row was wrapped or cut); skipped, and the lsof listing counts as partial")
            cutUtunRows.append(text.line(position))
            return
        }
        // The row's words before USER: from the start of its line, or, in a paste that lost its
        // line breaks, as many as its columns need, with COMMAND one word.
        var start = systm - 2
        while start > range.lowerBound, !text.startsLine(start), systm - start < Self.lsofRowWords { start -= 1 }
        // (Another row's or the header's words before it, `… NAME teleprese 71881`, show the
        // breaks were lost there too.)
        let flat = !text.startsLine(start) || (start..<systm - 2).dropFirst().contains { at in
            text[at].hasSuffix("]") || text[at] == "NAME" || Self.lsofTypes.contains(String(text[at]))
        }
        if flat {
            if case .named(let columns) = lsofIdColumns { start = systm - 4 - columns.count } else { start = systm - 5 }
            start = max(start, range.lowerBound)
        }
        guard case (var command, let pidWord)? = lsofIdColumns.read((start..<systm - 2).map { text[$0] }) else {
            let columns: String
            switch lsofIdColumns {
            case .unmappable(let names): columns = "its \(names.joined(separator: " ")) column may be empty or hold spaces"
            case .named(let names): columns = "they do not match lsof's columns COMMAND PID \(names.map { $0 + " " }.joined())USER"
            case .unknown: columns = "without a header or the lsof command line, a number before USER may be the PID or a PPID/PGID column (`lsof -R`, `-g`)"
            }
            contents.problems.append("\(at(position)): the words of a utun control socket's lsof row ('\(text.excerpt(start..<systm, limit: 60))') do not line up with lsof's columns in one way (\(columns)); skipped, and the lsof listing counts as partial")
            unmappedLsofRows.append(text.line(position))
            return
        }
        if flat, let last = command.split(separator: " ").last { command = String(last) }
        guard let pid = Int(pidWord) else {
            contents.problems.append("\(at(position)): pid \(pidWord.prefix(24)) is not a process id; skipped")
            return
        }
        guard let unit = Int(unitWord) else {
            contents.problems.append("\(at(position)): a utun control socket of pid \(pid) without its unit; skipped")
            return
        }
        guard DarwinParsers.Bounds.pid.contains(pid) else {
            contents.problems.append("\(at(position)): pid \(pidWord.prefix(24)) is not a process id; skipped")
            return
        }
        guard DarwinParsers.Bounds.utunUnit.contains(unit) else {
            contents.problems.append("\(at(position)): unit \(unitWord.prefix(24)) is not a utun control unit (1 to \(UInt32.max)); skipped")
            return
        }
        lsofPIDs.insert(Int32(pid))
        let holder = DarwinParsers.UtunHolder(pid: Int32(pid), command: command, user: String(text[systm - 2]), unit: unit)
        if contents.holderKeys.insert(holder).inserted { contents.holders.append(holder) }
        contents.holderStamps[holder, default: []].insert(contents.stamp(file))
    }
}
