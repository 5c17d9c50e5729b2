import Foundation
import TunwardenCore

/// What a section of a capture covers, once it is read: whether its interface listing is every
/// interface, its route listing every route, its lsof and ps listings every holder and process.
extension Section {
    /// Whether a command only shows a file whole (`cat if.txt`, `less if.txt`), so that a
    /// listing saved in it reads as it was saved. (`cat old.txt; ifconfig -a` shows more.)
    static func showsSavedFile(_ command: ShellCommand) -> Bool {
        command.tool == .other && ["cat", "less", "more", "bat"].contains(PathText.lastComponent(command.name))
            && !command.arguments.isEmpty && !command.arguments.contains { $0.hasPrefix("|") || $0.hasPrefix(">") || $0.hasPrefix("<") }
            && !command.arguments.contains { $0.contains(";") || ShellCommand.separators.contains($0) }
            && command.followedBy.isEmpty && command.gluedSeparator.isEmpty
    }

    /// Why a listing whose command line has words tunwarden did not read (`ps aux |head -6`,
    /// `netstat -rn > rt.txt; head -40 rt.txt`, `| pbcopy && pbpaste | head`) is not taken as
    /// whole: they may have cut it, or sent it elsewhere and shown something else.
    /// Why the listing of an lsof command line does not show every utun's holder, if it does not:
    /// it selects some processes or sockets, went through a filter that may drop utun sockets or
    /// a stage that reshapes it, has words tunwarden does not follow, or ran without sudo.
    static func lsofLimits(of command: ShellCommand) -> [String] {
        if let pids = command.value(of: "p") {
            return ["`\(command.display)` lists only pid \(pids)"]
        } else if command.value(of: "c") != nil || command.value(of: "u") != nil {
            return ["`\(command.display)` lists only some processes"]
        } else if command.hasOption("r") || command.arguments.contains(where: { $0.hasPrefix("+r") }) {
            // `-r 5`, `+r`: the listing again and again, rows of several moments in one.
            return ["`\(command.display)` repeats its listing, so its rows are of several moments"]
        } else if let groups = command.value(of: "g"), groups.first.map({ $0.isNumber || $0 == "^" }) == true {
            // `-g 448` lists only those process groups (round 37 F5).
            return ["`\(command.display)` lists only process group \(groups)"]
        } else if let descriptors = command.value(of: "d"), !Self.excludesOnlyNonSockets(descriptors) {
            // `-d 0-100` lists only those descriptors: a holder's utun socket may be fd 150.
            return ["`\(command.display)` lists only file descriptors \(descriptors)"]
        } else if command.hasOption("i") || command.hasOption("U") {
            // `-i` selects internet sockets, `-U` UNIX domain ones: a utun's control socket
            // (`systm`) is neither, so no holder can show.
            return ["`\(command.display.prefix(60))` lists only \(command.hasOption("i") ? "internet" : "UNIX domain") sockets, never the utun control sockets that hold utuns; `sudo lsof -nP | grep utun_control` lists those"]
        } else if let filter = command.filters.first, !ShellCommand.keepsEveryUtunRow(filter) {
            return ["`\(command.display)` may have filtered out utun sockets"]
        } else if !command.reshaping.isEmpty {
            return ["`\(command.display)` reshaped the listing"]
        } else if !command.unread.isEmpty {
            return [unreadWords(command)]
        } else if !command.privileged {
            return ["`\(command.display)` ran without sudo, so it shows only its user's sockets"]
        }
        return []
    }

    /// Whether lsof's `-d` list only leaves out descriptors that are no socket (`^txt,^cwd,^mem`):
    /// every utun control socket stays listed.
    static func excludesOnlyNonSockets(_ list: String) -> Bool {
        list.split(separator: ",").allSatisfy { item in
            item.hasPrefix("^") && ["cwd", "txt", "mem", "rtd", "jld", "ltx", "mmap", "pd", "tr", "err", "DEL", "Mxx", "m86", "v86"].contains(String(item.dropFirst()))
        }
    }

    static func unreadWords(_ command: ShellCommand) -> String {
        "`\(command.display.prefix(60))` has words tunwarden cannot follow ('\(command.unread.joined(separator: " ").prefix(60))'), which may have cut the listing or sent it elsewhere"
    }

    /// Whether the blocks a command printed for every interface start with lo0, as every
    /// `ifconfig -a` does. Blocks that start elsewhere were trimmed off the top (by hand, to keep a
    /// post short): the listing is not every interface, and the capture says so.
    mutating func startsAtLoopback(into contents: inout CaptureContents) -> Bool {
        if loopbackRun.first == "lo0" { return true }
        let reason = "`ifconfig -a` output does not start with lo0: blocks were left out"
        contents.notes.append("\(at(range.lowerBound)): \(reason), so the listing is not taken as every interface")
        contents.interfaceListingLimits.append(reason)
        return false
    }

    /// Records what the section covers once it is read.
    mutating func finish(into contents: inout CaptureContents) {
        if !skippedLines.isEmpty {
            let label = tool == nil || tool == .other ? "not tool output" : "not \(tool!.rawValue) output"
            contents.notes.append("\(file): \(Self.describe(lines: skippedLines)) skipped (\(label))")
        }
        for (tool, cut) in cutByNamedLine.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            contents.notes.append("\(at(range.lowerBound)): a line before the \(tool.rawValue) listing names `\(cut)`, which may have cut or filtered it: the listing is partial")
        }
        if let cut = cutByNamedLine[.ifconfig] {
            ifconfigFragment = true
            contents.interfaceListingLimits.append("a line before the interface listing names `\(cut)`, which may have cut it")
        }
        // Output shown through `head if.txt`, `grep utun dump.txt`, `sed …` is part of a listing,
        // when the listing starts right under the command (a listing pasted later, after other
        // lines, is not its output), and the command reads like one (`cut` takes options; "100%
        // cut off from the internet" is prose).
        let cutter = command.map { PathText.lastComponent($0.name) } ?? ""
        // (An other command's words are its arguments, pipes and all: `cat if.txt | less`.)
        let pipedThroughCut = command.map { command in
            command.arguments.split(separator: "|", omittingEmptySubsequences: false).dropFirst().contains { stage in
                stage.first.map { Self.cuttingCommands.contains(PathText.lastComponent($0)) } ?? false
            }
        } ?? false
        if let command, command.tool == .other, Self.cuttingCommands.contains(cutter) || pipedThroughCut, command.followedBy.isEmpty,
           cutter != "cut" || command.arguments.contains(where: { $0.hasPrefix("-") }),
           !range.isEmpty, CaptureReader.startsOutput(text, at: range.lowerBound) {
            // (A plain ifconfig of the line is not piped on: what the pipe cut is another command's.)
            if ifconfigBlocks > 0, !listsEveryInterface { ifconfigFragment = true }
            if netstatHeader || sectionRoutes > 0 { elided = true }
        }
        if ifconfigBlocks > 0 || ifconfigFragment {
            contents.ifconfigSeen = true
            // A listing of every interface: `ifconfig`, `ifconfig -a`/`-v`/`-u`… without a name.
            var whole: Bool
            if let command, command.tool == .ifconfig {
                whole = !ifconfigFragment && !command.arguments.contains { ShellCommand.isInterfaceName($0) }
                    && command.filters.isEmpty && command.reshaping.isEmpty && command.unread.isEmpty
                    // `-d` and `-u` list only the interfaces that are down, or up; `-a inet` only
                    // those with an address of that family.
                    && !command.hasOption("d") && !command.hasOption("u")
                    && !command.arguments.contains { Self.addressFamilies.contains($0) }
                    // `ifconfig -a; ifconfig utun4`: the named one's block may be any of them.
                    && !command.followedBy.contains { ShellCommand.isInterfaceName($0) }
                if whole, !startsAtLoopback(into: &contents) { whole = false }
                if !whole, !command.filters.isEmpty {
                    contents.interfaceListingLimits.append("the capture's interface listing went through grep (`\(command.display.prefix(60))`), which need not show every interface")
                } else if !whole, !command.unread.isEmpty {
                    contents.interfaceListingLimits.append("`\(command.display.prefix(60))` has words tunwarden cannot follow, which may change what it lists")
                }
                if !command.unread.isEmpty {
                    contents.notes.append("\(at(range.lowerBound)): `\(command.display)` has words tunwarden cannot follow ('\(command.unread.joined(separator: " ").prefix(60))'), so its listing is not taken as every interface")
                }
            } else if command != nil, listsEveryInterface, !repeated {
                whole = !ifconfigFragment && startsAtLoopback(into: &contents)
            } else if let command, !Self.showsSavedFile(command), repeated || CaptureReader.startsOutput(text, at: range.lowerBound)
                        || (command.arguments + command.followedBy).contains(where: { $0.contains("ifconfig") }) {
                // Printed by another command line (`for i in lo0 en0 utun3; do ifconfig $i; done`,
                // `echo lo0 en0 | xargs -n1 ifconfig`), the blocks are those it chose to show. (A
                // listing pasted after other lines under an unrelated command is read by shape.)
                whole = false
                contents.notes.append("\(at(range.lowerBound)): `\(command.display)` is not `ifconfig -a`, so its listing is not taken as every interface")
            } else {
                // Without its command line, or shown from a file, a listing is whole when it
                // starts at an interface header and holds lo0, gif0 and stf0 one after the other,
                // as `ifconfig -a` always lists them. Blocks of single interfaces (`ifconfig lo0;
                // ifconfig en0`, the commands left out of the paste) lack that. (A capture
                // directory's ifconfig.txt is the listing of every interface by definition: lo0
                // in it is enough.)
                whole = !ifconfigFragment && sawLoopback && (hint == .ifconfig || loopbackRun == ["lo0", "gif0", "stf0"])
                if !ifconfigFragment, sawLoopback, !whole {
                    contents.notes.append("\(at(range.lowerBound)): interface blocks without their command line that do not start with lo0, gif0 and stf0, as every `ifconfig -a` does, are not taken as every interface")
                }
            }
            if elidedBeforeAnything { whole = false }
            if interruptedAt != nil {
                whole = false
                contents.interfaceListingLimits.append(interruptedReason)
            }
            if mixedMoments || pipedOn.contains(.ifconfig) {
                whole = false
                contents.notes.append("\(at(range.lowerBound)): \(Self.mixedOutput(command)), so this listing is not taken as every interface")
            }
            // Blocks read on both sides of a line that started another moment are no one
            // moment's listing of every interface.
            if interfaceMoments.count > 1 {
                whole = false
                contents.notes.append("\(at(range.lowerBound)): the interface blocks stand on both sides of a line that starts another moment, so they are not taken as every interface")
            }
            if whole { recordWholeInterfaceListing(into: &contents) }
        }
        // A routing table shown under its command line of which no row could be read (damaged,
        // or in a form tunwarden does not know) says nothing, which must not pass for "no routes";
        // nor does one most of whose route-shaped lines could not be read, whatever few rows
        // happened to read (`169.254 link#11 UCS en0 !` among rows whose names were glued to a `\`).
        if let command, command.tool == .netstat, command.hasOption("r"), !shapeOnly,
           sectionRoutes == 0 ? !skippedLines.isEmpty || rowsSkipped : unreadRows > sectionRoutes {
            contents.unreadableRouteListings.append(sectionRoutes == 0 ? "none of `\(command.display)` at \(at(range.lowerBound)) could be read"
                : "\(unreadRows) of the \(unreadRows + sectionRoutes) rows of `\(command.display)` at \(at(range.lowerBound)) could not be read")
        }
        finishRouteListing(into: &contents)
        if lsofRows > 0 || lsofHeaderSeen {
            contents.lsofSeen = true
            contents.lsofPIDs.formUnion(lsofPIDs)
            var limits: [String] = []
            if let command, command.tool == .lsof {
                limits += Self.lsofLimits(of: command)
            } else if mixedMoments || pipedOn.contains(.lsof) {
                limits.append(Self.mixedOutput(command))
            } else if let holderListing {
                // (`ifconfig -a; sudo lsof -nP | grep utun_control`: the rows are that lsof's.)
                limits += Self.lsofLimits(of: holderListing)
            } else if !lsofHeaderSeen {
                limits.append("the lsof rows have no header, so the listing was filtered")
            } else if lsofPIDs.count == 1 {
                limits.append("the lsof listing shows only pid \(lsofPIDs.first!)")
            }
            // A row whose socket name was cut (a terminal or mail program wrapped it and the rest
            // could not be joined) held some utun: which one, no other row says.
            if interruptedAt != nil { limits.append(interruptedReason) }
            if let cut = cutByNamedLine[.lsof] { limits.append("a line before the lsof listing names `\(cut)`, which may have cut or filtered it") }
            if !cutUtunRows.isEmpty {
                let rows = cutUtunRows.count == 1 ? "row at \(Self.describe(lines: cutUtunRows)) was" : "rows at \(Self.describe(lines: cutUtunRows)) were"
                limits.append("the lsof \(rows) wrapped or cut inside the utun socket's name, so which utun is held there is unknown")
            }
            if !unmappedLsofRows.isEmpty {
                let rows = unmappedLsofRows.count == 1 ? "row at \(Self.describe(lines: unmappedLsofRows)) does" : "rows at \(Self.describe(lines: unmappedLsofRows)) do"
                limits.append("the lsof \(rows) not line up with lsof's columns in one way (wrapped or cut, or with columns tunwarden cannot count), so whose utun sockets they are is unknown; paste `sudo lsof -nP` with its header")
            }
            if limits.isEmpty {
                contents.lsofWhole = true
            } else {
                contents.lsofLimits += limits
            }
        }
        // lsof's field output is for programs; its records are not read, and what it showed is
        // said where the holders are reported, not only among the skipped lines.
        if let command, command.tool == .lsof, LsofIdColumns.optionLetters(command).contains("F") || !lsofFieldLines.isEmpty, lsofRows == 0 {
            contents.lsofSeen = true
            let lines = lsofFieldLines.isEmpty ? "" : ", \(lsofFieldLines.count) of its records naming utun control sockets,"
            contents.lsofLimits.append("`\(command.display.prefix(60))` printed lsof's field output (-F: `p412`, `cidentityservicesd`, `n[ctl …]`)\(lines) which tunwarden does not read; paste `sudo lsof -nP | grep utun_control` instead")
        } else if !lsofFieldLines.isEmpty, lsofRows == 0 {
            contents.lsofSeen = true
            contents.lsofLimits.append("lsof's field output (-F: `p412`, `cidentityservicesd`, `n[ctl …]`) at \(Self.describe(lines: Array(lsofFieldLines.prefix(3))))\(lsofFieldLines.count > 3 ? " and more" : "") is not read; paste `sudo lsof -nP | grep utun_control` instead")
        }
        if !pgrepPIDs.isEmpty, let command {
            // Pids alone say that something matched, not which program runs: the processes stay
            // unknown, and the reason says what to paste instead.
            contents.psSeen = true
            let pids = pgrepPIDs.prefix(4).joined(separator: ", ") + (pgrepPIDs.count > 4 ? ", …" : "")
            contents.addProcessListing(.unseen("`\(command.display.prefix(60))` printed only process ids (\(pids)), not the programs they run; paste the output of `pgrep -lf` with the same pattern instead"))
        }
        // (A listing is of the moment its rows were read at, not of one a line after them began.)
        let now = contents.moment
        if let psMoment { contents.moment = psMoment }
        finishProcessListing(into: &contents)
        contents.moment = now
    }
}
