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
    /// out by hand; at 80 columns, and at 64 (a split pane), each must still be one line, as
    /// written, never broken into a second line that starts at the margin mid-phrase.
    @Test(arguments: [[]] + commands.map { [$0] }, [80, 64])
    func handLaidOutLinesFitEightyColumns(command: [String], columns: Int) throws {
        let wide = try Self.help(command + ["--help"], columns: 1000)
        let narrow = try Self.help(command + ["--help"], columns: columns)
        #expect(wide.status == 0 && narrow.status == 0)
        let narrowLines = Set(Self.discussion(narrow.stdout))
        let laidOut = Self.discussion(wide.stdout).filter { $0.hasPrefix(" ") }
        if [nil, "audit", "reap", "watch"].contains(command.first) {
            #expect(!laidOut.isEmpty, "found no indented lines in \(command) --help to check")
        }
        for line in laidOut {
            let kept = narrowLines.contains(line)
            #expect(kept, "\(command.first ?? "tunwarden") --help at \(columns) columns breaks the line '\(line)'")
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

/// What README.md says about holder exits and attaches is what the watcher does. `help watch`
/// leaves that mechanism to README.md and the man page, and says so.
@Suite struct WatchHelpTests {
    /// README.md with its line breaks made spaces, so that a phrase may span lines.
    static func readme() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8).replacingOccurrences(of: "\n", with: " ")
    }

    @Test func holderExitsAreWatchedThroughTheProcConnectorAndAttachesThroughTunNodes() throws {
        let readme = try Self.readme()
        let schedule = LookSchedule(start: Date())
        #expect(readme.contains("process exits are watched through the kernel's proc connector"))
        #expect(readme.contains("the known holders are checked at each orphan look instead"))
        #expect(readme.contains("which inotify reports, for the host's `/dev/net/tun` and for the node each known holder opened"))
        #expect(readme.contains("\(Int(schedule.delays.soon * 1000)) ms after such an open or close"))
        #expect(readme.contains("The orphan look also comes every \(Int(schedule.interval)) seconds"))
        #expect(readme.contains("cost more than \(schedule.periodicBudget * 100)% of a core"))
        #expect(schedule.longestInterval == 60)
        #expect(readme.contains("never more than a minute apart"))
        #expect(readme.contains("reads every link anyway"))
        #expect(!readme.localizedCaseInsensitiveContains("nothing is polled"))

        let help = try HelpTests.help(["help", "watch"], columns: 1000).stdout
        #expect(help.contains("holders exiting, tun nodes opened") && help.contains("tunwarden(8), section watch, and README.md"), "\(help)")
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

    /// Every command's --format help has one layout: the formats in words, the default among
    /// them, then ArgumentParser's list of values; and every USAGE line shows options as optional.
    @Test(arguments: ["audit", "reap", "journal", "history"])
    func formatHelpAndUsageHaveOneLayout(command: String) throws {
        let help = try Self.formatHelp(command)
        #expect(help.contains("Output: table (for people; the default)"), "\(help)")
        #expect(help.contains("(values: table, json") && !help.contains("default: table"), "\(help)")
        let usage = try HelpTests.help([command, "--help"], columns: 1000).stdout
        #expect(usage.contains("USAGE: tunwarden \(command) [<options>]"), "\(usage)")
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
