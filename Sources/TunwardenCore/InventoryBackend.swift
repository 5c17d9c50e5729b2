import Foundation

/// A source of snapshots: one per platform (Linux rtnetlink and /proc; macOS system tools; a
/// captured directory). The choice of backend is made in one place, by the commands.
public protocol InventoryBackend {
    /// Takes a fresh, consistent snapshot, or throws an `InventoryError` when the system cannot be
    /// inspected well enough to judge anything.
    func snapshot() throws -> Snapshot

    /// Takes a fresh snapshot into `engine` (see `JudgingEngine.load`) and returns its namespace's
    /// identity. A backend that can judge interfaces while it is still reading the rest does so
    /// (see `StreamedSnapshot`); by default the snapshot is taken, then loaded.
    func load(into engine: JudgingEngine) throws -> String

    /// The identity the next snapshot's namespace will most likely have, found without taking
    /// one, so that a caller can prepare for it (read its observations) while the snapshot is
    /// taken; nil where it is not known beforehand. A snapshot's own identity is the one to trust.
    func namespaceIdentityAhead() -> String?
}

extension InventoryBackend {
    public func namespaceIdentityAhead() -> String? { nil }

    public func load(into engine: JudgingEngine) throws -> String {
        let snapshot = try snapshot()
        engine.load(snapshot)
        return snapshot.namespaceIdentity
    }
}

/// Names of network namespaces as `ip netns` makes them: plain file names under /run/netns.
public enum NamespaceName {
    public static func isValid(_ name: String) -> Bool {
        !(name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0"))
    }
}

/// Why an inventory could not be taken. Every case means "cannot inspect" (exit 3).
public struct InventoryError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// Whether the kernel kept marking its dumps interrupted: the system was changing too fast to
    /// be read consistently, and trying again later may succeed.
    public var interrupted = false
    /// Whether the system refused for want of privilege that root has (entering another network
    /// namespace): the same command run as root gets past it.
    public var needsRoot = false
    /// Whether the named namespace to inspect does not exist (`ip netns del` removed its name):
    /// a watcher of it has nothing left to watch.
    public var namespaceGone = false
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
