import Foundation
import TunwardenCore
import Yams

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
            ConfigKey(name: "resolve-after", kind: .duration(minimum: 0), sections: watch, topLevel: false),
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
        "color": "colour is the terminal's matter, not every run's; give --color on the command line, or set NO_COLOR in the environment",
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
            let text = try scalarText(node)
            guard !text.allSatisfy(\.isWhitespace) else {
                throw fail("expected a shell command; an empty one would take every alert as delivered and tell no one")
            }
            return .text(text)
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
            for pattern in patterns {
                if let slip = Glob.slip(in: pattern) { throw fail("pattern '\(Glob.display(pattern))': \(slip)") }
            }
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
