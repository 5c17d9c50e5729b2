import Foundation

/// The audit as a Nagios/Icinga plugin line: `TUNWARDEN WARNING: … | perfdata`.
public enum NagiosLine {
    public static func render(_ assessment: Assessment) -> String {
        // One part per finding id, in the order the ids first appear: how many, and the first
        // five interfaces named. Read in one pass, in place: a leaking host has tens of thousands
        // of findings, and copying them (to filter, then to group) was most of this line's cost.
        var parts: [(id: String, count: Int, names: [String], more: Bool)] = []
        var positions: [String: Int] = [:]
        var deadRoutes = 0
        for index in assessment.findings.indices {
            if assessment.findings[index].id == FindingID.deadTunnelRoute { deadRoutes += assessment.findings[index].routes?.count ?? 0 }
            guard assessment.findings[index].severity != .info else { continue }
            let id = assessment.findings[index].id
            // Findings of one id are mostly next to each other: no hashing for those.
            let position: Int
            if let last = parts.indices.last, parts[last].id == id {
                position = last
            } else if let known = positions[id] {
                position = known
            } else {
                position = parts.count
                positions[id] = position
                parts.append((id, 0, [], false))
            }
            parts[position].count += 1
            guard let name = assessment.findings[index].ifname else { continue }
            // A name may hold `|` (Linux refuses only `/`, `:`, whitespace, `.` and `..`).
            if parts[position].names.count < 5 { parts[position].names.append(Self.plugin(text: name)) } else { parts[position].more = true }
        }
        var detail = parts.map { part in
            "\(part.count) \(part.id)" + (part.names.isEmpty ? "" : " (\(part.names.joined(separator: ", "))\(part.more ? ", …" : ""))")
        }
        if detail.isEmpty {
            if assessment.status == .unknown {
                // The first unknown interface's reason says what was missing: holders unreadable
                // without root on Linux, a partial listing in a capture.
                let unknown = assessment.count(.unknown)
                if let first = assessment.interfaces.first(where: { $0.state == .unknown }) {
                    detail.append("\(unknown) tunnel interface\(unknown == 1 ? "" : "s") could not be judged: \(Self.plugin(text: first.reason, limit: 160))")
                } else {
                    // (An empty capture: nothing was there to judge.)
                    detail.append("nothing could be judged")
                }
            } else {
                detail.append("\(assessment.interfaces.count) tunnel interfaces, none orphaned")
            }
        }
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
        "TUNWARDEN UNKNOWN: \(plugin(text: reason))"
    }

    /// `text` as a plugin's output may hold it: Nagios ends the text at the first `|` (the
    /// performance data follows it) and at a line break, so those become `/` and a space; past
    /// `limit` characters it is cut at a word with `…`.
    static func plugin(text: String, limit: Int = .max) -> String {
        var cleaned = String(text.map { $0 == "|" ? "/" : $0.isNewline ? " " : $0 })
        if cleaned.count > limit {
            let cut = cleaned.prefix(limit)
            cleaned = String(cut[..<(cut.lastIndex(of: " ") ?? cut.endIndex)]) + "…"
        }
        return cleaned
    }
}
