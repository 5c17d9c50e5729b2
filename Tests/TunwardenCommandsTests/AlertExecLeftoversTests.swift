import Foundation
import Testing
import TestSupport

/// What an `--alert-exec` command leaves running is ended when it exits, found without reading
/// any process's memory: a process stuck in the kernel with its memory-map lock held (behind a
/// hung NFS or FUSE server) would keep a reader of its /proc/PID/environ waiting for ever, and
/// the watcher with it. As root, in a throwaway namespace, under strace.
@Suite(.enabled(if: TestNamespace.available && Shell.which("strace") != nil, "needs root, /dev/net/tun, ip and strace"))
struct AlertExecLeftoversTests {
    @Test func anAlertCommandsDaemonIsEndedWithoutReadingAnyEnvironment() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "left0", "mode", "tun")
        let script = state.path + "/daemon.sh", pids = state.path + "/pids", trace = state.path + "/trace"
        // A daemon that sheds its environment, ignores SIGTERM and leaves a grandchild behind.
        try """
        trap '' TERM
        sh -c 'sleep 30 </dev/null >/dev/null 2>&1 & echo $!' >> "$1"
        echo $$ >> "$1"
        exec sleep 30 </dev/null >/dev/null 2>&1
        """.write(toFile: script, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: pids, contents: nil)
        let command = "cat >/dev/null; setsid env -i /bin/sh \(script) \(pids) </dev/null >/dev/null 2>&1 & "
            + "n=0; while [ \"$(wc -l < \(pids))\" -lt 2 ] && [ $n -lt 500 ]; do sleep 0.02; n=$((n+1)); done; exit 0"
        let result = try Shell.capture(["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=open,openat,openat2", "-o", trace,
                                        Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path,
                                        "--alert-exec", command, "--format", "nagios"])
        let left = ((try? String(contentsOfFile: pids, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        let present = left.filter { FileManager.default.fileExists(atPath: "/proc/\($0)") }
        for pid in present { kill(pid, SIGKILL) }
        #expect(result.status == 1, "\(result.stderr)")
        #expect(left.count == 2, "\(left)")
        #expect(present.isEmpty, "left behind: \(present)")
        let environments = ((try? String(contentsOfFile: trace, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("/environ\"") }
        #expect(environments.isEmpty, "\(environments.prefix(3))")
    }
}
