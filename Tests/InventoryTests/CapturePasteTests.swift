import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Pastes as they arrive in mails, tickets and forum posts: quoted, wrapped, with a closing line
/// of prose, themed prompts, several commands on one line, a before-and-after transcript, output
/// left out, a byte order mark or UTF-16. Each was once misread: the verdict is the one the same
/// output gives when pasted plainly.
@Suite struct CapturePasteTests {
    static func assess(_ text: String, file: String = "paste.txt") -> Assessment {
        Heuristics.assess(CapturedInventory.snapshot(from: CaptureReader.read(CaptureText(file: file, text: text)), label: file))
    }

    static func assess(data: Data) -> Assessment {
        Heuristics.assess(CapturedInventory.snapshot(from: CaptureReader.read(CaptureText(file: "paste.txt", data: data)), label: "paste.txt"))
    }

    /// A complete interface listing, and an IPv4 table whose only default leaves through the
    /// tunnel utun4 (a warning: `default-via-tunnel`).
    static let defaultViaTunnel = """
    % ifconfig -a
    lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
    \tinet 127.0.0.1 netmask 0xff000000
    en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
    \tinet 192.168.178.40 netmask 0xffffff00 broadcast 192.168.178.255
    \tstatus: active
    utun4: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1400
    \tinet 10.64.0.2 --> 10.64.0.1 netmask 0xffffffff
    % netstat -rnf inet
    Destination        Gateway            Flags               Netif Expire
    default            10.64.0.1          UGScg               utun4
    192.168.178        link#12            UCS                   en0      !
    """

    /// A complete interface listing, and an IPv4 table whose split default goes into utun6, which
    /// the listing does not hold (critical: `split-default`).
    static let blackhole = """
    $ ifconfig -a
    lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
    \tinet 127.0.0.1 netmask 0xff000000
    en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
    \tinet6 2a02:8109:b6c0:1a00:a8d3:4f1e:91b2:3c7d prefixlen 64 autoconf secured
    \tinet 192.168.31.20 netmask 0xffffff00 broadcast 192.168.31.255
    \tstatus: active
    $ netstat -rnf inet
    Destination        Gateway            Flags               Netif Expire
    default            192.168.31.1       UGScg                 en0
    0/1                198.18.0.1         UGSc                utun6
    128.0/1            198.18.0.1         UGSc                utun6
    """

    static func ids(_ assessment: Assessment) -> [String] { assessment.findings.map(\.id) }

    @Test func theTwoPastesAreReadAsTheyArePlainly() {
        #expect(Self.assess(Self.defaultViaTunnel).status == .warning)
        #expect(Self.ids(Self.assess(Self.defaultViaTunnel)).contains(FindingID.defaultViaTunnel))
        #expect(Self.assess(Self.blackhole).status == .critical)
    }

    /// Jira and Confluence wrap pasted output in block macros, on lines of their own or glued to
    /// the first line inside (`{noformat}user@mbp ~ % ifconfig -a`, `{code:bash}lo0: flags=…`):
    /// they are fences, and the listings inside read as they do plainly. (A note in braces that
    /// says blocks were removed is still a note.)
    @Test(arguments: [("{noformat}", "{noformat}"), ("{code}", "{code}"), ("{code:bash}", "{code}"), ("{code:title=ifconfig -a|borderStyle=solid}", "{code}"),
                      ("{quote}", "{quote}"), ("{panel:title=Output}", "{panel}"), ("{noformat:nopanel=true}", "{noformat}")])
    func wikiBlockMacrosAreFences(open: String, close: String) {
        let ifconfig = CaptureMomentTests.ifconfig, netstat = CaptureMomentTests.netstat
        #expect(Self.assess(ifconfig + netstat).status == .critical, "the control")
        let ownLines = open + "\n" + ifconfig + close + "\nand the routes:\n" + open + "\n" + netstat + close + "\n"
        let glued = open + ifconfig + close + "\n" + open + netstat + close + "\n"
        let bare = { (text: String) in text.split(separator: "\n").filter { !$0.hasPrefix("user@mbp") }.joined(separator: "\n") + "\n" }
        let gluedToBlocks = open + bare(ifconfig) + close + "\n" + open + bare(netstat) + close + "\n"
        for (shape, text) in [("own lines", ownLines), ("glued to the prompt", glued), ("glued to lo0", gluedToBlocks)] {
            let assessment = Self.assess(text)
            #expect(assessment.status == .critical, "\(open) \(shape): \(assessment.findings.map(\.evidence)) \(assessment.snapshot.readingNotes)")
        }
        let noted = open + "\n" + ifconfig + "{utun1-utun9 removed}\n" + close + "\n" + netstat
        #expect(Self.assess(noted).status != .critical, "\(open) with a note")
    }

    /// Quoted in a mail or a Markdown post, once or twice, with or without the space after `>`.
    @Test(arguments: ["> ", ">> ", "> > ", ">"])
    func quotedLinesAreReadAsTheLinesTheyQuote(marker: String) {
        let quoted = Self.defaultViaTunnel.split(separator: "\n", omittingEmptySubsequences: false).map { marker + $0 }.joined(separator: "\n")
        let assessment = Self.assess(quoted)
        #expect(assessment.status == .warning, "\(assessment.findings.map(\.evidence))")
        #expect(assessment.snapshot.interfaces.first { $0.name == "utun4" }?.addresses.count == 1)
        // `>` followed by a word is text, not a quote mark, unless most lines start with `>`.
        #expect(CaptureText(file: "t", text: "ab\n>foo bar\ncd")[1] == ">foo")
        #expect(CaptureText(file: "t", text: ">ab\n>foo bar\ncd")[1] == "foo")
    }

    /// A mail client wraps a long body line: its tail lands unindented on a line of its own.
    @Test(arguments: ["secured", "autoconf secured", "prefixlen 64 autoconf secured"])
    func aWrappedIfconfigLineKeepsItsBlockWhole(tail: String) {
        let head = "\tinet6 2a02:8109:b6c0:1a00:a8d3:4f1e:91b2:3c7d prefixlen 64 autoconf secured"
        let cut = String(head.dropLast(tail.count + 1))
        let wrapped = Self.blackhole.replacingOccurrences(of: head, with: cut + "\n" + tail)
        #expect(wrapped != Self.blackhole)
        let assessment = Self.assess(wrapped)
        #expect(assessment.status == .critical, "\(assessment.findings.map(\.evidence))")
        #expect(assessment.snapshot.interfaces.first { $0.name == "en0" }?.addresses.contains { $0.local.description == "192.168.31.20" } == true)
    }

    /// A closing line after the table is prose, not a route row cut off.
    @Test(arguments: ["Best regards", "Any ideas?", "Cheers", "EDIT: fixed it", "Thanks in advance!", "add more below"])
    func proseAfterTheTableLeavesTheTableWhole(line: String) {
        let assessment = Self.assess(Self.defaultViaTunnel + "\n" + line)
        #expect(assessment.status == .warning, "\(line): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.snapshot.readingProblems.contains { $0.contains("stops in the middle") })
    }

    /// A table that truly stops mid-row still says so.
    @Test func aRowCutOffIsStillCutOff() {
        let assessment = Self.assess(Self.defaultViaTunnel + "\n172.16            link#")
        #expect(assessment.snapshot.readingProblems.contains { $0.contains("stops in the middle") })
    }

    /// A web page, a wiki or a chat (Confluence, Teams) puts invisible characters inside and
    /// between words: zero-width space and joiners, word joiner, U+FEFF, soft hyphen. They take
    /// no room, so the rows read as the rows one sees, wherever they are.
    @Test(arguments: ["\u{200B}", "\u{200C}", "\u{200D}", "\u{2060}", "\u{FEFF}", "\u{00AD}", "\u{180E}", "\u{200B}\u{FEFF}"])
    func invisibleCharactersAreNotThere(mark: String) {
        let places = [("UGSc  ", "UGSc\(mark)  "), ("   utun6", "   \(mark)utun6"), ("128.0/1", "128\(mark).0/1"), ("UGScg", "UG\(mark)Scg"),
                      ("en0: flags", "en\(mark)0: flags"), ("$ netstat -rnf inet", "$ netstat\(mark) -rnf inet"), ("198.18.0.1", "198.18.0.1\(mark)")]
        var everywhere = Self.blackhole
        for (plain, marked) in places {
            #expect(Self.blackhole.contains(plain), "\(plain)")
            everywhere = everywhere.replacingOccurrences(of: plain, with: marked)
            let assessment = Self.assess(Self.blackhole.replacingOccurrences(of: plain, with: marked))
            #expect(assessment.status == .critical, "\(marked.debugDescription): \(assessment.findings.map(\.evidence))")
            #expect(assessment.snapshot.readingProblems.isEmpty, "\(marked.debugDescription): \(assessment.snapshot.readingProblems)")
        }
        let assessment = Self.assess(everywhere)
        #expect(assessment.status == .critical, "\(assessment.findings.map(\.evidence))")
        #expect(assessment.findings.contains { $0.id == FindingID.splitDefault && $0.ifname == "utun6" })
    }

    /// A route row that still cannot be read (a braille blank or a Hangul filler, which are
    /// characters, not format ones, glued into it) is skipped; when it names a tunnel or takes
    /// default traffic, the audit does not pass for clean: a tunnel only such rows name is
    /// unknown, and capture-missing names the rows.
    @Test(arguments: ["\u{2800}", "\u{3164}"])
    func anUnreadableRowIntoATunnelOrOfADefaultIsNotPassedOver(junk: String) throws {
        let intoTunnel = Self.blackhole.replacingOccurrences(of: "   utun6", with: "   \(junk)utun6")
        let assessment = Self.assess(intoTunnel)
        #expect(assessment.status == .unknown, "\(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown)
        let missing = try #require(assessment.findings.first { $0.id == FindingID.captureMissing })
        #expect(missing.evidence.contains("a route into utun6 at paste.txt:11"), "\(missing.evidence)")
        // One row read into the gone tunnel, one not: what was read decides, and the other is named.
        let oneOfTwo = Self.assess(Self.blackhole.replacingOccurrences(of: "128.0/1            198.18.0.1         UGSc  ", with: "128.0/1            198.18.0.1         UGSc\(junk)  "))
        #expect(!oneOfTwo.interfaces.contains { $0.interface.name == "utun6" && $0.state == .unknown })
        #expect(oneOfTwo.findings.contains { $0.id == FindingID.captureMissing && $0.evidence.contains("utun6") })
        // A default row whose interface cannot be read at all.
        let defaultRow = Self.assess(Self.blackhole.replacingOccurrences(of: "UGScg                 en0", with: "UGScg\(junk)en\(junk)0"))
        #expect(defaultRow.findings.contains { $0.id == FindingID.captureMissing && $0.evidence.contains("a default route at paste.txt:10") },
                "\(defaultRow.findings.map(\.evidence))")
    }

    /// Themed prompts: oh-my-zsh's arrow with the directory and git status after it, fish's `~>`.
    @Test(arguments: ["➜  ~ ", "➜  src git:(main) ✗ ", "mika@mbp ~> ", "mika@mbp ~/src> ", "❯ "])
    func themedPromptsAreRecognised(prompt: String) {
        let text = Self.blackhole.replacingOccurrences(of: "$ ", with: prompt)
        let assessment = Self.assess(text)
        #expect(assessment.status == .critical, "\(prompt): \(assessment.findings.map(\.evidence))")
    }

    /// netstat's table first and the interface listing right after, with no line between.
    @Test func anInterfaceListingRightAfterTheTableIsRead() {
        let lines = Self.blackhole.split(separator: "\n").map(String.init)
        let ifconfig = Array(lines[1..<3]) + Self.gifAndStf + Array(lines[3..<7]), netstat = lines[8...]
        let assessment = Self.assess((Array(netstat) + ifconfig).joined(separator: "\n"))
        #expect(assessment.status == .critical, "\(assessment.findings.map(\.evidence))")
        #expect(!assessment.snapshot.readingProblems.contains { $0.contains("not a route row") })
    }

    /// An interface listing that went through grep may show every utun's header, but not that it
    /// is all: a tunnel only the routes name stays unknown, and its reason says the grep is why.
    @Test(arguments: ["ifconfig | grep utun", "ifconfig -a | grep -E '^(en|utun)'", "ifconfig | grep -A1 utun", "ifconfig -a | grep -v awdl"])
    func aTunnelMissingFromAGreppedListingSaysTheGrepIsWhy(command: String) throws {
        let text = "% \(command)\nen0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\nutun3: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n"
            + "% netstat -rn -f inet\nDestination        Gateway            Flags               Netif Expire\n"
            + "0/1                198.18.0.1         UGSc                utun4\n128.0/1            198.18.0.1         UGSc                utun4\n"
        let utun4 = try #require(Self.assess(text).interfaces.first { $0.interface.name == "utun4" })
        #expect(utun4.state == .unknown)
        #expect(utun4.reason.contains("went through grep (`ifconfig"), "\(command): \(utun4.reason)")
    }

    /// The blocks `ifconfig -a` lists right after lo0 on every macOS.
    static let gifAndStf = ["gif0: flags=8010<POINTOPOINT,MULTICAST> mtu 1280", "stf0: flags=0<> mtu 1280"]

    /// Interface blocks pasted without their command lines are every interface only in the shape
    /// `ifconfig -a` prints them: lo0, then gif0 and stf0. Blocks of single interfaces
    /// (`ifconfig lo0; ifconfig en0; ifconfig utun3`, the commands left out) are partial, however
    /// many and whichever; a tunnel only the routes name is then unknown, never gone.
    @Test func blocksWithoutACommandLineAreWholeOnlyInTheShapeOfIfconfigA() {
        let lo0 = ["lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384", "\tinet 127.0.0.1 netmask 0xff000000"]
        let en0 = ["en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500", "\tinet 192.168.31.20 netmask 0xffffff00 broadcast 192.168.31.255"]
        let utun3 = ["utun3: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380", "\tinet6 fe80::4%utun3 prefixlen 64 scopeid 0x12"]
        let table = ["Destination        Gateway            Flags               Netif Expire", "default            192.168.31.1       UGScg                 en0",
                     "0/1                198.18.0.1         UGSc                utun4", "128.0/1            198.18.0.1         UGSc                utun4"]
        let (gif0, stf0) = (Self.gifAndStf[0], Self.gifAndStf[1])
        for blocks in [lo0 + en0 + utun3, en0 + lo0 + utun3, lo0 + [gif0] + en0 + utun3, lo0 + [stf0, gif0] + en0 + utun3, en0 + utun3 + lo0 + [gif0, stf0],
                       lo0 + en0 + [gif0, stf0] + utun3] {
            for text in [(blocks + table).joined(separator: "\n"), "Here is what I see:\n\n```\n" + (blocks + table).joined(separator: "\n") + "\n```"] {
                let assessment = Self.assess(text)
                #expect(!assessment.findings.contains { $0.severity == .critical }, "\(blocks.filter { !$0.hasPrefix("\t") }): \(assessment.findings.map(\.evidence))")
                #expect(assessment.interfaces.first { $0.interface.name == "utun4" }?.state == .unknown)
            }
        }
        let whole = (lo0 + [gif0, stf0] + en0 + utun3 + table).joined(separator: "\n")
        #expect(Self.assess(whole).status == .critical)
        #expect(Self.assess("```\n" + whole + "\n```").status == .critical)
    }

    /// ps output without its command line: rows whose command is not a path are rows all the same.
    @Test(arguments: ["PID COMM", "  PID COMM", "PID UCOMM", "  PID COMMAND"])
    func psRowsUnderAHeaderAreReadWhateverTheirCommand(header: String) {
        let text = """
        feth4312: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 2800
        \tether 66:65:74:68:10:d8
        \tinet 172.27.40.3 netmask 0xffff0000 broadcast 172.27.255.255
        \tpeer: feth9312
        \(header)
            1 /sbin/launchd
          402 zerotier-one
        """
        let assessment = Self.assess(text)
        #expect(assessment.snapshot.processNames?[402] == "zerotier-one")
        #expect(!Self.ids(assessment).contains(FindingID.orphanedFeth), "\(header): \(assessment.findings.map(\.evidence))")
    }

    /// Several commands on one line: the listing is of the interfaces named, not of every one.
    @Test(arguments: ["ifconfig -v en0; ifconfig -v utun4", "ifconfig en0 && ifconfig utun4", "ifconfig -a; ifconfig utun4"])
    func commandsJoinedOnOneLineAreNotACompleteListing(line: String) {
        let text = Self.blackhole.replacingOccurrences(of: "$ ifconfig -a", with: "$ " + line)
        let assessment = Self.assess(text)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(line): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown)
    }

    /// A complete listing joined with a netstat on one line stays complete.
    @Test func aCompleteListingFollowedByNetstatOnOneLineStaysComplete() {
        var lines = Self.blackhole.split(separator: "\n").map(String.init)
        lines[0] = "$ ifconfig -a; netstat -rnf inet"
        lines.remove(at: 7)
        #expect(Self.assess(lines.joined(separator: "\n")).status == .critical)
    }

    /// Routes shown, deleted by hand, shown again: the later listing is the table now.
    @Test func aLaterWholeListingSupersedesEarlierOnes() {
        let before = Self.blackhole.split(separator: "\n").map(String.init)
        let after = before[7...].filter { !$0.contains("utun6") }
        let text = (before + ["$ sudo route -n delete -net 0.0.0.0/1", "delete net 0.0.0.0: gateway 198.18.0.1",
                              "$ sudo route -n delete -net 128.0.0.0/1", "delete net 128.0.0.0: gateway 198.18.0.1"] + after)
            .joined(separator: "\n")
        let assessment = Self.assess(text)
        #expect(assessment.status == .ok, "\(assessment.findings.map(\.evidence))")
        #expect(!assessment.snapshot.routes.contains { $0.nextHops.contains { $0.interfaceName == "utun6" } })
        // A later listing filtered by grep supersedes nothing.
        let grepped = (before + ["$ netstat -rn | grep en0", "default            192.168.31.1       UGScg                 en0"]).joined(separator: "\n")
        #expect(Self.assess(grepped).status == .critical)
        // The same listing twice keeps its rows.
        #expect(Self.assess(Self.blackhole + "\n" + before[7...].joined(separator: "\n")).status == .critical)
    }

    /// Output left out with `...` (or the like): the listing before the mark is not whole.
    @Test(arguments: ["...", "…", "[...]", "<snip>", "[snip]"])
    func anElidedListingIsNotWhole(mark: String) {
        let text = Self.blackhole.replacingOccurrences(of: "\tstatus: active\n", with: "\tstatus: active\n\(mark)\n")
        let assessment = Self.assess(text)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(mark): \(assessment.findings.map(\.evidence))")
        // Left out of the table instead: the table is not whole (its split default is still a
        // blackhole: no route left out could be more specific than all of it).
        let table = Self.assess(Self.blackhole + "\n" + mark)
        #expect(!table.snapshot.listsEveryRoute(of: .inet, withWord: "default"))
        #expect(table.status == .critical)
    }

    /// The only general default route leaves through a tunnel that is gone.
    @Test func aDefaultRouteIntoAGoneTunnelIsABlackhole() throws {
        let text = Self.blackhole
            .replacingOccurrences(of: "default            192.168.31.1       UGScg                 en0",
                                  with: "default            10.8.0.1           UGScg               utun6\ndefault            192.168.31.1       UGScIg                en0")
            .replacingOccurrences(of: "0/1                198.18.0.1         UGSc                utun6\n", with: "")
            .replacingOccurrences(of: "128.0/1            198.18.0.1         UGSc                utun6", with: "")
        let assessment = Self.assess(text)
        let finding = try #require(assessment.findings.first { $0.id == FindingID.splitDefault })
        #expect(finding.severity == .critical && finding.ifname == "utun6")
        #expect(finding.evidence.contains("route -n delete default 10.8.0.1"))
        // A general default through en0 as well: traffic still has a way out.
        let saved = text.replacingOccurrences(of: "UGScIg", with: "UGScg ")
        #expect(!Self.assess(saved).findings.contains { $0.id == FindingID.splitDefault })
        // The tunnel exists: not this finding.
        let live = text.replacingOccurrences(of: "\tstatus: active", with: "\tstatus: active\nutun6: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1400")
        #expect(!Self.assess(live).findings.contains { $0.id == FindingID.splitDefault && $0.severity == .critical })
    }

    /// A VPN (utun4) holding the general default while en0 keeps a scoped one; the interface
    /// listing above it varies, and none of its variants may call utun4 gone.
    static func vpnDefault(ifconfig: String) -> String {
        ifconfig + """

        $ netstat -rnf inet
        Destination        Gateway            Flags               Netif Expire
        default            10.20.0.1          UGScg               utun4
        default            192.168.2.1        UGScIg                en0
        """
    }

    static let loAndEn0 = """
    lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
    	inet 127.0.0.1 netmask 0xff000000
    gif0: flags=8010<POINTOPOINT,MULTICAST> mtu 1280
    stf0: flags=0<> mtu 1280
    en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
    	inet 192.168.2.20 netmask 0xffffff00 broadcast 192.168.2.255
    	status: active
    """

    static func noGoneTunnel(_ text: String, _ label: String) {
        let assessment = Self.assess(text)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(label): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.findings.contains { $0.evidence.contains("no longer exists") }, "\(label)")
    }

    /// Command lines whose listing is not of every interface, however they say so.
    @Test(arguments: ["$ ifconfig 'utun9'", "$ ifconfig utun9;ifconfig utun8", "$ ifconfig |& grep -A2 en0", "$ ifconfig -d", "$ ifconfig -u",
                      "$ ifconfig -a | head -6", "➜  vpn ifconfig | head -6", "➜  vpn git:(main) ✗ ifconfig -u",
                      "$ ifconfig -a inet", "$ ifconfig inet6"])
    func aPartialInterfaceListingNeverMakesALiveTunnelGone(command: String) {
        Self.noGoneTunnel(Self.vpnDefault(ifconfig: command + "\n" + Self.loAndEn0), command)
        // The same listing in full: utun4 missing from it is gone.
        #expect(Self.assess(Self.vpnDefault(ifconfig: "$ ifconfig -a\n" + Self.loAndEn0)).status == .critical)
    }

    /// What is typed at macOS's own root prompt, which shows the directory (`root@mbp jane #`),
    /// is read as its command says: piped through `head`, or naming interfaces, it is partial.
    @Test(arguments: ["root@mbp jane # ifconfig -a | head -4", "root@mbp jane # ifconfig utun9", "root@Janes-MacBook-Pro Downloads # ifconfig -u",
                      "(base) root@mbp vpn # ifconfig -a | head -4"])
    func aListingAtMacOSsRootPromptIsReadAsItsCommandSays(command: String) {
        Self.noGoneTunnel(Self.vpnDefault(ifconfig: command + "\n" + Self.loAndEn0), command)
    }

    /// Blocks printed by a command line that chose which interfaces to show (a loop or xargs
    /// over names) are no listing of every interface, lo0 among them or not; `ifconfig -a` and a
    /// saved listing shown whole are.
    @Test(arguments: ["% for i in lo0 en0; do ifconfig $i; done", "% for i in lo0 en0\nfor> do ifconfig -v $i\nfor> done",
                      "$ for i in lo0 en0\n> do\n> ifconfig $i\n> done", "% echo lo0 en0 | xargs -n1 ifconfig",
                      "% printf '%s\\n' lo0 en0 | xargs -n 1 sudo ifconfig", "% time ifconfig lo0 en0"])
    func blocksOfNamedInterfacesAreNoWholeListing(command: String) {
        let contents = CaptureReader.read(CaptureText(file: "paste.txt", text: command + "\n" + Self.loAndEn0 + "\n"))
        #expect(contents.ifconfigSeen && !contents.interfacesComplete, "\(command)")
        Self.noGoneTunnel(Self.vpnDefault(ifconfig: command + "\n" + Self.loAndEn0), command)
        for whole in ["% ifconfig -a", "% ifconfig", "% ifconfig -a > if.txt\n% cat if.txt"] {
            #expect(CaptureReader.read(CaptureText(file: "paste.txt", text: whole + "\n" + Self.loAndEn0 + "\n")).interfacesComplete, "\(whole)")
        }
    }

    /// A plain `ifconfig -a` after commands that print no interface blocks lists every interface
    /// as it does first on its line: after `;` or `&&`, after a header echoed or a date, after
    /// another tool's listing, behind `command` or `time`. The note names the line as written.
    @Test(arguments: ["% date; ifconfig -a", "% date;ifconfig -a", "% clear; ifconfig -a; ps -ax | grep -i clash", "% echo '--- ifconfig ---'; ifconfig -a",
                      "% printf '\\n== ifconfig ==\\n'; ifconfig -a", "% cd ~ && ifconfig -a", "% netstat -rn -f inet && ifconfig",
                      "% netstat -rn | grep -c utun; ifconfig -a", "% command ifconfig -a", "% time ifconfig -v", "% date; sudo ifconfig -a 2>&1"])
    func aWholeListingLaterOnItsLineIsWhole(command: String) {
        let contents = CaptureReader.read(CaptureText(file: "paste.txt", text: command + "\n" + Self.loAndEn0 + "\n"))
        #expect(contents.interfacesComplete, "\(command): \(contents.notes)")
        #expect(Self.assess(Self.vpnDefault(ifconfig: command + "\n" + Self.loAndEn0)).status == .critical, "\(command)")
        #expect(!contents.notes.contains { $0.contains("is not `ifconfig -a`") }, "\(command)")
        if command.contains("; ") { #expect(contents.notes.contains { $0.contains("`" + command.dropFirst(2)) }, "\(command): \(contents.notes)") }
    }

    /// Any command that only reads, prints no interface blocks and is over in moments may come
    /// before it: a short ping, the system's reports of its network, a directory listed.
    @Test(arguments: ["% ping -c 1 1.1.1.1; ifconfig -a", "% scutil --nwi; ifconfig -a", "% route -n get default; ifconfig -a",
                      "% ls /var/run/wireguard; ifconfig -a", "% networksetup -listallhardwareports; ifconfig -a",
                      "% networksetup -getinfo Wi-Fi && ifconfig -a", "% sysctl -n kern.osrelease; ifconfig -a", "% dig +short example.com; ifconfig -a",
                      "% scutil --nc list; sudo ifconfig -a"])
    func aWholeListingAfterAnyReadingCommandIsWhole(command: String) {
        let contents = CaptureReader.read(CaptureText(file: "paste.txt", text: command + "\n" + Self.loAndEn0 + "\n"))
        #expect(contents.interfacesComplete, "\(command): \(contents.notes)")
        #expect(Self.assess(Self.vpnDefault(ifconfig: command + "\n" + Self.loAndEn0)).status == .critical, "\(command)")
    }

    /// Later on its line too, an ifconfig that names, filters or is piped on, a second ifconfig,
    /// or a command before it that may print blocks of its own (a saved listing) or loops, is
    /// no listing of every interface.
    @Test(arguments: ["% date; ifconfig -a | head -6", "% date; ifconfig en0", "% date; ifconfig -u", "% date; ifconfig -a inet",
                      "% cat old.txt; ifconfig -a", "% date; ifconfig -a; ifconfig utun4", "% for i in 1 2; do ifconfig -a; done",
                      "% while true; do ifconfig; sleep 5; done", "% date; echo lo0 en0 | xargs ifconfig", "% date; ifconfig -a > if.txt; cat old.txt",
                      // What shows a file, the clipboard or a download may show a saved listing's
                      // blocks; what waits or changes the tables starts another moment.
                      "% head -40 if.txt; ifconfig -a", "% tail -20 if.txt; ifconfig -a", "% grep -A8 utun if.txt; ifconfig -a", "% pbpaste; ifconfig -a",
                      "% bat -pp if.txt; ifconfig -a", "% curl -s https://example.com/if.txt; ifconfig -a", "% ping -c 10 1.1.1.1; ifconfig -a",
                      "% sleep 2; ifconfig -a", "% sudo route -n delete -net 0.0.0.0/1; ifconfig -a", "% ssh studio uptime; ifconfig -a"])
    func aListingLaterOnItsLineThatChoosesIsPartial(command: String) {
        let contents = CaptureReader.read(CaptureText(file: "paste.txt", text: command + "\n" + Self.loAndEn0 + "\n"))
        #expect(!contents.interfacesComplete, "\(command)")
        Self.noGoneTunnel(Self.vpnDefault(ifconfig: command + "\n" + Self.loAndEn0), command)
    }

    /// Output left out, marked anywhere and in any of the usual ways.
    @Test(arguments: ["...\n" + loAndEn0, loAndEn0 + "\n\t...", loAndEn0.replacingOccurrences(of: "\tstatus", with: "-- snip --\n\tstatus"),
                      loAndEn0 + "\n[... 12 more interfaces ...]", loAndEn0 + "\n(output trimmed)", loAndEn0 + "\n<snip>"])
    func anElisionAnywhereMakesTheListingPartial(listing: String) {
        Self.noGoneTunnel(Self.vpnDefault(ifconfig: "$ ifconfig -a\n" + listing), listing)
        // A whole paste indented four spaces (a Markdown code block) likewise.
        let indented = Self.vpnDefault(ifconfig: "$ ifconfig -a\n" + listing).split(separator: "\n", omittingEmptySubsequences: false)
            .map { "    " + $0 }.joined(separator: "\n")
        Self.noGoneTunnel(indented, "indented: " + listing)
    }

    /// Prose ending in an ellipsis is not an elision mark.
    @Test func proseEndingInAnEllipsisLeavesTheListingWhole() {
        #expect(Self.assess("Here is my output...\n" + Self.blackhole).status == .critical)
    }

    /// A default route through a physical interface the listing lacks says more of the listing
    /// than of the route: no blackhole is claimed.
    @Test func onlyATunnelMissingFromTheListingIsGone() {
        let text = "$ ifconfig -a\n" + Self.loAndEn0.replacingOccurrences(of: "en0:", with: "en1:") + """

        $ netstat -rnf inet
        Destination        Gateway            Flags               Netif Expire
        default            192.168.2.1        UGScg                 en0
        """
        Self.noGoneTunnel(text, "en0 missing")
        #expect(!Heuristics.isSystemInterfaceName("utun12") && !Heuristics.isSystemInterfaceName("feth4312") && !Heuristics.isSystemInterfaceName("gpd0")
                && Heuristics.isSystemInterfaceName("en0") && Heuristics.isSystemInterfaceName("bridge100") && Heuristics.isSystemInterfaceName("utun"))
    }

    /// A short line of prose after a block, then route rows indented as a Markdown code block:
    /// the prose ends the block and the rows are rows.
    @Test func proseThenIndentedRowsEndTheBlock() {
        let text = "$ ifconfig -a\n" + Self.loAndEn0 + """

        Routes with utun:
            0/1                198.18.0.1         UGSc                utun6
            128.0/1            198.18.0.1         UGSc                utun6
        """
        #expect(Self.assess(text).findings.contains { $0.id == FindingID.splitDefault })
    }

    /// Supersession goes by what the later listing shows, and by the order listings ran.
    @Test func laterListingsSupersedeOnlyWhatTheyShow() {
        // A later `netstat -rn` showing only IPv6 rows leaves the IPv4 table as it was.
        let ipv6Only = Self.blackhole + """

        $ netstat -rn
        Destination                             Gateway                                 Flags               Netif Expire
        ::1                                     ::1                                     UHL                   lo0
        """
        #expect(Self.assess(ipv6Only).status == .critical)
        // Routes deleted and listed again on one command line.
        let oneLine = Self.blackhole + """

        $ sudo route -n delete -net 0.0.0.0/1 && sudo route -n delete -net 128.0.0.0/1 && netstat -rnf inet
        delete net 0.0.0.0: gateway 198.18.0.1
        delete net 128.0.0.0: gateway 198.18.0.1
        Destination        Gateway            Flags               Netif Expire
        default            192.168.31.1       UGScg                 en0
        """
        #expect(Self.assess(oneLine).status == .ok, "\(Self.assess(oneLine).findings.map(\.evidence))")
        // Two tables in one ticket, no prompts: "Before:" and "After deleting both:".
        let lines = Self.blackhole.split(separator: "\n").map(String.init)
        let ticket = (lines[1..<7] + ["Before:"] + lines[8...] + ["After deleting both:", lines[8], lines[9]]).joined(separator: "\n")
        #expect(Self.assess(ticket).status == .ok, "\(Self.assess(ticket).findings.map(\.evidence))")
    }

    /// An interface listing, a route table, the VPN connected, the table again: the tunnel the
    /// later table names may have come since the listing, so it is not called gone.
    @Test func aTunnelNamedOnlyInALaterTableIsUnknown() throws {
        let text = "$ ifconfig -a\n" + Self.loAndEn0 + """

        $ netstat -rnf inet
        Destination        Gateway            Flags               Netif Expire
        default            192.168.2.1        UGScg                 en0
        $ # now I connect the VPN
        $ netstat -rnf inet
        Destination        Gateway            Flags               Netif Expire
        default            10.20.0.1          UGScg               utun4
        default            192.168.2.1        UGScIg                en0
        """
        let assessment = Self.assess(text)
        Self.noGoneTunnel(text, "connected later")
        #expect(try #require(assessment.interfaces.first { $0.interface.name == "utun4" }).state == .unknown)
    }

    /// A table numbered by `cat -n` reads as the table.
    @Test func numberedLinesReadAsTheLinesTheyNumber() {
        let lines = Self.blackhole.split(separator: "\n").map(String.init)
        let numbered = lines[..<8] + ["$ cat -n routes.txt"] + lines[8...].enumerated().map { "     \($0.offset + 1)\t\($0.element)" }
        #expect(Self.assess(numbered.joined(separator: "\n")).status == .critical)
    }

    static let vpnOff = """
    Internet:
    Destination        Gateway            Flags               Netif Expire
    default            192.168.2.1        UGScg                 en0
    """
    static let vpnOn = """
    Internet:
    Destination        Gateway            Flags               Netif Expire
    default            10.20.0.1          UGScg               utun4
    default            192.168.2.1        UGScIg                en0
    """

    /// Route tables before and after a VPN connected, in any order around the interface
    /// listing, with or without command lines: the tunnel may have come after the listing.
    @Test(arguments: [
        loAndEn0 + "\n" + vpnOff + "\n" + vpnOn,
        "% ifconfig -a; netstat -rn\n" + loAndEn0 + "\n" + vpnOff + "\n% netstat -rn\n" + vpnOn,
        vpnOff + "\n" + loAndEn0 + "\n" + vpnOn,
        "% ifconfig -l\nlo0 en0\n% netstat -rn\n" + vpnOff + "\n% netstat -rn\n" + vpnOn,
    ])
    func tablesFromBeforeAndAfterATunnelCameNeverMakeItGone(text: String) {
        Self.noGoneTunnel(text, text)
    }

    /// `ifconfig -l` with an address family lists only interfaces that have one.
    @Test func anAddressFamilyListingIsNotAListingOfEveryInterface() {
        Self.noGoneTunnel("% ifconfig -l ether\nen0\n% netstat -rn\n" + Self.vpnOn, "-l ether")
        // `ifconfig -l; netstat -rn`: the names are the first line; the table is read after them.
        let joined = Self.assess("% ifconfig -l; netstat -rn\nlo0 en0\n" + Self.vpnOn)
        #expect(joined.status == .critical, "\(joined.findings.map(\.evidence))")
        #expect(!joined.snapshot.interfaces.contains { $0.name == "utun4" })
    }

    /// Units that `ifconfig -l` names have unknown addresses: not idle, so no hoard.
    @Test func unitsListedByNameAloneAreNotIdle() {
        let text = """
        % ifconfig -l
        lo0 en0 utun0 utun1 utun2
        % sudo lsof -nP
        COMMAND     PID USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME
        nesession   412 root    5u  systm 0xabc123               0t0      [ctl com.apple.net.utun_control id 8 unit 1]
        nesession   412 root    6u  systm 0xabc124               0t0      [ctl com.apple.net.utun_control id 8 unit 2]
        nesession   412 root    7u  systm 0xabc125               0t0      [ctl com.apple.net.utun_control id 8 unit 3]
        launchd       1 root    3u  systm 0xabc127               0t0      [ctl com.apple.netsrc id 7 unit 1]
        """
        #expect(!Self.ids(Self.assess(text)).contains(FindingID.utunHoard))
    }

    /// Rows left out of a ps listing, or a line put in by hand between interface blocks or
    /// after them under `ifconfig -a`: the listing is partial.
    @Test func handEditedListingsArePartial() {
        let feth = "% ifconfig -a\n" + Self.loAndEn0 + "\nfeth0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 2800\n\tinet 10.147.17.5 netmask 0xffffff00\n"
        let trimmedPs = feth + "% ps -axo pid,comm\n  PID COMM\n    1 /sbin/launchd\n[...]"
        #expect(!Self.ids(Self.assess(trimmedPs)).contains(FindingID.orphanedFeth))
        for line in ["(removed 12 idle utun interfaces)", "[40 more utun interfaces]", "<cut>", "---8<---"] {
            Self.noGoneTunnel("% ifconfig -a\n" + Self.loAndEn0 + "\n\(line)\n% netstat -rn\n" + Self.vpnOn, line)
        }
        // The words of the next command's prompt are not such a line.
        #expect(Self.assess("me@mac ~ % ifconfig -a\n" + Self.loAndEn0 + "\nme@mac ~ % netstat -rn\n" + Self.vpnOn).status == .critical)
    }

    /// A paste that opens a code block and never closes it was cut inside it: its last listing
    /// is partial, and a tunnel missing from it is not gone. Closed, the same block is whole.
    @Test(arguments: ["```\n", "Here is what I see, the VPN works right now:\n\n```console\n", "> ```\n"])
    func aCodeBlockNeverClosedWasCut(opening: String) {
        let body = opening + Self.vpnDefault(ifconfig: "$ ifconfig -a\n" + Self.loAndEn0)
        let routesFirst = opening + "$ netstat -rnf inet\nDestination        Gateway            Flags               Netif Expire\n"
            + "default            10.20.0.1          UGScg               utun4\ndefault            192.168.2.1        UGScIg                en0\n$ ifconfig -a\n" + Self.loAndEn0 + "\n"
        Self.noGoneTunnel(routesFirst, opening)
        #expect(Self.assess(routesFirst + "```\n").status == .critical, "\(opening) closed")
        #expect(Self.assess(body + "\n```\n").status == .critical, "\(opening) closed, routes last")
    }

    /// A code block never closed whose last listing is followed by a bare prompt was not cut
    /// inside that listing: the shell came back, so the listing ran to its end, whatever prose
    /// follows. A prompt before a later listing says nothing of that one.
    @Test(arguments: ["me@mac ~ % ", "[me@mac ~]$", "(base) me@mac ~ %", "$", "me@mac ~ % \n\nSorry for the formatting, first post here.",
                      // oh-my-zsh's default theme puts its arrow before the directory and git status.
                      "➜  ~ ", "➜  ~", "➜  Downloads ", "➜  vpn git:(main) ✗ ", "➜  vpn git:(main) ", "λ ~/src ",
                      "➜  ~ \n\nSorry for the formatting, first post here."])
    func aPromptAfterTheLastListingOfAnOpenCodeBlockEndsIt(prompt: String) {
        let routesFirst = "```\n$ netstat -rnf inet\nDestination        Gateway            Flags               Netif Expire\n"
            + "default            10.20.0.1          UGScg               utun4\ndefault            192.168.2.1        UGScIg                en0\n$ ifconfig -a\n" + Self.loAndEn0 + "\n"
        #expect(Self.assess(routesFirst + prompt + "\n").status == .critical, "\(prompt)")
        let promptThenMore = routesFirst.replacingOccurrences(of: "$ ifconfig -a\n", with: "$ ifconfig -a\n" + prompt + "\n")
        Self.noGoneTunnel(promptThenMore, "prompt before the blocks: \(prompt)")
        // An arrow with more after it than a directory and git status is output, not a prompt.
        Self.noGoneTunnel(routesFirst + "➜  Local:   http://localhost:5173/\n", "arrowed output")
    }

    /// After the last block, prose, a Markdown fence or an empty prompt leave the listing whole;
    /// a note in brackets, a cut mark or an indented note inside the listing do not.
    @Test func whatFollowsTheLastBlockDecidesWhetherTheListingIsWhole() {
        for line in ["Next, the routing table:", "```", "me@mac ~ % ", "$", "---"] {
            let text = "$ ifconfig -a\n" + Self.loAndEn0 + "\n\(line)\n$ netstat -rn\n" + Self.vpnOn
            #expect(Self.assess(text).status == .critical, "\(line)")
        }
        let fenced = "```\n$ ifconfig -a\n" + Self.loAndEn0 + "\n```\n\n```console\n$ netstat -rn\n" + Self.vpnOn + "\n```"
        #expect(Self.assess(fenced).status == .critical)
        for line in ["(removed 12 idle utuns)", "---8<---", "\t(utun0-utun4 removed)", "    [utun0-utun4 removed for brevity]"] {
            let blocks = Self.loAndEn0.replacingOccurrences(of: "en0:", with: "\(line)\nen0:")
            Self.noGoneTunnel("$ ifconfig -a\n" + blocks + "\n$ netstat -rn\n" + Self.vpnOn, line)
            Self.noGoneTunnel(Self.loAndEn0 + "\n\(line)\nme@mac ~ % netstat -rn\n" + Self.vpnOn, "no command line: " + line)
        }
    }

    /// `ifconfig -l` output wrapped onto several lines still names every interface.
    @Test func wrappedNamesOfIfconfigLAreAllRead() {
        let text = "$ ifconfig -l\nlo0 en0\nutun4\n$ netstat -rn\n" + Self.vpnOn
        let assessment = Self.assess(text)
        #expect(assessment.snapshot.interfaces.contains { $0.name == "utun4" })
        Self.noGoneTunnel(text, "wrapped -l")
    }

    /// The smallest blackhole: lo0 alone listed, and a split default into utun6.
    static let minimalBlackhole = """
    lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
    \tinet 127.0.0.1 netmask 0xff000000
    gif0: flags=8010<POINTOPOINT,MULTICAST> mtu 1280
    stf0: flags=0<> mtu 1280
    Destination        Gateway            Flags               Netif Expire
    0/1                198.18.0.1         UGSc                utun6
    128.0/1            198.18.0.1         UGSc                utun6
    """

    /// A `#` after a command's words starts a comment, which is neither a root prompt nor the
    /// command's words nor output; a `#` that ends a prompt is a root prompt.
    @Test(arguments: ["% netstat -rn -f inet    # ifconfig no longer shows utun6 after the crash", "% netstat -rn -f inet #gone since the crash",
                      "% netstat -rn -f inet | grep -v fe80   # sudo route … would fix it", "% netstat -rn -f inet; # ifconfig -a said so",
                      "root@mbp ~ # netstat -rn -f inet", "sh-3.2# netstat -rn -f inet", "[root@mbp ~]# netstat -rn -f inet",
                      "MacBook-Pro:~ root# netstat -rn -f inet   # as root",
                      // macOS's own zsh prompt as root shows the directory's last part.
                      "root@Janes-MacBook-Pro jane # netstat -rn -f inet", "root@mbp Downloads # netstat -rn -f inet",
                      "(base) root@mbp vpn # netstat -rn -f inet # after the crash", "root@mbp jane # netstat -rn -f inet | grep -v fe80"])
    func aCommentIsNoPrompt(line: String) {
        let text = "% ifconfig -a\n" + Self.loAndEn0 + "\n" + line + "\n" + Self.minimalBlackhole.components(separatedBy: "\n").dropFirst(2).joined(separator: "\n") + "\n"
        let contents = CaptureReader.read(CaptureText(file: "paste.txt", text: text))
        #expect(contents.notes.contains { $0.hasSuffix("netstat -rn -f inet\(line.contains("grep") ? " | grep -v fe80" : "")`") }, "\(line): \(contents.notes)")
        #expect(Self.assess(text).status == .critical, "\(line): \(Self.assess(text).findings.map(\.evidence))")
        // Still a comment, and not the `head` it follows: the listing is cut.
        Self.noGoneTunnel("% ifconfig -a | head -4   # the rest is more of the same\n" + Self.loAndEn0 + "\n" + line + "\n"
            + Self.minimalBlackhole.components(separatedBy: "\n").dropFirst(2).joined(separator: "\n") + "\n", line)
        // A wait commented on is a wait all the same.
        Self.noGoneTunnel(line + "\n" + Self.minimalBlackhole.components(separatedBy: "\n").dropFirst(2).joined(separator: "\n") + "\n"
            + "% sleep 60   # reconnecting from the menu bar\n% ifconfig -a\n" + Self.loAndEn0 + "\n", "sleep after \(line)")
    }

    /// A typescript shown with `cat -v` or vim ends its lines in a literal `^M`: read as the
    /// carriage return it stands for, glued to a word or not, the listing reads as plainly.
    @Test(arguments: ["^M", " ^M", "^M^M", "^M  "])
    func caretNotationOfALineEndIsALineEnd(end: String) {
        let text = "Script started on Tue Mar 12 09:14:02 2024\nbob$ ifconfig -a" + end + "\n"
            + Self.minimalBlackhole.split(separator: "\n").map { $0 + end }.joined(separator: "\n") + "\n"
        #expect(Self.assess(text).status == .critical, "\(end): \(Self.assess(text).findings.map(\.evidence))")
        // Elsewhere `^M` is text (`grep ^Mac`).
        #expect(CaptureText.withCarriageReturns("ps aux | grep ^Mac^M\nutun3^M") == "ps aux | grep ^Mac\r\nutun3\r")
    }

    /// A routing table under its command line of which no row could be read says so: the
    /// capture lacks its routes, and is not OK for having none.
    @Test func aTableWithNoReadableRowIsMissing() {
        let unreadable = "% ifconfig -a\n" + Self.loAndEn0 + "\n% netstat -rn -f inet\nDestination        Gateway            Flags               Netif Expire\n"
            + "0/1                198.18.0.1         UGSc                utun6^[[0m\n128.0/1            198.18.0.1         UGSc                utun6^[[0m\n"
        let assessment = Self.assess(unreadable)
        #expect(assessment.status != .ok)
        #expect(assessment.findings.contains { $0.id == FindingID.captureMissing && $0.evidence.contains("netstat -rn -f inet") }, "\(assessment.findings.map(\.evidence))")
        // Read, the same rows say what they say.
        #expect(Self.assess(unreadable.replacingOccurrences(of: "^[[0m", with: "")).status == .critical)
    }

    /// Chat, forum and theme shapes around the smallest blackhole keep it critical.
    @Test(arguments: [
        "```" + minimalBlackhole + "```",
        minimalBlackhole.replacingOccurrences(of: "Destination", with: "</details>\n<details><summary>netstat -rn</summary>\n\nDestination"),
        "~ ❯ ifconfig -a                               ✔  at 10:15:22\n" + minimalBlackhole,
        "% ifconfig -a 2>&1\n" + minimalBlackhole,
        "% ifconfig -a | tee ifconfig.txt\n" + minimalBlackhole,
        "% ifconfig -a | pbcopy && pbpaste\n" + minimalBlackhole,
    ])
    func chatAndThemeShapesKeepABlackhole(text: String) {
        #expect(Self.assess(text).status == .critical, "\(text)")
    }

    /// Headings, HTML a forum adds, and right prompts keep the smallest blackhole critical.
    @Test(arguments: [
        "ifconfig -a output\n" + minimalBlackhole,
        "### ifconfig -a output\n" + minimalBlackhole,
        "<!-- Output of `ifconfig -a` -->\n" + minimalBlackhole.replacingOccurrences(of: "Destination", with: "<img width=\"812\" alt=\"Screenshot\">\n<!-- Output of `netstat -rn` -->\nDestination"),
        "~ ❯ ifconfig -a                      at 10:15:22\n" + minimalBlackhole,
        "~ ❯ ifconfig -a                      took 2s at 10:15:22\n" + minimalBlackhole,
        "╰─ ifconfig -a                ─╯\n" + minimalBlackhole,
    ])
    func headingsMarkupAndRightPromptsKeepABlackhole(text: String) {
        #expect(Self.assess(text).status == .critical, "\(text)")
    }

    /// powerlevel10k's right prompt after the command: segments opened by its left-pointing
    /// separators (U+E0B2, U+E0B3), Nerd Font icons from the Private Use Area (a clock before
    /// the time, U+F017), and its context (`user@host`). It ends the command line.
    @Test(arguments: ["\u{E0B2} ✔ \u{E0B2} 10:02:11 \u{F017}", "\u{E0B2} ✔ \u{E0B2} 10:02:11", "\u{E0B3} 10:02:11", "\u{F017} 10:02:11",
                      "\u{F00C} \u{E0B3} 3s \u{F252} \u{E0B3} 10:02:11 \u{F017}", "\u{F0DF4} 10:02:11", "jane@Janes-MacBook-Pro",
                      "\u{E0B2} \u{F179} \u{E0B2} jane@mbp"])
    func aPowerlevel10kRightPromptEndsTheCommandLine(rightPrompt: String) {
        let left = "\u{F179} \u{E0B0} ~ \u{E0B0} ifconfig -a"
        let text = left + String(repeating: " ", count: 30) + rightPrompt + "\n" + Self.minimalBlackhole
        let assessment = Self.assess(text)
        #expect(assessment.status == .critical, "\(rightPrompt.unicodeScalars.map { String($0.value, radix: 16) }): \(assessment.findings.map(\.evidence))")
    }

    /// Words on an ifconfig command line that tunwarden cannot follow make its listing partial,
    /// and a note names them.
    @Test func wordsLeftOnTheCommandLineAreNamed() {
        let assessment = Self.assess("~ ❯ ifconfig -a ≈ whatever\n" + Self.minimalBlackhole)
        #expect(assessment.status != .critical)
        #expect(assessment.snapshot.readingNotes.contains { $0.contains("cannot follow ('≈ whatever')") }, "\(assessment.snapshot.readingNotes)")
        // A `user@host` that is not the line's last word is not a right prompt.
        #expect(Self.assess("~ ❯ ifconfig -a jane@mbp x\n" + Self.minimalBlackhole).status != .critical)
    }

    /// Output sent to a file and shown cut (`> if.txt; head -n 8 if.txt`, or `head` on a saved
    /// file at its own prompt) is a partial listing.
    @Test func outputShownThroughHeadIsPartial() {
        let listing = Self.loAndEn0 + "\n"
        Self.noGoneTunnel("me@mac ~ % ifconfig -a > if.txt; head -n 8 if.txt\n" + listing + "me@mac ~ % netstat -rn\n" + Self.vpnOn, "redirect")
        Self.noGoneTunnel("me@mac ~ % ifconfig -a > ~/Desktop/if.txt\nme@mac ~ % head -n 8 ~/Desktop/if.txt\n" + listing
                          + "me@mac ~ % netstat -rn\n" + Self.vpnOn, "head on a file")
    }

    /// A redirection glued to an option (`-a>if.txt`, `-v>>if.txt`) sends the output to a file as
    /// one written apart does: what a later `head` or `grep` of the file shows is partial, first on
    /// the line or later on it; `cat` of the file right after shows it whole.
    @Test(arguments: ["ifconfig -a>if.txt; head -36 if.txt", "clear; ifconfig -a>if.txt; head -36 if.txt", "date; ifconfig -v>>if.txt; head -n 20 if.txt",
                      "clear; ifconfig -a>if.txt 2>&1; head -36 if.txt", "cd ~ && ifconfig -a>/tmp/if.txt && grep -A3 utun /tmp/if.txt",
                      "sudo ifconfig -a>if.txt; sed -n 1,20p if.txt"])
    func outputSentToAFileByAGluedRedirectionIsPartial(line: String) {
        let listing = Self.loAndEn0 + "\n"
        Self.noGoneTunnel("me@mac ~ % \(line)\n" + listing + "me@mac ~ % netstat -rn\n" + Self.vpnOn, line)
        #expect(Self.assess("me@mac ~ % ifconfig -a>if.txt; cat if.txt\n" + listing + "me@mac ~ % netstat -rn\n" + Self.vpnOn).status == .critical)
    }

    /// Notes of what was taken out, however they are set, make the listing partial; commands
    /// and prose that show nothing of the listing leave it whole.
    @Test func notesOfRemovalAndUnrelatedCommands() {
        for note in ["<!-- utun1 to utun9 removed, they all look the same -->", "# removed utun1-utun9", "*(utun1 to utun9 removed)*",
                     "// removed utun1-utun9", "**[utun1-utun9 removed, all identical]**"] {
            Self.noGoneTunnel("$ ifconfig -a\n" + Self.loAndEn0 + "\n\(note)\n$ netstat -rn\n" + Self.vpnOn, note)
        }
        let blackhole = Self.minimalBlackhole.replacingOccurrences(of: "Destination", with: "### netstat -rn\nDestination")
        for before in ["$ grep nameserver /etc/resolv.conf\nnameserver 198.18.0.2\n\nifconfig -a:\n",
                       "Since ClashX crashed I am 100% cut off from the internet. Output below:\n\n",
                       "$ tail -n 2 /var/log/system.log\nDec  4 10:01:02 mbp ClashX[812]: tun stopped\n\n### ifconfig -a\n",
                       "$ ifconfig utun0\nutun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\n### ifconfig -a\n",
                       "$ ifconfig -a > if.txt; cat if.txt\n"] {
            #expect(Self.assess(before + blackhole).status == .critical, "\(before)")
        }
    }

    /// Redacting values, and prose that happens to use a word of removal, remove no interface;
    /// `head`, `grep` or `sed` of any saved file right above a listing show part of it.
    @Test func redactionAndProseAreNotRemovalButCuttingCommandsAre() {
        let redacted = Self.loAndEn0.replacingOccurrences(of: "\tinet 192.168.2.20", with: "\tether [redacted]\n\tether xx:xx:xx:xx:xx:xx (hidden)\n\tinet 192.168.2.20")
        #expect(Self.assess(Self.vpnDefault(ifconfig: "$ ifconfig -a\n" + redacted)).status == .critical)
        for line in ["I skipped nothing, this is the full output.", "VPN cut out at 10:00 and never came back.", "I redacted my MAC address.",
                     "Nothing removed.", "<!-- MAC redacted -->", "(MAC address redacted)", "[IP addresses anonymized]",
                     "I removed the app and now everything is offline", "Deleted Tunnelblick, but the internet is blocked",
                     "I uninstalled and deleted the client. Any more ideas?"] {
            // (After the last listing: between two, prose is a moment's end, see `CaptureGapTests`.)
            let routesFirst = "$ netstat -rnf inet\nDestination        Gateway            Flags               Netif Expire\n"
                + "default            10.20.0.1          UGScg               utun4\ndefault            192.168.2.1        UGScIg                en0\n"
            #expect(Self.assess(routesFirst + "$ ifconfig -a\n" + Self.loAndEn0 + "\n" + line).status == .critical, "\(line)")
        }
        for command in ["$ head -n 15 ~/Desktop/net.txt", "$ sed -n 1,15p vpn-debug.txt", "$ grep -v utun4 before.txt", "$ cut -c1-200 dump.txt"] {
            Self.noGoneTunnel(Self.vpnDefault(ifconfig: command + "\n" + Self.loAndEn0), command)
        }
    }

    /// A paste that lost its line breaks: a command before the listing ends at the next prompt.
    @Test func aFlattenedCommandEndsAtTheNextPrompt() {
        let text = "$ grep nameserver /etc/resolv.conf\nnameserver 192.168.1.1\n$ ifconfig -a\n" + Self.loAndEn0 + "\n$ netstat -rnf inet\n"
            + Self.vpnOn.replacingOccurrences(of: "default            192.168.2.1        UGScIg                en0", with: "")
        #expect(Self.assess(CaptureShapeTests.flattened(text)).status == Self.assess(text).status)
        #expect(Self.assess(text).status == .critical)
    }

    /// A VPN that reconnected between the listings shows under another utun number: the same
    /// point-to-point pair, or the same index, under two names. Its routes are not a blackhole.
    @Test func aTunnelRenumberedBetweenListingsIsNotGone() {
        let listing = Self.loAndEn0 + "\nutun4: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1500 index 20\n\tinet 10.8.0.6 --> 10.8.0.5 netmask 0xffffffff\n"
        let pair = listing + """
        Destination        Gateway            Flags        Netif Expire
        0/1                10.8.0.5           UGSc         utun3
        10.8.0.5           10.8.0.6           UH           utun3
        128.0/1            10.8.0.5           UGSc         utun3
        """
        Self.noGoneTunnel(pair, "same pair, other name")
        let index = listing + """
        Destination        Gateway            Flags        Netif Expire
        default            link#20            UCSg         utun3
        default            192.168.2.1        UGScIg         en0
        """
        Self.noGoneTunnel(index, "same index, other name")
    }

    /// lsof shows a process holding a utun the interface listing lacks: the listing is from
    /// another time, and the utun exists.
    @Test func aUtunHeldInLsofIsNotGone() {
        let text = "$ ifconfig -a\n" + Self.loAndEn0 + "\n$ netstat -rnf inet\n" + Self.vpnOn + """

        $ sudo lsof -nP | grep utun_control
        openvpn   4242 root    7u  systm 0x9740abcd      0t0      [ctl com.apple.net.utun_control id 2 unit 5]
        """
        Self.noGoneTunnel(text, "held in lsof")
    }

    /// A ZeroTier feth pair's first end in an interface listing, then `ps` (as `command`) with
    /// launchd and one row more.
    static func fethWithPs(_ command: String, row: String) -> String {
        "% ifconfig -a\n" + loAndEn0 + """

        feth1207: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 2800
        \tinet 10.147.17.5 netmask 0xffff0000 broadcast 10.147.255.255
        \tpeer: feth6207
        \tstatus: active
        % \(command)
        USER               PID  %CPU %MEM      VSZ    RSS   TT  STAT STARTED      TIME COMMAND
        root                 1   0.0  0.1 410000000  12000   ??  Ss    8:01AM   0:12.00 /sbin/launchd
        \(row)
        """
    }

    /// ZeroTier's menu-bar app runs on after its service crashed: it does not save the feth.
    @Test func theZeroTierAppIsNotTheService() {
        let text = Self.fethWithPs("ps auxww", row: "alice              812   0.0  0.1 412345678  12000   ??  S     8:02AM   0:00.91 /Applications/ZeroTier.app/Contents/MacOS/ZeroTier") + "\n% \n"
        #expect(Self.ids(Self.assess(text)).contains(FindingID.orphanedFeth))
    }

    /// A ps row cut at the window's edge may be ZeroTier's: its feth is not called orphaned.
    @Test func aPsRowCutShortMayBeZeroTier() {
        let text = Self.fethWithPs("ps aux", row: "root               402   2.8  0.5 432436494  62531   ??  Ss    8:02AM   0:53.91 /Library/Application Support/ZeroTier/On")
        #expect(!Self.ids(Self.assess(text)).contains(FindingID.orphanedFeth))
    }

    /// A name misread off a screenshot (`utunl0` for `utun10`), a cut listing behind a two-line
    /// theme's frame, or listings that disagree on indexes: nothing is proven gone.
    @Test func unsureListingsProveNothingGone() {
        let listing = Self.minimalBlackhole.replacingOccurrences(of: "\tinet 127.0.0.1 netmask 0xff000000",
                                                                 with: "\tinet 127.0.0.1 netmask 0xff000000\nutun10: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380")
        Self.noGoneTunnel(listing.replacingOccurrences(of: "utun6", with: "utunl0"), "routes misread")
        Self.noGoneTunnel(listing.replacingOccurrences(of: "utun6", with: "utun10").replacingOccurrences(of: "utun10:", with: "utunI0:"), "header misread")
        Self.noGoneTunnel("╰─ ifconfig | head -n 3\n" + Self.minimalBlackhole, "two-line theme")
        let conflicting = Self.minimalBlackhole.replacingOccurrences(of: "\tinet 127.0.0.1 netmask 0xff000000", with: "\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x2")
            .replacingOccurrences(of: "Netif Expire\n", with: "Netif Expire\n127.0.0.1          link#1             UHS                   lo0\n")
        let assessment = Self.assess(conflicting)
        #expect(assessment.status == .unknown, "\(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown)
    }

    /// What a `route` command prints is not used, but a table pasted after it is read.
    @Test func aTableAfterARouteCommandIsRead() {
        let text = "% ifconfig -a\n" + Self.loAndEn0 + "\n% netstat -rn\n" + Self.vpnOn
            + "\n% sudo route -n delete default 10.20.0.1\ndelete net default: gateway 10.20.0.1\nRouting table now:\n" + Self.vpnOff
        #expect(Self.assess(text).status == .ok, "\(Self.assess(text).findings.map(\.evidence))")
    }

    /// A line of prose after the table that starts like a row is not a row that could not be read.
    @Test(arguments: ["default gateway should be 192.168.2.1", "- toggled Wi-Fi, rebooted etc."])
    func proseStartingLikeARowLeavesTheTableWhole(line: String) {
        #expect(Self.assess(Self.vpnDefault(ifconfig: "$ ifconfig -a\n" + Self.loAndEn0) + "\n" + line).status == .critical)
    }

    /// A byte order mark, and UTF-16 as Windows tools save text, with or without a mark.
    @Test func byteOrderMarksAndUTF16AreRead() {
        let utf8 = Data(Self.blackhole.utf8)
        #expect(Self.assess(data: Data([0xEF, 0xBB, 0xBF]) + utf8).status == .critical)
        let little = Data(Self.blackhole.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let big = Data(Self.blackhole.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        #expect(Self.assess(data: Data([0xFF, 0xFE]) + little).status == .critical)
        #expect(Self.assess(data: Data([0xFE, 0xFF]) + big).status == .critical)
        #expect(Self.assess(data: little).status == .critical)
        #expect(Self.assess(data: big).status == .critical)
        // UTF-8 text is not taken for UTF-16.
        #expect(CaptureText.utf16Text(utf8) == nil)
    }

    /// A capture directory whose ifconfig.txt is a directory is refused, naming it.
    @Test func aDirectoryWhereAFileShouldBeIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-capture-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("ifconfig.txt"), withIntermediateDirectories: true)
        #expect {
            try CapturedInventory(path: directory.path).snapshot()
        } throws: { error in
            "\(error)".contains("ifconfig.txt is a directory")
        }
    }
}
