import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway network namespace that, once hidden, no process runs in and no path tunwarden can
/// see opens: made with `ip netns add` (so that devices are moved into it by name, never made in
/// the host's namespace), then kept by something else while its name is removed.
///
/// `remove()` (call it in a `defer`) kills the keeper with SIGKILL and waits for it, which frees
/// the namespace, and removes the mount point file; a mount made by the keeper lives only in its
/// private mount namespace and goes with it.
public final class HiddenNamespace {
    /// What keeps the namespace once its name is removed.
    public enum Keeper: String, CaseIterable, Sendable {
        /// Its `ip netns` name: the control, nothing is hidden.
        case name
        /// An open descriptor of a process in the host's namespace (a runtime, a supervisor).
        case descriptor
        /// A descriptor in flight in an SCM_RIGHTS message on a socketpair, never received
        /// (systemd's storage of a `PrivateNetwork=` namespace).
        case inFlight
        /// A bind mount in a private mount namespace of another process (a daemon with its own /run).
        case mountElsewhere
        /// An open descriptor of a process in the host's namespace that entered the namespace,
        /// opened its `/proc/self/ns/net` and went back: its link reads `net:[INODE]`.
        case processNamespace
        /// An open descriptor of a process in a private mount namespace that opened the namespace
        /// through a bind mount of its own and then lazily unmounted it (`umount -l`), with its
        /// copy of the `ip netns` mount: its link reads `/`. It also keeps open, the same way, a
        /// UTS namespace file, a namespace of another type than a network one.
        case detachedMount
        /// A UDP socket of a process in the host's namespace that entered the namespace, made the
        /// socket there and went back, closing its descriptor of the namespace: every socket
        /// keeps the namespace it was made in (a daemon's listener in a container's namespace).
        case socket
    }

    public let namespace: TestNamespace
    public var name: String { namespace.name }
    private var keeper: Process?
    private var keeping: Keeper?
    private let mountPoint: String
    private var removed = false

    public init(name: String? = nil, file: String = #fileID, function: String = #function) throws {
        namespace = try TestNamespace(name: name, file: file, function: function)
        mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("twhide-\(namespace.name)").path
    }

    deinit { remove() }

    /// Whether the tools each keeper needs are here (`unshare` for a mount elsewhere).
    public static var available: Bool { TestNamespace.available && Shell.which("unshare") != nil }

    /// Starts the keeper and, once it keeps the namespace, removes the namespace's name.
    public func hide(by keeping: Keeper) throws {
        let process = Process()
        let path = "/run/netns/\(name)"
        switch keeping {
        case .name:
            return
        case .descriptor, .inFlight, .processNamespace, .socket:
            process.executableURL = URL(fileURLWithPath: Shell.which("python3") ?? "/usr/bin/python3")
            process.arguments = ["-c", Self.keeperScript, path, keeping.rawValue]
        case .detachedMount:
            for file in [mountPoint, mountPoint + ".uts"] { FileManager.default.createFile(atPath: file, contents: nil) }
            process.executableURL = URL(fileURLWithPath: Shell.which("unshare") ?? "/usr/bin/unshare")
            process.arguments = ["-m", "--propagation", "private", "sh", "-c",
                                 #"mount --bind "$0" "$1" && mount --bind /proc/self/ns/uts "$1.uts" && exec python3 -c "$2" "$1" detachedMount "$0""#,
                                 path, mountPoint, Self.keeperScript]
        case .mountElsewhere:
            FileManager.default.createFile(atPath: mountPoint, contents: nil)
            process.executableURL = URL(fileURLWithPath: Shell.which("unshare") ?? "/usr/bin/unshare")
            process.arguments = ["-m", "--propagation", "private", "sh", "-c", #"mount --bind "$0" "$1" && echo ready && exec sleep 100000"#, path, mountPoint]
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        keeper = process
        self.keeping = keeping
        let line = String(decoding: output.fileHandleForReading.readData(ofLength: 6), as: UTF8.self)
        guard line == "ready\n" else { throw ShellError(command: "keeper \(keeping.rawValue)", status: -1, output: line) }
        try Shell.run(["ip", "netns", "del", name])
    }

    /// Kills the keeper, removes the namespace if it still has its name, and the mount point file.
    public func remove() {
        guard !removed else { return }
        removed = true
        if let keeper {
            if keeper.isRunning { kill(keeper.processIdentifier, SIGKILL) }
            keeper.waitUntilExit()
        }
        namespace.remove()
        try? FileManager.default.removeItem(atPath: mountPoint)
        try? FileManager.default.removeItem(atPath: mountPoint + ".uts")
    }

    /// The descriptor number under which a keeper of the namespace by a descriptor (not in
    /// flight) keeps it.
    public static let keptDescriptor = 100

    /// The output of `ip ARGS…` run inside the namespace through the keeper's descriptor, for a
    /// namespace hidden by `descriptor`, `processNamespace`, `detachedMount` or `socket` (whose
    /// namespace is opened through a copy of the socket: pidfd_getfd, then SIOCGSKNS).
    public func ipThroughKeeper(_ args: String...) throws -> String {
        guard let keeper else { return try Shell.run(["ip", "-n", name] + args) }
        if keeping == .socket {
            return try Shell.run(["python3", "-c", Self.socketNamespaceScript, "\(keeper.processIdentifier)", "\(Self.keptDescriptor)", "ip"] + args)
        }
        return try Shell.run(["nsenter", "--net=/proc/\(keeper.processIdentifier)/fd/\(Self.keptDescriptor)", "ip"] + args)
    }

    /// Runs `argv[3…]` in the namespace the socket `argv[2]` of process `argv[1]` was made in.
    static let socketNamespaceScript = """
    import ctypes, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(434, int(sys.argv[1]), 0)
    copy = libc.syscall(438, pidfd, int(sys.argv[2]), 0)
    if pidfd < 0 or copy < 0:
        raise OSError(ctypes.get_errno(), "pidfd")
    namespace = libc.ioctl(copy, 0x894C)
    if namespace < 0 or libc.setns(namespace, 0x40000000) != 0:
        raise OSError(ctypes.get_errno(), "SIOCGSKNS")
    os.execvp(sys.argv[3], sys.argv[3:])
    """

    /// Opens the namespace file, keeps it as an open descriptor (as `keptDescriptor`) or sends it
    /// over a socketpair and closes its own, prints "ready", and sleeps until killed.
    static let keeperScript = """
    import ctypes, os, socket, struct, subprocess, sys, time
    fd = os.open(sys.argv[1], os.O_RDONLY)
    if sys.argv[2] == "socket":
        libc = ctypes.CDLL(None, use_errno=True)
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        if libc.setns(fd, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        fd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM).detach()
        if libc.setns(home, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(home)
    elif sys.argv[2] == "inFlight":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
        os.close(fd)
    elif sys.argv[2] == "processNamespace":
        libc = ctypes.CDLL(None, use_errno=True)
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        if libc.setns(fd, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        fd = os.open("/proc/self/ns/net", os.O_RDONLY)
        if libc.setns(home, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(home)
    elif sys.argv[2] == "detachedMount":
        uts = os.open(sys.argv[1] + ".uts", os.O_RDONLY)
        os.dup2(uts, 101)
        os.close(uts)
        for point in [sys.argv[1], sys.argv[1] + ".uts", sys.argv[3]]:
            subprocess.check_call(["umount", "-l", point])
    if sys.argv[2] != "inFlight":
        os.dup2(fd, \(keptDescriptor))
        os.close(fd)
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)
    """
}

extension TestNamespace {
    /// The names of the links of every namespace this one has a namespace id for, read from
    /// inside this one by id (IFLA_TARGET_NETNSID): how a test sees into a hidden namespace.
    public func linksKnownByID() throws -> Set<String> {
        let out = try Shell.run(["ip", "netns", "exec", name, "python3", "-c", Self.byIDScript])
        return Set(out.split(separator: "\n").map(String.init))
    }

    static let byIDScript = """
    import socket, struct
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    def dump(request):
        s.send(request)
        while True:
            data, off = s.recv(1 << 20), 0
            while off < len(data):
                length, kind = struct.unpack_from("IH", data, off)
                if kind in (2, 3):
                    return
                yield data[off + 16:off + length]
                off += (length + 3) & ~3
    ids = [struct.unpack_from("i", body, 8)[0] for body in dump(struct.pack("IHHII", 20, 90, 0x301, 1, 0) + bytes(4))]
    for nsid in ids:
        request = bytes(16) + struct.pack("HHi", 8, 46, nsid)
        for body in list(dump(struct.pack("IHHII", 16 + len(request), 18, 0x301, 2 + nsid, 0) + request)):
            at = 16
            while at + 4 <= len(body):
                length, kind = struct.unpack_from("HH", body, at)
                if length < 4:
                    break
                if kind == 3:
                    print(body[at + 4:at + length].rstrip(b"\\0").decode())
                at += (length + 3) & ~3
    """
}
