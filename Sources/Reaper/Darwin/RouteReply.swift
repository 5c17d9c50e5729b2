import Inventory
import TunwardenCore

/// What Apple's `route(8)` said to one `route -n delete …` (or `add`) command.
///
/// Its exit status says almost nothing: `main` runs `newroute(); exit(0);` for add, change and
/// delete alike, and `newroute` reports the kernel's answer only in what it prints to standard
/// output: `delete net 0.0.0.0: gateway 10.8.0.5` when the request was done, the same followed
/// by `: not in table` (ESRCH), `: File exists`, … when it was refused (a failed write to the
/// routing socket also warns on standard error). It exits non-zero only for words it cannot use:
/// `bad interface name` from `-ifscope IFACE` naming no interface (`if_nametoindex` found none),
/// `bad address: …`, a usage error, or not being root. So a command counts as done only when
/// route printed exactly the line it prints on success.
enum RouteReply: Equatable {
    /// route printed its success line.
    case done
    /// The request was refused or could not be made; the text says what route printed.
    case refused(String)
    /// `-ifscope IFACE` named an interface that no longer exists: route sent nothing. A gone
    /// interface takes its routes with it.
    case interfaceGone(String)

    /// The line `route` prints when `command` succeeds, as `newroute` writes it: `VERB host|net
    /// DEST`, then `: gateway GATEWAY` when a gateway word was given (with `-interface IFACE`,
    /// the interface name is that word). `DEST` is the word given, except that an IPv4
    /// `ADDR/LEN` prints as `ADDR` (`getaddr` cuts the word at the `/` and keeps it cut). Nil
    /// when `command` is not such a `route` command.
    static func successLine(_ command: [String]) -> String? {
        guard command.first == "route" else { return nil }
        var verb: String?
        var host = false
        var inet6 = false
        var positional: [String] = []
        var skipNext = false
        for word in command.dropFirst() {
            if skipNext { skipNext = false; continue }
            if word.hasPrefix("-") {
                switch word {
                case "-host": host = true
                case "-inet6": inet6 = true
                case "-ifscope": skipNext = true
                default: break
                }
            } else if verb == nil {
                verb = word
            } else {
                positional.append(word)
            }
        }
        guard let verb, let destination = positional.first else { return nil }
        var shown = destination
        if !inet6, let slash = destination.firstIndex(of: "/") { shown = String(destination[..<slash]) }
        var line = "\(verb) \(host ? "host" : "net") \(shown)"
        if positional.count > 1 { line += ": gateway \(positional[1])" }
        return line
    }

    /// Judges what `route` printed (and its exit status) for `command`.
    static func judge(_ command: [String], _ output: DarwinTools.Output) -> RouteReply {
        judge(command, status: output.status, stdout: output.stdout, stderr: output.stderr)
    }

    static func judge(_ command: [String], status: Int32, stdout: String, stderr: String) -> RouteReply {
        let lines = stdout.split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
        let expected = successLine(command)
        if let expected {
            if status == 0, lines.contains(expected) { return .done }
            if let refusal = lines.first(where: { $0.hasPrefix(expected + ": ") }) {
                return .refused("was refused: `\(refusal)`")
            }
        }
        let said = [stderr, stdout].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            .joined(separator: "; ")
        if said.contains("bad interface name"), let scope = command.firstIndex(of: "-ifscope"), scope + 1 < command.count {
            return .interfaceGone(said)
        }
        let what = said.isEmpty ? "printed nothing" : "printed `\(said)`"
        if status != 0 { return .refused("exited \(status) and \(what)") }
        return .refused("exited 0 but \(what), not `\(expected ?? "")`, which route prints when it has done the request")
    }
}
