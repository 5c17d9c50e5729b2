#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Inventory
import TunwardenCore

/// A device whose link message is longer than 64 KiB, against the real kernel, as root, in a
/// throwaway namespace: the kernel allows about 490 alternative names of 127 bytes on one device,
/// and its link dump then sends a datagram past 64 KiB, which must be read whole, as `ip` reads
/// it, not make the whole namespace uninspectable.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct LargeLinkMessageKernelTests {
    @Test func aLinkMessageOver64KiBIsRead() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "lmbig0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "lmsmall0", "mode", "tun")
        let names = (0..<492).map { String(format: "n%03d", $0) + String(repeating: "x", count: 123) }
        let batch = state.path + "/altnames.batch"
        try names.map { "link property add dev lmbig0 altname \($0)\n" }.joined().write(toFile: batch, atomically: true, encoding: .utf8)
        try ns.ip("-batch", batch)
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let big = try #require(snapshot.interfaces.first { $0.name == "lmbig0" })
        #expect(big.altNames.count == names.count)
        #expect(Set(big.altNames) == Set(names))
        #expect(snapshot.interfaces.contains { $0.name == "lmsmall0" })
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state", "--format", "nagios"])
        #expect(audit.status == 1 && audit.stdout.hasPrefix("TUNWARDEN WARNING"), "\(audit.stdout)\n\(audit.stderr)")
    }
}
#endif
