import ArgumentParser
import BuildInfo
import Foundation
import TunwardenCore
#if os(Linux)
import CLinuxShims
#endif

/// The `tunwarden` command: finds, watches and safely removes stale tunnel interfaces.
public struct Tunwarden: ParsableCommand {
    /// The release this source tree is.
    public static let version = "0.1.0"

    /// What `--version` prints, like `ip -V` or `wg --version`: the release, then the commit it
    /// was built from (left out when unknown) and the platform, e.g. `tunwarden 0.1.0 (commit
    /// abc1234, linux x86_64)`. The release is always the second word.
    public static var versionText: String {
        #if os(Linux)
        let system = "linux"
        #elseif os(macOS)
        let system = "darwin"
        #else
        let system = "unknown"
        #endif
        #if arch(x86_64)
        let machine = "x86_64"
        #elseif arch(arm64) && os(Linux)
        let machine = "aarch64"
        #elseif arch(arm64)
        let machine = "arm64"
        #else
        let machine = "unknown"
        #endif
        let build = (BuildInfo.commit.map { ["commit \($0)"] } ?? []) + ["\(system) \(machine)"]
        return "tunwarden \(version) (\(build.joined(separator: ", ")))"
    }

    public static let configuration = CommandConfiguration(
        commandName: "tunwarden",
        abstract: "Find, judge and safely remove stale tunnel interfaces (tun, tap, veth, utun, feth, …).",
        discussion: """
        Virtual interfaces leak: a VPN or proxy crashes and leaves a persistent tun behind, or routes that \
        send all traffic into a dead tunnel. tunwarden inventories tunnel-style interfaces and their routes, \
        judges each one with explainable heuristics, and reports what is orphaned, leaking or dangerous.

        Exit codes (every command, every format):
          0   ok
          1   warning (an orphaned tun, the count near its limit),
              or a run that would exit 0 but could not write its
              standard output
          2   critical (routes that blackhole default traffic)
          3   unknown: the system could not be inspected well
              enough to judge
          64  bad usage (also a number out of its range) or a bad
              configuration file

        Examples:
          sudo tunwarden audit
              audit this machine, keeping state in /var/lib/tunwarden
          sudo tunwarden audit --no-state
              the same, keeping no state (a trial)
          sudo tunwarden --netns blue audit
              the namespace `ip netns` calls blue
          tunwarden audit --format json | jq .findings
          tunwarden audit --format nagios
              one line for Nagios or Icinga
          sudo tunwarden reap --dry-run
              what would be removed, and why
          sudo tunwarden reap
              remove it, after asking
          sudo tunwarden journal
              what was removed, and how to make it again
          sudo tunwarden history
              the tunnel count over time, and alerts fired
          sudo tunwarden watch
              a daemon: alerts as changes happen
          sudo tunwarden snapshot DIR
              (macOS) capture the tools' output
          tunwarden audit --from DIR
              audit such a capture, on any machine

        A timer job, alerting on changes and writing metrics
        for node_exporter:
          tunwarden audit \\
            --alert-exec 'mail -s tunwarden root' \\
            --textfile /var/lib/prometheus/node-exporter/tunwarden.prom
        """,
        subcommands: [Audit.self, Watch.self, Reap.self, JournalCommand.self, HistoryCommand.self, SnapshotCommand.self],
        defaultSubcommand: nil
    )

    @OptionGroup public var global: GlobalOptions

    /// Declared here so that the help lists it; `main()` answers it wherever it appears, before
    /// any command runs, as ArgumentParser answers its own `--version`.
    @Flag(name: [.customShort("V"), .customLong("version")],
          help: "Print the version, the commit it was built from and the platform, and exit.")
    public var showVersion = false

    public init() {}

    /// Runs the command line. The standard streams are made safe to write to first, and a command
    /// that returns ends through `Terminal.exit`, which reports standard output that was lost.
    public static func main() {
        Terminal.prepareStandardStreams()
        let arguments: [String]
        do {
            arguments = Array(try commandLineArguments(GlobalOptions.rawArguments()).dropFirst())
        } catch {
            exit(withError: error)
        }
        if asksForVersion(arguments) {
            Terminal.write(versionText + "\n")
            Terminal.exit(0)
        }
        if let topic = unknownHelpTopic(in: arguments) {
            exit(withError: ValidationError("no help for '\(topic)': it is not a tunwarden command; the commands are \(commandNames.joined(separator: ", "))"))
        }
        if let twice = repeatedGlobalOption(in: arguments) { exit(withError: ValidationError(twice)) }
        do {
            var command: any ParsableCommand
            do {
                command = try parseAsRoot(arguments)
            } catch {
                if let advice = mistypedCommand(message(for: error)) ?? negativeValue(message(for: error), in: arguments)
                    ?? optionAdvice(for: error, in: arguments) {
                    exit(withError: ValidationError(advice))
                }
                throw error
            }
            try command.run()
        } catch let code as ExitCode {
            // Commands end by throwing their exit code (so that tests can run them in-process);
            // here it becomes the process's, with lost standard output counted.
            Terminal.exit(code.rawValue)
        } catch {
            exit(withError: error)
        }
        Terminal.exit(0)
    }

    /// The process's arguments (`raw`, as the kernel gave them) as text. `CommandLine.arguments`
    /// puts U+FFFD in place of bytes that are not UTF-8, which would make a path, a command or a
    /// name another one without a word: such an argument is refused (bad usage), shown with
    /// `\xHH` escapes, but for a `--protect` pattern, which keeps them as `\xHH` and reads those
    /// as the bytes (`Glob.pattern(fromArgument:)`). A `--netns` name that is not UTF-8
    /// (`ip netns add` takes any bytes) is refused with a word on how to reach its namespace.
    static func commandLineArguments(_ raw: [[UInt8]]) throws -> [String] {
        var arguments: [String] = []
        for (position, argument) in raw.enumerated() {
            if let text = String(validating: argument, as: UTF8.self) {
                arguments.append(text)
                continue
            }
            let previous = position > 0 ? raw[position - 1] : []
            func valueOf(_ option: String) -> [UInt8]? {
                if previous == Array(option.utf8) { return argument }
                let prefix = Array((option + "=").utf8)
                return argument.starts(with: prefix) ? Array(argument.dropFirst(prefix.count)) : nil
            }
            if let pattern = valueOf("--protect") {
                arguments.append((argument == pattern ? "" : "--protect=") + Glob.pattern(fromArgument: pattern))
            } else if let name = valueOf("--netns") {
                throw ValidationError("the network namespace name '\(InterfaceName.text(name))' is not UTF-8, and tunwarden takes namespace names as UTF-8 text: run it inside that namespace instead (`ip netns exec`, with the name as the shell gives it)")
            } else {
                throw ValidationError("the argument '\(InterfaceName.text(argument))' is not UTF-8: tunwarden takes paths, names and commands as UTF-8 "
                                      + "text (only a --protect pattern may hold other bytes, which it matches as they are)")
            }
        }
        return arguments
    }

    /// Why the arguments cannot be run when they give `--netns` or `--config` twice with
    /// different values (before and after the command name, say): the last would silently win,
    /// and the run would inspect or configure something other than one of the two. Nil when each
    /// is given at most once, or always with the same value.
    static func repeatedGlobalOption(in arguments: [String]) -> String? {
        let options = arguments.prefix { $0 != "--" }
        for option in ["--netns", "--config"] {
            var values: [String] = []
            for (position, argument) in options.enumerated() {
                if argument == option, position + 1 < options.count {
                    values.append(options[options.startIndex + position + 1])
                } else if argument.hasPrefix(option + "=") {
                    values.append(String(argument.dropFirst(option.count + 1)))
                }
            }
            if Set(values).count > 1 {
                return "\(option) is given \(values.count) times (\(values.map { "'\($0)'" }.joined(separator: ", "))), before and after the command name perhaps: give it once"
            }
        }
        return nil
    }

    /// Whether `-V` or `--version` is among the options, before any `--`.
    static func asksForVersion(_ arguments: [String]) -> Bool {
        arguments.prefix { $0 != "--" }.contains { $0 == "-V" || $0 == "--version" }
    }

    /// The names of the subcommands, in the order the help lists them.
    static var commandNames: [String] {
        configuration.subcommands.compactMap { $0.configuration.commandName }
    }

    /// For argument-parser's "Unexpected argument 'WORD'" where WORD is a command mistyped (two
    /// edits or fewer from one, and not more than a third of its letters), the error to give
    /// instead: it names the command meant and lists them all, as a mistyped option already gets
    /// "Did you mean". Nil for any other error.
    static func mistypedCommand(_ message: String) -> String? {
        let prefix = "Unexpected argument '"
        guard message.hasPrefix(prefix), let end = message.dropFirst(prefix.count).firstIndex(of: "'") else { return nil }
        let word = String(message[message.index(message.startIndex, offsetBy: prefix.count)..<end])
        guard !word.hasPrefix("-"), word.count >= 3 else { return nil }
        let nearest = commandNames.map { ($0, editDistance(word.lowercased(), $0)) }.min { $0.1 < $1.1 }
        guard let (name, distance) = nearest, word != name, distance <= 2, distance * 3 <= name.count else { return nil }
        return "'\(word)' is not a tunwarden command; did you mean '\(name)'? The commands are \(commandNames.joined(separator: ", "))"
    }

    /// What to say for a value that begins with a minus sign (`--growth-window -1h`, `--limit
    /// -5`), which the parser takes for an option and reports as a missing value: no option of
    /// tunwarden takes a negative number or duration. Nil for any other message.
    static func negativeValue(_ message: String, in arguments: [String]) -> String? {
        let prefix = "Missing value for '"
        guard message.hasPrefix(prefix), let end = message.dropFirst(prefix.count).firstIndex(of: " ") else { return nil }
        let option = String(message[message.index(message.startIndex, offsetBy: prefix.count)..<end])
        let options = Array(arguments.prefix { $0 != "--" })
        guard let position = options.firstIndex(of: option), position + 1 < options.count else { return nil }
        let value = options[position + 1]
        guard value.count > 1, value.hasPrefix("-"), value.dropFirst().first?.isNumber == true else { return nil }
        return "\(option) takes no negative value; got '\(value)': durations and counts here are never negative"
    }

    /// The number of letters to insert, delete, replace or swap with the next to turn `a` into
    /// `b` (optimal string alignment distance).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1) }
            }
        }
        return table[a.count][b.count]
    }

    /// The word after `help` that names no command (`tunwarden help bogus`), or nil when there is
    /// none. ArgumentParser's own `help` shows the top-level help for such a word and exits 0, as if
    /// the question had been answered; checked before parsing, so that it is a usage error instead.
    static func unknownHelpTopic(in arguments: [String]) -> String? {
        var rest = arguments[...]
        // Global options may come first: `tunwarden --netns blue help audit`.
        while let first = rest.first, first.hasPrefix("-") {
            let takesValue = ["--netns", "--config"].contains(first)
            rest = rest.dropFirst(takesValue ? 2 : 1)
        }
        guard rest.first == "help" else { return nil }
        return rest.dropFirst().first { !$0.hasPrefix("-") && !(commandNames + ["help"]).contains($0) }
    }
}

/// Options that apply to every command, given before or after the command name.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("netns"), help: ArgumentHelp(
        "Inspect the named network namespace (as `ip -n NAME` does) instead of this process's own.",
        discussion: "NAME is a file under /run/netns, as `ip netns list` prints it, in UTF-8 (a name that is not is refused, shown with \\xHH escapes: run tunwarden inside it with `ip netns exec` instead). The process itself stays where it is.",
        valueName: "name"))
    public var netns: String?

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "Read settings from this file instead of /etc/tunwarden/tunwarden.conf (also: TUNWARDEN_CONFIG).",
        discussion: "YAML; keys are the long option names, at the top level or in an audit:, reap: or watch: section. The command line beats the file. A bad file is an error naming its line (exit 64).",
        valueName: "path"))
    public var config: String?

    public init() {}

    public func validate() throws {
        if let netns {
            // (A name that is not UTF-8 is refused as the command line is read: see
            // `Tunwarden.commandLineArguments`.)
            if !NamespaceName.isValid(netns) {
                throw ValidationError("'\(InterfaceName.text(Array(netns.utf8)))' is not a network namespace name: use a name that `ip netns list` prints")
            }
        }
    }

    /// The process's arguments as the bytes it was given. On Linux they are the vector the C
    /// library handed the program (`tw_saved_argv`): `CommandLine` there reads
    /// /proc/self/cmdline, and without a /proc of this process (none mounted, or a container's
    /// after `nsenter -m`) it would be empty, and a run given `audit --format nagios` would print
    /// the help and exit 0.
    static func rawArguments() -> [[UInt8]] {
        #if os(Linux)
        if let argv = tw_saved_argv() {
            return (0..<Int(tw_saved_argc())).compactMap { argv[$0].map(bytes) }
        }
        #endif
        return (0..<Int(CommandLine.argc)).compactMap { CommandLine.unsafeArgv[$0].map(bytes) }
    }

    /// The process's arguments as text, for messages (bytes that are not UTF-8 shown as U+FFFD).
    static func displayArguments() -> [String] {
        rawArguments().map { String(decoding: $0, as: UTF8.self) }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer)))
    }
}
