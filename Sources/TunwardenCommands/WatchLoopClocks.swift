import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if os(Linux)
import Inventory
#endif

/// The clocks the watch loop goes by: the boot clock, its own CPU time, and the deadline it
/// next wakes at.
extension WatchLoop {
    /// The boot clock now (see `Snapshot.bootClock`); nil on a platform without one.
    static func bootClock() -> TimeInterval? {
        #if os(Linux)
        BootClock.now()
        #else
        nil
        #endif
    }

    /// When the loop is next to wake by itself: the first of its deadlines. Those a judgement
    /// serves (reaping and recording what waits) count only while no judgement is due: until
    /// that judgement, a past one would keep `poll` from sleeping at all.
    static func wakeTime(judgement: Date?, servedByJudgement: [Date?], others: [Date?]) -> Date {
        let deadlines = others + [judgement] + (judgement == nil ? servedByJudgement : [])
        return deadlines.compactMap { $0 }.min() ?? .distantFuture
    }

    /// The CPU time this thread has used, in seconds.
    static func threadCPUTime() -> TimeInterval {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return TimeInterval(time.tv_sec) + TimeInterval(time.tv_nsec) / 1e9
    }
}
