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
    /// One whose words do not hold the old summary where it is looked for is judged again.
    func reword(from: (singleQueue: String, multiQueue: String), to: (singleQueue: String, multiQueue: String)) {
        let phrases = (single: (Array(Self.scanPhrase(from.singleQueue).utf8), Array(Self.scanPhrase(to.singleQueue).utf8)),
                       multi: (Array(Self.scanPhrase(from.multiQueue).utf8), Array(Self.scanPhrase(to.multiQueue).utf8)))
        var reworded: [(slot: Slot, findings: [Finding])] = []
        for (slot, verdict) in verdicts where !dirty.contains(slot) {
            guard verdict.findings.contains(where: { $0.id == FindingID.orphanedTun }) else { continue }
            let (old, new) = verdict.assessed.interface.tun?.multiQueue == true ? phrases.multi : phrases.single
            guard old != new else { continue }
            var findings = verdict.findings
            for position in findings.indices where findings[position].id == FindingID.orphanedTun {
                guard let evidence = Self.replacingFirst(old, with: new, in: findings[position].evidence) else {
                    dirty.insert(slot)
                    break
                }
                findings[position].evidence = evidence
            }
            if !dirty.contains(slot) { reworded.append((slot, findings)) }
        }
        for (slot, findings) in reworded {
            guard let verdict = verdicts[slot] else { continue }
            rewordFindings(of: verdict.assessed.interface.index, from: verdict.findings, to: findings)
            verdicts[slot] = (verdict.assessed, findings)
        }
    }

    /// `text` with its first occurrence of the bytes `old` replaced by `new`; nil when there is
    /// none. Searched as bytes in a plain array: Foundation's `range(of:)` converts to UTF-16 and
    /// the standard library's generic `firstRange(of:)` is not specialised, and either cost more
    /// than judging the interface again.
    static func replacingFirst(_ old: [UInt8], with new: [UInt8], in text: String) -> String? {
        let bytes = Array(text.utf8)
        guard let first = old.first, old.count <= bytes.count else { return nil }
        var start = 0
        while start <= bytes.count - old.count {
            if bytes[start] == first, bytes[start..<(start + old.count)].elementsEqual(old) {
                var replaced = [UInt8]()
                replaced.reserveCapacity(bytes.count - old.count + new.count)
                replaced += bytes[..<start]
                replaced += new
                replaced += bytes[(start + old.count)...]
                return String(decoding: replaced, as: UTF8.self)
            }
            start += 1
        }
        return nil
    }

    /// How an orphaned tun's finding names the scan (see `Heuristics.scanPhrase`).
    static func scanPhrase(_ summary: String) -> String {
        Heuristics.scanPhrase.opening + summary + Heuristics.scanPhrase.closing
    }

    /// Notes that an interface's findings changed only in their words: each stays where it is in
    /// the sorted findings (`SortedFindings.replace` writes it in place), however many change.
    private func rewordFindings(of index: Int, from old: [Finding], to new: [Finding]) {
        guard !findingsStale else { return }
        if indexOrdered, !listStale, sorted != nil {
            sorted?.replace(owner: index, old: old, new: new)
        } else {
            findingsStale = true
        }
    }
}
