import Foundation
import TunwardenCore

/// A command line inside a captured transcript (`user@Host ~ % sudo netstat -rn | grep utun`):
/// which tool printed what follows, with which options, and through which filters. The
/// command's words end where its grammar ends, so a prompt glued to the first line of output
/// (line breaks lost) is told apart from that output.
struct ShellCommand {
    enum Tool: String {
        case ifconfig, netstat, lsof, ps, route
        /// Any other command (`echo`, `awk`, `sw_vers`, `cat file`): its output is read by shape.
        case other
    }

    var tool: Tool
    /// The command word as the shell reads it, its quotes and backslashes taken away (`netstat`,
    /// `/usr/sbin/lsof`, `cat`; `ifconfig` for `\ifconfig` or `"ifconfig"`: see `shellWord`).
    var name: String
    /// The tool's own arguments.
    var arguments: [String] = []
    /// Whether it ran under sudo (or at a root `#` prompt).
    var privileged = false
    /// `grep` stages of its pipeline, in order.
    var filters: [TextFilter] = []
    /// Pipeline stages that change the output in ways tunwarden cannot follow (`awk`, `head`, `sed`).
    var reshaping: [String] = []
    /// The words the prompt and command take up.
    var words: Range<Int>
    /// What follows `;`, `&&` or `||` on the command line: other commands, whose output comes
    /// after this one's without a line of its own to tell where.
    var followedBy: [String] = []
    /// The word that joined them (`;`, `&&`, `||`).
    var separator = ";"
    /// The `;` written glued to an other command's word (`clear; ifconfig -a`), whose arguments
    /// then hold the line's next commands.
    var gluedSeparator = ""
    /// Words of the command line this reading of it did not take in (`ifconfig 'utun4'`,
    /// `ifconfig |& grep utun`): what they do to the output is unknown.
    var unread: [String] = []
    /// A theme's right prompt at the end of the command line (`at 10:02:11`, `✔ took 3s`): the
    /// prompt's, not the command's, and its clock tells the moment as a left prompt's does.
    var rightPrompt: [String] = []
    /// The command was named in the line that introduces a Markdown code block ("Output of
    /// `ifconfig -a | head -57`:"), not typed at a prompt: `words` are that line's, prose and all
    /// (see `introduced(in:lineAt:)`).
    var introduced = false
    /// The command line's own words, when `words` are not them (an introduced command's).
    var namedLine: [String]?

    /// Whether `arguments` hold a short option letter (`-rn` holds r and n).
    func hasOption(_ letter: Character) -> Bool {
        arguments.contains { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.dropFirst().contains(letter) }
    }

    /// The value after an option letter that takes one (`-f inet`, `-p 71881`, `-nPp 71881`).
    func value(of letter: Character) -> String? {
        for (position, argument) in arguments.enumerated() where argument.hasPrefix("-") && !argument.hasPrefix("--") {
            guard let at = argument.dropFirst().firstIndex(of: letter) else { continue }
            let rest = argument[argument.index(after: at)...]
            if !rest.isEmpty { return String(rest) }
            return position + 1 < arguments.count ? arguments[position + 1] : nil
        }
        return nil
    }

    /// The command line as written, for notes.
    var display: String {
        ([privileged ? "sudo" : nil, name + gluedSeparator].compactMap { $0 } + arguments).joined(separator: " ")
            + filters.map { " | \($0.text)" }.joined() + reshaping.map { " | \($0)" }.joined()
            + (unread.isEmpty ? "" : " " + unread.joined(separator: " "))
            + (followedBy.isEmpty ? "" : (separator == ";" ? "; " : " \(separator) ") + followedBy.joined(separator: " "))
    }

    static let tools: [String: Tool] = ["ifconfig": .ifconfig, "netstat": .netstat, "lsof": .lsof, "ps": .ps, "route": .route]
    /// The command that starts at word `position`, if one does: a prompt followed by a command,
    /// or one of tunwarden's tools at the start of a line with arguments it accepts.
    static func recognize(in text: CaptureText, at position: Int) -> ShellCommand? {
        let word = text[position]
        // A Markdown heading that names a command (`### ifconfig -a`, `## netstat -rn output`)
        // heads that command's output; the rest of the heading is its title.
        if word.count >= 2, word.allSatisfy({ $0 == "#" }), position + 1 < text.count, text.line(position + 1) == text.line(position),
           var command = parse(text, from: position + 1, prompted: true, anyCommand: false) {
            command.words = position..<command.words.upperBound
            command.unread = []
            return command
        }
        // A `#` after command words starts a comment (`netstat -rn   # after the crash`), in bash
        // and in zsh as oh-my-zsh sets it: only one that ends a prompt is a root prompt (`sh-3.2#`,
        // `root@mbp ~ #`, `[root@mbp ~]#`, macOS's own `root@mbp jane #`).
        if word.last == "#", !text.startsLine(position), !(word == "#" && endsDefaultZshPrompt(text, at: position)) {
            var before = position - 1
            while before >= 0, text.line(before) == text.line(position) {
                if !CaptureReader.promptShaped(text[before]) { return nil }
                before -= 1
            }
        }
        if isPrompt(word) || endsDecoratedPrompt(text, at: position), position + 1 < text.count {
            // Powerline segments (`user  ~  src  cmd`): only the last one's glyph ends the prompt
            // (looked for among the next few words: a paste that lost its line breaks goes on).
            if let glyph = word.last, powerlineGlyphs.contains(glyph) {
                var later = position + 1
                while later < text.count, later - position <= 4, text.line(later) == text.line(position) {
                    if let last = text[later].last, powerlineGlyphs.contains(last) { return nil }
                    later += 1
                }
            }
            // `>` alone also marks quoted text (e-mail, Markdown): after it only tunwarden's tools count.
            var parsed: ShellCommand?
            // Themes put the directory and the git status after an arrow (oh-my-zsh's default:
            // `➜  ~ `, `➜  vpn git:(main) ✗ `): one of tunwarden's tools among the next four words
            // of the line is the command, before any other word is taken for one.
            if word.count == 1, let arrow = word.first, arrowPrompts.contains(arrow) {
                var start = position + 1
                while parsed == nil, start - position <= 4, start < text.count, text.line(start) == text.line(position) {
                    parsed = parse(text, from: start, prompted: true, anyCommand: false)
                    start += 1
                }
                // Any other command comes after the directory oh-my-zsh (`➜`) and lambda (`λ`)
                // themes show, and the git status after it (`git:(main)`, `✗`).
                if parsed == nil, let after = arrowThemeEnd(in: text, at: position) {
                    if after < text.count, text.line(after) == text.line(position) {
                        parsed = parse(text, from: after, prompted: true, anyCommand: true)
                    }
                }
            }
            if parsed == nil { parsed = parse(text, from: position + 1, prompted: true, anyCommand: word != ">") }
            guard var command = parsed else { return nil }
            // `# removed utun1-utun9` is a note, not a root prompt before a command.
            if word == "#", command.tool == .other, Section.removalWords.contains(command.name.lowercased()) { return nil }
            // `# ClashX を強制終了したら…` is a Markdown heading: after a lone `#`, a name with
            // capitals is a title's word, and only a path is a command typed at a root prompt.
            if word == "#", command.tool == .other, !isCommandWord(command.name), !command.name.contains("/") { return nil }
            command.words = position..<command.words.upperBound
            if word.last == "#" { command.privileged = true }
            return command
        }
        guard text.startsLine(position) else { return nil }
        // A prompt that ends in its directory (`☁  ~ open -a ClashX`, `jane ~ netstat -rn`).
        // (Or in one emoji: `🍺 ifconfig -a`.)
        if let after = directoryPromptEnd(in: text, at: position) ?? emojiPromptEnd(in: text, at: position),
           var command = parse(text, from: after, prompted: true, anyCommand: true) {
            command.words = position..<command.words.upperBound
            return command
        }
        return parse(text, from: position, prompted: false)
    }

    /// Whether the `#` at `position` ends the prompt macOS's /etc/zshrc sets (`%n@%m %1~ %#`): the
    /// user and host, then the directory's last part (`root@Janes-MacBook-Pro jane #`,
    /// `root@mbp Downloads #`), only prompt decorations such as `(base)` before them. Any other
    /// word before a `#` is a command's (`bob$ netstat -rn # note` is a comment).
    static func endsDefaultZshPrompt(_ text: CaptureText, at position: Int) -> Bool {
        guard position >= 2, text.line(position - 2) == text.line(position) else { return false }
        let parts = text[position - 2].split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } }),
              !text[position - 1].contains(where: { "$%#=<>|;&'\"`".contains($0) }) else { return false }
        var before = position - 3
        while before >= 0, text.line(before) == text.line(position) {
            guard text[before].first == "(", text[before].last == ")" else { return false }
            before -= 1
        }
        return true
    }

    /// Where the words that oh-my-zsh's (`➜`) and lambda (`λ`) themes show after their arrow end:
    /// past the directory and the git status after it (`➜  ~ `, `➜  vpn git:(main) ✗ `), where a
    /// typed command would start. Nil when the word at `position` is no such arrow.
    static func arrowThemeEnd(in text: CaptureText, at position: Int) -> Int? {
        guard text[position] == "➜" || text[position] == "λ" else { return nil }
        var after = position + 2
        while after < text.count, text.line(after) == text.line(position),
              text[after].hasPrefix("git:(") || text[after].hasPrefix("hg:(") || ["✗", "✔", "±", "⚡", "*"].contains(text[after]) {
            after += 1
        }
        return after
    }

    /// Whether a word starts the right prompt of a theme (powerlevel10k, spaceship): a status
    /// mark, a time of day, a segment's left-pointing separator, or an icon. Icons are Nerd Font
    /// glyphs, which live in the Private Use Area (a clock, U+F017, before the time); no tool's
    /// option or argument holds one.
    static func isRightPrompt<S: StringProtocol>(_ word: S) -> Bool {
        if let first = word.first, "✔✘✗✓⏎".contains(first) || rightPowerlineGlyphs.contains(first) { return true }
        if let scalar = word.unicodeScalars.first, (0xE000...0xF8FF).contains(scalar.value) || (0xF0000...0x10FFFD).contains(scalar.value) { return true }
        // The right end of a framed theme (powerlevel10k's `─╯`).
        if !word.isEmpty, word.allSatisfy({ "─━╯╮┘┐".contains($0) }) { return true }
        let parts = word.split(separator: ":")
        return parts.count >= 2 && parts.count <= 3 && parts.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isNumber) }
    }

    /// Whether a word is `user@host` as prompts show it (`jane@Janes-MacBook-Pro`): a name, `@`,
    /// and a host name, nothing else.
    static func isUserAtHost<S: StringProtocol>(_ word: S) -> Bool {
        let parts = word.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, word.count <= 128, let host = parts.last?.first, host.isLetter else { return false }
        return parts.allSatisfy { part in !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) } }
    }

    /// Whether the word at `position` sends the output to a file (`> if.txt`, `>>log`): not
    /// `>&2`, nor a `>` that quotes a transcript (followed by a prompt or by output).
    static func isRedirect(_ text: CaptureText, at position: Int, onLine: (Int) -> Bool) -> Bool {
        let word = text[position]
        guard word.hasPrefix(">"), !word.hasPrefix(">&") else { return false }
        if word.count > (word.hasPrefix(">>") ? 2 : 1) { return true }
        guard onLine(position + 1) else { return false }
        return !isPrompt(text[position + 1]) && !CaptureReader.startsOutput(text, at: position + 1) && !tools.keys.contains(String(text[position + 1]))
    }

    /// A duration as themes show it: `2s`, `1m3s`, `350ms`.
    static func isDuration<S: StringProtocol>(_ word: S) -> Bool {
        guard let first = word.first, first.isNumber else { return false }
        return word.allSatisfy { $0.isNumber || "hms.".contains($0) } && word.contains { "hms".contains($0) }
    }

    /// Words that end one command of a line and start another.
    static let separators: Set<String> = [";", "&&", "||", "&"]

    /// Words as the shell passes them: a quoted argument that spans words (`'ZeroTier One'`)
    /// is one, its blanks kept.
    static func joiningQuoted(_ words: [String]) -> [String] {
        var result: [String] = []
        var open: Character?
        for word in words {
            if open != nil {
                result[result.count - 1] += " " + word
                if word.last == open { open = nil }
            } else {
                result.append(word)
                if let first = word.first, first == "'" || first == "\"", !(word.count > 1 && word.last == first) { open = first }
            }
        }
        return result
    }

    /// The word as the shell passes it on, when it is one word of its own: its quotes taken
    /// away (`"ifconfig"`, `'ifconfig'`, `'if'"config"`, bash's and zsh's `$'ifconfig'` with its
    /// escapes read, `$'\x69fconfig'`, and `$"ifconfig"`) and each backslash outside single
    /// quotes dropped before the character it escapes (`\ifconfig`, typed to skip an alias of
    /// that name; `a\\b` is `a\b`). A command word so written runs the same program as the
    /// bare one. Nil when a quote opened in the word does not close in it: the shell's word
    /// goes on past the blank, and is no command's name by itself.
    static func shellWord<S: StringProtocol>(_ word: S) -> String? {
        guard word.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\"") }) else { return String(word) }
        let characters = Array(word)
        var result = ""
        var quote: Character?
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            // `$'…'` (its escapes read as C's) and `$"…"` (a double-quoted string).
            if quote == nil, character == "$", index < characters.count, characters[index] == "'" || characters[index] == "\"" {
                if characters[index] == "\"" { continue }
                guard let (text, end) = ansiCQuoted(characters, from: index + 1) else { return nil }
                result += text
                index = end
                continue
            }
            if quote == "'" {
                if character == "'" { quote = nil } else { result.append(character) }
            } else if character == "\\", index < characters.count {
                // (Within double quotes a backslash escapes only `$`, a backquote, `"` and itself.)
                if quote == "\"", !"$`\"\\".contains(characters[index]) { result.append(character) }
                result.append(characters[index])
                index += 1
            } else if character == quote {
                quote = nil
            } else if quote == nil, character == "'" || character == "\"" {
                quote = character
            } else {
                result.append(character)
            }
        }
        return quote == nil ? result : nil
    }

    /// The text of a `$'…'` string whose first character after the quote is at `start`, its
    /// escapes read as bash and zsh read them (`\x69`, `\151`, `\u0069`, `\n`, `\'`), and the
    /// index past its closing quote. Nil when it does not close.
    static func ansiCQuoted(_ characters: [Character], from start: Int) -> (String, Int)? {
        var result = ""
        var index = start
        func digits(_ count: Int, radix: Int) -> String {
            var taken = ""
            while taken.count < count, index < characters.count, characters[index].isASCII, characters[index].isHexDigit,
                  Int(String(characters[index]), radix: radix) != nil {
                taken.append(characters[index])
                index += 1
            }
            return taken
        }
        while index < characters.count {
            let character = characters[index]
            index += 1
            if character == "'" { return (result, index) }
            guard character == "\\", index < characters.count else {
                result.append(character)
                continue
            }
            let escaped = characters[index]
            index += 1
            let simple: [Character: Character] = ["n": "\n", "t": "\t", "r": "\r", "a": "\u{07}", "b": "\u{08}", "e": "\u{1B}", "E": "\u{1B}",
                                                  "f": "\u{0C}", "v": "\u{0B}", "\\": "\\", "'": "'", "\"": "\"", "?": "?"]
            if let plain = simple[escaped] {
                result.append(plain)
            } else if escaped == "x" || escaped == "u" || escaped == "U" {
                let hex = digits(escaped == "x" ? 2 : escaped == "u" ? 4 : 8, radix: 16)
                if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) {
                    result.unicodeScalars.append(scalar)
                } else {
                    result += "\\\(escaped)" + hex
                }
            } else if escaped.isASCII, let first = Int(String(escaped), radix: 8) {
                let rest = digits(2, radix: 8)
                let value = (rest.isEmpty ? first : first * (rest.count == 1 ? 8 : 64) + (Int(rest, radix: 8) ?? 0)) & 0xFF
                result.unicodeScalars.append(Unicode.Scalar(UInt8(value)))
            } else {
                result += "\\\(escaped)"
            }
        }
        return nil
    }

    /// `shellWord` of a word that may be a command's, or the word as written when it is none.
    /// zsh's `=name` (its path, as `which name` prints it) names the program `name` does.
    static func commandName<S: StringProtocol>(_ word: S) -> String {
        if word.count > 1, word.first == "=", let second = word.dropFirst().first, second.isLetter || "/\\'\"$".contains(second) {
            return commandName(word.dropFirst())
        }
        return shellWord(word) ?? String(word)
    }

    static func unquote(_ word: String) -> String {
        var word = Substring(word)
        if let first = word.first, first == "'" || first == "\"" { word = word.dropFirst() }
        if let last = word.last, last == "'" || last == "\"" { word = word.dropLast() }
        return String(word)
    }

    /// A macOS interface name: letters then a unit number (`utun3`, `en0`, `bridge0`, `XHC20`).
    static func isInterfaceName<S: StringProtocol>(_ word: S) -> Bool {
        guard let first = word.first, first.isASCII, first.isLetter, let last = word.last, last.isASCII, last.isNumber,
              word.count <= 24 else { return false }
        return word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// A word typed at a prompt that the shell would run, as `isCommandWord`'s are, in more
    /// shapes: a name with capitals (`OpenVPNConnect`, `Tunnelblick`), or a path, which may hold
    /// blanks once its quotes or backslashes are read (`/Applications/Tunnelblick.app/Contents/
    /// MacOS/Tunnelblick`, `~/Downloads/OpenVPN-Reconnect`, `/Library/Application Support/…`).
    /// Such a command is unknown to the reader, so it may change the tables: a new moment starts.
    /// (A word of prose after a prompt, `Password:`, a sentence's last word `done.`, is none.)
    static func isRunnableWord<S: StringProtocol>(_ word: S) -> Bool {
        var word = Substring(word)
        if word.count > 1, word.hasSuffix(";") || word.hasSuffix("&") { word = word.dropLast() }
        guard let first = word.first, first.isASCII, first.isLetter || first == "/" || first == "~" || first == ".", word.count <= 200,
              let lastCharacter = word.last, lastCharacter.isLetter || lastCharacter.isNumber || "-_".contains(lastCharacter) else { return false }
        let path = word.contains("/")
        return word.allSatisfy { character in
            character.isASCII && (character.isLetter || character.isNumber || "-_./".contains(character)
                || (path && " ~+@,".contains(character)))
                || (path && !character.isASCII && (character.isLetter || character.isNumber))
        }
    }

    /// A command word the shell turns into another before it runs anything, or shell syntax
    /// around a command: an expansion (`$(brew --prefix openvpn)/sbin/openvpn`, a backquote,
    /// `$OPENVPN`, `"$VPN_UP"`), a history reference (`!open`, `!-2`, `^down^up`), a job spec
    /// (`%1`, `%+`, `%%`), a subshell, group or test (`(open -a Tunnelblick)`, `{`, `[`, `[[`,
    /// `((`), a function's definition (`vpn()`), a no-op or negation before a command (`: ;
    /// open -a Tunnelblick`, `! open …`, `;open …`), or a name no command word rule expects
    /// (`2fa-vpn`, `@reconnect`, `+x`). Typed at a prompt it runs a program tunwarden does not
    /// know (or fails to), so it may change the tables, as any unknown command may.
    static func isExpandedWord<S: StringProtocol>(_ word: S) -> Bool {
        guard let first = word.first, word.count <= 200 else { return false }
        if "({[:;!".contains(first) { return true }
        if "$`^%@+".contains(first) { return word.count > 1 }
        if word.hasPrefix("\"$") { return true }
        if first.isASCII, first.isNumber, word.contains(where: \.isLetter), isCommandWord("x" + word) { return true }
        return word.count > 2 && word.hasSuffix("()") && word.dropLast(2).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }
    }

    /// A word that could name a command: lowercase ASCII letters, digits, and `-_./`.
    static func isCommandWord<S: StringProtocol>(_ word: S) -> Bool {
        guard let first = word.first, first.isASCII, first.isLowercase || first == "/" || first == "." else { return false }
        return word.count <= 64 && word.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "-_./".contains($0)) }
    }
}
