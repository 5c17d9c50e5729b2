import Foundation
import TunwardenCore

/// Telling a command line's commands apart, as the shell does: where one ends (`;`, `&&`, `||`,
/// `&`, a pipe, outside quotes), which program each runs past what runs it (`sudo`, `env`,
/// variables, a loop's keywords), and the line's words from the command on.
extension ShellCommand {
    /// The commands of a line, in order: split at `;`, `&&`, `||`, `&` and pipes, not inside
    /// quotes (`awk '{print $1; print $2}'`), up to a comment. With `keepingPipes`, a command a pipe feeds starts
    /// with `|`.
    static func segments(line words: [String], keepingPipes: Bool = false) -> [[String]] {
        var result: [[String]] = []
        var segment: [String] = []
        var quote: Character?
        func close() {
            if !segment.isEmpty { result.append(segment) }
            segment = []
        }
        for word in words.flatMap(splitAfterQuote) {
            // A comment runs to the line's end (`netstat -rn   # after the crash`).
            if quote == nil, word.hasPrefix("#") { break }
            // A quoted word may end in separators glued to it (`'utun';`, `'x'&&`, `'x'|head`),
            // which the shell splits off: the quote ends first.
            var bare = Substring(word)
            // (By index: `count` and `dropLast()` walk the whole word, which made a hostile one of
            // 50,000 `)` quadratic.)
            while bare.dropFirst().first != nil, let last = bare.last, ";&|)".contains(last) { bare = bare[..<bare.index(before: bare.endIndex)] }
            let quoted = bare.last.map { $0 == "'" || $0 == "\"" } ?? false
            if !quoted { bare = Substring(word) }
            let trailing = word.dropFirst(bare.count)
            func closeAfterQuote() {
                guard !trailing.isEmpty else { return }
                close()
                if trailing.contains("|"), keepingPipes { segment.append("|") }
            }
            if let open = quote {
                guard bare.last == open else {
                    segment.append(word)
                    continue
                }
                quote = nil
                segment.append(String(bare))
                closeAfterQuote()
                continue
            }
            if let first = bare.first, first == "'" || first == "\"" {
                if bare.count > 1, bare.last == first {
                    // Quoted whole (`';'`, `'a;b'`): one word, whatever it holds.
                    segment.append(String(bare))
                    closeAfterQuote()
                } else {
                    quote = first
                    segment.append(word)
                }
                continue
            }
            if word == "|" || word == "|&" {
                close()
                if keepingPipes { segment.append("|") }
                continue
            }
            if separators.contains(word) {
                close()
                continue
            }
            let parts = word.count > 1 && word.contains(";") ? word.split(separator: ";", omittingEmptySubsequences: false).map(String.init) : [word]
            for (offset, part) in parts.enumerated() {
                if offset > 0 { close() }
                if !part.isEmpty { segment.append(part) }
            }
        }
        close()
        return result
    }

    /// A word a closing quote ends before separators and more (`'x'|xargs`, `'a'&&b`), as the
    /// shell splits it: the quoted part, the separators, and the rest.
    static func splitAfterQuote(_ word: String) -> [String] {
        // (A loop, not a call per quoted part: a hostile word of thousands of `'a';` must not
        // nest as deep.)
        var parts: [String] = []
        var word = Substring(word)
        while let quote = word.first, quote == "'" || quote == "\"",
              let closing = word.dropFirst().firstIndex(of: quote) {
            var rest = word[word.index(after: closing)...]
            var separators = ""
            while let next = rest.first, ";&|".contains(next) {
                separators.append(next)
                rest = rest.dropFirst()
            }
            guard !separators.isEmpty, !rest.isEmpty else { break }
            parts += [String(word[...closing]), separators]
            word = rest
        }
        return parts + [String(word)]
    }

    /// The program one command runs (no separators in `words`) and the words after it, past
    /// what runs it rather than being it: a pipe that feeds it, sudo with its options, `env`,
    /// variables set for it (`LC_ALL=C`), shell keywords of a loop or a group. Nil when nothing
    /// is left.
    static func program(of words: [String]) -> (name: String, arguments: ArraySlice<String>)? {
        var rest = words[...]
        while let first = rest.first {
            let bare = commandName(first.trimmingCharacters(in: CharacterSet(charactersIn: "({")))
            if bare.isEmpty || ["|", "sudo", "env", "time", "nohup", "exec", "command", "builtin", "then", "do", "else", "!"].contains(bare)
                || (bare.hasPrefix("-") && rest.startIndex != words.startIndex) || (bare.contains("=") && !bare.hasPrefix("-")) {
                rest = rest.dropFirst()
                // sudo's options that take a value (`sudo -u alice netstat -rn`).
                if ["-u", "-g", "-h", "-p", "-C", "-U", "-r", "-t"].contains(bare), rest.startIndex != words.startIndex { rest = rest.dropFirst() }
                continue
            }
            break
        }
        guard let first = rest.first else { return nil }
        return (PathText.lastComponent(commandName(first.trimmingCharacters(in: CharacterSet(charactersIn: "({")))), rest.dropFirst())
    }

    /// The words of `command`'s line from its command word on (past a prompt) to its last: the
    /// commands after `;`, `&&` or `|` with it, never output (a paste that lost its line breaks
    /// has its output on the same line).
    static func line(of command: ShellCommand, in text: CaptureText) -> [String] {
        if let named = command.namedLine { return named }
        var position = command.words.lowerBound
        while position < command.words.upperBound {
            let word = commandName(text[position])
            if word == command.name || word == command.name + ";" || word == "sudo" { break }
            position += 1
        }
        if position >= command.words.upperBound { position = command.words.lowerBound }
        return (position..<command.words.upperBound).map { String(text[$0]) }
    }
}
