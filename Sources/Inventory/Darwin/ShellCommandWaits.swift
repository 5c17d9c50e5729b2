import Foundation

/// How long a command lets pass: the waits in which other programs may change the tables while
/// nothing is typed (a VPN that reconnects meanwhile moves to another utun), and the options
/// that bound them.
extension ShellCommand {
    /// Whether one command waits, or runs until it is interrupted, so that time passes in which
    /// other programs may change the tables (a VPN that reconnects meanwhile moves to another
    /// utun): `sleep`, `tcpdump`, `route monitor`, `top` and `nettop` beyond a few samples, `tail -f`,
    /// `log stream`, `caffeinate`; programs that wait on a person (`read`, an editor, `man`) or
    /// on the network (`traceroute`, `mtr`, `curl`, `wget`, `nc`, `scp`, `git clone`) or on the
    /// disk (`log collect`); and `ping` for longer than
    /// `shortWait` (see `pingDuration`). `curl -m 3` (also `-sm 3`, `-sSm3`) and `nc -z -w 2`
    /// are bounded by their own limits. Name lookups (`dig`, `host`) are over in moments when the
    /// network answers, and are not counted. (A pager waits too, but only after it has shown its
    /// output: see `waitsAfterItsOutput`.)
    static func passesTime(_ program: String, _ arguments: [String]) -> Bool {
        switch program {
        case "sleep", "tcpdump", "caffeinate", "mtr", "wait", "read", "man", "traceroute", "traceroute6", "wget",
             "vim", "vi", "nvim", "view", "nano", "pico", "emacs", "mg", "ed":
            return true
        case "route": return arguments.contains("monitor")
        case "ping", "ping6": return pingDuration(arguments).map { $0 > shortWait } ?? true
        case "curl":
            // `-m 120`, `-m120`, `-sm 3`, `-sSm3`, `--max-time 120`, `--max-time=120`: the longest it may take.
            let limit = shortOptions(arguments, valued: curlValued).values["m"].flatMap { Double($0) }
                ?? arguments.firstIndex { $0 == "--max-time" }.flatMap { $0 + 1 < arguments.count ? Double(arguments[$0 + 1]) : nil }
                ?? arguments.first { $0.hasPrefix("--max-time=") }.flatMap { Double($0.dropFirst("--max-time=".count)) }
            return limit.map { $0 > shortWait } ?? true
        case "nc", "ncat":
            // A probe of one port (`nc -z -G 2 -w 2 host 7890`) is over once it connects or its
            // connect timeout (`-G`, or `-w`) passes; a connection (`nc -w 2 host 22`) closes once
            // idle for `-w`'s seconds. Listening (`-l`), several ports, or no timeout wait.
            let (options, operands) = shortOptions(arguments, valued: ncValued)
            if options["l"] != nil || operands.count > 2 || operands.contains(where: { $0.contains("-") && $0.allSatisfy { $0.isNumber || $0 == "-" } }) { return true }
            let limits = (options["z"] != nil ? [options["w"], options["G"]] : [options["w"]]).compactMap { $0.flatMap { Double($0) } }
            return limits.min().map { $0 > shortWait } ?? true
        // `top -l 60 -s 10` logs 60 samples ten seconds apart (ten minutes); `-l 0` never stops.
        // nettop's `-L n` logs n samples as CSV and exits, as `-l n` does. Without a count
        // both run until they are quit.
        case "top", "nettop":
            let counts: [Character] = program == "top" ? ["l"] : ["l", "L"]
            guard let samples = counts.lazy.compactMap({ optionValue(arguments, $0) }).first.flatMap({ Double($0) }) else { return true }
            let interval = optionValue(arguments, "s").flatMap { Double($0) } ?? 1
            return samples == 0 || (samples - 1) * interval > shortWait
        // A transfer or a fetch lasts as long as the network takes, as `curl` without `-m` does.
        case "scp", "rsync": return true
        case "git": return arguments.contains { ["clone", "fetch", "pull", "push"].contains($0) }
        case "tail": return arguments.contains { $0.hasPrefix("-") && !$0.hasPrefix("--") && ($0.contains("f") || $0.contains("F")) }
        // `log collect` gathers the whole log archive, which takes minutes.
        case "log": return arguments.first == "stream" || arguments.first == "collect"
        default: return false
        }
    }

    /// The value of a short option written alone (`-l 60`, `-l60`), as top and nettop take
    /// theirs; nil when it is not given.
    static func optionValue(_ arguments: [String], _ letter: Character) -> String? {
        for (position, argument) in arguments.enumerated() where argument.hasPrefix("-\(letter)") {
            if argument.count > 2 { return String(argument.dropFirst(2)) }
            return position + 1 < arguments.count ? arguments[position + 1] : nil
        }
        return nil
    }

    /// The longest a command may run and still leave the listings before and after it one
    /// moment, in seconds: about what `ping -c 5` takes. Longer, and a tunnel that dropped may
    /// have come back on another utun meanwhile.
    static let shortWait = 5.0

    /// How long `ping` runs, in seconds, as its options set it: the count times the interval
    /// (`-c 5 -i 60` is five minutes), and the wait for the last reply that `-W` asks for, at
    /// most the `-t` timeout. Nil when it runs until it is interrupted (no `-c` and no `-t`).
    /// (The wait of its own that only an unanswered last packet adds is not counted: `ping -c 3`
    /// is taken as the three seconds it takes when the network answers.)
    static func pingDuration(_ arguments: [String]) -> Double? {
        let values = shortOptions(arguments, valued: pingValued).values.compactMapValues { Double($0) }
        let timeout = values["t"]
        guard let count = values["c"] else { return timeout }
        let duration = count * (values["i"] ?? 1) + (values["W"] ?? 0) / 1000
        return timeout.map { min($0, duration) } ?? duration
    }

    /// The options of macOS `ping` and `ping6` that take a value.
    static let pingValued: Set<Character> = ["b", "B", "c", "g", "G", "h", "i", "k", "K", "l", "m", "M", "p", "P", "s", "S", "t", "W", "z"]

    /// The options of macOS `nc` (and of `ncat`, where they agree) that take a value.
    static let ncValued: Set<Character> = ["b", "G", "H", "I", "i", "J", "K", "L", "M", "m", "O", "P", "p", "s", "T", "V", "w", "X", "x"]

    /// The options of `curl` that take a value (`-m 3`, `-o out.html`, `-H 'Accept: */*'`).
    static let curlValued: Set<Character> = ["A", "b", "c", "C", "d", "D", "e", "E", "F", "H", "K", "m", "o", "P", "Q", "r", "T", "t", "u",
                                             "U", "w", "x", "X", "y", "Y", "z"]

    /// A command's short options, read as getopt reads them, and the words that are none of
    /// them (its operands: hosts, ports, files). Letters may be clustered (`-qc3`, `-nc 3`, `curl
    /// -sSm3`, `curl -sm 3`); a letter in `valued` takes the rest of its word as its value, or the
    /// next word when it ends the word. A flag's value is empty; a letter given twice keeps its
    /// last value.
    static func shortOptions(_ arguments: [String], valued: Set<Character>) -> (values: [Character: String], operands: [String]) {
        var values: [Character: String] = [:]
        var operands: [String] = []
        var position = arguments.startIndex
        while position < arguments.endIndex {
            let word = arguments[position]
            position += 1
            guard word.hasPrefix("-"), !word.hasPrefix("--"), word.count > 1 else {
                if !word.hasPrefix("--") { operands.append(word) }
                continue
            }
            var letters = word.dropFirst()
            while let letter = letters.first {
                letters = letters.dropFirst()
                guard valued.contains(letter) else {
                    values[letter] = ""
                    continue
                }
                var value = String(letters)
                if value.isEmpty, position < arguments.endIndex {
                    value = arguments[position]
                    position += 1
                }
                values[letter] = value
                break
            }
        }
        return (values, operands)
    }
}
