import Foundation
import TunwardenCore

/// What the watch loop reads the system through, one per platform: a full snapshot at start and
/// whenever the picture must be re-taken, and news in between, announced by descriptors
/// becoming readable.
protocol WatchSource: AnyObject {
    /// Descriptors that become readable when there is news.
    var descriptors: [Int32] { get }
    /// Descriptors whose news asks for a look (`WatchNews.look`), polled only while there is
    /// something to look at.
    var lookDescriptors: [Int32] { get }
    /// A full, consistent snapshot.
    func snapshot() throws -> Snapshot
    /// Reads what the ready descriptors hold, without blocking.
    func read(ready: Set<Int32>) -> [WatchNews]
    /// When the source next needs `tick` (a monitor to restart, a periodic re-read); nil: never.
    var deadline: Date? { get }
    /// Does what was due at `deadline`.
    func tick(now: Date) -> [WatchNews]
    /// The news of looks the events asked for (a holder scan, the namespaces of new veth peers),
    /// taken once per burst, right before it is judged.
    func settle() -> [WatchNews]
    /// Changes found by looking again at interfaces the kernel announces no attach or detach for
    /// (tun and tap devices that are down or orphaned, as last known); only what differs is
    /// reported. Nil where the source has no such look (its periodic re-read covers it).
    func look(at candidates: [NetworkInterface]) -> [FactChange]?
    /// Whether the source wants its look even with no candidates (it watches holders by looking).
    var looksWithoutCandidates: Bool { get }
    /// Changes found by reading every link's traffic counters now; nil where a full re-read does it.
    /// With `candidates`, the same read is also the look `look(at:)` would take at them (what it
    /// reports is added): a large host's link dump is then taken once per sample, not twice.
    func traffic(lookingAt candidates: [NetworkInterface]?) -> [FactChange]?
    /// What raises no event the source hears, read again: which processes hold what, the
    /// sockets bound to each device or address, tc actions, and nftables and iptables rules that
    /// send packets to a device or hook on it (see `HolderScan`). Nil where the source has no
    /// such read (its periodic full re-read covers it).
    func rereadUses() -> [FactChange]?
    /// The processes known to hold devices, with the indices of the devices each holds (a
    /// holder's exit is news about those devices) and one tun descriptor of each (the node it
    /// opened, where the next process to attach may open it too).
    func noteHolders(_ held: [Int32: [Int]], nodes: [Int32: Int32])
    /// Stops whatever the source runs (a monitor process).
    func close()
    /// Why there is nothing left to watch (the named namespace was deleted), once the source
    /// found so; the watcher then stops and exits 3.
    var gone: String? { get }
}

extension WatchSource {
    var gone: String? { nil }
    func rereadUses() -> [FactChange]? { nil }
}

/// What a source found.
enum WatchNews {
    /// Facts changed as said; judged again after the coalescing window.
    case changes([FactChange])
    /// Something changed that only a fresh snapshot can tell (macOS's routing socket says that
    /// something changed, not what; Linux lost events). The text, if any, is logged.
    case resync(String?)
    /// The source has looks to take before the next judgement (`settle`).
    case pending
    /// A tun node was opened or closed: a process may have attached to a candidate or let go of
    /// one, and the candidates are looked at soon (`LookSchedule`).
    case look
    /// Like `pending`, but for news that is its own burst (a holder exited): judged after
    /// `WatchLoop.urgentWindow`, not the whole coalescing window.
    case urgent
}

/// The stop, reload and wake-up requests a watch loop obeys: signals in the watcher, a pipe in
/// the tests. `descriptor` becomes readable when one arrives, so the loop never polls for them.
protocol WatchControl {
    var descriptor: Int32 { get }
    var stopRequested: Bool { get }
    /// Whether a reload was asked for since the last call.
    func takeReload() -> Bool
    /// Empties the descriptor after it polled readable.
    func drain()
}
