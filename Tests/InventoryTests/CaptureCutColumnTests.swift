import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Columns older macOS tools cut: `ps` without `ww` cuts every row at the terminal's width,
/// and `netstat -i` on 10.14 and earlier prints names 5 characters wide. A cut row is not
/// read as whole (round 38 F2 and F4).
@Suite struct CaptureCutColumnTests {
    /// `ps aux` rows of a Mac running Tunnelblick's OpenVPN (pid 412, `--dev tun0`), each cut
    /// to `width` columns as ps without `ww` prints them in a window that wide.
    static func psAux(cutAt width: Int, openvpn: Bool = true) -> String {
        let rows = [
            "USER       PID  %CPU %MEM      VSZ    RSS   TT  STAT STARTED      TIME COMMAND",
            "root         1   0.0  0.0  2456328   1168   ??  Ss    9:00AM   0:03.51 /sbin/launchd",
            "root        14   0.0  0.0  2436036    860   ??  Ss    9:00AM   0:00.11 /usr/sbin/configd",
            "bob        188   2.1  1.4  3212344  58812   ??  S     9:01AM   0:41.12 /Applications/Utilities/Terminal.app/Contents/MacOS/Terminal -psn_0_20485",
            "root       201   0.0  0.0  2447700   3028   ??  Ss    9:00AM   0:00.92 /System/Library/CoreServices/loginwindow.app/Contents/MacOS/loginwindow console",
        ] + (openvpn ? ["root       412   0.0  0.1  2446340   2980   ??  Ss    9:05AM   0:00.35 /Applications/Tunnelblick.app/Contents/Resources/openvpn/openvpn-2.2.1/openvpn --cd /Library/Application Support/Tunnelblick/Users/bob --config work.conf --dev tun0"] : [])
            + ["bob        231   0.0  0.0  2435492   1012 s000  S     9:07AM   0:00.01 -bash"]
        return "% ps aux\n" + rows.map { String($0.prefix(width)) }.joined(separator: "\n") + "\n"
    }

    /// A closed tun0 with its split default, and a `ps aux` of the same moment whose rows the
    /// terminal cut before openvpn's name (`/Appli`, `/Applications/Tunnelblick.app/Conte`):
    /// tun0 is unknown, and none of its routes is planned.
    @Test(arguments: [79, 90, 119])
    func aCutProcessListingCannotShowThatNoVPNRuns(width: Int) throws {
        let text = CaptureTuntaposxTests.openVPN(status: "closed", more: Self.psAux(cutAt: width))
        let assessment = CapturePasteTests.assess(text)
        let tun0 = try CaptureTuntaposxTests.verdict(assessment)
        #expect(tun0.state == .unknown, "\(tun0.reason)")
        #expect(tun0.reason.contains("cut at the terminal's width"), "\(tun0.reason)")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty)
        // The same listing with no VPN among its rows still cannot be read whole: unknown too.
        let without = CapturePasteTests.assess(CaptureTuntaposxTests.openVPN(status: "closed", more: Self.psAux(cutAt: width, openvpn: false)))
        #expect(try CaptureTuntaposxTests.verdict(without).state == .unknown)
    }

    /// The controls: `ps auxww` rows are whole, and one without openvpn leaves the closed tun
    /// orphaned with its routes planned; with openvpn it is unknown, as it was.
    @Test func wholeRowsAreTheControl() throws {
        let whole = { (openvpn: Bool) in Self.psAux(cutAt: 400, openvpn: openvpn).replacingOccurrences(of: "% ps aux\n", with: "% ps auxww\n") }
        let orphaned = CapturePasteTests.assess(CaptureTuntaposxTests.openVPN(status: "closed", more: whole(false)))
        #expect(try CaptureTuntaposxTests.verdict(orphaned).state == .orphaned)
        #expect(!CaptureTuntaposxTests.plan(orphaned).items.isEmpty)
        let running = CapturePasteTests.assess(CaptureTuntaposxTests.openVPN(status: "closed", more: whole(true)))
        #expect(try CaptureTuntaposxTests.verdict(running).state == .unknown)
    }

    /// Which cut rows may hide such a program: a path cut before an option, or a name cut
    /// inside one of theirs; not a program shown whole with its options, nor another's name.
    @Test func whichCutRowsMayBeAVPN() {
        #expect(CapturedInventory.commandMayBeTunProgram(shown: "/Appli", whole: nil))
        #expect(CapturedInventory.commandMayBeTunProgram(shown: "/Applications/Tunnelblick.app/Contents/Resourc", whole: nil))
        #expect(CapturedInventory.commandMayBeTunProgram(shown: "openv", whole: nil))
        #expect(!CapturedInventory.commandMayBeTunProgram(shown: "/usr/sbin/syslogd -x --abc", whole: nil))
        #expect(!CapturedInventory.commandMayBeTunProgram(shown: "-bash", whole: nil))
        #expect(!CapturedInventory.commandMayBeTunProgram(shown: "/Appli", whole: "/Applications/Safari.app/Contents/MacOS/Safari"))
    }

    static func mojaveFixture() throws -> String { try CaptureProofTests.fixture("round38/mojave-netstat-i-cut-names-utun1-gone.txt") }

    /// 10.14's `netstat -i` shows utun10–utun12 as `utun1`, each with the `<Link#N>` of the
    /// listed utun10–utun12: no sign of utun1, which the listing shows gone, so the split
    /// default into it stays critical, as without `netstat -i`.
    @Test func cutNamesOfLongerUnitsAreNoSightingOfTheShortOne() throws {
        let text = try Self.mojaveFixture()
        #expect(CaptureProofTests.verdict(text).status == .critical, "\(CaptureProofTests.verdict(text))")
        let withoutNetstatI = try #require(text.components(separatedBy: "MacBook-Pro:~ jane$ netstat -i\n").first)
            + "MacBook-Pro:~ jane$ sudo lsof" + (text.components(separatedBy: "MacBook-Pro:~ jane$ sudo lsof").last ?? "")
        #expect(CaptureProofTests.verdict(withoutNetstatI).status == .critical)
    }

    /// A cut row whose index is no listed interface's (`<Link#17>`, which utun1 may have had)
    /// may be utun1's own: whether utun1 went away is then unknown, never gone.
    @Test func aCutRowNoIndexSettlesMayBeTheShortName() throws {
        let text = try Self.mojaveFixture().replacingOccurrences(of: "utun1 1380  <Link#26>", with: "utun1 1380  <Link#17>")
        let assessment = CapturePasteTests.assess(text)
        #expect(assessment.status != .critical, "\(assessment.findings.map(\.id))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun1" }?.state == .unknown)
    }

    /// A table with a name longer than 5 characters does not cut them: its `utun1` is utun1.
    @Test func aWideTableIsNotCut() throws {
        let text = try Self.mojaveFixture().replacingOccurrences(of: "lo0   16384 <Link#1>  ", with: "bridge0 16384 <Link#1>")
        let assessment = CapturePasteTests.assess(text)
        #expect(assessment.interfaces.first { $0.interface.name == "utun1" }?.state == .unknown)
    }
}
