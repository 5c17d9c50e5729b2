#if os(Linux)
import Foundation
import Glibc
import Testing
@testable import Inventory
import TestSupport

/// vxlan forwarding entries read from the real kernel, as root, in a throwaway namespace.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct VxlanForwardingKernelTests {
    /// A vxlan list of thousands of entries comes in pieces, and learned entries flushed while
    /// it is read make the kernel skip others at a boundary: an entry `via` a tap, there all
    /// along, is still found at every reading (it fell out of about one reading in ten when each
    /// list was read once).
    @Test func anEntryThereAllAlongIsFoundWhileOthersComeAndGo() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "fdvr0", "mode", "tap")
        guard (try? Shell.capture(["ip", "-n", ns.name, "link", "add", "fdvrx", "type", "vxlan", "id", "71", "dstport", "4789", "local", "127.0.0.1"]))?.status == 0 else {
            FileHandle.standardError.write(Data("anEntryThereAllAlongIsFoundWhileOthersComeAndGo: no vxlan driver here; untested\n".utf8))
            return
        }
        try ns.ip("link", "set", "fdvrx", "up")
        let added = try Shell.capture(["bridge", "-n", ns.name, "fdb", "add", "00:00:00:00:00:00", "dev", "fdvrx", "dst", "192.0.2.1", "via", "fdvr0"])
        try #require(added.status == 0, "\(added.stderr)")
        let tap = try #require(try LinuxInventory(namespaceName: ns.name).snapshot().interfaces.first { $0.name == "fdvr0" }).index
        // Three thousand learned entries, added and flushed (by taking the vxlan down) over and over.
        let batch = FileManager.default.temporaryDirectory.appendingPathComponent("tw-fdb-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).batch")
        try (0..<3000).map { "fdb add 02:00:00:00:\(String(format: "%02x:%02x", $0 >> 8, $0 & 255)) dev fdvrx dst 192.0.2.2 dynamic\n" }.joined()
            .write(to: batch, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: batch) }
        let churn = Process()
        churn.executableURL = URL(fileURLWithPath: "/bin/sh")
        churn.arguments = ["-c", "while :; do bridge -n \"$0\" -batch \"$1\" 2>/dev/null; ip -n \"$0\" link set fdvrx down; ip -n \"$0\" link set fdvrx up; done",
                           ns.name, batch.path]
        try churn.run()
        defer {
            churn.terminate()
            churn.waitUntilExit()
        }
        let fd = open("/run/netns/\(ns.name)", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var missed = 0, readings = 0
        let end = Date().addingTimeInterval(8)
        while Date() < end {
            let vias = try VxlanForwarding.found(namespaceFD: fd).get()
            readings += 1
            if vias[tap] != ["fdvrx"] { missed += 1 }
        }
        #expect(readings >= 20 && missed == 0, "the entry via fdvr0 was missed in \(missed) of \(readings) readings")
    }
}
#endif
