import Foundation
import TunwardenCore

/// Parsing a command line once its start is known: `sudo` and variables set for the command, the
/// tool's options and their values, redirections, the line's other commands after `;`, `&&` or
/// `||`, and its pipeline, whose `grep` stages become filters that can be followed and whose other
/// stages that change the output are kept as reshaping. The command's words end where the line's
/// grammar ends, so that output glued to it (line breaks lost) stays output; words whose effect on
/// the output is unknown are kept in `unread`, not dropped.
extension ShellCommand {
    /// Options that take a value, by tool (`netstat -f inet`).
    static let valued: [Tool: Set<Character>] = [
        .netstat: ["f", "I", "p", "w", "c"],
        .lsof: ["p", "c", "u", "g", "d", "s", "F", "r", "T", "k", "D", "o", "e"],
        .ps: ["o", "O", "p", "U", "u", "G", "g", "t", "M", "N"],
        .ifconfig: [],
        .route: [],
    ]

    static func parse(_ text: CaptureText, from start: Int, prompted: Bool, anyCommand: Bool = false) -> ShellCommand? {
        var position = start
        var privileged = false
        let line = text.line(start)
        func onLine(_ at: Int) -> Bool { at < text.count && text.line(at) == line }
        /// The words from `position` to the end of the line, which it moves past.
        func restOfLine() -> [String] {
            var rest: [String] = []
            while onLine(position) {
                rest.append(String(text[position]))
                position += 1
            }
            return rest
        }
        // (The command word is read as the shell reads it: `\ifconfig`, `"sudo"`.)
        if commandName(text[position]) == "sudo" {
            privileged = true
            position += 1
            while onLine(position), text[position].hasPrefix("-") { position += 1 }
            guard onLine(position) else { return nil }
        }
        // Variables set for the command (`LC_ALL=C ssh studio`, `TERM=xterm ifconfig -a`).
        // A quoted value may hold blanks (`VPN="Work VPN"; scutil --nc start "$VPN"`); one that
        // ends in `;` was set by a command of its own, and the line's next command follows.
        if prompted, anyCommand {
            while onLine(position), text[position].contains("="), !text[position].hasPrefix("-"), text[position].first?.isLetter == true {
                var assignment = String(text[position])
                while Self.shellWord(assignment) == nil, onLine(position + 1) {
                    position += 1
                    assignment += " " + text[position]
                }
                position += 1
            }
            guard onLine(position) else { return nil }
        }
        let name = commandName(text[position])
        let base = PathText.lastComponent(name)
        guard let tool = tools[base] else {
            // Other commands only after a prompt, and only words that look like one (`clear;`
            // is `clear` and the next command).
            guard prompted, anyCommand else { return nil }
            // A path with blanks in it (`"/Library/Application Support/…/openvpnstart"`,
            // `/Applications/My\ VPN.app/…`) is one word to the shell.
            var last = position
            var joined = String(text[position])
            while Self.shellWord(joined) == nil || joined.hasSuffix("\\"), onLine(last + 1), last - position < 8 {
                last += 1
                joined += " " + text[last]
            }
            let full = last == position ? name : commandName(joined)
            let fullBase = PathText.lastComponent(full)
            let bare = fullBase.count > 1 && fullBase.hasSuffix(";") ? String(fullBase.dropLast()) : fullBase
            guard isCommandWord(bare) || isRunnableWord(full) || isExpandedWord(text[position]) else { return nil }
            position = last
            var command = ShellCommand(tool: .other, name: bare == fullBase ? full : String(full.dropLast()), privileged: privileged, words: start..<(position + 1))
            if bare != fullBase { command.gluedSeparator = ";" }
            position += 1
            // Its arguments run to the end of the line, or to where tool output plainly starts.
            // (A prompt ends them too: a paste that lost its line breaks holds the next command;
            // a `>` that sends output to a file does not.)
            while onLine(position), !CaptureReader.startsOutput(text, at: position), !isPrompt(text[position]) || isRedirect(text, at: position, onLine: onLine),
                  !text[position].hasPrefix("#") {
                command.arguments.append(String(text[position]))
                position += 1
            }
            position = pastComment(text, from: position, onLine: onLine)
            command.words = start..<position
            return command
        }
        position += 1
        var command = ShellCommand(tool: tool, name: name, privileged: privileged, words: start..<position)
        let takesValue = valued[tool] ?? []
        var arguments: [String] = []
        var positional = 0
        var separated = false
        var separator = ";"
        argumentLoop: while onLine(position) {
            var word = String(text[position])
            if word == "|" || word == "|&" || word.hasPrefix("#") { break }
            // `ps aux |head -6`: a pipe glued to the next stage's name ends the arguments too.
            if Self.isPipe(word) { break }
            // `ifconfig -a >if.txt; head if.txt`, `>>if.txt;`, `1>/tmp/if.txt;`: the output went
            // to a file, whatever is glued to the target, and what is shown came after.
            if Self.isOutputRedirect(word) {
                command.unread += unreadAfterRedirect((position..<text.count).prefix { onLine($0) }.map { String(text[$0]) })
                position = (position..<text.count).first { !onLine($0) } ?? text.count
                break
            }
            // `ifconfig -a>if.txt; head if.txt`: a redirection glued to an option sends the output
            // to a file, as one written apart does.
            if word.hasPrefix("-"), let redirect = word.firstIndex(of: ">"), !word[..<redirect].contains(";") {
                if word.distance(from: word.startIndex, to: redirect) > 1 { arguments.append(String(word[..<redirect])) }
                position += 1
                command.unread += unreadAfterRedirect([String(word[redirect...])] + restOfLine())
                break
            }
            if Self.separators.contains(word) { separated = true; separator = word; break }
            // `ifconfig -v en0; ifconfig -v utun4` (and `utun4;ifconfig`): the word before `;` is
            // the last of this command.
            if word.count > 1, let semicolon = word.firstIndex(of: ";") {
                word = String(word[..<semicolon])
                separated = true
                if word.isEmpty { break }
            }
            // `ifconfig 'utun4'`: the shell takes the quotes away.
            if word.count > 2, let first = word.first, first == "'" || first == "\"", word.last == first { word = Self.unquote(word) }
            if word.hasPrefix("-") || word.hasPrefix("+"), word.count > 1, !word.contains(":") {
                arguments.append(word)
                position += 1
                if separated { break }
                // `-nPp 71881`: a valued option last in a cluster takes the next word; so do lsof's
                // `+c 0` (a command name's width), `+r 5` and `-S 5` with their number.
                let lsofNumbered = tool == .lsof && onLine(position) && Int(text[position]) != nil
                    && (["+c", "+r"].contains(word) || (word.first == "-" && word.last == "S"))
                if let letter = word.last, (takesValue.contains(letter) && word.first == "-") || lsofNumbered, onLine(position), text[position] != "|" {
                    var value = String(text[position])
                    position += 1
                    // (`-f inet; ifconfig -a`: the value ends at the `;`.)
                    if value.count > 1, let semicolon = value.firstIndex(of: ";") {
                        value = String(value[..<semicolon])
                        separated = true
                    }
                    arguments.append(value)
                    if separated { break }
                }
                continue
            }
            switch tool {
            case .ifconfig:
                // One interface name, or an address family.
                guard positional == 0, isInterfaceName(word) || ["inet", "inet6", "link", "ether"].contains(word) else { break argumentLoop }
            case .ps:
                // BSD-style letters (`aux`, `auxww`, `-ef` was taken above) only first.
                guard arguments.isEmpty, positional == 0, word.allSatisfy({ "aAcCeEhjlLmMrSTuvwxX".contains($0) }) else { break argumentLoop }
            case .route:
                // `route -n get default`, `route monitor`, `route -n delete -net 0.0.0.0/1 …`
                // (whose words run to the line's end).
                if positional == 0 {
                    guard ["get", "monitor", "show", "print", "delete", "add", "change", "flush"].contains(word) else { break argumentLoop }
                } else if !arguments.contains(where: { ["delete", "add", "change", "flush"].contains($0) }) {
                    guard positional == 1, arguments.last == "get" || arguments.last == "show" else { break argumentLoop }
                }
            case .netstat, .lsof, .other:
                break argumentLoop
            }
            arguments.append(word)
            positional += 1
            position += 1
            if separated { break }
        }
        // (`netstat -nr -f inet:` in prose: the colon ends the sentence, not the family.)
        if !prompted, let last = arguments.last, last.count > 1, last.hasSuffix(":") { arguments[arguments.count - 1] = String(last.dropLast()) }
        command.arguments = arguments
        command.privileged = command.privileged || privileged
        // What makes the words a command rather than a sentence that starts with a tool's name.
        if !prompted {
            let endsLine = !onLine(position)
            switch tool {
            case .netstat: guard command.hasOption("r") || command.hasOption("i") else { return nil }
            case .lsof, .ps: guard !arguments.isEmpty || endsLine else { return nil }
            case .ifconfig: guard !arguments.isEmpty || endsLine else { return nil }
            case .route: guard !arguments.isEmpty else { return nil }
            case .other: return nil
            }
        }
        // The other commands of the line are part of it, not output.
        if separated {
            command.separator = separator
            if onLine(position), Self.separators.contains(String(text[position])) { position += 1 }
            // The rest of a word `utun4;ifconfig` holds the next command's first word.
            if position > start, position - 1 < text.count, text.line(position - 1) == line,
               let semicolon = text[position - 1].firstIndex(of: ";"), text[position - 1][text[position - 1].index(after: semicolon)...].isEmpty == false {
                command.followedBy.append(String(text[position - 1][text[position - 1].index(after: semicolon)...]))
            }
            while onLine(position), !text[position].hasPrefix("#") {
                command.followedBy.append(String(text[position]))
                position += 1
            }
        } else if tool != .other {
            // Words left before the pipeline (or the line's end) that were not read as arguments,
            // up to where output plainly starts (a paste that lost its line breaks), on a line
            // with a prompt or without one (a Markdown fence's first line). Redirections
            // that keep the output (`2>&1`) change nothing; a theme's right prompt (`✔ at
            // 10:15:22`, `took 3s`) ends the line.
            while onLine(position), !Self.isPipe(text[position]), !text[position].hasPrefix("#"), !CaptureReader.startsOutput(text, at: position),
                  !isPrompt(text[position]) || isRedirect(text, at: position, onLine: onLine) {
                let word = text[position]
                let next = onLine(position + 1) ? text[position + 1] : ""
                // (powerlevel10k's context, `user@host`, ends the line when it is shown.)
                if Self.isRightPrompt(word) || ((word == "at" || word == "took") && (Self.isRightPrompt(next) || Self.isDuration(next)))
                    || (!onLine(position + 1) && Self.isUserAtHost(word)) || Self.isRightPromptRun(text, from: position, tool: tool, onLine: onLine) {
                    while onLine(position) {
                        command.rightPrompt.append(String(text[position]))
                        position += 1
                    }
                    break
                }
                // `ifconfig -a > if.txt; head -n 8 if.txt`: the output went to a file, and what is
                // shown is whatever came after.
                if isRedirect(text, at: position, onLine: onLine) {
                    command.unread += unreadAfterRedirect(restOfLine())
                    break
                }
                // (A title's word after a bare line's command, `ifconfig -a output`, is prose.)
                if !["2>&1", "2>/dev/null", "&>/dev/stdout"].contains(word), prompted || !Self.titleWords.contains(word.lowercased()) {
                    command.unread.append(String(word))
                }
                position += 1
            }
        }
        // The pipeline.
        var pipelineSeparated = false
        var savedBy: String?
        var continuedStage = false
        pipeline: while onLine(position), Self.isPipe(text[position]) {
            // (`|head -6`, `|&grep utun`: the stage's name may be glued to the pipe.)
            let glued = text[position].drop { $0 == "|" || $0 == "&" }
            position += 1
            guard glued.isEmpty == false || onLine(position) else {
                continuedStage = true
                break
            }
            var stage = commandName(glued.isEmpty ? text[position] : glued)
            if glued.isEmpty { position += 1 }
            // `| sort; …`: a stage without arguments, and the line's other commands after it.
            if stage.count > 1, stage.hasSuffix(";") {
                stage.removeLast()
                pipelineSeparated = true
            }
            var stageWords: [String] = []
            var quote: Character?
            var startedQuoted = false
            var done = false
            // After grep's `-e` (`--regexp`) comes a pattern, and more `-e` options may follow.
            var patternExpected = false
            let isPattern = ["grep", "egrep", "fgrep", "rg"].contains(stage)
            let optionsOnly = ["head", "tail", "sort", "uniq", "wc", "less", "more", "cat", "column", "pbcopy"].contains(stage)
            let takesProgram = ["awk", "sed", "cut", "tr", "xargs"].contains(stage)
            while onLine(position), !pipelineSeparated {
                var word = String(text[position])
                if quote == nil {
                    if word.hasPrefix("#") { break }
                    // `| grep utun; sleep 30; netstat …`: the other commands of the line follow.
                    if Self.separators.contains(word) {
                        pipelineSeparated = true
                        command.separator = word
                        position += 1
                        break
                    }
                    // `| grep utun_control > ~/lsof-before.txt`: the output went to a file
                    // (whose moment is the line's: see `redirectTargets`).
                    if Self.isOutputRedirect(word) || word == ">" || word == ">>" {
                        command.unread += unreadAfterRedirect(restOfLine())
                        break
                    }
                    if Self.isPipe(word) || done { break }
                    if word.count > 1, word.hasSuffix(";"), !(word.first == "'" || word.first == "\"") || word.dropLast().last == word.first {
                        word.removeLast()
                        pipelineSeparated = true
                    }
                    // These take options (and counts) only; a plain word is output.
                    if optionsOnly, !word.hasPrefix("-"), Int(word) == nil { break }
                }
                stageWords.append(word)
                position += 1
                // Quoted arguments may hold spaces; a quote that never closes ends at the line's end.
                if quote == nil {
                    if let first = word.first, first == "'" || first == "\"", !(word.count > 1 && word.last == first) {
                        quote = first
                        startedQuoted = true
                        continue
                    }
                    startedQuoted = word.first == "'" || word.first == "\""
                } else {
                    guard word.last == quote else { continue }
                    quote = nil
                }
                // A whole argument ends here. After grep's pattern come file names, which a pipe
                // never has, and after a program its input files: what follows is output.
                if isPattern, patternExpected {
                    patternExpected = false
                } else if isPattern, startedQuoted || !word.hasPrefix("-") {
                    done = true
                } else if isPattern, word == "-e" || word == "--regexp" {
                    patternExpected = true
                }
                if takesProgram, startedQuoted { done = true }
                if pipelineSeparated { break }
            }
            let unquoted = Self.joiningQuoted(stageWords).map(unquote)
            switch stage {
            case "grep", "egrep", "fgrep", "rg":
                if let filter = TextFilter.grep(stage == "fgrep" ? ["-F"] + unquoted : unquoted, extended: stage == "egrep" || stage == "rg") {
                    command.filters.append(filter)
                } else {
                    command.reshaping.append(([stage] + stageWords).joined(separator: " "))
                }
            case "tee" where stageWords.contains(where: { Self.isOutputRedirect($0) || $0.hasPrefix(">") && !$0.hasPrefix(">&") }), "pbcopy":
                // `| tee if.txt >/dev/null; head if.txt`, `| pbcopy && pbpaste | head -57`: the
                // output went to a file or the clipboard, and what is shown is whatever the line
                // does next; only `pbpaste` alone shows it back whole.
                savedBy = ([stage] + stageWords).joined(separator: " ")
            case "cat", "tee", "pbpaste":
                // They pass the output on as it is.
                break
            case "less", "more":
                // A pager shows the pages scrolled past, and a pager quit early leaves no mark in
                // what was copied: the listing may be its first page only.
                command.reshaping.append(([stage] + stageWords).joined(separator: " ") + " (a pager: only the pages shown)")
            default:
                command.reshaping.append(([stage] + stageWords).joined(separator: " "))
            }
            if pipelineSeparated {
                while onLine(position), !text[position].hasPrefix("#") {
                    command.followedBy.append(String(text[position]))
                    position += 1
                }
                break pipeline
            }
        }
        // `ps auxww |` with its next stage on the next line (zsh's `pipe> head -6`, bash's `>
        // head -6`), or a line wrapped before its `| grep …` (a mail program's): what that stage
        // did to the listing is not read, so the listing is not taken as whole.
        if tool != .other, continuedStage || (!pipelineSeparated && command.followedBy.isEmpty && position < text.count
                                               && text.line(position) == line + 1 && Self.isPipe(text[position])) {
            command.reshaping.append("… (a stage on the next line)")
        }
        if let savedBy, command.followedBy != ["pbpaste"] || !savedBy.hasPrefix("pbcopy") {
            command.unread.append("| \(savedBy)")
        }
        position = pastComment(text, from: position, onLine: onLine)
        command.words = start..<position
        return command
    }

    /// Words that name a command's output in a title line without a prompt (`ifconfig -a
    /// output`, `netstat -rn result:`), rather than being its arguments.
    static let titleWords: Set<String> = ["output", "output:", "result", "result:", "results", "results:", ":", "-", "—"]

    /// Whether a word starts a pipeline's next stage: `|`, `|&`, or either glued to the stage's
    /// name (`|head`, `|grep`). (`||` runs the next command only if this one fails.)
    static func isPipe<S: StringProtocol>(_ word: S) -> Bool {
        word.hasPrefix("|") && !word.hasPrefix("||")
    }

    /// Whether a word sends standard output to a file, its target glued to it (`>if.txt`,
    /// `>>if.txt;`, `1>/tmp/if.txt`, `&>log`). (A lone `>` may quote a transcript: see
    /// `isRedirect`. `2>…` and `>&2` move other streams.)
    static func isOutputRedirect<S: StringProtocol>(_ word: S) -> Bool {
        var rest = Substring(word)
        if rest.first == "1" || rest.first == "&" { rest = rest.dropFirst() }
        guard rest.hasPrefix(">"), !rest.hasPrefix(">&") else { return false }
        return rest.drop { $0 == ">" }.isEmpty == false && word != "&>/dev/stdout"
    }

    /// Past a comment that ends the command line (`# after the crash`), which is neither the
    /// command's nor output.
    private static func pastComment(_ text: CaptureText, from position: Int, onLine: (Int) -> Bool) -> Int {
        guard onLine(position), text[position].hasPrefix("#") else { return position }
        var end = position
        while onLine(end) { end += 1 }
        return end
    }

    /// The words from a redirection of a command's output to the line's end (`> if.txt; head -20
    /// if.txt`) that leave what is shown of it unknown: none when the line shows the saved file
    /// whole right after (`> if.txt; cat if.txt`, `>if.txt; cat if.txt`), else all of them.
    static func unreadAfterRedirect(_ rest: [String]) -> [String] {
        var words = rest
        var first = Substring(words.removeFirst())
        if first.first == "1" || first.first == "&" { first = first.dropFirst() }
        var target = String(first.drop { $0 == ">" })
        if target.isEmpty, !words.isEmpty { target = words.removeFirst() }
        var separated = false
        if target.hasSuffix(";") {
            target.removeLast()
            separated = true
        } else if let next = words.first, Self.separators.contains(next) {
            words.removeFirst()
            separated = true
        }
        return separated && words == ["cat", target] ? [] : rest
    }
}
