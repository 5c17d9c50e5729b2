import Foundation

/// Telling a shell prompt from output: the characters prompts end with, and the words that end one.
extension ShellCommand {
    /// Characters a shell prompt ends with: `$`, `%`, `#`, `>`, and the arrows of zsh themes.
    static let promptEnds: Set<Character> = Set<Character>(["$", "%", "#", ">", "❯", "➜", "»", "λ", "→", "▶"]).union(powerlineGlyphs)
    /// The glyphs agnoster and powerline themes end each segment of a prompt with.
    static let powerlineGlyphs: Set<Character> = ["\u{E0B0}", "\u{E0B1}"]
    /// The glyphs that open each segment of a right prompt (powerlevel10k's classic and rainbow
    /// styles): they point left, and only come after the command.
    static let rightPowerlineGlyphs: Set<Character> = ["\u{E0B2}", "\u{E0B3}"]
    /// The prompt characters themes put before the directory rather than after it.
    static let arrowPrompts: Set<Character> = ["❯", "➜", "»", "λ", "→", "▶"]

    /// Whether a word ends a shell prompt: one of the prompt characters alone (`$`, `%`, `❯`, the
    /// `>` of a quoted transcript), or a word ending in `$`, `%` or `#` that is not a value
    /// (`user$`, `host:~#`, `[user@host dir]$`); ifconfig's `flags=…<…>` never is.
    static func isPrompt<S: StringProtocol>(_ word: S) -> Bool {
        // The frame of a two-line theme prompt (powerlevel10k's `╰─`, bira's `└─`), alone or
        // with a prompt character after it.
        if let first = word.first, "╰└╭┌├".contains(first), word.count <= 4,
           word.dropFirst().allSatisfy({ "─━$%#>❯➜".contains($0) }) { return true }
        guard let last = word.last, promptEnds.contains(last) else { return false }
        if word.count == 1 { return true }
        // agnoster and powerline themes end each segment with a separator glyph (U+E0B0).
        if powerlineGlyphs.contains(last) { return true }
        // `##`, `###`: a Markdown heading, not a root prompt.
        if word.allSatisfy({ $0 == "#" }) { return false }
        // fish's `user@host ~> ` and `~/src> `: a directory glued to `>`.
        if last == ">" {
            return (word.first == "~" || word.first == "/") && word.count <= 128 && !word.contains("<") && !word.contains("=")
        }
        guard last == "$" || last == "%" || last == "#" else { return false }
        // `100.0%` (ping's packet loss, a progress meter): a number, not a prompt.
        if last == "%", word.dropLast().allSatisfy({ $0.isNumber || $0 == "." }) { return false }
        return word.count <= 128 && !word.contains("=") && !word.contains("<") && word.first != "%" && word.first != "$"
    }
}
