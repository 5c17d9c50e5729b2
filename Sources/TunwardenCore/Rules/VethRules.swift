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
            // there, and where the namespace forwards that family it goes on from there. One that
            // does not forward it ends that traffic at addresses no process answers on: a routed
            // CNI's pod (a /32 route to the pod through its veth, the namespace kept by name as
            // containerd keeps `/run/netns/cni-…`) that leaked is such a namespace.
            let routed = processes == 0 && peerNamespace.name != nil ? Self.routesSetThrough(interface, in: snapshot) : []
            if let name = peerNamespace.name, let route = routed.first(where: { peerNamespace.forwards?.contains($0.family) == true }) {
                return (.live, "peer ifindex \(peerIndex) in namespace \(name), which is kept by name, runs no process and forwards; "
                    + "traffic is routed there (\(route.destination.length == 0 ? "default" : route.destination.description))")
            }
            if processes == 0 {
                var evidence = "veth \(interface.name) (ifindex \(interface.index)) has its peer in \(nsName), where no process runs"
                if let route = routed.first {
                    let destination = route.destination.length == 0 ? "default" : route.destination.description
                    evidence += peerNamespace.forwards == nil
                        ? "; traffic is routed there (\(destination)), but whether that namespace forwards it could not be read"
                        : "; traffic routed there (\(destination)) goes no further, since that namespace does not forward it"
                }
                findings.append(Finding(
                    id: FindingID.vethPeerNamespaceEmpty, severity: .warning, ifname: interface.name, reapable: false,
                    evidence: evidence + ": likely left by a container or a test that exited. Not reaped automatically."
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

    /// The routes of the snapshot that send traffic through `interface` and that someone set (not
    /// ones the kernel made for an address of it).
    static func routesSetThrough(_ interface: NetworkInterface, in snapshot: Snapshot) -> [Route] {
        snapshot.routes.filter { route in
            route.routeProtocol != .kernel && route.type == .unicast && route.nextHops.contains { $0.interfaceIndex == interface.index }
        }
    }
}
