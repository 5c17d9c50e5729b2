import Foundation
import Testing
@testable import Inventory
import TunwardenCore

/// The macOS parsers against real output (shared/fixtures/darwin, copied into Fixtures/), the same
/// output with its line breaks lost, and output written from the formats.
@Suite struct DarwinParserTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "txt"))
        return String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    /// The listing as it arrives pasted from a forum: one line.
    static func flattened(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    @Test(arguments: [false, true])
    func ifconfigUtunListing(flat: Bool) throws {
        var text = try Self.fixture("ifconfig-a-utun")
        if flat { text = Self.flattened(text) }
        let entries = try DarwinParsers.ifconfig(text)
        #expect(entries.map(\.name) == ["lo0", "en0", "en1", "utun0", "utun1", "utun3"])
        let utun0 = entries[3]
        #expect(utun0.flags == ["UP", "POINTOPOINT", "RUNNING", "MULTICAST"])
        #expect(utun0.mtu == 1380)
        #expect(utun0.scopeID == 0xf)
        #expect(utun0.addresses.map(\.display) == ["fe80::652e:88dd:ddb0:ad93/64"])
        #expect(utun0.addresses.first?.isLinkLocal == true)
        let utun3 = entries[5]
        #expect(utun3.addresses.map(\.display) == ["10.8.0.18 peer 10.8.0.17/32"])
        let en0 = entries[1]
        #expect(en0.ether == "d4:57:63:da:b6:98")
        #expect(en0.status == "active")
        #expect(en0.addresses.map(\.display).contains("192.168.2.15/24"))
        #expect(entries[0].addresses.map(\.display) == ["127.0.0.1/8", "::1/128", "fe80::1/64"])
    }

    @Test(arguments: [false, true])
    func ifconfigFethPair(flat: Bool) throws {
        var text = try Self.fixture("ifconfig-feth-pair")
        if flat { text = Self.flattened(text) }
        let entries = try DarwinParsers.ifconfig(text)
        #expect(entries.map(\.name) == ["feth8846", "feth3846"])
        #expect(entries.map(\.peer) == ["feth3846", "feth8846"])
        #expect(entries[1].addresses.map(\.display) == ["10.147.20.93/24"])
        #expect(entries[1].mtu == 2800)
    }

    @Test(arguments: [false, true])
    func netstatSplitDefault(flat: Bool) throws {
        var text = try Self.fixture("netstat-rnf-inet-split-default")
        if flat { text = Self.flattened(text) }
        let rows = try DarwinParsers.netstat(text)
        #expect(rows.count == 18)
        let tunnel = rows.filter { $0.netif == "utun33" && !$0.flags.contains("H") }.map(\.destination.description)
        #expect(tunnel == ["1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/5", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"])
        #expect(rows[0].destination.description == "0.0.0.0/0")
        #expect(rows.contains { $0.destination.description == "127.0.0.0/8" && $0.netif == "lo0" })
        #expect(rows.contains { $0.destination.description == "169.254.0.0/16" && $0.gateway == nil })
        #expect(rows.contains { $0.destination.description == "192.168.88.0/24" })
        #expect(rows.contains { $0.destination.description == "192.168.88.1/32" && $0.flags == "UHLWIir" && $0.gateway == nil })
        #expect(rows.last?.destination.description == "198.18.0.1/32")
    }

    @Test func netstatBothFamiliesWithScopedAddresses() throws {
        let text = """
        Routing tables

        Internet:
        Destination        Gateway            Flags               Netif Expire
        0/1                10.8.0.17          UGSc                utun3
        128.0/1            10.8.0.17          UGSc                utun3

        Internet6:
        Destination                             Gateway                                 Flags               Netif Expire
        default                                 fe80::%utun0                            UGcIg               utun0
        fe80::%utun0/64                         fe80::652e:88dd:ddb0:ad93%utun0         UcI                 utun0
        ff00::/8                                ::1                                     UmCI                lo0
        """
        let rows = try DarwinParsers.netstat(text)
        #expect(rows.map(\.destination.description) == ["0.0.0.0/1", "128.0.0.0/1", "::/0", "fe80::/64", "ff00::/8"])
        #expect(rows[2].gateway?.description == "fe80::%utun0")
        #expect(rows[3].netif == "utun0")
    }

    @Test func lsofUtunHolders() throws {
        let text = """
        COMMAND     PID USER   FD     TYPE             DEVICE SIZE/OFF NODE NAME
        teleprese 71881 root    7u    systm 0x4715bfb02f5e8bd7      0t0      [ctl com.apple.net.utun_control id 4 unit 4]
        nesession   596 root   12u    systm 0x4715bfb02f5e8cd7      0t0      [ctl com.apple.net.utun_control id 4 unit 1]
        nesession   596 root   13u    systm 0x4715bfb02f5e8ad7      0t0      [ctl com.apple.net.utun_control id 4 unit 2]
        launchd       1 root  cwd      DIR               1,18      640    2 /
        """
        for input in [text, Self.flattened(text)] {
            let holders = try DarwinParsers.lsof(input)
            #expect(holders.map(\.ifname) == ["utun3", "utun0", "utun1"])
            #expect(holders.map(\.pid) == [71881, 596, 596])
            #expect(holders[0].command == "teleprese")
        }
    }

    @Test func psProcesses() throws {
        let text = "  PID COMM\n    1 /sbin/launchd\n  596 /usr/libexec/nesessionmanager\n 7011 /Library/Application Support/ZeroTier/One/zerotier-one\n"
        for input in [text, Self.flattened(text)] {
            let processes = try DarwinParsers.ps(input)
            #expect(processes[1] == "/sbin/launchd")
            #expect(processes[7011] == "/Library/Application Support/ZeroTier/One/zerotier-one")
            #expect(processes.count == 3)
        }
    }

    @Test func inputWithNothingReadableIsRefusedAndDamagedRowsAreSkippedWithTheirLine() throws {
        #expect(throws: CaptureParseError.self) { try DarwinParsers.ifconfig("hello world") }
        #expect(throws: CaptureParseError.self) { try DarwinParsers.netstat("total garbage here now") }
        #expect(throws: CaptureParseError.self) { try DarwinParsers.lsof("not lsof at all") }
        #expect(throws: CaptureParseError.self) { try DarwinParsers.ps("hello there, no processes here") }
        #expect(try DarwinParsers.ifconfig("").isEmpty)
        let text = "utun0: flags=8051<UP> mtu 1380\n\tinet 999.1.1.1 netmask 0xffffffff\n\tinet 10.0.0.1 netmask 0xff00ff00\n\tinet 10.0.0.2 netmask 0xffffff00\n"
        let contents = CaptureReader.read(CaptureText(file: "ifconfig.txt", text: text), expecting: .ifconfig)
        #expect(contents.interfaces.map(\.name) == ["utun0"])
        #expect(contents.interfaces[0].addresses.map(\.display) == ["10.0.0.2/24"])
        #expect(contents.problems.count == 2)
        #expect(contents.problems[0].hasPrefix("ifconfig.txt:2: '999.1.1.1' after inet (utun0) is not an IPv4 address"))
        #expect(contents.problems[1].hasPrefix("ifconfig.txt:3: netmask 0xff00ff00 (utun0) is not a contiguous hex netmask"))
        let routes = CaptureReader.read(CaptureText(file: "netstat.txt", text: "Destination Gateway Flags Netif Expire\n1/99 10.0.0.1 UGSc utun3\n0/1 10.0.0.1 UGSc utun3\n"),
                                        expecting: .netstat)
        #expect(routes.routes.map(\.destination.description) == ["0.0.0.0/1"])
        #expect(routes.problems == ["netstat.txt:2: destination '1/99' is not an address or prefix; row skipped"])
    }

    @Test func randomGarbageNeverCrashesTheParsers() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("utun0123456789:.%/#<>[]-=, \nflagsmtuinetpeernetmask0xffdefaultlink#UGSc")
        for _ in 0..<3000 {
            let text = String((0..<Int.random(in: 0..<120, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            _ = try? DarwinParsers.ifconfig(text)
            _ = try? DarwinParsers.netstat(text)
            _ = try? DarwinParsers.lsof(text)
            _ = try? DarwinParsers.ps(text)
        }
    }
}

/// Whole captured snapshots through the shared heuristics.
@Suite struct CapturedSnapshotTests {
    let ifconfig = """
    lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
    \tinet 127.0.0.1 netmask 0xff000000
    en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
    \tinet 192.168.2.15 netmask 0xffffff00 broadcast 192.168.2.255
    utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet6 fe80::1%utun0 prefixlen 64 scopeid 0xf
    utun1: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet6 fe80::2%utun1 prefixlen 64 scopeid 0x10
    utun2: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet6 fe80::3%utun2 prefixlen 64 scopeid 0x11
    utun3: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1500
    \tinet 10.8.0.18 --> 10.8.0.17 netmask 0xffffffff
    """
    let netstat = """
    Internet:
    Destination Gateway Flags Netif Expire
    default 192.168.2.1 UGScg en0
    0/1 10.8.0.17 UGSc utun3
    128.0/1 10.8.0.17 UGSc utun3
    Internet6:
    Destination Gateway Flags Netif Expire
    default fe80::%utun0 UGcIg utun0
    fe80::%utun0/64 fe80::1%utun0 UcI utun0
    default fe80::%utun1 UGcIg utun1
    fe80::%utun1/64 fe80::2%utun1 UcI utun1
    fe80::%utun2/64 fe80::3%utun2 UcI utun2
    """
    let lsof = """
    COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME
    nesession 596 root 12u systm 0x1 0t0 [ctl com.apple.net.utun_control id 4 unit 1]
    nesession 596 root 13u systm 0x2 0t0 [ctl com.apple.net.utun_control id 4 unit 2]
    nesession 596 root 14u systm 0x3 0t0 [ctl com.apple.net.utun_control id 4 unit 3]
    openvpn 880 root 9u systm 0x4 0t0 [ctl com.apple.net.utun_control id 4 unit 4]
    """
    let ps = "PID COMM\n1 /sbin/launchd\n596 /usr/libexec/nesessionmanager\n880 /usr/local/sbin/openvpn\n"

    @Test func hoardAndLiveSplitDefault() throws {
        let snapshot = try CapturedInventory.build(ifconfig: ifconfig, netstat: netstat, lsof: lsof, ps: ps)
        let a = Heuristics.assess(snapshot)
        #expect(a.interfaces.map(\.state) == [.live, .live, .live, .live])
        #expect(a.interfaces.first { $0.interface.name == "utun3" }?.holders.map(\.display) == ["openvpn[880]"])
        let hoard = try #require(a.findings.first { $0.id == "utun-hoard" })
        #expect(hoard.severity == .warning)
        #expect(hoard.reapable)
        #expect(hoard.evidence.hasPrefix("nesessionmanager[596] holds 3 utun interfaces, 3 of them idle"))
        let hoarded = (hoard.routes ?? []).map { "\($0.nextHops.first?.interfaceName ?? "?") \($0.display)" }.sorted()
        #expect(hoarded == ["utun0 default (::/0) via fe80::%utun0", "utun0 fe80::/64", "utun1 default (::/0) via fe80::%utun1",
                            "utun1 fe80::/64", "utun2 fe80::/64"])
        let split = try #require(a.findings.first { $0.id == "split-default" })
        #expect(split.severity == .info)
        #expect(split.ifname == "utun3")
        #expect(split.evidence.contains("held by openvpn[880]"))
        #expect(a.status == .warning)
    }

    @Test func aUtunHeldAloneIsNeverFlagged() throws {
        let snapshot = try CapturedInventory.build(ifconfig: ifconfig, netstat: netstat,
                                                   lsof: "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n" + lsof.split(separator: "\n").suffix(1).joined(), ps: ps,
                                                   whole: true)
        let a = Heuristics.assess(snapshot)
        #expect(!a.findings.contains { $0.id == "utun-hoard" })
        #expect(a.interfaces.first { $0.interface.name == "utun3" }?.state == .live)
        // Without a holder in a root lsof, a utun is unknown, never orphaned.
        #expect(a.interfaces.first { $0.interface.name == "utun0" }?.state == .unknown)
    }

    @Test func fethOwnerRunningMeansLive() throws {
        let feth = try DarwinParserTests.fixture("ifconfig-feth-pair")
        let owned = Heuristics.assess(try CapturedInventory.build(ifconfig: feth, netstat: nil, lsof: nil,
                                                                  ps: "PID COMM\n7011 /Library/Application Support/ZeroTier/One/zerotier-one\n"))
        #expect(owned.interfaces.allSatisfy { $0.state == .live })
        #expect(!owned.findings.contains { $0.id == "orphaned-feth" })
        let orphaned = Heuristics.assess(try CapturedInventory.build(ifconfig: feth, netstat: nil, lsof: nil, ps: "PID COMM\n1 /sbin/launchd\n"))
        #expect(orphaned.findings.filter { $0.id == "orphaned-feth" && $0.reapable }.compactMap(\.ifname) == ["feth8846", "feth3846"])
        // The live Mac's own outputs, whole and of one moment, decide as a capture does.
        let live = Heuristics.assess(try CapturedInventory.build(ifconfig: feth, netstat: nil, lsof: nil, ps: "PID COMM\n1 /sbin/launchd\n", whole: true))
        #expect(live.findings.filter { $0.id == "orphaned-feth" && $0.reapable }.compactMap(\.ifname) == ["feth8846", "feth3846"])
        let unknown = Heuristics.assess(try CapturedInventory.build(ifconfig: feth, netstat: nil, lsof: nil, ps: nil))
        #expect(unknown.interfaces.allSatisfy { $0.state == .unknown })
        #expect(unknown.status == .unknown)
    }

    @Test func splitDefaultIntoAVanishedTunnelIsCritical() throws {
        // The real table was taken with utun33 up: its point-to-point host route (`198.18.0.1
        // 198.18.0.1 UH utun33`) goes with the interface. Beside a listing that lacks utun33, it
        // only says the two were taken at different moments, and nothing is critical.
        let real = try DarwinParserTests.fixture("netstat-rnf-inet-split-default")
        let both = Heuristics.assess(try CapturedInventory.build(ifconfig: ifconfig, netstat: real, lsof: lsof, ps: ps))
        #expect(!both.findings.contains { $0.severity == .critical }, "\(both.findings.map(\.evidence))")
        #expect(both.interfaces.first { $0.interface.name == "utun33" }?.state == .unknown)
        // Its static routes alone, left after utun33 went, are a blackhole.
        let routes = real.split(separator: "\n").filter { !$0.hasPrefix("198.18.0.1 198.18.0.1 UH") }.joined(separator: "\n")
        let a = Heuristics.assess(try CapturedInventory.build(ifconfig: ifconfig, netstat: routes, lsof: lsof, ps: ps))
        let split = try #require(a.findings.first { $0.id == "split-default" && $0.ifname == "utun33" })
        #expect(split.severity == .critical)
        #expect(split.evidence.contains("which no longer exists"))
        #expect(a.status == .critical)
        // Without ifconfig output nothing is known to be missing: utun33 is seen only in routes,
        // whether it is alive is unknown, and nothing is critical.
        let blind = Heuristics.assess(try CapturedInventory.build(ifconfig: nil, netstat: routes, lsof: nil, ps: nil))
        #expect(blind.findings.first { $0.id == "split-default" }?.severity == .info)
        #expect(blind.findings.first { $0.id == "split-default" }?.evidence.contains("unknown from this capture") == true)
        #expect(blind.interfaces.first { $0.interface.name == "utun33" }?.state == .unknown)
        #expect(blind.findings.contains { $0.id == "capture-missing" })
    }
}
