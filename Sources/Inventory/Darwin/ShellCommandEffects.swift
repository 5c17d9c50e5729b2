import Foundation
import TunwardenCore

/// What running a command line in a transcript may have done to the tables the listings show.
extension ShellCommand {
    /// Whether a command line may have changed interfaces or routes, so that listings before and
    /// after it show different moments: a VPN or app started or stopped (`wg-quick up`, `open -a`,
    /// `openvpn --daemon`), a route added or deleted, an interface configured, or time let pass
    /// in which anything else may have done so (see `passesTime`). `words` are the
    /// line's words from the command's own on, to the end of the line: every command of it counts,
    /// after `;`, `&&`, `||`, `&` or in a pipeline (`| xargs sudo route delete`). Only the tools
    /// that read (the listings' own, `route get`, text tools, name lookups, DNS cache flushes)
    /// change nothing; anything unknown may have.
    static func mayChangeTables(line words: [String]) -> Bool {
        mayChangeTables(line: words, depth: 0)
    }

    /// How deep `mayChangeTables` follows commands substituted into commands (`echo "$(echo
    /// "$(open -a Tunnelblick)")"`) or run by `su -c`: deeper is words tunwarden cannot follow,
    /// which may change the tables. (Without a bound, a hostile line of thousands of nested
    /// `$(` overflowed the stack, and each level re-read the rest of the line.)
    static let substitutionDepthLimit = 4

    static func mayChangeTables(line words: [String], depth: Int) -> Bool {
        guard depth <= substitutionDepthLimit else { return true }
        return segments(line: words).contains { segmentMayChange($0, depth: depth) }
    }

    /// Whether a command line runs a command that may change the tables after one that lists
    /// them (`ifconfig -a && open -a ClashX && netstat -rn`, `ifconfig -a && open -a Tailscale`):
    /// the output that follows is then of more than one moment, with nothing to tell where one
    /// ends. Changes before every listing of the line (`sudo route delete … && netstat -rn`) only
    /// start the moment its output is of.
    static func changesBetweenItsCommands(line words: [String]) -> Bool {
        let parts = segments(line: words)
        guard let firstListing = parts.firstIndex(where: isListing) else { return false }
        return parts[(firstListing + 1)...].contains { segmentMayChange($0) }
    }

    /// Whether a line runs its commands again and again, so that its output spans moments with
    /// nothing to tell where one ends: a loop (`while true; do netstat -rn | grep utun; sleep 5;
    /// done`, `for i in lo0 en0; do ifconfig $i; done`, also the first line of one typed over
    /// several), zsh's `repeat 3 …`, or `watch`.
    static func repeats(line words: [String]) -> Bool {
        segments(line: words).contains { segment in
            guard let name = program(of: segment)?.name else { return false }
            return loopKeywords.contains(name) || name == "watch"
        }
    }

    /// The shell words that start a loop.
    static let loopKeywords: Set<String> = ["for", "while", "until", "select", "repeat"]

    /// Whether a line opens a loop it does not close (`for i in lo0 en0 utun3` typed alone, its
    /// body and `done` on the continuation lines that follow).
    static func opensLoop(line words: [String]) -> Bool {
        let parts = segments(line: words)
        let opened = parts.filter { program(of: $0).map { loopKeywords.contains($0.name) && $0.name != "repeat" } ?? false }.count
        let closed = parts.filter { $0.first == "done" }.count
        return opened > closed
    }

    /// Whether a line waits on a person after it has shown its output: a pager whose output goes
    /// to the terminal (`less if.txt`, `ifconfig -a | less`, `more`, `bat` unless told not to
    /// page). What it showed is of the moment it started; what follows it, of a later one.
    static func waitsAfterItsOutput(line words: [String]) -> Bool {
        let parts = segments(line: words, keepingPipes: true)
        return parts.indices.contains { index in
            guard let (program, arguments) = program(of: parts[index]), pagers.contains(program) else { return false }
            // (Its output piped on or saved, a pager only passes it on.)
            if index + 1 < parts.count, parts[index + 1].first == "|" { return false }
            if arguments.contains(where: { $0.hasPrefix(">") || $0.hasPrefix("1>") }) { return false }
            // `bat -pp`, `bat -P`, `bat --paging=never` print without paging.
            return program != "bat" || !arguments.contains { $0 == "-pp" || $0 == "-P" || $0 == "--paging=never" || $0 == "--pager=never" }
        }
    }

    /// Programs that page what they show, and wait for a person to quit.
    static let pagers: Set<String> = ["less", "more", "most", "bat"]

    /// Whether a command is one of the listings tunwarden reads.
    static func isListing(_ segment: [String]) -> Bool {
        guard let program = program(of: segment)?.name, let tool = Tool(rawValue: program) else { return false }
        return tool != .other && !segmentMayChange(segment)
    }

    /// Whether a line lists every interface with one plain `ifconfig` (`-a`, `-v`, `-L`: no name,
    /// no family, no `-d`, `-u` or `-l`) whose output goes to the terminal, after commands that
    /// print no interface blocks and change nothing (see `printsNoInterfaceBlocks`): `date;
    /// ifconfig -a`, `clear; ifconfig -a; netstat -rn`, `cd ~ && ifconfig`, `netstat -rn &&
    /// ifconfig`, `ping -c 1 1.1.1.1; ifconfig -a`, `route -n get default; ifconfig -a`, `command
    /// ifconfig -a`, `time ifconfig -a`. Its blocks are then all of them, as under a line that
    /// starts with it. A loop's (`for i in lo0 en0; do
    /// ifconfig $i; done`), one fed names (`xargs ifconfig`), or a second ifconfig on the line
    /// show only the blocks chosen.
    static func listsEveryInterface(line words: [String]) -> Bool {
        let parts = segments(line: words, keepingPipes: true)
        let listings = parts.indices.filter { program(of: parts[$0])?.name == "ifconfig" }
        guard listings.count == 1, let index = listings.first, parts[index].first != "|",
              index + 1 == parts.count || parts[index + 1].first != "|",
              let (_, arguments) = program(of: parts[index]) else { return false }
        // (An option with a redirection glued to it, `-a>if.txt` or `-a>>if.txt`, sends the
        // output to a file: what is shown after is whatever showed that file.)
        let plain = arguments.allSatisfy { argument in
            ["2>&1", "2>/dev/null"].contains(argument)
                || (argument.hasPrefix("-") && !argument.hasPrefix("--") && argument.count > 1 && !argument.contains { "dul<>&|".contains($0) })
        }
        guard plain else { return false }
        return parts[..<index].allSatisfy { segment in
            guard let (program, _) = program(of: segment), !segmentMayChange(segment) else { return false }
            // (A stage a listing of another tool pipes into prints that listing's rows.)
            if segment.first == "|" { return readingPrograms.contains(program) }
            return printsNoInterfaceBlocks(program)
        }
    }

    /// Whether a command that changes nothing and lets no time pass (see `segmentMayChange`)
    /// prints no interface blocks, whatever its arguments: the system's own reports (`sw_vers`,
    /// `scutil --nwi`, `route get`, `networksetup -listallhardwareports`), a short `ping`, the
    /// other listings. Those that show what a file or a download holds (`cat if.txt`, `head`,
    /// `grep`, `pbpaste`, `curl`) may print a saved listing's blocks, and programs that run on
    /// another machine print that machine's. A shell started or left (`su`, `exit`) runs what
    /// follows it in another session.
    static func printsNoInterfaceBlocks(_ program: String) -> Bool {
        !showsContents.contains(program) && !remotePrograms.contains(program) && !["su", "exit", "logout"].contains(program)
    }

    /// Reading programs that print what a file, the clipboard, a repository or a download holds.
    static let showsContents: Set<String> = ["cat", "bat", "less", "more", "most", "head", "tail", "grep", "egrep", "fgrep", "rg", "awk",
                                             "sed", "sort", "uniq", "cut", "tr", "tee", "pbpaste", "git", "curl", "wget", "nc", "ncat"]

    /// The listing tools a line pipes on after another of its commands (`clear; ifconfig |
    /// head -40`, `netstat -rn; ifconfig | head -20`): read as part of the line's output, such a
    /// listing would pass for whole. (The line's own first command is read with its pipeline.)
    /// (An lsof piped only into a grep that keeps every holder row is read as its own command
    /// line: see `holderListing(line:)`.)
    static func listingsPipedOn(line words: [String]) -> Set<Tool> {
        let parts = segments(line: words, keepingPipes: true)
        var tools: Set<Tool> = []
        for (offset, segment) in parts.enumerated() where offset + 1 < parts.count && parts[offset + 1].first == "|" {
            // (The first command's pipeline is read with it, unless a word that runs it comes
            // first, where that reading stops: `command ps auxww | head -6`, `env ps …`, `time ps …`.)
            if offset == 0, !runsWrapped(segment) { continue }
            if let program = program(of: segment)?.name, let tool = Tool(rawValue: program), tool != .other { tools.insert(tool) }
        }
        // `{ ps auxww; } | head -6`, `(ps auxww) | head -6`: a group or subshell piped on pipes
        // on every listing in it.
        if parts.contains(where: { $0.first == "|" }), words.contains(where: { $0.hasPrefix("{") || $0.hasPrefix("(") }) {
            for segment in parts {
                if let program = program(of: segment)?.name, let tool = Tool(rawValue: program), tool != .other { tools.insert(tool) }
            }
        }
        // `echo "$(ps auxww)" | head -6`: a listing substituted into another command's words is
        // printed by that command, its lines joined or cut as that command and the line do.
        if let inner = substitutedCommand(words[...]), let program = program(of: inner)?.name, let tool = Tool(rawValue: program), tool != .other {
            tools.insert(tool)
        }
        if tools.contains(.lsof), holderListing(line: words) != nil { tools.remove(.lsof) }
        return tools
    }

    /// Whether a command's first word is not its program's, past `sudo` with its options and
    /// variables set for it (which the reading of a command line takes in): a word that runs the
    /// program (`command`, `env`, `time`, `nice`) comes first.
    static func runsWrapped(_ segment: [String]) -> Bool {
        guard let program = program(of: segment)?.name else { return false }
        var rest = segment[...]
        if let first = rest.first, commandName(first) == "sudo" {
            rest = rest.dropFirst().drop { $0.hasPrefix("-") }
        }
        rest = rest.drop { $0.contains("=") && !$0.hasPrefix("-") && $0.first?.isLetter == true }
        guard let first = rest.first else { return false }
        return PathText.lastComponent(commandName(first)) != program
    }

    /// The lsof a line runs after its first command (`ifconfig -a; sudo lsof -nP | grep
    /// utun_control`), read as it would be on a line of its own, when its output can be told
    /// from the rest of the line's: lsof is the line's only one, and it goes through one grep
    /// that keeps every utun control socket's row and nothing else (no other stage, no
    /// redirection). Its rows are then whole or not as that command's would be. Nil otherwise:
    /// a listing piped on into anything else may be cut, and the line's output is not taken as
    /// whole (see `listingsPipedOn`).
    static func holderListing(line words: [String]) -> ShellCommand? {
        let parts = segments(line: words, keepingPipes: true)
        let listings = parts.indices.filter { program(of: parts[$0])?.name == "lsof" }
        guard listings.count == 1, let index = listings.first, index > 0, parts[index].first != "|", index + 1 < parts.count,
              parts[index + 1].first == "|", index + 2 == parts.count || parts[index + 2].first != "|",
              !(parts[index] + parts[index + 1]).contains(where: { $0.contains(">") || $0.contains("<") || $0.contains("`") || $0.contains("$(") }) else { return nil }
        let written = (parts[index] + parts[index + 1]).joined(separator: " ")
        let text = CaptureText(file: "", text: written)
        guard !text.isEmpty, let command = parse(text, from: 0, prompted: true), command.tool == .lsof, command.words.upperBound == text.count,
              command.filters.count == 1, command.reshaping.isEmpty, command.unread.isEmpty, command.followedBy.isEmpty,
              keepsEveryUtunRow(command.filters[0]) else { return nil }
        return command
    }

    /// Whether a filter of lsof's output certainly keeps every row of a utun control socket
    /// (`systm … [ctl com.apple.net.utun_control id 7 unit 4]`): one of its patterns is in a
    /// word every such row has, `com.apple.net.utun_control`, `[ctl` or its TYPE, `systm`
    /// (`grep utun`, `grep ctl`, `grep systm`, `grep -e COMMAND -e utun_control`).
    static func keepsEveryUtunRow(_ filter: TextFilter) -> Bool {
        ["com.apple.net.utun_control", "[ctl", "systm"].contains { filter.certainlyShows(word: $0) }
    }

    /// Whether a line runs a command on another machine (`ssh host`, `ssh host ps auxww`): what
    /// follows it is that machine's, and the machine's own again only after it.
    static func goesElsewhere(line words: [String]) -> Bool {
        segments(line: words).contains { segment in
            guard let (program, arguments) = program(of: segment), remotePrograms.contains(program.lowercased()) else { return false }
            // ssh that never leaves this shell: `-V`, `-G`, `-Q`, `-O` print and return; `-f -N`
            // goes to the background; `git@…` answers and returns.
            let letters = arguments.filter { $0.hasPrefix("-") && !$0.hasPrefix("--") }.joined()
            if letters.contains(where: { "VGQO".contains($0) }) || (letters.contains("f") && letters.contains("N")) { return false }
            if arguments.contains(where: { $0.hasPrefix("git@") }) { return false }
            return true
        }
    }

    /// The host a prompt names (`mike@Work-MBP ~ %`, `Work-MBP:~ mike$`, `[mike@Work-MBP ~]$`),
    /// in lower case; nil when it names none.
    static func promptHost(_ words: [String]) -> String? {
        for word in words {
            let bare = word.trimmingCharacters(in: CharacterSet(charactersIn: "[]()"))
            // (The host's first label: `MacBook-Pro.local` is `MacBook-Pro`, as zsh's %m and %M.)
            if let at = bare.firstIndex(of: "@") {
                let host = bare[bare.index(after: at)...].prefix { $0 != ":" && $0 != " " && $0 != "." }
                if !host.isEmpty { return host.lowercased() }
            } else if let colon = bare.firstIndex(of: ":"), colon > bare.startIndex, bare[bare.index(after: colon)...].hasPrefix("~") || bare[bare.index(after: colon)...].hasPrefix("/") {
                return bare[..<colon].prefix { $0 != "." }.lowercased()
            }
        }
        return nil
    }

    /// The files a line saves output into (`> if.txt`, `>> log`, `>if.txt`). (A `>` inside a
    /// quoted argument may be taken for one: that only makes a file's moment unknown.)
    static func redirectTargets(line words: [String]) -> [(path: String, appending: Bool)] {
        var targets: [(path: String, appending: Bool)] = []
        for segment in segments(line: words) {
            // `| tee ~/if-before.txt > /dev/null`, `| tee -a log`, `| pbcopy` save it too.
            if let (program, arguments) = program(of: segment) {
                if program == "tee" {
                    for file in arguments.prefix(while: { !$0.hasPrefix(">") }) where !file.hasPrefix("-") {
                        targets.append((file, arguments.contains("-a")))
                    }
                } else if program == "pbcopy" {
                    targets.append((clipboard, false))
                }
            }
            for (offset, word) in segment.enumerated() {
                if word == ">" || word == ">>" {
                    if offset + 1 < segment.count { targets.append((segment[offset + 1], word == ">>")) }
                } else if word.hasPrefix(">>"), word.count > 2 {
                    targets.append((String(word.dropFirst(2)), true))
                } else if word.hasPrefix(">"), word.count > 1, !word.hasPrefix(">&") {
                    targets.append((String(word.dropFirst()), false))
                }
            }
        }
        return targets
    }

    /// The name `redirectTargets` gives the clipboard (`| pbcopy`), which `pbpaste` shows back.
    static let clipboard = "(clipboard)"

    /// Whether one command (no separators in `words`) may have changed interfaces or routes.
    static func segmentMayChange(_ words: [String], depth: Int = 0) -> Bool {
        guard let (program, rest) = program(of: words) else { return false }
        // Redirections (`> if.txt`, `2>&1`) say where output goes, not what the command does.
        var arguments: [String] = []
        var target = false
        for word in rest {
            if target { target = false; continue }
            if [">", ">>", "<", "2>", "&>", "2>>"].contains(word) { target = true; continue }
            if word.hasPrefix(">") || word.hasPrefix("<") || word.hasPrefix("2>") || word.hasPrefix("&>") { continue }
            arguments.append(word)
        }
        let positional = arguments.filter { !$0.hasPrefix("-") }
        if passesTime(program, arguments) { return true }
        // `echo $(open -a Tunnelblick)`: a command substituted into the line runs too.
        if let inner = substitutedCommand(rest), mayChangeTables(line: inner, depth: depth + 1) { return true }
        switch program {
        // (A loop's or a test's own words run nothing; its body's commands are weighed apart.)
        case "netstat", "lsof", "ps", "done", "fi", "}", ")", "", "for", "while", "until", "if", "case", "esac", "select":
            return false
        // This machine's tables stay as they are; going to another is `goesElsewhere`'s.
        case _ where remotePrograms.contains(program):
            return false
        // `ifconfig utun6 destroy`, `ifconfig feth0 create`, `ifconfig utun6 up`: a verb after the
        // name. (`ifconfig en0 inet` only shows that family.)
        case "ifconfig":
            let families = ["inet", "inet6", "link", "ether"]
            return arguments.contains { ifconfigVerbs.contains($0) } || positional.filter { !families.contains($0) }.count > 1
        case "route": return !["get", "show"].contains(positional.first ?? "")
        case "scutil": return arguments.contains("--nc") && !arguments.contains("list") && !arguments.contains("status") && !arguments.contains("show")
        // Interfaces and routes stay as they are when only DNS or search domains are set.
        case "networksetup":
            return !arguments.allSatisfy { !$0.hasPrefix("-") || $0.hasPrefix("-get") || $0.hasPrefix("-list") || $0 == "-setdnsservers" || $0 == "-setsearchdomains" }
        case "launchctl": return !["list", "print", "blame"].contains(positional.first ?? "")
        case "zerotier-cli": return !["info", "listnetworks", "listpeers", "peers", "status", "listmoons"].contains(positional.first ?? "info")
        case "systemextensionsctl": return positional.first != "list"
        case "tunwarden": return positional.contains("reap")
        case "ipconfig": return positional.first == "set"
        case "pfctl": return !arguments.allSatisfy { $0.hasPrefix("-s") || !$0.hasPrefix("-") }
        case "tailscale": return !["status", "ip", "netcheck", "version", "whois", "ping", "debug"].contains(positional.first ?? "")
        case "brew":
            return !(positional.first == "services" ? ["list", "info"].contains(positional.dropFirst().first ?? "list")
                : ["list", "info", "config", "doctor"].contains(positional.first ?? ""))
        // `su admin -c 'open -a Tunnelblick'` runs its command as that user; `su` and `su -`
        // alone start a shell, which changes nothing by itself.
        case "su":
            guard let flag = arguments.firstIndex(where: { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.hasSuffix("c") }) else { return false }
            guard let command = joiningQuoted(Array(arguments[(flag + 1)...])).first.map(unquote), !command.isEmpty else { return true }
            return mayChangeTables(line: command.split(separator: " ").map(String.init), depth: depth + 1)
        // The DNS cache flush every troubleshooting guide gives.
        case "killall": return !(arguments.contains("-HUP") && positional.allSatisfy { ["mDNSResponder", "mDNSResponderHelper"].contains($0) })
        default: return !readingPrograms.contains(program)
        }
    }

    /// The words of the first command substituted into a command's words (`$(open -a
    /// Tunnelblick)`, `` `wg-quick up wg0` ``, also inside double quotes), without the marks
    /// around them; nil when there is none.
    static func substitutedCommand(_ words: ArraySlice<String>) -> [String]? {
        guard let start = words.firstIndex(where: { $0.contains("$(") || $0.contains("`") }) else { return nil }
        var inner: [String] = []
        for (offset, word) in words[start...].enumerated() {
            var part = Substring(word)
            if offset == 0 {
                let marker = word.range(of: "$(") ?? word.range(of: "`")!
                part = word[marker.upperBound...]
            }
            let closes = part.contains(")") || part.contains("`")
            if let end = part.firstIndex(where: { $0 == ")" || $0 == "`" }) { part = part[..<end] }
            if !part.isEmpty { inner.append(String(part)) }
            if closes { break }
        }
        return inner.isEmpty ? nil : inner
    }

    /// Programs that run commands on another machine.
    static let remotePrograms: Set<String> = ["ssh", "mosh", "telnet", "rsh", "slogin"]

    /// What `ifconfig NAME …` does to an interface rather than show of it.
    static let ifconfigVerbs: Set<String> = ["create", "destroy", "up", "down", "alias", "-alias", "delete", "peer", "-peer", "mtu", "add", "remove",
                                             "addm", "deletem"]

    /// Programs that only read: text tools, lookups, and the system's own reports.
    static let readingPrograms: Set<String> = [
        "echo", "printf", "cat", "bat", "grep", "egrep", "fgrep", "rg", "awk", "sed", "head", "tail", "sort", "uniq", "wc", "cut", "tr",
        "less", "more", "tee", "pbcopy", "pbpaste", "clear", "history", "pwd", "ls", "cd", "which", "type", "whoami", "id",
        "hostname", "date", "uptime", "sw_vers", "uname", "sysctl", "system_profiler", "log", "top", "nettop", "pgrep", "arp", "ndp",
        "ping", "ping6", "dig", "nslookup", "host", "curl", "nc", "ncat", "wg",
        "dscacheutil", "true", "exit", "logout", "su", "export", "alias", "unset", "mount", "df", "diskutil",
        "git", "ssh-add", "ssh-keygen", "ssh-keyscan", "ssh-copy-id",
    ]
}
