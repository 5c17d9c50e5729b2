import Testing
import TestSupport

/// Every error a person sees has one style, `tunwarden: error: …`, whether argument-parser found
/// it (an unknown option, a value it cannot read, a `ValidationError`) or tunwarden did, and usage
/// errors keep exit code 64. Every run names a namespace that does not exist or stops before
/// inspecting anything, so none of them looks at this host.
@Suite struct ErrorStyleTests {
    @Test(arguments: [
        // A ValidationError thrown by a command's validate().
        (["audit", "--limit", "0"], "tunwarden: error: --limit must be from 1 to 1000000; got 0"),
        // A ValidationError thrown by the global options' validate().
        (["--netns", "a/b", "audit"], "tunwarden: error: 'a/b' is not a network namespace name"),
        // Argument-parser's own errors.
        (["audit", "--bogus"], "tunwarden: error: Unknown option '--bogus'"),
        (["audit", "--format", "xml"], "tunwarden: error: The value 'xml' is invalid for '--format <format>'"),
        (["audit", "--limit"], "tunwarden: error: Missing value for '--limit <n>'"),
        (["bogus"], "tunwarden: error: Unexpected argument 'bogus'"),
        // A mistyped command names the one meant, as a mistyped option gets "Did you mean".
        (["audti"], "tunwarden: error: 'audti' is not a tunwarden command; did you mean 'audit'? The commands are audit, watch, reap, journal, history, snapshot"),
        (["--netns", "blue", "jurnal"], "tunwarden: error: 'jurnal' is not a tunwarden command; did you mean 'journal'?"),
        (["Reap"], "tunwarden: error: 'Reap' is not a tunwarden command; did you mean 'reap'?"),
        // An option said where it belongs, and the first unknown one before any command's own
        // check of how options go together.
        (["--dry-run", "--netns", HostileRun.missingNamespace, "reap"], "tunwarden: error: --dry-run is an option of reap: give it after the command name (as in `tunwarden reap --dry-run`)"),
        (["audit", "--json", "--netns", HostileRun.missingNamespace, "--no-state"], "tunwarden: error: there is no --json option: give --format json"),
        (["reap", "--dryrun", "--no-state", "--netns", HostileRun.missingNamespace], "tunwarden: error: Unknown option '--dryrun'. Did you mean '--dry-run'?"),
        (["audit", "--min-age", "1h", "--netns", HostileRun.missingNamespace, "--no-state"], "tunwarden: error: --min-age is an option of watch and reap, not of audit"),
        (["reap", "--min-age", "1h", "--netns", HostileRun.missingNamespace, "--no-state"], "tunwarden: error: --no-state is only for --dry-run"),
        // tunwarden's own usage error, for comparison.
        (["--config", "/nonexistent/tunwarden.conf", "--netns", HostileRun.missingNamespace, "audit"], "tunwarden: error: bad configuration: "),
    ] as [([String], String)])
    func usageErrorsHaveTheToolsStyleAndExit64(arguments: [String], firstLine: String) throws {
        let result = try Shell.capture([Shell.tunwardenBinary] + arguments)
        #expect(result.status == 64, "\(arguments): status \(result.status), stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix(firstLine) == true, "\(arguments): stderr was: \(result.stderr)")
        #expect(!lines.contains { $0.hasPrefix("Error:") }, "\(arguments): stderr was: \(result.stderr)")
    }

    /// Help is not an error: it still goes to standard output, exit 0, with no error prefix.
    @Test func helpIsNoError() throws {
        for arguments in [["--help"], ["audit", "--help"], ["help", "journal"]] {
            let result = try Shell.capture([Shell.tunwardenBinary] + arguments)
            #expect(result.status == 0 && result.stderr.isEmpty, "\(arguments): \(result.stderr)")
            #expect(result.stdout.contains("USAGE: tunwarden"), "\(arguments): \(result.stdout)")
            #expect(!result.stdout.contains("error:"), "\(arguments): \(result.stdout)")
        }
    }
}
