#if os(Linux)
import Foundation
import Testing
import TestSupport

/// tunwarden run inside a child PID namespace with its own /proc, as in a container started
/// without the host's PID namespace: it sees only its own processes, so it must not call
/// anything orphaned, and must say why and what to run instead. As root, in a throwaway network
/// namespace; the PID and mount namespaces are `unshare`'s and end with the command.
@Suite(.enabled(if: TestNamespace.available && Shell.which("unshare") != nil, "needs root, /dev/net/tun, ip, python3 and unshare"))
struct PIDNamespaceTests {
    /// Runs the built binary in a new PID namespace with a /proc of its own, in a private mount
    /// namespace so that the mount never reaches the host's.
    func inChildPIDNamespace(_ arguments: [String]) throws -> Shell.Result {
        try Shell.capture(["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
                           Shell.tunwardenBinary] + arguments)
    }

    @Test func holdersAreUnknownInAChildPIDNamespace() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "kpidns0", "mode", "tun")
        // A holder outside tunwarden's PID namespace that forced its carrier off.
        let script = """
        import fcntl, os, struct, sys, time
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"kpidns0", 0x0001 | 0x1000))
        fcntl.ioctl(fd, 0x400454e2, struct.pack("i", 0))
        sys.stdout.write("ready\\n")
        sys.stdout.flush()
        while True:
            time.sleep(3600)
        """
        try ns.python(script)

        let audit = try inChildPIDNamespace(["--netns", ns.name, "audit", "--no-state", "--format", "json"])
        #expect(audit.status == 3, "stderr: \(audit.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])
        #expect(report["status"] as? String == "unknown")
        let interfaces = try #require(report["interfaces"] as? [[String: Any]])
        let device = try #require(interfaces.first { $0["ifname"] as? String == "kpidns0" })
        #expect(device["state"] as? String == "unknown")
        #expect(device["holders_known"] as? Bool == false)
        let findings = try #require(report["findings"] as? [[String: Any]])
        #expect(!findings.contains { $0["reapable"] as? Bool == true })
        let unknown = try #require(findings.first { $0["id"] as? String == "holder-unknown" })
        let evidence = unknown["evidence"] as? String ?? ""
        #expect(evidence.contains("PID namespace other than the host's"), "\(evidence)")
        #expect(evidence.contains("--pid=host"), "\(evidence)")
        #expect(!evidence.contains("Run as root"), "\(evidence)")

        let reap = try inChildPIDNamespace(["--netns", ns.name, "reap", "--dry-run", "--min-age", "0", "--no-state"])
        #expect(reap.status == 3)
        #expect(reap.stderr.contains("PID namespace other than the host's"), "stderr: \(reap.stderr)")
        #expect(reap.stderr.contains("--pid=host"), "stderr: \(reap.stderr)")
        #expect(!reap.stdout.contains("Would delete"))
    }
}
#endif
