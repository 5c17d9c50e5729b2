#if os(Linux)
import Foundation
import Testing
import TestSupport

/// Observations belong to one incarnation of a namespace: a namespace deleted and made again
/// under the same name (the kernel hands its inode number to the next namespace) starts its
/// grace periods afresh. The built binary, as root, in throwaway namespaces.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct NamespaceIdentityTests {
    func tunwarden(_ ns: TestNamespace, _ state: TemporaryDirectory, _ arguments: String...) throws -> Shell.Result {
        try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name] + [arguments[0], "--state-dir", state.path] + arguments.dropFirst())
    }

    /// Moves every time in the state an hour back, as if the observations were made then: the
    /// boot clock's reading too, which grace periods count on.
    func age(_ state: TemporaryDirectory) throws {
        try StateSQL.execute(state.path, """
            UPDATE interfaces SET first_seen = first_seen - 3600, orphaned_since = orphaned_since - 3600,
                orphaned_since_boot = orphaned_since_boot - 3600;
            UPDATE namespaces SET last_run = last_run - 3600; UPDATE counts SET time = time - 3600
            """)
    }

    func inode(_ ns: TestNamespace) throws -> UInt64 {
        try #require((try FileManager.default.attributesOfItem(atPath: "/run/netns/\(ns.name)"))[.systemFileNumber] as? UInt64)
    }

    @Test func aNamespaceMadeAgainStartsItsGracePeriodAfresh() throws {
        let state = try TemporaryDirectory()
        let first = try TestNamespace()
        defer { first.remove(); state.remove() }
        try first.ip("tuntap", "add", "dev", "kgrace0", "mode", "tun")
        #expect(try tunwarden(first, state, "audit").status == 1)
        try age(state)
        // Seen orphaned an hour ago in this namespace: a minute's grace has passed.
        let aged = try tunwarden(first, state, "reap", "--dry-run", "--min-age", "1m")
        #expect(aged.stdout.contains("Would delete tun kgrace0"), "stdout: \(aged.stdout)")

        // The same name, a new namespace; the kernel reuses the inode number once the old
        // namespace is freed (which it does in the background), as it would for anyone.
        let oldInode = try inode(first)
        first.remove()
        var again = try TestNamespace(name: first.name)
        var attempts = 0
        while try inode(again) != oldInode, attempts < 100 {
            again.remove()
            usleep(20_000)
            again = try TestNamespace(name: first.name)
            attempts += 1
        }
        defer { again.remove() }
        let reused = try inode(again) == oldInode
        try again.ip("tuntap", "add", "dev", "kgrace0", "mode", "tun")

        let fresh = try tunwarden(again, state, "reap", "--dry-run", "--min-age", "1m")
        #expect(fresh.status == 0, "stderr: \(fresh.stderr)")
        #expect(!fresh.stdout.contains("Would delete tun kgrace0"), "inode reused: \(reused); stdout: \(fresh.stdout)")
        let report = try tunwarden(again, state, "audit", "--format", "json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let device = try #require((object["interfaces"] as? [[String: Any]])?.first { $0["ifname"] as? String == "kgrace0" })
        let since = try #require((device["orphaned_since"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) })
        #expect(Date().timeIntervalSince(since) < 600, "orphaned since \(since)")
    }
}
#endif
