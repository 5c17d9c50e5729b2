import Foundation

/// Work done on a thread of its own while the caller goes on, its result taken with `value`,
/// which waits for it. For the few large pieces of a run that can overlap: once the kernel's dump
/// is over, the machine's second core is idle, and what is left is the run's own work.
final class Background<Value: Sendable>: @unchecked Sendable {
    /// Written by the work's thread before it signals `done`, read by the caller after waiting
    /// (the semaphore orders the two).
    private var result: Value?
    private let done = DispatchSemaphore(value: 0)
    private var waited = false

    /// Starts `work` at once.
    init(_ work: @escaping @Sendable () -> Value) {
        Thread.detachNewThread { [self] in
            result = work()
            done.signal()
        }
    }

    /// What the work returned, once it has ended. Only the thread that made this may ask.
    var value: Value {
        if !waited {
            done.wait()
            waited = true
        }
        guard let result else { preconditionFailure("background work ended without a result") }
        return result
    }
}
