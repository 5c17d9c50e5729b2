import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Smaller shapes of round 38 (F6–F8): an lsof grep that keeps every utun control socket's row
/// however it is written, the advice for a closed tun beside a running VPN app, and `ifconfig
/// -v` pasted without its indentation.
@Suite struct CaptureMinorShapeTests {
    static func hoard() throws -> String { try CaptureProofTests.fixture("hoard-whole-table-unscoped-v6-default.txt") }

    /// `grep -e COMMAND -e utun_control` (keeping lsof's header), `grep ctl` and `grep systm` keep
    /// every utun row, as `grep utun` does: the hoard's plan is the same.
    @Test(arguments: ["grep -e COMMAND -e utun_control", "grep -e utun_control -e COMMAND", "grep --regexp=x -e utun_control",
                      "grep ctl", "grep systm", "grep -i -e command -e UTUN_CONTROL"])
    func greppedLsofKeepingEveryUtunRowIsWhole(grep: String) throws {
        let text = try Self.hoard()
        let shaped = text.replacingOccurrences(of: "sudo lsof -nP | grep utun\n", with: "sudo lsof -nP | \(grep)\n")
        #expect(shaped != text)
        #expect(CaptureHoardTests.reapCommands(shaped) == CaptureHoardTests.reapCommands(text), "\(grep)")
        #expect(!CaptureHoardTests.reapCommands(shaped).isEmpty)
    }

    /// Every `-e` of the grep is read, and the command is quoted whole.
    @Test func everyPatternOfGrepIsRead() throws {
        let command = try #require(ShellCommand.recognize(in: CaptureText(file: "p", text: "% sudo lsof -nP | grep -e COMMAND -e utun_control\n"), at: 0))
        #expect(command.filters.first?.patterns == ["COMMAND", "utun_control"], "\(command.filters)")
        #expect(command.display == "sudo lsof -nP | grep -e COMMAND -e utun_control")
        #expect(command.unread.isEmpty)
        // A grep that keeps only the header is still no listing of every holder.
        let header = CaptureHoardTests.reapCommands(try Self.hoard().replacingOccurrences(of: "sudo lsof -nP | grep utun\n", with: "sudo lsof -nP | grep -e COMMAND -e nesession\n"))
        #expect(header.isEmpty)
    }

    /// A closed tun0 beside a running Tunnelblick: unknown, and the advice is what would settle
    /// it (quit the VPN), not the listings the paste already has.
    @Test func theAdviceForAClosedTunBesideAVPNAppIsToQuitIt() throws {
        let ps = "% ps -axww -o pid,comm\n  PID COMM\n    1 /sbin/launchd\n  120 /Applications/Tunnelblick.app/Contents/MacOS/Tunnelblick\n"
        let tun0 = try CaptureTuntaposxTests.verdict(CapturePasteTests.assess(CaptureTuntaposxTests.openVPN(status: "closed", more: ps)))
        #expect(tun0.state == .unknown)
        #expect(tun0.reason.contains("quit the VPN"), "\(tun0.reason)")
        #expect(!tun0.reason.contains("`netstat -rn` with no command between them show it"), "\(tun0.reason)")
    }

    /// `ifconfig -a -v` with its tabs lost: its `timestamp:`, `routermode4:`, `downlink rate:`
    /// lines are the block's, and split no moments; the hoard's plan is the same.
    @Test func ifconfigVerboseWithoutIndentationIsOneListing() throws {
        let text = try Self.hoard()
        var flat = text.replacingOccurrences(of: "\n\t", with: "\n")
        flat = flat.replacingOccurrences(of: "nd6 options=201<PERFORMNUD,DAD>\n",
                                         with: "nd6 options=201<PERFORMNUD,DAD>\ntimestamp: disabled\ndownlink rate: 171.71 Mbps [eff] / 171.71 Mbps [max]\nroutermode4: disabled\nroutermode6: disabled\n")
        flat = flat.replacingOccurrences(of: "% ifconfig -a\n", with: "% ifconfig -a -v\n")
        #expect(CaptureProofTests.verdict(flat) == CaptureProofTests.verdict(text))
        #expect(CaptureHoardTests.reapCommands(flat) == CaptureHoardTests.reapCommands(text))
    }
}
