import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Route rows whose destination cannot be read (a host name from `netstat -r` without `-n`, an
/// address masked in a ticket) still show a route into the interface their Netif names, and
/// `netstat -r` without `-n` prints an IPv6 network with no prefix length. Neither may let a
/// unit pass for idle or plan a command for a route that is not the one in the table (round 38
/// F1 and F5).
@Suite struct CaptureUnreadableRouteTests {
    /// The hoard of utun0–7 (nesessionmanager, a whole `netstat -rn`), with `row` put into its
    /// IPv4 table (or its IPv6 table when `inet6`).
    static func hoard(with row: String, inet6: Bool = false) throws -> String {
        let text = try CaptureProofTests.fixture("hoard-whole-table-unscoped-v6-default.txt")
        let anchor = inet6 ? "::1                                     ::1                             UHL                   lo0       \n"
            : "192.168.1          link#6             UCS                   en0      !\n"
        #expect(text.contains(anchor))
        return text.replacingOccurrences(of: anchor, with: anchor + row + "\n")
    }

    static func hoardFinding(_ text: String) throws -> Finding {
        try #require(CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard })
    }

    /// A route into utun3 whose destination is a host name or masked (`dns.corp.example`,
    /// `10.10.x.x/16`, `xxx.xxx.xxx.xxx`, `10.10.*.*`), or whose gateway names utun3: utun3 is
    /// not known idle, none of its routes is planned, and `capture-missing` names the row.
    @Test(arguments: [
        "dns.corp.example   10.66.0.1          UGHS                utun3",
        "10.10.x.x/16       10.66.0.1          UGSc                utun3",
        "xxx.xxx.xxx.xxx    10.66.0.1          UGHS                utun3",
        "10.10.*.*          10.66.0.1          UGSc                utun3",
        "vpn-gw.corp.examp  utun3              UHS                 utun3",
        "dns.corp.example   utun3              UHS       0        3 utun3",
    ])
    func anUnreadableRowIntoAUnitKeepsItFromIdle(row: String) throws {
        let text = try Self.hoard(with: row)
        let hoard = try Self.hoardFinding(text)
        #expect(!hoard.evidence.contains("7 of them idle"), "\(hoard.evidence)")
        #expect(hoard.evidence.contains("utun3") && hoard.evidence.contains("not known idle"), "\(hoard.evidence)")
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(!commands.contains { $0.contains("utun3") }, "\(commands)")
        #expect(commands.contains("route -n delete -inet6 default fe80::%utun0 -ifscope utun0"), "\(commands)")
        let missing = try #require(CapturePasteTests.assess(text).findings.first { $0.id == FindingID.captureMissing })
        #expect(missing.evidence.contains("a route into utun3"), "\(missing.evidence)")
    }

    /// The same in the IPv6 table: a host name with a gateway on utun3.
    @Test func anUnreadableIPv6RowIntoAUnitKeepsItFromIdle() throws {
        let text = try Self.hoard(with: "git.corp.example.com                    fe80::%utun3                    UGHS                utun3", inet6: true)
        #expect(!CaptureHoardTests.reapCommands(text).contains { $0.contains("utun3") })
    }

    /// The control: the route read as an address keeps utun3 from idle too, and without it
    /// utun3 is idle and its routes are planned (so the rows above are what keeps them).
    @Test func theReadableRowAndNoRowAreTheControls() throws {
        #expect(!CaptureHoardTests.reapCommands(try Self.hoard(with: "10.10/16           10.66.0.1          UGSc                utun3")).contains { $0.contains("utun3") })
        let plain = try CaptureProofTests.fixture("hoard-whole-table-unscoped-v6-default.txt")
        #expect(CaptureHoardTests.reapCommands(plain).contains("route -n delete -inet6 default fe80::%utun3 -ifscope utun3"))
        // A host name into another interface (en0) says nothing of the units.
        let onEn0 = try Self.hoard(with: "printer.lan        192.168.1.5        UHLWIi                en0   1180")
        #expect(CaptureHoardTests.reapCommands(onEn0) == CaptureHoardTests.reapCommands(plain))
    }

    /// The hoard's table as `netstat -r` without `-n` prints it: each unit's link-local network
    /// `fe80::%utunN` with no `/64` and a host name for its gateway.
    static func withoutNumeric() throws -> String {
        var text = try CaptureProofTests.fixture("hoard-whole-table-unscoped-v6-default.txt")
        text = text.replacingOccurrences(of: "% netstat -rn\n", with: "% netstat -r\n")
        for unit in 0...7 {
            let numeric = "fe80::%utun\(unit)/64                         fe80::aa:bb:cc:\(unit + 1)%utun\(unit)         UcI "
            #expect(text.contains(numeric))
            text = text.replacingOccurrences(of: numeric, with: "fe80::%utun\(unit)                            jane-mbp.local                  UcI ")
        }
        return text
    }

    /// `fe80::%utun4` without H is the /64 network: the plan deletes it as the numeric table's
    /// plan does (`-net fe80::%utun0/64`), never as a host route that does not exist.
    @Test func aLinkLocalNetworkWithoutItsLengthIsTheSlash64() throws {
        let names = try Self.withoutNumeric()
        let commands = CaptureHoardTests.reapCommands(names)
        #expect(!commands.contains { $0.contains("-host fe80::") }, "\(commands)")
        #expect(commands.contains("route -n delete -inet6 -net fe80::%utun0/64 -ifscope utun0"), "\(commands)")
        #expect(commands == CaptureHoardTests.reapCommands(try CaptureProofTests.fixture("hoard-whole-table-unscoped-v6-default.txt")))
    }

    /// Any other IPv6 network without its length (`fd00:10::` via utun3) cannot be read: utun3
    /// is not known idle and nothing of it is planned.
    @Test func anotherNetworkWithoutItsLengthIsUnreadable() throws {
        let text = try Self.withoutNumeric().replacingOccurrences(
            of: "default                                 fe80::%utun3 ",
            with: "fd00:10::                               fe80::%utun3                    UGSc                utun3\ndefault                                 fe80::%utun3 ")
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(!commands.contains { $0.contains("utun3") }, "\(commands)")
        #expect(!commands.contains { $0.contains("fd00") }, "\(commands)")
        #expect(commands.contains("route -n delete -inet6 -net fe80::%utun0/64 -ifscope utun0"), "\(commands)")
    }
}
