import ArgumentParser
import Foundation
import Storage
import TunwardenCore

/// Where tunwarden keeps what it learns between runs.
public struct StateOptions: ParsableArguments {
    /// Where observations and the journal live unless told otherwise.
    static let defaultDirectory = "/var/lib/tunwarden"

    @Option(name: .customLong("state-dir"), help: ArgumentHelp(
        "Directory of tunwarden's observations (state.db: first seen, orphaned since, the count history, alerts), the lock a reap holds while it acts, and the default journal (default: \(defaultDirectory)).",
        valueName: "dir"))
    public var stateDirectory: String?

    @Flag(name: .customLong("no-state"), help: "Neither read nor write observations (ages and grace periods are then unknown); reap takes it only with --dry-run.")
    public var noState = false

    public init() {}

    public func validate() throws {
        try OptionCheck.path(stateDirectory, "--state-dir")
        if noState, let stateDirectory {
            throw ValidationError("--no-state keeps nothing, so --state-dir '\(stateDirectory)' would be ignored: give one of them")
        }
    }
}

/// Where `journal` and `history` read what other runs kept, and where `watch` keeps what it
/// learns. The first two only read, and the watcher cannot alert on changes without
/// observations, so `--no-state` means nothing to any of them: it is not listed, and each command
/// refuses it saying why.
public struct StateDirectoryOption: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: ArgumentHelp(
        "Directory of tunwarden's observations (state.db) and the default journal (default: \(StateOptions.defaultDirectory)).",
        valueName: "dir"))
    public var stateDirectory: String?

    @Flag(name: .customLong("no-state"), help: .hidden)
    public var noState = false

    public init() {}

    public func validate() throws {
        try OptionCheck.path(stateDirectory, "--state-dir")
    }

    /// Why `directory`, given as --state-dir to a command that only reads state, cannot be one:
    /// "the directory … does not exist" or "… is not a directory"; nil when it is a directory
    /// (or cannot be looked at, which reading it then reports). A mistyped path is bad usage, not
    /// an empty history.
    static func misnamed(_ directory: String) -> String? {
        var status = stat()
        if stat(directory, &status) == 0 {
            return status.st_mode & S_IFMT == S_IFDIR ? nil : "\(directory) is not a directory"
        }
        let code = errno
        if code == ENOENT { return "the directory \(directory) does not exist" }
        if code == ENOTDIR { return "\(directory) is not a directory" }
        return nil
    }

    /// The error for state that this user may not read, for a command that only reads it
    /// (`history`, `journal`): what could not be read, and that running as root reads it.
    static func refusal(_ error: StorageError, command: String) -> String {
        "\(error.path) \(error.problem): tunwarden's state is root's (the package makes its directory 0750). "
            + "Run it as root: sudo tunwarden \(command) …"
    }
}
