import Foundation
import TunwardenCore

/// Output that shows an interface existed when it ran without listing it as ifconfig does: the
/// rows of `netstat -i`, WireGuard's `wg show` (`interface: utun4`), `scutil --nc status`
/// (`InterfaceName : utun4`). Each sighting is kept with its moment: a tunnel seen at or after the
/// moment of the listing of every interface that lacks it is not gone (see
/// `CaptureContents.sightings`).
///
/// Output that only repeats the routing table is no sighting: `route get`'s `interface: utun4`
/// is the interface its route names, and a static route outlives the tunnel it leads into. Nor
/// are the files wireguard-go leaves behind when it crashes or is killed (`ls /var/run/wireguard`:
/// `utun4.sock`; `cat /var/run/wireguard/wg0.name`: `utun4`), nor wg-quick's `Interface for wg0
/// is utun4` read from them anywhere but right after the `wg-quick up` that started
/// wireguard-go: they tie a WireGuard name to a utun, which is noted, and no more. Nor is what
/// configd keeps of the services that VPNs publish (`scutil --nwi`, `scutil --dns`, `scutil`'s
/// `show State:/Network/Service/…`): a VPN killed before it withdraws its state leaves it behind.
extension Section {
    /// Records a sighting of `name` at the current moment, when it names an interface, with the
    /// output that showed it (`by`, as a reason names it: "`sudo wg show`", "a `netstat -i` row").
    func sighted(_ name: Substring, by source: String, into contents: inout CaptureContents) {
        let bare = name.hasSuffix("*") ? name.dropLast() : name
        guard ShellCommand.isInterfaceName(bare) else { return }
        contents.sightings[String(bare), default: []].insert(contents.moment)
        let cited = "\(source) at \(at(range.lowerBound))"
        if !(contents.sightingSources[String(bare)]?.contains(cited) ?? false) { contents.sightingSources[String(bare), default: []].append(cited) }
    }

    /// This section's command line as a reason names it, or `fallback` when it has none.
    func shown(or fallback: String) -> String {
        command.map { "`\($0.display.prefix(80))`" } ?? fallback
    }

    /// The sightings on the line at `position` (`interface: utun4`, `Network interfaces: utun4
    /// en0`); returns where the line ends when it held any.
    func readSighting(at position: Int, into contents: inout CaptureContents) -> Int? {
        guard text.startsLine(position) else { return nil }
        var end = position
        while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
        if text[position] == "interface:", end - position == 2 {
            // `wg show`'s, under its command line or followed by its fields; `route get`'s (its
            // lines picked out by grep) or one of no known tool shows no interface exists.
            if isWireGuardShow(after: end) {
                sighted(text[position + 1], by: shown(or: "`wg show`'s fields"), into: &contents)
            } else {
                contents.notes.append("\(at(position)): `interface: \(text[position + 1])` is not `wg show`'s; as `route get` prints it, it names a route's interface, which a route into a gone tunnel names too, so it does not show \(text[position + 1]) exists")
            }
            return end
        }
        // `scutil --nwi`: the interfaces of the services configd last ranked, not the kernel's.
        if text[position] == "Network", position + 1 < end, text[position + 1] == "interfaces:" {
            let names = ((position + 2)..<end).map { text[$0] }.filter { ShellCommand.isInterfaceName($0) }
            if !names.isEmpty {
                contents.notes.append("\(at(position)): `Network interfaces: \(names.prefix(4).joined(separator: " "))` is configd's network information (`scutil --nwi`), built from the state network services published, "
                    + "which a VPN killed before it could withdraw its own keeps; it does not show \(names.prefix(4).joined(separator: ", ")) exist\(names.count == 1 ? "s" : "")")
            }
            return end
        }
        // `InterfaceName : utun4`: a connected VPN's, under `scutil --nc status`; elsewhere
        // (`scutil <<< "show State:/Network/Service/…/IPv4"`, `scutil` then `> show …`) configd's
        // dynamic store, which keeps a service's state after its tunnel is gone.
        if text[position] == "InterfaceName", end - position == 3, text[position + 1] == ":" {
            let name = text[position + 2]
            if isNetworkConnectionStatus {
                sighted(name, by: shown(or: "`scutil --nc status`"), into: &contents)
            } else if ShellCommand.isInterfaceName(name) {
                let under = command.map { "under `\($0.display.prefix(80))`" } ?? "under no command line"
                contents.notes.append("\(at(position)): `InterfaceName : \(name)` \(under) is configd's record of a network service, which stays after its tunnel is gone (a VPN killed before it could remove it); "
                    + "only `scutil --nc status` prints a connected VPN's, so it does not show \(name) exists")
            }
            return end
        }
        // `wg-quick`: `[+] Interface for wg0 is utun4`.
        if text[position] == "[+]", end - position == 6, text[position + 1] == "Interface", text[position + 4] == "is" {
            if startedWireGuard {
                sighted(text[position + 5], by: shown(or: "`wg-quick up`"), into: &contents)
            } else if let command, command.arguments.first == "up", !range.contains(where: { text[$0] == "already" }) {
                contents.notes.append("\(at(position)): this `wg-quick up` started \(text[position + 5]) for \(text[position + 3]), then reported an error or removed wireguard-go's files as it tore the tunnel down, so it does not show \(text[position + 5]) exists")
            } else {
                contents.notes.append("\(at(position)): wg-quick read \(text[position + 3])'s utun, \(text[position + 5]), from the files wireguard-go leaves behind when it dies; "
                    + "outside a `wg-quick up` that started it, they do not show \(text[position + 5]) exists")
            }
            return end
        }
        // `scutil --dns`: `if_index : 24 (utun4)`, the name configd stored with the resolver
        // (since 2017; not looked up as it prints), which outlives the interface as --nwi's does.
        if text[position] == "if_index", end - position == 4, text[position + 1] == ":" {
            let word = text[position + 3]
            if word.hasPrefix("("), word.hasSuffix(")"), ShellCommand.isInterfaceName(word.dropFirst().dropLast()) {
                let name = word.dropFirst().dropLast()
                contents.notes.append("\(at(position)): `if_index : \(text[position + 2]) (\(name))` is the interface configd stored with a DNS resolver (`scutil --dns`), which stays while the service's state does, after its tunnel is gone; it does not show \(name) exists")
            }
            return end
        }
        return nil
    }

    /// Whether this is the output of `scutil --nc status` (Network Extension and built-in VPNs):
    /// the status of a connection, whose `InterfaceName` is its utun while it is connected.
    var isNetworkConnectionStatus: Bool {
        guard let command, PathText.lastComponent(command.name) == "scutil" else { return false }
        return command.arguments.first == "--nc" && command.arguments.dropFirst().first == "status"
    }

    /// Whether this is the output of a `wg-quick up` that started wireguard-go and kept it: one
    /// that found the files of an earlier one stops with "`wg0' already exists as `utun4'"
    /// instead; one that failed after starting it (`Configuration parsing error`) tears it down,
    /// removing its files (`[#] rm -f /var/run/wireguard/utun3.sock`); `down` and the others read
    /// the files alone.
    var startedWireGuard: Bool {
        guard let command, PathText.lastComponent(command.name) == "wg-quick", command.arguments.first == "up" else { return false }
        return !range.contains { position in
            let word = text[position]
            if position + 1 < range.upperBound, word == "already", text[position + 1] == "exists" { return true }
            if position + 2 < range.upperBound, word == "rm", text[position + 1] == "-f", text[position + 2].hasPrefix("/var/run/wireguard/") { return true }
            return ["error", "error:"].contains(word.lowercased())
        }
    }

    /// Whether an `interface:` line ending at `end` is `wg show`'s: under a `wg` command line, or
    /// followed by the fields wg prints under it (`public key:`, `private key:`, `listening port:`).
    func isWireGuardShow(after end: Int) -> Bool {
        if let command, PathText.lastComponent(command.name) == "wg" { return true }
        guard end + 1 < range.upperBound, text.startsLine(end) else { return false }
        return ["public", "private", "listening"].contains(text[end]) && ["key:", "port:"].contains(text[end + 1])
    }

    /// What ifconfig prints for a name no interface has, `ifconfig: interface utun4 does not
    /// exist`: records that the interface was gone at the current moment, and returns where the
    /// words end. Output of several moments (a loop, `ifconfig utun4; open -a ClashX; …` on one
    /// line) does not tell at which the interface was gone, so its answer is only noted.
    func readAbsence(at position: Int, into contents: inout CaptureContents) -> Int? {
        guard position + 5 < range.upperBound, text[position] == "ifconfig:", text[position + 1] == "interface",
              text[position + 3] == "does", text[position + 4] == "not", text[position + 5] == "exist",
              ShellCommand.isInterfaceName(text[position + 2]) else { return nil }
        // ifconfig names the interface as the shell passed it, one space on either side: a name
        // with a blank or a no-break space after it (`ifconfig 'utun7 '`, a command copied from a
        // web page) is another name than the tunnel's, and says nothing of it.
        let name = String(text[position + 2])
        // The error is ifconfig's answer: the capture holds ifconfig output, if of no listing.
        contents.ifconfigSeen = true
        guard text.separator(after: position + 1) == " ", text.separator(after: position + 2) == " " else {
            contents.notes.append("\(at(position)): ifconfig's answer names \(name) with more than a space beside it (a blank or a no-break space the shell passed with the name): that is another name than the tunnel's, so it does not show \(name) is gone")
            return position + 6
        }
        if mixedMoments {
            contents.notes.append("\(at(position)): ifconfig says \(name) does not exist, at one of several moments the command line spans, so routes into it are not taken as into a gone tunnel")
        } else {
            contents.goneAt[name, default: []].insert(contents.moment)
            contents.notes.append("\(at(position)): ifconfig says \(name) does not exist at this moment")
        }
        return position + 6
    }

    /// What commands other than the listings print that shows an interface exists: `wg show
    /// interfaces` (names of the sockets wg could connect to: it removes the others), `wg show all
    /// dump` (a row per peer, led by the interface), and an address that `ipconfig getifaddr
    /// utun4` printed. And `zerotier-cli`'s answer, which shows zerotier-one runs (the pairs it
    /// owns are not orphaned, whatever a ps listing says). wireguard-go's socket files (`ls
    /// /var/run/wireguard`: `utun4.sock`) are only noted: they outlive it.
    func readCommandSightings(into contents: inout CaptureContents) {
        guard let command, !range.isEmpty else { return }
        let name = PathText.lastComponent(command.name)
        switch name {
        case "wg":
            guard command.arguments.first == "show" else { return }
            for position in range where text.startsLine(position) { sighted(text[position], by: shown(or: "`wg show`"), into: &contents) }
        case "ls", "find":
            guard command.arguments.contains(where: { $0.contains("wireguard") }) else { return }
            let sockets = range.map { text[$0] }.filter { $0.hasSuffix(".sock") }.map { PathText.lastComponent($0) }
            guard !sockets.isEmpty else { return }
            contents.notes.append("\(at(range.lowerBound)): \(sockets.prefix(4).joined(separator: ", ")): wireguard-go leaves its socket behind when it crashes or is killed, "
                + "so a socket file does not show its utun exists (`sudo wg show` does)")
        case "zerotier-cli":
            // `200 info … ONLINE`, `200 listnetworks …`: only a running zerotier-one answers. With
            // `-j` it answers in JSON (`"portDeviceName": "feth2466"`, `"nwid": …`, `"online":
            // true`), which only its service gives too.
            if range.contains(where: { text.startsLine($0) && text[$0] == "200" }) {
                contents.ownerAnswered = .unseen("`\(command.display)` got an answer (200), which only a running zerotier-one gives")
            } else if command.arguments.contains(where: { $0 == "-j" || $0 == "-json" }),
                      range.contains(where: { ["\"portDeviceName\":", "\"nwid\":", "\"online\":", "\"planetWorldId\":"].contains(text[$0]) }) {
                contents.ownerAnswered = .unseen("`\(command.display)` got an answer (its JSON), which only a running zerotier-one gives")
            }
        case "ipconfig":
            guard command.arguments.first == "getifaddr", command.arguments.count == 2,
                  IPAddress(String(text[range.lowerBound])) != nil else { return }
            sighted(Substring(command.arguments[1]), by: shown(or: "`ipconfig getifaddr`"), into: &contents)
        default:
            return
        }
    }

    /// The rows of a `netstat -i` table starting at `start` (its header), up to `end`: each
    /// row's first word names an interface (with `*` when it is down).
    ///
    /// netstat on 10.14 and earlier prints the Name column 5 characters wide and cuts longer
    /// names (`utun10` to `utun12` all read `utun1`, as `bridge0` reads `bridg`). In a table
    /// with no name longer than 5 characters, a name of 5 is a prefix, no sighting of the
    /// interface of that name: it is kept with the index its `<Link#N>` row gives (an
    /// interface's address rows follow its link row) and settled against the interface listing
    /// by `CapturedInventory.settleCutSightings`.
    func readInterfaceTableRows(_ start: Int, _ end: Int, into contents: inout CaptureContents) {
        let rows = ((start + 1)..<end).filter { text.startsLine($0) }
        let mayBeCut = !rows.contains { text[$0].utf8.count > Self.oldInterfaceNameWidth }
        var linkIndex: (name: Substring, index: Int)?
        for position in rows {
            let name = text[position]
            if position + 2 < end, text.line(position + 2) == text.line(position) {
                let network = text[position + 2]
                if network.hasPrefix("<Link#"), network.hasSuffix(">"), let index = Int(network.dropFirst(6).dropLast()) {
                    linkIndex = (name, index)
                } else if linkIndex?.name != name {
                    linkIndex = nil
                }
            }
            let source = shown(or: "a `netstat -i` table")
            if mayBeCut, name.utf8.count == Self.oldInterfaceNameWidth, !name.hasSuffix("*"), ShellCommand.isInterfaceName(name) {
                contents.cutSightings.append((String(name), linkIndex?.name == name ? linkIndex?.index : nil, contents.moment, "\(source) at \(at(range.lowerBound))"))
                continue
            }
            sighted(name, by: source, into: &contents)
        }
    }

    /// The width of `netstat -i`'s Name column on macOS 10.14 and earlier.
    static let oldInterfaceNameWidth = 5

    /// The utun a `cat` of wireguard-go's name file printed (`/var/run/wireguard/wg0.name`): a
    /// hint of which utun the WireGuard tunnel had, noted; the file outlives wireguard-go, so it
    /// shows nothing exists.
    func readNameFile(into contents: inout CaptureContents) {
        guard let command, PathText.lastComponent(command.name) == "cat",
              let file = command.arguments.first(where: { $0.hasSuffix(".name") && $0.contains("wireguard") }) else { return }
        let names = range.map { text[$0] }.filter { ShellCommand.isInterfaceName($0) }
        guard !names.isEmpty else { return }
        contents.notes.append("\(at(range.lowerBound)): \(file) names \(names.prefix(4).joined(separator: ", ")): wireguard-go leaves this file behind when it crashes or is killed, "
            + "so it does not show that utun exists (`sudo wg show` does)")
    }
}

extension CapturedInventory {
    /// Settles the `netstat -i` rows whose Name may be cut (see `Section.readInterfaceTableRows`):
    /// a row whose `<Link#N>` is the index of the one listed interface whose name begins with the
    /// cut name is that interface's, and a sighting of it (`utun1` with the index of a listed
    /// `utun10`). Any other such row, which no index ties to one listed interface, may be the
    /// cut name's own: a sighting of it, as before, so that an interface it may be is never
    /// taken as gone.
    static func settleCutSightings(_ contents: inout CaptureContents) {
        guard !contents.cutSightings.isEmpty else { return }
        let listed = Set(contents.interfaces.map(\.name))
        var nameByIndex: [Int: Set<String>] = [:]
        for entry in contents.interfaces { if let index = entry.kernelIndex { nameByIndex[index, default: []].insert(entry.name) } }
        var restored: [String: Set<String>] = [:]
        for row in contents.cutSightings {
            let candidates = listed.filter { $0.hasPrefix(row.name) }
            let byIndex = row.index.map { (nameByIndex[$0] ?? []).intersection(candidates) } ?? []
            let name = byIndex.count == 1 ? byIndex.first! : row.name
            if name != row.name { restored[row.name, default: []].insert(name) }
            contents.sightings[name, default: []].insert(row.moment)
            let cited = "a `netstat -i` row at \(row.source)"
            if !(contents.sightingSources[name]?.contains(cited) ?? false) { contents.sightingSources[name, default: []].append(cited) }
        }
        for (cut, names) in restored.sorted(by: { $0.key < $1.key }) {
            contents.notes.append("netstat -i cut \(names.sorted().joined(separator: ", ")) to '\(cut)' (its Name column is 5 characters wide on this macOS); the `<Link#N>` index of those rows says whose they are")
        }
    }
}
