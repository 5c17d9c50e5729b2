/// A namespace's findings in report order, kept up to date one interface at a time, so that a
/// watcher's burst that changes a few interfaces' findings moves a few findings instead of
/// gathering and sorting the thousands of others.
///
/// Report order (`Heuristics.sort`) puts findings in buckets by `Finding.ReportKey`: severity,
/// most severe first, then id. Within a bucket come the interfaces' findings in the order the interfaces are listed
/// (by index), each interface's in the order they were raised, and then the namespace-wide ones.
/// Beside each finding is its owner: the index of the interface that raised it, or `wholeOwner`
/// for a namespace-wide finding. Where an owner's findings sit in a bucket is then found by
/// binary search, and the order after any sequence of replacements is the order a fresh sort of
/// the same findings gives.
struct SortedFindings {
    /// The owner of namespace-wide findings: after every interface.
    static let wholeOwner = Int.max

    private(set) var all: [Finding]
    private var owners: [Int]
    /// The namespace-wide findings among them.
    private(set) var whole: [Finding]

    /// Sorts the interfaces' findings, listed in interface order with their owners, together with
    /// the namespace-wide ones.
    /// The lists are taken over, not copied: thousands of findings are moved into place.
    init(interfaceFindings: consuming [Finding], owners: consuming [Int], whole: [Finding]) {
        precondition(interfaceFindings.count == owners.count, "one owner per finding")
        all = interfaceFindings
        self.owners = owners
        if !whole.isEmpty {
            all += whole
            self.owners += repeatElement(Self.wholeOwner, count: whole.count)
        }
        Heuristics.sort(&all, carrying: &self.owners)
        self.whole = whole
    }

    /// Puts `new` where `old`, the findings `owner` had, were: the interface's findings changed.
    mutating func replace(owner: Int, old: [Finding], new: [Finding]) {
        // The same findings with other evidence (the tunnel count's, at every count that
        // changes): written where they are. Taken out and put back, they moved every finding
        // after them twice, ten thousand of them on a leaking host.
        if old.count == new.count, zip(old, new).allSatisfy({ Finding.ReportKey($0) == Finding.ReportKey($1) }) {
            for key in Self.distinctKeys(new) {
                let bucket = key.positions(in: all)
                let start = firstOwner(notBelow: owner, in: bucket)
                for (offset, replacement) in new.filter({ Finding.ReportKey($0) == key }).enumerated() { all[start + offset] = replacement }
            }
            return
        }
        for key in Self.distinctKeys(old) {
            let bucket = key.positions(in: all)
            let start = firstOwner(notBelow: owner, in: bucket)
            let end = firstOwner(notBelow: owner &+ 1, in: start..<bucket.upperBound, wholeLast: owner == Self.wholeOwner)
            all.removeSubrange(start..<end)
            owners.removeSubrange(start..<end)
        }
        // Each after the owner's findings of its bucket so far: the order raised is kept.
        for finding in new {
            let bucket = Finding.ReportKey(finding).positions(in: all)
            let position = firstOwner(notBelow: owner &+ 1, in: bucket, wholeLast: owner == Self.wholeOwner)
            all.insert(finding, at: position)
            owners.insert(owner, at: position)
        }
    }

    /// The report keys of `findings`, each once, in the order they first come.
    private static func distinctKeys(_ findings: [Finding]) -> [Finding.ReportKey] {
        var keys: [Finding.ReportKey] = []
        for finding in findings where !keys.contains(Finding.ReportKey(finding)) { keys.append(Finding.ReportKey(finding)) }
        return keys
    }

    /// Replaces the namespace-wide findings.
    mutating func setWhole(_ new: [Finding]) {
        replace(owner: Self.wholeOwner, old: whole, new: new)
        whole = new
    }

    /// The first position in `bucket` whose owner is `owner` or later; `wholeLast`: past the
    /// bucket's end (nothing sorts after the namespace-wide findings).
    private func firstOwner(notBelow owner: Int, in bucket: Range<Int>, wholeLast: Bool = false) -> Int {
        if wholeLast { return bucket.upperBound }
        return bucket.lowerBound + Heuristics.firstPosition(notBelow: owner, count: bucket.count) { owners[bucket.lowerBound + $0] }
    }
}
