import Foundation
import TunwardenCore

/// Reading a section: the command line says which tool printed what follows and through which
/// filters; where it does not, each record is recognised by its shape. Every word is either read
/// into a listing, recognised and left aside with a note saying so, or noted as skipped: none is
/// dropped silently.
extension Section {
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
            let (psRowsBefore, psHeaderBefore, lsofRowsBefore, lsofHeaderBefore) = (psRows, psHeaderSeen, lsofRows, lsofHeaderSeen)
            // A listing after a line that is no tool output, prompt or command is of another moment.
            if contents.unshownGap != nil { openMomentAfterGap(at: position, into: &contents) }
            // Whether the words at `position` are a Mac tool's output, recognised.
            var recognised = true
            if let linux = linuxBlock(at: position) {
                // Another machine's listing (a VM's `ip addr`), whose blocks may be shaped as a
                // Mac's: no output of the Mac's, so a listing after it is of another moment.
                noteGap(at: position, into: &contents)
                if lastRecord == .ifconfig { gapAfterBlock = true }
                next = skipLinuxListing(from: position, end: linux.end, listing: linux.listing, into: &contents)
                recognised = false
            } else if Self.isIfconfigHeader(text, position) {
                next = readIfconfigBlock(from: position, into: &contents)
            } else if Self.isNetstatTitle(text, position) || Self.isNetstatHeader(text, position)
                        || Self.routeRowEnd(text, position, strict: !netstatHeader && tool != .netstat, limit: range.upperBound) != nil {
                next = readNetstat(from: position, into: &contents)
            } else if Self.isLsofHeader(text, position) || isUtunSocket(position) || (tool == .lsof && lsofRowStart(position))
                        || (text.startsLine(position) && lsofRowStart(position) && openedDevice(position) != nil) {
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
            } else if let end = unreadRouteRowEnd(position, into: &contents) {
                next = end
            } else if let end = elisionEnd(position) {
                // `...` where output was left out: the listing read last, or (before any) the
                // listing it is part of, is not whole.
                contents.notes.append("\(at(position)): '\(text.excerpt(position..<end, limit: 40))' marks output left out; the listing is partial")
                recognised = false
                switch lastRecord {
                case .ifconfig: ifconfigFragment = true
                case .netstat: elided = true
                case .ps:
                    psElided = true
                    psElidedReason = psElidedReason ?? "'\(text.excerpt(position..<end, limit: 60))' stands for rows left out"
                case nil: elidedBeforeAnything = true
                }
                next = end
            } else {
                recognised = false
                if text.startsLine(position), text[position] == "n[ctl", position + 1 < range.upperBound, text[position + 1] == Self.utunControl {
                    lsofFieldLines.append(text.line(position))
                }
                if skippedLines.last != text.line(position) {
                    skippedLines.append(text.line(position))
                    noteGap(at: position, into: &contents)
                    // `I ran ifconfig -a | head -57 and got:`, or the prompt of a shell not known.
                    if let cut = namedCut(onLineOf: position) ?? namedCutNote(onLineOf: position) {
                        // `^ that was ifconfig -a | head -57` under the code block of the listing
                        // read last: a caption of that listing, which is partial.
                        if let record = lastRecord, record.tool == cut.tool, captionsBlock(position) {
                            contents.notes.append("\(at(position)): the line after the code block names `\(cut.words)`, which may have cut or filtered the listing in it: the listing is partial")
                            switch record {
                            case .ifconfig: ifconfigFragment = true
                            case .netstat: elided = true
                            case .ps:
                                psElided = true
                                psElidedReason = psElidedReason ?? "the line after its code block names `\(cut.words)`"
                            }
                        } else if namedCuts[cut.tool] == nil {
                            namedCuts[cut.tool] = cut.words
                        }
                    }
                }
                // `ifconfig -a` prints nothing between its blocks: a line there was put in by hand
                // (`(removed 12 idle utuns)`), and what it stands for is not known.
                // Under its own command line, nothing but blocks comes after a block at all.
                // After the last block, a note in brackets (`(removed 12 idle utuns)`) or a cut
                // mark does the same; prose, a Markdown fence or the next prompt does not.
                if lastRecord != nil, isBarePrompt(position) { promptAfterLastRecord = true }
                if lastRecord == .ps {
                    if isBarePrompt(position) { psEndShown = true } else { noteTail(at: position, nil) }
                }
                if lastRecord == .ifconfig {
                    gapAfterBlock = true
                    if isHandMark(position) { ifconfigFragment = true }
                }
                next = position + 1
            }
            if recognised { contents.macOutputSeen = true }
            if ifconfigBlocks > blocksBefore {
                if gapAfterBlock { ifconfigFragment = true }
                gapAfterBlock = false
            }
            if ifconfigBlocks > blocksBefore || ifconfigFragment != fragmentBefore {
                lastRecord = .ifconfig
                promptAfterLastRecord = false
                if ifconfigBlocks > blocksBefore { interfaceMoments.insert(contents.moment) }
            }
            if psRows > psRowsBefore { psMoment = psMoment ?? contents.moment }
            if sectionRoutes > routesBefore || netstatHeader != headerBefore { lastRecord = .netstat; gapAfterBlock = false; promptAfterLastRecord = false }
            if psRows > psRowsBefore || psHeaderSeen != psHeaderBefore { lastRecord = .ps; gapAfterBlock = false; promptAfterLastRecord = false }
            // Another listing after the ps rows: ps's output ended before it.
            if psRows > 0, psRows == psRowsBefore, ifconfigBlocks > blocksBefore || sectionRoutes > routesBefore || netstatHeader != headerBefore
                || lsofRows > lsofRowsBefore || lsofHeaderSeen != lsofHeaderBefore { psEndShown = true }
            // A listing read after a line that named its command with a cut is partial.
            for (tool, grew) in [(ShellCommand.Tool.ifconfig, ifconfigBlocks > blocksBefore || ifconfigFragment != fragmentBefore),
                                 (.netstat, sectionRoutes > routesBefore || netstatHeader != headerBefore),
                                 (.ps, psRows > psRowsBefore || psHeaderSeen != psHeaderBefore),
                                 (.lsof, lsofRows > lsofRowsBefore || lsofHeaderSeen != lsofHeaderBefore)] where grew {
                if let cut = namedCuts[tool], cutByNamedLine[tool] == nil { cutByNamedLine[tool] = cut }
            }
            position = max(next, position + 1)
        }
        if cutAtEnd, let record = lastRecord, !promptAfterLastRecord {
            contents.notes.append("\(file): the text ends inside a Markdown code block it opened (```): it was cut there, so the last listing is partial")
            switch record {
            case .ifconfig: ifconfigFragment = true
            case .netstat: elided = true
            case .ps:
                psElided = true
                psElidedReason = psElidedReason ?? "the text ends inside the Markdown code block that holds it"
            }
        }
        if recordsRead { contents.listingReadInFile = true }
        finish(into: &contents)
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
        var fieldValues: [String: String] = [:]
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
            // (The interface its route leaves through, for a capture without the routing table.)
            if word == "interface:", position + 1 < end, ShellCommand.isInterfaceName(text[position + 1]) {
                contents.routeGetInterfaces[String(text[position + 1])] = at(position)
            }
            if fields.contains(word), word.hasSuffix(":"), word != "to:", position + 1 < end, text.line(position + 1) == text.line(position) {
                fieldValues[word] = String(text[position + 1])
            } else if word == "to:", position + 1 < end, text.line(position + 1) == text.line(position) {
                fieldValues["route to:"] = String(text[position + 1])
            }
            position += 1
        }
        // Its `interface:` is the interface of the routing entry it found, as netstat's Netif is:
        // a static route into a tunnel that went away still names it, so it shows nothing exists.
        // When that entry is the general default, it shows where default traffic goes; when it
        // is half of a split default (`destination: default`, `mask: 128.0.0.0`, the answer for
        // 1.1.1.1 behind a VPN's `0/1`), where half of it goes.
        if let found = routeGetDefault(fieldValues, at: at(start), moment: contents.moment) {
            contents.routeGetDefaults.append(found)
            let what = found.destination.length == 0 ? "the general \(found.family == .inet ? "IPv4" : "IPv6") default route"
                : "the route \(found.destination), half of a split default"
            contents.notes.append("\(at(start))–\(text.line(max(start, position - 1))): `route get` found \(what), "
                + "through \(found.interface): where no routing table lists that route, it is judged as the table's would be")
        } else {
            contents.notes.append("\(at(start))–\(text.line(max(start, position - 1))): `route get` output is not used: "
                + "the interface it names is its route's, which a route that outlived its tunnel names too")
        }
        return position
    }

    /// The general default route `route get` output found, from its fields (`destination:
    /// default`, `mask: default`, `interface: utun12`, `flags: <UP,GATEWAY,DONE,STATIC>`): without
    /// `-ifscope` it looks up the general table, so the entry it found is the family's one general
    /// default, unless its flags say IFSCOPE. Half of a split default is found so too: the
    /// unscoped route of that destination, which half of all traffic takes. The destination and
    /// the mask are read together, since `route` prints an IPv4 destination of 0.0.0.0 as
    /// `default` whatever its mask: the answer for 1.1.1.1 behind a VPN's `0/1` is `destination:
    /// default` with `mask: 128.0.0.0`, the prefix 0.0.0.0/1, never the general default. Only a
    /// mask of `default` (or none, or all zeros) makes the general default; `128.0.0.0`, `::` and
    /// `8000::` with the mask of a /1 are the other halves. Nil for any other route (a `default`
    /// of another mask, `0.0.0.0/2`, is neither), or one without an interface.
    func routeGetDefault(_ values: [String: String], at place: String, moment: Int) -> CaptureContents.RouteGetDefault? {
        guard let destination = values["destination:"], let name = values["interface:"], ShellCommand.isInterfaceName(name),
              !(values["flags:"] ?? "").contains("IFSCOPE") else { return nil }
        let maskText = values["mask:"]
        let mask = maskText.flatMap(IPAddress.init)
        if let maskText, maskText != "default", mask == nil { return nil }
        let gateway = values["gateway:"].flatMap { IPAddress(String($0.prefix { $0 != "%" })) }
        let asked = values["route to:"].flatMap { IPAddress(String($0.prefix { $0 != "%" })) }
        let arguments = command?.arguments ?? []
        let address: IPAddress
        if destination == "default" {
            let family = mask?.family ?? gateway?.family ?? asked?.family
                ?? (arguments.contains("-inet6") || arguments.contains("-6") ? AddressFamily.inet6 : .inet)
            guard let any = IPAddress(family == .inet ? "0.0.0.0" : "::") else { return nil }
            address = any
        } else {
            guard let given = IPAddress(destination) else { return nil }
            address = given
        }
        // The mask's length: a mask of `default` (or none) is a length of 0, as is one of all zeros.
        var length = 0
        if let mask {
            guard mask.family == address.family else { return nil }
            let bits = mask.bytes.reduce(0) { $0 + $1.nonzeroBitCount }
            let contiguous = mask.bytes.enumerated().allSatisfy { index, byte in
                let ones = max(0, min(8, bits - index * 8))
                return byte == UInt8(truncatingIfNeeded: 0xFF00 >> ones)
            }
            guard contiguous else { return nil }
            length = bits
        }
        guard length <= 1, let found = IPPrefix(address: address, length: length), found.address == address,
              length == 1 || address.bytes.allSatisfy({ $0 == 0 }) else { return nil }
        let flags = (values["flags:"] ?? "").split(whereSeparator: { "<>,".contains($0) })
        let letters = ["UP": "U", "GATEWAY": "G", "STATIC": "S", "PRCLONING": "c"]
        return CaptureContents.RouteGetDefault(family: found.family, destination: found, interface: name, gateway: flags.contains("GATEWAY") ? gateway : nil,
                                               flags: flags.compactMap { letters[String($0)] }.joined(), moment: moment, place: place)
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
