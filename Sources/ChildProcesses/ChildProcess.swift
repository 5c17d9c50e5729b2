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
/// On Linux a child of `run` leaves nothing behind: when it exits or is stopped, what it started
/// that still runs gets SIGKILL, in its group or out of it (found by the mark `TUNWARDEN_CHILD`
/// in its environment, which everything it starts inherits).
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
    public static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil, input: [UInt8] = [],
                           timeout: TimeInterval, grace: TimeInterval = 2, outputLimit: Int = 64 << 20,
                           interrupt: (descriptor: Int32, stopping: () -> Bool)? = nil) throws -> Outcome {
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
        var environment = environment ?? ProcessInfo.processInfo.environment
        #if os(Linux)
        // What it starts inherits the mark, even what leaves its process group (`setsid`, a
        // daemon's double fork): that is how it is found once the child has ended.
        let mark = Spawned.newMark()
        environment[Spawned.markVariable] = mark
        defer { Spawned.endMarked(mark) }
        #endif
        let child = try Spawned(path, arguments, environment: environment, input: !input.isEmpty, capture: true)
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
                    // What it left running in its group is ended before it is reaped: until then
                    // its number stays its group's, so no other process can be hit.
                    _ = kill(-child.pid, SIGKILL)
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
            if running { child.stop(grace: outcome.interrupted ? min(grace, 0.5) : grace) }
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
        Running(try Spawned(path, arguments, environment: nil, input: false, capture: false))
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

/// A started child and the parent's ends of its pipes.
final class Spawned {
    #if os(Linux)
    /// The environment variable that marks a child of `ChildProcess.run` and all it starts.
    static let markVariable = "TUNWARDEN_CHILD"
    nonisolated(unsafe) private static var marksMade = 0

    /// A mark no other child of any process has: this process's number, a count and a random part.
    static func newMark() -> String {
        marksMade += 1
        return "\(getpid())-\(marksMade)-\(UInt64.random(in: 1...UInt64.max))"
    }

    /// Sends SIGKILL to every process whose environment carries `mark` (what a child started
    /// that left its process group, and outlived it), again until none is left: one may fork
    /// while the others are killed. Only /proc is read; processes of other users are not
    /// readable to a user who is not root, nor could they have been started by the child. Each
    /// is signalled through a pidfd opened before its environment was read, so a process that
    /// took the number of one that exited meanwhile is never hit.
    static func endMarked(_ mark: String) {
        let entry = Array("\(markVariable)=\(mark)".utf8)
        for round in 0..<50 {
            let found = processes(carrying: entry)
            if found.isEmpty { return }
            for pidfd in found {
                _ = tw_pidfd_kill(pidfd)
                close(pidfd)
            }
            usleep(round < 10 ? 2_000 : 20_000)
        }
    }

    /// Pidfds of the processes, other than this one, whose environment holds `entry` (each opened
    /// before the environment was read: the process it names is the one that was read, or one
    /// that has exited).
    private static func processes(carrying entry: [UInt8]) -> [Int32] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        let own = getpid()
        var found: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while let listed = readdir(directory) {
            let name = withUnsafeBytes(of: listed.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), pid != own else { continue }
            let pidfd = tw_pidfd_open(pid)
            guard pidfd >= 0 else { continue }
            let fd = open("/proc/\(pid)/environ", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                close(pidfd)
                continue
            }
            var environment: [UInt8] = []
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                environment += buffer[0..<count]
            }
            close(fd)
            // Entries end in NUL: only a whole one counts.
            if environment.split(separator: 0).contains(where: { $0.count == entry.count && $0.elementsEqual(entry) }) {
                found.append(pidfd)
            } else {
                close(pidfd)
            }
        }
        return found
    }
    #endif

    let pid: Int32
    var input: Int32 = -1
    var output: Int32 = -1
    var errorOutput: Int32 = -1
    /// A descriptor that polls readable when the child has exited (Linux), or -1.
    var pidfd: Int32 = -1
    /// (exit status, signal), once it was waited for.
    var exit: (Int32?, Int32?)? {
        didSet { onExit?() }
    }
    /// Called once when it has been waited for.
    var onExit: (() -> Void)?

    init(_ path: String, _ arguments: [String], environment: [String: String]?, input wantsInput: Bool, capture: Bool) throws {
        func pipePair() throws -> (read: Int32, write: Int32) {
            var ends: [Int32] = [-1, -1]
            // Close-on-exec right away; on Linux a spawn closes every other descriptor anyway.
            guard pipe(&ends) == 0 else { throw ChildProcess.Failure(description: "pipe: \(String(cString: strerror(errno)))") }
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
            return (ends[0], ends[1])
        }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw ChildProcess.Failure(description: "/dev/null: \(String(cString: strerror(errno)))") }
        defer { close(null) }
        var closeAfter: [Int32] = []
        var childEnds: (Int32, Int32, Int32) = (null, null, null)
        var parentEnds: [Int32] = []
        defer { closeAfter.forEach { close($0) } }
        do {
            if wantsInput {
                let pair = try pipePair()
                childEnds.0 = pair.read
                input = pair.write
                closeAfter.append(pair.read)
                parentEnds.append(pair.write)
            }
            let out = try pipePair()
            childEnds.1 = out.write
            output = out.read
            closeAfter.append(out.write)
            parentEnds.append(out.read)
            if capture {
                let err = try pipePair()
                childEnds.2 = err.write
                errorOutput = err.read
                closeAfter.append(err.write)
                parentEnds.append(err.read)
            }
        } catch {
            parentEnds.forEach { close($0) }
            throw error
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let environmentStrings = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = environmentStrings.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: Int32 = 0
        var result: Int32 = 0
        // ETXTBSY: the executable is open for writing somewhere, which is over in a moment when
        // it is a descriptor another process's fork inherited while the file was written (an
        // installer, or a test's stand-in); tried again for up to about a tenth of a second.
        for attempt in 0..<20 {
            if attempt > 0 { usleep(5_000) }
            #if os(Linux)
            result = tw_spawn(path, argv, envp, childEnds.0, childEnds.1, childEnds.2, &child)
            #else
            result = Self.spawn(path, argv, envp, childEnds, &child)
            #endif
            if result != ETXTBSY { break }
        }
        guard result == 0 else {
            parentEnds.forEach { close($0) }
            throw ChildProcess.Failure(description: "\(path) could not be started: \(String(cString: strerror(result)))")
        }
        pid = child
        for end in parentEnds where end != output || capture { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        #if os(Linux)
        pidfd = tw_pidfd_open(child)
        if pidfd >= 0 { _ = fcntl(pidfd, F_SETFD, FD_CLOEXEC) }
        #endif
    }

    #if !os(Linux)
    /// posix_spawn with the standard descriptors set, every other one closed
    /// (POSIX_SPAWN_CLOEXEC_DEFAULT), and signals unblocked and at their defaults.
    static func spawn(_ path: String, _ argv: [UnsafeMutablePointer<CChar>?], _ envp: [UnsafeMutablePointer<CChar>?],
                      _ ends: (Int32, Int32, Int32), _ pid: inout Int32) -> Int32 {
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_adddup2(&actions, ends.0, 0)
        posix_spawn_file_actions_adddup2(&actions, ends.1, 1)
        posix_spawn_file_actions_adddup2(&actions, ends.2, 2)
        var none = sigset_t()
        var defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // A process group of its own, so that stopping it stops what it started too (the
        // `sleep` of a shell command line).
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_CLOEXEC_DEFAULT | POSIX_SPAWN_SETPGROUP))
        return posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    }
    #endif

    deinit {
        closeInput()
        closeOutput()
        closeErrorOutput()
        if exit == nil { stop(grace: 0) }
        if pidfd >= 0 { close(pidfd) }
    }

    func closeInput() { if input >= 0 { close(input); input = -1 } }
    func closeOutput() { if output >= 0 { close(output); output = -1 } }
    func closeErrorOutput() { if errorOutput >= 0 { close(errorOutput); errorOutput = -1 } }

    /// Waits for it without blocking; true once it has been waited for.
    @discardableResult
    func reapIfExited() -> Bool {
        guard exit == nil else { return true }
        var status: Int32 = 0
        var result: Int32
        repeat { result = waitpid(pid, &status, WNOHANG) } while result < 0 && errno == EINTR
        guard result == pid else { return false }
        record(status)
        return true
    }

    func record(_ status: Int32) {
        let signal = status & 0x7f
        exit = signal == 0 ? ((status >> 8) & 0xff, nil) : (nil, signal)
        if pidfd >= 0 { close(pidfd); pidfd = -1 }
    }

    /// SIGTERM to its process group (it and whatever it started), up to `grace` seconds for it
    /// to end, then SIGKILL to the group; always waits for it. Where it has a pidfd (Linux), what
    /// is left of the group once it has exited gets SIGKILL too, before it is reaped: until then
    /// its number stays its group's, so no other process can be hit. A member that left the group
    /// (`setsid`) is not reached.
    func stop(grace: TimeInterval) {
        guard exit == nil else { return }
        signal(SIGTERM)
        if pidfd >= 0 {
            // The pidfd turns readable when it exits, before anything reaps it.
            if !pidfdReadable(within: grace) {
                signal(SIGKILL)
                _ = pidfdReadable(within: 3600)
            }
            _ = kill(-pid, SIGKILL)
        } else if waitForExit(within: grace) {
            return
        } else {
            signal(SIGKILL)
        }
        var status: Int32 = 0
        var result: Int32
        repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
        if result == pid { record(status) }
    }

    /// Whether its pidfd turns readable (it exited) within `seconds`.
    private func pidfdReadable(within seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            var descriptor = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            let remaining = deadline.timeIntervalSinceNow
            if poll(&descriptor, 1, Int32(max(0, min(remaining, 3600)) * 1000) + 1) > 0 { return true }
            if Date() >= deadline { return false }
        }
    }

    /// Sends `number` to its process group, or to it alone should it lead none.
    private func signal(_ number: Int32) {
        if kill(-pid, number) != 0 { kill(pid, number) }
    }

    /// Whether it exits within `seconds`, waiting on its pidfd where there is one.
    func waitForExit(within seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var backoff = 0.001
        while !reapIfExited() {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            if pidfd >= 0 {
                var descriptor = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, Int32(remaining * 1000) + 1)
            } else {
                usleep(useconds_t(min(backoff, remaining) * 1_000_000))
                backoff = min(backoff * 2, 0.05)
            }
        }
        return true
    }
}
