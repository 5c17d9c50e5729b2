#if os(Linux)
import Foundation
import Testing
import TestSupport

/// A tap moved into the namespace under an orphan's name and ifindex, against the real kernel, as
/// root, with throwaway namespaces: the inspected one and a staging one, where a fresh tap gets
/// the same ifindex (fresh namespaces number their devices alike) and keeps it when moved in.
/// `--min-age` counts from the newcomer's own arrival, never from the orphan it replaced.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct MovedInDeviceKernelTests {
    func index(of device: String, in ns: TestNamespace) throws -> Int? {
        let objects = try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "link", "show", "dev", device).utf8)) as? [[String: Any]] ?? []
        return objects.first?["ifindex"] as? Int
    }

    @Test func aTapMovedInUnderAnOrphansNameAndIndexWaitsOutItsOwnGracePeriod() throws {
        let ns = try TestNamespace(), staging = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); staging.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "mvin0", "mode", "tap")
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "-q"])
        #expect(audit.status == 1, "\(audit.stdout)\(audit.stderr)")
        let old = try #require(try index(of: "mvin0", in: ns))
        Thread.sleep(forTimeInterval: 3)
        try ns.ip("link", "del", "dev", "mvin0")
        try staging.ip("tuntap", "add", "dev", "mvin0", "mode", "tap")
        try staging.ip("link", "set", "dev", "mvin0", "address", "02:00:00:00:f2:02")
        try staging.ip("link", "set", "dev", "mvin0", "netns", ns.name)
        try #require(try index(of: "mvin0", in: ns) == old, "the newcomer took the orphan's ifindex")
        let reap = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "2s", "--yes"])
        #expect(reap.status == 0, "\(reap.stdout)\(reap.stderr)")
        #expect(reap.stdout.contains("Nothing to reap now"), "\(reap.stdout)")
        #expect(try ns.ip("link", "show", "dev", "mvin0").contains("02:00:00:00:f2:02"), "the newcomer is kept")
        // Its own grace period over, it is reaped as any orphan.
        Thread.sleep(forTimeInterval: 2.2)
        let later = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "2s", "--yes"])
        #expect(later.stdout.contains("Deleted tap mvin0"), "\(later.stdout)\(later.stderr)")
    }
}
#endif
