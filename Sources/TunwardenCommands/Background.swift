import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if os(Linux)
import CLinuxShims
#endif

/// Work done on a thread of its own while the caller goes on, its result taken with `value`,
/// which waits for it. For the few large pieces of a run that can overlap: once the kernel's dump
/// is over, the machine's second core is idle, and what is left is the run's own work.
final class Background<Value: Sendable>: @unchecked Sendable {
    /// Written by the work's thread before it signals `done`, read by the caller after waiting
    /// (the semaphore orders the two).
    private var result: Value?
    private let done = DispatchSemaphore(value: 0)
    private var waited = false
    /// The work thread's id while it yields (0 before it starts, or once hurried), and whether
    /// the caller wants it at full priority; both under `lock`.
    private let lock = NSLock()
    private var yieldingThread: Int32 = 0
    private var hurried = false

    /// Starts `work` at once. `yielding`: on Linux, as root, the thread runs at the lowest
    /// priority (nice 19) until its result is asked for, so that it takes only time a core would
    /// otherwise idle away and never delays the run's critical path (such as the kernel's dump).
    /// Only root may raise the priority again; elsewhere the work runs at the caller's priority.
    init(yielding: Bool = false, _ work: @escaping @Sendable () -> Value) {
        Thread.detachNewThread { [self] in
            #if os(Linux)
            if yielding, geteuid() == 0 {
                lock.withLock {
                    guard !hurried else { return }
                    yieldingThread = tw_gettid()
                    setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(yieldingThread), 19)
                }
            }
            #endif
            result = work()
            done.signal()
        }
    }

    /// What the work returned, once it has ended; a yielding thread is given the caller's
    /// priority first. Only the thread that made this may ask.
    var value: Value {
        if !waited {
            #if os(Linux)
            lock.withLock {
                hurried = true
                if yieldingThread != 0 {
                    // The caller's own priority: a run started with nice(1) stays as nice.
                    let own = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tw_gettid()))
                    setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(yieldingThread), own)
                }
            }
            #endif
            done.wait()
            waited = true
        }
        guard let result else { preconditionFailure("background work ended without a result") }
        return result
    }
}
