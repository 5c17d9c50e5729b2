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
}
#endif
