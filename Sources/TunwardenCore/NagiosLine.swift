import Foundation

/// The audit as a Nagios/Icinga plugin line: `TUNWARDEN WARNING: … | perfdata`.
public enum NagiosLine {
    public static func render(_ assessment: Assessment) -> String {
        var detail: [String] = []
        let grouped = Dictionary(grouping: assessment.findings.filter { $0.severity != .info }, by: \.id)
        // One part per finding id, in the order the ids first appear.
        var described = Set<String>()
        for finding in assessment.findings where finding.severity != .info {
            guard let group = grouped[finding.id], described.insert(finding.id).inserted else { continue }
            let names = group.compactMap(\.ifname)
            let list = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
            detail.append("\(group.count) \(finding.id)" + (names.isEmpty ? "" : " (\(list))"))
        }
        if detail.isEmpty {
            detail.append(assessment.status == .unknown
                ? "\(assessment.count(.unknown)) tunnel interfaces could not be judged (run as root)"
                : "\(assessment.interfaces.count) tunnel interfaces, none orphaned")
        }
        let deadRoutes = assessment.findings.filter { $0.id == FindingID.deadTunnelRoute }.reduce(0) { $0 + ($1.routes?.count ?? 0) }
        let perfdata = [
            "tunnels=\(assessment.interfaces.count);\(assessment.policy.effectiveWarn);\(assessment.policy.limit);0",
            "orphaned=\(assessment.count(.orphaned));1;;0",
            "suspect=\(assessment.count(.suspect));;;0",
            "unknown=\(assessment.count(.unknown));;;0",
            "dead_routes=\(deadRoutes);1;;0",
        ].joined(separator: " ")
        return "TUNWARDEN \(assessment.status.rawValue.uppercased()): \(detail.joined(separator: "; ")) | \(perfdata)"
    }

    /// The line for an audit that could not be made.
    public static func unknown(_ reason: String) -> String {
        "TUNWARDEN UNKNOWN: \(reason.replacingOccurrences(of: "|", with: "/"))"
    }
}
