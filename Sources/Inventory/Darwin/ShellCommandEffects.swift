import Foundation

/// What running a command in a transcript may have done to the tables the listings show.
extension ShellCommand {
    /// Whether running the command may have changed interfaces or routes, so that listings before
    /// and after it show different moments: a VPN or app started or stopped (`wg-quick up`,
    /// `open -a`, `openvpn --daemon`), a route added or deleted, an interface configured. Only
    /// the tools that read (the listings' own, `route get`, text tools, name lookups) do not.
    var mayChangeTables: Bool {
        let words = arguments.filter { !$0.hasPrefix("-") }
        switch tool {
        case .netstat, .lsof, .ps: return false
        // `ifconfig utun6 destroy`, `ifconfig feth0 create`, `ifconfig utun6 up`: a verb after
        // the name (which the listing's reading leaves unread).
        case .ifconfig: return words.count > 1 || unread.contains { Self.ifconfigVerbs.contains($0) }
        case .route: return !["get", "monitor", "show"].contains(words.first ?? "")
        case .other:
            let program = (name as NSString).lastPathComponent
            switch program {
            case "scutil": return arguments.contains("--nc") && !arguments.contains("list") && !arguments.contains("status") && !arguments.contains("show")
            case "networksetup": return !arguments.allSatisfy { !$0.hasPrefix("-") || $0.hasPrefix("-get") || $0.hasPrefix("-list") }
            case "launchctl": return !["list", "print", "blame"].contains(words.first ?? "")
            case "tunwarden": return words.contains("reap")
            case "ipconfig": return words.first == "set"
            case "pfctl": return !arguments.allSatisfy { $0.hasPrefix("-s") || !$0.hasPrefix("-") }
            case "tailscale": return !["status", "ip", "netcheck", "version", "whois", "ping", "debug"].contains(words.first ?? "")
            case "brew": return !(words.first == "services" ? ["list", "info"].contains(words.dropFirst().first ?? "list") : ["list", "info", "config", "doctor"].contains(words.first ?? ""))
            default: return !Self.readingPrograms.contains(program)
            }
        }
    }

    /// What `ifconfig NAME …` does to an interface rather than show of it.
    static let ifconfigVerbs: Set<String> = ["create", "destroy", "up", "down", "alias", "-alias", "delete", "peer", "-peer", "mtu", "add", "remove",
                                             "inet", "inet6", "addm", "deletem"]

    /// Programs that only read: text tools, lookups, and the system's own reports.
    static let readingPrograms: Set<String> = [
        "echo", "printf", "cat", "grep", "egrep", "fgrep", "rg", "awk", "sed", "head", "tail", "sort", "uniq", "wc", "cut", "tr",
        "less", "more", "tee", "pbcopy", "pbpaste", "clear", "history", "pwd", "ls", "cd", "which", "type", "man", "whoami", "id",
        "hostname", "date", "uptime", "sw_vers", "uname", "sysctl", "system_profiler", "log", "top", "nettop", "pgrep", "arp", "ndp",
        "ping", "ping6", "traceroute", "traceroute6", "mtr", "dig", "nslookup", "host", "curl", "wget", "nc", "ssh", "sleep", "wg",
    ]
}
