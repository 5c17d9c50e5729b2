import ArgumentParser
import Foundation
import TunwardenConfig
import TunwardenCore

/// What may be reaped and when: shared by `reap` and `watch --reap`.
public struct ReapOptions: ParsableArguments {
    @Option(name: .customLong("min-age"), help: ArgumentHelp(
        "How long an interface must have been seen orphaned before it is removed: 0, 90s, 15m, 2h, 1d; a number other than 0 needs its unit (default: 15m).",
        discussion: "Counted on the boot clock (CLOCK_BOOTTIME) in this boot: a step of the wall clock neither shortens nor lengthens it.",
        valueName: "duration"))
    public var minAge: String?

    @Option(name: .long, help: ArgumentHelp(
        "Never touch interfaces whose name or any alternative name matches this shell pattern (repeatable; replaces the file's list).",
        discussion: "fnmatch(3) on the name's bytes; \\xHH is the byte HH, as names are shown. A feth pair is one unit: the peer of a protected feth is kept too.", valueName: "glob"))
    public var protect: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Only remove interfaces of this kind: tun or tap (on macOS, the routes into closed tuntaposx ones); for a macOS capture also utun or feth (repeatable).",
        discussion: "It selects kinds, never one device: a tun/tap with an owner or group set (provisioned-tun: provisioned for a user, who could not make it again) stays out of every plan; delete such a device by hand once its user no longer needs it.",
        valueName: "kind"))
    public var only: [String] = []

    @Option(name: .long, help: ArgumentHelp("The journal file (default: journal.jsonl in the state directory).", valueName: "path"))
    public var journal: String?

    public init() {}

    public func validate() throws {
        try OptionCheck.duration(minAge, "--min-age", minimum: SettingBounds.shortestMinimumAge, examples: "0, 90s, 15m, 2h or 1d")
        if protect.contains("") {
            throw ValidationError("--protect takes a shell pattern such as 'wg*'; got an empty one, which protects nothing")
        }
        for pattern in protect {
            if let slip = Glob.slip(in: pattern) { throw ValidationError("--protect '\(Glob.display(pattern))': \(slip)") }
        }
        try OptionCheck.path(journal, "--journal")
        if let journal, let mistake = Self.misplaced(journal: journal) { throw ValidationError(mistake) }
        for kind in only {
            if let refusal = Self.refusal(onlyKind: kind, capture: nil) { throw ValidationError("--only takes no '\(kind)': \(refusal)") }
        }
    }

    /// Why `path`, given as --journal, cannot be one: it is a directory, or its directory does not
    /// exist. A mistyped path would otherwise hold the only record of what a reap removed (and the
    /// commands that make it again) where `tunwarden journal` never looks. Nil when it may be one
    /// (whether it can be written is found when the reap opens it).
    static func misplaced(journal path: String) -> String? {
        var status = stat()
        if stat(path, &status) == 0 {
            return status.st_mode & S_IFMT == S_IFDIR ? "--journal '\(path)' is a directory; give the journal's file (\(path.hasSuffix("/") ? path : path + "/")journal.jsonl, say)" : nil
        }
        guard errno == ENOENT || errno == ENOTDIR else { return nil }
        // The directory part, by hand: Foundation's path methods trap on some runs of slashes.
        var name = Substring(path)
        while name.count > 1, name.hasSuffix("/") { name = name.dropLast() }
        guard let slash = name.lastIndex(of: "/") else { return nil }
        let directory = name[..<slash].isEmpty ? "/" : String(name[..<slash])
        let advice = "create it, or give another path (the default is journal.jsonl in the state directory)"
        if stat(directory, &status) != 0 {
            return errno == ENOTDIR ? "--journal '\(path)': a part of \(directory) is a file, not a directory; give another path (the default is journal.jsonl in the state directory)"
                : "--journal '\(path)': the directory \(directory) does not exist; \(advice)"
        }
        if status.st_mode & S_IFMT != S_IFDIR { return "--journal '\(path)': \(directory) is not a directory; give another path (the default is journal.jsonl in the state directory)" }
        return nil
    }

    /// Why a reap cannot select `kind`, or nil when it can. With `capture` nil only what no reap
    /// anywhere removes is refused; with it, also what this system's reap cannot find: on Linux a
    /// utun or feth exists only in a macOS capture.
    static func refusal(onlyKind kind: String, capture: Bool?) -> String? {
        guard let known = InterfaceKind(rawValue: kind), ReapPolicy.removableKinds.contains(known) else {
            let reported = InterfaceKind.tunnel(named: kind) == nil ? "it is no interface kind" : "\(kind) interfaces are reported, never reaped"
            return "\(reported); a reap removes tun and tap (and, in a macOS capture, utun and feth)"
        }
        #if os(Linux)
        if capture == false, ReapPolicy.macOSKinds.contains(known) {
            return "\(kind) is a macOS interface, and on Linux a reap removes tun and tap (plan for a macOS capture with `tunwarden reap --from PATH --dry-run`)"
        }
        #endif
        return nil
    }

    /// The reap policy from these options, the configuration file and the defaults; `capture` says
    /// whether it plans for a captured snapshot. A kind this reap cannot remove, from the command
    /// line or the file, is an error naming where it came from: it would select nothing, and the
    /// run would quietly report nothing to reap.
    func policy(_ settings: Settings, capture: Bool) throws -> ReapPolicy {
        let kinds = settings.texts(only, "only")
        for kind in kinds {
            if let refusal = Self.refusal(onlyKind: kind, capture: capture) {
                throw SettingsConflict(description: "\(settings.origin(!only.isEmpty, "only")) takes no '\(kind)': \(refusal)")
            }
        }
        return ReapPolicy(minimumAge: settings.duration(minAge, "min-age", default: 900), protect: settings.texts(protect, "protect"),
                          onlyKinds: kinds.isEmpty ? nil : Set(kinds.compactMap(InterfaceKind.init(rawValue:))))
    }

    /// The journal file: --journal, the file's `journal`, or journal.jsonl in `stateDirectory`.
    func journalPath(_ settings: Settings, stateDirectory: String) -> String {
        settings.text(journal, "journal") ?? stateDirectory + "/journal.jsonl"
    }
}
