import Foundation
import Testing
import TestSupport

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
