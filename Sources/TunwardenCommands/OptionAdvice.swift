import ArgumentParser

/// Errors about options said the way a person meant them. Argument-parser answers
/// `tunwarden --dry-run reap` with "Unknown option '--dry-run'", though reap has it; `audit --json`
/// with "Did you mean '--warn'?"; and `reap --dryrun --no-state` with the complaint of reap's own
/// check that --no-state needs --dry-run, never naming the typo. Each option written is asked of
/// the command it was given to (and of the others), by parsing it alone after that command's
/// name: the first one no command knows, or one placed before the command it belongs to, is what
/// the error names.
extension Tunwarden {
    /// The error to give instead of `error` for `arguments`, or nil to give `error` as it is.
    static func optionAdvice(for error: any Error, in arguments: [String]) -> String? {
        let options = Array(arguments.prefix { $0 != "--" })
        guard let commandPosition = options.firstIndex(where: commandNames.contains) else { return nil }
        let command = options[commandPosition]
        for (position, word) in options.enumerated() where word.hasPrefix("--") && word.count > 2 {
            // (A value of the option before it, as in `--alert-exec --x`, is not an option.)
            if position > 0, takesValue(options[position - 1], of: command) { continue }
            let name = String(word.prefix { $0 != "=" })
            if name == "--json" && knows(command, "--format") {
                return "there is no --json option: give --format json (as in `tunwarden \(command) --format json`)"
            }
            if let unknown = unknownOption(name, of: command) {
                // Known to other commands: said where it belongs.
                let owners = commandNames.filter { $0 != command && knows($0, name) }
                if let owner = owners.first {
                    let list = owners.count == 1 ? owner : owners.dropLast().joined(separator: ", ") + " and " + owners.last!
                    return "\(name) is an option of \(list), not of \(command) (as in `tunwarden \(owner) \(name)`)"
                }
                return unknown
            }
            if position < commandPosition, !knows(nil, name) {
                return "\(name) is an option of \(command): give it after the command name (as in `tunwarden \(command) \(word)`)"
            }
        }
        return nil
    }

    /// Argument-parser's error for `option` written alone after `command`, when it is one the
    /// command does not know ("Unknown option '--dryrun'. Did you mean '--dry-run'?"); nil when
    /// it knows it.
    private static func unknownOption(_ option: String, of command: String) -> String? {
        guard !knows(command, option) else { return nil }
        let text = parseMessage([command, option])
        return text.hasPrefix("Unknown option") ? text : "Unknown option '\(option)'"
    }

    /// An option no command has, against which the answers for others are compared.
    private static let noSuchOption = "--tunwarden-has-no-such-option"

    /// Whether `command` (nil: tunwarden itself, before any command name) knows `option`: asked
    /// alone, and before an argument (a command that takes one, as snapshot its directory, may
    /// first complain that it is missing), it is answered otherwise than an option no command has.
    private static func knows(_ command: String?, _ option: String) -> Bool {
        let head = command.map { [$0] } ?? []
        let tails: [[String]] = command == nil ? [["audit"]] : [[], ["tunwarden-probe"]]
        return tails.contains { tail in
            let answer = parseMessage(head + [option] + tail)
            guard !answer.hasPrefix("Unknown option") else { return false }
            return answer != parseMessage(head + [noSuchOption] + tail).replacingOccurrences(of: noSuchOption, with: option)
        }
    }

    /// Whether `option` is one of `command`'s that take a value, so that the word after it is
    /// that value.
    private static func takesValue(_ option: String, of command: String) -> Bool {
        guard option.hasPrefix("-"), !option.contains("=") else { return false }
        return parseMessage([command, option]).hasPrefix("Missing value")
    }

    /// The message parsing `arguments` ends with; empty when they parse.
    private static func parseMessage(_ arguments: [String]) -> String {
        do {
            _ = try parseAsRoot(arguments)
            return ""
        } catch {
            return message(for: error)
        }
    }
}
