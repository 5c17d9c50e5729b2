#if os(Linux)
import Foundation
import Glibc
import TestSupport

/// A stand-in for systemd's notification socket: a datagram socket under `directory` whose
/// messages (`READY=1`, `WATCHDOG=1`, …) a child process appends to a file, one per line.
/// Pass `socketPath` as `NOTIFY_SOCKET`; `stop()` kills the child with SIGKILL.
final class NotifyListener {
    let socketPath: String
    private let received: String
    private let listener = Process()

    /// Starts the listener and returns once its socket is bound.
    init(in directory: String) throws {
        socketPath = directory + "/notify.sock"
        received = directory + "/notify.log"
        listener.executableURL = URL(fileURLWithPath: Shell.which("python3") ?? "/usr/bin/python3")
        listener.arguments = ["-c", """
        import socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
        print("ready", flush=True)
        while True:
            with open(sys.argv[2], "ab") as f: f.write(s.recv(4096) + b"\\n")
        """, socketPath, received]
        let out = Pipe()
        listener.standardOutput = out
        try listener.run()
        _ = out.fileHandleForReading.readData(ofLength: 6)
    }

    /// The messages received so far, in order.
    func messages() -> [String] {
        ((try? String(contentsOfFile: received, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func stop() {
        kill(listener.processIdentifier, SIGKILL)
        listener.waitUntilExit()
    }
}
#endif
