#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// A veth's peer namespace counted through every thread, against the real kernel (Linux 52 F2):
/// namespaces are per task, so one thread of a process can run in a namespace its main thread
/// is not in, and that namespace is not empty.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct VethPeerThreadTests {
    /// A process whose main thread runs in the audited namespace starts a thread that enters the
    /// peer's (`setns`, as a Go daemon's locked thread does): the peer's namespace is not called
    /// one where no process runs.
    @Test func aThreadAloneInThePeersNamespaceIsAProcessThere() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let other = try TestNamespace()
        defer { other.remove() }
        try ns.ip("link", "add", "vth0", "type", "veth", "peer", "name", "vth1", "netns", other.name)
        let script = """
        import ctypes, os, sys, threading, time
        libc = ctypes.CDLL(None, use_errno=True)
        entered = threading.Event()
        def worker():
            fd = os.open("/run/netns/" + sys.argv[1], os.O_RDONLY)
            if libc.setns(fd, 0x40000000) != 0: sys.exit(1)
            entered.set()
            time.sleep(3600)
        threading.Thread(target=worker, daemon=True).start()
        if not entered.wait(5): sys.exit(1)
        print("ready", flush=True)
        time.sleep(3600)
        """
        let process = try ns.python(script, [other.name])
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/task")
        #expect(threads.count >= 2)
        let a = try LinuxInventory(namespaceName: ns.name).snapshot()
        let assessment = Heuristics.assess(a, policy: AuditPolicy())
        let veth = try #require(assessment.interfaces.first { $0.interface.name == "vth0" })
        #expect(!assessment.findings.contains { $0.id == "veth-peer-netns-empty" && $0.ifname == "vth0" },
                "\(assessment.findings.map(\.evidence))")
        #expect(veth.state == .live, "\(veth.reason)")
    }
}
#endif
