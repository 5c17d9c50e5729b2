import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// A capture from another machine is input like any other: its numbers are checked against the
/// ranges the macOS kernel keeps them in.
@Suite struct CaptureBoundsTests {
    /// A capture is a file from another machine: a row with a number out of the kernel's range is
    /// skipped with a note naming the file, the line and the value, and the rest of the capture is
    /// still judged; nothing crashes.
    @Test(arguments: [
        ("lsof.txt", "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnesession 596 root 12u systm 0x1 0t0 [ctl com.apple.net.utun_control id 4 unit -9223372036854775808]\n",
         "lsof.txt:2: unit -9223372036854775808 is not a utun control unit"),
        ("lsof.txt", "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnesession 596 root 12u systm 0x1 0t0 [ctl com.apple.net.utun_control id 4 unit 0]\n",
         "lsof.txt:2: unit 0 is not a utun control unit"),
        ("lsof.txt", "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnesession -596 root 12u systm 0x1 0t0 [ctl com.apple.net.utun_control id 4 unit 1]\n",
         "lsof.txt:2: pid -596 is not a process id"),
        ("ifconfig.txt", "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::1%utun0 prefixlen 64 scopeid 0x7fffffffffffffff\n",
         "ifconfig.txt:2: scopeid 0x7fffffffffffffff (utun0) is not an interface index"),
        ("ifconfig.txt", "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::1%utun0 prefixlen 999 scopeid 0x12\n",
         "ifconfig.txt:2: prefixlen 999 is not 0–128 (utun0)"),
        ("ifconfig.txt", "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::1%utun0 prefixlen -3 scopeid 0x12\n",
         "ifconfig.txt:2: prefixlen -3 is not 0–128 (utun0)"),
        ("ifconfig.txt", "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu -1\n", "ifconfig.txt:1: mtu -1 of utun0 is out of range"),
        ("netstat.txt", "Destination Gateway Flags Netif Expire\n300.1.2.3/40 10.0.0.1 UGSc utun3\n", "netstat.txt:2: destination '300.1.2.3/40' is not an address"),
        ("ps.txt", "  PID COMM\n  -7 /usr/sbin/foo\n", "ps.txt:2: pid -7 is not a process id"),
    ])
    func aRowWithANumberOutOfRangeIsSkippedWithANote(file: String, text: String, message: String) throws {
        let capture = try TemporaryDirectory()
        defer { capture.remove() }
        try Data(text.utf8).write(to: URL(fileURLWithPath: capture.path + "/" + file))
        for command in [["audit"], ["audit", "--format", "json"], ["reap", "--dry-run"]] {
            let result = try HostileRun.run(command + ["--from", capture.path], timeout: 10)
            #expect(!result.signalled && [0, 1, 3].contains(result.status), "\(command): status \(result.status), stderr: \(result.stderr)")
            #expect(result.stderr.contains(message), "\(command): \(result.stderr)")
        }
    }

    /// Ten megabytes on one line, NUL bytes and bytes that are not UTF-8 are read in bounded time.
    @Test func hostileBytesNeverCrashOrHang() throws {
        let capture = try TemporaryDirectory()
        defer { capture.remove() }
        var big = Data(capacity: 10 << 20)
        let pieces: [[UInt8]] = [Array("default 10.0.0.1 UGSc utun3 ".utf8), [0, 0xff, 0xfe, 0x20], Array("utun0: flags=8051<UP> mtu 1380 ".utf8),
                                 Array("[ctl com.apple.net.utun_control id 4 unit 99999999999999999999] ".utf8), Array("x ".utf8)]
        var index = 0
        while big.count < 10 << 20 { big.append(contentsOf: pieces[index % pieces.count]); index += 1 }
        try big.write(to: URL(fileURLWithPath: capture.path + "/paste.txt"))
        let result = try HostileRun.run(["audit", "--from", capture.path + "/paste.txt", "--format", "json"], timeout: 120)
        #expect(!result.signalled && [0, 1, 2, 3].contains(result.status), "status \(result.status), stderr: \(result.stderr.prefix(500))")
    }

    /// An empty capture (`pbpaste > cap.txt` with nothing copied), or one of blank space alone, is
    /// refused as one with nothing readable is: `reap` too exits 3 rather than finding nothing
    /// to reap.
    @Test(arguments: ["", " \n\n\t  \n"])
    func anEmptyCaptureIsRefused(text: String) throws {
        let capture = try TemporaryDirectory()
        defer { capture.remove() }
        try Data(text.utf8).write(to: URL(fileURLWithPath: capture.path + "/cap.txt"))
        for command in [["audit"], ["audit", "--format", "json"], ["reap", "--dry-run"]] {
            let result = try HostileRun.run(command + ["--from", capture.path + "/cap.txt"], timeout: 10)
            #expect(result.status == 3, "\(command): status \(result.status), stdout: \(result.stdout)")
            #expect(result.stderr.contains("the capture is empty"), "\(command): \(result.stderr)")
        }
    }

    /// `--from -` reads standard input as one file of pasted output (`pbpaste | tunwarden audit
    /// --from -`), judged as that file would be; an empty one is refused as an empty file is.
    @Test func standardInputIsOnePaste() throws {
        let capture = try TemporaryDirectory()
        defer { capture.remove() }
        let paste = capture.path + "/paste.txt"
        try Data("""
            user@mac ~ % ifconfig utun3
            ifconfig: interface utun3 does not exist
            user@mac ~ % netstat -rn -f inet | grep utun3
            0/1                utun3              USc            utun3
            128.0/1            utun3              USc            utun3

            """.utf8).write(to: URL(fileURLWithPath: paste))
        let fromFile = try Shell.capture([Shell.tunwardenBinary, "audit", "--no-state", "--format", "json", "--from", paste])
        for command in [["audit", "--no-state", "--format", "json"], ["reap", "--dry-run", "--no-state", "--format", "json"]] {
            let piped = try Shell.capture(["/bin/sh", "-c", "\"$0\" \"$@\" --from - < \(paste)", Shell.tunwardenBinary] + command)
            #expect(piped.status == (command[0] == "audit" ? 2 : 0), "\(command): \(piped.stderr)")
            #expect(piped.stdout.contains("split-default") || command[0] == "reap", "\(piped.stdout)")
            if command[0] == "audit" {
                #expect(fromFile.stdout.replacingOccurrences(of: paste, with: "-") == piped.stdout || fromFile.status == piped.status, "\(piped.stdout)")
            }
        }
        let empty = try Shell.capture(["/bin/sh", "-c", "\"$0\" audit --no-state --from - < /dev/null", Shell.tunwardenBinary])
        #expect(empty.status == 3 && empty.stderr.contains("standard input: the capture is empty"), "\(empty.stderr)")
    }

    /// Standard input is `standard input` in every error, never `-`, and the advice names what
    /// `snapshot` captures (`ifconfig -a -v`); Linux's own `ifconfig -a` piped in is refused as
    /// Linux output with the exit code of any capture it cannot use.
    @Test func standardInputIsNamedOneWayAndLinuxOutputIsRefused() throws {
        let unreadable = try Shell.capture(["/bin/sh", "-c", "printf 'hello there\\n' | \"$0\" audit --no-state --from -", Shell.tunwardenBinary])
        #expect(unreadable.status == 3, "\(unreadable.stderr)")
        #expect(unreadable.stderr.contains("error: standard input: nothing tunwarden can read") && !unreadable.stderr.contains("-: "), "\(unreadable.stderr)")
        #expect(unreadable.stderr.contains("`ifconfig -a -v`") && !unreadable.stderr.contains("`ifconfig -a`,"), "\(unreadable.stderr)")
        let linux = "eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n        inet 10.0.0.1  netmask 255.0.0.0  broadcast 10.255.255.255\n"
            + "        ether 02:42:ac:11:00:02  txqueuelen 0  (Ethernet)\n        RX packets 12  bytes 3456 (3.4 KB)\n"
        let capture = try TemporaryDirectory()
        defer { capture.remove() }
        try Data(linux.utf8).write(to: URL(fileURLWithPath: capture.path + "/lifc.txt"))
        let refused = try Shell.capture(["/bin/sh", "-c", "\"$0\" audit --no-state --from - < \(capture.path)/lifc.txt", Shell.tunwardenBinary])
        #expect(refused.status == 3 && refused.stdout.isEmpty, "\(refused.stdout)")
        #expect(refused.stderr.contains("standard input: this looks like Linux net-tools `ifconfig -a` output")
            && refused.stderr.contains("On Linux, run `sudo tunwarden audit`"), "\(refused.stderr)")
    }
}
