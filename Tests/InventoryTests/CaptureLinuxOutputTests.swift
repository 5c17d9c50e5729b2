import Foundation
import Testing
@testable import Inventory
import TunwardenCore

/// Linux's own `ifconfig -a` (net-tools) or `ip addr` given to `--from` is refused with a word on
/// what it is and what to run instead, not half read as macOS blocks with cut-off headers; a
/// Mac's capture that merely mentions such a shape is still read.
@Suite struct CaptureLinuxOutputTests {
    static func path(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/darwin-pastes/\(name)", withExtension: nil)).path
    }

    @Test(arguments: [("linux-net-tools-ifconfig-a.txt", "Linux net-tools `ifconfig -a` output"), ("linux-ip-addr.txt", "Linux `ip addr` output")])
    func linuxOutputIsRefusedSayingWhatToRunInstead(file: String, listing: String) throws {
        let path = try Self.path(file)
        do {
            _ = try CapturedInventory(path: path).snapshot()
            Issue.record("\(file) was read as a Mac's capture")
        } catch let error as InventoryError {
            let text = "\(error)"
            #expect(text.hasPrefix("\(path): this looks like \(listing), not a Mac's"), "\(text)")
            #expect(text.contains("--from reads captures taken on a Mac") && text.contains("On Linux, run `sudo tunwarden audit`"), "\(text)")
            #expect(text.contains("`ifconfig -a -v`"), "\(text)")
        }
    }

    /// The Linux listings read from `text`, each as `FILE:LINES: LISTING`.
    static func setAside(_ text: String) -> [String] {
        CaptureReader.read(CaptureText(file: "paste.txt", text: text)).linuxListings.map { "\($0.place): \($0.listing)" }
    }

    @Test func aMacsIfconfigIsNotTakenForLinux() throws {
        let mac = try CaptureProofTests.fixture("anyconnect-crashed.txt")
        #expect(Self.setAside(mac).isEmpty)
        // A Mac's block beside net-tools lines is a Mac's (its netmask is hex).
        let mixed = "en0: flags=8863<UP,BROADCAST> mtu 1500\n\tinet 192.168.1.5 netmask 0xffffff00 broadcast 192.168.1.255\n"
            + "        RX packets 0  bytes 0 (0.0 B)\n        TX packets 0  bytes 0 (0.0 B)\n"
        #expect(Self.setAside(mixed).isEmpty)
        #expect(Self.setAside("        RX packets 0  bytes 0 (0.0 B)\n        TX packets 0  bytes 0 (0.0 B)\n") == ["paste.txt:1–2: Linux net-tools `ifconfig -a` output"])
    }
}
