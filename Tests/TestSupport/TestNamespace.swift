import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway network namespace for tests that need the real kernel.
///
/// It is made with `ip netns add` under a unique name and removed by `remove()` (call it in a
/// `defer`), which first kills every holder process the test started. Nothing outside the
/// namespace is created or changed.
///
/// Kernel tests run at once, and a tun holder is seen from every namespace by the device name
/// alone, so a device held (or fenced by a reap) in one test's namespace makes a device of the
/// same name in another test's namespace unknown. Each tun or tap name therefore belongs to one
/// test function: `ip tuntap add`, `hold` and renames through `ip(...)` throw when another test
/// of this run has used the name. A parameterized test's cases share their names and must be
/// `.serialized`.
public final class TestNamespace {
    public let name: String
    /// The test function that made this namespace, as `file:function`.
    let owner: String
    private var holders: [Process] = []
    private var removed = false

    /// Whether real-kernel tests can run here: root, /dev/net/tun, and `ip`.
    public static var available: Bool {
        #if os(Linux)
        return getuid() == 0 && FileManager.default.fileExists(atPath: "/dev/net/tun") && which("ip") != nil && which("python3") != nil
        #else
        return false
        #endif
    }

    /// Makes the namespace, under `name` when one is given (to make a namespace again under the
    /// name of one removed before), else under a new unique name.
    public init(name: String? = nil, file: String = #fileID, function: String = #function) throws {
        _ = Self.sweptOnce
        self.name = name ?? "twtest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        owner = "\(file):\(function)"
        try Shell.run(["ip", "netns", "add", self.name])
        try ip("link", "set", "lo", "up")
    }

    deinit { remove() }

    /// Removes, once per test process, the namespaces earlier test processes left behind when
    /// they died before their `defer`s ran (a trap in one test ends the whole run): those named
    /// `twtest-PID-…` whose PID is no longer alive, after killing what still runs in them. A
    /// namespace of a live process, or of any other name, is never touched.
    static let sweptOnce: Void = {
        let directory = "/run/netns"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let parts = entry.split(separator: "-")
            guard parts.count == 3, parts[0] == "twtest", let pid = Int32(parts[1]), pid > 0, pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            for holder in ((try? Shell.run(["ip", "netns", "pids", entry])) ?? "").split(separator: "\n") {
                if let holder = Int32(holder) { kill(holder, SIGKILL) }
            }
            _ = try? Shell.run(["ip", "netns", "del", entry])
        }
    }()

    /// Runs `ip -n NAME ARGS…` and fails on a non-zero exit.
    @discardableResult
    public func ip(_ args: String...) throws -> String {
        if let device = TunNames.made(by: args) { try TunNames.claim(device, for: owner) }
        return try Shell.run(["ip", "-n", name] + args)
    }

    /// Starts a process inside the namespace that opens /dev/net/tun and attaches to `device`
    /// (creating it if it does not exist, non-persistent, as VPN daemons do), and returns once it is
    /// attached; `device` may name several, comma-separated, all held by the one process.
    /// `multiQueue` sets IFF_MULTI_QUEUE. With `user`, the holder then drops to that uid
    /// (and stays dumpable, so its /proc entries are that user's), as openvpn's `--user` does.
    @discardableResult
    public func hold(_ device: String, mode: String = "tun", multiQueue: Bool = false, user: Int? = nil) throws -> Process {
        for name in device.split(separator: ",") { try TunNames.claim(String(name), for: owner) }
        return try python(Self.holderScript, [device, mode, multiQueue ? "mq" : "sq"] + (user.map { ["\($0)"] } ?? []))
    }

    /// Starts `python3 -c SCRIPT ARGUMENTS…` inside the namespace and returns once the script has
    /// printed `ready` on a line of its own; fails with its exit status if it ends first. The
    /// process is killed by `release(_:)` or `remove()`, like a holder. `ip netns exec` execs
    /// python in place, so the process's pid is python's.
    @discardableResult
    public func python(_ script: String, _ arguments: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.which("ip") ?? "/usr/sbin/ip")
        process.arguments = ["netns", "exec", name, "python3", "-c", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        holders.append(process)
        let line = String(decoding: output.fileHandleForReading.readData(ofLength: 6), as: UTF8.self)
        guard line == "ready\n" else {
            process.waitUntilExit()
            throw ShellError(command: "python3 -c … \(arguments.joined(separator: " "))", status: process.terminationStatus, output: line)
        }
        return process
    }

    /// Kills a holder and waits for it, so the kernel has detached its queue when this returns.
    public func release(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        holders.removeAll { $0 === process }
        // `ip netns exec` forks python: wait until no process in the namespace holds the tun.
        for _ in 0..<100 {
            let pids = (try? Shell.run(["ip", "netns", "pids", name])) ?? ""
            if pids.split(separator: "\n").isEmpty { return }
            usleep(20_000)
        }
    }

    /// Runs recreate (or other) commands each with `sh -c`, as a person pasting them would, from
    /// a throwaway namespace of their own, never from the host's: every command is meant to name
    /// the namespace it acts in (`ip -n NAME`, `ip netns exec NAME`), and one that does not acts
    /// in the throwaway one, instead of beside the host's own devices and settings. Throws on the
    /// first command that fails, and when any command made a link where it was played.
    public static func replayFromElsewhere(_ commands: [String], file: String = #fileID, function: String = #function) throws {
        let elsewhere = try TestNamespace(file: file, function: function)
        defer { elsewhere.remove() }
        for command in commands { try Shell.run(["ip", "netns", "exec", elsewhere.name, "sh", "-c", command]) }
        let links = try elsewhere.ip("-o", "link", "show").split(separator: "\n").filter { !$0.contains(": lo:") }
        guard links.isEmpty else {
            throw ShellError(command: "replay", status: 1, output: "a command acted where it was played, not in the namespace it names: \(links)")
        }
    }

    /// Kills every holder and deletes the namespace. Safe to call more than once.
    public func remove() {
        guard !removed else { return }
        removed = true
        for process in holders where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        // Processes started in the namespace by `ip netns exec` (python under ip) go too.
        if let pids = try? Shell.run(["ip", "netns", "pids", name]) {
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        for process in holders { process.waitUntilExit() }
        _ = try? Shell.run(["ip", "netns", "del", name])
    }

    static func which(_ tool: String) -> String? { Shell.which(tool) }

    /// Opens /dev/net/tun, attaches with TUNSETIFF, prints "ready", and sleeps until killed.
    static let holderScript = """
    import fcntl, os, struct, sys, time
    names, mode, queues = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
    flags = (0x0001 if mode == "tun" else 0x0002) | 0x1000
    if queues == "mq":
        flags |= 0x0100
    fds = [os.open("/dev/net/tun", os.O_RDWR) for _ in names]
    for fd, name in zip(fds, names):
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), flags))
    if len(sys.argv) > 4:
        import ctypes
        uid = int(sys.argv[4])
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)
    """
}

extension TestNamespace {
    /// The report of an audit of this namespace by the binary under test, keeping no observations,
    /// as parsed JSON; output that is not a JSON object throws, so a test never reads an empty
    /// report as a verdict.
    public func auditReport() throws -> [String: Any] {
        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", name, "audit", "--format", "json", "--no-state"])
        guard let report = try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any] else {
            throw ShellError(command: "tunwarden --netns \(name) audit --format json --no-state", status: audit.status, output: audit.stdout + audit.stderr)
        }
        return report
    }

    /// The `interfaces` records of `auditReport()`.
    public func auditedInterfaces() throws -> [[String: Any]] {
        try auditReport()["interfaces"] as? [[String: Any]] ?? []
    }

    /// Each interface of `auditReport()` by name, with its state and the reason given for it.
    public func auditedVerdicts() throws -> [String: (state: String, reason: String)] {
        Dictionary(try auditedInterfaces().map { ($0["ifname"] as? String ?? "", ($0["state"] as? String ?? "", $0["state_reason"] as? String ?? "")) },
                   uniquingKeysWith: { first, _ in first })
    }
}

/// The tun and tap names the kernel tests of this run have used, each with the one test function
/// it belongs to (see `TestNamespace`).
enum TunNames {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var owners: [String: String] = [:]

    /// A name used by two test functions.
    struct Clash: Error, CustomStringConvertible {
        var device: String, owner: String, other: String
        var description: String {
            "the device name \(device) is used by \(owner) and by \(other); kernel tests run at once and a holder "
                + "of one makes the other's device unknown, so give each test names of its own"
        }
    }

    /// Records `device` as `owner`'s, or throws `Clash` when another test function has used it.
    static func claim(_ device: String, for owner: String) throws {
        lock.lock()
        defer { lock.unlock() }
        if let other = owners[device], other != owner { throw Clash(device: device, owner: owner, other: other) }
        owners[device] = owner
    }

    /// The tun or tap name an `ip` command makes: `tuntap add [dev] NAME …`, or the new name of
    /// `link set DEV name NEW`; nil for any other command.
    static func made(by args: [String]) -> String? {
        if args.count >= 3, args[0] == "tuntap", args[1] == "add" {
            var rest = args.dropFirst(2)
            while let word = rest.first {
                rest = rest.dropFirst()
                switch word {
                case "dev", "name": return rest.first
                case "mode", "user", "group": rest = rest.dropFirst()
                case "pi", "vnet_hdr", "multi_queue", "one_queue", "numqueues": continue
                default: return word
                }
            }
            return nil
        }
        if args.count >= 5, args[0] == "link", args[1] == "set", let index = args.firstIndex(of: "name"), index + 1 < args.count {
            return args[index + 1]
        }
        return nil
    }
}

/// A command that failed.
public struct ShellError: Error, CustomStringConvertible {
    public var command: String
    public var status: Int32
    public var output: String

    public init(command: String, status: Int32, output: String) {
        self.command = command
        self.status = status
        self.output = output
    }
    public var description: String { "`\(command)` exited \(status): \(output)" }
}

/// Runs commands and captures their output.
public enum Shell {
    /// The result of a finished command.
    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a command, returning its standard output, and throws when it exits non-zero.
    @discardableResult
    public static func run(_ arguments: [String]) throws -> String {
        let result = try capture(arguments)
        guard result.status == 0 else {
            throw ShellError(command: arguments.joined(separator: " "), status: result.status, output: result.stderr)
        }
        return result.stdout
    }

    /// The environment for a command a test runs: unless the test names a configuration file
    /// itself, tunwarden reads an empty one, never the machine's /etc/tunwarden/tunwarden.conf.
    public static func hermetic(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        if environment["TUNWARDEN_CONFIG"] == nil { environment["TUNWARDEN_CONFIG"] = "/dev/null" }
        return environment
    }

    /// Runs a command and returns its exit status and output, whatever the status.
    public static func capture(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let process = Process()
        let tool = arguments[0]
        process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : (which(tool) ?? tool))
        process.arguments = Array(arguments.dropFirst())
        process.environment = hermetic(environment ?? ProcessInfo.processInfo.environment)
        // Both streams go to files read after the process exits: waiting for a pipe's end of file
        // would hang whenever a concurrently started long-lived process (a test's server) inherited
        // the pipe's write end.
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tw-capture-\(UUID().uuidString)")
        let outputFile = base.appendingPathExtension("out"), errorFile = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outputFile)
            try? FileManager.default.removeItem(at: errorFile)
        }
        let outputHandle = try FileHandle(forWritingTo: outputFile)
        let errorHandle = try FileHandle(forWritingTo: errorFile)
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try outputHandle.close()
        try errorHandle.close()
        let stdoutData = (try? Data(contentsOf: outputFile)) ?? Data()
        let stderrData = (try? Data(contentsOf: errorFile)) ?? Data()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }

    public static func which(_ tool: String) -> String? {
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
            let path = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// The `tunwarden` executable built beside the test bundle.
    public static var tunwardenBinary: String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // The test runner lives in …/debug/NAME.xctest (a file on Linux, a bundle on macOS).
        while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("tunwarden").path),
              directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("tunwarden").path
    }
}

/// A directory under the system's temporary directory, removed by `remove()`.
public final class TemporaryDirectory {
    public let path: String

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { remove() }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
