import Foundation
import Testing
import TestSupport
@testable import TunwardenCommands

/// `--help` as a newcomer reads it on an 80-column terminal, and `help` with a name it does not know.
@Suite struct HelpTests {
    static let commands = ["audit", "watch", "reap", "journal", "history", "snapshot"]

    /// The help `arguments` print with the terminal `columns` wide.
    static func help(_ arguments: [String], columns: Int) throws -> Shell.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "\(columns)"
        return try Shell.capture([Shell.tunwardenBinary] + arguments, environment: environment)
    }

    /// The overview and discussion: everything before the USAGE line.
    static func discussion(_ help: String) -> [Substring] {
        Array(help.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix("USAGE:") })
    }

    /// Indented lines of the discussion (examples, the exit codes, the list of states) are laid
    /// out by hand; at 80 columns each must still be one line, as written, never broken into a
    /// second line that starts at the margin mid-phrase.
    @Test(arguments: [[]] + commands.map { [$0] })
    func handLaidOutLinesFitEightyColumns(command: [String]) throws {
        let wide = try Self.help(command + ["--help"], columns: 1000)
        let narrow = try Self.help(command + ["--help"], columns: 80)
        #expect(wide.status == 0 && narrow.status == 0)
        let narrowLines = Set(Self.discussion(narrow.stdout))
        let laidOut = Self.discussion(wide.stdout).filter { $0.hasPrefix(" ") }
        if [nil, "audit", "reap", "watch"].contains(command.first) {
            #expect(!laidOut.isEmpty, "found no indented lines in \(command) --help to check")
        }
        for line in laidOut {
            let kept = narrowLines.contains(line)
            #expect(kept, "\(command.first ?? "tunwarden") --help at 80 columns breaks the line '\(line)'")
        }
    }

    /// Nothing in a command's help, its usage line included, is wider than an 80-column
    /// terminal that says it is 80 columns wide.
    @Test(arguments: [[]] + commands.map { [$0] })
    func everyLineFitsEightyColumns(command: [String]) throws {
        let narrow = try Self.help(command + ["--help"], columns: 80)
        #expect(narrow.status == 0)
        for line in narrow.stdout.split(separator: "\n") {
            #expect(line.count <= 80, "\(command.first ?? "tunwarden") --help at 80 columns: '\(line)' is \(line.count) wide")
        }
    }
}

/// `tunwarden help NAME` for a NAME that is no command.
@Suite struct HelpTopicTests {
    @Test(arguments: [["help", "bogus"], ["help", "audit", "bogus"], ["--netns", "blue", "help", "reaper"]])
    func anUnknownTopicIsAUsageErrorNamingTheCommands(arguments: [String]) throws {
        let result = try Shell.capture([Shell.tunwardenBinary] + arguments)
        #expect(result.status == 64, "\(arguments): \(result.stdout)")
        #expect(result.stdout.isEmpty)
        let unknown = try #require(arguments.last)
        #expect(result.stderr.contains("'\(unknown)'"), "\(result.stderr)")
        #expect(result.stderr.contains("audit, watch, reap, journal, history, snapshot"), "\(result.stderr)")
    }

    @Test(arguments: HelpTests.commands)
    func aKnownTopicShowsThatCommandsHelp(command: String) throws {
        let result = try Shell.capture([Shell.tunwardenBinary, "help", command])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("USAGE: tunwarden \(command)"), "\(result.stdout)")
    }
}

/// What `help watch` says about holder exits and attaches is what the watcher does (and what
/// README.md says).
@Suite struct WatchHelpTests {
    @Test func holderExitsAreWatchedThroughTheProcConnectorAndAttachesThroughTunNodes() throws {
        let help = try HelpTests.help(["help", "watch"], columns: 1000).stdout
        #expect(help.contains("proc connector"), "\(help)")
        #expect(help.contains("the known holders are checked at each orphan look instead"), "\(help)")
        #expect(help.contains("inotify reports (for /dev/net/tun and the node each known holder opened)"), "\(help)")
        #expect(help.contains("are read again \(Int(LookSchedule(start: Date()).delays.soon * 1000)) ms later"), "\(help)")
        #expect(help.contains("They are also read every \(Int(LookSchedule(start: Date()).interval)) seconds"), "\(help)")
        let schedule = LookSchedule(start: Date())
        #expect(help.contains("up to a minute, where that would take more than \(schedule.periodicBudget * 100)% of a core"), "\(help)")
        #expect(schedule.longestInterval == 60)
        #expect(help.contains("at each traffic sample, which reads every link anyway"), "\(help)")
        #expect(!help.localizedCaseInsensitiveContains("nothing is polled"), "\(help)")
        #expect(!help.contains("turns its device's carrier off, which is an event"), "\(help)")
    }
}

/// `--format` lists exactly the formats each command takes.
@Suite struct FormatHelpTests {
    /// The help of `--format`, from its line to the next option's.
    static func formatHelp(_ command: String) throws -> String {
        let help = try HelpTests.help([command, "--help"], columns: 1000).stdout
        let lines = help.split(separator: "\n")
        let start = try #require(lines.firstIndex { $0.hasPrefix("  --format") }, "\(command) --help has no --format")
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("  -") } ?? lines.endIndex
        return lines[start..<end].joined(separator: " ")
    }

    @Test(arguments: ["reap", "journal", "history"])
    func commandsWithoutANagiosLineNeitherListNorTakeIt(command: String) throws {
        let help = try Self.formatHelp(command)
        #expect(help.contains("table") && help.contains("json"), "\(help)")
        #expect(!help.contains("nagios"), "\(command) --format lists nagios: \(help)")
        let result = try Shell.capture([Shell.tunwardenBinary, command, "--format", "nagios"])
        #expect(result.status == 64, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("'table'") && result.stderr.contains("'json'"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func auditListsAndTakesNagios() throws {
        #expect(try Self.formatHelp("audit").contains("nagios"))
    }
}

/// `--version` and `-V`, like `ip -V` and `wg --version`: the release, the commit and the platform.
@Suite struct VersionTests {
    @Test(arguments: [["--version"], ["-V"], ["audit", "--version"], ["--netns", "blue", "reap", "-V"]])
    func theVersionNamesTheReleaseCommitAndPlatform(arguments: [String]) throws {
        let result = try Shell.capture([Shell.tunwardenBinary] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let line = result.stdout.trimmingCharacters(in: .newlines)
        #if os(Linux)
        let platform = "linux"
        #else
        let platform = "darwin"
        #endif
        // Built from this source tree: a git checkout names its commit (perhaps an earlier one
        // than the tests run on), a tarball none.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        if FileManager.default.fileExists(atPath: repository.appendingPathComponent(".git").path) && Shell.which("git") != nil {
            #expect(line.wholeMatch(of: #/tunwarden \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}, [a-z]+ (x86_64|aarch64|arm64)\)/#) != nil, "\(line)")
        } else {
            #expect(line.wholeMatch(of: #/tunwarden \d+\.\d+\.\d+ \([a-z]+ (x86_64|aarch64|arm64)\)/#) != nil, "\(line)")
        }
        #expect(line.contains(", \(platform) "), "\(line)")
    }

    @Test func theHelpListsTheShortAndLongForm() throws {
        let help = try HelpTests.help(["--help"], columns: 1000).stdout
        #expect(help.contains("-V, --version"), "\(help)")
    }
}
