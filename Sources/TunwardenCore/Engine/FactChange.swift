import Foundation

/// One change to the facts the judging engine judges from: a kernel event (a link, address or
/// route that appeared, changed or went), or a fresh reading of something the kernel announces
/// to nobody (the holder scan, the namespaces veth peers live in, the running processes).
public enum FactChange: Sendable, Equatable {
    /// A link that appeared or changed. Its `addresses` are not taken from it: addresses arrive as
    /// changes of their own, and a link message carries none.
    case link(NetworkInterface)
    /// The link with this index is gone, and with it its addresses.
    case linkRemoved(index: Int)
    /// An address that appeared on a link, or changed (lifetimes, flags): it replaces the one with
    /// the same local address, prefix length and peer.
    case addressAdded(index: Int, InterfaceAddress)
    /// The address with this local address, prefix length and peer left the link.
    case addressRemoved(index: Int, InterfaceAddress)
    /// A route that appeared. A route with the same identity (`Route.identity`) is replaced.
    case routeAdded(Route)
    /// A route that replaced every route of its destination, table, metric and type
    /// (NLM_F_REPLACE: the kernel sends no deletion for the ones replaced).
    case routeReplaced(Route)
    /// The route with this identity went.
    case routeRemoved(Route)
    /// A new holder scan, with the `ip netns` names of namespaces its holders live in.
    case holders(HolderScan, namespaceNames: [String: String])
    /// What is known of the namespaces veth peers live in, by the id this namespace gives them.
    case peerNamespaces([Int32: PeerNamespace])
    /// The running processes by pid (macOS `ps`), or nil when unknown.
    case processNames([Int32: String]?)
}

extension Route {
    /// What tells two routes apart within one namespace, for applying route events: family,
    /// table, destination, metric, type and the next hops' devices and gateways (two routes that
    /// differ only in their next hops exist side by side after `ip route append`).
    public struct Identity: Hashable, Sendable {
        let base: BaseIdentity
        let type: String
        let hops: [String]
    }

    /// Family, table, destination (with the sources and type of service it is for) and metric:
    /// what a replacing route (NLM_F_REPLACE) replaces every route of, as the kernel keys routes
    /// (`ip route replace blackhole …` replaces a unicast route of that key).
    public struct BaseIdentity: Hashable, Sendable {
        let destination: String
        let table: String
        let metric: UInt32
    }

    public var identity: Identity {
        Identity(base: baseIdentity, type: "\(type)", hops: nextHops.map { "\($0.interfaceIndex ?? -1)|\($0.gateway?.description ?? "")" })
    }

    public var baseIdentity: BaseIdentity {
        BaseIdentity(destination: "\(family.rawValue) \(destination) from \(source.map(\.description) ?? "any") tos \(tos)", table: "\(table)",
                     metric: metric ?? 0)
    }
}

extension InterfaceAddress {
    /// Whether two addresses are the same assignment (an event about one is about the other):
    /// local address, prefix length and peer.
    func isSameAssignment(as other: InterfaceAddress) -> Bool {
        local == other.local && prefixLength == other.prefixLength && peer == other.peer
    }
}
