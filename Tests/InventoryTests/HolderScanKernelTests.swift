#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// The holder scan's blind spots, against the real kernel as root, each test in its own
/// throwaway namespace: descriptor tables that `/proc/PID/fd` does not show.
///
/// Every holder here turns its device's carrier off (TUNSETCARRIER 0), as any holder may: then
/// only the scan stands between a held device and the verdict "orphaned".
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct HolderScanKernelTests {
    /// What every script here shares: attaching to a device with TUNSETIFF and forcing its carrier off.
    static let attach = """
    import ctypes, fcntl, os, platform, struct, sys, threading, time
    libc = ctypes.CDLL(None, use_errno=True)
    def attach(name):
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))  # TUNSETIFF, IFF_TUN | IFF_NO_PI
        fcntl.ioctl(fd, 0x400454e2, struct.pack("i", 0))  # TUNSETCARRIER off
        return fd
    def ready():
        sys.stdout.write("ready\\n")
        sys.stdout.flush()

    """

    /// A thread that unshares its descriptor table (CLONE_FILES) and attaches in it: the
    /// descriptor is in that thread's table only.
    static let privateTableHolder = attach + """
    held = threading.Event()
    def hold():
        if libc.unshare(0x400) != 0:
            os._exit(3)
        attach(sys.argv[1])
        held.set()
        while True:
            time.sleep(3600)
    threading.Thread(target=hold, daemon=True).start()
    held.wait()
    ready()
    while True:
        time.sleep(3600)
    """

    /// The main thread attaches, starts a thread, and exits alone (SYS_exit, not exit_group):
    /// the process lives on with a zombie leader, whose `/proc/PID/fd` is empty.
    static let zombieLeaderHolder = attach + """
    exit_thread = {"x86_64": 60, "aarch64": 93, "riscv64": 93, "loongarch64": 93, "ppc64le": 1, "s390x": 1, "i686": 1, "armv7l": 1}[platform.machine()]
    attach(sys.argv[1])
    leader = os.getpid()
    def linger():
        while "State:\\tZ" not in open("/proc/%d/status" % leader).read():
            time.sleep(0.01)
        ready()
        while True:
            time.sleep(3600)
    threading.Thread(target=linger).start()
    libc.syscall(exit_thread, 0)
    """

    /// Several threads sharing one table, one of them holding the device: one holder, once.
    static let sharedTableHolder = attach + """
    attach(sys.argv[1])
    for _ in range(4):
        threading.Thread(target=lambda: time.sleep(3600), daemon=True).start()
    ready()
    while True:
        time.sleep(3600)
    """

    /// A holder that opened the tun driver through a node of its own (`mknod NODE c 10 200`,
    /// argument 2), not /dev/net/tun.
    static let elsewhereNodeHolder = attach.replacingOccurrences(of: "os.open(\"/dev/net/tun\", os.O_RDWR)", with: "os.open(sys.argv[2], os.O_RDWR)") + """
    import stat
    os.mknod(sys.argv[2], 0o600 | stat.S_IFCHR, os.makedev(10, 200))
    attach(sys.argv[1])
    ready()
    while True:
        time.sleep(3600)
    """

    func entry(_ a: Assessment, _ name: String) throws -> AssessedInterface {
        try #require(a.interfaces.first { $0.interface.name == name })
    }

    /// The targets of the descriptors `/proc/PID/fd` lists.
    func descriptorTargets(_ pid: Int32) -> [String] {
        let directory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)") }
    }

    @Test func aThreadWithItsOwnDescriptorTableIsFound() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "kpriv0", "mode", "tun")
        let holder = try ns.python(Self.privateTableHolder, ["kpriv0"])
        // The process's own table does not hold the device: only the thread's does.
        #expect(!descriptorTargets(holder.processIdentifier).contains("/dev/net/tun"))

        let a = Heuristics.assess(try LinuxInventory(namespaceName: ns.name).snapshot())
        let device = try entry(a, "kpriv0")
        #expect(device.interface.carrier == false)
        #expect(device.state == .live)
        #expect(device.holders.map(\.pid) == [holder.processIdentifier])
        #expect(!a.findings.contains { $0.id == FindingID.orphanedTun })
        #expect(a.snapshot.holders.complete)
    }

    /// A tun descriptor opened through a node at another path than /dev/net/tun is found by its
    /// device number (10:200). Until round 48 the scan matched the path, and the device, its
    /// carrier turned off, was called orphaned and reapable.
    @Test func aHolderThroughATunNodeElsewhereIsFound() throws {
        let ns = try TestNamespace(), nodes = try TemporaryDirectory()
        defer { ns.remove(); nodes.remove() }
        try ns.ip("tuntap", "add", "dev", "l48node0", "mode", "tun")
        let node = nodes.path + "/mytun"
        let holder = try ns.python(Self.elsewhereNodeHolder, ["l48node0", node])
        #expect(descriptorTargets(holder.processIdentifier).contains(node))

        let a = Heuristics.assess(try LinuxInventory(namespaceName: ns.name).snapshot())
        let device = try entry(a, "l48node0")
        #expect(device.interface.carrier == false)
        #expect(device.state == .live, "\(device.reason)")
        #expect(device.holders.map(\.pid) == [holder.processIdentifier])
        #expect(!a.findings.contains { $0.id == FindingID.orphanedTun && $0.ifname == "l48node0" })
    }

    @Test func aProcessWhoseMainThreadExitedIsFound() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "kzomb0", "mode", "tun")
        let holder = try ns.python(Self.zombieLeaderHolder, ["kzomb0"])
        #expect(descriptorTargets(holder.processIdentifier).isEmpty)

        let a = Heuristics.assess(try LinuxInventory(namespaceName: ns.name).snapshot())
        let device = try entry(a, "kzomb0")
        #expect(device.interface.carrier == false)
        #expect(device.state == .live)
        #expect(device.holders.map(\.pid) == [holder.processIdentifier])
        // The leader's namespace link is gone with it; a live thread's names the namespace.
        #expect(device.holders.first?.netns != nil)
        #expect(!a.findings.contains { $0.id == FindingID.orphanedTun })
    }

    /// How the scan is told whether two tasks share a descriptor table.
    enum Comparison: String, CaseIterable, CustomTestStringConvertible {
        /// kcmp(2), as the scan asks it.
        case kcmp
        /// kcmp answers ENOSYS: every task's table is read.
        case unavailable
        /// Every pair is said to share a table: only the main threads' tables are read.
        case alwaysShared

        var testDescription: String { rawValue }
    }

    /// Threads that share a table add no holders: one attachment per descriptor, whether kcmp tells
    /// the tables apart or is unavailable and every task's table is read. A table kcmp calls shared
    /// is not read again (so when it calls every table shared, a private one goes unread).
    @Test(.serialized, arguments: Comparison.allCases)
    func threadsSharingATableHoldOnce(comparison: Comparison) throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        // Names unique to each case: the cases run at once, and the scan sees every namespace.
        let sharedName = "kshr\(comparison.rawValue.prefix(4))", ownName = "kown\(comparison.rawValue.prefix(4))"
        try ns.ip("tuntap", "add", "dev", sharedName, "mode", "tun")
        try ns.ip("tuntap", "add", "dev", ownName, "mode", "tun")
        let shared = try ns.python(Self.sharedTableHolder, [sharedName])
        let own = try ns.python(Self.privateTableHolder, [ownName])
        var scanner = HolderScanner()
        switch comparison {
        case .kcmp: break
        case .unavailable: scanner.sameDescriptorTable = { _, _ in .failed(ENOSYS) }
        case .alwaysShared: scanner.sameDescriptorTable = { _, _ in .ok(true) }
        }
        let inode = try LinuxInventory(namespaceName: ns.name).openNamespace()
        defer { if let fd = inode.fd { close(fd) } }
        let (scan, _) = scanner.scan(inspectedNamespace: inode.inode)
        #expect(scan.complete)
        #expect(scan.attachments.filter { $0.ifname == sharedName }.map(\.holder.pid) == [shared.processIdentifier])
        let ownHolders = scan.attachments.filter { $0.ifname == ownName }.map(\.holder.pid)
        #expect(ownHolders == (comparison == .alwaysShared ? [] : [own.processIdentifier]))
        #expect(scan.attachments.filter { $0.ifname == sharedName || $0.ifname == ownName }.allSatisfy { $0.inInspectedNamespace })
    }
}
#endif
