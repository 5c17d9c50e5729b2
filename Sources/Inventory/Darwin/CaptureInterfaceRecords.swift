import Foundation
import TunwardenCore

/// Recording what an interface listing shows: each block into the capture's interfaces (the
/// fuller block of one listed twice, with what its command line may have left out of it), and a
/// listing of every interface, which says which interfaces the capture knows of at its moment.
extension Section {
    /// Records one block read: stamped with its moment, its addresses marked as maybe not all
    /// where the command line (a filter, a cut, a family, a line before naming a cut) may have left
    /// lines of it out, and merged with the same interface listed before (the fuller block wins;
    /// a later tuntaposx status line replaces an earlier one).
    mutating func add(_ entry: DarwinParsers.IfconfigEntry, to contents: inout CaptureContents) {
        var entry = entry
        entry.moment = contents.moment
        // (A grep that keeps every address line, `grep -E '^utun|inet'`, keeps the addresses;
        // so does `grep -A3 utun` of a plain ifconfig, whose utun blocks hold their addresses in
        // the three lines after the header.)
        // (`sudo lsof -nP | grep utun_control; ifconfig -a`: the pipeline is the other listing's,
        // and the blocks are the plain ifconfig's after it, as `listsEveryInterface` says.)
        let ownPipeline = command.map { $0.tool == .ifconfig || $0.tool == .other || !listsEveryInterface } ?? false
        if let command, ownPipeline, !command.reshaping.isEmpty || !command.unread.isEmpty
            || !command.filters.allSatisfy({ $0.certainlyShows(word: "inet") && $0.certainlyShows(word: "inet6") || Self.keepsUtunBlocks($0, of: command) }) {
            entry.addressesPartial = true
            entry.linesMayBeMissing = "`\(command.display.prefix(60))` may have left lines of it out"
        }
        // `ifconfig -a inet6` (or `inet`, `link`, `ether`) prints only that family's addresses:
        // a utun whose IPv4 address it left out must not pass for one with none.
        if let command, Self.namesAddressFamily(command) { entry.addressesPartial = true }
        if !pipedOn.isEmpty || (mixedMoments && !repeated) { entry.addressesPartial = true }
        if let cut = namedCuts[.ifconfig] {
            entry.addressesPartial = true
            entry.linesMayBeMissing = entry.linesMayBeMissing ?? "a line before it names `\(cut)`, which may have left lines of it out"
        }
        sectionInterfaceNames.insert(entry.name)
        // Two files of no known order whose status lines of a tuntaposx device disagree: which
        // is now is unknown.
        if contents.unorderedFiles, let existing = contents.interfacePositions[entry.name], let before = contents.interfaceStamps[entry.name],
           before.file != file, let said = contents.interfaces[existing].deviceStatus, let says = entry.deviceStatus, said != says {
            contents.disputedDeviceStatus[entry.name] = "says \(Self.statusText(said)) in \(before.file) and \(Self.statusText(says)) in \(file), files of a capture directory whose order is not known"
        }
        contents.interfaceStamps[entry.name] = contents.stamp(file)
        if let existing = contents.interfacePositions[entry.name] {
            // The same interface listed twice (`ifconfig -a`, then `ifconfig utun3`): the fuller block wins.
            if contents.interfaces[existing].headerMissing || entry.addresses.count > contents.interfaces[existing].addresses.count {
                contents.interfaces[existing] = entry
            } else {
                // Listed again: it was there at this moment too. (A tuntaposx block's status line
                // is of its own moment: the later one says what the device is now.)
                contents.interfaces[existing].moment = entry.moment
                if CapturedInventory.isTuntaposx(entry.name) { contents.interfaces[existing].deviceStatus = entry.deviceStatus }
            }
        } else {
            contents.interfacePositions[entry.name] = contents.interfaces.count
            contents.interfaces.append(entry)
        }
    }

    /// A tuntaposx status line as ifconfig prints it.
    static func statusText(_ status: TuntaposxDevice) -> String {
        switch status {
        case .open(let pid): return "`open (pid \(pid))`"
        case .closed: return "`closed`"
        default: return "no status line"
        }
    }

    /// The address families `ifconfig` takes as an argument, each of which limits the addresses
    /// (and the interfaces) it lists to that family's.
    static let addressFamilies: Set<String> = ["inet", "inet6", "link", "ether"]

    /// Whether an `ifconfig` on the command line is told an address family (`ifconfig -a inet6`,
    /// `date; ifconfig -a inet6`), so that its blocks hold only that family's addresses.
    static func namesAddressFamily(_ command: ShellCommand) -> Bool {
        if command.tool == .ifconfig { return command.arguments.contains { addressFamilies.contains($0) } }
        let words = [command.name] + command.arguments + command.followedBy
        guard let start = words.firstIndex(where: { PathText.lastComponent($0) == "ifconfig" }) else { return false }
        return words[start...].contains { addressFamilies.contains($0.trimmingCharacters(in: CharacterSet(charactersIn: ";&|"))) }
    }

    /// Whether `filter` keeps each utun block of a plain (not `-v`) ifconfig whole: `grep -A N
    /// utun` with N of 3 or more.
    static func keepsUtunBlocks(_ filter: TextFilter, of command: ShellCommand) -> Bool {
        guard !command.hasOption("v"), filter.certainlyShows(word: "utun0:"),
              let match = filter.text.range(of: #"(-A ?|--after-context=)(\d+)"#, options: .regularExpression) else { return false }
        return (Int(filter.text[match].filter(\.isNumber)) ?? 0) >= 3
    }

    /// Why what follows a command line is no one listing's whole: its commands may have changed
    /// the tables between them, a listing may be piped on after another command, or files shown
    /// may have been saved at another moment.
    static func mixedOutput(_ command: ShellCommand?) -> String {
        "what follows `\(command?.display ?? "")` may be of more than one moment or cut (commands that change the tables between its listings, a listing piped on, or files saved before a change)"
    }

    /// Records that this section listed every interface. Under its own command line, after an
    /// earlier listing of every interface, it is the listing of now (a transcript's second round):
    /// the interfaces only earlier listings showed are not listed any more. After a command that
    /// may have changed them (`sudo killall -9 ClashX`), they are gone. Without one between, the
    /// two listings of one moment disagree, and a paste cut at a block's end cannot be told from
    /// a tunnel that went away: those interfaces are disputed, their state unknown, never gone.
    /// After a command that may have changed them, only the new moment has every interface listed.
    /// The listing is of the moment its blocks were read at (`interfaceMoments`), which a line
    /// between it and a later listing of the section may have ended.
    mutating func recordWholeInterfaceListing(into contents: inout CaptureContents) {
        let moment = interfaceMoments.count == 1 ? interfaceMoments.first! : contents.moment
        if contents.interfacesComplete, command?.tool == .ifconfig {
            let missing = contents.interfaces.filter { !sectionInterfaceNames.contains($0.name) }.map(\.name)
            if !missing.isEmpty {
                // (Moments of two files are not comparable: their order is not known.)
                let sameMoment = contents.completeInterfaceMoments.contains(moment) || contents.completeListingFile != file
                let names = missing.prefix(6).joined(separator: ", ") + (missing.count > 6 ? ", …" : "")
                if sameMoment {
                    contents.disputedNames.formUnion(missing)
                    let between = contents.completeListingFile == file ? "with no command between them that could have removed \(missing.count == 1 ? "it" : "them")"
                        : "in another file, whose order against this one is not known"
                    contents.problems.append("\(file): \(names) of an earlier listing of every interface \(missing.count == 1 ? "is" : "are") not in the one at line \(text.line(range.lowerBound)), \(between): whether \(missing.count == 1 ? "it went away or the paste was cut" : "they went away or the paste was cut") is unknown")
                } else {
                    contents.notes.append("\(file): \(missing.count) interface\(missing.count == 1 ? "" : "s") of earlier listings (\(names)) not in the later listing of every interface at line \(text.line(range.lowerBound)), which is used")
                }
                contents.interfaces.removeAll { !sectionInterfaceNames.contains($0.name) }
                contents.interfacePositions = Dictionary(uniqueKeysWithValues: contents.interfaces.enumerated().map { ($1.name, $0) })
            }
        }
        if let earlier = contents.completeInterfaceMoments.max(), earlier != moment, !contents.unorderedFiles { contents.completeInterfaceMoments = [] }
        contents.completeListingFile = file
        contents.interfacesComplete = true
        contents.completeInterfaceMoments.insert(moment)
    }
}
