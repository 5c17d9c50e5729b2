/// The order of a capture directory's files when they are not the snapshot's own (`ifconfig.txt`,
/// `netstat.txt`, `lsof.txt`, `ps.txt`, taken together by `tunwarden snapshot`): pastes saved one
/// by one (`before.txt`, `after.txt`, `capture-9.txt`, `capture-10.txt`). Their names in lexical
/// order say nothing of when they were taken ("after" sorts before "before", "10" before "9"),
/// and neither do their modification times: a copy (`cp`, `scp` without `-p`), a download of a
/// ticket's attachments or a checkout sets every mtime to when it happened, in whatever order it
/// wrote the files (often the very lexical order), so an mtime order would pass that guess off
/// as evidence. The one order tunwarden takes is the one a person wrote into the names: a
/// sequence number in each (`1-before.txt`, `2-after.txt`; `capture-9`, `capture-10`;
/// `capture-09`), compared as numbers; files so ordered are read as the snapshot's files are, one
/// after the other, the later's whole listings replacing the earlier's. Without one, no file is later than another: each is a
/// moment of its own, none replaces what another showed, and a judgement another file
/// contradicts (a tun `closed` in one and `open` in another) is unknown, so nothing is planned
/// for it.
extension CapturedInventory {
    /// The files in the order their sequence numbers give, or nil when the names give none, with
    /// a note saying how the files were taken.
    static func fileOrder(_ names: [String]) -> (ordered: [String]?, note: String) {
        let unordered = "files \(names.joined(separator: ", ")) are read as moments of their own, none later than another: their names carry no sequence number (`1-before.txt`, `capture-09.txt`), and neither the names' order nor their modification times (reset by a copy or a download) say when each was taken"
        guard names.count > 1 else { return (names, "file \(names.joined()) is read as one paste") }
        let numbers = names.map(sequenceNumber)
        guard numbers.allSatisfy({ $0 != nil }), Set(numbers.compactMap { $0 }).count == names.count else { return (nil, unordered) }
        let ordered = zip(names, numbers).sorted { $0.1! < $1.1! }.map(\.0)
        return (ordered, "files read in the order of the sequence numbers in their names, a later whole listing replacing an earlier one: \(ordered.joined(separator: ", "))")
    }

    /// The number a file's name starts with, or that follows its stem (`capture-9.txt`,
    /// `2-after.txt`, `capture-09.log`), or nil when it has none or when the digits are part of a
    /// time or a version (`tw-9.05.txt`, `10:15`, `v1.2`), whose order (past midnight, say) is no
    /// sequence's.
    static func sequenceNumber(_ name: String) -> Int? {
        let stem = Array((name.split(separator: ".").dropLast().isEmpty ? Substring(name) : name[..<name.lastIndex(of: ".")!]).utf8)
        guard let start = stem.firstIndex(where: { (0x30...0x39).contains($0) }) else { return nil }
        var end = start
        while end < stem.count, (0x30...0x39).contains(stem[end]) { end += 1 }
        // (One number only: a second run of digits makes it a time, a date or a version.)
        guard !stem[end...].contains(where: { (0x30...0x39).contains($0) }), end - start <= 6 else { return nil }
        return Int(String(decoding: stem[start..<end], as: UTF8.self))
    }
}
