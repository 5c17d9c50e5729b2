import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A capture directory unzipped with its folder (`X/tw-snap/ps.txt`, often beside the
/// `__MACOSX/` of AppleDouble files a Mac's zip holds): the error names the directory that holds
/// the capture, so the next command is `--from X/tw-snap` (review round 42, F6e).
@Suite struct CaptureNestedDirectoryTests {
    static func directory(_ files: [String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tw-nested-\(UUID().uuidString)")
        for file in files {
            let url = root.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384\n\tinet 127.0.0.1 netmask 0xff000000\n".write(to: url, atomically: true, encoding: .utf8)
        }
        return root
    }

    static func refusal(_ root: URL) -> String {
        let error = #expect(throws: InventoryError.self) { _ = try CapturedInventory(path: root.path).snapshot() }
        return error?.message ?? ""
    }

    @Test(arguments: [["tw-snap/ifconfig.txt", "tw-snap/ps.txt", "__MACOSX/tw-snap/._ps.txt"],
                      ["tw-snap/ifconfig.txt", "tw-snap/netstat.txt"],
                      ["capture/1-before.txt", "capture/2-after.txt", ".hidden/ps.txt"]])
    func aCaptureOneLevelDownIsNamed(files: [String]) throws {
        let root = try Self.directory(files)
        defer { try? FileManager.default.removeItem(at: root) }
        let inner = root.appendingPathComponent(String(files[0].prefix { $0 != "/" })).path
        let message = Self.refusal(root)
        #expect(message.contains("use --from \(inner)"), "\(message)")
        #expect(!message.contains("__MACOSX") && !message.contains(".hidden"), "\(message)")
    }

    /// The control: a directory with nothing one level down either is refused as before, and
    /// `__MACOSX` alone is no capture.
    @Test func nothingNestedIsRefusedAsBefore() throws {
        let root = try Self.directory(["__MACOSX/tw-snap/._ps.txt", "notes/readme.md"])
        defer { try? FileManager.default.removeItem(at: root) }
        let message = Self.refusal(root)
        #expect(message.contains("holds none of ifconfig.txt") && !message.contains("use --from"), "\(message)")
    }
}
