import Foundation

/// Whether the kernel sends flows over a multipath hop, for dead-tunnel-hop (DeadHopRules.swift).
/// The route listing's `dead` flag settles it for a hop on a device that is down (the kernel
/// stores such a hop dead and shares out nothing to it), but not for one whose device is up
/// without carrier: there the flag follows the current `ignore_routes_with_linkdown`, while the
/// shares were set at the last link event or route change with the setting of that time (see
/// `HopFlows`). Only what route lookups were seen to do, or nothing, can be said of such a hop.
extension Heuristics {
    /// Whether the kernel sends flows over `hop` of `route`: none for a hop flagged `dead` on a
    /// device that is down (`up`, by ifindex), which the kernel stores dead; otherwise as route
    /// lookups were seen to (`takesFlows`) where they were asked; otherwise by its `dead` flag,
    /// except for a hop of a multipath route that is linkdown while its device is up, or not
    /// known to be down, which that flag cannot settle.
    static func hopFlows(_ hop: NextHop, of route: Route, up: [Int: Bool]) -> HopFlows {
        if hop.linkDown, hop.skippedByKernel, let index = hop.interfaceIndex, up[index] == false { return .no }
        if let seen = hop.takesFlows { return seen }
        guard hop.linkDown, route.nextHops.count > 1, route.nexthopObject == nil else { return hop.skippedByKernel ? .no : .yes }
        return .unknown
    }

    /// What the finding says of how it knows which hops of `route` take flows: the hops it
    /// counts for nothing and why, the dead hops route lookups chose though the kernel lists
    /// them `dead`, and the hops in doubt (`unknown`), with why and what settles it. Each
    /// sentence starts with a space; empty when the listing's flags settle everything.
    static func hopFlowsSentences(_ route: Route, counted: [NextHop], unknown: [NextHop], device: (NextHop) -> String) -> String {
        func names(_ hops: [NextHop]) -> String {
            var seen: [String] = []
            for hop in hops where !seen.contains(device(hop)) { seen.append(device(hop)) }
            return seen.joined(separator: ", ")
        }
        var words = ""
        let passed = route.nextHops.filter { !counted.contains($0) }
        let flagged = passed.filter { $0.takesFlows == nil }
        if !flagged.isEmpty {
            words += " \(flagged.count == 1 ? "A hop" : "\(flagged.count) hops") the kernel flags `dead` (\(flagged.compactMap(\.interfaceName).joined(separator: ", "))) \(flagged.count == 1 ? "counts" : "count") for nothing."
        }
        let neverChosen = passed.filter { $0.takesFlows == .no }
        if !neverChosen.isEmpty {
            words += " Route lookups (as `ip route get` makes them) to addresses of \(route.destination) never chose the hop\(neverChosen.count == 1 ? "" : "s") through "
                + "\(names(neverChosen)): the kernel shares out nothing to \(neverChosen.count == 1 ? "it" : "them")."
        }
        let chosen = counted.filter { $0.takesFlows == .yes && $0.linkDown }
        let listedDead = chosen.filter(\.skippedByKernel)
        if !listedDead.isEmpty {
            words += " The kernel lists \(names(listedDead)) `dead`, as ignore_routes_with_linkdown is set now, yet route lookups (as `ip route get` makes them) choose "
                + "\(listedDead.count == 1 ? "it" : "them"): the kernel shared out the route's flows before the setting, and keeps those shares until a link event or a route change."
        } else if !chosen.isEmpty {
            words += " Route lookups (as `ip route get` makes them) to addresses of \(route.destination) choose \(names(chosen))."
        }
        if !unknown.isEmpty {
            let one = Set(unknown.map(device)).count == 1
            words += " Whether the kernel hashes flows onto \(names(unknown)) is not known: \(one ? "it has" : "they have") no carrier on a device that is up; the kernel lists "
                + "such a hop `dead` or not by the current ignore_routes_with_linkdown, but shares out flows by the setting at the last link event or route change, "
                + "which may differ, and route lookups did not settle it. `ip route get` to addresses of \(route.destination) shows where flows go; setting "
                + "\(names(unknown)) down and up again makes the kernel share them out by the current setting."
        }
        return words
    }
}
