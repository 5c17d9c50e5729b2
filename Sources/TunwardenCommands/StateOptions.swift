import ArgumentParser
import Storage
import TunwardenCore

/// Where tunwarden keeps what it learns between runs.
public struct StateOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: ArgumentHelp(
        "Directory of tunwarden's observations (first seen, orphaned since) and default journal.", valueName: "dir"))
    public var stateDirectory = "/var/lib/tunwarden"

    @Flag(name: .customLong("no-state"), help: "Neither read nor write observations (ages and grace periods are then unknown).")
    public var noState = false

    public init() {}

    var store: StateStore { StateStore(directory: stateDirectory) }
}
