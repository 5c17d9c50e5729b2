import Foundation
import Testing
@testable import Inventory
import TunwardenCore

/// Captures in the shapes people paste: prompts and other commands inside, grep'd rows, the
/// netstat layouts of older macOS, fragments, redactions, and each of them with its line breaks
/// lost. Every fixture here is written for these tests in those shapes.
@Suite struct CaptureShapeTests {
    static func flattened(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func contents(_ text: String, file: String = "paste.txt", hint: ShellCommand.Tool? = nil) -> CaptureContents {
        CaptureReader.read(CaptureText(file: file, text: text), expecting: hint)
    }

    static func snapshot(_ text: String, file: String = "paste.txt") -> Snapshot {
        CapturedInventory.snapshot(from: contents(text, file: file), label: file)
    }

    static let grepUtun = """
    Last login: Tue Mar  4 09:12:44 on ttys001
    mika@Mikas-MacBook-Pro ~ % netstat -rn | grep utun
    default            fe80::%utun0       UGcIg               utun0
    default            fe80::%utun1       UGcIg               utun1
    1                  198.18.0.1         UGSc               utun4
    2/7                198.18.0.1         UGSc               utun4
    fe80::%utun0/64    fe80::6b2:1c3a:9e1d:4f10%utun0 UcI    utun0
    mika@Mikas-MacBook-Pro ~ %
    """

    @Test(arguments: [false, true])
    func grepdRowsAfterAPromptAreReadAndMarkedFiltered(flat: Bool) {
        let text = flat ? Self.flattened(Self.grepUtun) : Self.grepUtun
        let contents = Self.contents(text)
        #expect(contents.routes.count == 5)
        #expect(contents.routes.map(\.netif) == ["utun0", "utun1", "utun4", "utun4", "utun0"])
        #expect(contents.routes[2].destination.description == "1.0.0.0/8")
        #expect(contents.routeListings.count == 1)
        #expect(contents.routeListings[0].filter?.text == "grep utun")
        let snapshot = Self.snapshot(text)
        // Interfaces known only from routes: kind from the name, state unknown.
        #expect(snapshot.interfaces.map(\.name) == ["utun0", "utun1", "utun4"])
        #expect(snapshot.interfaces.allSatisfy { $0.unlisted })
        #expect(!snapshot.listsEveryRoute(of: .inet, withWord: "default"))
        let assessment = Heuristics.assess(snapshot)
        #expect(assessment.interfaces.allSatisfy { $0.state == .unknown })
        #expect(assessment.status == .unknown)
        #expect(!assessment.findings.contains { $0.severity == .critical })
    }

    @Test func aGrepForDefaultListsEveryDefaultRoute() {
        let text = """
        ❯ netstat -rn | grep -i default
        default            192.168.1.1        UGScg                 en0
        default            fe80::%utun0       UGcIg               utun0
        """
        let snapshot = Self.snapshot(text)
        #expect(snapshot.routes.count == 2)
        #expect(snapshot.listsEveryRoute(of: .inet, withWord: "default"))
        #expect(!snapshot.listsEveryRoute(of: .inet, withWord: "utun3"))
    }

    static let quotedOldColumns = """
    > % sudo netstat -rn -f inet
    > Routing tables
    >
    > Internet:
    > Destination        Gateway            Flags        Refs      Use   Netif Expire
    > default            10.0.1.1           UGSc           41        0     en0
    > 10.0.1/24          link#4             UCS             2        0     en0      !
    > 10.0.1.1/32        link#4             UCS             2        0     en0      !
    > 10.0.1.1           0:1e:c2:a0:33:1    UHLWIir        42      188     en0   1190
    > 127                127.0.0.1          UCS             0        0     lo0
    > 127.0.0.1          127.0.0.1          UH              7   293811     lo0
    """

    @Test(arguments: [false, true])
    func quotedTranscriptWithRefsAndUseColumns(flat: Bool) {
        let text = flat ? Self.flattened(Self.quotedOldColumns) : Self.quotedOldColumns
        let contents = Self.contents(text)
        #expect(contents.routes.map(\.destination.description) == ["0.0.0.0/0", "10.0.1.0/24", "10.0.1.1/32", "10.0.1.1/32", "127.0.0.0/8", "127.0.0.1/32"])
        #expect(contents.routes[1].linkIndex == 4)
        #expect(contents.routeListings.first?.families == [.inet])
        #expect(contents.routeListings.first?.filter == nil)
    }

    @Test(arguments: [false, true])
    func mtuColumnAndBothSections(flat: Bool) {
        var text = """
        $ netstat -rnl
        Routing tables

        Internet:
        Destination        Gateway            Flags        Refs      Use    Mtu   Netif Expire
        default            192.168.1.254      UGSc           83       24   1500     en0
        127                127.0.0.1          UCS             0        0  16384     lo0
        192.168.1.64       e0:33:8e:68:38:d6  UHLWIi          2      470   1500     en0    753

        Internet6:
        Destination                             Gateway                         Flags        Refs      Use    Mtu    Netif Expire
        default                                 fe80::%utun0                    UGcI            0        0   2000    utun0
        fe80::%utun0/64                         fe80::30fe:52f2:5e1:d2c3%utun0  UcI             1        0   2000    utun0
        fe80::30fe:52f2:5e1:d2c3%utun0          link#18                         UHLI            0        0  16384      lo0
        """
        if flat { text = Self.flattened(text) }
        let contents = Self.contents(text)
        #expect(contents.routes.count == 6)
        #expect(contents.routes.map(\.netif) == ["en0", "lo0", "en0", "utun0", "utun0", "lo0"])
        #expect(contents.routes[3].destination.description == "::/0")
        #expect(contents.routes[5].zone == "utun0")
        #expect(contents.routes[5].linkIndex == 18)
        #expect(contents.routeListings.first?.families == [.inet, .inet6])
    }

    @Test func inet6TableAloneAndNamesWithoutDashN() {
        let inet6 = """
        $ netstat -rn -f inet6
        Routing tables

        Internet6:
        Destination                             Gateway                                 Flags               Netif Expire
        default                                 fe80::%utun2                            UGcIg               utun2
        ::1                                     ::1                                     UHL                   lo0
        """
        let six = Self.contents(inet6)
        #expect(six.routes.map(\.destination.description) == ["::/0", "::1/128"])
        #expect(six.routeListings.first?.families == [.inet6])

        let names = """
        Routing tables

        Internet:
        Destination        Gateway            Flags        Refs      Use   Netif Expire
        default            dsldevice.attlocal UGSc           85       24     en0
        localhost          localhost          UH             20  1266183     lo0
        kellys-iphone.attl e0:33:8e:68:38:d6  UHLWIi          2      466     en0    866
        """
        let named = Self.contents(names, file: "netstat.txt", hint: .netstat)
        #expect(named.routes.map(\.destination.description) == ["0.0.0.0/0", "127.0.0.1/32"])
        #expect(named.routes[0].gateway == nil)
        #expect(named.problems.count == 1)
        #expect(named.problems[0].hasPrefix("netstat.txt:7: destination 'kellys-iphone.attl' is a host name"))
    }

    static let oneInterfaceAndLsofOfOneProcess = """
    Host:~ dana$ ifconfig utun1
    utun1: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1400
    \tinet 100.88.12.7 --> 100.88.12.7 netmask 0xffffffff
    \tinet6 fe80::a1b2:c3d4:e5f6:1%utun1 prefixlen 64 scopeid 0x17
    Host:~ dana$ sudo lsof -nPp 4411
    COMMAND    PID USER   FD     TYPE             DEVICE SIZE/OFF    NODE NAME
    tailscale 4411 root  cwd      DIR                1,4      640       2 /
    tailscale 4411 root    9u    systm 0x9a1c33e1a3c1b7c1      0t0         [ctl com.apple.net.utun_control id 6 unit 2]
    Host:~ dana$ route get default
       route to: default
    destination: default
           mask: default
        gateway: 192.168.7.1
      interface: en0
          flags: <UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>
     recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
           0         0         0         0         0         0      1500         0
    Host:~ dana$ ps -axo pid,comm | grep tailscale
     4411 /Applications/Tailscale.app/Contents/PlugIns/IPNExtension.appex/Contents/MacOS/tailscale
    """

    @Test(arguments: [false, true])
    func oneInterfaceOneProcessAndOtherCommands(flat: Bool) {
        let text = flat ? Self.flattened(Self.oneInterfaceAndLsofOfOneProcess) : Self.oneInterfaceAndLsofOfOneProcess
        let contents = Self.contents(text)
        #expect(contents.interfaces.map(\.name) == ["utun1"])
        #expect(contents.interfaces[0].scopeID == 0x17)
        #expect(!contents.interfacesComplete)
        #expect(contents.holders.map(\.ifname) == ["utun1"])
        #expect(!contents.lsofWhole)
        #expect(contents.lsofLimits.first?.contains("lists only pid 4411") == true)
        #expect(contents.routes.isEmpty)
        #expect(contents.processes[4411]?.hasSuffix("/tailscale") == true)
        // Its one row proves the terminal wide enough for a long command to reach the name
        // grep looks for; with the line breaks lost, nothing proves it.
        if flat {
            #expect(contents.processListings.compactMap(\.filter).first?.text.hasPrefix("`grep tailscale` saw rows that ps may have cut at the terminal's width") == true)
        } else {
            #expect(contents.processListings.compactMap(\.filter).first?.text == "grep tailscale")
        }
        #expect(contents.notes.contains { $0.contains("`route get` output is not used") || $0.contains("route get default") })
        let snapshot = CapturedInventory.snapshot(from: contents, label: "paste")
        #expect(!snapshot.interfacesKnown)
        #expect(!snapshot.holders.complete)
        let assessment = Heuristics.assess(snapshot)
        #expect(assessment.interfaces.first?.state == .live)
        #expect(assessment.interfaces.first?.holders.map(\.display) == ["tailscale[4411]"])
    }

    /// `lsof -i` (and `-i4`, `-iTCP`, `-U`) selects internet (or UNIX domain) sockets, never a
    /// utun's control socket: no holder can show in it, so the holders are unknown for that
    /// reason, not missing from a whole listing (which would ask whether lsof ran as root).
    @Test(arguments: ["sudo lsof -nP -i", "sudo lsof -nP -i4", "sudo lsof -i -n -P", "sudo lsof -nP -iTCP -sTCP:ESTABLISHED", "sudo lsof -nP -U"])
    func anLsofOfInternetSocketsShowsNoUtunHolder(command: String) {
        let rows = """
        COMMAND     PID  USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME
        mDNSRespo   318 _mdnsresponder   44u  IPv4 0x5b3c1d2e3f4a5b6c      0t0  UDP *:5353
        rapportd    669  jane    8u  IPv4 0x5b3c1d2e3f4a5b6d      0t0  TCP *:49152 (LISTEN)
        nesession   412  root   12u  IPv4 0x5b3c1d2e3f4a5b6e      0t0  UDP 192.168.1.23:51820

        """
        let text = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\nutun4: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n"
            + "\tinet6 fe80::1:2:3:4%utun4 prefixlen 64 scopeid 0x14\n% \(command)\n" + rows
        let contents = Self.contents(text)
        #expect(!contents.lsofWhole, "\(command)")
        #expect(contents.lsofLimits.first?.contains("never the utun control sockets that hold utuns") == true, "\(command): \(contents.lsofLimits)")
        let assessment = Heuristics.assess(CapturedInventory.snapshot(from: contents, label: "paste"))
        #expect(assessment.interfaces.first { $0.interface.name == "utun4" }?.reason.contains("was lsof run as root") == false, "\(command)")
        // The control: the whole listing without the utun's holder asks whether lsof ran as root.
        let whole = Self.contents(text.replacingOccurrences(of: "% \(command)\n", with: "% sudo lsof -nP\n"))
        #expect(whole.lsofWhole)
    }

    /// sudo refusing to run lsof (`sudo -n` without a cached password, three wrong passwords)
    /// leaves no lsof output, and the capture says that sudo is why.
    @Test(arguments: ["sudo: a password is required", "Password:\nSorry, try again.\nPassword:\nSorry, try again.\nPassword:\nsudo: 3 incorrect password attempts"])
    func sudoThatDidNotRunLsofIsNamed(failure: String) {
        let text = "% ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\nutun4: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n"
            + "\tinet6 fe80::1:2:3:4%utun4 prefixlen 64 scopeid 0x14\n% sudo -n lsof -nP | grep utun_control\n\(failure)\n% \n"
        let missing = CapturedInventory.snapshot(from: Self.contents(text), label: "paste").missingSources
        #expect(missing.contains { $0.hasPrefix("lsof output (utun holders: `sudo lsof -nP | grep utun_control` did not run: sudo: ") }, "\(missing)")
        // The control: no word of sudo's, no reason.
        let silent = text.replacingOccurrences(of: failure + "\n", with: "")
        #expect(CapturedInventory.snapshot(from: Self.contents(silent), label: "paste").missingSources.contains("lsof output (utun holders)"))
    }

    @Test(arguments: [false, true])
    func aFragmentNamedByItsZoneAndATableCutShort(flat: Bool) {
        var text = """
        \tinet6 fe80::6b1:2c:3d4e:5f60%utun4 prefixlen 64 scopeid 0x14
        \tnd6 options=201<PERFORMNUD,DAD>
        utun5: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
        \tinet6 fe80::aa:bb:cc:dd%utun5 prefixlen 64 scopeid 0x15
        $ netstat -rn
        Routing tables

        Internet:
        Destination        Gateway            Flags               Netif Expire
        default            192.168.0.1        UGScg                 en0
        192.168.0          link#6             UCS                   en0      !
        192.168.0.1        a4:2b
        """
        if flat { text = Self.flattened(text) }
        let contents = Self.contents(text)
        #expect(contents.interfaces.map(\.name) == ["utun4", "utun5"])
        #expect(contents.interfaces[0].headerMissing)
        #expect(contents.interfaces[0].scopeID == 0x14)
        #expect(!contents.interfacesComplete)
        #expect(contents.routes.count == 2)
        // With its line breaks, the cut shows; one line cannot tell a cut row from the end.
        if !flat {
            let snapshot = CapturedInventory.snapshot(from: contents, label: "paste")
            #expect(!snapshot.listsEveryRoute(of: .inet, withWord: "default"))
            #expect(contents.problems.contains { $0.contains("stops in the middle of a row") })
        }
    }

    @Test func redactedAddressesKeepTheirRows() {
        let text = """
        Internet:
        Destination        Gateway            Flags               Netif Expire
        default            wan.1              UGScg                 en0
        0/1                v.p.n.1            UGSc                utun3
        128.0/1            v.p.n.1            UGSc                utun3
        """
        let contents = Self.contents(text, file: "netstat.txt", hint: .netstat)
        #expect(contents.routes.count == 3)
        #expect(contents.routes.allSatisfy { $0.gateway == nil })
        let ifconfig = Self.contents("en0: flags=8863<UP,BROADCAST,RUNNING> mtu 1500\n\tinet x.x.x.x netmask 0xffffff00 broadcast x.x.x.255\n",
                                     file: "ifconfig.txt", hint: .ifconfig)
        #expect(ifconfig.interfaces.map(\.name) == ["en0"])
        #expect(ifconfig.interfaces[0].addresses.isEmpty)
        #expect(ifconfig.problems.first?.contains("'x.x.x.x' after inet (en0) is not an IPv4 address (redacted?)") == true)
    }

    /// ifconfig lists by index, so utun20 comes before utun17; routes tie to interfaces by the
    /// index netstat's link#N shows, and listings taken at different times are not tied.
    @Test func namesOutOfOrderAndListingsFromDifferentTimes() {
        let ifconfig = """
        lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
        \tinet 127.0.0.1 netmask 0xff000000
        utun20: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
        \tinet6 fe80::1%utun20 prefixlen 64 scopeid 0x1a
        utun17: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
        \tinet6 fe80::1%utun17 prefixlen 64 scopeid 0x1c
        utun18: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
        """
        let sameTime = """
        Internet6:
        Destination                             Gateway                                 Flags               Netif Expire
        fe80::%utun20/64                        fe80::1%utun20                          UcI                utun20
        fe80::1%utun20                          link#26                                 UHLI                  lo0
        fe80::%utun17/64                        fe80::1%utun17                          UcI                utun17
        fe80::1%utun17                          link#28                                 UHLI                  lo0
        """
        let together = try! CapturedInventory.build(ifconfig: ifconfig, netstat: sameTime, lsof: nil, ps: nil)
        #expect(together.interfaces.map(\.name) == ["lo0", "utun20", "utun17", "utun18"])
        #expect(together.interfaces.map(\.index) == [29, 26, 28, 30])
        #expect(together.interfacesKnown)
        #expect(together.routes.filter { $0.nextHops.first?.interfaceName == "utun17" }.allSatisfy { $0.nextHops.first?.interfaceIndex == 28 })
        let otherBoot = sameTime.replacingOccurrences(of: "link#28", with: "link#19")
        let apart = try! CapturedInventory.build(ifconfig: ifconfig, netstat: otherBoot, lsof: nil, ps: nil)
        #expect(!apart.interfacesKnown)
        #expect(apart.readingProblems.contains { $0.contains("utun17: index 28 in ifconfig, 19 in netstat") })
        #expect(apart.routes.filter { $0.nextHops.first?.interfaceName == "utun17" }.allSatisfy { $0.nextHops.first?.interfaceIndex == nil })
    }

    @Test(arguments: [false, true])
    func psAuxWithTheGrepItselfPsEfAndPsAxo(flat: Bool) {
        var aux = """
        $ ps auxww | grep zerotier
        dana             81234   0.0  0.0 34132084    872 s003  R+    5:18PM   0:00.00 grep zerotier
        root               412   0.3  0.1 34975552  10432   ??  Ss    9:02AM   1:12.40 /Library/Application Support/ZeroTier/One/zerotier-one
        """
        if flat { aux = Self.flattened(aux) }
        let read = Self.contents(aux)
        #expect(read.processes.count == 2)
        #expect(read.processes[412] == "/Library/Application Support/ZeroTier/One/zerotier-one")
        #expect(read.processes[81234] == "grep zerotier")
        #expect(Heuristics.command(read.processes[412]!, runs: "zerotier-one"))
        #expect(!Heuristics.command(read.processes[81234]!, runs: "zerotier-one"))
        #expect(read.processListings.compactMap(\.filter).first?.certainlyShows(word: "zerotier-one") == true)

        var ef = """
        $ ps -ef
          UID   PID  PPID   C STIME   TTY           TIME CMD
            0     1     0   0  9:01AM ??         0:41.13 /sbin/launchd
          501   733     1   0  9:03AM ??         0:00.52 /usr/libexec/nesessionmanager
        $ date
        Sun Dec  6 09:41:02 CET 2026
        """
        if flat { ef = Self.flattened(ef) }
        let efRead = Self.contents(ef)
        #expect(efRead.processes == [1: "/sbin/launchd", 733: "/usr/libexec/nesessionmanager"])
        #expect(efRead.psWhole)
    }

    static let fethWithoutLsof = """
    feth1207: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 2800
    \tether 5a:7b:2c:11:90:01
    \tinet 10.242.18.7 netmask 0xffff0000 broadcast 10.242.255.255
    \tpeer: feth6207
    \tmedia: autoselect
    \tstatus: active
    feth6207: flags=8943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 2800
    \tether 66:65:74:68:18:07
    \tpeer: feth1207
    \tmedia: autoselect
    \tstatus: active
    """

    @Test func aFethPairIsJudgedFromIfconfigAndPsAlone() throws {
        let snapshot = try CapturedInventory.build(ifconfig: Self.fethWithoutLsof, netstat: nil, lsof: nil,
                                                   ps: "  PID COMM\n    1 /sbin/launchd\n  88 /usr/sbin/syslogd\n")
        let assessment = Heuristics.assess(snapshot)
        #expect(assessment.interfaces.allSatisfy { $0.state == .orphaned && $0.holdersKnown })
        #expect(!snapshot.missingSources.contains { $0.contains("lsof") })
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: snapshot.takenAt)
        #expect(plan.items.map(\.ifname) == ["feth1207", "feth6207"])
        // A grep that would not show zerotier-one proves nothing.
        let filtered = try CapturedInventory.build(ifconfig: Self.fethWithoutLsof, netstat: nil, lsof: nil, ps: nil)
        #expect(Heuristics.assess(filtered).interfaces.allSatisfy { $0.state == .unknown })
        var grepped = CaptureReader.read(CaptureText(file: "paste.txt", text: "$ ps aux | grep ssh\nroot 90 0.0 0.0 1 2 ?? Ss 9:00AM 0:00.01 /usr/sbin/sshd\n"))
        CaptureReader.read(CaptureText(file: "ifconfig.txt", text: Self.fethWithoutLsof), expecting: .ifconfig, into: &grepped)
        let partial = Heuristics.assess(CapturedInventory.snapshot(from: grepped, label: "paste"))
        #expect(partial.interfaces.allSatisfy { $0.state == .unknown })
        #expect(!partial.findings.contains { $0.id == FindingID.orphanedFeth })
    }

    @Test func aDefaultOnlyThroughAFethWhileTheWiFiHasNoneIsAWarning() throws {
        let ifconfig = """
        lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
        \tinet 127.0.0.1 netmask 0xff000000
        en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
        \tinet 192.168.50.23 netmask 0xffffff00 broadcast 192.168.50.255
        \tstatus: active
        """ + "\n" + Self.fethWithoutLsof
        let netstat = """
        Internet:
        Destination        Gateway            Flags               Netif Expire
        default            10.242.0.1         UGSc             feth1207
        10.242/16          link#12            UCS              feth1207      !
        192.168.50         link#6             UCS                   en0      !
        """
        let ps = "  PID COMM\n    1 /sbin/launchd\n  412 /Library/Application Support/ZeroTier/One/zerotier-one\n"
        let assessment = Heuristics.assess(try CapturedInventory.build(ifconfig: ifconfig, netstat: netstat, lsof: nil, ps: ps))
        let finding = try #require(assessment.findings.first { $0.id == FindingID.defaultViaTunnel })
        #expect(finding.severity == .warning)
        #expect(finding.evidence.contains("feth1207") && finding.evidence.contains("en0 (192.168.50.23/24)"))
        // With the Wi-Fi's default kept as a scoped one (a VPN taking the default), nothing is wrong.
        let scoped = netstat + "\ndefault            192.168.50.1       UGScIg                en0\n"
        let healthy = Heuristics.assess(try CapturedInventory.build(ifconfig: ifconfig, netstat: scoped, lsof: nil, ps: ps))
        #expect(!healthy.findings.contains { $0.id == FindingID.defaultViaTunnel })
    }

    static let residue = """
    Internet:
    Destination        Gateway            Flags               Netif Expire
    default            192.168.88.1       UGScg                en10
    8/5                198.18.0.1         UGSc               utun33
    64/2               198.18.0.1         UGSc               utun33
    128.0/1            198.18.0.1         UGSc               utun33
    """

    @Test func theResidueOfASplitDefaultSaysHowMuchItTakes() throws {
        // Seen only in routes: its holder is unknown, so a warning, not critical.
        let unknown = Heuristics.assess(try CapturedInventory.build(ifconfig: nil, netstat: Self.residue, lsof: nil, ps: nil))
        let piece = try #require(unknown.findings.first { $0.id == FindingID.splitDefault })
        #expect(piece.severity == .warning)
        #expect(piece.evidence.contains("take 78% of IPv4 into utun utun33"))
        #expect(piece.evidence.contains("route -n delete -net 8.0.0.0/5"))
        // Proven gone (a complete ifconfig without it): critical.
        let ifconfig = "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384\n\tinet 127.0.0.1 netmask 0xff000000\nen10: flags=8863<UP,BROADCAST,RUNNING> mtu 1500\n\tinet 192.168.88.8 netmask 0xffffff00\n"
        let gone = Heuristics.assess(try CapturedInventory.build(ifconfig: ifconfig, netstat: Self.residue, lsof: nil, ps: nil))
        #expect(gone.findings.first { $0.id == FindingID.splitDefault }?.severity == .critical)
        // Held by a live process: information.
        let held = Heuristics.assess(try CapturedInventory.build(
            ifconfig: ifconfig + "utun33: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1500\n\tinet 198.18.0.1 --> 198.18.0.1 netmask 0xffffffff\n",
            netstat: Self.residue, lsof: "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nSurge 311 root 9u systm 0x1 0t0 [ctl com.apple.net.utun_control id 7 unit 34]\n",
            ps: nil, whole: true))
        #expect(held.findings.first { $0.id == FindingID.splitDefault }?.severity == .info)
        // Listed without lsof: some process holds it (the kernel keeps no utun otherwise), so its
        // routes lead somewhere: information, with the holder unknown.
        let listed = Heuristics.assess(try CapturedInventory.build(
            ifconfig: ifconfig + "utun33: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1500\n\tinet 198.18.0.1 --> 198.18.0.1 netmask 0xffffffff\n",
            netstat: Self.residue, lsof: nil, ps: nil))
        #expect(listed.findings.first { $0.id == FindingID.splitDefault }?.severity == .info)
    }

    @Test func aUtunKnownOnlyFromLsofIsListedAsHeld() {
        let text = """
        $ netstat -rn | grep utun
        default            fe80::%utun2       UGcIg               utun2
        $ sudo lsof -nP | grep utun_control
        Surge      311 root    9u    systm 0x11      0t0      [ctl com.apple.net.utun_control id 7 unit 10]
        """
        let assessment = Heuristics.assess(Self.snapshot(text))
        #expect(assessment.interfaces.map(\.interface.name) == ["utun2", "utun9"])
        #expect(assessment.interfaces[0].state == .unknown)
        #expect(assessment.interfaces[1].state == .live)
        #expect(assessment.interfaces[1].holders.map(\.display) == ["Surge[311]"])
    }

    @Test func theAppBehindNesessionmanagerIsNamedFromIfconfigV() throws {
        var ifconfig = "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384 index 1\n\tinet 127.0.0.1 netmask 0xff000000\n"
        var lsof = "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n"
        for unit in 0..<5 {
            ifconfig += "utun\(unit): flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1280 index \(20 + unit)\n"
                + "\teflags=5002080<TXSTART,NOAUTOIPV6LL,ECN_ENABLE,CHANNEL_DRV>\n"
                + "\tinet6 fe80::\(unit + 1)%utun\(unit) prefixlen 64 scopeid 0x\(String(20 + unit, radix: 16))\n"
                + "\tagent domain:NetworkExtension type:VPN flags:0x8003 desc:\"VPN: Example Secure Tunnel\"\n"
                + "\tstate availability: 0 (true)\n"
            lsof += "nesession 596 root \(12 + unit)u systm 0x\(unit) 0t0 [ctl com.apple.net.utun_control id 9 unit \(unit + 1)]\n"
        }
        let snapshot = try CapturedInventory.build(ifconfig: ifconfig, netstat: nil, lsof: lsof, ps: "PID COMM\n596 /usr/libexec/nesessionmanager\n")
        #expect(snapshot.interfaces.map(\.index) == [1, 20, 21, 22, 23, 24])
        #expect(snapshot.interfaces[1].agentDescriptions == ["VPN: Example Secure Tunnel"])
        let hoard = try #require(Heuristics.assess(snapshot).findings.first { $0.id == FindingID.utunHoard })
        #expect(hoard.evidence.contains("nesessionmanager[596] holds 5 utun interfaces on behalf of \"VPN: Example Secure Tunnel\""))
    }

    @Test func theInterfaceScopedDefaultIsExplainedWhereItIsShown() throws {
        let snapshot = try CapturedInventory.build(
            ifconfig: "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n\tinet6 fe80::1%utun0 prefixlen 64 scopeid 0x12\n",
            netstat: "Internet6:\nDestination Gateway Flags Netif Expire\ndefault fe80::%utun0 UGcIg utun0\n", lsof: nil, ps: nil)
        let assessment = Heuristics.assess(snapshot)
        #expect(assessment.interfaces[0].reason.contains("scoped to it (flag I), as macOS gives every utun"))
        #expect(!assessment.findings.contains { $0.severity != .info })
    }

    /// A whole forum post saved as text: prose in two languages around listings, no prompts.
    static let forumPost = """
    Subject: Internet stops working after quitting my proxy app

    Hi all, since last week my Mac loses connectivity whenever I quit the proxy. Here is what I see:

    utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet6 fe80::e1:22:33:44%utun0 prefixlen 64 scopeid 0xe
    \tnd6 options=201<PERFORMNUD,DAD>
    utun6: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1500
    \tinet 198.18.0.1 --> 198.18.0.1 netmask 0xffffffff

    ルーティングテーブルはこうなっています（プロキシ終了後）:

    Destination        Gateway            Flags               Netif Expire
    default            192.168.1.1        UGScg                 en0
    1                  198.18.0.1         UGSc                utun6
    2/7                198.18.0.1         UGSc                utun6
    4/6                198.18.0.1         UGSc                utun6
    8/5                198.18.0.1         UGSc                utun6
    16/4               198.18.0.1         UGSc                utun6
    32/3               198.18.0.1         UGSc                utun6
    64/2               198.18.0.1         UGSc                utun6
    128.0/1            198.18.0.1         UGSc                utun6

    Danke im Voraus! Any idea what keeps these routes around?
    """

    @Test(arguments: [false, true])
    func aWholeForumPostIsRead(flat: Bool) throws {
        let text = flat ? Self.flattened(Self.forumPost) : Self.forumPost
        let contents = Self.contents(text)
        #expect(contents.interfaces.map(\.name) == ["utun0", "utun6"])
        #expect(contents.routes.count == 9)
        #expect(contents.notes.contains { $0.contains("not tool output") })
        let assessment = Heuristics.assess(CapturedInventory.snapshot(from: contents, label: "post"))
        let split = try #require(assessment.findings.first { $0.id == FindingID.splitDefault })
        #expect(split.ifname == "utun6")
        #expect(split.severity == .info)
        #expect(split.evidence.contains("All IPv4 traffic"))
        #expect(assessment.status != .critical)
    }

    /// Damaged captures (lines dropped, joined, cut, bytes changed) never crash the reader, and
    /// reading stays linear in the input.
    @Test func mutatedCapturesNeverCrashTheReader() {
        var generator = SystemRandomNumberGenerator()
        let seeds = [Self.grepUtun, Self.quotedOldColumns, Self.oneInterfaceAndLsofOfOneProcess, Self.fethWithoutLsof, Self.residue, Self.forumPost]
        for _ in 0..<1500 {
            var bytes = Array(seeds.randomElement(using: &generator)!.utf8)
            for _ in 0..<Int.random(in: 1...8, using: &generator) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<5, using: &generator) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: at)
                case 2: bytes[at] = [0x20, 0x0A, 0x09, 0x00, 0x25, 0x24, 0x7C][Int.random(in: 0..<7, using: &generator)]
                case 3: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...40, using: &generator)))
                default: bytes.insert(contentsOf: Array(" | grep utun $ sudo lsof -nPp 1 ".utf8), at: at)
                }
            }
            let text = CaptureText(file: "fuzz.txt", data: Data(bytes))
            let contents = CaptureReader.read(text)
            _ = Heuristics.assess(CapturedInventory.snapshot(from: contents, label: "fuzz"))
        }
    }

    /// A block whose last word names a value that never comes (`mtu`, `ether`, `status:`, …), with
    /// its header or without: read, not a crash (the reader once stepped past the text's end).
    @Test(arguments: ["mtu", "index", "ether", "peer:", "status:"])
    func aBlockEndingInAValuesNameIsRead(_ last: String) {
        for text in ["inet 10.0.0.1 netmask 0xffffff00 \(last)", "\tinet 10.0.0.1 netmask 0xffffff00\n\t\(last)",
                     "utun3: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> \(last)"] {
            let contents = CaptureReader.read(CaptureText(file: "cut.txt", data: Data(text.utf8)))
            #expect(contents.interfaces.count <= 1, "\(text)")
        }
    }

    @Test func emptyCapturesAreNothingToJudge() throws {
        let snapshot = try CapturedInventory.build(ifconfig: "", netstat: "", lsof: "", ps: "")
        #expect(Heuristics.assess(snapshot).status == .unknown)
    }
}
