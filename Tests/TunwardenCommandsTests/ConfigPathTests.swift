import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// What `--config` and TUNWARDEN_CONFIG may name: a regular file of settings, or /dev/null.
@Suite struct ConfigPathTests {
    /// A configuration path that is not a file of settings is refused at once: a directory,
    /// /dev/zero (which never ends), a FIFO nobody writes to (whose open would wait for ever). Each
    /// run is bounded in time and memory, so that the code before this check fails the test
    /// instead of taking the machine's memory.
    @Test func aConfigurationThatIsNotAFileIsAQuickError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.path + "/fifo.conf"
        #expect(mkfifo(fifo, 0o600) == 0)
        for (path, kind) in [(directory.path, "is a directory"), ("/dev/zero", "is a character device"), (fifo, "is a FIFO")] {
            for environment in [[:], ["TUNWARDEN_CONFIG": path]] {
                let arguments = (environment.isEmpty ? ["--config", path] : []) + ["--netns", HostileRun.missingNamespace, "audit", "--no-state"]
                let started = Date()
                let result = try HostileRun.run(arguments, environment: environment, timeout: 5, memoryLimitKiB: 4 << 20)
                #expect(!result.timedOut, "\(path) was read for more than 5 s")
                #expect(Date().timeIntervalSince(started) < 5)
                #expect(result.status == 64, "\(path): status \(result.status), stderr: \(result.stderr)")
                #expect(result.stderr.contains("bad configuration: \(path): \(kind)"), "\(result.stderr)")
            }
        }
        // A file too large to be settings is refused without being read whole.
        let large = directory.path + "/large.conf"
        try Data(repeating: UInt8(ascii: "#"), count: (1 << 20) + 1).write(to: URL(fileURLWithPath: large))
        let result = try HostileRun.run(["--config", large, "--netns", HostileRun.missingNamespace, "audit", "--no-state"], timeout: 5)
        #expect(result.status == 64)
        #expect(result.stderr.contains("is larger than 1 MiB"), "\(result.stderr)")
        // /dev/null stays the way to say "no settings".
        let none = try HostileRun.run(["--config", "/dev/null", "--netns", HostileRun.missingNamespace, "audit", "--no-state"], timeout: 10)
        #expect(none.status == 3, "\(none.stderr)")
    }
}
