import Foundation
import TunwardenCore

/// A theme's right prompt (powerlevel10k, starship) at the end of a command line: the last
/// command's run time, the clock, a status mark, an environment's name (`15s 10:20:03`,
/// `INT ✘  15s`, `⎈ minikube  3.11.4`, `base  at 10:20:03`). The shell never saw these words;
/// read as arguments they would make a whole listing look filtered.
///
/// The other way round matters more: a real argument read as a right prompt would pass a
/// filtered listing for a whole one. So a run of words is a right prompt only when every word
/// has a right prompt's shape, one of them is a sign no command argument looks like (a
/// duration, a clock, a status mark or icon), and either the theme's alignment put a run of
/// blanks before it or it starts with a run time. For lsof, whose plain words are file names
/// that select what it lists, a plain word is never taken as part of a right prompt.
extension ShellCommand {
    /// The most words a right prompt is taken to have.
    static let rightPromptWords = 8

    /// Whether the words from `position` to the end of its line are a right prompt, for a
    /// command of `tool`.
    static func isRightPromptRun(_ text: CaptureText, from position: Int, tool: Tool, onLine: (Int) -> Bool) -> Bool {
        var words: [Substring] = []
        var at = position
        while onLine(at), words.count <= rightPromptWords {
            words.append(text[at])
            at += 1
        }
        guard !onLine(at), let first = words.first, words.count <= rightPromptWords,
              words.allSatisfy({ isRightPromptWord($0, tool: tool) }), words.contains(where: isRightPromptSign) else { return false }
        let gap = position > 0 ? text.separator(after: position - 1).map { $0.reduce(0) { $0 + ($1 == "\t" ? 8 : 1) } } ?? 0 : 0
        return gap >= 3 || (isDuration(first) && words.dropFirst().allSatisfy { isRightPromptSign($0) || $0 == "at" })
    }

    /// A word no command argument looks like: a duration (`15s`, `1m3s`), a clock (`10:20:03`,
    /// `9:41`), a status mark (`✘`, `✔`) or an icon of symbols only (`⎈`).
    static func isRightPromptSign<S: StringProtocol>(_ word: S) -> Bool {
        if isDuration(word) || isRightPrompt(word) { return true }
        let parts = word.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count >= 2, parts.count <= 3, parts[0].count <= 2, parts.dropFirst().allSatisfy({ $0.count == 2 }),
           parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) { return true }
        return !word.isEmpty && word.allSatisfy { !$0.isASCII && !$0.isLetter && !$0.isNumber }
    }

    /// A word a right prompt may hold: a sign, `at`/`took`, a version (`3.11.4`, `v1.29`), or,
    /// except on an lsof line, a plain name (`base`, `minikube`, `INT`).
    static func isRightPromptWord<S: StringProtocol>(_ word: S, tool: Tool) -> Bool {
        if isRightPromptSign(word) || word == "at" || word == "took" { return true }
        let version = Substring(word.hasPrefix("v") ? String(word.dropFirst()) : String(word))
        let numbers = version.split(separator: ".", omittingEmptySubsequences: false)
        if numbers.count == 2 || numbers.count == 3, numbers.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) { return true }
        guard tool != .lsof, let first = word.first, first.isLetter else { return false }
        return word.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "_-.".contains($0) }
    }
}
