import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// ps rows whose columns print more words than one before the command, and the program a row
/// names (review round 42, F4 and F6a–c): the command is read whole, and a holder is named by its
/// program, whatever spaces its path holds.
@Suite struct CapturePsColumnTests {
    static func fixture(_ name: String) throws -> String { try CaptureClippedPsTests.fixture(name) }

    /// The commands ps rows were read as, by pid.
    static func processes(_ text: String) -> [Int32: String] {
        CaptureReader.read(CaptureText(file: "paste.txt", text: text)).processes
    }

    static let zeroTier = "/Library/Application Support/ZeroTier/One/zerotier-one"

    /// macOS prints STARTED of a process older than a week as `%e%b%y`; the month names of ja_JP,
    /// zh_CN, zh_TW and ko_KR are padded with a space for months 1 to 9, so the column is two
    /// words (` 5 1月25`, `15 1월25`), one for months 10 to 12 (` 512月25`). zerotier-one runs in
    /// each, and its row's command is its path alone.
    @Test(arguments: [" 5 1月25", "15 1月25", " 5 9月25", " 5 1월25", "28 3월25", " 512月25", "3011월25"])
    func aStartedColumnOfTwoWordsKeepsTheCommandWhole(started: String) throws {
        let text = try Self.fixture("ps-aux-ja.txt").replacingOccurrences(of: " 5 1月25", with: started)
        #expect(text.contains(started))
        let processes = Self.processes(text)
        #expect(processes[402] == Self.zeroTier, "\(started): \(processes[402] ?? "none")")
        #expect(processes[1] == "/sbin/launchd", "\(started): \(processes[1] ?? "none")")
        #expect(processes[464] == "/usr/libexec/nesessionmanager", "\(started)")
        let verdict = CaptureProofTests.verdict(text)
        #expect(verdict.states.contains("feth9312 live") && verdict.states.contains("feth4312 live"), "\(started): \(verdict)")
        #expect(verdict.exit == 0, "\(started): \(verdict)")
    }

    /// The same rows without their header (`ps aux | grep zerotier`), and in `ps -ef`'s layout.
    @Test func headerlessAndEfRowsReadTheirTimeToo() throws {
        let base = try Self.fixture("ps-aux-ja.txt")
        let cut = try #require(base.range(of: "taro@MacBook-Air ~ % ps aux\n"))
        let listings = String(base[..<cut.lowerBound])
        let grep = listings + """
        taro@MacBook-Air ~ % ps auxww | grep zerotier
        root               402   2.8  0.5 432436494  62531   ??  Ss   15 1月25   0:53.91 /Library/Application Support/ZeroTier/One/zerotier-one
        taro              2301   0.0  0.0 408628368   1648 s000  S+   10:02午前   0:00.00 grep zerotier
        taro@MacBook-Air ~ % \n
        """
        #expect(Self.processes(grep)[402] == Self.zeroTier)
        #expect(CaptureProofTests.verdict(grep).states.contains("feth9312 live"), "\(CaptureProofTests.verdict(grep))")
        let ef = listings + """
        taro@MacBook-Air ~ % ps -ef
          UID   PID  PPID   C STIME   TTY           TIME CMD
            0     1     0   0  5 1月25 ??         2:26.72 /sbin/launchd
            0   402     1   0  5 1月25 ??         0:53.91 /Library/Application Support/ZeroTier/One/zerotier-one
        taro@MacBook-Air ~ % \n
        """
        #expect(Self.processes(ef)[402] == Self.zeroTier, "\(Self.processes(ef))")
    }

    /// `ps -axo pid,lstart,command`: lstart is five words (`Mon Dec  1 08:02:14 2025`); with its
    /// header or under its command line, the command is what follows them.
    @Test func lstartsFiveWordsAreNoCommand() throws {
        let text = try Self.fixture("ps-lstart-grep-tun0.txt")
        let processes = Self.processes(text)
        #expect(processes[1234]?.hasPrefix("/Library/Application Support/Tunnelblick/") == true, "\(processes)")
        #expect(processes[2291] == "grep 1234", "\(processes)")
        let tun0 = try CaptureTuntaposxTests.verdict(CapturePasteTests.assess(text))
        #expect(tun0.holders.map(\.display) == ["openvpn[1234]"], "\(tun0.holders)")

        let base = try Self.fixture("ps-aux-ja.txt")
        let cut = try #require(base.range(of: "taro@MacBook-Air ~ % ps aux\n"))
        let lstart = String(base[..<cut.lowerBound]) + """
        taro@MacBook-Air ~ % ps -axo pid,lstart,command
          PID STARTED                      COMMAND
            1 Sun Jan  5 08:01:55 2025     /sbin/launchd
          402 Sun Jan  5 08:02:03 2025     /Library/Application Support/ZeroTier/One/zerotier-one
          893 Mon Jan 12 10:20:03 2026     -zsh
        taro@MacBook-Air ~ % \n
        """
        #expect(Self.processes(lstart)[402] == Self.zeroTier, "\(Self.processes(lstart))")
        let verdict = CaptureProofTests.verdict(lstart)
        #expect(verdict.states.contains("feth9312 live") && verdict.states.contains("feth4312 live"), "\(verdict)")
    }

    /// A holder is named by its program: the path goes on over words that continue it ("Application
    /// Support"), and stops at the first argument.
    @Test func aHolderIsNamedByItsProgram() throws {
        let tun0 = try CaptureTuntaposxTests.verdict(CapturePasteTests.assess(try Self.fixture("ps-command-grep-tun0.txt")))
        #expect(tun0.holders.map(\.display) == ["openvpn[1234]"], "\(tun0.holders)")
        let names: [(String, String)] = [
            ("/Library/Application Support/Tunnelblick/Tunnelblick.app/Contents/Resources/openvpn/openvpn-2.6.8-openssl-3.0.12/openvpn --cd /Library/Application Support/Tunnelblick/Users/bob --daemon", "openvpn"),
            (Self.zeroTier, "zerotier-one"),
            ("/Library/Application Support/Viscosity/openvpn --config /tmp/x.conf", "openvpn"),
            ("/usr/local/opt/openvpn/sbin/openvpn --config /etc/openvpn/client.conf", "openvpn"),
            ("/usr/bin/python3 /opt/vpn/run.py", "python3"),
            ("/Applications/Viscosity.app/Contents/MacOS/Viscosity", "Viscosity"),
            ("openvpn --config x", "openvpn"),
        ]
        for (command, name) in names {
            #expect(Heuristics.programName(of: command) == name, "\(command)")
        }
    }

    /// What `ps`, `ps u`, `ps x`, `ps ux` and `ps -x` leave out, said as macOS's ps does it: `x`
    /// adds this user's processes without a terminal; other users' (root's zerotier-one) stay out.
    @Test(arguments: [("ps ux", "other users'"), ("ps x", "other users'"), ("ps -x", "other users'"),
                      ("ps", "that have a terminal"), ("ps u", "that have a terminal")])
    func ownProcessListingsSayWhatTheyLeaveOut(command: String, says: String) throws {
        let text = try Self.fixture("ps-ux.txt").replacingOccurrences(of: "jana@mbp ~ % ps ux\n", with: "jana@mbp ~ % \(command)\n")
        #expect(text.contains("% \(command)\n"))
        let assessment = CapturePasteTests.assess(text)
        let reason = try #require(assessment.interfaces.first { $0.interface.name == "feth9312" }).reason
        #expect(reason.contains(says) && !reason.contains("this terminal's"), "\(command): \(reason)")
        #expect(Verdict(assessment).states.contains("feth9312 unknown"))
    }

    typealias Verdict = CaptureProofTests.Verdict
}
