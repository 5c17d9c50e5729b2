import ArgumentParser
import Foundation
import TunwardenConfig
import TunwardenCore

/// One command's view of its options: what the command line gave, else what the configuration
/// file sets for that command, else the built-in default.
struct Settings {
    let file: Configuration
    let section: ConfigSection

    /// Reads the configuration file `--config` (or `TUNWARDEN_CONFIG`, or the default path) names;
    /// a file that cannot be used ends the run with exit code 64, before anything is done.
    static func load(_ global: GlobalOptions, for section: ConfigSection) throws -> Settings {
        let settings: Settings
        do {
            settings = Settings(file: try Configuration.load(explicitPath: global.config), section: section)
        } catch {
            Terminal.error("bad configuration: \(error)")
            throw ExitCode(ExitCode.validationFailure.rawValue)
        }
        // Told by the long-running watcher, once per start or reload, not by every hourly audit
        // (whose warnings land in cron mail).
        if section == .watch, let conflict = settings.judgingConflict() { Terminal.warning(conflict) }
        return settings
    }

    /// The thresholds an alert's status rests on.
    static let judgingKeys = ["limit", "warn", "growth", "growth-window"]

    /// What the file's `audit:` and `watch:` sections judge differently, while both keep one state
    /// directory: the last alerted status is one for the namespace, so each would alert the other's
    /// status back at every run (a CRITICAL from the hourly audit, a WARNING from the watcher).
    func judgingConflict() -> String? {
        guard file.text("state-dir", for: .audit) == file.text("state-dir", for: .watch) else { return nil }
        for key in Self.judgingKeys {
            let audit = file.value(key, for: .audit), watch = file.value(key, for: .watch)
            guard audit != watch else { continue }
            let places = [("audit", file.origin(key, for: .audit)), ("watch", file.origin(key, for: .watch))]
                .map { command, origin in "\(command)'s \(origin.map { "at \($0)" } ?? "the default")" }.joined(separator: ", ")
            return "the configuration sets \(key) differently for audit and watch (\(places)), which share one state directory and its alerts: "
                + "the status each alerts is the other's back at every run; set \(key) at the top level, or give them different state-dir"
        }
        return nil
    }

    func integer(_ given: Int?, _ key: String, default fallback: Int) -> Int {
        given ?? file.integer(key, for: section) ?? fallback
    }

    func integer(_ given: Int?, _ key: String) -> Int? {
        given ?? file.integer(key, for: section)
    }

    func text(_ given: String?, _ key: String) -> String? {
        given ?? file.text(key, for: section)
    }

    /// A duration from the command line (already checked by `validate()`), the file, or the default.
    func duration(_ given: String?, _ key: String, default fallback: TimeInterval) -> TimeInterval {
        given.flatMap(DurationText.parse) ?? file.duration(key, for: section) ?? fallback
    }

    /// A repeatable option: the command line's values replace the file's when any are given.
    func texts(_ given: [String], _ key: String) -> [String] {
        given.isEmpty ? file.texts(key, for: section) ?? [] : given
    }

    func flag(_ given: Bool?, _ key: String, default fallback: Bool) -> Bool {
        given ?? file.flag(key, for: section) ?? fallback
    }

    /// Where a setting came from, for messages: the option, or the file and line.
    func origin(_ given: Bool, _ key: String) -> String {
        given ? "--\(key)" : file.origin(key, for: section).map { "\(key) in \($0)" } ?? "the default --\(key)"
    }

    /// The limit and warning threshold for the tunnel count, checked against each other.
    func checkedCountPolicy(limit givenLimit: Int?, warn givenWarn: Int?) throws -> AuditPolicy {
        let limit = integer(givenLimit, "limit", default: 95)
        let warn = integer(givenWarn, "warn")
        if let warn, warn > limit {
            throw SettingsConflict(description: "the warning count (\(origin(givenWarn != nil, "warn")): \(warn)) is above the limit (\(origin(givenLimit != nil, "limit")): \(limit)); lower it or raise the limit")
        }
        return AuditPolicy(limit: limit, warnAt: warn)
    }

    /// The namespace to inspect: `--netns`, else the file's `netns`.
    func namespace(_ global: GlobalOptions) -> String? { text(global.netns, "netns") }

    /// The state directory: the `--state-dir` given, else the file's `state-dir`, else /var/lib/tunwarden.
    func stateDirectory(given: String?) -> String { text(given, "state-dir") ?? StateOptions.defaultDirectory }
}

/// Settings that are each valid but contradict one another.
struct SettingsConflict: Error, CustomStringConvertible {
    let description: String
}
