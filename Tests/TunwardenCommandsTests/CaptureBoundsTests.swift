import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// A capture from another machine is input like any other: its numbers are checked against the
/// ranges the macOS kernel keeps them in.
@Suite struct CaptureBoundsTests {
    /// A capture is a file from another machine: numbers in it out of the kernel's range make the
    /// capture unusable (exit 3, naming the value and the range), never a crash.
    @Test(arguments: [
        ("lsof.txt", "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnesession 596 root 12u systm 0x1 0t0 [ctl com.apple.net.utun_control id 4 unit -9223372036854775808]\n",
         "expected a utun control unit from 1 to 4294967295, found '-9223372036854775808'"),
        ("lsof.txt", "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnesession -596 root 12u systm 0x1 0t0 [ctl com.apple.net.utun_control id 4 unit 1]\n",
         "expected a process id from 1 to 2147483647, found '-596'"),
        ("ifconfig.txt", "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::1%utun0 prefixlen 64 scopeid 0x7fffffffffffffff\n",
         "expected a scope id (interface index) for utun0 from 1 to 4294967295, found '9223372036854775807'"),
        ("ifconfig.txt", "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::1%utun0 prefixlen 999 scopeid 0x12\n",
         "expected an IPv6 prefix length for utun0 from 0 to 128, found '999'"),
        ("ifconfig.txt", "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu -1\n",
         "expected an MTU for utun0 from 0 to 4294967295, found '-1'"),
        ("ps.txt", "  PID COMM\n  -7 /usr/sbin/foo\n", "expected a process id from 1 to 2147483647, found '-7'"),
    ])
    func aCaptureWithNumbersOutOfRangeIsUnknown(file: String, text: String, message: String) throws {
        let capture = try TemporaryDirectory()
        defer { capture.remove() }
        try Data(text.utf8).write(to: URL(fileURLWithPath: capture.path + "/" + file))
        for command in [["audit"], ["audit", "--format", "json"], ["reap", "--dry-run"]] {
            let result = try HostileRun.run(command + ["--from", capture.path], timeout: 10)
            #expect(result.status == 3 && !result.signalled, "\(command): status \(result.status), stderr: \(result.stderr)")
            #expect(result.stderr.contains("\(capture.path)/\(file): \(message)"), "\(command): \(result.stderr)")
        }
    }
}
