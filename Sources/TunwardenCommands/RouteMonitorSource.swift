import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Inventory
import TunwardenCore

/// The macOS watch source: `route -n monitor` says that the routing socket carried something, and
/// a fresh snapshot from the system's tools tells what; a re-read every `--stats-interval` catches
/// what the routing socket does not carry (interfaces arriving and leaving, holders exiting).
/// Written for macOS, it runs anywhere, so it is tested on Linux with stand-in tools.
final class RouteMonitorSource: WatchSource {
    let inventory: DarwinInventory
    let rereadInterval: TimeInterval
    /// How long to wait before starting another `route -n monitor` after one ended.
    var restartDelay: TimeInterval = 5
    private var monitor: RouteMonitor?
    private var restartAt: Date?
    private var nextReread: Date

    init(inventory: DarwinInventory, rereadInterval: TimeInterval, restartDelay: TimeInterval = 5) {
        self.inventory = inventory
        self.rereadInterval = rereadInterval
        self.restartDelay = restartDelay
        nextReread = Date().addingTimeInterval(rereadInterval)
        do {
            monitor = try RouteMonitor(tools: inventory.tools)
        } catch {
            Terminal.log("watch: \(error); re-reading every \(DurationText.exact(rereadInterval)) instead", priority: 4)
        }
    }

    var descriptors: [Int32] { monitor.map { [$0.descriptor] } ?? [] }

    func snapshot() throws -> Snapshot {
        nextReread = Date().addingTimeInterval(rereadInterval)
        return try inventory.snapshot()
    }

    func read(ready: Set<Int32>) -> [WatchNews] {
        guard let current = monitor, ready.contains(current.descriptor) else { return [] }
        if current.drain() { return [.resync(nil)] }
        Terminal.log("watch: route -n monitor ended; starting another in \(DurationText.exact(restartDelay))", priority: 4)
        current.stop()
        monitor = nil
        restartAt = Date().addingTimeInterval(restartDelay)
        return []
    }

    var deadline: Date? { [restartAt, nextReread].compactMap { $0 }.min() }

    func tick(now: Date) -> [WatchNews] {
        var news: [WatchNews] = []
        if monitor == nil, let at = restartAt, now >= at {
            monitor = try? RouteMonitor(tools: inventory.tools)
            restartAt = monitor == nil ? now.addingTimeInterval(restartDelay) : nil
            // What changed while nobody listened is picked up at once.
            if monitor != nil { news.append(.resync(nil)) }
        }
        if now >= nextReread {
            nextReread = now.addingTimeInterval(rereadInterval)
            news.append(.resync(nil))
        }
        return news
    }

    func settle() -> [WatchNews] { [] }
    var lookDescriptors: [Int32] { [] }
    var looksWithoutCandidates: Bool { false }
    func look(at candidates: [NetworkInterface]) -> [FactChange]? { nil }
    func traffic(lookingAt candidates: [NetworkInterface]?) -> [FactChange]? { nil }
    func noteHolders(_ held: [Int32: [Int]], nodes: [Int32: Int32]) {}

    func close() {
        monitor?.stop()
        monitor = nil
    }
}
