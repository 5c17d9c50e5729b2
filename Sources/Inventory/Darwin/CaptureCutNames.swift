import Foundation
import TunwardenCore

extension CapturedInventory {
    /// Gives routes back the interface names older netstat cut short, and returns the cut names
    /// that could be more than one interface's.
    ///
    /// netstat on older macOS (the layout with Refs and Use columns) prints a route's interface
    /// in a column it never widens, 7 characters for IPv4 and 8 for IPv6: `feth2481` reads
    /// `feth248`, `utun1003` reads `utun100`. A name that fills its column and that ifconfig does
    /// not list is read as the one listed interface whose name begins with it, unless the same
    /// listing shows a longer name in that column (a later layout with Refs and Use, `-ll`). Where several
    /// listed names begin with it, the routes belong to none of them for sure: the name is
    /// returned, to be treated as an interface the capture does not list (its routes unknown,
    /// never "gone"). Either way a note says so.
    static func restoreCutNames(_ contents: inout CaptureContents) -> Set<String> {
        let listed = Set(contents.interfaces.map(\.name))
        // A listing with a longer name in the column of a family does not cut that family's names.
        var uncut: Set<String> = []
        for row in contents.routes {
            if let width = row.netifWidth, row.netif.utf8.count > width { uncut.insert("\(row.listing)|\(width)") }
        }
        var restored: [String: String] = [:]
        var ambiguous: [String: [String]] = [:]
        for position in contents.routes.indices {
            let name = contents.routes[position].netif
            guard let width = contents.routes[position].netifWidth, name.utf8.count == width, !listed.contains(name),
                  !uncut.contains("\(contents.routes[position].listing)|\(width)") else { continue }
            let longer = listed.filter { $0.utf8.count > width && $0.hasPrefix(name) }.sorted()
            if longer.count == 1 {
                contents.routes[position].netif = longer[0]
                restored[name] = longer[0]
            } else if longer.count > 1 {
                ambiguous[name] = longer
            }
        }
        for (cut, whole) in restored.sorted(by: { $0.key < $1.key }) {
            contents.notes.append("netstat cut \(whole) to '\(cut)' (its Netif column is \(cut.count) characters wide on this macOS); those routes are read as \(whole)'s")
        }
        for (cut, candidates) in ambiguous.sorted(by: { $0.key < $1.key }) {
            contents.problems.append("netstat's '\(cut)' may be any of \(candidates.joined(separator: ", ")) cut to its Netif column's \(cut.count) characters, so its routes are tied to none of them")
        }
        return Set(ambiguous.keys)
    }
}
