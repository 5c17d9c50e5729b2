import Foundation

extension FindingRules {
    /// The findings about veth pairs.
    static let veth: [FindingRule] = [
        FindingRule(id: FindingID.vethPeerMissing, severity: "warning", reap: nil, scope: .snapshot,
                    summary: "a veth whose peer is missing"),
        FindingRule(id: FindingID.vethPeerNamespaceEmpty, severity: "warning", reap: nil, scope: .snapshot,
                    summary: "a veth whose peer lives in a namespace where no process runs"),
    ]
}

/// Judging veth pairs by their peers.
extension Heuristics {
    // MARK: veth

    static func judgeVeth(_ interface: NetworkInterface, nameOf: (Int) -> String?, snapshot: Snapshot,
                          findings: inout [Finding]) -> (InterfaceState, String) {
        guard let peerIndex = interface.link, peerIndex > 0 else {
            findings.append(Finding(
                id: FindingID.vethPeerMissing, severity: .warning, ifname: interface.name, reapable: false,
                evidence: "veth \(interface.name) (ifindex \(interface.index)) reports no peer. Not reaped automatically: check what created it."
            ))
            return (.suspect, "no peer reported")
        }
        if let nsid = interface.linkNetnsID {
            guard let peerNamespace = snapshot.peerNamespaces[nsid], let processes = peerNamespace.processCount else {
                return (.unknown, "peer is in namespace id \(nsid), which could not be inspected")
            }
            let nsName = peerNamespace.name.map { "namespace \($0)" } ?? "namespace id \(nsid)"
            // A namespace kept by name (`ip netns add`) needs no process to forward: a router or
            // lab namespace runs none. Routes set through the veth say traffic is meant to go
            // there; a container's leftover has none of its own (its routes go by a bridge).
            if processes == 0, let name = peerNamespace.name, let route = Self.routeSetThrough(interface, in: snapshot) {
                return (.live, "peer ifindex \(peerIndex) in namespace \(name), which is kept by name and runs no process; "
                    + "traffic is routed there (\(route.destination.length == 0 ? "default" : route.destination.description))")
            }
            if processes == 0 {
                findings.append(Finding(
                    id: FindingID.vethPeerNamespaceEmpty, severity: .warning, ifname: interface.name, reapable: false,
                    evidence: "veth \(interface.name) (ifindex \(interface.index)) has its peer in \(nsName), where no process runs: likely left by a container or a test that exited. Not reaped automatically."
                ))
                return (.suspect, "peer's namespace has no processes")
            }
            return (.live, "peer ifindex \(peerIndex) in \(nsName) (\(processes) process\(processes == 1 ? "" : "es"))")
        }
        guard let peer = nameOf(peerIndex) else {
            findings.append(Finding(
                id: FindingID.vethPeerMissing, severity: .warning, ifname: interface.name, reapable: false,
                evidence: "veth \(interface.name) (ifindex \(interface.index)) names peer ifindex \(peerIndex), which does not exist. Not reaped automatically."
            ))
            return (.suspect, "peer ifindex \(peerIndex) is missing")
        }
        return (.live, "peer \(peer)")
    }

    /// A route of the snapshot that sends traffic through `interface` and that someone set (not
    /// one the kernel made for an address of it), if any.
    static func routeSetThrough(_ interface: NetworkInterface, in snapshot: Snapshot) -> Route? {
        snapshot.routes.first { route in
            route.routeProtocol != .kernel && route.type == .unicast && route.nextHops.contains { $0.interfaceIndex == interface.index }
        }
    }
}
