import ChildProcesses
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TunwardenCore

/// Runs the macOS tools tunwarden reads and changes the system with: `ifconfig`, `netstat`,
/// `lsof`, `ps` and `route`. Each is looked up in `searchPath` (the system's directories by
/// default), so tests can put stand-in executables first.
public struct DarwinTools: Sendable {
    /// Directories searched, in order, for each tool.
    public var searchPath: [String]

    public static let systemPath = ["/sbin", "/usr/sbin", "/bin", "/usr/bin"]

    public init(searchPath: [String] = DarwinTools.systemPath) {
        self.searchPath = searchPath
    }

    /// The captures tunwarden reads, by file name, with the command that makes each.
    public static let captures: [(file: String, arguments: [String])] = [
        ("ifconfig.txt", ["ifconfig", "-a", "-v"]),
        ("netstat.txt", ["netstat", "-rn"]),
        ("lsof.txt", ["lsof", "-nP"]),
        ("ps.txt", ["ps", "-axww", "-o", "pid,comm"]),
    ]

    /// The outcome of running a tool.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public func locate(_ tool: String) -> String? {
        searchPath.map { PathText.joined($0, tool) }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// How long one tool may run: lsof on a busy Mac takes seconds, never minutes.
    public static let toolTimeout: TimeInterval = 120

    /// Runs `arguments[0]` with the rest as its arguments and waits for it (at most
    /// `toolTimeout`, after which it is stopped and the run fails).
    public func run(_ arguments: [String]) throws -> Output {
        guard let path = locate(arguments[0]) else {
            throw InventoryError("\(arguments[0]) not found in \(searchPath.joined(separator: ":"))")
        }
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(path, Array(arguments.dropFirst()), timeout: Self.toolTimeout)
        } catch {
            throw InventoryError("\(error)")
        }
        if outcome.timedOut {
            throw InventoryError("`\(arguments.joined(separator: " "))` did not finish within \(Int(Self.toolTimeout)) s and was stopped")
        }
        return Output(status: outcome.status ?? 128 + (outcome.signal ?? 0), stdout: String(decoding: outcome.output, as: UTF8.self),
                      stderr: String(decoding: outcome.errorOutput, as: UTF8.self))
    }

    /// The listing a tool's run gave, or nil when it failed: its output when it exited 0, and
    /// lsof's when it exited 1 with output, as it does when some file could not be listed (a
    /// volume it cannot stat, a process gone meanwhile), with the rest listed.
    public static func listing(of arguments: [String], _ output: Output) -> String? {
        if output.status == 0 { return output.stdout }
        return arguments.first == "lsof" && output.status == 1 && !output.stdout.isEmpty ? output.stdout : nil
    }

    /// Captures every tool's output into `directory`, for `audit --from` here or elsewhere, each
    /// file headed by its command line; what each tool's output counts as is what the live
    /// inventory takes (`listing(of:_:)`).
    /// Returns the files written; a tool that fails leaves its file out (and is reported).
    public func capture(into directory: String) throws -> (written: [String], failed: [String]) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = [], failed: [String] = []
        for (file, arguments) in Self.captures {
            guard let output = try? run(arguments), let listing = Self.listing(of: arguments, output) else {
                failed.append("\(arguments.joined(separator: " ")) (for \(file))")
                continue
            }
            // Each file starts with the command that made it, at a root (`#`) or user (`$`)
            // prompt, so that the capture says what it covers: an lsof run without root sees
            // only its user's sockets.
            let prompt = geteuid() == 0 ? "#" : "$"
            let text = "\(prompt) \(arguments.joined(separator: " "))\n" + listing
            try Data(text.utf8).write(to: URL(fileURLWithPath: PathText.joined(directory, file)))
            written.append(file)
        }
        return (written, failed)
    }
}

/// The live macOS inventory: the system's own tools, read with the same parsers as a capture.
/// lsof sees every process's sockets only as root; otherwise holders are unknown.
public struct DarwinInventory: InventoryBackend, Sendable {
    public var tools: DarwinTools
    /// Whether lsof ran with the privileges to see every process.
    public var privileged: Bool

    public init(tools: DarwinTools = DarwinTools(), privileged: Bool) {
        self.tools = tools
        self.privileged = privileged
    }

    public func snapshot() throws -> Snapshot {
        func output(_ arguments: [String], required: Bool) throws -> String? {
            let result = try tools.run(arguments)
            guard let listing = DarwinTools.listing(of: arguments, result) else {
                if required { throw InventoryError("`\(arguments.joined(separator: " "))` failed (exit \(result.status)): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
                return nil
            }
            return listing
        }
        let ifconfig = try output(["ifconfig", "-a", "-v"], required: true)
        let netstat = try output(["netstat", "-rn"], required: true)
        let lsof = privileged ? try output(["lsof", "-nP"], required: false) : nil
        let ps = try output(DarwinTools.captures.first { $0.file == "ps.txt" }?.arguments ?? ["ps", "-axww", "-o", "pid,comm"], required: false)
        do {
            var snapshot = try CapturedInventory.build(ifconfig: ifconfig, netstat: netstat, lsof: lsof, ps: ps, whole: true)
            snapshot.namespaceIdentity = "darwin"
            if !privileged { snapshot.holders = .unavailable("lsof needs root to see every process's sockets") }
            snapshot.missingSources = []
            return snapshot
        } catch let error as CaptureParseError {
            throw InventoryError("cannot read the output of the system's tools: \(error)")
        }
    }
}
