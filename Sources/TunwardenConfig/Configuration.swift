import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TunwardenCore
import Yams

/// The commands whose options a configuration file can set, each with a section of its own.
public enum ConfigSection: String, CaseIterable, Sendable {
    case audit, reap, watch
}

/// A value from the configuration file, already checked against what its key takes.
public enum ConfigValue: Equatable, Sendable {
    case integer(Int)
    case duration(TimeInterval)
    case text(String)
    case texts([String])
    case flag(Bool)
}

/// A configuration file that cannot be used: which file, which line and key, and what was wrong.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let line: Int?
    public let key: String?
    public let problem: String

    public init(path: String, line: Int?, key: String?, problem: String) {
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
    }

    public var description: String {
        var text = path
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "'\(key)': " }
        return text + problem
    }
}

/// tunwarden's configuration file: YAML whose keys are the commands' long option names.
///
/// Keys at the top level apply to every command that has that option; a key in an `audit:`,
/// `reap:` or `watch:` section applies to that command only and beats the top level. The command
/// line beats both. Every value is checked when the file is read (unknown keys, wrong types and
/// out-of-range values are errors naming the line), so a command never starts half-configured.
/// Values are read from their text, never from YAML's own typing, so `protect: [no]` protects an
/// interface called "no".
public struct Configuration: Sendable {
    /// Where the settings came from (nil when no file is in use).
    public let path: String?
    struct Entry: Sendable {
        let value: ConfigValue
        let line: Int
    }
    var topLevel: [String: Entry] = [:]
    var sections: [ConfigSection: [String: Entry]] = [:]

    /// No file: every option keeps its built-in default.
    public static let empty = Configuration(path: nil)

    init(path: String?) { self.path = path }

    /// The value `key` has for `section`'s command, if the file sets it.
    public func value(_ key: String, for section: ConfigSection) -> ConfigValue? {
        entry(key, for: section)?.value
    }

    /// "FILE:LINE" of the setting `key` has for `section`, for messages about it.
    public func origin(_ key: String, for section: ConfigSection) -> String? {
        guard let path, let entry = entry(key, for: section) else { return nil }
        return "\(path):\(entry.line)"
    }

    func entry(_ key: String, for section: ConfigSection) -> Entry? {
        sections[section]?[key] ?? topLevel[key]
    }

    public func integer(_ key: String, for section: ConfigSection) -> Int? {
        if case let .integer(value) = value(key, for: section) { return value }
        return nil
    }

    public func duration(_ key: String, for section: ConfigSection) -> TimeInterval? {
        if case let .duration(value) = value(key, for: section) { return value }
        return nil
    }

    public func text(_ key: String, for section: ConfigSection) -> String? {
        if case let .text(value) = value(key, for: section) { return value }
        return nil
    }

    public func texts(_ key: String, for section: ConfigSection) -> [String]? {
        if case let .texts(value) = value(key, for: section) { return value }
        return nil
    }

    public func flag(_ key: String, for section: ConfigSection) -> Bool? {
        if case let .flag(value) = value(key, for: section) { return value }
        return nil
    }
}

extension Configuration {
    /// An http(s) URL with a host, as alert webhooks take (from the file or the command line).
    public static func webhookURL(_ text: String) -> URL? {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else { return nil }
        return url
    }

    /// The file used when neither `--config` nor `TUNWARDEN_CONFIG` names one.
    public static let defaultPath = "/etc/tunwarden/tunwarden.conf"

    /// Reads the configuration: `explicitPath` (from `--config`), else `$TUNWARDEN_CONFIG`, else
    /// the default path. A file that was asked for must exist; the default file may be absent.
    public static func load(explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Configuration {
        let requested = explicitPath ?? environment["TUNWARDEN_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let path = requested ?? defaultPath
        guard FileManager.default.fileExists(atPath: path) else {
            if requested == nil { return .empty }
            throw ConfigError(path: path, line: nil, key: nil, problem: "no such file; give an existing file to --config (or TUNWARDEN_CONFIG)")
        }
        let data = try contents(of: path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: path, line: nil, key: nil, problem: "is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// The most a configuration file may hold. Real ones hold a few hundred bytes; the bound keeps
    /// a wrong path (a log, a disk image) from being read whole.
    public static let maximumSize = 1 << 20

    /// The bytes of the file at `path`, which must be a regular file of at most `maximumSize`
    /// bytes, or /dev/null (no settings). Anything else (a directory, /dev/zero, a FIFO with no
    /// writer, a terminal) is an error at once instead of a read that hangs or never ends.
    static func contents(of path: String) throws -> Data {
        func refuse(_ problem: String) -> ConfigError { ConfigError(path: path, line: nil, key: nil, problem: problem) }
        // Non-blocking, so that opening a FIFO does not wait for a writer; it is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw refuse("cannot be opened for reading (\(String(cString: strerror(errno)))); check its permissions") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw refuse("cannot be read (\(String(cString: strerror(errno))))") }
        var null = stat()
        let isNull = status.st_mode & S_IFMT == S_IFCHR && stat("/dev/null", &null) == 0 && null.st_rdev == status.st_rdev
        guard status.st_mode & S_IFMT == S_IFREG || isNull else {
            let kinds = [S_IFDIR: "a directory", S_IFCHR: "a character device", S_IFBLK: "a block device", S_IFIFO: "a FIFO", S_IFSOCK: "a socket"]
            throw refuse("is \(kinds[status.st_mode & S_IFMT] ?? "not a regular file"), not a file of settings; give one (or /dev/null for none)")
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw refuse("cannot be read (\(String(cString: strerror(errno))))")
            }
            if count == 0 { return data }
            data.append(contentsOf: buffer.prefix(count))
            guard data.count <= maximumSize else {
                throw refuse("is larger than \(maximumSize >> 20) MiB, which is not a configuration file; check the path")
            }
        }
    }

    /// Parses and checks the text of a configuration file; `path` names it in errors.
    public static func parse(_ text: String, path: String) throws -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, path: path, text: text)
        }
        var configuration = Configuration(path: path)
        guard let root else { return configuration }
        guard case let .mapping(mapping) = root else {
            throw ConfigError(path: path, line: root.mark?.line, key: nil,
                              problem: "expected settings as 'key: value' lines (see the example in /usr/share/doc/tunwarden or README.md)")
        }
        for (name, node, line) in try pairs(of: mapping, path: path) {
            if let section = ConfigSection(rawValue: name), case let .mapping(inner) = node {
                var entries: [String: Entry] = [:]
                for (innerName, innerNode, innerLine) in try pairs(of: inner, path: path) {
                    let qualified = "\(section.rawValue).\(innerName)"
                    if let reason = ConfigKey.commandLineOnly[innerName] {
                        throw ConfigError(path: path, line: innerLine, key: qualified, problem: "cannot be set in the file: \(reason)")
                    }
                    guard let key = ConfigKey.all[innerName] else {
                        throw ConfigError(path: path, line: innerLine, key: qualified, problem: "unknown setting; \(section.rawValue) takes: \(ConfigKey.names(for: section))")
                    }
                    guard key.sections.contains(section) else {
                        throw ConfigError(path: path, line: innerLine, key: qualified,
                                          problem: "\(section.rawValue) has no such option; it belongs in \(key.sections.map { "'\($0.rawValue):'" }.sorted().joined(separator: " or "))")
                    }
                    entries[innerName] = Entry(value: try key.read(innerNode, section: section, path: path, line: innerLine, name: qualified), line: innerLine)
                }
                configuration.sections[section] = entries
                continue
            }
            if ConfigSection(rawValue: name) != nil, ConfigKey.all[name]?.topLevel != true {
                throw ConfigError(path: path, line: line, key: name, problem: "a section: indent its settings below it (for example '  min-age: 1h')")
            }
            if let reason = ConfigKey.commandLineOnly[name] {
                throw ConfigError(path: path, line: line, key: name, problem: "cannot be set in the file: \(reason)")
            }
            guard let key = ConfigKey.all[name] else {
                throw ConfigError(path: path, line: line, key: name, problem: "unknown setting; known settings: \(ConfigKey.names(for: nil))")
            }
            guard key.topLevel else {
                throw ConfigError(path: path, line: line, key: name,
                                  problem: "set it inside a command's section (\(key.sections.map { "'\($0.rawValue):'" }.sorted().joined(separator: " or ")))")
            }
            configuration.topLevel[name] = Entry(value: try key.read(node, section: nil, path: path, line: line, name: name), line: line)
        }
        return configuration
    }

    /// The key/value pairs of a mapping with their lines; keys must be plain text. (Yams has
    /// already refused duplicate keys.)
    static func pairs(of mapping: Node.Mapping, path: String) throws -> [(String, Node, Int)] {
        var result: [(String, Node, Int)] = []
        for (keyNode, value) in mapping {
            let line = keyNode.mark?.line ?? 0
            guard case let .scalar(scalar) = keyNode else {
                throw ConfigError(path: path, line: line, key: nil, problem: "a setting's name must be plain text")
            }
            result.append((scalar.string, value, line))
        }
        return result
    }

    static func syntaxError(_ error: YamlError, path: String, text: String) -> ConfigError {
        switch error {
        case let .duplicatedKeysInMapping(duplicates, _):
            // Yams names the key but not the lines: find where it is set.
            let key = duplicates.sorted().first ?? ""
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line -> Int? in
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                guard trimmed.hasPrefix(key) else { return nil }
                return trimmed.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }.hasPrefix(":") ? index + 1 : nil
            }
            let problem = lines.count >= 2 ? "set twice (also on line \(lines[0])); keep one" : "set twice; keep one"
            return ConfigError(path: path, line: lines.count >= 2 ? lines[1] : nil, key: key, problem: problem)
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let detail = [context.map { "\($0.text)" }, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return ConfigError(path: path, line: mark.line, key: nil, problem: "not valid YAML (\(detail)); check the indentation and quoting near this line")
        case let .reader(problem, _, _, _):
            return ConfigError(path: path, line: nil, key: nil, problem: "cannot be read as text (\(problem))")
        default:
            return ConfigError(path: path, line: nil, key: nil, problem: "not valid YAML (\(error))")
        }
    }
}

/// The bounds of every number a setting takes, the same on the command line and in the file, so
/// nothing from outside reaches arithmetic that could overflow.
public enum SettingBounds {
    /// Counts of tunnel-style interfaces: `limit`, `warn` and `growth`.
    public static let count: ClosedRange<Int> = 1...1_000_000
    /// `coalesce`, in milliseconds.
    public static let coalesce: ClosedRange<Int> = 0...60_000
    /// `event-buffer`, in bytes.
    public static let eventBuffer: ClosedRange<Int> = 1024...(1 << 30)
    /// The shortest `min-age` (the longest of any duration is `DurationText.maximum`).
    public static let shortestMinimumAge: TimeInterval = 0
    /// The shortest `growth-window` and `stats-interval`.
    public static let shortestInterval: TimeInterval = 1
}

/// One setting the file may hold: its name (the long option's), what it takes, and which
/// commands have it.
struct ConfigKey: Sendable {
    enum Kind: Sendable {
        case integer(ClosedRange<Int>)
        /// A duration of at least this many seconds.
        case duration(minimum: TimeInterval)
        case path
        case command
        case url
        case textfile
        case namespace
        case choice([String])
        case patterns
        case kinds
        case flag
    }

    let name: String
    let kind: Kind
    let sections: Set<ConfigSection>
    /// Whether the key may stand at the top level (applying to every command that has it).
    let topLevel: Bool

    static let all: [String: ConfigKey] = {
        let audit: Set<ConfigSection> = [.audit], reap: Set<ConfigSection> = [.reap], watch: Set<ConfigSection> = [.watch]
        let keys = [
            ConfigKey(name: "netns", kind: .namespace, sections: audit.union(reap).union(watch), topLevel: true),
            ConfigKey(name: "state-dir", kind: .path, sections: audit.union(reap).union(watch), topLevel: true),
            ConfigKey(name: "limit", kind: .integer(SettingBounds.count), sections: audit.union(watch), topLevel: true),
            ConfigKey(name: "warn", kind: .integer(SettingBounds.count), sections: audit.union(watch), topLevel: true),
            ConfigKey(name: "growth", kind: .integer(SettingBounds.count), sections: audit.union(watch), topLevel: true),
            ConfigKey(name: "growth-window", kind: .duration(minimum: SettingBounds.shortestInterval), sections: audit.union(watch), topLevel: true),
            ConfigKey(name: "alert-exec", kind: .command, sections: audit.union(watch), topLevel: true),
            ConfigKey(name: "alert-webhook", kind: .url, sections: audit.union(watch), topLevel: true),
            ConfigKey(name: "textfile", kind: .textfile, sections: audit.union(watch), topLevel: true),
            ConfigKey(name: "min-age", kind: .duration(minimum: SettingBounds.shortestMinimumAge), sections: reap.union(watch), topLevel: true),
            ConfigKey(name: "protect", kind: .patterns, sections: reap.union(watch), topLevel: true),
            ConfigKey(name: "only", kind: .kinds, sections: reap.union(watch), topLevel: true),
            ConfigKey(name: "journal", kind: .path, sections: reap.union(watch), topLevel: true),
            ConfigKey(name: "all", kind: .flag, sections: audit, topLevel: false),
            ConfigKey(name: "format", kind: .choice(["table", "json", "nagios"]), sections: audit.union(reap), topLevel: false),
            ConfigKey(name: "coalesce", kind: .integer(SettingBounds.coalesce), sections: watch, topLevel: false),
            ConfigKey(name: "event-buffer", kind: .integer(SettingBounds.eventBuffer), sections: watch, topLevel: false),
            ConfigKey(name: "stats-interval", kind: .duration(minimum: SettingBounds.shortestInterval), sections: watch, topLevel: false),
            ConfigKey(name: "reap", kind: .flag, sections: watch, topLevel: false),
        ]
        return Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })
    }()

    /// Options the file may not set, each with why and what to do instead: consent and one-off
    /// choices belong to the person running the command, not to a file that applies to every run.
    static let commandLineOnly: [String: String] = [
        "yes": "consent to delete belongs to the person running the command; give --yes on the command line (for an unattended reap, on the timer's or cron entry's)",
        "dry-run": "whether a reap acts is the choice of the person running it; give --dry-run on the command line",
        "from": "auditing a capture is a one-off choice; give --from on the command line",
        "no-state": "a run without observations is a one-off choice; give --no-state on the command line (state-dir sets where they are kept)",
        "quiet": "how much a run prints is the choice of the person running it; give --quiet on the command line",
        "verbose": "how much a run prints is the choice of the person running it; give --verbose on the command line",
    ]

    /// The settings allowed at the top level (nil) or in a section, for error messages.
    static func names(for section: ConfigSection?) -> String {
        let keys = all.values.filter { key in section.map { key.sections.contains($0) } ?? key.topLevel }.map(\.name).sorted()
        return keys.joined(separator: ", ") + (section == nil ? ", and the sections audit:, reap:, watch:" : "")
    }

    /// Checks a node against what this key takes and returns its value.
    func read(_ node: Node, section: ConfigSection?, path: String, line: Int, name: String) throws -> ConfigValue {
        func fail(_ problem: String) -> ConfigError { ConfigError(path: path, line: line, key: name, problem: problem) }
        func scalarText(_ node: Node) throws -> String {
            guard case let .scalar(scalar) = node else { throw fail("expected a single value, not a list or section") }
            guard !(scalar.style == .plain && scalar.string.isEmpty) else { throw fail("has no value; give one or delete the line") }
            return scalar.string
        }
        func list(_ node: Node) throws -> [String] {
            if case let .sequence(sequence) = node { return try sequence.map { try scalarText($0) } }
            return [try scalarText(node)]
        }
        switch kind {
        case let .integer(range):
            let text = try scalarText(node)
            guard let value = Int(text) else { throw fail("expected a whole number; got '\(text)'") }
            guard range.contains(value) else { throw fail("must be from \(range.lowerBound) to \(range.upperBound); got \(value)") }
            return .integer(value)
        case let .duration(minimum):
            let text = try scalarText(node)
            do {
                return .duration(try DurationText.checked(text, minimum: minimum))
            } catch {
                throw fail("\(error)")
            }
        case .path:
            let text = try scalarText(node)
            guard text.hasPrefix("/") else { throw fail("expected an absolute path (starting with /); got '\(text)'") }
            return .text(text)
        case .command:
            return .text(try scalarText(node))
        case .url:
            let text = try scalarText(node)
            guard Configuration.webhookURL(text) != nil else {
                throw fail("expected an http:// or https:// URL; got '\(text)'")
            }
            return .text(text)
        case .textfile:
            let text = try scalarText(node)
            guard text.hasPrefix("/"), text.hasSuffix(".prom") else {
                throw fail("expected an absolute path ending in .prom (node_exporter's textfile collector reads only those); got '\(text)'")
            }
            return .text(text)
        case .namespace:
            let text = try scalarText(node)
            guard NamespaceName.isValid(text) else { throw fail("'\(text)' is not a network namespace name: use a name that `ip netns list` prints") }
            return .text(text)
        case let .choice(choices):
            let allowed = section == .reap ? choices.filter { $0 != "nagios" } : choices
            let text = try scalarText(node)
            guard allowed.contains(text) else { throw fail("expected one of \(allowed.joined(separator: ", ")); got '\(text)'") }
            return .text(text)
        case .patterns:
            let patterns = try list(node)
            if let empty = patterns.first(where: \.isEmpty) { throw fail("a pattern cannot be empty ('\(empty)')") }
            return .texts(patterns)
        case .kinds:
            let kinds = try list(node)
            let removable = ReapPolicy.removableKinds.map(\.rawValue)
            for kind in kinds where !removable.contains(kind) {
                let reason = InterfaceKind.tunnel(named: kind) == nil ? "" : "; \(kind) interfaces are reported, never reaped"
                throw fail("expected kinds a reap removes (\(removable.joined(separator: ", ")))\(reason); got '\(kind)'")
            }
            return .texts(kinds)
        case .flag:
            let text = try scalarText(node).lowercased()
            switch text {
            case "true", "yes", "on": return .flag(true)
            case "false", "no", "off": return .flag(false)
            default: throw fail("expected true or false; got '\(text)'")
            }
        }
    }
}
