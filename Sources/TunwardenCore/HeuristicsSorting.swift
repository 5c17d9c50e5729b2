import Foundation

/// The order findings are listed in: most severe first, within a severity by id, then in the
/// order they were raised. The sort moves each finding in place, never copying one.
extension Heuristics {
    /// Most severe first; within a severity by id, then in the order they were raised (interface
    /// order). Integer keys keep this cheap for tens of thousands of findings.
    static func sorted(_ findings: [Finding]) -> [Finding] {
        var findings = findings
        sort(&findings)
        return findings
    }

    /// Puts findings in the order `sorted` gives, in place: each finding is moved, never copied,
    /// so tens of thousands of them cost no reference counting and no second array.
    static func sort(_ findings: inout [Finding]) {
        var nothing: [Int] = []
        sort(&findings, carrying: &nothing)
    }

    /// `sort`, moving `carried` (empty, or one value per finding) as it moves the findings.
    static func sort(_ findings: inout [Finding], carrying carried: inout [Int]) {
        precondition(carried.isEmpty || carried.count == findings.count, "one carried value per finding")
        // A stable bucket sort: findings of one severity and id keep the order they were raised
        // in. The ids are few, and runs of one id long (one per interface), so each bucket keeps
        // its runs of consecutive positions, and a run is extended by comparing with the previous
        // finding before any hashing.
        var buckets: [Finding.ReportKey: Int] = [:]
        var bucketKeys: [Finding.ReportKey] = []
        var runs: [[Range<Int>]] = []
        var position = findings.startIndex
        while position < findings.endIndex {
            let (id, severity) = (findings[position].id, findings[position].severity)
            var end = position + 1
            while end < findings.endIndex, findings[end].severity == severity, findings[end].id == id { end += 1 }
            let key = Finding.ReportKey(findings[position])
            let bucket: Int
            if let known = buckets[key] {
                bucket = known
            } else {
                bucket = runs.count
                buckets[key] = bucket
                bucketKeys.append(key)
                runs.append([])
            }
            runs[bucket].append(position..<end)
            position = end
        }
        // Already in order (one run per bucket, buckets in order): nothing moves.
        let order = bucketKeys.indices.sorted { bucketKeys[$0] < bucketKeys[$1] }
        if runs.allSatisfy({ $0.count == 1 }), order.indices.dropFirst().allSatisfy({ runs[order[$0 - 1]][0].upperBound == runs[order[$0]][0].lowerBound }) {
            return
        }
        // source[d]: the position whose finding goes to position d.
        var source: [Int] = []
        source.reserveCapacity(findings.count)
        for bucket in order {
            for run in runs[bucket] { source.append(contentsOf: run) }
        }
        // The permutation is applied cycle by cycle with swaps, which move findings in memory.
        var placed = [Bool](repeating: false, count: findings.count)
        for start in findings.indices where !placed[start] {
            var destination = start
            while true {
                placed[destination] = true
                let from = source[destination]
                if from == start { break }
                findings.swapAt(destination, from)
                if !carried.isEmpty { carried.swapAt(destination, from) }
                destination = from
            }
        }
    }
}
