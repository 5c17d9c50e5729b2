#if os(Linux)
import CLinuxShims
import Foundation
import Glibc
import Testing

/// The child that asks other processes' sockets which namespace they were made in
/// (`tw_socket_namespaces`) does not outlive the call: one that gave no full answer in time is
/// ended and waited for, so it copies no descriptor after its asker has moved on and leaves no
/// zombie behind in a long watch.
@Suite(.enabled(if: getuid() == 0, "pidfd_getfd needs root"))
struct SocketNamespacesHelperTests {
    @Test func aHelperPastItsTimeIsEndedAndWaitedFor() throws {
        let sockets = (0..<256).map { _ in socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }
        defer { sockets.forEach { close($0) } }
        #expect(sockets.allSatisfy { $0 >= 0 })
        let inodes: [UInt64] = sockets.map { fd in
            var info = stat()
            return fstat(fd, &info) == 0 ? UInt64(info.st_ino) : 0
        }
        let count = sockets.count
        var outFDs = [Int32](repeating: -1, count: count)
        var outInodes = [UInt64](repeating: 0, count: count)
        var outIndex = [Int32](repeating: 0, count: count)
        var outCount: Int32 = 0, refused: Int32 = 0, refusedIndex: Int32 = -1, stage: Int32 = 0, value: Int32 = 0
        // No time at all: the answer cannot be complete, and the child is still asking.
        let status = tw_socket_namespaces(Int32(count), [Int32](repeating: getpid(), count: count), sockets, inodes, 0, nil, 0, [], 0,
                                          &outFDs, &outInodes, &outIndex, &outCount, &refused, &refusedIndex, &stage, &value)
        let helper = tw_last_helper()
        let left = FileManager.default.fileExists(atPath: "/proc/\(helper)")
        for n in 0..<Int(outCount) { close(outFDs[n]) }
        #expect(status == -1)
        #expect(helper > 0)
        #expect(!left, "helper \(helper) is still there")
    }

    /// The table of helpers that outlived their SIGKILL has 64 slots, and any thread may start a
    /// helper: each holds a slot from before its start, so that of 70 asked at once from 70
    /// threads at most 64 start and the rest are refused (EAGAIN), rather than overfill the table
    /// should they all outlive their SIGKILL. Run in a test process of its own (this binary, for
    /// `HelperTableTests` alone), since holding every slot refuses any other test's helper meanwhile.
    @Test func helpersAskedFromManyThreadsAtOnceNeverOverfillTheTable() throws {
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        run.arguments = ["--testing-library", "swift-testing", "--filter", "HelperTableTests"]
        run.environment = ProcessInfo.processInfo.environment.merging(["TUNWARDEN_TEST_HELPER_TABLE": "1"]) { $1 }
        let output = Pipe()
        run.standardOutput = output
        run.standardError = output
        try run.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        #expect(run.terminationStatus == 0, "\(text.suffix(2000))")
        #expect(text.contains("helpersFromManyThreadsTakeAtMostEverySlot() passed"), "\(text.suffix(2000))")
    }
}

/// What `SocketNamespacesHelperTests` runs in a process of its own: 70 threads ask at once, each
/// helper kept waiting (opening a FIFO no one reads) until its time is up.
@Suite(.enabled(if: getuid() == 0 && ProcessInfo.processInfo.environment["TUNWARDEN_TEST_HELPER_TABLE"] == "1",
                "run by SocketNamespacesHelperTests in a process of its own"))
struct HelperTableTests {
    @Test func helpersFromManyThreadsTakeAtMostEverySlot() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tw-helpers-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = directory + "/join"
        #expect(mkfifo(fifo, 0o600) == 0)
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var statuses: [Int32] = []
        }
        let results = Results(), threads = 70
        @Sendable func ask(join: String?, timeout: Int32) -> Int32 {
            var outFD: Int32 = -1, outInode: UInt64 = 0, outIndex: Int32 = 0
            var outCount: Int32 = 0, refused: Int32 = 0, refusedIndex: Int32 = -1, stage: Int32 = 0, value: Int32 = 0
            return (join ?? "").withCString { path in
                let paths: [UnsafePointer<CChar>?] = [path]
                return tw_socket_namespaces(0, [0], [0], [0], join == nil ? 0 : 1, paths, 0, [], timeout,
                                            &outFD, &outInode, &outIndex, &outCount, &refused, &refusedIndex, &stage, &value)
            }
        }
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                let status = ask(join: fifo, timeout: 3000)
                results.lock.withLock { results.statuses.append(status) }
                group.leave()
            }
        }
        group.wait()
        let refusedCount = results.statuses.filter { $0 == EAGAIN }.count
        let started = results.statuses.filter { $0 == -1 }.count
        #expect(refusedCount + started == threads, "\(results.statuses)")
        // All 64 slots fill, and the rest are refused; on a machine so busy that a late thread
        // asks after the first helpers' time ran out, it may find a slot freed, never one more.
        #expect(started >= 64 && refusedCount >= 1, "\(refusedCount) refused, \(started) started")
        // Each slot is given back once its helper has ended.
        #expect(ask(join: nil, timeout: 3000) == 0)
    }
}
#endif
