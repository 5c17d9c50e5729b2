import Foundation

/// What a prompt shows of the time beyond its own line: the clock a two-line prompt shows on its
/// first line, and the times of day prompts show, glued to their brackets or characters.
extension CaptureReader {
    /// Whether a word is a time of day as a message header shows it: `10:41`, `9:02`, `10:41:07`,
    /// `10:41AM`, each maybe in brackets.
    static func isClock(_ word: Substring) -> Bool {
        var bare = word.trimmingCharacters(in: CharacterSet(charactersIn: "[]()"))
        if bare.count > 2, ["am", "pm"].contains(bare.suffix(2).lowercased()) { bare.removeLast(2) }
        let parts = bare.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), (1...2).contains(parts[0].count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
              parts.dropFirst().allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]), hour < 24, let minute = Int(parts[1]), minute < 60 else { return false }
        return true
    }

    /// The words of the first line of a two-line prompt (parrot's `┌─[jane@mbp]─[~]─[17:02:11]`
    /// above `└──╼ $`), split at its frame, when the command at `position` starts after the frame
    /// of the second line: there the prompt shows its clock and host. Empty otherwise.
    static func framePromptWords(_ text: CaptureText, at position: Int) -> [String] {
        var position = position
        while position > 0, !text.startsLine(position) { position -= 1 }
        guard position > 0, let corner = text[position].first, "└╰".contains(corner) else { return [] }
        var start = position - 1
        let line = text.line(start)
        guard line == text.line(position) - 1 else { return [] }
        while start > 0, text.line(start - 1) == line { start -= 1 }
        guard let top = text[start].first, "┌╭".contains(top) else { return [] }
        return (start..<position).flatMap { text[$0].split(whereSeparator: { "─━┌╭[]()".contains($0) }).map(String.init) }
    }
}
