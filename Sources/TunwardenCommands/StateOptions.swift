import ArgumentParser
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

    @Flag(name: .customLong("no-state"), help: "Neither read nor write observations (ages and grace periods are then unknown).")
    public var noState = false

    public init() {}

    public func validate() throws {
        try OptionCheck.path(stateDirectory, "--state-dir")
    }
}

/// Where `journal` and `history` read what other runs kept. They only read, so `--no-state` would
/// mean nothing to them: it is not listed, and each command refuses it saying why.
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
}
