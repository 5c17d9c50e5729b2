import Foundation
import TunwardenCore

/// Commands named in prose rather than typed at a prompt. A line that introduces a Markdown code
/// block and names one listing command in a code span ("Output of `ifconfig -a | head -57`:", a
/// GitHub issue's `<details><summary><code>…</code></summary>`) is read as the command line of
/// the block's output, as a prompt's would be. And a line that is no command line but names a
/// listing's command with a pipeline that may cut it (`I ran ifconfig -a | head -57 and got:`,
/// the prompt of a shell tunwarden does not know) makes the listing after it partial. The safe
/// direction is always partial: a cut listing read as whole calls a live tunnel gone.
extension ShellCommand {
    /// The listing tools a line may name for what follows it.
    static let namedListingTools: Set<Tool> = [.ifconfig, .netstat, .lsof, .ps]

    /// The command the line starting at `position` names for the code block that opens right
    /// after it (see `opensCodeBlock`): the one code span (backticks, Jira's `{{…}}`, `<code>`, or
    /// a `<summary>` of nothing else) of the line that holds a whole listing command, read as it
    /// would be at a prompt; another span of the line that names a command that cuts what it
    /// reads ("piped through `head -57`") is a stage of its pipeline. Nil when the line names none, or several (their outputs may stand in the block
    /// in any order), or when no code block follows it.
    static func introduced(in text: CaptureText, lineAt position: Int) -> ShellCommand? {
        guard text.startsLine(position) else { return nil }
        var last = position
        while last + 1 < text.count, text.line(last + 1) == text.line(position) {
            last += 1
            if last - position > 48 { return nil }
        }
        let words = (position...last).map { String(text[$0]) }
        guard words.contains(where: { $0.contains("`") || $0.contains("<") || $0.contains("{{") }), opensCodeBlock(text, after: last) else { return nil }
        var found: [ShellCommand] = []
        var others: [String] = []
        for span in codeSpans(in: words.joined(separator: " ")) {
            let spanText = CaptureText(file: text.file, text: span)
            guard !spanText.isEmpty, var command = recognize(in: spanText, at: 0), namedListingTools.contains(command.tool),
                  command.words.upperBound == spanText.count, command.followedBy.isEmpty else {
                others.append(span)
                continue
            }
            command.namedLine = line(of: command, in: spanText)
            found.append(command)
        }
        guard found.count == 1, var command = found.first else { return nil }
        command.words = position..<(last + 1)
        command.introduced = true
        // "Here is `ifconfig -a`, piped through `head -57`:": a span of its own that names a
        // command that cuts what it reads is a stage of the named command's pipeline.
        for span in others where Section.cuttingCommands.contains(Section.bareCommandWord(String(span.prefix { $0 != " " }))) {
            command.unread.append("| \(span)")
        }
        // "Output of `ifconfig -a` (output trimmed):": the line says the block was cut.
        let prose = words.joined(separator: " ").replacingOccurrences(of: "(`+)(.+?)\\1|<code>.*?</code>|\\{\\{.*?\\}\\}", with: " ", options: .regularExpression)
        if let note = Section.cutNote(in: prose.split(separator: " ").map(String.init)) { command.unread.append("(\(note))") }
        return command
    }

    /// Whether a Markdown code block opens right after the word at `last`, which ends its line:
    /// past blank lines and lines of HTML markup alone (`</summary>`), within a few lines, comes
    /// a fence of backticks (with an info string, ```` ```console ````, or glued to the block's
    /// first line) or of tildes.
    static func opensCodeBlock(_ text: CaptureText, after last: Int) -> Bool {
        var line = text.line(last)
        var next = last + 1
        for _ in 0..<4 {
            let nextLine = next < text.count ? text.line(next) : line + 9
            guard nextLine - line <= 8 else { return (line + 1...line + 8).contains { text.fenceLines.contains($0) } }
            if (line + 1...nextLine).contains(where: { text.fenceLines.contains($0) }) || text[next].hasPrefix("~~~") { return true }
            // A line of markup alone (`</summary>`, `<br>`, `<details>`) goes on to the next.
            var end = next
            while end < text.count, text.line(end) == nextLine {
                guard isMarkup(text[end]) else { return false }
                end += 1
            }
            (line, next) = (nextLine, end)
        }
        return false
    }

    /// Whether a word is HTML markup alone, one tag or several (`</summary>`, `<details><summary>`).
    static func isMarkup<S: StringProtocol>(_ word: S) -> Bool {
        var rest = Substring(word)
        while rest.first == "<", let close = rest.firstIndex(of: ">") {
            let tag = String(rest.dropFirst().drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }).lowercased()
            guard Section.markupTags.contains(tag) else { return false }
            rest = rest[rest.index(after: close)...]
        }
        return rest.isEmpty && !word.isEmpty
    }

    /// The code spans of a line of Markdown, Jira or HTML, each once: between backticks (one or
    /// more), in Jira's `{{…}}`, in `<code>`, and a `<summary>` with its inner tags taken away;
    /// HTML's entities read.
    static func codeSpans(in line: String) -> [String] {
        var spans: [String] = []
        let patterns = [("(`+)(.+?)\\1", 2), ("\\{\\{(.+?)\\}\\}", 1), ("<code>(.*?)</code>", 1), ("<summary>(.*?)</summary>", 1)]
        for (pattern, group) in patterns {
            guard let expression = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { continue }
            for match in expression.matches(in: line, range: NSRange(line.startIndex..., in: line)) {
                guard let range = Range(match.range(at: group), in: line) else { continue }
                var span = String(line[range]).replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression)
                for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&#124;", "|"), ("&vert;", "|"), ("&amp;", "&")] {
                    span = span.replacingOccurrences(of: entity, with: character)
                }
                span = span.trimmingCharacters(in: .whitespaces)
                if !span.isEmpty, !spans.contains(span) { spans.append(span) }
            }
        }
        return spans
    }
}

extension Section {
    /// Words with which a line that introduces a listing says it was cut ("(output trimmed)",
    /// "(first 57 lines)", "Relevant part of", "excerpt", "(...)"), beside `removalWords`.
    static let cutNoteWords: Set<String> = ["partial", "excerpt", "shortened", "abridged", "relevant", "part", "snippet", "beginning",
                                            "top", "first", "only", "parts", "portion", "extract", "selected"]

    /// The word with which a line says the listing it introduces was cut, or nil.
    static func cutNote(in words: [String]) -> String? {
        for written in words {
            // (Without HTML tags: `(truncated)</summary>`.)
            let word = written.contains("<") ? written.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression) : written
            let letters = word.lowercased().filter(\.isLetter)
            if removalWords.contains(letters) || cutNoteWords.contains(letters) { return word }
            if word.contains("...") || word.contains("…") { return word }
        }
        return nil
    }

    /// The listing tool a line of prose names with a note that it was cut ("Output of ifconfig
    /// -a (output trimmed):", "ifconfig -a, rest omitted:"): the tool, and the line's words up to
    /// the note. A listing after such a line is partial.
    func namedCutNote(onLineOf position: Int) -> (tool: ShellCommand.Tool, words: String)? {
        let words = text.lineWords(at: position, within: range, limit: 48)
        guard let tool = words.lazy.compactMap({ ShellCommand.tools[Self.bareCommandWord($0)] }).first(where: { ShellCommand.namedListingTools.contains($0) }),
              let note = Self.cutNote(in: words) else { return nil }
        return (tool, words.prefix(12).joined(separator: " ") + (words.count > 12 ? " …" : "") + " ('\(note)')")
    }

    /// The listing command the line at `position` names with a pipeline that may cut or filter
    /// its output (`ifconfig -a | head -57`, `"netstat -rn|grep utun"`, `<code>ps aux | grep
    /// zero</code>`), for a line that is no command line: the tool, and the words from its name to
    /// the pipeline's stage. A stage that passes the output on whole (`cat`, `tee`, `pbcopy`)
    /// cuts nothing. A listing fed through a substitution to a command that cuts what it reads
    /// (`head -57 <<< "$(ifconfig -a)"`, `head -57 < <(ifconfig -a)`), or followed by a code span
    /// of its own that names such a command ("`ifconfig -a`, piped through `head -57`"), is named
    /// cut too.
    func namedCut(onLineOf position: Int) -> (tool: ShellCommand.Tool, words: String)? {
        var at = text.lineStart(of: position, notBefore: range.lowerBound)
        var tokens: [String] = []
        while at < range.upperBound, text.line(at) == text.line(position), tokens.count < 96 {
            // (A pipe glued to its neighbours, `-a|head`, is a word of its own.)
            let word = String(text[at])
            if word == "|" || word == "|&" || !word.contains("|") {
                tokens.append(word)
            } else {
                for (offset, part) in word.split(separator: "|", omittingEmptySubsequences: false).enumerated() {
                    if offset > 0 { tokens.append("|") }
                    if !part.isEmpty { tokens.append(String(part)) }
                }
            }
            at += 1
        }
        for (index, token) in tokens.enumerated() {
            guard let tool = ShellCommand.tools[Self.bareCommandWord(token)], ShellCommand.namedListingTools.contains(tool) else { continue }
            // `head -57 <<< "$(ifconfig -a)"`, `head -57 < <(ifconfig -a)`: a command that cuts
            // what it reads, fed the listing by a substitution.
            if token.contains("$(") || token.contains("<("),
               let cutter = tokens[..<index].firstIndex(where: { Self.cuttingCommands.contains(Self.bareCommandWord($0)) }) {
                return (tool, tokens[cutter...index].joined(separator: " "))
            }
            // "I ran `ifconfig -a`, piped through `head -57`": a code span of its own that names a
            // command that cuts what it reads.
            if let span = tokens[(index + 1)...].prefix(12).first(where: { word in
                (word.hasPrefix("`") || word.hasPrefix("{{") || word.lowercased().hasPrefix("<code>")) && Self.cuttingCommands.contains(Self.bareCommandWord(word))
            }) {
                return (tool, "\(Self.bareCommandWord(token)) … \(Self.bareCommandWord(span))")
            }
            guard let pipe = tokens[(index + 1)...].prefix(12).firstIndex(where: { $0 == "|" || $0 == "|&" }), pipe + 1 < tokens.count else { continue }
            let stage = Self.bareCommandWord(tokens[pipe + 1])
            guard ShellCommand.isCommandWord(stage), !["cat", "tee", "pbcopy"].contains(stage) else { continue }
            return (tool, tokens[index...(pipe + 1)].map(Self.bareCommandWord).joined(separator: " "))
        }
        return nil
    }

    /// A word of prose as the command word it may name: without HTML tags, the Markdown (Jira's
    /// `{{…}}` too) and quotes around it, a command or process substitution it opens (`"$(ifconfig`,
    /// `<(ifconfig`), and a path (`<code>ifconfig`, `` `ifconfig ``, `"\ifconfig`, `/sbin/ifconfig`, `{{ifconfig`);
    /// written as the shell reads it (`$'ifconfig'`, zsh's `=ifconfig`).
    static func bareCommandWord(_ word: String) -> String {
        var bare = word.contains("<") ? word.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression) : word
        let leading = CharacterSet(charactersIn: "`*_(\"'[“‘{")
        bare = bare.trimmingCharacters(in: leading)
        while let opener = ["$(", "<(", ">("].first(where: { bare.hasPrefix($0) }) {
            bare = String(bare.dropFirst(opener.count)).trimmingCharacters(in: leading)
        }
        let asTyped = PathText.lastComponent(ShellCommand.commandName(bare))
        if ShellCommand.tools[asTyped] != nil { return asTyped }
        bare = bare.trimmingCharacters(in: CharacterSet(charactersIn: "`*_),.:;\"']”’!?}"))
        return PathText.lastComponent(ShellCommand.commandName(bare))
    }
}
