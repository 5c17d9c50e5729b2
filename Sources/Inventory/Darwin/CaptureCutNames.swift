import Foundation
import TunwardenCore

extension CapturedInventory {
    /// Gives routes back the interface names older netstat cut short, and returns the names of
    /// the cut ones that cannot be told (each ends in `…`).
    ///
    /// netstat on older macOS (the layout with Refs and Use columns) prints a route's interface
    /// in a column it never widens, 7 bytes for IPv4 and 8 for IPv6: `feth2481` reads `feth248`,
    /// `utun1003` reads `utun100`. A name that fills its column may be cut when a listed
    /// interface's name is longer and begins with it, unless the same listing shows a longer
    /// name in that column (a later layout with Refs and Use, `-ll`). It is read as that
    /// interface when the listing of every interface, taken at the routes' moment, has exactly
    /// one such name and not the cut name itself, and the row shows it is that interface's (see
    /// `routeShows`; else the cut name may be an interface of its own that is gone). Otherwise
    /// (several, the cut name listed too, nothing in the row to tell, or only a partial or
    /// earlier listing to go by) it is none of them for sure: the routes
    /// are given the cut name with `…`, an interface the capture does not list, whose state is
    /// unknown and which is never gone. A row's `link#N` settles it where it names one listed
    /// interface's index, and unsettles it where it names none of theirs. Either way a note says
    /// so. An IPv6 table of a listing whose IPv4 one has the older layout is of that layout
    /// (its own rows have no Refs and Use), and a listing whose flags show `g` (macOS 11 on)
    /// does not cut names.
    static func restoreCutNames(_ contents: inout CaptureContents) -> Set<String> {
        let listed = Set(contents.interfaces.map(\.name))
        let indexOf = Dictionary(contents.interfaces.compactMap { entry in entry.kernelIndex.map { (entry.name, $0) } }, uniquingKeysWith: { a, _ in a })
        var older: Set<Int> = []
        var uncut: Set<String> = []
        for row in contents.routes where row.netifWidth != nil { older.insert(row.listing) }
        for position in contents.routes.indices where contents.routes[position].netifWidth == nil && older.contains(contents.routes[position].listing)
            && contents.routes[position].destination.family == .inet6 {
            contents.routes[position].netifWidth = 8
        }
        for row in contents.routes {
            if let width = row.netifWidth, row.netif.utf8.count > width { uncut.insert("\(row.listing)|\(width)") }
            if row.flags.contains("g") { uncut.insert("\(row.listing)|7"); uncut.insert("\(row.listing)|8") }
        }
        // Each whole name read from a cut one, with that cut name.
        var restored: [String: String] = [:]
        var unsure: [String: [String]] = [:]
        let original = contents.routes
        for position in contents.routes.indices {
            let row = contents.routes[position]
            let name = row.netif
            guard let width = row.netifWidth, name.utf8.count == width, !uncut.contains("\(row.listing)|\(width)") else { continue }
            let longer = listed.filter { $0.utf8.count > width && $0.utf8.starts(with: name.utf8) }.sorted()
            guard !longer.isEmpty || (listed.contains(name) && row.linkIndex.map({ index in indexOf[name].map { $0 != index } ?? false }) == true)
            else { continue }
            let candidates = (listed.contains(name) ? [name] : []) + longer
            // `link#N` names the interface the route is on: the one candidate of that index.
            let byIndex = row.linkIndex.map { index in candidates.filter { indexOf[$0] == index } }
            let sure = contents.interfacesComplete && contents.completeInterfaceMoments.contains(row.moment)
            if let byIndex, byIndex.count == 1 {
                if byIndex[0] != name {
                    contents.routes[position].netif = byIndex[0]
                    restored[byIndex[0]] = name
                }
            } else if byIndex == nil || byIndex?.isEmpty == false, sure, longer.count == 1, !listed.contains(name),
                      Self.routeShows(row, on: longer[0], entries: contents.interfaces,
                                      rows: original.filter { $0.listing == row.listing && $0.netif == name }) {
                contents.routes[position].netif = longer[0]
                restored[longer[0]] = name
            } else if byIndex == nil || byIndex?.isEmpty == false, sure,
                      let one = Self.subnetHolding(row, among: candidates, entries: contents.interfaces) {
                if one != name {
                    contents.routes[position].netif = one
                    restored[one] = name
                }
            } else {
                contents.routes[position].netif = name + "…"
                unsure[name] = candidates
                // The listed name's own index is not the row's: the listings disagree, as any
                // index conflict says (taken at different times).
                if listed.contains(name), let index = row.linkIndex, let own = indexOf[name], own != index {
                    let conflict = "\(name): index \(own) in ifconfig, \(index) in netstat"
                    if !contents.indexConflicts.contains(conflict) { contents.indexConflicts.append(conflict) }
                }
            }
        }
        for (whole, cut) in restored.sorted(by: { ($0.value, $0.key) < ($1.value, $1.key) }) {
            contents.notes.append("netstat cut \(whole) to '\(cut)' (its Netif column is \(cut.utf8.count) characters wide on this macOS); those routes are read as \(whole)'s")
        }
        for (cut, candidates) in unsure.sorted(by: { $0.key < $1.key }) {
            let itself = listed.contains(cut) ? "" : "\(cut) itself, which no listing shows, or "
            contents.problems.append("netstat's '\(cut)' may be \(itself)\(candidates.count == 1 ? candidates[0] : "any of " + candidates.joined(separator: ", ")) cut to its Netif column's \(cut.utf8.count) characters, which the listings cannot settle, so its routes are shown as \(cut)…'s and tied to no interface")
        }
        return Set(unsure.keys.map { $0 + "…" })
    }

    /// The one of `candidates` (the listed interfaces a cut Netif may be) that a directly attached
    /// host route (no G flag: an ARP entry, `10.147.20.1 32:c5:5e:aa:bb:cc UHLWIi`, or a
    /// broadcast one, `10.147.20.255 ff:ff:ff:ff:ff:ff UHLWbI`) is on: the one whose subnet, by
    /// the addresses the listing gives it, holds the route's destination, when exactly one
    /// candidate's does. The kernel clones such entries from the subnet route of the interface
    /// they are on, so the destination names it as a `link#N` would. Nil for any other row, or
    /// when no candidate's subnet or more than one holds it.
    static func subnetHolding(_ row: DarwinParsers.NetstatRow, among candidates: [String], entries: [DarwinParsers.IfconfigEntry]) -> String? {
        let full = row.destination.family == .inet ? 32 : 128
        guard row.destination.length == full, !row.flags.contains("G") else { return nil }
        let holding = candidates.filter { candidate in
            entries.filter { $0.name == candidate }.flatMap(\.addresses).contains { address in
                address.prefixLength < full && !address.isLinkLocal
                    && (IPPrefix(address: address.local, length: address.prefixLength)?.contains(row.destination) ?? false)
            }
        }
        return holding.count == 1 ? holding[0] : nil
    }

    /// Whether a route row whose Netif column was cut shows that it is `name`'s, the one listed
    /// interface whose name begins with the cut one. `rows` are the rows of the row's table with
    /// the same cut name. It does when its destination's zone names `name`; when the system made
    /// the route (no S flag, not cloned), which it does only for an interface that exists, and of
    /// the cut name and `name` only `name` is listed; when it is a directly attached route (no G
    /// flag) to a subnet holding one of `name`'s addresses; or when its gateway is one of
    /// `name`'s addresses or peers, or lies on one of its subnets or in such a row's. Otherwise
    /// the cut name may be an interface of its own that is gone (`utun100` beside a listed
    /// `utun1001`), and nothing settles which.
    static func routeShows(_ row: DarwinParsers.NetstatRow, on name: String, entries: [DarwinParsers.IfconfigEntry],
                           rows: [DarwinParsers.NetstatRow]) -> Bool {
        if row.zone == name || (!row.flags.contains("S") && !row.flags.contains("W")) { return true }
        let addresses = entries.filter { $0.name == name }.flatMap(\.addresses)
        func host(_ address: IPAddress) -> IPPrefix? { IPPrefix(address: address, length: address.family == .inet ? 32 : 128) }
        func attached(_ candidate: DarwinParsers.NetstatRow) -> Bool {
            !candidate.flags.contains("G") && addresses.contains { address in host(address.local).map(candidate.destination.contains) ?? false }
        }
        if attached(row) { return true }
        guard let gateway = row.gateway, let gatewayHost = host(gateway) else { return false }
        let subnets = addresses.compactMap { IPPrefix(address: $0.local, length: $0.prefixLength) } + rows.filter(attached).map(\.destination)
        return addresses.contains { $0.local == gateway || $0.peer == gateway } || subnets.contains { $0.contains(gatewayHost) }
    }
}
