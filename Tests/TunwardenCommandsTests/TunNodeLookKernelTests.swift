#if os(Linux)
import Foundation
import Glibc
import Inventory
import Storage
import Testing
import TestSupport
@testable import TunwardenCommands
import TunwardenCore

/// A process attaching to a down tun device, or letting go of one, raises no rtnetlink event; the
/// watcher hears it open or close the tun node (inotify) and looks. Each test runs the watch loop
/// with a periodic look an hour apart, so that only the node events can explain what it notices,
/// and a coalescing window of 2 s, which what a look finds does not wait for; on the real kernel
/// in a throwaway namespace.
@Suite(.enabled(if: TestNamespace.available && Shell.which("unshare") != nil, "needs root, /dev/net/tun, ip, unshare and python3"))
struct TunNodeLookKernelTests {
    /// Attaches to the comma-separated devices of its first argument through /dev/net/tun, prints
    /// "ready", then on each SIGUSR1 attaches to its second argument (a new descriptor) and on each
    /// SIGUSR2 closes the last one it opened so, staying alive.
    static let attacherScript = """
    import fcntl, os, signal, struct, sys
    def attach(name):
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))
        return fd
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGUSR2])
    held = [attach(name) for name in sys.argv[1].split(",") if name]
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    later = []
    while True:
        if signal.sigwait([signal.SIGUSR1, signal.SIGUSR2]) == signal.SIGUSR1:
            later.append(attach(sys.argv[2]))
        else:
            os.close(later.pop())
    """

    /// Starts the attacher in the namespace, in a mount namespace of its own whose /dev/net is a
    /// tmpfs with a tun node made by mknod (as a container's /dev is): another inode than the
    /// host's /dev/net/tun. The mount goes with the process.
    static func attacherWithOwnNode(_ ns: TestNamespace, holding: String, later: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.which("ip") ?? "/usr/sbin/ip")
        process.arguments = ["netns", "exec", ns.name, "unshare", "--mount", "--propagation", "private", "sh", "-c",
                             "mount -t tmpfs tmpfs /dev/net && mknod /dev/net/tun c 10 200 && exec python3 -c \"$0\" \"$@\"",
                             attacherScript, holding, later]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let line = String(decoding: output.fileHandleForReading.readData(ofLength: 6), as: UTF8.self)
        guard line == "ready\n" else {
            process.waitUntilExit()
            throw ShellError(command: "the attacher with its own tun node", status: process.terminationStatus, output: line)
        }
        return process
    }

    /// Runs the watch loop on the namespace, on its own thread, with the periodic look an hour
    /// apart, hearing the opens of `tunNode` and of the nodes holders opened, and sampling traffic
    /// every `statsInterval`.
    func start(_ ns: TestNamespace, state: TemporaryDirectory, tunNode: String = "/dev/net/tun",
               statsInterval: TimeInterval = 3600) -> DarwinWatchTests.Running {
        let running = DarwinWatchTests.Running()
        let runtime = Watch.Runtime(
            namespace: ns.name, stateDirectory: state.path, eventBuffer: 1 << 20, policy: AuditPolicy(limit: 95, warnAt: nil),
            monitoring: Monitoring(alertExec: nil, alertWebhook: nil, textfile: nil, growthPolicy: GrowthPolicy()),
            coalesce: 2000, statsInterval: statsInterval, reap: false, reapPolicy: ReapPolicy(), journalPath: state.path + "/j.jsonl")
        let statePath = state.path, name = ns.name
        Thread.detachNewThread { [runtime] in
            guard let source = try? LinuxEventSource(inventory: LinuxInventory(namespaceName: name), receiveBuffer: 1 << 20, tunNode: tunNode) else {
                running.lock.withLock { running.finished = true }
                return
            }
            let loop = WatchLoop(source: source, store: StateStore(directory: statePath), runtime: runtime, control: running.control)
            loop.lookInterval = 3600
            loop.judged = { assessment in running.lock.withLock { running.judgements.append(assessment) } }
            loop.run(watching: "namespace \(name)")
            running.lock.withLock { running.finished = true }
        }
        return running
    }

    /// Stops a loop `start` ran and waits for it to end.
    static func stop(_ running: DarwinWatchTests.Running) {
        running.control.stop()
        _ = running.wait { _ in running.finished }
    }

    /// A regular file to give as the tun node, so that the host's node is not watched (other
    /// tests open it all the time, and its opens would explain a look as well).
    static func notANode(in state: TemporaryDirectory) -> String {
        let path = state.path + "/not-a-tun-node"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return path
    }

    static func state(of name: String, in judgements: [Assessment]) -> InterfaceState? {
        judgements.last?.interfaces.first { $0.interface.name == name }?.state
    }

    @Test func anAttachToADownOrphanAndTheLettingGoAreHeardThroughTheHostsNode() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "orph0", "mode", "tun")
        let attacher = try ns.python(Self.attacherScript, ["", "orph0"])
        let running = start(ns, state: state)
        defer { Self.stop(running) }
        #expect(running.wait { Self.state(of: "orph0", in: $0) == .orphaned })

        // Attached, still down: no rtnetlink event, only the open of /dev/net/tun.
        let opened = Date()
        kill(attacher.processIdentifier, SIGUSR1)
        #expect(running.wait(seconds: 1.5) { Self.state(of: "orph0", in: $0) == .live }, "the attach went unnoticed")
        // The look the open asked for a second later has come and gone, so that only the close
        // can explain what follows.
        Thread.sleep(until: opened.addingTimeInterval(1.3))
        // The descriptor closed, the process alive: no exit to hear, only the close.
        kill(attacher.processIdentifier, SIGUSR2)
        #expect(running.wait(seconds: 0.8) { Self.state(of: "orph0", in: $0) == .orphaned }, "the letting go went unnoticed")
        #expect(running.lock.withLock { running.judgements.last?.interfaces.first { $0.interface.name == "orph0" }?.holders.isEmpty } == true)
    }

    /// A traffic sample reads every link: it is the orphan look as well, so that a large host's
    /// dump is taken once per interval, not twice. Here no node is watched and the periodic look
    /// is an hour away: only the sample can notice the attach.
    @Test func aTrafficSampleIsAlsoTheOrphanLook() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "smpl0", "mode", "tun")
        let attacher = try ns.python(Self.attacherScript, ["", "smpl0"])
        let decoy = Self.notANode(in: state)
        let running = start(ns, state: state, tunNode: decoy, statsInterval: 1)
        defer { Self.stop(running) }
        #expect(running.wait { Self.state(of: "smpl0", in: $0) == .orphaned })
        kill(attacher.processIdentifier, SIGUSR1)
        #expect(running.wait(seconds: 2.5) { Self.state(of: "smpl0", in: $0) == .live }, "the sample did not look")
        let holders = running.lock.withLock { running.judgements.last?.interfaces.first { $0.interface.name == "smpl0" }?.holders.map(\.pid) }
        #expect(holders == [attacher.processIdentifier])
        kill(attacher.processIdentifier, SIGUSR2)
        #expect(running.wait(seconds: 2.5) { Self.state(of: "smpl0", in: $0) == .orphaned }, "the sample did not look again")
    }

    /// A holder found after the start (here by a sample, with no node watched) is one whose exit
    /// is heard: the holders the exit events are filtered to follow the holder scans, though
    /// they are not gathered again at bursts that cannot change them.
    @Test func theExitOfAHolderFoundLaterIsHeard() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "nlate0", "mode", "tun")
        let attacher = try ns.python(Self.attacherScript, ["", "nlate0"])
        let decoy = Self.notANode(in: state)
        let running = start(ns, state: state, tunNode: decoy, statsInterval: 3)
        defer { Self.stop(running) }
        #expect(running.wait { Self.state(of: "nlate0", in: $0) == .orphaned })
        // Bursts of events that cannot change who holds what, before and after.
        try ns.ip("link", "add", "lva", "type", "veth", "peer", "name", "lvb")
        kill(attacher.processIdentifier, SIGUSR1)
        #expect(running.wait(seconds: 4) { Self.state(of: "nlate0", in: $0) == .live }, "the sample did not look")
        try ns.ip("link", "del", "lva")
        // The next sample is about 3 s away: only the exit can explain what follows.
        kill(attacher.processIdentifier, SIGKILL)
        attacher.waitUntilExit()
        #expect(running.wait(seconds: 1) { Self.state(of: "nlate0", in: $0) == .orphaned }, "the holder's exit went unheard")
    }

    @Test func aContainersOwnNodeIsWatchedOnceAHolderHasOpenedIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "ctheld0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "ctorph0", "mode", "tun")
        // The attacher holds one device through its own node; the watcher learns of that node
        // from the holder scan.
        let attacher = try Self.attacherWithOwnNode(ns, holding: "ctheld0", later: "ctorph0")
        let decoy = Self.notANode(in: state)
        let running = start(ns, state: state, tunNode: decoy)
        defer { Self.stop(running) }
        #expect(running.wait { Self.state(of: "ctheld0", in: $0) == .live && Self.state(of: "ctorph0", in: $0) == .orphaned })

        kill(attacher.processIdentifier, SIGUSR1)
        #expect(running.wait(seconds: 1.5) { Self.state(of: "ctorph0", in: $0) == .live }, "an attach through the container's own node went unnoticed")
        let holders = running.lock.withLock { running.judgements.last?.interfaces.first { $0.interface.name == "ctorph0" }?.holders.map(\.pid) }
        #expect(holders == [attacher.processIdentifier])
    }
}
#endif
