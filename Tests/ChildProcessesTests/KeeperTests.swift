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
/// takes the C library's own locks.
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
}
#endif
