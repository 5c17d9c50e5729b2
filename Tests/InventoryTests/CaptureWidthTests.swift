import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Columns macOS tools cut to a width: `ps` cuts every row at the terminal's edge (also when
/// piped into grep), and older netstat cuts a route's interface name to its Netif column. What
/// was cut away is never read as absent.
@Suite struct CaptureWidthTests {
    static func assess(_ text: String) -> Assessment { CapturePasteTests.assess(text) }

    /// A ZeroTier pair in a complete listing, then `command` (a ps behind grep) showing `rows`.
    static func zeroTierPair(then command: String, rows: [String]) -> String {
        "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + """

        feth1207: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 2800
        \tinet 10.242.7.5 netmask 0xffffff00 broadcast 10.242.7.255
        \tpeer: feth6207
        \tstatus: active
        feth6207: flags=8963<UP,BROADCAST,SMART,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 2800
        \tpeer: feth1207
        \tstatus: active
        % \(command)

        """ + rows.joined(separator: "\n")
    }

    static let auxGrep = "kathrin           5120   0.0  0.0 408626880   1360 s000  S+    9:41AM   0:00.00 grep -i zerotier"
    static let efGrep = "  501  5120  3100   0  9:41AM ttys000    0:00.00 grep -i zerotier"
    static let axoGrep = " 5120 grep -i zerotier"

    static func feth(_ assessment: Assessment) -> AssessedInterface? {
        assessment.interfaces.first { $0.interface.name == "feth1207" }
    }

    /// `ps aux | grep -i zerotier` shows only the grep: the daemon's row, cut at the window's
    /// edge before its name, would have been dropped by grep, so nothing is proven.
    @Test(arguments: [("ps aux | grep -i zerotier", auxGrep), ("ps -ef | grep -i zerotier", efGrep),
                      ("ps -axo pid,command | grep -i zerotier", axoGrep),
                      // One w gives 131 columns: not enough for `zerotier-one` at the end of the path.
                      ("ps auxw | grep zerotier-one", auxGrep.replacingOccurrences(of: "-i zerotier", with: "zerotier-one"))])
    func aGrepBehindACuttingPsProvesNothingAbsent(command: String, row: String) {
        let assessment = Self.assess(Self.zeroTierPair(then: command, rows: [row]))
        #expect(!assessment.findings.contains { $0.id == FindingID.orphanedFeth }, "\(command)")
        #expect(Self.feth(assessment)?.state == .unknown, "\(command)")
        // (A `pid,command` row whose command is not a path is not told from prose: no ps at all.)
        if !command.contains("pid,command") {
            #expect(Self.feth(assessment)?.reason.contains("ps auxww | grep") == true, "\(command): \(Self.feth(assessment)?.reason ?? "")")
        }
        // The same paste without its command line: the grep row gives the filter away, not the width.
        let bare = Self.assess(Self.zeroTierPair(then: "", rows: [row]).replacingOccurrences(of: "% \n", with: ""))
        #expect(!bare.findings.contains { $0.id == FindingID.orphanedFeth }, "\(command) without its command line")
    }

    /// The rows of `ps ax`, `ps -A`, `-c`, `-o` with a command name, and `pgrep -l`, shown
    /// without their header (grep dropped it): read by the columns the command line asked for,
    /// and by their shape without it. ZeroTier's row shows it runs.
    static let daemonPath = "/Library/Application Support/ZeroTier/One/zerotier-one"
    @Test(arguments: [
        ("ps ax | grep -i zerotier", ["  412   ??  Ss     0:03.21 \(daemonPath)", " 8812 s001  S+     0:00.00 grep -i zerotier"]),
        ("ps -A | grep zerotier", ["  412 ??         0:03.21 \(daemonPath)", " 8812 ttys001    0:00.00 grep zerotier"]),
        ("ps -Ac | grep zerotier", ["  412 ??         0:03.21 zerotier-one"]),
        ("ps -axco pid,command | grep -i zero", ["  412 zerotier-one"]),
        ("ps -ax -o pid=,ppid=,comm= | grep zerotier", ["  412     1 zerotier-one"]),
        ("pgrep -l zerotier", ["412 zerotier-one"]), ("pgrep -lf zerotier", ["412 \(daemonPath)"]),
    ])
    func psRowsWithoutTheirHeaderShowTheDaemon(command: String, rows: [String]) {
        let assessment = Self.assess(Self.zeroTierPair(then: command, rows: rows) + "\n% \n")
        #expect(Self.feth(assessment)?.state == .live, "\(command): \(Self.feth(assessment)?.reason ?? "")")
        #expect(!assessment.snapshot.missingSources.contains { $0.contains("ps") }, "\(command)")
        // Without the command line, the rows of `ps ax` and `ps -A` are told by their shape
        // (after a line of prose: right under an interface block, an indented row is the block's).
        if command.hasPrefix("ps ax") || command.hasPrefix("ps -A |") {
            let bare = Self.assess(Self.zeroTierPair(then: "", rows: rows).replacingOccurrences(of: "% \n", with: "and ZeroTier's process:\n"))
            #expect(Self.feth(bare)?.state == .live, "\(command) without its command line")
        }
    }

    /// Output that cannot tell whether the daemon runs says why, never that ps output is missing:
    /// pids alone (`pgrep`), nothing at all, or only the grep's own row of a ps that cuts rows.
    @Test(arguments: [("pgrep zerotier", ["412"], "printed only process ids (412)"), ("pgrep zerotier", [], "printed nothing"),
                      ("pgrep -l zero", ["300 zeroconfd"], "lists only the processes its pattern matched"),
                      ("ps ax | grep -i zerotier", [" 8812 s001  S+     0:00.00 grep -i zerotier"], "ps auxww | grep"),
                      ("ps -A | grep zerotier", [" 8812 ttys001    0:00.00 grep zerotier"], "ps auxww | grep")])
    func psOutputThatCannotTellSaysWhy(command: String, rows: [String], reason: String) {
        let assessment = Self.assess(Self.zeroTierPair(then: command, rows: rows) + "\n% \n")
        #expect(!assessment.findings.contains { $0.id == FindingID.orphanedFeth }, "\(command)")
        #expect(Self.feth(assessment)?.state == .unknown, "\(command)")
        #expect(Self.feth(assessment)?.reason.contains(reason) == true, "\(command): \(Self.feth(assessment)?.reason ?? "")")
    }

    /// `ps axww | grep` rows are whole: only the grep's own row proves the daemon is not running.
    @Test func wholeRowsOfPsAxProveTheDaemonAbsent() {
        let assessment = Self.assess(Self.zeroTierPair(then: "ps axww | grep -i zerotier", rows: [" 8812 s001  S+     0:00.00 grep -i zerotier"]) + "\n% \n")
        #expect(assessment.findings.contains { $0.id == FindingID.orphanedFeth && $0.ifname == "feth1207" }, "\(Self.feth(assessment)?.reason ?? "")")
    }

    /// The command an orphaned feth's finding advises is the one a plan runs, with its sudo, on a
    /// line of its own in the table at any width, and at the end of the JSON evidence.
    @Test(arguments: [60, 100])
    func anOrphanedFethsAdvisedCommandIsWholeOnItsOwnLine(width: Int) throws {
        let assessment = Self.assess(Self.zeroTierPair(then: "ps axww | grep -i zerotier", rows: [" 8812 s001  S+     0:00.00 grep -i zerotier"]) + "\n% \n")
        let finding = try #require(assessment.findings.first { $0.id == FindingID.orphanedFeth && $0.ifname == "feth1207" })
        #expect(finding.commands == ["sudo ifconfig feth1207 destroy"])
        #expect(finding.evidence.hasSuffix("Reap with: sudo ifconfig feth1207 destroy"), "\(finding.evidence)")
        let lines = AuditTable.render(assessment, width: width).split(separator: "\n")
        #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces) == "sudo ifconfig feth1207 destroy" }, "\(lines.joined(separator: "\n"))")
    }

    /// Rows that are whole: `ww`, or one `w` (131 columns) where the commands start early enough
    /// for the word grep looks for (`ZeroTier` ends 37 columns into the daemon's path), or a row
    /// as wide as the daemon's would need.
    @Test(arguments: [("ps auxww | grep -i zerotier", [auxGrep]), ("ps -ww -ef | grep -i zerotier", [efGrep]), ("ps -efw | grep -i zerotier", [efGrep]),
                      ("ps auxw | grep -i zerotier", [auxGrep]),
                      ("ps -ef | grep -i zerotier", [efGrep, "  501   812     1   0  8:02AM ??         0:00.91 /Applications/ZeroTier.app/Contents/MacOS/ZeroTier -NSDocumentRevisionsDebugMode YES"])])
    func wholeRowsStillProveTheDaemonAbsent(command: String, rows: [String]) {
        let assessment = Self.assess(Self.zeroTierPair(then: command, rows: rows))
        #expect(assessment.findings.contains { $0.id == FindingID.orphanedFeth && $0.ifname == "feth1207" }, "\(command): \(Self.feth(assessment)?.reason ?? "")")
    }

    /// A pattern of several words (`'ZeroTier One'`), quoted on the command line or shown
    /// without its quotes by ps, and a grep whose output went through more filters or cuts
    /// (`| head -1`, `| grep -v root`), prove nothing absent.
    @Test(arguments: ["ps auxww | grep -i 'ZeroTier One'", "ps auxww | grep -i \"zerotier service\"", "ps auxww | grep -i zerotier | head -1",
                      "ps auxww | grep -i zerotier | grep -v root", "ps auxww | grep -i zerotier | sort -k3 -r | head -n1"])
    func aGrepThatMayMissTheDaemonProvesNothing(command: String) {
        let row = Self.auxGrep.replacingOccurrences(of: "grep -i zerotier", with: "grep -i zerotier wide enough to prove every row whole and more")
        let assessment = Self.assess(Self.zeroTierPair(then: command, rows: [row]))
        #expect(!assessment.findings.contains { $0.id == FindingID.orphanedFeth }, "\(command)")
    }

    /// A grep row shown by ps without its quotes, beside a row wide enough to prove the rows
    /// whole: one word after the options is its pattern; several may have been one quoted one.
    @Test func aGrepRowOfSeveralWordsProvesNothing() {
        let app = "mia                812   0.0  0.1 412345678  12000   ??  S     8:02AM   0:00.91 /Applications/ZeroTier.app/Contents/MacOS/ZeroTier -NSDocumentRevisionsDebugMode YES"
        func bare(_ grep: String) -> Assessment {
            Self.assess(Self.zeroTierPair(then: "", rows: [app, Self.auxGrep.replacingOccurrences(of: "grep -i zerotier", with: grep)])
                .replacingOccurrences(of: "% \n", with: ""))
        }
        #expect(bare("grep -i zerotier").findings.contains { $0.id == FindingID.orphanedFeth })
        #expect(!bare("grep -i ZeroTier One").findings.contains { $0.id == FindingID.orphanedFeth })
    }

    /// A row wrapped by a forum's box (`…/Library/Application`, then `Support/ZeroTier/One/
    /// zerotier-one` on a line of its own), `top`'s few sorted rows, and `grep -v grep` after
    /// the grep: the first two prove nothing absent, the last changes nothing.
    @Test func wrappedRowsTopAndGrepVGrep() {
        let wrapped = ["root               298   0.0  0.1 411936208  24208   ??  Ss    8:02AM   0:04.17 /Library/Application", "Support/ZeroTier/One/zerotier-one", Self.auxGrep]
        #expect(!Self.assess(Self.zeroTierPair(then: "ps auxww | grep -i zerotier", rows: wrapped)).findings.contains { $0.id == FindingID.orphanedFeth })
        let top = ["Processes: 521 total, 2 running, 519 sleeping, 2718 threads", "", "PID    COMMAND      %CPU", "1      launchd      0.3", "412    WindowServer 4.1"]
        #expect(!Self.assess(Self.zeroTierPair(then: "top -l 1 -stats pid,command,cpu -n 5", rows: top)).findings.contains { $0.id == FindingID.orphanedFeth })
        let grepV = CaptureReader.read(CaptureText(file: "p", text: "% ps auxww | grep -i zerotier | grep -v grep\n" + Self.auxGrep + "\n"))
        #expect(grepV.processListings.compactMap(\.filter).map(\.text) == ["grep -i zerotier"])
    }

    /// The daemon's row, whole or cut, keeps its pair live or undecided whatever the width, and
    /// a cut one is named as the reason.
    @Test func theDaemonsOwnRowDecides() {
        let daemon = "root               402   0.3  0.1 411936208  24208   ??  Ss    8:02AM   0:04.17 /Library/Application Support/ZeroTier/One/zerotier-one"
        #expect(Self.feth(Self.assess(Self.zeroTierPair(then: "ps aux | grep -i zerotier", rows: [Self.auxGrep, daemon])))?.state == .live)
        let cut = Self.feth(Self.assess(Self.zeroTierPair(then: "ps aux | grep -i zerotier", rows: [Self.auxGrep, String(daemon.prefix(125))])))
        #expect(cut?.state == .unknown && cut?.reason.hasPrefix("pid 402 (/Library/Application Support/ZeroTier/One/zer) may be ZeroTier") == true, "\(cut?.reason ?? "")")
    }

    /// A whole `ps -ef` in a narrow window: every long row stops at one column, wherever its
    /// right-aligned first column made it start, so the listing is cut and proves nothing absent.
    @Test(arguments: [80, 78, 60])
    func aListingCutAtTheWindowsEdgeProvesNothingAbsent(width: Int) {
        let rows = [
            "  UID   PID  PPID   C STIME   TTY           TIME CMD",
            "    0     1     0   0  8:02AM ??         0:51.73 /sbin/launchd",
            "    0   412     1   0  8:02AM ??         0:12.34 /Library/Application Support/ZeroTier/One/zerotier-one",
            "    0   308     1   0  8:02AM ??         2:50.07 /System/Library/PrivateFrameworks/MobileDevice.framework/Versions/A/AppleMobileDeviceHelper",
            "  501  1204     1   0  8:03AM ??         0:03.10 /System/Library/CoreServices/Finder.app/Contents/MacOS/Finder",
            "  501  2211  2200   0  8:05AM ttys000    0:00.05 -zsh",
        ].map { String($0.prefix(width - 1)) }
        let text = Self.zeroTierPair(then: "ps -ef", rows: rows)
        #expect(!Self.assess(text).findings.contains { $0.id == FindingID.orphanedFeth }, "\(width)")
        #expect(!Self.assess(text.replacingOccurrences(of: "% ps -ef\n", with: "")).findings.contains { $0.id == FindingID.orphanedFeth }, "\(width) without its command")
    }

    // MARK: netstat's Netif column

    /// A complete listing holding `interfaces` (name and IPv4 address), then an old-layout
    /// (Refs, Use) IPv4 table whose rows name `netif`.
    static func oldTable(interfaces: [(String, String)], netif: String) -> String {
        var text = "$ ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n"
        for (name, address) in interfaces {
            text += "\(name): flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 2800\n\tinet \(address) netmask 0xffffff00\n\tstatus: active\n"
        }
        let column = String(repeating: " ", count: max(0, 7 - netif.count)) + netif
        return text + """
        $ netstat -rn -f inet
        Routing tables

        Internet:
        Destination        Gateway            Flags        Refs      Use   Netif Expire
        0/1                172.24.0.1         UGSc           19        0 \(column)
        default            192.168.2.1        UGSc            4      511     en0
        128.0/1            172.24.0.1         UGSc           11        0 \(column)
        172.24             link#14            UCS             2        0 \(column)      !
        """
    }

    /// `feth248` is feth2481 cut to seven characters: its split default is a live tunnel's.
    @Test func aNameCutToTheColumnIsTheOneItBegins() {
        let assessment = Self.assess(Self.oldTable(interfaces: [("feth2481", "172.24.8.14")], netif: "feth248"))
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(assessment.findings.map(\.evidence))")
        let split = assessment.findings.first { $0.id == FindingID.splitDefault }
        #expect(split?.ifname == "feth2481" && split?.severity == .info, "\(assessment.findings.map(\.evidence))")
        #expect(assessment.snapshot.readingNotes.contains { $0.contains("netstat cut feth2481 to 'feth248'") })
        #expect(!assessment.interfaces.contains { $0.interface.name == "feth248" })
    }

    /// A cut name that one listed interface begins may still be an interface of its own, which
    /// the listing lacks (gone): only a row that shows it is the listed one's (its gateway on
    /// that interface's subnet or its own address, or its own subnet's route) reads it as that
    /// one; else it is unknown, neither live nor gone.
    @Test func aCutNameIsTheOneItBeginsOnlyWhereTheRowsShowIt() {
        let elsewhere = Self.assess(Self.oldTable(interfaces: [("utun1001", "10.9.0.2")], netif: "utun100"))
        #expect(elsewhere.interfaces.first { $0.interface.name == "utun100…" }?.state == .unknown, "\(elsewhere.interfaces.map(\.interface.name))")
        #expect(elsewhere.interfaces.first { $0.interface.name == "utun1001" }?.routes.isEmpty == true)
        #expect(!elsewhere.findings.contains { $0.severity == .critical })
        #expect(elsewhere.snapshot.readingProblems.contains { $0.contains("may be utun100 itself, which no listing shows, or utun1001") }, "\(elsewhere.snapshot.readingProblems)")
        // The gateway is the tunnel's own address (a point-to-point pair): the routes are its.
        let pair = "utun1000: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet 172.24.0.1 --> 172.24.0.1 netmask 0xffffffff\n$ netstat"
        let own = Self.assess(Self.oldTable(interfaces: [], netif: "utun100").replacingOccurrences(of: "$ netstat", with: pair))
        #expect(own.findings.first { $0.id == FindingID.splitDefault }?.ifname == "utun1000", "\(own.findings.map(\.evidence))")
        #expect(!own.findings.contains { $0.severity == .critical })
    }

    /// A cut name two listed interfaces begin is neither's, and is not gone either.
    @Test func aCutNameOfSeveralIsNeithersAndNotGone() {
        let assessment = Self.assess(Self.oldTable(interfaces: [("utun1003", "10.10.10.1"), ("utun1004", "10.10.11.1")], netif: "utun100"))
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun100…" }?.state == .unknown)
        #expect(assessment.snapshot.readingProblems.contains { $0.contains("any of utun1003, utun1004") }, "\(assessment.snapshot.readingProblems)")
    }

    /// A cut name that is itself listed beside a longer one, or one only a partial or an
    /// earlier listing speaks for, is tied to no interface: unknown, never gone, never guessed.
    @Test func aCutNameTheListingsCannotSettleIsTiedToNone() {
        let both = Self.assess(Self.oldTable(interfaces: [("utun100", "10.10.9.1"), ("utun1003", "10.10.10.1")], netif: "utun100"))
        #expect(!both.findings.contains { $0.severity == .critical }, "\(both.findings.map(\.evidence))")
        #expect(both.interfaces.first { $0.interface.name == "utun100…" }?.state == .unknown)
        #expect(both.interfaces.first { $0.interface.name == "utun100" }?.routes.isEmpty == true)
        let partial = Self.oldTable(interfaces: [("feth2481", "172.24.8.14")], netif: "feth248")
            .replacingOccurrences(of: "$ ifconfig -a\n", with: "$ ifconfig feth2481\n")
        let fromPartial = Self.assess(partial)
        #expect(fromPartial.interfaces.first { $0.interface.name == "feth248…" }?.state == .unknown, "\(fromPartial.interfaces.map(\.interface.name))")
        let later = Self.oldTable(interfaces: [("feth2481", "172.24.8.14")], netif: "feth248")
            .replacingOccurrences(of: "$ netstat -rn -f inet", with: "$ sudo zerotier-cli leave 8056c2e21c000001\n200 leave OK\n$ netstat -rn -f inet")
        #expect(!Self.assess(later).findings.contains { $0.severity == .critical })
        #expect(Self.assess(later).interfaces.contains { $0.interface.name == "feth248…" })
    }

    /// What the column cut from a gone tunnel's name is still gone, and a name that fits the
    /// column, or a table whose column is not cut (no Refs and Use), is taken as written.
    @Test func namesNotCutAreTakenAsWritten() {
        #expect(Self.assess(Self.oldTable(interfaces: [("feth9999", "172.25.8.14")], netif: "feth248")).status == .critical)
        #expect(Self.assess(Self.oldTable(interfaces: [("utun60", "172.25.8.14")], netif: "utun6")).status == .critical)
        let modern = Self.oldTable(interfaces: [("feth2481", "172.24.8.14")], netif: "feth248")
            .replacingOccurrences(of: "Flags        Refs      Use   Netif", with: "Flags               Netif")
            .replacingOccurrences(of: #"(UGSc|UCS)( +)\d+( +)\d+ "#, with: "$1$2", options: .regularExpression)
        #expect(Self.assess(modern).status == .critical, "\(modern)")
        // A listing whose column shows a longer name does not cut names (`-ll` keeps Refs and Use).
        let longer = Self.oldTable(interfaces: [("feth2481", "172.24.8.14")], netif: "feth248")
            + "\n172.25             link#15            UCS             2        0 feth7481      !"
        #expect(Self.assess(longer).status == .critical)
    }

    /// A row's `link#N` settles a cut name, or unsettles one that the listing has whole; the
    /// IPv6 table of an older layout (no Refs and Use of its own) cuts names at 8.
    @Test func linkIndexesAndTheIPv6TableOfAnOlderLayout() {
        func listing(_ blocks: [(String, Int)]) -> String {
            "$ ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n" + blocks.map { name, index in
                "\(name): flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::\(index)%\(name) prefixlen 64 scopeid 0x\(String(index, radix: 16))\n"
            }.joined()
        }
        let table = """
        $ netstat -rn
        Routing tables

        Internet:
        Destination        Gateway            Flags        Refs      Use   Netif Expire
        default            link#1010          UCS            92        0 utun100
        default            192.168.2.1        UGScI           4      511     en0

        Internet6:
        Destination                             Gateway                                 Flags         Netif Expire
        default                                 fe80::%utun1000                         UGcI       utun1000
        """
        // utun100 is listed, but index 1010 is not its: the route is some utun100X's.
        let contradicted = Self.assess(listing([("utun100", 31), ("utun10003", 40)]) + table)
        #expect(contradicted.interfaces.first { $0.interface.name == "utun100" }?.routes.isEmpty == true)
        #expect(contradicted.interfaces.contains { $0.interface.name == "utun100…" })
        // Index 1010 is utun1003's: the route is.
        let settled = Self.assess(listing([("utun100", 31), ("utun1003", 1010), ("utun10003", 40)]) + table)
        #expect(settled.interfaces.first { $0.interface.name == "utun1003" }?.routes.contains { $0.destination.length == 0 } == true)
        // IPv6: utun1000 is utun10003 cut to 8.
        #expect(settled.interfaces.first { $0.interface.name == "utun10003" }?.routes.isEmpty == false)
        #expect(!settled.findings.contains { $0.evidence.contains("no longer exists") }, "\(settled.findings.map(\.evidence))")
    }

    /// A `ps | grep` that printed nothing (the prompt came back, or the next command followed)
    /// leaves the pair unknown: a paste cannot tell an empty answer from one left out. The
    /// reason names the command and what to paste instead, not "no ps output". zsh's `no
    /// matches found` (grep never ran) is no answer at all.
    @Test(arguments: ["ps auxww | grep zerotier | grep -v grep", "ps auxww | grep [z]erotier", "ps -axww -o pid,comm | grep -i zerotier"])
    func aPsThatPrintedNothingIsNamed(command: String) {
        for after in ["", "% ", "% netstat -rn"] {
            let assessment = Self.assess(Self.zeroTierPair(then: command, rows: []).replacingOccurrences(of: "\n\n", with: "\n") + after)
            #expect(Self.feth(assessment)?.state == .unknown, "\(command) + \(after)")
            let reason = Self.feth(assessment)?.reason ?? ""
            #expect(reason.contains("`\(command)` printed nothing") && reason.contains("ps -axww -o pid,comm"), "\(command) + \(after): \(reason)")
            #expect(!assessment.findings.contains { $0.id == FindingID.captureMissing && $0.evidence.contains("ps output") })
        }
        let zsh = Self.assess(Self.zeroTierPair(then: command, rows: ["zsh: no matches found: [z]erotier", "% "]))
        #expect(Self.feth(zsh)?.state == .unknown)
        #expect(Self.feth(zsh)?.reason.contains("printed nothing") == false)
    }

    /// A ps that selects processes (by pid, user, real group or terminal) lists only those:
    /// ZeroTier's absence from it proves nothing, even with launchd in it; the same listing of
    /// every process proves the pair orphaned.
    @Test(arguments: ["ps -axww -o pid,comm -G staff", "ps -axww -o pid,comm -t ttys000", "ps -Tww -o pid,comm",
                      "ps -axww -o pid,comm -p 1,88", "ps -axww -U root -o pid,comm"])
    func aPsThatSelectsProcessesProvesNothingAbsent(command: String) {
        let rows = ["  PID COMM", "    1 /sbin/launchd", "   88 /usr/sbin/syslogd"]
        let selected = Self.assess(Self.zeroTierPair(then: command, rows: rows))
        #expect(Self.feth(selected)?.state == .unknown, "\(command): \(Self.feth(selected)?.reason ?? "")")
        #expect(!selected.findings.contains { $0.id == FindingID.orphanedFeth }, "\(command)")
        let whole = Self.assess(Self.zeroTierPair(then: "ps -axww -o pid,comm", rows: rows + ["% "]))
        #expect(Self.feth(whole)?.state == .orphaned, "\(Self.feth(whole)?.reason ?? "")")
    }

    /// `ps -U www` names a user, not two `w`s.
    @Test func aUserNamedLikeWidthsIsNotAWidth() {
        let contents = CaptureReader.read(CaptureText(file: "p", text: "% ps -U www -o pid,command | grep -i zerotier\n 5120 /usr/bin/grep -i zerotier\n"))
        #expect(contents.processListings.compactMap(\.filter).first?.text.contains("saw rows that ps may have cut") == true, "\(contents.processListings)")
    }

    /// A table cut to its titles says nothing of the routes: every Mac's has lo0's.
    @Test func aTableWithNoRowsIsNotEveryRoute() {
        let contents = CaptureReader.read(CaptureText(file: "netstat.txt", text: "% netstat -rn\nRouting tables\n\nInternet:\n"))
        #expect(contents.routeListings.map(\.filter?.text) == ["the listing has no rows, where every table has lo0's"])
        let snapshot = CapturedInventory.snapshot(from: contents, label: "x")
        #expect(!snapshot.listsEveryRoute(of: .inet, withWord: "default"))
    }

    /// `netstat -rnll`'s round-trip columns are neither rows nor lines left unread.
    @Test func roundTripColumnsAreRead() {
        let text = """
        % netstat -rnll -f inet
        Destination        Gateway            Flags               Refs      Use    Mtu          Netif Expire    rtt(ms) rttvar(ms)
        default            192.168.1.1        UGScg                 12      511   1500            en0
        192.168.1.1        0:1e:c2:a4:5b:10   UHLWIir               14      322   1500            en0   1198      4.123      1.056
        192.168.1          link#5             UCS                    3        0   1500            en0      !
        """
        let contents = CaptureReader.read(CaptureText(file: "paste.txt", text: text))
        #expect(contents.routes.count == 3)
        #expect(!contents.notes.contains { $0.contains("skipped") }, "\(contents.notes)")
    }

    /// Sixteen link-local utuns: utun0–3 held by macOS services, utun4–15 by nesessionmanager,
    /// whose `sudo lsof -nP | grep utun_control` rows go through `shape` (a terminal's wrap, a
    /// cut) before they are pasted.
    static func utunHoard(lsofRows shape: ([String]) -> [String]) -> String {
        var text = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n"
        for unit in 0..<16 {
            text += "utun\(unit): flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::\(unit + 1)%utun\(unit) prefixlen 64 scopeid 0x\(String(unit + 17, radix: 16))\n"
        }
        let holders = ["rapportd    669 jane ", "identitys   692 jane ", "identitys   692 jane ", "rapportd    669 jane "]
            + Array(repeating: "nesession   412 root ", count: 12)
        let rows = holders.enumerated().map { index, holder in
            holder + "     \(10 + index)u    systm 0x6902b14dbdf4\(String(0xe6fe + index, radix: 16))      0t0                     [ctl com.apple.net.utun_control id 6 unit \(index + 1)]"
        }
        text += "% sudo lsof -nP | grep utun_control\n" + shape(rows).joined(separator: "\n") + "\n"
        text += "% netstat -rn\nRouting tables\n\nInternet:\nDestination        Gateway            Flags               Netif Expire\n127.0.0.1          127.0.0.1          UH                    lo0\n\nInternet6:\nDestination                             Gateway                                 Flags               Netif Expire\n"
        for unit in 0..<16 {
            text += "default                                 fe80::%utun\(unit)                            UGcIg               utun\(unit)\n"
            text += "fe80::%utun\(unit)/64                      fe80::\(unit + 1)%utun\(unit)                       UcI                 utun\(unit)\n"
        }
        return text
    }

    /// The tunnels whose routes a utun-hoard finding would remove.
    static func hoardRoutes(_ assessment: Assessment) -> Set<String> {
        Set(assessment.findings.filter { $0.id == FindingID.utunHoard }.flatMap { $0.routes ?? [] }.compactMap { $0.nextHops.first?.interfaceName })
    }

    /// A terminal hard-wraps a row wider than its window: the rest of the row goes on the next
    /// line, wherever it breaks (inside the unit, `unit 1` then `0]`; before it; inside the
    /// control's name). The rest is joined to its row, so every unit is read as printed and no
    /// service's utun ends up in nesessionmanager's hoard.
    @Test func lsofRowsWrappedByTheTerminalAreJoined() {
        let longest = Self.utunHoard(lsofRows: { $0 }).split(separator: "\n").filter { $0.contains("[ctl") }.map(\.count).max() ?? 0
        let whole = Self.utunHoard(lsofRows: { $0 })
        let expected = Set((4..<16).map { "utun\($0)" })
        #expect(Self.hoardRoutes(Self.assess(whole)) == expected)
        // Hard wrap at the window's width, and a mail program's wrap at the last space before it.
        for width in 20..<longest {
            let hard = Self.utunHoard(lsofRows: { rows in
                rows.map { row in row.count > width ? String(row.prefix(width)) + "\n" + String(row.dropFirst(width)) : row }
            })
            let soft = Self.utunHoard(lsofRows: { rows in
                rows.map { row in
                    guard row.count > width, let space = row.prefix(width).lastIndex(of: " ") else { return row }
                    return String(row[..<space]) + " \n" + String(row[row.index(after: space)...])
                }
            })
            for (how, text) in [("hard", hard), ("soft", soft)] {
                let assessment = Self.assess(text)
                #expect(Self.hoardRoutes(assessment).isSubset(of: expected), "\(how) wrap at \(width): \(assessment.findings.map(\.evidence))")
                // (Narrower than any terminal, a break may fall in the first columns: such a row
                // is skipped, and the listing is partial.)
                guard width >= 60 else {
                    #expect(assessment.snapshot.holders.complete || assessment.snapshot.holders.incompleteReason?.contains("wrapped or cut") == true)
                    continue
                }
                #expect(Self.hoardRoutes(assessment) == expected, "\(how) wrap at \(width): \(assessment.findings.map(\.evidence))")
                for unit in 9..<16 {
                    #expect(assessment.interfaces.first { $0.interface.name == "utun\(unit)" }?.holders.map(\.pid) == [412], "\(how) wrap at \(width): utun\(unit)")
                }
                #expect(assessment.snapshot.holders.complete, "\(how) wrap at \(width): \(assessment.snapshot.holders.incompleteReason ?? "")")
            }
        }
    }

    /// A narrow window (a forum's box, a split pane) folds each row over three lines or more,
    /// and the first ends before the NAME column. The rest of such a row is read with it: every
    /// unit is read as printed, and a listing is never whole while rows of it went unread.
    @Test func lsofRowsFoldedOverSeveralLinesAreJoined() {
        let expected = Set((4..<16).map { "utun\($0)" })
        func fold(_ row: String, _ width: Int) -> String {
            var lines: [String] = []
            var rest = Substring(row)
            while rest.count > width { lines.append(String(rest.prefix(width))); rest = rest.dropFirst(width) }
            return (lines + [String(rest)]).joined(separator: "\n")
        }
        for width in 40..<70 {
            let assessment = Self.assess(Self.utunHoard(lsofRows: { rows in rows.map { fold($0, width) } }))
            let holders = assessment.snapshot.holders
            #expect(Self.hoardRoutes(assessment).isSubset(of: expected), "fold at \(width): \(assessment.findings.map(\.evidence))")
            #expect(!holders.complete || holders.attachments.count == 16, "fold at \(width): whole with \(holders.attachments.count) holders")
            if !holders.complete { #expect(holders.incompleteReason?.contains("wrapped or cut") == true, "fold at \(width): \(holders.incompleteReason ?? "")") }
            // (The widths where a row's first line ends inside DEVICE or SIZE/OFF.)
            guard (44...58).contains(width) else { continue }
            #expect(Self.hoardRoutes(assessment) == expected, "fold at \(width): \(assessment.findings.map(\.evidence))")
            #expect(holders.complete && holders.attachments.count == 16, "fold at \(width): \(holders.incompleteReason ?? "")")
        }
    }

    /// A `systm` row cut before its NAME column (`| cut -c1-60`, the rest of the row lost) held
    /// some socket: the listing counts as partial, and says why, rather than whole without holders.
    @Test(arguments: [48, 60, 72])
    func lsofRowsCutBeforeTheirNameMakeTheListingPartial(width: Int) {
        let text = Self.utunHoard(lsofRows: { rows in rows.map { String($0.prefix(width)) } })
        let assessment = Self.assess(text)
        #expect(Self.hoardRoutes(assessment).isEmpty, "\(assessment.findings.map(\.evidence))")
        #expect(!assessment.snapshot.holders.complete)
        #expect(assessment.snapshot.holders.incompleteReason?.contains("wrapped or cut") == true, "\(assessment.snapshot.holders.incompleteReason ?? "")")
        #expect(!assessment.interfaces.contains { $0.reason.contains("run as root") })
    }

    /// A row cut inside its unit (`| cut -c1-N`, a paste that lost the wrapped rest) names no
    /// unit: `unit 1` may be 1 or 10–16. It is skipped, and the lsof listing counts as partial,
    /// saying why, so no utun is put in a hoard by a unit that may not be its own.
    @Test(arguments: [1, 2])
    func lsofRowsCutInsideTheirUnitAreSkippedAndMakeTheListingPartial(cutFromEnd: Int) {
        let text = Self.utunHoard(lsofRows: { rows in rows.map { row in row.hasSuffix("unit 1]") || row.hasSuffix("unit 4]") ? row : String(row.dropLast(cutFromEnd)) } })
        let assessment = Self.assess(text)
        #expect(Self.hoardRoutes(assessment).isSubset(of: Set((4..<16).map { "utun\($0)" })), "\(assessment.findings.map(\.evidence))")
        #expect(!assessment.snapshot.holders.complete)
        #expect(assessment.snapshot.holders.incompleteReason?.contains("wrapped or cut") == true, "\(assessment.snapshot.holders.incompleteReason ?? "")")
        #expect(!assessment.interfaces.contains { $0.reason.contains("run as root") })
        #expect(assessment.findings.contains { $0.id == FindingID.holderUnknown && $0.evidence.contains("wrapped or cut") })
        #expect(assessment.snapshot.readingProblems.contains { $0.contains("wrapped or cut") })
        // The rows cut after their `]` are whole, and what they show holds.
        #expect(assessment.interfaces.first { $0.interface.name == "utun0" }?.holders.map(\.pid) == [669])
    }
}
