import Storage
import TunwardenCore

/// What happened to one planned item.
public struct ReapResult: Sendable, Equatable {
    public var ifname: String
    public var ifindex: Int
    public var kind: InterfaceKind
    public var outcome: JournalRecord.Outcome
    /// Why it was skipped or failed (the kernel's error text, when it refused).
    public var detail: String?

    public init(ifname: String, ifindex: Int, kind: InterfaceKind, outcome: JournalRecord.Outcome, detail: String? = nil) {
        self.ifname = ifname
        self.ifindex = ifindex
        self.kind = kind
        self.outcome = outcome
        self.detail = detail
    }
}

/// A reap that could not start: nothing was changed.
public struct ReapRefusal: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
