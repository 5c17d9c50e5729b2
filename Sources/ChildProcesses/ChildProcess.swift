import Foundation
#if canImport(Glibc)
import Glibc
import CLinuxShims
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way tunwarden runs another program: the macOS tools it reads, `route -n monitor`, and
/// `--alert-exec`. A child starts with signals unblocked and at their defaults (whatever
/// tunwarden blocks or catches) and with no descriptor of tunwarden's but its standard three, so
/// it holds no netlink socket, lock or journal open. It runs in a process group of its own: a
/// child that outlives its time gets SIGTERM, then after a grace period SIGKILL, each sent to
/// that group (so what it started goes too), and is always waited for, so no zombie is left behind. On
/// Linux the wait is a pidfd in the same poll as the child's output: nothing is polled on a timer.
/// On Linux a child of `run` leaves nothing behind: it runs under a keeper (`tw_spawn_kept`), a
/// fork of tunwarden that is the child subreaper of all the child starts, and when the child
/// exits or is stopped, what it started that still runs gets SIGKILL and is waited for, in its
/// group or out of it (`setsid`, a daemon's double fork), whatever it did to its environment. Only
/// the keeper is tunwarden's child: no other child's exit is ever taken by mistake.
public enum ChildProcess {
    /// How a child ended, with what it wrote.
    public struct Outcome: Sendable, Equatable {
        /// The exit status, when it exited.
        public var status: Int32?
        /// The signal that ended it, when one did.
        public var signal: Int32?
        public var output: [UInt8]
        public var errorOutput: [UInt8]
        /// Whether it ran past its time and was stopped.
        public var timedOut: Bool
        /// Whether it closed its input before reading all of it.
        public var inputRefused: Bool
        /// Whether it was stopped because the caller was asked to stop (see `run`'s `interrupt`).
        public var interrupted = false
        /// The processes still running when a stop the caller was asked for reached its bound
        /// (see `run`'s `stopWithin`): the command, or what it left, which its keeper was told to
        /// end with SIGKILL but which had not ended (one stuck in the kernel, behind a hung NFS or
        /// FUSE server, does not die at once); left to end unwaited for.
        public var leftRunning: [Int32] = []

        public var succeeded: Bool { status == 0 && !timedOut }
    }

    /// A child that could not be started.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Runs `path` with `arguments`, feeding it `input` and collecting what it writes (at most
    /// `outputLimit` bytes of each stream; the rest is read and dropped), for at most `timeout`
    /// seconds, then SIGTERM and `grace` seconds more before SIGKILL. `environment` replaces the
    /// inherited one when given. `interrupt`: a descriptor that becomes readable when the caller
    /// may have been asked to stop (a watcher's signal pipe), with `stopping` saying whether it
    /// was: then the child is stopped at once as it is at its timeout (`Outcome.interrupted`).
    /// From the moment the caller is asked to stop, whether the child was running or already
    /// being stopped, `run` returns within about `stopWithin` seconds: a keeper still waiting then
    /// for processes that do not die is given up (SIGKILL to it alone) and what it had left
    /// running is told (`Outcome.leftRunning`), so that a watcher can save its state and exit
    /// before its service manager kills it (TimeoutStopSec).
    public static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil, input: [UInt8] = [],
                           timeout: TimeInterval, grace: TimeInterval = 2, outputLimit: Int = 64 << 20,
                           interrupt: (descriptor: Int32, stopping: () -> Bool)? = nil, stopWithin: TimeInterval = 3) throws -> Outcome {
        // A child that closes its input early must not end the caller with SIGPIPE: the signal is
        // blocked on this thread while feeding it, and one left pending is taken before unblocking.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previousMask)
        defer {
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 && sigismember(&previousMask, SIGPIPE) == 0 {
                var zero = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeSignal, nil, &zero)
            }
            pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        }
        let child = try Spawned(path, arguments, environment: environment, input: !input.isEmpty, capture: true, kept: true)
        var outcome = Outcome(status: nil, signal: nil, output: [], errorOutput: [], timedOut: false, inputRefused: false)
        var pending = input[...]
        var deadline = Date().addingTimeInterval(timeout)
        // Once it has exited, what it started in the background may keep its output open: that
        // is read for a moment more, not waited for.
        child.onExit = { deadline = min(deadline, Date().addingTimeInterval(0.5)) }
        var backoff = 0.001
        // Polled until it fires without a stop (a reload asked for, say): it stays readable until
        // its owner drains it, so from then on the stop is asked about every tenth of a second.
        var watching = interrupt
        var askEvery: TimeInterval?
        while true {
            if let interrupt, interrupt.stopping() {
                outcome.interrupted = true
                break
            }
            var descriptors: [pollfd] = []
            if child.input >= 0 { descriptors.append(pollfd(fd: child.input, events: Int16(POLLOUT), revents: 0)) }
            if child.output >= 0 { descriptors.append(pollfd(fd: child.output, events: Int16(POLLIN), revents: 0)) }
            if child.errorOutput >= 0 { descriptors.append(pollfd(fd: child.errorOutput, events: Int16(POLLIN), revents: 0)) }
            if child.exit == nil, child.pidfd >= 0 { descriptors.append(pollfd(fd: child.pidfd, events: Int16(POLLIN), revents: 0)) }
            if descriptors.isEmpty {
                if child.exit != nil { break }
                // No pidfd (macOS, Linux before 5.3): the output is done, the exit is waited for.
                if child.reapIfExited() { break }
                guard Date() < deadline else { break }
                usleep(useconds_t(backoff * 1_000_000))
                backoff = min(backoff * 2, 0.05)
                continue
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { break }
            if let watched = watching { descriptors.append(pollfd(fd: watched.descriptor, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(min(remaining, askEvery ?? 3600, 3600) * 1000) + 1)
            if ready < 0, errno != EINTR { break }
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == child.input {
                    let written = pending.withUnsafeBytes { write(child.input, $0.baseAddress, min($0.count, 65536)) }
                    if written > 0 { pending = pending.dropFirst(written) }
                    if written < 0, errno != EAGAIN, errno != EINTR { outcome.inputRefused = errno == EPIPE; child.closeInput() }
                    if pending.isEmpty || descriptor.revents & Int16(POLLERR | POLLHUP) != 0 {
                        if !pending.isEmpty { outcome.inputRefused = true }
                        child.closeInput()
                    }
                } else if descriptor.fd == child.output {
                    if !drain(child.output, into: &outcome.output, limit: outputLimit) { child.closeOutput() }
                } else if descriptor.fd == child.errorOutput {
                    if !drain(child.errorOutput, into: &outcome.errorOutput, limit: outputLimit) { child.closeErrorOutput() }
                } else if descriptor.fd == child.pidfd {
                    child.endGroup()
                    _ = child.reapIfExited()
                } else if let watched = watching, descriptor.fd == watched.descriptor, !watched.stopping() {
                    watching = nil
                    askEvery = 0.1
                }
            }
        }
        if child.exit == nil {
            let running = !child.reapIfExited()
            outcome.timedOut = running && !outcome.interrupted
            if running {
                let bound = interrupt.map {
                    Spawned.StopBound(descriptor: $0.descriptor, stopping: $0.stopping, within: stopWithin, askedAt: outcome.interrupted ? Date() : nil)
                }
                outcome.leftRunning = child.stop(grace: outcome.interrupted ? min(grace, 0.5) : grace, bound: bound)
            }
        }
        (outcome.status, outcome.signal) = child.exit ?? (nil, nil)
        return outcome
    }

    /// Reads what `fd` has; false at end of file or on an error other than "nothing yet".
    static func drain(_ fd: Int32, into bytes: inout [UInt8], limit: Int) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                if bytes.count < limit { bytes += buffer[0..<min(count, limit - bytes.count)] }
                continue
            }
            if count < 0, errno == EINTR { continue }
            return count < 0 && errno == EAGAIN
        }
    }

    /// Starts `path` with `arguments` and leaves it running, its standard output on a pipe the
    /// caller reads (`route -n monitor`); its input and error output are /dev/null.
    public static func start(_ path: String, _ arguments: [String]) throws -> Running {
        Running(try Spawned(path, arguments, environment: nil, input: false, capture: false, kept: false))
    }

    /// A child left running. `stop()` (or releasing it) ends it: SIGTERM, a grace period, SIGKILL.
    public final class Running {
        let child: Spawned

        init(_ child: Spawned) { self.child = child }

        deinit { stop() }

        public var pid: Int32 { child.pid }
        /// Its standard output: readable when it wrote something, or at end of file once it ended.
        public var output: Int32 { child.output }

        /// Ends it and waits for it; a second call does nothing.
        public func stop(grace: TimeInterval = 1) {
            if child.exit == nil { child.stop(grace: grace) }
            child.closeOutput()
        }
    }
}
