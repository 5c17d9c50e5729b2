import Foundation
import Testing
@testable import TunwardenCommands
#if os(Linux)
import CLinuxShims
import Glibc

/// Work on a thread of its own: a yielding one runs at the lowest priority until its result is
/// asked for, and at the caller's from then on.
@Suite struct BackgroundTests {
    @Test func aYieldingThreadRunsAtTheLowestPriorityUntilItsResultIsAskedFor() {
        let started = DispatchSemaphore(value: 0), proceed = DispatchSemaphore(value: 0)
        let work = Background(yielding: true) { () -> [Int32] in
            let thread = id_t(tw_gettid())
            let before = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread)
            started.signal()
            proceed.wait()
            return [before, getpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread)]
        }
        started.wait()
        // Let the work go on only once its result has been asked for (and it was hurried).
        Thread.detachNewThread {
            usleep(50_000)
            proceed.signal()
        }
        let caller = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tw_gettid()))
        // Only root may give a thread its priority back, so only root's work yields.
        #expect(work.value == (geteuid() == 0 ? [19, caller] : [caller, caller]))
        #expect(work.value == work.value, "asked again, the same result without waiting")
    }

    @Test func workThatDoesNotYieldKeepsTheCallersPriority() {
        let caller = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tw_gettid()))
        let work = Background { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tw_gettid())) }
        #expect(work.value == caller)
    }
}
#endif
