import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// One run of the built binary with its output streams handed over as a test chooses: captured in
/// a file, closed, /dev/full, or a pipe nobody reads any more.
struct HostileRun {
    enum Stream { case captured, closed, full, brokenPipe }

    /// A namespace name that does not exist, for runs that must fail before inspecting anything.
    static let missingNamespace = "twtest-missing-\(getpid())"

    var status: Int32
    /// Whether the process died of a signal (a Swift trap is SIGILL, a broken pipe SIGPIPE).
    var signalled: Bool
    var timedOut: Bool
    var stdout: String
    var stderr: String

    /// Runs `tunwarden --netns NS ARGUMENTS` with its streams handed over as `run` does.
    static func run(in ns: TestNamespace, _ arguments: [String], stdout: Stream = .captured, stderr: Stream = .captured) throws -> HostileRun {
        try run(["--netns", ns.name] + arguments, stdout: stdout, stderr: stderr)
    }

    /// Runs `tunwarden ARGUMENTS` under /bin/sh, which closes the streams asked to be closed and
    /// applies `memoryLimitKiB` (ulimit -v) before exec. A run longer than `timeout` is killed.
    static func run(_ arguments: [String], stdout: Stream = .captured, stderr: Stream = .captured, environment: [String: String] = [:],
                    timeout: Double = 30, memoryLimitKiB: Int? = nil) throws -> HostileRun {
        var script = memoryLimitKiB.map { "ulimit -v \($0); " } ?? ""
        script += "exec \"$0\" \"$@\""
        if stdout == .closed { script += " >&-" }
        if stderr == .closed { script += " 2>&-" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, Shell.tunwardenBinary] + arguments
        process.environment = Shell.hermetic(ProcessInfo.processInfo.environment.merging(environment) { _, new in new })
        process.standardInput = FileHandle.nullDevice
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var opened: [FileHandle] = []
        func handle(_ stream: Stream, _ name: String) throws -> FileHandle {
            let handle: FileHandle
            switch stream {
            case .captured, .closed:
                _ = FileManager.default.createFile(atPath: directory.path + "/" + name, contents: nil)
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.path + "/" + name))
            case .full:
                handle = try #require(FileHandle(forWritingAtPath: "/dev/full"))
            case .brokenPipe:
                let pipe = Pipe()
                try pipe.fileHandleForReading.close()
                handle = pipe.fileHandleForWriting
            }
            opened.append(handle)
            return handle
        }
        process.standardOutput = try handle(stdout, "out")
        process.standardError = try handle(stderr, "err")
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        let timedOut = process.isRunning
        if timedOut { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        for handle in opened { try? handle.close() }
        func read(_ name: String) -> String {
            String(decoding: FileManager.default.contents(atPath: directory.path + "/" + name) ?? Data(), as: UTF8.self)
        }
        return HostileRun(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal, timedOut: timedOut,
                          stdout: read("out"), stderr: read("err"))
    }
}
