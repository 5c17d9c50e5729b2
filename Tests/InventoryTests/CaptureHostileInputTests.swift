import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Inventory
@testable import TunwardenCore

/// `audit --from` reads pastes from anywhere: words made of slashes must not crash it, a line of
/// repeated lsof row openings must be read in linear time, and a capture directory whose file is
/// a FIFO is refused at once instead of waiting for a writer forever.
@Suite struct CaptureHostileInputTests {
    /// Words of slashes and letters in the shapes that made Foundation's `lastPathComponent`
    /// trap (`///l//`, `a///b//`, `file:///l//`), and every other arrangement of up to six of
    /// `/`, `l`, `a` and `.`: none crashes the reader, wherever in a paste it stands.
    static let slashWords: [String] = {
        var words = ["///l//", "a///b//", "file:///l//", "x///l//", "//a//", "///a/", "/l//", "~///l//", "./..///l//", "é///ü//"]
        var level = [""]
        for _ in 0..<6 {
            level = level.flatMap { prefix in ["/", "l", "a", "."].map { prefix + $0 } }
            words += level.filter { $0.contains("//") }
        }
        return words
    }()

    @Test func wordsOfSlashesDoNotCrashTheReader() {
        for word in Self.slashWords {
            for text in ["\(word)\n", "I ran ifconfig and got \(word) back\n", "jane@mbp ~ % \(word) -a\n", "jane@mbp ~ % sudo \(word) | grep \(word)\n",
                         "jane@mbp ~ % ifconfig -a\n\(word): flags=8049<UP> mtu 1500\n", "jane@mbp ~ % cat \(word)\n\(word)\n"] {
                _ = CaptureProofTests.verdict(text)
            }
        }
    }

    /// Seconds `body` took.
    static func seconds(_ body: () -> Void) -> Double {
        let start = Date()
        body()
        return Date().timeIntervalSince(start)
    }

    /// A line of about 1 MB repeating the opening of an lsof row's utun control socket (the
    /// reviewer's `[ctl com.apple.net.utun_control id 4 unit `, and other openings that scan
    /// ahead for the row's rest: a `systm` row, a `CHR` row) is read in time linear in its length.
    /// Quadratic reading took 14 s for 84 KB.
    @Test(arguments: ["[ctl com.apple.net.utun_control id 4 unit ", "[ctl com.apple.net.utun_control ", "[ctl ",
                      "vpnd 412 root 5u systm 0x1 0t0 ", "openvpn 412 root 5u CHR 33,0 0t2240 637 "])
    func aLongLineOfRowOpeningsIsReadInLinearTime(_ unit: String) {
        let count = 1_000_000 / unit.utf8.count
        let text = "jane@mbp ~ % sudo lsof -nP\nCOMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n"
            + "224.0." + String(repeating: unit, count: count) + "0.251  1:0:5e:0:0:fb  UHmLWI  en0\n"
        let took = Self.seconds { _ = CaptureProofTests.verdict(text) }
        #expect(took < 20, "\(unit.prefix(20))… ×\(count): \(took) s")
    }

    /// The name scan is bounded, and names of their usual shapes are still read: a whole row, a
    /// row wrapped before its unit, and one wrapped inside the unit.
    @Test(arguments: ["[ctl com.apple.net.utun_control id 7 unit 4]", "[ctl com.apple.net.utun_control id 7 unit\n4]",
                      "[ctl com.apple.net.utun_control id 7 unit 4\n0]"])
    func boundedNameScanStillReadsRealRows(_ name: String) {
        let text = "jane@mbp ~ % sudo lsof -nP | grep utun_control\nvpnd 412 root 5u systm 0x3c1f2b 0t0 \(name)\n"
        let holders = Self.contents(text).holders
        #expect(holders.map(\.pid) == [412], "\(holders)")
        #expect(holders.map(\.unit) == [name.hasSuffix("0]") ? 40 : 4], "\(holders)")
    }

    static func contents(_ text: String) -> CaptureContents {
        var contents = CaptureContents()
        CaptureReader.read(CaptureText(file: "paste.txt", text: text), expecting: nil, into: &contents)
        return contents
    }

    /// A capture directory whose `ifconfig.txt` is a FIFO (or any capture file that is not a
    /// regular file) is refused at once with a message saying what it is. Before, the read waited
    /// for a writer forever: here the test writes to the FIFO after 5 s to free it.
    @Test(arguments: ["ifconfig.txt", "netstat.txt", "paste.txt"])
    func aFIFOInACaptureIsRefusedAtOnce(_ name: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tw-fifo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = directory + "/" + name
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in [directory, fifo] {
            let result = Self.withinFiveSeconds(freeing: fifo) { () -> String in
                do {
                    _ = try CapturedInventory(path: path).snapshot()
                    return "read"
                } catch {
                    return "\(error)"
                }
            }
            #expect(result?.contains("is a FIFO, not a capture file") == true, "\(path): \(result ?? "hung")")
        }
    }

    /// A device (`/dev/zero`, which never ends) is refused as not a regular file too.
    @Test func aDeviceIsRefused() throws {
        let error = #expect(throws: InventoryError.self) { _ = try CapturedInventory(path: "/dev/zero").snapshot() }
        #expect(error.map { "\($0)" }?.contains("is a character device, not a capture file") == true, "\(String(describing: error))")
    }

    /// Runs `body` on a thread of its own and returns what it returned, or nil when it took more
    /// than five seconds; then opens `fifo` for writing and closes it, so that a read blocked on
    /// it ends.
    static func withinFiveSeconds(freeing fifo: String, _ body: @escaping @Sendable () -> String) -> String? {
        final class Box: @unchecked Sendable { var value: String? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            box.value = body()
            done.signal()
        }
        if done.wait(timeout: .now() + 5) == .success { return box.value }
        let writer = open(fifo, O_WRONLY | O_NONBLOCK)
        if writer >= 0 { close(writer) }
        _ = done.wait(timeout: .now() + 5)
        return nil
    }
}
