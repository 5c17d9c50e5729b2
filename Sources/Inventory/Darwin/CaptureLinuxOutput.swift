import Foundation
import TunwardenCore

/// Output of Linux's own tools in a `--from` capture, which reads listings taken on a Mac: a VM's,
/// a container's or a VPN server's `ip addr`, net-tools `ifconfig` or `netstat -rn`, pasted beside
/// the Mac's own (`colima ssh -- ip addr`, `docker exec web ifconfig`). Each such listing is told
/// apart by the shapes only Linux prints, where a section's records are recognised, and set aside
/// with a word on which lines and why: its interfaces and routes are another machine's. A capture
/// that holds nothing but such output is refused with a word on what to run instead.
extension Section {
    /// The words that start the lines of an `ip addr` (or `ip link`) block after its header.
    static let ipAddrBodyWords: Set<String> = ["inet", "inet6", "valid_lft", "altname", "link-netnsid", "prop", "alias"]

    /// The words that start the lines of a net-tools `ifconfig` block after its header.
    static let netToolsBodyWords: Set<String> = ["inet", "inet6", "ether", "loop", "unspec", "RX", "TX", "device", "infiniband", "ppp", "tunnel", "slip"]

    /// Whether an `ip addr` block's header starts at `position`: `2: eth0: <BROADCAST,…> mtu 1500
    /// qdisc …` (a veth's `eth0@if12:` too), numbered as no Mac tool numbers its lines.
    func isIpAddrHeader(_ position: Int) -> Bool {
        guard text.startsLine(position), position + 3 < range.upperBound else { return false }
        let number = text[position], name = text[position + 1], flags = text[position + 2]
        guard number.count >= 2, number.last == ":", number.dropLast().allSatisfy(\.isNumber),
              name.count >= 2, name.last == ":", flags.first == "<", flags.last == ">" else { return false }
        return text[position + 3] == "mtu"
    }

    /// Whether a header shaped as ifconfig's starts at `position`: macOS's (`utun4: flags=8051<UP,…>
    /// mtu 1380`), or net-tools' of a name macOS never gives (`lo:`, `eth0:`, `docker0:`).
    func isIfconfigShapedHeader(_ position: Int) -> Bool {
        if Self.isIfconfigHeader(text, position) { return true }
        guard text.startsLine(position), position + 1 < range.upperBound else { return false }
        let name = text[position], flags = text[position + 1]
        return name.count >= 2 && name.last == ":" && flags.hasPrefix("flags=") && flags.contains("<")
    }

    /// Whether the net-tools `ifconfig` line at `position` shows a shape macOS's ifconfig never
    /// prints: a dotted netmask (`inet 172.17.0.2  netmask 255.255.0.0`, where macOS prints
    /// `0xffff0000`), a queue length (`ether 02:42:ac:11:00:02  txqueuelen 0  (Ethernet)`), packet
    /// counters (`RX packets 1542  bytes 2215320`) or a scope in brackets (`scopeid 0x20<link>`).
    func isNetToolsLine(_ position: Int) -> Bool {
        let end = lineEnd(position)
        let first = text[position]
        if (first == "RX" || first == "TX"), position + 1 < end, ["packets", "errors"].contains(text[position + 1]) { return true }
        for at in position..<end {
            let word = text[at]
            if word == "txqueuelen" { return true }
            if word == "netmask", at + 1 < end, text[at + 1].split(separator: ".").count == 4 { return true }
            if word == "scopeid", at + 1 < end, text[at + 1].hasPrefix("0x"), text[at + 1].contains("<") { return true }
        }
        return false
    }

    /// Whether the line at `position` shows a shape only macOS's ifconfig prints: a hex netmask,
    /// `nd6 options=`, `media:` or `status:`.
    func isMacIfconfigLine(_ position: Int) -> Bool {
        let first = text[position]
        if first == "nd6" || first == "media:" || first == "status:" { return true }
        let end = lineEnd(position)
        return (position..<end).contains { text[$0] == "netmask" && $0 + 1 < end && text[$0 + 1].hasPrefix("0x") }
    }

    /// Whether the line at `position` goes on the Linux block before it: it starts with one of
    /// `words`, or it is indented and starts no record of a Mac's tools.
    func continuesLinuxBlock(_ position: Int, words: Set<String>) -> Bool {
        guard !isIfconfigShapedHeader(position), !isIpAddrHeader(position) else { return false }
        let first = text[position]
        if words.contains(String(first)) || first.hasPrefix("link/") { return true }
        return text.indented(position) && !CaptureReader.startsOutput(text, at: position)
    }

    /// Where the lines of one Linux block that starts at `position` end, and which listing it is
    /// part of; nil when none starts there. A net-tools block's header is shaped as macOS's
    /// (`eth0: flags=4163<UP,…>  mtu 1500`): its body tells them apart (see `isNetToolsLine`),
    /// and one line only macOS prints keeps it a Mac's.
    func linuxBlock(at position: Int) -> (end: Int, listing: String)? {
        guard text.startsLine(position) else { return nil }
        func blockEnd(after header: Int, words: Set<String>) -> Int {
            var end = lineEnd(header)
            while end < range.upperBound, continuesLinuxBlock(end, words: words) { end = lineEnd(end) }
            return end
        }
        if isIpAddrHeader(position) {
            return (blockEnd(after: position, words: Self.ipAddrBodyWords), "Linux `ip addr` output")
        }
        if isLinuxRouteTable(position) {
            var end = lineEnd(position)
            while end < range.upperBound, isLinuxRouteTable(end) || isLinuxRouteRow(end) { end = lineEnd(end) }
            return (end, "Linux `netstat -rn` (or `route -n`) output")
        }
        let header = isIfconfigShapedHeader(position)
        guard header || (Self.netToolsBodyWords.contains(String(text[position])) && isNetToolsLine(position)) else { return nil }
        let end = blockEnd(after: position, words: Self.netToolsBodyWords)
        var lines: [Int] = []
        var line = position
        while line < end { lines.append(line); line = lineEnd(line) }
        guard lines.contains(where: isNetToolsLine), !lines.contains(where: isMacIfconfigLine) else { return nil }
        return (end, "Linux net-tools `ifconfig -a` output")
    }

    /// The title or header of net-tools' routing table (`Kernel IP routing table`, `Destination
    /// Gateway Genmask Flags …`, IPv6's `Destination Next Hop Flag Met Ref Use If`).
    func isLinuxRouteTable(_ position: Int) -> Bool {
        guard text.startsLine(position), position + 3 < range.upperBound else { return false }
        if text[position] == "Kernel", ["IP", "IPv6"].contains(text[position + 1]), text[position + 2] == "routing" { return true }
        return text[position] == "Destination" && ((text[position + 1] == "Gateway" && text[position + 2] == "Genmask")
                                                  || (text[position + 1] == "Next" && text[position + 2] == "Hop"))
    }

    /// A row of net-tools' routing table, as rows under its header are read: an address (or
    /// prefix) first, and at least five words.
    func isLinuxRouteRow(_ position: Int) -> Bool {
        guard text.startsLine(position) else { return false }
        let first = String(text[position])
        let address = first.split(separator: "/").first.map(String.init) ?? first
        return IPAddress(address) != nil && lineEnd(position) - position >= 5
    }

    /// Sets aside the run of Linux blocks that starts at `start` (the first ending at `end`):
    /// its lines are named in a reading problem, shown without --verbose, as iproute2mac's `ip
    /// route` is, and kept for the refusal of a capture that holds nothing else. Returns where
    /// the run ends.
    mutating func skipLinuxListing(from start: Int, end first: Int, listing: String, into contents: inout CaptureContents) -> Int {
        var end = first
        while end < range.upperBound, let next = linuxBlock(at: end) { end = next.end }
        let place = "\(at(start))–\(text.line(max(start, end - 1)))"
        contents.linuxListings.append((file: file, listing: listing, place: place))
        contents.problems.append("\(place): \(listing) (another machine's: a VM's, a container's or a server's) is not read: "
            + "--from judges the Mac's own listings, and that machine's interfaces and routes are not the Mac's, so they are left aside; "
            + "on that machine, `sudo tunwarden audit` reads its kernel itself")
        return end
    }
}

extension CapturedInventory {
    /// The refusal of a capture that holds nothing but Linux output (`listing`, the first one
    /// read, at `name`), saying where each tool belongs.
    static func linuxRefusal(_ name: String, listing: String) -> InventoryError {
        InventoryError("\(name): this looks like \(listing), not a Mac's: --from reads captures taken on a Mac "
            + "(`tunwarden snapshot DIR` there, or a paste of `ifconfig -a -v`, `netstat -rn`, `sudo lsof -nP` and `ps -axww -o pid,comm`). "
            + "On Linux, run `sudo tunwarden audit`: it reads the kernel itself")
    }

    /// What to tell of `ip route` run on a Mac (Homebrew's iproute2mac, which prints the routes
    /// netstat shows in Linux's shape: `default via 10.66.66.1 dev utun12`): its output is not
    /// read, since that shape drops the flags that tell the general default from an
    /// interface-scoped one, so the capture says what to paste instead of passing it by. Nil for
    /// any other command.
    static func iprouteProblem(_ command: ShellCommand, at place: String) -> String? {
        guard command.name == "ip" || command.name.hasSuffix("/ip"),
              command.arguments.prefix(4).contains(where: { ["r", "ro", "rou", "rout", "route"].contains($0) }) else { return nil }
        return "\(place): `\(command.display)` output (Homebrew's iproute2mac) is not read: it leaves out the flags that tell the general default "
            + "from an interface-scoped one, so the routes it shows are not judged; paste `netstat -rn` instead"
    }
}
