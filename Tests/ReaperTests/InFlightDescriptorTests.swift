#if os(Linux)
import Foundation
import Testing
import TestSupport

/// The one holder no scan can see: a descriptor travelling inside an SCM_RIGHTS message, sent
/// over a Unix socket and not yet received, is in no process's descriptor table, yet its queue
/// stays attached. The README's safety model says the reaper's kernel proof still covers it;
/// this holds it to that, against the real kernel as root in a throwaway namespace.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct InFlightDescriptorTests {
    /// Attaches to the device, forces its carrier off, sends the descriptor to a socket nobody
    /// reads and closes its own copy.
    static let sender = """
    import array, fcntl, os, socket, struct, sys, time
    name, multi_queue = sys.argv[1], sys.argv[2] == "mq"
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), 0x0001 | 0x1000 | (0x0100 if multi_queue else 0)))
    fcntl.ioctl(fd, 0x400454e2, struct.pack("i", 0))
    ours.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
    os.close(fd)
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)
    """

    @Test(.serialized, arguments: [false, true])
    func aDescriptorInFlightKeepsItsDevice(multiQueue: Bool) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let name = multiQueue ? "kflymq0" : "kfly0"
        if multiQueue {
            try ns.ip("tuntap", "add", "dev", name, "mode", "tun", "multi_queue")
        } else {
            try ns.ip("tuntap", "add", "dev", name, "mode", "tun")
        }
        let sender = try ns.python(Self.sender, [name, multiQueue ? "mq" : "sq"])
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(sender.processIdentifier)/fd")) ?? []
        #expect(!descriptors.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(sender.processIdentifier)/fd/\($0)")) == "/dev/net/tun" })

        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path,
                                        "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        if multiQueue {
            // The kernel's queue count includes the queue in flight: the device is not even planned.
            #expect(!result.stdout.contains("Would delete tun \(name)"), "stdout: \(result.stdout)")
        } else {
            // The scan sees no holder and plans the device; the reaper's exclusive attach is refused.
            #expect(result.stdout.contains("Would delete tun \(name)"), "stdout: \(result.stdout)")
            #expect(result.stdout.contains("Skipped tun \(name)"), "stdout: \(result.stdout)")
        }
        #expect(!result.stdout.contains("Deleted tun \(name)"), "stdout: \(result.stdout)")
        #expect(try ns.ip("link", "show", "dev", name).contains(name))
    }
}
#endif
