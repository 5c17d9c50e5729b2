import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import ChildProcesses

/// Children started the one way: fed and read without deadlock, stopped with SIGTERM then
/// SIGKILL, always waited for, and holding none of tunwarden's descriptors or blocked signals.
@Suite struct ChildProcessTests {
    @Test func inputGoesInAndBothOutputsComeBack() throws {
        let input = [UInt8]((0..<300_000).map { UInt8($0 % 251) })
        // More than a pipe holds both ways: reading and writing must interleave.
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "cat; echo done >&2; exit 3"], input: input, timeout: 20)
        #expect(outcome.output == input)
        #expect(outcome.errorOutput == Array("done\n".utf8))
        #expect(outcome.status == 3 && outcome.signal == nil && !outcome.timedOut && !outcome.inputRefused)
    }

    @Test func aChildThatReadsNothingDoesNotStopTheCaller() throws {
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "exec 0<&-; exit 0"], input: [UInt8](repeating: 1, count: 1 << 20), timeout: 20)
        #expect(outcome.status == 0)
        #expect(outcome.inputRefused)
    }

    @Test func overtimeMeansSIGTERMAndOnlyThenSIGKILL() throws {
        var started = Date()
        let polite = try ChildProcess.run("/bin/sh", ["-c", "exec sleep 30"], timeout: 0.3, grace: 5)
        #expect(polite.timedOut && polite.signal == SIGTERM)
        #expect(Date().timeIntervalSince(started) < 4)
        started = Date()
        let stubborn = try ChildProcess.run("/bin/sh", ["-c", "trap '' TERM; while :; do sleep 0.05; done"], timeout: 0.3, grace: 0.5)
        #expect(stubborn.timedOut && stubborn.signal == SIGKILL)
        #expect(Date().timeIntervalSince(started) < 4)
    }

    /// What a child started goes with it when it is stopped (`--alert-exec 'notify; sleep 100'`):
    /// the signals go to its process group. A process it started that ignores SIGTERM gets SIGKILL.
    @Test func stoppingAChildStopsWhatItStarted() throws {
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "sh -c 'trap \"\" TERM; sleep 30' & echo $!; sleep 30 & echo $!; wait"],
                                           timeout: 0.5, grace: 0.5)
        #expect(outcome.timedOut)
        let pids = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
        #expect(pids.count == 2, "\(String(decoding: outcome.output, as: UTF8.self))")
        let deadline = Date().addingTimeInterval(5)
        for pid in pids {
            // Gone, or a zombie waiting for init: not running either way.
            func running() -> Bool {
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
                return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true)
            }
            while running(), Date() < deadline { usleep(10_000) }
            #expect(!running(), "pid \(pid) still runs")
        }
    }

    #if os(Linux)
    /// Whether `pid` runs: gone, or a zombie waiting for init, is not running.
    static func running(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true)
    }

    /// Waits a moment for each of the pids the child printed to stop running; those that still run.
    static func survivors(_ outcome: ChildProcess.Outcome) -> [Int32] {
        let pids = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
        let deadline = Date().addingTimeInterval(3)
        while pids.contains(where: running), Date() < deadline { usleep(10_000) }
        let left = pids.filter(running)
        for pid in left { kill(pid, SIGKILL) }
        return left
    }

    /// A process the child started that left its process group (`setsid`, as a daemon does) and
    /// ignores SIGTERM is stopped with it at its timeout all the same.
    @Test func whatLeftTheChildsProcessGroupIsStoppedAtTheTimeout() throws {
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "setsid sh -c 'trap \"\" TERM; sleep 30' & echo $!; sleep 30"], timeout: 0.5, grace: 0.5)
        #expect(outcome.timedOut)
        #expect(String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").count == 1)
        #expect(Self.survivors(outcome).isEmpty)
    }

    /// A child that exits on its own leaves nothing running behind it, in its group or out of it.
    @Test func whatAChildLeavesRunningWhenItExitsIsEnded() throws {
        let started = Date()
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "sleep 30 & echo $!; setsid sh -c 'trap \"\" TERM; sleep 30' </dev/null >/dev/null 2>&1 & echo $!; exit 0"],
                                           timeout: 20)
        #expect(outcome.status == 0 && !outcome.timedOut)
        #expect(String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").count == 2)
        #expect(Self.survivors(outcome).isEmpty)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    /// A daemon the child started that left its group (`setsid`), cleared its environment
    /// (`env -i`), ignores SIGTERM and left a grandchild of its own behind (a double fork) is
    /// ended when the child exits, and both are waited for: by the time `run` returns neither is
    /// left, not even as a zombie.
    @Test func aDaemonThatShedItsEnvironmentIsEndedAndWaitedFor() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tw-daemon-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = directory + "/daemon.sh", pids = directory + "/pids"
        try """
        trap '' TERM
        sh -c 'sleep 30 </dev/null >/dev/null 2>&1 & echo $!' >> "$1"
        echo $$ >> "$1"
        exec sleep 30 </dev/null >/dev/null 2>&1
        """.write(toFile: script, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: pids, contents: nil)
        let command = "setsid env -i /bin/sh \(script) \(pids) </dev/null >/dev/null 2>&1 & "
            + "n=0; while [ \"$(wc -l < \(pids))\" -lt 2 ] && [ $n -lt 500 ]; do sleep 0.02; n=$((n+1)); done; exit 0"
        let outcome = try ChildProcess.run("/bin/sh", ["-c", command], timeout: 20)
        let left = ((try? String(contentsOfFile: pids, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        let present = left.filter { FileManager.default.fileExists(atPath: "/proc/\($0)") }
        for pid in present { kill(pid, SIGKILL) }
        #expect(outcome.status == 0 && !outcome.timedOut)
        #expect(left.count == 2, "\(left)")
        #expect(present.isEmpty, "left behind: \(present)")
    }
    #endif

    /// A caller asked to stop stops its child at once (`interrupt`); its descriptor readable for
    /// anything else (a reload) changes nothing.
    @Test func aStopAskedForStopsTheChildAtOnce() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        final class Flag: @unchecked Sendable { var stop = false }
        let flag = Flag()
        let writer = ends[1]
        Thread.detachNewThread {
            usleep(200_000)
            _ = write(writer, "r", 1)  // a reload: no stop
            usleep(200_000)
            flag.stop = true
            _ = write(writer, "s", 1)
        }
        let started = Date()
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "sleep 30"], timeout: 20, interrupt: (ends[0], { flag.stop }))
        #expect(outcome.interrupted && !outcome.timedOut)
        #expect(outcome.signal == SIGTERM)
        let took = Date().timeIntervalSince(started)
        #expect(took >= 0.35 && took < 3, "took \(took) s")
    }

    @Test func aChildGetsNoneOfTheParentsDescriptors() throws {
        // Opened without close-on-exec, as a lock or journal might be.
        let leaked = open("/dev/null", O_RDONLY)
        defer { close(leaked) }
        #expect(leaked > 2)
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "ls /proc/$$/fd"], timeout: 20)
        let descriptors = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
        #expect(!descriptors.contains(leaked), "\(descriptors)")
        #expect(descriptors.filter { $0 > 2 }.count <= 1, "\(descriptors)")
    }

    @Test func aChildStartsWithSignalsUnblocked() throws {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "grep SigBlk /proc/self/status"], timeout: 20)
        #expect(String(decoding: outcome.output, as: UTF8.self).contains("SigBlk:\t0000000000000000"), "\(String(decoding: outcome.output, as: UTF8.self))")
    }

    @Test func aRunningChildIsStoppedAndReaped() throws {
        let child = try ChildProcess.start("/bin/sh", ["-c", "echo ready; exec sleep 30"])
        var descriptor = pollfd(fd: child.output, events: Int16(POLLIN), revents: 0)
        #expect(poll(&descriptor, 1, 5000) == 1)
        let pid = child.pid
        child.stop(grace: 2)
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
    }

    @Test func aMissingProgramIsAnError() {
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.run("/nonexistent/tool", [], timeout: 5) }
    }
}
