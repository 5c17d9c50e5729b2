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
}
