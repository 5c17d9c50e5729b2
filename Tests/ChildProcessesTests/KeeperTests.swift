import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import ChildProcesses

#if os(Linux)
/// Where the fork handler below writes, -1 while no test listens. Read by a child of a fork, so
/// it is set (and its lazy initialisation done) before any handler is registered.
nonisolated(unsafe) private var forkHandlerPipe: Int32 = -1

/// The keeper, a fork of this multi-threaded process, and the command it forks are made by the
/// fork system call itself, never the C library's fork(): that one runs the pthread_atfork
/// handlers a library registered (code the child cannot trust with another thread's locks) and
/// takes the C library's own locks. And a keeper that cannot end (stuck waiting for processes
/// the kernel holds) does not keep a caller asked to stop for longer than the stop's bound.
@Suite struct KeeperTests {
    @Test func noForkHandlerRunsInTheKeeperOrTheCommand() throws {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        defer { forkHandlerPipe = -1; close(ends[0]); close(ends[1]) }
        func written() -> Int {
            var buffer = [UInt8](repeating: 0, count: 64)
            var total = 0
            while case let count = read(ends[0], &buffer, buffer.count), count > 0 { total += count }
            return total
        }
        forkHandlerPipe = ends[1]
        _ = pthread_atfork(nil, nil) {
            var byte: UInt8 = 1
            if forkHandlerPipe >= 0 { _ = write(forkHandlerPipe, &byte, 1) }
        }
        // The handler is heard when the C library forks.
        let child = fork()
        if child == 0 { _exit(0) }
        #expect(child > 0)
        var status: Int32 = 0
        _ = waitpid(child, &status, 0)
        #expect(written() == 1)
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "sh -c 'exit 0'; exit 0"], timeout: 20)
        #expect(outcome.status == 0)
        #expect(written() == 0, "a fork handler ran in the keeper or the command")
    }

    /// The keeper is stopped (SIGSTOP), as one waiting for processes stuck in the kernel never
    /// ends: a stop asked for then is given up after its bound, with the keeper killed and reaped
    /// and the command it left named; before, the caller waited 12.5 s, past a 10 s TimeoutStopSec.
    @Test func aStopIsBoundedWhenTheKeeperCannotEnd() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tw-keeper-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        final class Flag: @unchecked Sendable { var stop = false; var asked = Date.distantFuture; var keeper: Int32 = 0 }
        let flag = Flag()
        let writer = ends[1]
        Thread.detachNewThread {
            let deadline = Date().addingTimeInterval(10)
            var pids: [Int32] = []
            while pids.count < 2, Date() < deadline {
                usleep(10_000)
                pids = ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
            }
            if let keeper = pids.first { flag.keeper = keeper; kill(keeper, SIGSTOP) }
            flag.asked = Date()
            flag.stop = true
            _ = write(writer, "s", 1)
        }
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "trap '' TERM; echo $PPID > \(file).new; echo $$ >> \(file).new; mv \(file).new \(file); while :; do sleep 0.05; done"],
                                           timeout: 30, interrupt: (ends[0], { flag.stop }), stopWithin: 2)
        let took = Date().timeIntervalSince(flag.asked)
        let pids = ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        for pid in outcome.leftRunning { kill(pid, SIGKILL) }
        #expect(pids.count == 2 && flag.keeper == pids.first)
        #expect(outcome.interrupted)
        #expect(took < 3, "took \(took) s")
        #expect(outcome.leftRunning == Array(pids.dropFirst()), "\(outcome.leftRunning) \(pids)")
        #expect(kill(flag.keeper, 0) == -1 && errno == ESRCH, "the keeper was not reaped")
    }
}
#endif
