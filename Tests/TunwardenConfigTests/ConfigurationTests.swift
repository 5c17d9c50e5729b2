import Foundation
import Testing
@testable import TunwardenConfig

@Suite struct ConfigurationTests {
    static let example = """
    # tunwarden settings
    state-dir: /srv/tunwarden     # shared by every command
    limit: 120
    growth-window: 2h
    protect: ["wg*", no]
    alert-webhook: https://alerts.example/hook

    audit:
      limit: 90
      format: nagios
      all: yes
    reap:
      min-age: 1h
      only: tun
    watch:
      reap: true
      coalesce: 50
      stats-interval: 30s
    """

    @Test func sectionsBeatTheTopLevelWhichAppliesToEveryCommandThatHasTheOption() throws {
        let config = try Configuration.parse(Self.example, path: "t.conf")
        #expect(config.integer("limit", for: .audit) == 90)
        #expect(config.integer("limit", for: .watch) == 120)
        #expect(config.text("state-dir", for: .reap) == "/srv/tunwarden")
        #expect(config.duration("growth-window", for: .watch) == 7200)
        #expect(config.text("format", for: .audit) == "nagios")
        #expect(config.flag("all", for: .audit) == true)
        #expect(config.duration("min-age", for: .reap) == 3600)
        #expect(config.duration("min-age", for: .watch) == nil)
        #expect(config.texts("only", for: .reap) == ["tun"])
        #expect(config.flag("reap", for: .watch) == true)
        #expect(config.integer("coalesce", for: .watch) == 50)
        #expect(config.duration("stats-interval", for: .watch) == 30)
        #expect(config.origin("limit", for: .audit) == "t.conf:9")
        #expect(config.origin("limit", for: .reap) == "t.conf:3")
    }

    @Test func valuesAreReadFromTheirTextNotFromYAMLsGuessesAboutType() throws {
        // YAML 1.1 would make `no` a boolean and `0755`-style numbers octal; a pattern stays text.
        let config = try Configuration.parse("protect: [no, 'on', 0123]\n", path: "t.conf")
        #expect(config.texts("protect", for: .reap) == ["no", "on", "0123"])
    }

    @Test func anEmptyOrCommentOnlyFileSetsNothing() throws {
        let config = try Configuration.parse("# everything commented out\n# limit: 95\n", path: "t.conf")
        #expect(config.value("limit", for: .audit) == nil)
    }

    /// Each bad file names the line and the key and says what was expected.
    @Test(arguments: [
        ("limit: 95\nlimt: 80\n", 2, "limt", "unknown setting"),
        ("limit: lots\n", 1, "limit", "expected a whole number; got 'lots'"),
        ("audit:\n  limit: 0\n", 2, "audit.limit", "must be from 1"),
        ("reap:\n  min-age: soon\n", 2, "reap.min-age", "expected a duration"),
        ("watch:\n  format: json\n", 2, "watch.format", "watch has no such option"),
        ("coalesce: 10\n", 1, "coalesce", "inside a command's section"),
        ("limit: 1\nlimit: 2\n", 2, "limit", "set twice (also on line 1)"),
        ("textfile: /tmp/metrics.txt\n", 1, "textfile", "ending in .prom"),
        ("alert-webhook: ftp://x\n", 1, "alert-webhook", "http:// or https://"),
        ("state-dir: relative/dir\n", 1, "state-dir", "absolute path"),
        ("reap:\n  format: nagios\n", 2, "reap.format", "expected one of table, json"),
        ("audit:\n  all: maybe\n", 2, "audit.all", "expected true or false"),
        ("limit:\n", 1, "limit", "has no value"),
        ("protect: {a: b}\n", 1, "protect", "expected a single value"),
        ("netns: ../etc\n", 1, "netns", "not a network namespace name"),
        ("reap: 5\n", 1, "reap", "a section"),
        ("only: [tun, banana]\n", 1, "only", "got 'banana'"),
        ("reap:\n  only: [tap, veth]\n", 2, "reap.only", "veth interfaces are reported, never reaped; got 'veth'"),
        ("yes: true\n", 1, "yes", "cannot be set in the file: consent to delete belongs to the person running the command"),
        ("limit: 9\nreap:\n  yes: true\n", 3, "reap.yes", "consent to delete belongs to the person running the command; give --yes on the command line"),
        ("reap:\n  dry-run: true\n", 2, "reap.dry-run", "cannot be set in the file: whether a reap acts is the choice of the person running it"),
        ("audit:\n  from: /tmp/capture\n", 2, "audit.from", "cannot be set in the file: auditing a capture is a one-off choice"),
        ("no-state: true\n", 1, "no-state", "cannot be set in the file: a run without observations is a one-off choice"),
        ("audit:\n  quiet: true\n", 2, "audit.quiet", "cannot be set in the file"),
        ("audit:\n  color: never\n", 2, "audit.color", "cannot be set in the file: colour is the terminal's matter"),
        ("color: never\n", 1, "color", "give --color on the command line, or set NO_COLOR"),
        ("reap:\n  min-age: 36501d\n", 2, "reap.min-age", "must be at most 36500d (100 years); got '36501d'"),
        ("min-age: 99999999999999999999d\n", 1, "min-age", "must be at most 36500d (100 years); got '99999999999999999999d'"),
        ("growth-window: 0.5s\n", 1, "growth-window", "must be at least 1s; got '0.5s'"),
        ("watch:\n  stats-interval: inf\n", 2, "watch.stats-interval", "expected a duration like 90s"),
        ("limit: 9223372036854775807\n", 1, "limit", "must be from 1 to 1000000; got 9223372036854775807"),
        ("protect: ['wg*', '']\n", 1, "protect", "a pattern cannot be empty"),
        ("reap:\n  protect: ['tun[0-9']\n", 2, "reap.protect", "pattern 'tun[0-9': its '[' has no ']' to close it"),
        ("state-dir: ''\n", 1, "state-dir", "expected an absolute path"),
        ("audit:\n  alert-exec: \"\"\n", 2, "audit.alert-exec", "expected a shell command"),
        ("alert-exec: '  '\n", 1, "alert-exec", "an empty one would take every alert as delivered"),
    ] as [(String, Int, String, String)])
    func badSettingsNameTheirLineAndKey(text: String, line: Int, key: String, problem: String) {
        do {
            _ = try Configuration.parse(text, path: "/etc/tunwarden/tunwarden.conf")
            Issue.record("accepted: \(text)")
        } catch let error as ConfigError {
            #expect(error.line == line, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.problem.contains(problem), "\(error)")
            #expect(error.description.hasPrefix("/etc/tunwarden/tunwarden.conf:\(line): '\(key)': "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func brokenYAMLNamesTheLine() {
        do {
            _ = try Configuration.parse("limit: 95\naudit:\n  limit: [1, 2\n  format: json\n", path: "t.conf")
            Issue.record("accepted broken YAML")
        } catch let error as ConfigError {
            #expect(error.line != nil && error.line! >= 3, "\(error)")
            #expect(error.problem.contains("not valid YAML"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: ConfigError.self) { try Configuration.parse("- a list\n- not settings\n", path: "t.conf") }
    }

    /// The line named is the one to fix, not the one where libyaml gave up (the next line, or the
    /// end of the file).
    @Test(arguments: [
        ("limit: 3\nwarn 5\n", 2),                       // the review's example: a missing ':' on the last line
        ("limit: 3\nwarn 5\ngrowth: 4\n", 2),
        ("limit: 3\nwarn 5", 2),                         // no line end
        ("limit: 3\nwarn 5\n\n\n# end\n", 2),           // blank lines and a comment after it
        ("reap:\n  min-age: 1h\n  protect\n", 3),        // inside a section
        ("warn 5\nlimit: 3\n", 1),                       // the first line, read with the next as one scalar
        ("limit: 3\nprotect: \"wg*\nwarn: 4\n", 2),       // an unclosed quote
        ("protect: [wg*, x\nlimit: 3\n", 1),              // an unclosed bracket
        ("limit: 3\nprotect: [wg*, x\n", 2),
        ("limit: 95\naudit:\n  limit: [1, 2\n  format: json\n", 3),
        ("reap:\n  min-age: 1h\n protect: x\n", 3),      // indented wrong
        ("limit: 3\n\twarn: 5\n", 2),                    // a tab
        ("limit: 3\nalert-exec: a: b\nwarn: 2\n", 2),    // a second ':' in a value
        ("limit: 3\n- x\n", 2),
    ] as [(String, Int)])
    func brokenYAMLNamesTheLineToFix(text: String, line: Int) {
        do {
            _ = try Configuration.parse(text, path: "t.conf")
            Issue.record("accepted broken YAML: \(text)")
        } catch let error as ConfigError {
            #expect(error.line == line, "\(text.debugDescription): \(error)")
            #expect(error.problem.contains("not valid YAML"), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func theDefaultFileMayBeAbsentButAFileAskedForMustExist() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twconfig-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let missing = directory + "/none.conf"
        #expect(throws: ConfigError.self) { try Configuration.load(explicitPath: missing, environment: [:]) }
        #expect(throws: ConfigError.self) { try Configuration.load(explicitPath: nil, environment: ["TUNWARDEN_CONFIG": missing]) }
        let file = directory + "/tunwarden.conf"
        try "limit: 7\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try Configuration.load(explicitPath: nil, environment: ["TUNWARDEN_CONFIG": file]).integer("limit", for: .audit) == 7)
        // /dev/null is the usual way to say "no settings".
        #expect(try Configuration.load(explicitPath: "/dev/null", environment: [:]).value("limit", for: .audit) == nil)
        // --config beats the environment.
        try "limit: 8\n".write(toFile: directory + "/other.conf", atomically: true, encoding: .utf8)
        #expect(try Configuration.load(explicitPath: directory + "/other.conf", environment: ["TUNWARDEN_CONFIG": file]).integer("limit", for: .audit) == 8)
    }

    /// The commented default file shipped in packages parses as it is, and with every setting
    /// uncommented: the example stays in step with the keys.
    @Test func theShippedExampleParsesCommentedAndUncommented() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("packaging/tunwarden.conf").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(try Configuration.parse(text, path: path).value("limit", for: .audit) == nil)
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("#"), let next = line.dropFirst().first, next.isLetter || line.hasPrefix("#  ") { return String(line.dropFirst()) }
            return String(line)
        }.joined(separator: "\n")
        let config = try Configuration.parse(uncommented, path: path)
        #expect(config.integer("limit", for: .watch) == 95)
        #expect(config.texts("protect", for: .reap) == ["wg*", "tailscale*"])
        #expect(config.flag("reap", for: .watch) == false)
        #expect(config.integer("event-buffer", for: .watch) == 8_388_608)
    }
}
