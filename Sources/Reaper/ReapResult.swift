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
    /// The device is still there and still bears part of the fence, which could not be taken
    /// off, or the deletion left it there (or may have: its answer was lost and nothing could
    /// check), fenced: its result leaves its intent open, for the next reap to give it back
    /// (`JournalRecord.leftFenced`).
    public var leftFenced: Bool
    /// Why, when `leftFenced`: journaled with the result, so that the repair that takes the intent
    /// up next says what happened (`JournalRecord.leftOpen`).
    public var leftOpen: LeftOpen?
    /// The device was not planned, but went with a batch's deletion (one that joined the batch's
    /// private link group after the last look, or one the kernel deleted with a device the batch
    /// deleted): its outcome is `failed`, since the reap did what it did not mean to.
    public var unplanned: Bool
    /// The device's kind as the kernel names it (IFLA_INFO_KIND, "macvlan"), for an unplanned
    /// device of a kind `kind` calls other.
    public var kindName: String?

    /// The kind a person reads: `kindName`, else `kind`'s name, "device" for other.
    public var kindWord: String { kindName ?? (kind == .other ? "device" : kind.rawValue) }

    public init(ifname: String, ifindex: Int, kind: InterfaceKind, outcome: JournalRecord.Outcome, detail: String? = nil, leftFenced: Bool = false,
                leftOpen: LeftOpen? = nil, unplanned: Bool = false, kindName: String? = nil) {
        self.leftOpen = leftOpen
        self.kindName = kindName
        self.leftFenced = leftFenced
        self.unplanned = unplanned
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

    /// An error's text as a clause inside a refusal's sentence: without the full stop it may end with.
    public static func clause(_ error: any Error) -> String {
        var text = "\(error)"
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }
}

/// A reap that acted but could not journal every result afterwards (a full disk, a signal).
///
/// The devices in `results` were acted on exactly as recorded there; only the journal lacks their
/// result records. The command must still report every result and exit 1, never claim that
/// nothing was changed.
public struct ReapJournalIncomplete: Error, CustomStringConvertible, Sendable {
    public var results: [ReapResult]
    /// Why the result records could not be written.
    public var reason: String
    public init(results: [ReapResult], reason: String) {
        self.results = results
        self.reason = reason
    }
    public var description: String { "the journal could not record the results: \(reason)" }
}

/// The repair of what killed or failed reaps left, made but not journaled (a full disk, EIO).
///
/// The devices in `repairs` were given back (or not) exactly as recorded there; only the journal
/// lacks the result records, so their intents stay open and the next reap looks at them again.
/// The command must still report every repair and exit 1, never claim that nothing was changed.
public struct RepairJournalIncomplete: Error, CustomStringConvertible, Sendable {
    public var repairs: [ReapRepair]
    /// Why the result records could not be written.
    public var reason: String
    public init(repairs: [ReapRepair], reason: String) {
        self.repairs = repairs
        self.reason = reason
    }
    public var description: String { "the journal could not record the repairs: \(reason)" }
}
