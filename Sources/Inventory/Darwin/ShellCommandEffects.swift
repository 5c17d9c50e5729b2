import Foundation

/// What running a command line in a transcript may have done to the tables the listings show.
extension ShellCommand {
    /// Whether a command line may have changed interfaces or routes, so that listings before and
    /// after it show different moments: a VPN or app started or stopped (`wg-quick up`, `open -a`,
    /// `openvpn --daemon`), a route added or deleted, an interface configured. `words` are the
    /// line's words from the command's own on, to the end of the line: every command of it counts,
    /// after `;`, `&&`, `||`, `&` or in a pipeline (`| xargs sudo route delete`). Only the tools
    /// that read (the listings' own, `route get`, text tools, name lookups, DNS cache flushes)
    /// change nothing; anything unknown may have.
    static func mayChangeTables(line words: [String]) -> Bool {
        var segment: [String] = []
        for word in words {
            let parts = word.count > 1 && word.contains(";") ? word.split(separator: ";", omittingEmptySubsequences: false).map(String.init) : [word]
            for (offset, part) in parts.enumerated() {
                if offset > 0 || separators.contains(part) || part == "|" || part == "|&" {
                    if segmentMayChange(segment) { return true }
                    segment = []
                }
                if !part.isEmpty, !separators.contains(part), part != "|", part != "|&" { segment.append(part) }
            }
        }
        return segmentMayChange(segment)
    }

    /// Whether one command (no separators in `words`) may have changed interfaces or routes.
    static func segmentMayChange(_ words: [String]) -> Bool {
        // What runs the command rather than being it: sudo (with its options), `env A=B`,
        // shell keywords of a loop or a group.
        var rest = words[...]
        while let first = rest.first {
            let bare = first.trimmingCharacters(in: CharacterSet(charactersIn: "({"))
            if bare.isEmpty || ["sudo", "env", "time", "nohup", "exec", "command", "builtin", "then", "do", "else", "!"].contains(bare)
                || (bare.hasPrefix("-") && rest.startIndex != words.startIndex) || (bare.contains("=") && !bare.hasPrefix("-")) {
                rest = rest.dropFirst()
                continue
            }
            break
        }
        guard let first = rest.first else { return false }
        let program = (first.trimmingCharacters(in: CharacterSet(charactersIn: "({")) as NSString).lastPathComponent
        let arguments = Array(rest.dropFirst())
        let positional = arguments.filter { !$0.hasPrefix("-") }
        switch program {
        case "netstat", "lsof", "ps", "done", "fi", "}", ")", "":
            return false
        // `ifconfig utun6 destroy`, `ifconfig feth0 create`, `ifconfig utun6 up`: a verb after the name.
        case "ifconfig": return positional.count > 1 || arguments.contains { ifconfigVerbs.contains($0) }
        case "route": return !["get", "monitor", "show"].contains(positional.first ?? "")
        case "scutil": return arguments.contains("--nc") && !arguments.contains("list") && !arguments.contains("status") && !arguments.contains("show")
        // Interfaces and routes stay as they are when only DNS or search domains are set.
        case "networksetup":
            return !arguments.allSatisfy { !$0.hasPrefix("-") || $0.hasPrefix("-get") || $0.hasPrefix("-list") || $0 == "-setdnsservers" || $0 == "-setsearchdomains" }
        case "launchctl": return !["list", "print", "blame"].contains(positional.first ?? "")
        case "tunwarden": return positional.contains("reap")
        case "ipconfig": return positional.first == "set"
        case "pfctl": return !arguments.allSatisfy { $0.hasPrefix("-s") || !$0.hasPrefix("-") }
        case "tailscale": return !["status", "ip", "netcheck", "version", "whois", "ping", "debug"].contains(positional.first ?? "")
        case "brew":
            return !(positional.first == "services" ? ["list", "info"].contains(positional.dropFirst().first ?? "list")
                : ["list", "info", "config", "doctor"].contains(positional.first ?? ""))
        // The DNS cache flush every troubleshooting guide gives.
        case "killall": return !(arguments.contains("-HUP") && positional == ["mDNSResponder"])
        default: return !readingPrograms.contains(program)
        }
    }

    /// What `ifconfig NAME …` does to an interface rather than show of it.
    static let ifconfigVerbs: Set<String> = ["create", "destroy", "up", "down", "alias", "-alias", "delete", "peer", "-peer", "mtu", "add", "remove",
                                             "addm", "deletem"]

    /// Programs that only read: text tools, lookups, and the system's own reports.
    static let readingPrograms: Set<String> = [
        "echo", "printf", "cat", "grep", "egrep", "fgrep", "rg", "awk", "sed", "head", "tail", "sort", "uniq", "wc", "cut", "tr",
        "less", "more", "tee", "pbcopy", "pbpaste", "clear", "history", "pwd", "ls", "cd", "which", "type", "man", "whoami", "id",
        "hostname", "date", "uptime", "sw_vers", "uname", "sysctl", "system_profiler", "log", "top", "nettop", "pgrep", "arp", "ndp",
        "ping", "ping6", "traceroute", "traceroute6", "mtr", "dig", "nslookup", "host", "curl", "wget", "nc", "ssh", "sleep", "wg",
        "dscacheutil", "true", "read",
    ]
}
