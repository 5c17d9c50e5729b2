/// The order of a capture directory's files when they are not the snapshot's own (`ifconfig.txt`,
/// `netstat.txt`, `lsof.txt`, `ps.txt`, taken together by `tunwarden snapshot`): pastes saved one
/// by one (`before.txt`, `after.txt`, `capture-9.txt`, `capture-10.txt`). Their names in lexical
/// order say nothing of when they were taken ("after" sorts before "before", "10" before "9"),
/// and neither do their modification times: a copy (`cp`, `scp` without `-p`), a download of a
/// ticket's attachments or a checkout sets every mtime to when it happened, in whatever order it
/// wrote the files (often the very lexical order), so an mtime order would pass that guess off
/// as evidence.
///
/// The one order tunwarden takes is the one a person wrote into the names, and only where the
/// name can mean nothing else: a number that leads the name before a `-`, `_` or `.`
/// (`1-before.txt`, `2_after.txt`), a number that ends it after a `-` or `_` (`capture-9`,
/// `capture-10`, `capture-09`), a version (`v1`, `run-v2`), or the number alone (`1.txt`), with no
/// other digit in the name and no word that makes the number a time of day (`9am`, `2-pm`, `14h`),
/// a day (`dec-31`, `jan-2`, `mon-3`), an interface or a unit (`utun4`, `tun-0`, `feth1`), a
/// process, a ticket or a copy (`pid-412`, `ticket-5812`, `capture copy 2`), whose order is no
/// order of capture (2pm comes before 9am the next morning; utun10 is no later than utun4). And
/// every file of the directory must be named in that one shape (`capture-N` throughout, or `N-…`
/// throughout): numbers from names of different shapes (`1-before.txt` and `after-2.txt`) were
/// not written as one sequence. Files so ordered are read as the snapshot's files are, one after
/// the other, the later's whole listings replacing the earlier's; the note says that the order is
/// the names' numbers' and nothing else's. Files named per tool with one number each
/// (`ifconfig-1.txt`, `netstat-1.txt`, `ifconfig-2.txt`, …) are one moment per number, as the
/// snapshot's four are one moment.
///
/// Anything else is unordered: no file is later than another, each is a moment of its own, none
/// replaces what another showed, and a judgement another file contradicts (a tun `closed` in one
/// and `open` in another) is unknown, so nothing is planned for it. That loses a verdict when the
/// names did mean an order (`09h.txt`, `14h.txt`), never plans on a guessed one.
extension CapturedInventory {
    /// The number a name carries in a shape taken as a sequence, and that shape.
    struct NameSequence: Equatable {
        var number: Int
        /// The name with its number replaced by `N` (`capture-N`, `N-`): every file of an ordered
        /// directory has the same shape. Per-tool names are `TOOL-N`/`N-TOOL` whatever the tool.
        var shape: String
        /// The tool a per-tool name names (`ifconfig-1.txt`).
        var tool: ShellCommand.Tool?
    }

    /// The files in the order their sequence numbers give, or nil when the names give none, with
    /// a note saying how the files were taken.
    static func fileOrder(_ names: [String]) -> (ordered: [String]?, note: String) {
        guard names.count > 1 else { return (names, "file \(names.joined()) is read as one paste") }
        let list = names.joined(separator: ", ")
        func unordered(_ why: String) -> (ordered: [String]?, note: String) {
            (nil, "files \(list) are read as moments of their own, none later than another: \(why); neither the names' order nor their modification times (reset by a copy or a download) say when each was taken, so a judgement they contradict is unknown and nothing is planned for it")
        }
        let sequences = names.map(nameSequence)
        let unnumbered = zip(names, sequences).filter { $0.1 == nil }.map(\.0)
        guard unnumbered.isEmpty else {
            return unordered("\(unnumbered.joined(separator: ", ")) \(unnumbered.count == 1 ? "carries" : "carry") no sequence number in a shape taken as one (a leading `1-`, a trailing `-9` after a word, `v2`; a number that may be a time, a day, an interface or a unit, `9am`, `14h`, `dec-31`, `utun4`, is none)")
        }
        let numbered = sequences.map { $0! }
        let shapes = Set(numbered.map(\.shape))
        guard shapes.count == 1, let shape = shapes.first else {
            return unordered("their numbers are not written in one shape (\(shapes.sorted().map { "`\($0)`" }.joined(separator: ", "))), so they were not numbered as one sequence")
        }
        if numbered.allSatisfy({ $0.tool != nil }) {
            // Per tool: one moment per number, its files in the snapshot's order.
            let groups = Dictionary(grouping: zip(names, numbered), by: { $0.1.number })
            guard groups.values.allSatisfy({ Set($0.map(\.1.tool)).count == $0.count }) else {
                return unordered("two files name the same tool with the same number")
            }
            let rank = { (tool: ShellCommand.Tool?) in directoryFiles.firstIndex { $0.tool == tool } ?? 0 }
            let ordered = groups.keys.sorted().flatMap { number in groups[number]!.sorted { rank($0.1.tool) < rank($1.1.tool) }.map(\.0) }
            return (ordered, "files read by the numbers in their names (`\(shape)`), the files of one number taken together as one moment, as a snapshot's are, and a later number's whole listings replacing an earlier's: \(ordered.joined(separator: ", ")); this order is the names' alone")
        }
        guard Set(numbered.map(\.number)).count == names.count else {
            return unordered("two of them carry the same number")
        }
        let ordered = zip(names, numbered).sorted { $0.1.number < $1.1.number }.map(\.0)
        return (ordered, "files read in the order of the numbers in their names (`\(shape)`), taken as a sequence since every file is so named, a later whole listing replacing an earlier one: \(ordered.joined(separator: ", ")); this order is the names' alone (a file misnumbered would be read out of its turn)")
    }

    /// The sequence number of a name, or nil when it has none in a shape taken as one.
    static func sequenceNumber(_ name: String) -> Int? {
        nameSequence(name)?.number
    }

    /// Words that make a number next to them something other than a capture's place in a
    /// sequence: a time of day, a day, a month, an interface or a unit, a process, a ticket, a
    /// copy.
    static let nonSequenceWords: Set<String> = [
        // Times of day and spans.
        "am", "pm", "a", "p", "h", "hr", "hrs", "hour", "hours", "m", "min", "mins", "minute", "minutes", "s", "sec", "secs",
        "oclock", "noon", "midnight", "morning", "afternoon", "evening", "night", "tonight", "today", "yesterday", "tomorrow",
        "day", "days", "week", "weeks", "wk", "month", "months", "year", "years", "yr", "utc", "gmt", "cet", "pst", "est",
        // Months and days of the week.
        "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june", "jul", "july", "aug",
        "august", "sep", "sept", "september", "oct", "october", "nov", "november", "dec", "december",
        "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thur", "thurs", "thursday", "fri", "friday",
        "sat", "saturday", "sun", "sunday",
        // Interfaces, units and counters of other things.
        "utun", "tun", "tap", "feth", "wg", "ppp", "ipsec", "gif", "stf", "bridge", "en", "lo", "awdl", "llw", "anpi", "ap",
        "vlan", "bond", "zt", "unit", "pid", "id", "port", "host", "node", "vm", "ticket", "case", "issue", "bug", "pr",
        "jira", "inc", "incident", "copy", "kopie", "rfc", "ip",
    ]

    /// The number a name carries as a sequence (see the type's comment), or nil.
    static func nameSequence(_ name: String) -> NameSequence? {
        let stem = (name.lastIndex(of: ".").map { name[..<$0] } ?? Substring(name)).lowercased()
        let scalars = Array(stem.unicodeScalars)
        let isDigit = { (s: Unicode.Scalar) in ("0"..."9").contains(s) }
        guard let start = scalars.firstIndex(where: isDigit) else { return nil }
        var end = start
        while end < scalars.count, isDigit(scalars[end]) { end += 1 }
        guard end - start <= 6, !scalars[end...].contains(where: isDigit), let number = Int(String(String.UnicodeScalarView(scalars[start..<end]))) else { return nil }
        let before = String(String.UnicodeScalarView(scalars[..<start]))
        let after = String(String.UnicodeScalarView(scalars[end...]))
        // The words around the number: any that makes it a time, a day or an interface's voids it.
        let words = (before + " " + after).split { !$0.isLetter }.map(String.init)
        guard !words.contains(where: nonSequenceWords.contains) else { return nil }
        let tools: [String: ShellCommand.Tool] = Dictionary(uniqueKeysWithValues: directoryFiles.map { (String($0.name.dropLast(4)), $0.tool) })
        switch (before, after) {
        case ("", ""):
            return NameSequence(number: number, shape: "N")
        case ("", _):
            // `1-before`, `2_after`, `3.after`: a separator, then words.
            guard let separator = after.first, "-_.".contains(separator), after.dropFirst().first?.isLetter == true else { return nil }
            let tool = tools[String(after.dropFirst())]
            return NameSequence(number: number, shape: tool != nil ? "N\(separator)TOOL" : "N\(separator)…", tool: tool)
        case (_, ""):
            if before.hasSuffix("v"), before.count == 1 || "-_".contains(before.dropLast().last!) {
                // A version: `v2`, `run-v2`.
                return NameSequence(number: number, shape: "\(before)N")
            }
            // `capture-9`, `run_10`: words, then a separator.
            guard let separator = before.last, "-_".contains(separator), before.dropLast().last?.isLetter == true else { return nil }
            if let tool = tools[String(before.dropLast())] { return NameSequence(number: number, shape: "TOOL\(separator)N", tool: tool) }
            return NameSequence(number: number, shape: "\(before)N")
        default:
            // A number inside the name (`run-2-after`, `after2x`) may count anything.
            return nil
        }
    }
}
