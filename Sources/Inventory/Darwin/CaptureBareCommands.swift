import Foundation

/// Command lines without a prompt that change the tables: a Markdown fence of commands and their
/// outputs, Warp's copied blocks, a session with its prompts taken out. Bare listing commands
/// (`ifconfig -a`, `netstat -nr`) are read there by their tool's grammar; the commands between
/// them that start or stop a VPN, or let time pass (`open -a Tunnelblick`, `sleep 20`, `sudo
/// killall -9 openvpn`), are read only where prose is unlikely: alone on their line, inside a
/// code block or after a command the capture has already shown, and only programs tunwarden
/// knows to change the tables, with arguments of the shapes they take. Other unknown words on a
/// line without a prompt stay prose (see `ShellCommand.parse`).
extension ShellCommand {
    /// The programs a line without a prompt is read as a command of (see `bareChange`): those
    /// whose effect on the tables `segmentMayChange` and `passesTime` know by name, and those
    /// that start, stop or signal a VPN.
    static let bareChangePrograms: Set<String> = [
        "open", "sleep", "kill", "killall", "pkill", "launchctl", "scutil", "networksetup", "wg-quick", "openvpn", "osascript", "tailscale",
        "zerotier-cli", "brew", "ipconfig", "pfctl", "systemextensionsctl", "caffeinate", "tcpdump", "shortcuts", "kextload", "kextunload",
    ]

    /// The command a line without a prompt holds when it is one of `bareChangePrograms`, alone on
    /// its line (under sudo or not), with arguments of the shape the program takes (`open -a …`
    /// or a path or URL, `sleep 20`, `kill -9 412`), and it may change the tables. `inContext`
    /// says whether the line is inside a code block or after a command already read. Nil
    /// otherwise: prose (`open the app`, `sleep on it.`) is no command.
    static func bareChange(in text: CaptureText, lineAt start: Int, inContext: Bool) -> ShellCommand? {
        guard inContext, text.startsLine(start) else { return nil }
        var end = start
        while end < text.count, text.line(end) == text.line(start), end - start <= 12 { end += 1 }
        guard end == text.count || text.line(end) != text.line(start) else { return nil }
        let words = (start..<end).map { String(text[$0]) }
        var programAt = 0
        let privileged = commandName(words[0]) == "sudo"
        if privileged {
            programAt = 1
            while programAt < words.count, words[programAt].hasPrefix("-") { programAt += 1 }
        }
        guard programAt < words.count else { return nil }
        let name = commandName(words[programAt])
        let arguments = Array(words[(programAt + 1)...])
        // (A sentence's last word ends in its stop or comma.)
        guard isCommandWord(name), bareChangePrograms.contains(name), !arguments.isEmpty,
              !words.contains(where: { $0.count > 1 && ".,?!".contains($0.last!) }) else { return nil }
        let shaped: Bool
        switch name {
        case "open": shaped = arguments.contains { $0.hasPrefix("-") || $0.contains("/") || $0.hasSuffix(".app") || $0.contains("://") }
        case "sleep": shaped = arguments.allSatisfy { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: "smhd"))) != nil || $0 == "infinity" }
        case "kill": shaped = arguments.allSatisfy { $0.hasPrefix("-") || $0.hasPrefix("%") || Int($0) != nil }
        default: shaped = arguments.first.map { $0.hasPrefix("-") || isCommandWord($0) || $0.first == "\"" || $0.first == "'" } ?? false
        }
        guard shaped, mayChangeTables(line: Array(words[programAt...])) else { return nil }
        var command = ShellCommand(tool: .other, name: name, privileged: privileged, words: start..<end)
        command.arguments = arguments
        return command
    }

    /// Whether `line` lies inside a Markdown code block: after an odd number of fence lines.
    static func insideFence(_ text: CaptureText, line: Int) -> Bool {
        text.fenceLines.filter { $0 < line }.count % 2 == 1
    }
}
