#if os(Linux)
import Foundation
import Glibc
@testable import Inventory
import Testing
import TestSupport
@testable import TunwardenCommands
import TunwardenCore

/// The watcher's view of vxlan forwarding entries that send through a tap (`bridge fdb add … via
/// tap0`), on the real kernel in throwaway namespaces.
@Suite(.enabled(if: TestNamespace.available && Shell.which("bridge") != nil, "needs root, /dev/net/tun, ip, bridge and python3"))
struct WatchForwardingTests {
    /// Makes a vxlan in `ns`; false (said on standard error) where the kernel has no vxlan driver.
    static func vxlan(_ ns: TestNamespace, _ name: String, id: Int, test: String = #function) throws -> Bool {
        let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", name, "type", "vxlan", "id", "\(id)", "dstport", "\(4789 + id)",
                                      "local", "127.0.0.1"])
        if made.status != 0 { FileHandle.standardError.write(Data("\(test): no vxlan driver here; untested\n".utf8)) }
        return made.status == 0
    }

    /// Runs `bridge -n NAMESPACE fdb ARGUMENTS…` and fails on a non-zero exit.
    static func fdb(_ ns: TestNamespace, _ arguments: String...) throws {
        let result = try Shell.capture(["bridge", "-n", ns.name, "fdb"] + arguments)
        try #require(result.status == 0, "bridge fdb \(arguments): \(result.stderr)")
    }

    /// A vxlan made here and moved to another namespace keeps sending through this one's tap: the
    /// watcher's holder looks keep what the snapshot found of it.
    @Test func theEntriesOfAVxlanMovedAwayOutliveHolderLooks() throws {
        let ns = try TestNamespace(), other = try TestNamespace()
        defer { ns.remove(); other.remove() }
        for tap in ["wfm0", "wfm1"] { try ns.ip("tuntap", "add", "dev", tap, "mode", "tap") }
        guard try Self.vxlan(ns, "wfmx", id: 63) else { return }
        try Self.fdb(ns, "add", "00:00:00:00:00:00", "dev", "wfmx", "dst", "192.0.2.1", "via", "wfm0")
        try ns.ip("link", "set", "wfmx", "netns", other.name)
        let watched = try WatchEventKernelTests.Watched(ns)
        #expect(watched.state("wfm0") == .suspect)
        // A tap made: its holders are looked for, and what uses devices read again.
        try ns.ip("tuntap", "add", "dev", "wfm2", "mode", "tap")
        try watched.compare("a holder look after the snapshot")
        #expect(watched.state("wfm0") == .suspect)
        watched.source.close()
    }
}
#endif
