import Foundation

/// Rewording the kept findings when only the holder scan's summary changed.
///
/// An orphaned tun's finding names the scan that found no holder ("no process holds it (68
/// processes scanned)"), and nothing else of a verdict depends on that summary. On a busy host it
/// changes at every scan (a process started or ended), and judging every tun again for it cost a
/// watcher with 10,000 orphans most of a holder's exit-to-alert time. The findings' words are
/// changed instead, to exactly what judging again would give them: the same text with the new
/// summary in its place (`Heuristics.judgeTun` builds it as "…no process holds it (SUMMARY)…").
extension NamespaceFacts {
    /// Puts summary `to` in place of summary `from` in every kept orphaned-tun finding of an
    /// interface not waiting to be judged again (whose judgement gives it the new words anyway).
    func reword(from: (singleQueue: String, multiQueue: String), to: (singleQueue: String, multiQueue: String)) {
        for (slot, verdict) in verdicts where !dirty.contains(slot) {
            guard verdict.findings.contains(where: { $0.id == FindingID.orphanedTun }) else { continue }
            let multiQueue = verdict.assessed.interface.tun?.multiQueue == true
            let (old, new) = multiQueue ? (from.multiQueue, to.multiQueue) : (from.singleQueue, to.singleQueue)
            guard old != new else { continue }
            var findings = verdict.findings
            var changed = false
            for position in findings.indices where findings[position].id == FindingID.orphanedTun {
                guard let range = findings[position].evidence.range(of: Self.scanPhrase(old)) else {
                    // Words this rewording cannot place: judged again, as before.
                    dirty.insert(slot)
                    changed = false
                    break
                }
                findings[position].evidence.replaceSubrange(range, with: Self.scanPhrase(new))
                changed = true
            }
            guard changed else { continue }
            changeFindings(of: verdict.assessed.interface.index, from: verdict.findings, to: findings)
            verdicts[slot] = (verdict.assessed, findings)
        }
    }

    /// How an orphaned tun's finding names the scan (see `Heuristics.scanPhrase`).
    static func scanPhrase(_ summary: String) -> String {
        Heuristics.scanPhrase.opening + summary + Heuristics.scanPhrase.closing
    }
}
