import Foundation

/// A filter a captured listing went through before tunwarden saw it (`| grep -i default`), so
/// that judgements can tell what the listing leaves out from what does not exist. A filter whose
/// pattern cannot be reasoned about, or one that is only known to exist (a `ps` listing without
/// its header), is `opaque`: it may have dropped anything.
public struct TextFilter: Sendable, Equatable, CustomStringConvertible {
    /// Alternatives, any of which shows a line (`grep -E 'a|b'`, `grep -e a -e b`).
    public var patterns: [String]
    public var ignoreCase: Bool
    /// `grep -v`: the patterns name what is left out.
    public var inverted: Bool
    /// `grep -w` / `grep -x`: a pattern must match a whole word / the whole line.
    public var wholeWord: Bool
    public var wholeLine: Bool
    /// The patterns are regular expressions that could not be reduced to plain text.
    public var opaque: Bool
    /// How the filter was written, for messages (`grep -i default`).
    public var text: String

    public init(patterns: [String], ignoreCase: Bool = false, inverted: Bool = false, wholeWord: Bool = false,
                wholeLine: Bool = false, opaque: Bool = false, text: String) {
        self.patterns = patterns
        self.ignoreCase = ignoreCase
        self.inverted = inverted
        self.wholeWord = wholeWord
        self.wholeLine = wholeLine
        self.opaque = opaque
        self.text = text
    }

    /// A filter known only by its effect: the listing lacks what a complete one always has.
    public static func unseen(_ why: String) -> TextFilter {
        TextFilter(patterns: [], opaque: true, text: why)
    }

    public var description: String { text }

    /// Whether every line holding `word` as one of its words certainly passes the filter. False
    /// means "cannot be sure", never "certainly not": the rest of such a line is unknown.
    public func certainlyShows(word: String) -> Bool {
        guard !opaque, !inverted, !wholeLine else { return false }
        let subject = ignoreCase ? word.lowercased() : word
        return patterns.contains { pattern in
            let pattern = ignoreCase ? pattern.lowercased() : pattern
            guard !pattern.isEmpty else { return !wholeWord }
            return wholeWord ? subject == pattern : subject.contains(pattern)
        }
    }

    /// Reads a `grep` invocation's arguments (after the word `grep`); nil when they hold no pattern.
    /// Regular-expression syntax beyond `^`, single-character classes (`[z]erotier`, the trick that
    /// keeps grep from matching itself) and alternation makes the filter opaque.
    public static func grep(_ arguments: [String], extended: Bool = false) -> TextFilter? {
        var patterns: [String] = []
        var ignoreCase = false, inverted = false, wholeWord = false, wholeLine = false, fixed = false, extended = extended
        var position = 0
        var sawPatternOption = false
        while position < arguments.count {
            let argument = arguments[position]
            if argument == "-e" || argument == "--regexp", position + 1 < arguments.count {
                patterns.append(arguments[position + 1])
                sawPatternOption = true
                position += 2
                continue
            }
            // A grep that stops after some matches (`-m1`, `--max-count=1`) cuts what it shows:
            // it is no filter whose output can be followed.
            if argument.hasPrefix("--max-count") || (argument.hasPrefix("-") && !argument.hasPrefix("--") && argument.contains("m")) { return nil }
            if argument.hasPrefix("--") {
                switch argument {
                case "--ignore-case": ignoreCase = true
                case "--invert-match": inverted = true
                case "--word-regexp": wholeWord = true
                case "--line-regexp": wholeLine = true
                case "--fixed-strings": fixed = true
                case "--extended-regexp": extended = true
                default: break
                }
                position += 1
                continue
            }
            if argument.hasPrefix("-"), argument.count > 1 {
                for letter in argument.dropFirst() {
                    switch letter {
                    case "i": ignoreCase = true
                    case "v": inverted = true
                    case "w": wholeWord = true
                    case "x": wholeLine = true
                    case "F": fixed = true
                    case "E": extended = true
                    default: break
                    }
                }
                position += 1
                continue
            }
            if !sawPatternOption { patterns.append(argument) }
            // Anything after the pattern names files, which a pipe does not use.
            break
        }
        guard !patterns.isEmpty else { return nil }
        var plain: [String] = []
        for pattern in patterns {
            if fixed {
                plain += pattern.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                continue
            }
            let alternatives = extended ? pattern.components(separatedBy: "|") : pattern.components(separatedBy: "\\|")
            for alternative in alternatives {
                // An alternative that is a real regular expression shows lines of its own, which
                // takes nothing away from the plain ones.
                if let reduced = plainText(of: alternative) { plain.append(reduced) }
            }
        }
        let text = (["grep"] + arguments).joined(separator: " ")
        return TextFilter(patterns: plain, ignoreCase: ignoreCase, inverted: inverted, wholeWord: wholeWord, wholeLine: wholeLine,
                          opaque: plain.isEmpty, text: text)
    }

    /// The plain text a regular expression stands for, when it stands for exactly one: a leading
    /// `^` is dropped (rows start with the word), `[c]` is the character c, `\.` a dot.
    static func plainText(of pattern: String) -> String? {
        var result = ""
        var characters = Array(pattern)
        if characters.first == "^" { characters.removeFirst() }
        var position = 0
        while position < characters.count {
            let character = characters[position]
            switch character {
            case "[":
                guard position + 2 < characters.count, characters[position + 2] == "]", characters[position + 1] != "^" else { return nil }
                result.append(characters[position + 1])
                position += 3
            case "\\":
                guard position + 1 < characters.count, ".-/".contains(characters[position + 1]) else { return nil }
                result.append(characters[position + 1])
                position += 2
            case ".", "*", "+", "?", "(", ")", "{", "}", "$", "]", "|":
                return nil
            default:
                result.append(character)
                position += 1
            }
        }
        return result
    }
}
