#if os(Linux)
import Foundation
import Testing
import TestSupport

/// README.md, the man page and `--help` say the same things about the tool, and what they say is
/// what the tool does.
@Suite struct DocumentationTests {
    static func file(_ path: String) throws -> String { try PackagingTests.file(path) }

    /// The help a command prints, unwrapped (a terminal 1000 columns wide).
    static func help(_ arguments: [String]) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "1000"
        let result = try Shell.capture([Shell.tunwardenBinary] + arguments, environment: environment)
        try #require(result.status == 0, "\(arguments): \(result.stderr)")
        return result.stdout
    }

    /// The ids `FindingID` declares, read from its source.
    static func declaredFindingIDs() throws -> Set<String> {
        let source = try file("Sources/TunwardenCore/Findings.swift")
        let body = try #require(source.range(of: "public enum FindingID {").map { source[$0.upperBound...] })
        let ids = body.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("public static let "), let equals = line.range(of: " = \"") else { return nil }
            return line[equals.upperBound...].split(separator: "\"").first.map(String.init)
        }
        return Set(ids)
    }

    @Test func helpReadmeAndManPageNameExactlyTheDeclaredFindings() throws {
        let declared = try Self.declaredFindingIDs()
        #expect(declared.count >= 15, "read \(declared.count) ids from Findings.swift")

        let help = try Self.help(["audit", "--help"])
        let listed = try #require(help.split(separator: "\n").first { $0.hasPrefix("Findings: ") })
        let helpIDs = listed.dropFirst("Findings: ".count).split(separator: ".").first?.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        #expect(Set(helpIDs) == declared, "audit --help: \(listed)")
        #expect(helpIDs.count == Set(helpIDs).count, "audit --help names a finding twice")

        let readme = try Self.file("README.md").split(separator: "\n")
        let header = try #require(readme.firstIndex { $0.hasPrefix("| finding |") }, "README.md has no findings table")
        let rows = readme[(header + 2)...].prefix { $0.hasPrefix("| `") }
        let readmeIDs = rows.compactMap { $0.split(separator: "`").dropFirst().first.map(String.init) }
        #expect(Set(readmeIDs) == declared, "README.md's findings table: \(readmeIDs)")
        #expect(readmeIDs.count == declared.count, "README.md's findings table names a finding twice")

        let page = try Self.file("man/tunwarden.8")
        let paragraph = try #require(page.range(of: "Findings carry").flatMap { start in
            page.range(of: ".Ss ", range: start.upperBound..<page.endIndex).map { page[start.lowerBound..<$0.lowerBound] }
        })
        let manIDs = paragraph.split(separator: "\n").filter { $0.hasPrefix(".Cm ") }
            .compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
        #expect(Set(manIDs) == declared, "man/tunwarden.8: \(manIDs)")
    }

    /// The options `tunwarden --help` lists, and ArgumentParser's --generate-completion-script,
    /// which no help lists, are each in the man page and README.md.
    @Test func theTopLevelOptionsAndCompletionScriptsAreDocumented() throws {
        let help = try Self.help(["--help"])
        // Option lines: "  -V, --version           Print …", "  --netns <name>          Inspect …".
        let options = help.split(separator: "\n").flatMap { line -> [String] in
            let names = String(line.drop { $0 == " " }).components(separatedBy: "  ")[0]
            guard names.hasPrefix("-") else { return [] }
            return names.components(separatedBy: ", ").compactMap { $0.split(separator: " ").first.map(String.init) }
        }.filter { $0 != "-h" && $0 != "--help" }
        #expect(Set(options).isSuperset(of: ["-V", "--version", "--netns", "--config"]), "\(options)")
        let page = try Self.file("man/tunwarden.8"), readme = try Self.file("README.md")
        for option in options + ["--generate-completion-script"] {
            #expect(page.contains("Fl \(option.dropFirst())"), "\(option) is not in man/tunwarden.8")
            #expect(readme.contains("`\(option)") || readme.contains("tunwarden \(option)"), "\(option) is not in README.md")
        }
        for shell in ["bash", "zsh", "fish"] {
            let script = try Shell.capture([Shell.tunwardenBinary, "--generate-completion-script", shell])
            #expect(script.status == 0 && script.stdout.contains("tunwarden"), "\(shell): \(script.stderr)")
        }
    }

    /// mandoc's style checks pass too (the CI check itself stays at -W warning). Two of them speak
    /// of this machine, not of the page: manuals it lacks, and an outdated mandoc.db.
    @Test(.enabled(if: Shell.which("mandoc") != nil, "needs mandoc"))
    func manPageHasNoStyleWarnings() throws {
        let result = try Shell.capture(["mandoc", "-T", "lint", "-W", "style", PackagingTests.repository.appendingPathComponent("man/tunwarden.8").path])
        let warnings = (result.stdout + result.stderr).split(separator: "\n").filter {
            !$0.contains("referenced manual not found") && !$0.contains("mandoc.db")
        }
        #expect(warnings.isEmpty, "\(warnings.joined(separator: "\n"))")
    }

    /// The long options a command's help lists, without --help and the --no-… inversions of flags.
    static func longOptions(_ command: String) throws -> [String] {
        try help([command, "--help"]).split(separator: "\n").flatMap { line -> [String] in
            let names = String(line.drop { $0 == " " }).components(separatedBy: "  ")[0]
            guard names.hasPrefix("-") else { return [] }
            return names.components(separatedBy: ", ").flatMap { $0.split(separator: " ").first?.split(separator: "/") ?? [] }
                .map(String.init).filter { $0.hasPrefix("--") }
        }.filter { $0 != "--help" && !$0.hasPrefix("--no-") || $0 == "--no-state" }
    }

    /// Each command's synopsis in the man page shows the global options its help lists.
    @Test func manSynopsisShowsTheGlobalOptionsOfEveryCommandThatTakesThem() throws {
        let page = try Self.file("man/tunwarden.8")
        let synopsis = try #require(page.range(of: ".Sh SYNOPSIS").flatMap { start in
            page.range(of: ".Sh DESCRIPTION").map { page[start.upperBound..<$0.lowerBound] }
        })
        let invocations = synopsis.components(separatedBy: ".Nm\n")
        for command in PackagingTests.commands {
            let invocation = try #require(invocations.first { $0.contains(".Cm \(command)\n") }, "no synopsis for \(command)")
            let options = try Self.longOptions(command)
            for global in ["--netns", "--config"] where options.contains(global) {
                #expect(invocation.contains(".Op Fl \(global.dropFirst()) Ar "), "the synopsis of \(command) omits \(global)")
            }
        }
    }

    /// README.md names every long option of every command (`--event-buffer` was missing).
    @Test func readmeNamesEveryOption() throws {
        let readme = try Self.file("README.md")
        for command in PackagingTests.commands {
            for option in try Self.longOptions(command) {
                let named = readme.ranges(of: option).contains { range in
                    range.upperBound == readme.endIndex || !(readme[range.upperBound].isLetter || readme[range.upperBound] == "-")
                }
                #expect(named, "README.md does not name \(command) \(option)")
            }
        }
    }

    /// One node_exporter textfile directory, Debian's, wherever a path is shown or used.
    @Test func everyTextfilePathIsDebiansNodeExporterDirectory() throws {
        let expected = "/var/lib/prometheus/node-exporter/tunwarden.prom"
        var texts = try ["README.md", "man/tunwarden.8", "packaging/systemd/tunwarden-audit.service", "packaging/systemd/tunwarden-watch.service",
                         "packaging/cron/tunwarden", "packaging/tunwarden.conf", "packaging/homebrew/tunwarden.rb",
                         "packaging/launchd/org.tunwarden.audit.plist", "packaging/launchd/org.tunwarden.watch.plist"].map { ($0, try Self.file($0)) }
        texts += try ([[]] + PackagingTests.commands.map { [$0] }).map { ("tunwarden \($0.joined()) --help", try Self.help($0 + ["--help"])) }
        var seen = 0
        for (name, text) in texts {
            for match in text.matches(of: #/(/[A-Za-z0-9_.-]+)+\.prom\b/#) {
                seen += 1
                #expect(String(match.output.0) == expected, "\(name) names \(match.output.0)")
            }
        }
        #expect(seen >= 6, "found only \(seen) textfile paths")
        for unit in ["tunwarden-audit.service", "tunwarden-watch.service"] {
            #expect(try Self.file("packaging/systemd/\(unit)").contains("ReadWritePaths=-/var/lib/prometheus/node-exporter\n"), "\(unit)")
        }
    }

    /// README's first command keeps state, and says where; the trial it offers writes nothing.
    @Test func readmesFirstCommandSaysWhereItKeepsStateAndOffersATrial() throws {
        let readme = try Self.file("README.md")
        let firstCommand = try #require(readme.split(separator: "\n").first { $0.contains("tunwarden audit") })
        #expect(firstCommand.contains("keeps state in /var/lib/tunwarden"), "\(firstCommand)")
        #expect(readme.contains("tunwarden audit --no-state`"), "README.md shows no trial run")
    }
}

/// `audit --no-state`, the trial README offers, creates no state directory.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct TrialRunTests {
    @Test func aTrialAuditWritesNoState() throws {
        let ns = try TestNamespace()
        let work = try TemporaryDirectory()
        defer { ns.remove(); work.remove() }
        try ns.ip("tuntap", "add", "dev", "trial0", "mode", "tun")
        let state = work.path + "/state"
        // The directory comes from a configuration file, as a host's would: on the command line
        // beside --no-state it is refused as ignored.
        let config = work.path + "/tunwarden.conf"
        try "state-dir: \(state)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let trial = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "--config", config, "audit", "--no-state"])
        #expect(trial.status == 1 && trial.stdout.contains("trial0"), "\(trial.stdout)\(trial.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state), "a trial run created \(state)")
        let both = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state", "--state-dir", state])
        #expect(both.status == 64 && both.stderr.contains("would be ignored"), "\(both.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state), "a refused run created \(state)")
        let kept = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state])
        #expect(kept.status == 1, "\(kept.stderr)")
        #expect(FileManager.default.fileExists(atPath: state + "/state.db"), "the audit that keeps state wrote none")
    }
}
#endif
