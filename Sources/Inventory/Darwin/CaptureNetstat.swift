import Foundation
import TunwardenCore

/// Reading `netstat -r` output: section titles, headers of every layout, rows by shape, and rows
/// that cannot be read.
extension Section {
    static func isNetstatTitle(_ text: CaptureText, _ position: Int) -> Bool {
        let word = text[position]
        if word == "Internet:" || word == "Internet6:" { return true }
        return word == "Routing" && position + 1 < text.count && text[position + 1] == "tables"
    }

    static func isNetstatHeader(_ text: CaptureText, _ position: Int) -> Bool {
        position + 2 < text.count && text[position] == "Destination" && text[position + 1] == "Gateway" && text[position + 2] == "Flags"
    }

    static let headerWords: Set<String> = ["Gateway", "Flags", "Refs", "Use", "Mtu", "Netif", "Expire", "Interface", "rtt(ms)", "rttvar(ms)"]

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
                // A title of a family this listing has shown already starts another listing.
                let titled: AddressFamily? = text[position] == "Internet:" ? .inet : text[position] == "Internet6:" ? .inet6 : nil
                if let titled, familiesSeen.contains(titled), sectionRoutes > 0 { startAnotherListing(into: &contents) }
                titleSinceHeader = true
                if text[position] == "Internet:" { family = .inet; familiesSeen.insert(.inet) }
                if text[position] == "Internet6:" { family = .inet6; familiesSeen.insert(.inet6) }
                position += text[position] == "Routing" ? 2 : 1
                continue
            }
            if Self.isNetstatHeader(text, position) {
                // A header again with no title since, after rows: another listing (a ticket's
                // "Before:" and "After:" tables).
                if netstatHeader, sectionRoutes > 0, !titleSinceHeader { startAnotherListing(into: &contents) }
                titleSinceHeader = false
                netstatHeader = true
                position += 3
                while position < end, Self.headerWords.contains(String(text[position])) { position += 1 }
                continue
            }
            let strict = !netstatHeader && tool != .netstat
            if let rowEnd = Self.routeRowEnd(text, position, strict: strict, limit: end) {
                readRouteRow(position, netifAt: rowEnd - 1, into: &contents)
                position = rowEnd
                // The Expire column: `!`, seconds, or both, and `-ll`'s round-trip times
                // (`4.123 1.056`), unless a row starts there (`127 …`).
                while position < end, text[position] == "!" || Int(text[position]) != nil || (text[position].contains(".") && Double(text[position]) != nil),
                      !text.startsLine(position), Self.routeRowEnd(text, position, strict: strict, limit: end) == nil {
                    position += 1
                }
                continue
            }
            // Another tool's output right after the table (`netstat -rn; ifconfig -a`) ends it.
            if text.startsLine(position), Self.startsOtherOutput(text, position) { break }
            // A line of the table that is not a row: damaged, or the listing cut off mid-row.
            if text.startsLine(position) || position == start, looksLikeRouteLine(position) {
                var lineEnd = position
                while lineEnd < end, text.line(lineEnd) == text.line(position) { lineEnd += 1 }
                if lineEnd >= end, lineEnd - position < 4 {
                    cutShort = true
                    contents.problems.append("\(at(position)): the route listing stops in the middle of a row ('\(text.excerpt(position..<lineEnd, limit: 60))'); routes after it are unknown")
                } else {
                    rowsSkipped = true
                    unreadRows += 1
                    contents.problems.append("\(at(position)): not a route row ('\(text.excerpt(position..<lineEnd, limit: 60))'); skipped, so the listing is partial")
                    noteUnreadableRow(position..<lineEnd, into: &contents)
                }
                position = lineEnd
                continue
            }
            break
        }
        return position
    }

    /// Records a route line that could not be read when what it shows matters: it names a
    /// tunnel (`utun4` anywhere in it, also glued to other text or as a gateway's zone), or its
    /// destination is a default or half of a split default (`default`, `0/1`, `128.0/1`,
    /// `::/1`, `8000::/1`). Such a row may be the one that sends every packet into a tunnel
    /// that is gone: the audit says it could not be read rather than let its absence pass for
    /// no such route (see `CapturedInventory.snapshot`).
    mutating func noteUnreadableRow(_ words: Range<Int>, naming netif: String? = nil, into contents: inout CaptureContents) {
        let bytes = Array(text.excerpt(words, limit: 200).utf8)
        var tunnels: [String] = []
        // (A row read up to its Netif names that interface, tuntaposx's `tun0` too.)
        if let netif, CapturedInventory.kind(of: netif).isTunnelStyle { tunnels.append(netif) }
        var start = 0
        while start + 4 < bytes.count {
            let stem = String(decoding: bytes[start..<start + 4], as: UTF8.self)
            var digitsEnd = start + 4
            while digitsEnd < bytes.count, digitsEnd - start < 9, (0x30...0x39).contains(bytes[digitsEnd]) { digitsEnd += 1 }
            if stem == "utun" || stem == "feth", digitsEnd > start + 4 {
                let name = String(decoding: bytes[start..<digitsEnd], as: UTF8.self)
                if !tunnels.contains(name) { tunnels.append(name) }
                start = digitsEnd
            } else {
                start += 1
            }
        }
        let destination = String(text[words.lowerBound].filter { $0.isASCII && ($0.isLetter || $0.isNumber || ".:/%".contains($0)) })
        let wide = destination == "default" || DarwinParsers.destinationPrefix(destination, family: family).map { $0.prefix.length <= 1 } == true
        guard !tunnels.isEmpty || wide else { return }
        contents.unreadableRouteRows.append((place: at(words.lowerBound), tunnels: tunnels, wide: wide))
    }

    /// Ends the route listing read so far and starts another in the same section.
    mutating func startAnotherListing(into contents: inout CaptureContents) {
        // Each listing is weighed against those before it: past a few hundred in one capture
        // (no real paste has them), the rest are read as one, so that reading stays linear.
        guard contents.routeListings.count < Self.listingLimit else { return }
        finishRouteListing(into: &contents)
        (netstatHeader, familiesSeen, sectionRoutes, sectionFamilyCounts, sectionKeys) = (false, [], 0, [:], [])
        (cutShort, elided, rowsSkipped, elidedBeforeAnything) = (false, false, false, false)
        (generalRouteNetifs, destinationOfTwoNetifs) = ([:], nil)
        routesAtStart = contents.routes.count
    }

    static let listingLimit = 256

    /// Whether output of a tool other than netstat starts at `position`: an interface block, an
    /// lsof or ps header, `route get` or `netstat -i` output.
    static func startsOtherOutput(_ text: CaptureText, _ position: Int) -> Bool {
        isIfconfigHeader(text, position) || isLsofHeader(text, position) || psHeader(text, position) != nil
            || isRouteGet(text, position) || isNetstatInterfacesHeader(text, position)
    }

    /// Where a line at `position` ends that is shaped as a route row of a routing table (a
    /// destination, a gateway, three to eight words) but was not read as one: its interface name
    /// glued to other text (`utun7\\`, `en0,`), a flag column damaged. Such a line is a row of
    /// the table lost, never prose between two listings: the listing is partial, and a row that
    /// names a tunnel or a default is named as unreadable (see `noteUnreadableRow`). Nil for any
    /// other line, and outside a route listing (after a netstat header or title, under `netstat
    /// -r`, or in a capture directory's netstat.txt).
    mutating func unreadRouteRowEnd(_ position: Int, into contents: inout CaptureContents) -> Int? {
        guard text.startsLine(position), !shapeOnly, looksLikeRouteLine(position) else { return nil }
        var lineEnd = position
        while lineEnd < range.upperBound, text.line(lineEnd) == text.line(position) { lineEnd += 1 }
        guard lineEnd - position >= 3 else { return nil }
        rowsSkipped = true
        unreadRows += 1
        contents.problems.append("\(at(position)): not a route row ('\(text.excerpt(position..<lineEnd, limit: 60))'); skipped, so the listing is partial")
        noteUnreadableRow(position..<lineEnd, into: &contents)
        return lineEnd
    }

    /// Whether the line at `position` reads as a damaged route row rather than prose: it starts
    /// with a word that could be a destination (`default`, or hex digits, dots and colons with a
    /// digit or a colon among them, and a zone after `%`), and has few words. A line of prose
    /// after the table ("Best regards", "EDIT: fixed") is not one. Its words are weighed without
    /// the marks markup wraps a value in (`` `0/1` ``, `**utun4**`, `'default'`): a table's row
    /// so marked is a row of it all the same.
    func looksLikeRouteLine(_ position: Int) -> Bool {
        guard netstatHeader || tool == .netstat || !familiesSeen.isEmpty else { return false }
        let marks = CharacterSet(charactersIn: "`*_~'\"")
        let first = text[position].trimmingCharacters(in: marks)
        let address = first.split(separator: "%", maxSplits: 1).first ?? ""
        guard first == "default" || (!address.isEmpty && address.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" || $0 == "/" }
                                     && address.contains { $0.isNumber || $0 == ":" }) else { return false }
        // "default gateway should be 192.168.1.1": a row's second word is a gateway.
        if position + 1 < range.upperBound, text.line(position + 1) == text.line(position) {
            let gateway = text[position + 1].trimmingCharacters(in: marks)
            guard gateway.contains(where: { $0.isNumber || $0 == ":" }) || gateway.hasPrefix("link#") else { return false }
        }
        var words = 0
        var at = position
        while at < range.upperBound, text.line(at) == text.line(position) { words += 1; at += 1 }
        return words <= 8
    }

    /// The prefix length of an IPv6 network route the system makes for every interface, which
    /// netstat without -n prints with no length: its link-local network (`fe80::%utun4`, /64),
    /// the interface's multicast ones (`ff01::%utun4`, `ff02::%utun4`, /32) and lo0's `ff00::`
    /// (/8). Nil for any other network, whose length the row does not show.
    static func systemNetworkLength(_ address: IPAddress, zone: String?) -> Int? {
        let bytes = address.bytes
        guard bytes.count == 16, bytes[2...].allSatisfy({ $0 == 0 }) else { return nil }
        switch (bytes[0], bytes[1], zone != nil) {
        case (0xfe, 0x80, true): return 64
        case (0xff, 0x01, true), (0xff, 0x02, true): return 32
        case (0xff, 0x00, false): return 8
        default: return nil
        }
    }

    mutating func readRouteRow(_ position: Int, netifAt netifPosition: Int, into contents: inout CaptureContents) {
        let destinationWord = text[position]
        let gatewayWord = text[position + 1]
        // The family of a row without a section title (a grep'd listing) shows in its addresses.
        let inferred: AddressFamily? = family ?? (destinationWord.contains(":") || (gatewayWord.contains(":") && !gatewayWord.hasPrefix("link#")
            && !DarwinParsers.isMACAddress(gatewayWord)) ? .inet6 : .inet)
        guard let (read, zone) = DarwinParsers.destinationPrefix(destinationWord, family: inferred) else {
            let isName = destinationWord.contains(where: { $0.isLetter && !$0.isHexDigit }) || destinationWord.split(separator: ":").count > 1
            contents.problems.append(isName
                ? "\(at(position)): destination '\(destinationWord.prefix(40))' is a host name or a cut-off address (netstat without -n?); row skipped"
                : "\(at(position)): destination '\(destinationWord.prefix(40))' is not an address or prefix; row skipped")
            // Its Netif (and gateway) still show a route into that interface: a unit it names
            // is not known idle, and nothing of it is planned.
            noteUnreadableRow(position..<(netifPosition + 1), naming: String(text[netifPosition]), into: &contents)
            return
        }
        // Without -n, netstat prints an IPv6 network without its prefix length (it adds `/64`
        // only with -n): a row without H is a network whose length is not shown.
        var destination = read
        if read.family == .inet6, !destinationWord.contains("/"), destinationWord != "default", destinationWord != "localhost",
           !text[position + 2].contains("H") {
            guard let length = Self.systemNetworkLength(read.address, zone: zone), let network = IPPrefix(address: read.address, length: length) else {
                contents.problems.append("\(at(position)): destination '\(destinationWord.prefix(40))' is an IPv6 network whose prefix length netstat without -n does not print; row skipped")
                noteUnreadableRow(position..<(netifPosition + 1), naming: String(text[netifPosition]), into: &contents)
                return
            }
            destination = network
        }
        var row = DarwinParsers.NetstatRow(destination: destination, gateway: DarwinParsers.gatewayAddress(gatewayWord),
                                           flags: String(text[position + 2]), netif: String(text[netifPosition]))
        if gatewayWord.hasPrefix("link#"), let index = Int(gatewayWord.dropFirst(5)), DarwinParsers.Bounds.interfaceIndex.contains(index) {
            row.linkIndex = index
        }
        row.zone = zone
        row.line = text.line(position)
        row.moment = contents.moment
        row.listing = contents.routeListings.count
        // Refs and Use before the name: the older layout, whose Netif column is never widened.
        if netifPosition - position - 3 >= 2 { row.netifWidth = destination.family == .inet ? 7 : 8 }
        // One table holds one general route to a destination: the same one into two interfaces
        // is two tables, of two moments (a loop's rounds, pasted one after the other).
        if !row.flags.contains("I"), zone == nil {
            let destination = row.destination.description
            if let earlier = generalRouteNetifs[destination], earlier != row.netif {
                if destinationOfTwoNetifs == nil { destinationOfTwoNetifs = "\(destinationWord) into \(earlier) and \(row.netif)" }
            } else {
                generalRouteNetifs[destination] = row.netif
            }
        }
        sectionRoutes += 1
        sectionFamilyCounts[destination.family, default: 0] += 1
        contents.routeStamps[row.netif, default: []].insert(contents.stamp(file))
        let key = Self.key(row)
        sectionKeys.insert(key)
        if contents.routeKeys.insert(key).inserted {
            contents.routes.append(row)
        } else {
            // The same row again, in a later listing: the route was there at that moment too.
            contents.repeatedRouteMoments[key, default: []].insert(contents.moment)
        }
    }

    /// A whole listing of `families` is the routing table as it was when it ran: the rows of those
    /// families that listings before it showed and it does not are gone by then (a transcript of
    /// `netstat -rn`, `sudo route delete …`, `netstat -rn` again). A listing through one grep is
    /// so for the rows the grep would certainly have shown (`| grep utun`: every row into a utun).
    mutating func supersedeEarlierRoutes(of families: Set<AddressFamily>, shownBy filter: TextFilter? = nil, in contents: inout CaptureContents) {
        guard contents.routeListings.count <= Self.listingLimit else { return }
        // (Of a capture directory's files with no known order, only rows of this file: another
        // file's may be the newer.)
        let first = contents.unorderedFiles ? min(contents.routesBeforeFile, routesAtStart) : 0
        let earlier = contents.routes[..<routesAtStart]
        let kept = earlier.enumerated().filter { index, row in
            index < first || !families.contains(row.destination.family) || sectionKeys.contains(Self.key(row))
                || filter.map { [netif = row.netif] in !$0.certainlyShows(word: netif) } == true
        }.map(\.element)
        guard kept.count < earlier.count else { return }
        contents.notes.append("\(file): \(earlier.count - kept.count) route rows of earlier listings are not in the later listing at line \(text.line(range.lowerBound)), which is used")
        contents.routes = Array(kept) + contents.routes[routesAtStart...]
        contents.routeKeys = Set(contents.routes.map(Self.key))
        // A row taken away and read again later counts from then on, not from before.
        contents.repeatedRouteMoments = contents.repeatedRouteMoments.filter { contents.routeKeys.contains($0.key) }
    }

    static func key(_ row: DarwinParsers.NetstatRow) -> CaptureContents.RouteKey {
        CaptureContents.RouteKey(destination: row.destination, gateway: row.gateway, flags: row.flags, netif: row.netif,
                                 linkIndex: row.linkIndex, zone: row.zone)
    }

    /// Records the route listing read (if any): the families it covers and the filter it went
    /// through; a whole one supersedes earlier listings of its families.
    mutating func finishRouteListing(into contents: inout CaptureContents) {
        if let twice = destinationOfTwoNetifs {
            // Its rows are of a moment of their own, which nothing before or after speaks for.
            mixedMoments = true
            contents.moment += 1
            for index in routesAtStart..<contents.routes.count { contents.routes[index].moment = contents.moment }
            contents.moment += 1
            contents.notes.append("\(at(range.lowerBound)): the route rows send \(twice), which one table cannot: they are of several moments")
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
                // (`netstat -rn |head -40`, `netstat -rn > rt.txt; head -40 rt.txt`.)
                if !command.unread.isEmpty { filter = .unseen(Self.unreadWords(command)) }
            } else if !netstatHeader {
                // Rows without a header come from a filtered listing (`netstat -rn | grep utun`).
                filter = .unseen("the route rows have no header, so the listing was filtered")
                families = sectionFamilies
            } else if families.isEmpty {
                families = sectionFamilies
            }
            // A Mac's table always has lo0's routes: one with no rows at all was cut off.
            if sectionRoutes == 0, filter == nil { filter = .unseen("the listing has no rows, where every table has lo0's") }
            if mixedMoments || pipedOn.contains(.netstat) { filter = .unseen(Self.mixedOutput(command)) }
            if cutShort { filter = .unseen("the listing stops in the middle of a row") }
            if elided { filter = .unseen("part of the listing was left out ('...')") }
            if rowsSkipped { filter = .unseen("some of its rows could not be read") }
            if elidedBeforeAnything { filter = .unseen("part of the listing was left out ('...')") }
            if let cut = cutByNamedLine[.netstat] { filter = .unseen("a line before the listing names `\(cut)`, which may have cut or filtered it") }
            // (Nor does an interrupted listing supersede earlier ones: it is not whole.)
            if interruptedAt != nil { filter = .unseen(interruptedReason) }
            contents.routeListings.append((families, filter))
            // Only a whole listing says which interfaces had no routes then.
            if filter == nil { contents.routeListingNames.append((familiesSeen.union(sectionFamilies), Set(sectionKeys.map(\.netif)))) }
            // What a whole listing shows of a family: the families of its titles and rows.
            if filter == nil, netstatHeader { supersedeEarlierRoutes(of: familiesSeen.union(sectionFamilies), in: &contents) }
            if let filter, let command, command.tool == .netstat, command.filters.count == 1, filter == command.filters.first {
                supersedeEarlierRoutes(of: families, shownBy: filter, in: &contents)
            }
        }
    }
}
