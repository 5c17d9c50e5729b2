import Foundation

/// A device pair whose two sides go together: destroying a macOS feth unpeers its peer
/// (`feth_clone_destroy` clears the peer of both sides and takes their link down), and deleting a
/// Linux veth deletes its peer. The plan therefore takes a pair whole or not at all: a side whose
/// peer stays (protected, not of a kind `--only` selects, still waiting out its grace period,
/// given back damaged, or not planned at all) stays with it.
extension ReapPlan {
    /// The other side of `interface`'s pair among `interfaces`, or nil when it has none there: a
    /// feth's by its peer's name, a veth's by its peer's ifindex when the peer is in the same
    /// namespace. (A peer that the capture or the namespace does not list loses nothing it has.)
    public static func pairPeer(of interface: NetworkInterface, among interfaces: [NetworkInterface]) -> NetworkInterface? {
        switch interface.kind {
        case .feth:
            guard let name = interface.peerName, name != interface.name else { return nil }
            return interfaces.first { $0.name == name && $0.kind == .feth }
        case .veth:
            guard let index = interface.link, interface.linkNetnsID == nil, index != interface.index else { return nil }
            return interfaces.first { $0.index == index && $0.kind == .veth }
        default:
            return nil
        }
    }

    /// Takes out of `items` every interface deletion whose pair peer (among `interfaces`) is not
    /// deleted by the plan too, recording why in `excluded` with the peer's name and what keeps
    /// the peer. Repeated until no item is left whose peer stays, so that a chain of odd pairings
    /// leaves nothing half done.
    static func keepPairsWhole(items: inout [ReapItem], excluded: inout [ReapExclusion], interfaces: [NetworkInterface]) {
        while true {
            let deleted = Set(items.filter { $0.action == .deleteInterface }.map(\.interface.index))
            guard let position = items.firstIndex(where: { item in
                guard item.action == .deleteInterface, let peer = pairPeer(of: item.interface, among: interfaces) else { return false }
                return !deleted.contains(peer.index)
            }), let peer = pairPeer(of: items[position].interface, among: interfaces) else { return }
            let kept = excluded.last { $0.ifname == peer.name }?.reason
            excluded.append(ReapExclusion(ifname: items[position].ifname, reason: .peerKept(peer: peer.name, because: kept)))
            items.remove(at: position)
        }
    }
}

extension ReapExclusion.Reason {
    /// The time the exclusion ends by itself, when it is the grace period: the interface's own,
    /// or its pair peer's, which it waits for.
    public var reapableAt: Date? {
        switch self {
        case let .tooYoung(at): at
        case let .peerKept(_, because): because?.reapableAt
        default: nil
        }
    }

    /// What keeps an interface out of the plan, as the end of "its peer feth248 …": "is protected
    /// (matches the protect pattern 'feth248')".
    public var peerClause: String {
        switch self {
        case let .protected(pattern): "is protected (matches the protect pattern '\(Glob.display(pattern))')"
        case .kindNotSelected: "is not of a kind --only selects"
        case let .tooYoung(at): "is waiting out the grace period (--min-age) until \(Timestamp.format(at))"
        case .repairFailed: "was given back damaged by the repair of a killed reap"
        case .carrierWouldWakeRoutes: "is left alone, since its fence would make routes live"
        case let .peerKept(peer, _): "stays with its own peer \(peer)"
        }
    }
}
