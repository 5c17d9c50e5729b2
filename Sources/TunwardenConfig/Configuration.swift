import Foundation
import TunwardenCore


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
