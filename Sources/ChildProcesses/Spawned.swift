import Foundation
#if canImport(Glibc)
import Glibc
import CLinuxShims
#elseif canImport(Darwin)
import Darwin
#endif

/// A started child and the parent's ends of its pipes.
final class Spawned {
    /// Its process number: on Linux, of a child started `kept`, the keeper's.
    let pid: Int32
    /// Whether it runs under a keeper (Linux), which is signalled in its stead: SIGTERM is passed
    /// on to the command's process group, SIGUSR1 ends the command and all it started, and the
    /// keeper ends what the command left running when the command exits.
    let kept: Bool
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

    init(_ path: String, _ arguments: [String], environment: [String: String]?, input wantsInput: Bool, capture: Bool, kept wantsKeeper: Bool) throws {
        #if os(Linux)
        kept = wantsKeeper
        #else
        kept = false
        #endif
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
            result = kept ? tw_spawn_kept(path, argv, envp, childEnds.0, childEnds.1, childEnds.2, &child)
                : tw_spawn(path, argv, envp, childEnds.0, childEnds.1, childEnds.2, &child)
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

    /// What bounds a stop once its caller is asked to stop (a watcher's SIGTERM, which systemd
    /// follows with SIGKILL after the unit's TimeoutStopSec): from that moment the stop waits at
    /// most `within` seconds more, at most half of them for the SIGTERM's grace, however long
    /// its grace and a keeper's patience would be otherwise.
    struct StopBound {
        /// Made readable when the caller may have been asked to stop (-1: none).
        var descriptor: Int32
        /// Whether the caller was asked to stop.
        var stopping: () -> Bool
        var within: TimeInterval
        /// When the caller was asked to stop, once known.
        var askedAt: Date?
    }

    /// SIGTERM to its process group (it and whatever it started), up to `grace` seconds for it
    /// to end, then SIGKILL to the group; always waits for it. Where it has a pidfd (Linux), what
    /// is left of the group once it has exited gets SIGKILL too, before it is reaped: until then
    /// its number stays its group's, so no other process can be hit. A member that left the group
    /// (`setsid`) is reached only by a keeper (`kept`), which is asked the same way, and is given
    /// `keeperPatience` more to end all, after which it gets SIGKILL itself. With a `bound`, a
    /// keeper still waiting for what it was asked to end (a process stuck in the kernel) when the
    /// bound is reached is given up that way too. Returns the processes a keeper given up still had
    /// running as its children (sent SIGKILL by it, which kills what it adopts at every tick while
    /// ending, and no longer waited for by anyone here).
    @discardableResult
    func stop(grace: TimeInterval, bound: StopBound? = nil) -> [Int32] {
        guard exit == nil else { return [] }
        var bound = bound
        var left: [Int32] = []
        signal(SIGTERM)
        if !waitForEnd(until: Date().addingTimeInterval(grace), share: 0.5, bound: &bound) {
            signal(SIGKILL)
            if kept, !waitForEnd(until: Date().addingTimeInterval(Self.keeperPatience), share: 1, bound: &bound) {
                left = keptChildren()
                _ = kill(pid, SIGKILL)
            }
        }
        guard exit == nil else { return left }
        if pidfd >= 0 { endGroup() }
        var status: Int32 = 0
        var result: Int32
        repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
        if result == pid { record(status) }
        return left.filter(Self.stillRunning)
    }

    /// Whether process `pid` exists and has not exited: one killed and waited for by nobody yet (a
    /// zombie, as those a keeper given up leaves to init are for a moment) has ended.
    static func stillRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X" && state != nil
    }

    /// How long a keeper asked to end everything may take: more than the keeper's own patience
    /// with processes that do not die at once (5 s, twice: the command, then what it left).
    static let keeperPatience: TimeInterval = 12

    /// SIGKILL to what is left of its process group, once it has exited and before it is
    /// reaped (nothing for a kept child, whose keeper has done it).
    func endGroup() {
        if !kept { _ = kill(-pid, SIGKILL) }
    }

    /// The children of a keeper (the command, and what the command left running), as the kernel
    /// lists them; the keeper has one thread. Empty where the kernel keeps no such list.
    private func keptChildren() -> [Int32] {
        guard let list = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else { return [] }
        return list.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Whether it exits by `wanted`, or, once the caller of a `bound` stop was asked to stop, by
    /// `share` of the bound from that moment, whichever comes first: its pidfd turns readable (it
    /// exited, not yet waited for), or where it has none, it has been waited for. The bound's
    /// descriptor is polled beside it; readable without a stop (a reload), the stop is asked about
    /// every tenth of a second from then on.
    private func waitForEnd(until wanted: Date, share: Double, bound: inout StopBound?) -> Bool {
        var watched = bound?.descriptor ?? -1
        var askEvery: TimeInterval?
        var backoff = 0.001
        while true {
            if pidfd < 0, reapIfExited() { return true }
            if askEvery != nil, bound?.askedAt == nil, bound?.stopping() == true { bound?.askedAt = Date() }
            var deadline = wanted
            if let asked = bound?.askedAt, let within = bound?.within { deadline = min(deadline, asked.addingTimeInterval(within * share)) }
            let remaining = deadline.timeIntervalSinceNow
            var descriptors: [pollfd] = []
            if pidfd >= 0 { descriptors.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            if watched >= 0, bound?.askedAt == nil { descriptors.append(pollfd(fd: watched, events: Int16(POLLIN), revents: 0)) }
            var wait = max(0, min(remaining, 3600))
            if pidfd < 0 {
                wait = min(wait, backoff)
                backoff = min(backoff * 2, 0.05)
            }
            if let askEvery, bound?.askedAt == nil { wait = min(wait, askEvery) }
            _ = poll(&descriptors, nfds_t(descriptors.count), Int32(wait * 1000) + (remaining > 0 ? 1 : 0))
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == pidfd { return true }
                if bound?.stopping() == true { bound?.askedAt = Date() } else { (watched, askEvery) = (-1, 0.1) }
            }
            if remaining <= 0 { return pidfd < 0 && reapIfExited() }
        }
    }

    /// Sends `number` to its process group, or to it alone should it lead none; to a keeper,
    /// what stands for it (SIGUSR1 for SIGKILL). Until it has been waited for, its number stays
    /// its own and its group's.
    private func signal(_ number: Int32) {
        if kept {
            _ = kill(pid, number == SIGKILL ? SIGUSR1 : number)
        } else if kill(-pid, number) != 0 {
            kill(pid, number)
        }
    }
}
