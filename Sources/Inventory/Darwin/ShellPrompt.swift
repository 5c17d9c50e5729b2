import Foundation
import TunwardenCore

/// Telling a shell prompt from output: the characters prompts end with, and the words that end one.
extension ShellCommand {
    /// Characters a shell prompt ends with: `$`, `%`, `#`, `>`, the arrows of zsh themes
    /// (gnzh's `➤`, crunch's `➭`, simple's `⇒`), and nushell's `〉` (its default before 0.80,
    /// glued to the command: see `CaptureText.tokenize`).
    static let promptEnds: Set<Character> = Set<Character>(["$", "%", "#", ">", "❯", "➜", "»", "λ", "→", "▶", "➤", "➭", "⇒", "〉"]).union(powerlineGlyphs)
    /// The prompt characters no output line starts a word of: a word of nothing else (prezto's
    /// sorin theme shows `❯❯❯`) is a prompt.
    static let themeArrows: Set<Character> = promptEnds.subtracting(["$", "%", "#", ">"])
    /// The corners and lines that frame a two-line theme prompt.
    static let frameCorners = "╰└╭┌├"
    /// `promptEnds` and `frameCorners` as scalars (each is one), for telling most words apart
    /// from prompts at a glance.
    static let promptEndScalars = Set(promptEnds.flatMap(\.unicodeScalars))
    static let frameCornerScalars = Set(frameCorners.unicodeScalars)
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
        // Every prompt starts with a frame corner or ends with a prompt character: the words of
        // output, nearly all, are told by their first and last scalars alone, without walking
        // their characters.
        guard let firstScalar = word.unicodeScalars.first, let lastScalar = word.unicodeScalars.last,
              promptEndScalars.contains(lastScalar) || frameCornerScalars.contains(firstScalar) else { return false }
        // The frame of a two-line theme prompt (powerlevel10k's `╰─`, bira's `└─`, parrot's
        // `└──╼`), alone or with a prompt character after it.
        if let first = word.first, frameCorners.contains(first), word.count <= 4,
           word.dropFirst().allSatisfy({ "─━╼".contains($0) || promptEnds.contains($0) }) { return true }
        // jonathan's second line, a clock and the directory in the frame: `└─(10:02:~)──`.
        if let first = word.first, frameCorners.contains(first), word.count <= 64, let open = word.firstIndex(of: "("),
           let close = word.lastIndex(of: ")"), open < close, word[word.index(after: word.startIndex)..<open].allSatisfy({ "─━".contains($0) }),
           !word[word.index(after: close)...].isEmpty, word[word.index(after: close)...].allSatisfy({ "─━".contains($0) || promptEnds.contains($0) }) { return true }
        if word.count <= 4, word.allSatisfy({ themeArrows.contains($0) }) { return true }
        guard let last = word.last, promptEnds.contains(last) else { return false }
        if word.count == 1 { return true }
        // agnoster and powerline themes end each segment with a separator glyph (U+E0B0).
        if powerlineGlyphs.contains(last) { return true }
        // `##`, `###`: a Markdown heading, not a root prompt.
        if word.allSatisfy({ $0 == "#" }) { return false }
        // fish's `user@host ~> ` and `~/src> `, nushell's `~/src〉`: a directory glued to `>`.
        if last == ">" || last == "〉" {
            return (word.first == "~" || word.first == "/") && word.count <= 128 && !word.contains("<") && !word.contains("=")
        }
        guard last == "$" || last == "%" || last == "#" else { return false }
        // `100.0%` (ping's packet loss, a progress meter): a number, not a prompt.
        if last == "%", word.dropLast().allSatisfy({ $0.isNumber || $0 == "." }) { return false }
        return word.count <= 128 && !word.contains("=") && !word.contains("<") && word.first != "%" && word.first != "$"
    }

    /// Whether the word at `position` ends a prompt whose directory is followed by bracketed
    /// parts glued to its `>`: fish's default prompt with the last command's status or
    /// pipestatus (`jane@mbp ~ [2]> `, `~ [0|1]> `), with its git branch (`~/vpn (main)> `,
    /// `(main|✚1)>`) or both, elvish's `~/vpn (main)> `, and PowerShell with posh-git
    /// (`PS /Users/jane/vpn [main ≡]> `); or by a clock glued to it (`~ 17:02:11> `). Such a
    /// word is one only when it follows a directory (`~`, `~/…`, `/…`, maybe with blanks in it:
    /// `~/Library/Application Support/Tunnelblick`) on the same line, with nothing but other
    /// bracketed parts between: a `>` after a bracket in prose or output has no directory before it.
    static func endsDecoratedPrompt(_ text: CaptureText, at position: Int) -> Bool {
        let word = text[position]
        guard word.count >= 3, word.count <= 64, word.last == ">", let close = word.dropLast().last,
              close == "]" || close == ")" || close.isNumber, !word.contains("<"), !word.contains("=") else { return false }
        let line = text.line(position)
        var at = position
        if close.isNumber {
            guard CaptureReader.isClock(word.dropLast()) else { return false }
        } else {
            let open: Character = close == "]" ? "[" : "("
            // Back to the word that opens the bracket this one closes (`[main ≡]>` spans two words).
            while !text[at].contains(open) {
                at -= 1
                guard at >= 0, position - at <= 3, text.line(at) == line else { return false }
            }
        }
        // Then back over whole bracketed parts (`(main) [1]>`) to the directory, and over the
        // words of a directory with blanks in it.
        at -= 1
        var plain = 0
        while at >= 0, text.line(at) == line, position - at <= 8 {
            let part = text[at]
            if isDirectoryWord(part) { return true }
            if let first = part.first, let last = part.last, plain == 0, (first == "(" && last == ")") || (first == "[" && last == "]") {
                at -= 1
                continue
            }
            guard plain < 3, !part.contains(where: { "$%#<>|;&=()[]`'\"".contains($0) }) else { return false }
            plain += 1
            at -= 1
        }
        return false
    }

    /// Where the command starts after a prompt that ends in its directory, with no prompt
    /// character after it: oh-my-zsh's cloud, minimal and kennethreitz themes (`☁  ~ `, `jane ~ `,
    /// `~/src `), agnoster's root prompt with its powerline glyphs lost (`⚡ jane@mbp  ~  `), an
    /// emoji theme's `🍎 ~ `, and xonsh's `jane@Janes-MacBook-Pro ~ @ `. At most three words that
    /// decorate a prompt come first (a symbol, a user name or `user@host`, a clock; no more than
    /// one plain word, and no word of prose), then the directory, then (xonsh) `@`, then a command
    /// the reader knows by name (`ifconfig`, `sudo`, `open`, `cat`). A directory with nothing
    /// before it starts with `~`: a line that starts with an absolute path is output (a `ps`
    /// row's `/usr/sbin/cfprefsd agent`, a `mount` row's `/dev/disk3s1s1 on /`). Nil unless such
    /// a prompt starts the line at `position` and a known command follows it on the line.
    static func directoryPromptEnd(in text: CaptureText, at position: Int) -> Int? {
        guard text.startsLine(position) else { return nil }
        let line = text.line(position)
        func onLine(_ at: Int) -> Bool { at < text.count && text.line(at) == line }
        // The directory (`~…`, `/…`) comes within the first four words: most lines have none.
        guard (position..<(position + 4)).contains(where: { onLine($0) && [UInt8(ascii: "~"), UInt8(ascii: "/")].contains(text.firstByte($0)) }) else { return nil }
        var at = position
        var plainWords = 0
        while onLine(at), !isDirectoryWord(text[at]) {
            guard at - position < 3, isPromptDecoration(text[at]) else { return nil }
            if isPlainWord(text[at]) {
                plainWords += 1
                guard plainWords == 1, !proseWords.contains(String(text[at])) else { return nil }
            }
            at += 1
        }
        guard onLine(at), at > position || text[at].first == "~" else { return nil }
        at += 1
        if onLine(at), text[at] == "@" { at += 1 }
        guard onLine(at), !isPrompt(text[at]), isKnownCommand(text[at]) else { return nil }
        return at
    }

    /// Where the command starts after a prompt of one emoji and nothing else (`PS1='🍺 '`), when a
    /// command the reader knows by name (see `isKnownCommand`) follows it on the line. Only
    /// pictographs count, not a bullet or a dash that starts an item of prose. Nil otherwise.
    static func emojiPromptEnd(in text: CaptureText, at position: Int) -> Int? {
        guard text.startsLine(position), text.firstByte(position) >= 0xE2, position + 1 < text.count, text.line(position + 1) == text.line(position) else { return nil }
        let word = text[position]
        guard word.count <= 2, word.unicodeScalars.contains(where: { $0.properties.isEmojiPresentation }),
              word.unicodeScalars.allSatisfy({ $0.properties.isEmoji && !$0.isASCII || $0.value == 0xFE0F }),
              !isPrompt(text[position + 1]), isKnownCommand(text[position + 1]) else { return nil }
        return position + 1
    }

    /// Whether a word names a command the reader knows (tunwarden's tools, `sudo`, the commands
    /// whose effects it weighs, and common shell tools), by itself or by its path's last part
    /// (`/usr/local/bin/wg-quick`). A word of prose after a directory (`in ~/Downloads run this`)
    /// is none.
    static func isKnownCommand<S: StringProtocol>(_ word: S) -> Bool {
        // (As the shell reads it: `\ifconfig`, `"open"`.)
        let word = commandName(word)
        guard isCommandWord(word) else { return false }
        var name = word
        if name.count > 1, name.hasSuffix(";") { name.removeLast() }
        let base = PathText.lastComponent(name)
        return tools[base] != nil || knownCommands.contains(base) || readingPrograms.contains(base) || showsContents.contains(base)
            || remotePrograms.contains(base) || pagers.contains(base)
    }

    /// Commands typed at a prompt beyond the ones that only read: those that start, stop or
    /// change a tunnel or the routes, and the shell's own.
    static let knownCommands: Set<String> = [
        "sudo", "open", "kill", "killall", "pkill", "scutil", "networksetup", "ipconfig", "wg-quick", "openvpn", "tailscale",
        "zerotier-cli", "brew", "launchctl", "sleep", "watch", "sh", "bash", "zsh", "fish", "env", "time", "nohup", "exec",
        "source", "ssh", "pfctl", "dscacheutil", "networkquality", "traceroute", "mtr", "vim", "nano", "make", "python3",
        "tunwarden", "for", "while", "until", "tcpdump", "sing-box", "clash", "mihomo", "v2ray", "xray", "wireguard-go",
    ]

    /// A prompt decoration that is a plain lowercase word: a user name (`jane ~ `), or prose.
    static func isPlainWord<S: StringProtocol>(_ word: S) -> Bool {
        guard let first = word.first, first.isASCII, first.isLowercase else { return false }
        return word.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "-_.".contains($0)) }
    }

    /// Short words of English prose that are no user name (`so in ~/Downloads open it`).
    static let proseWords: Set<String> = [
        "a", "an", "the", "so", "in", "on", "at", "to", "of", "from", "into", "under", "then", "and", "or", "but", "i", "we", "you",
        "it", "is", "my", "our", "your", "now", "also", "just", "here", "there", "inside", "within", "via", "cd", "ok", "okay", "see",
    ]

    /// Whether a word names a directory as a prompt shows it: `~`, `~/src`, `/etc`, `~/`.
    static func isDirectoryWord<S: StringProtocol>(_ word: S) -> Bool {
        guard let first = word.first, first == "~" || first == "/", word.count <= 128 else { return false }
        if first == "~", word.count > 1, word.dropFirst().first != "/" { return false }
        return !word.contains(where: { "$%#>]);|&<'\"`=:*".contains($0) })
    }

    /// Whether a word may decorate a prompt before its directory: a symbol or an emoji (`☁`,
    /// `⚡`, `🍎`), a user name, `user@host`, or a clock (`10:02`).
    static func isPromptDecoration<S: StringProtocol>(_ word: S) -> Bool {
        if isUserAtHost(word) { return true }
        if word.count <= 2, word.allSatisfy({ !$0.isASCII && !$0.isLetter && !$0.isNumber }) { return true }
        if let first = word.first, first.isASCII, first.isLowercase, word.count <= 32,
           word.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "-_.".contains($0)) }) { return true }
        let parts = word.split(separator: ":", omittingEmptySubsequences: false)
        return (2...3).contains(parts.count) && parts.allSatisfy { (1...2).contains($0.count) && $0.allSatisfy(\.isNumber) }
    }
}
