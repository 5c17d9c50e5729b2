import Foundation

/// How much of the address space routes cover: the share of a family's default traffic a set of
/// prefixes takes, and the share of the whole space, overlaps counted once.
extension Heuristics {
    /// The share of a family's default traffic `prefixes` take: of all IPv4 addresses, and of
    /// IPv6's global unicast space (2000::/3), the only part of it the internet routes, so that
    /// `2000::/3` alone takes all of it as `::/1` and `8000::/1` together do.
    static func defaultShare(of prefixes: [IPPrefix]) -> Double {
        guard let first = prefixes.first, first.family == .inet6 else { return coverage(of: prefixes) }
        let inside = prefixes.compactMap { prefix -> IPPrefix? in
            prefix.contains(globalUnicast) ? globalUnicast : globalUnicast.contains(prefix) ? prefix : nil
        }
        return min(1, coverage(of: inside) / globalUnicast.shareOfAddressSpace)
    }

    static let globalUnicast = IPPrefix(address: IPAddress("2000::")!, length: 3)!
    /// IPv6 space that never leaves a site: unique local (fc00::/7), link-local and multicast.
    static let localIPv6 = ["fc00::/7", "fe80::/10", "ff00::/8"].map { IPPrefix($0)! }

    /// The share of the address space a set of same-family prefixes covers, counting overlaps once.
    /// Prefixes either nest or are disjoint, so dropping every prefix inside another leaves a disjoint set.
    public static func coverage(of prefixes: [IPPrefix]) -> Double {
        // In order of first address (family first), the shorter of equal starts first: the kept
        // prefixes are then disjoint and ordered, so a prefix inside any of them is inside the
        // last one kept. One pass, where checking every kept prefix was quadratic in the routes.
        let ordered = Set(prefixes).sorted { $0.address != $1.address ? $0.address < $1.address : $0.length < $1.length }
        var kept: [IPPrefix] = []
        for prefix in ordered where !(kept.last?.contains(prefix) ?? false) {
            kept.append(prefix)
        }
        return kept.reduce(0) { $0 + $1.shareOfAddressSpace }
    }
}
