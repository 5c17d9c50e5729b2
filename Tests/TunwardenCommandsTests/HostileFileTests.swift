import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import TestSupport

/// Files and words from others, through the built binary, each run killed after a bound: a
/// paste or an operator's path made of slashes crashes nothing, a YAML alias bomb in the
/// configuration is refused at once, a FIFO in a capture or at the textfile's old temporary name
/// hangs nothing, and a capture piped in on standard input is still read.
@Suite struct HostileFileTests {
    static let capture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InventoryTests/Fixtures/darwin-shapes/zerotier-feth-orphan-after-crash").path

    /// Words that made Foundation's path functions trap, in a paste and as operator paths.
    static let slashWords = ["///l//", "a///b//", "file:///l//", "x///l//", "~///l//"]

    @Test(arguments: slashWords)
    func pastesAndPathsOfSlashesDoNotCrash(_ word: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let paste = directory.path + "/paste.txt"
        try "I ran ifconfig and got \(word) back\njane@mbp ~ % \(word) -a\n".write(toFile: paste, atomically: true, encoding: .utf8)
        for arguments in [["audit", "--no-state", "--from", paste], ["journal", "--journal", word],
                          ["reap", "--dry-run", "--no-state", "--from", Self.capture, "--journal", word]] {
            let result = try HostileRun.run(arguments, timeout: 30)
            #expect(!result.signalled && !result.timedOut && !result.stderr.contains("crashed"), "\(arguments): status \(result.status) \(result.stderr.suffix(400))")
        }
    }

    /// The reviewer's 390-byte file took 33 s; eight levels of ten are refused at once, naming
    /// the line, exit 64.
    @Test func anAliasBombInTheConfigurationIsRefusedAtOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var text = "limit: 10\nx0: &a0 [" + Array(repeating: "l", count: 10).joined(separator: ",") + "]\n"
        for level in 1...8 { text += "x\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]\n" }
        text += "? *a8\n: 1\n"
        let config = directory.path + "/tunwarden.conf"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try HostileRun.run(["audit", "--no-state", "--from", Self.capture], environment: ["TUNWARDEN_CONFIG": config], timeout: 10)
        #expect(!result.timedOut && result.status == 64, "status \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("\(config):2: an anchor (&) is not allowed in tunwarden's configuration"), "\(result.stderr)")
    }

    /// A FIFO as any file of a capture directory, or given itself, is refused at once (exit 3,
    /// saying what it is); the same capture piped in on standard input (`--from -`) is read.
    @Test(arguments: ["ifconfig.txt", "lsof.txt"])
    func aFIFOInACaptureIsRefusedAndStandardInputStillWorks(_ name: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let copy = directory.path + "/capture"
        try FileManager.default.copyItem(atPath: Self.capture, toPath: copy)
        try? FileManager.default.removeItem(atPath: copy + "/" + name)
        #expect(mkfifo(copy + "/" + name, 0o600) == 0)
        for from in [copy, copy + "/" + name] {
            let result = try HostileRun.run(["audit", "--no-state", "--from", from], timeout: 10)
            #expect(!result.timedOut && result.status == 3, "\(from): status \(result.status): \(result.stderr)")
            #expect(result.stderr.contains("\(copy)/\(name) is a FIFO, not a capture file"), "\(result.stderr)")
        }
        let piped = try Shell.capture(["/bin/sh", "-c", "cat \"$0\"/ifconfig.txt | \"$1\" audit --no-state --from -", Self.capture, Shell.tunwardenBinary])
        // UNKNOWN (3) is the verdict of an ifconfig listing alone: which processes run is not shown.
        #expect(piped.status == 3 && piped.stderr.isEmpty, "status \(piped.status): \(piped.stderr)")
        #expect(piped.stdout.contains("6 tunnel interfaces, 0 orphaned, 2 unknown; status UNKNOWN."), "\(piped.stdout)")
    }

    /// `--from -` on a terminal (nothing piped in) says it waits for a paste and how to end it,
    /// on standard error; ended at once (Ctrl-D), the capture is empty (exit 3). Piped in, it says
    /// nothing of the kind (above).
    @Test(.enabled(if: Shell.which("script") != nil, "needs script(1) from util-linux"))
    func aPasteReadFromATerminalSaysHowToEndIt() throws {
        let result = try Shell.capture(["/bin/sh", "-c", "(sleep 1; printf '\\004') | script -qec \"$0 audit --no-state --from -\" /dev/null",
                                        Shell.tunwardenBinary])
        #expect(result.stdout.contains("tunwarden: note: reading a paste from the terminal: paste the output, then press Ctrl-D on a line of its own"),
                "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("standard input: the capture is empty"), "\(result.stdout)")
    }

    /// A symbolic link and a FIFO planted at the textfile's old fixed temporary name
    /// (`NAME.prom.tmp`) by whoever can write the textfile directory: the audit neither writes
    /// through the link nor waits on the FIFO, and the metrics are written.
    @Test(arguments: ["link", "fifo"])
    func aPlantedTemporaryFileIsNeitherFollowedNorWaitedOn(_ plant: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let metrics = directory.path + "/tunwarden.prom", victim = directory.path + "/victim"
        try "keep\n".write(toFile: victim, atomically: true, encoding: .utf8)
        if plant == "link" { #expect(symlink(victim, metrics + ".tmp") == 0) } else { #expect(mkfifo(metrics + ".tmp", 0o666) == 0) }
        let result = try HostileRun.run(["audit", "--no-state", "--from", Self.capture, "--textfile", metrics], timeout: 10)
        #expect(!result.timedOut && [0, 1, 2].contains(result.status), "status \(result.status): \(result.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep\n")
        if !result.timedOut { #expect((try? String(contentsOfFile: metrics, encoding: .utf8))?.contains("tunwarden_status") == true) }
    }
}
