import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// What shows an interface gone, and what must not pass for it (round 43): ifconfig's answer
/// that a built-in VPN's `ipsec0`, `ppp0` or GlobalProtect's `gpd0` does not exist (F1), and
/// macOS's `link#N` gateway on the local route of a utun's own address, which names the utun's
/// index and not lo0's (F6).
@Suite struct CaptureGoneProofTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round43/\(name)") }

    /// The finding ids, evidence and commands of an audit, in order.
    static func said(_ assessment: Assessment) -> [[String]] {
        assessment.findings.map { [$0.id, $0.severity.rawValue, $0.ifname ?? "-", $0.evidence] + $0.commands }
    }

    /// A listing of every interface of the same Mac, without the VPN's.
    static let wholeListing = """
        user@MBP ~ % ifconfig -a
        lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
        \tinet 127.0.0.1 netmask 0xff000000
        en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
        \tether 3c:22:fb:11:22:33
        \tinet 192.168.1.23 netmask 0xffffff00 broadcast 192.168.1.255
        \tstatus: active

        """

    static let answer = "user@MBP ~ % ifconfig ipsec0\nifconfig: interface ipsec0 does not exist\n"

    // MARK: F1: ifconfig's answer for names other than utun's

    /// `netstat -rn -f inet`, then `ifconfig ipsec0` answering that it does not exist: the split
    /// (`0/1`, `128.0/1`) or the general default into it blackholes all default traffic, and the
    /// audit says so exactly as it does when a whole `ifconfig -a` lacks the interface. The old
    /// code took only tunnel-style names (`utunN`) as shown gone by the answer, and said OK.
    @Test(arguments: ["ipsec0", "ppp0", "gpd0"], ["ipsec-split-gone.txt", "ipsec-default-gone.txt"])
    func ifconfigsAnswerShowsAVPNInterfaceGone(name: String, file: String) throws {
        let text = try Self.fixture(file).replacingOccurrences(of: "ipsec0", with: name)
        let assessment = CapturePasteTests.assess(text)
        #expect(assessment.status == .critical && assessment.status.exitCode == 2, "\(name) \(file): \(Self.said(assessment))")
        let finding = try #require(assessment.findings.first { $0.id == FindingID.splitDefault }, "\(name) \(file)")
        #expect(finding.ifname == name && finding.severity == .critical)
        #expect(finding.evidence.contains("which no longer exists"))
        // The same verdict, word for word, as the whole listing that lacks it gives.
        let whole = text.swapping(Self.answer.replacingOccurrences(of: "ipsec0", with: name), Self.wholeListing)
        #expect(Self.said(assessment) == Self.said(CapturePasteTests.assess(whole)), "\(name) \(file)")
    }

    /// The commands are those of the whole-listing case: the split rows deleted by destination,
    /// the general default as `default`.
    @Test func theRemovalCommandsAreTheRoutesOwn() throws {
        let split = CapturePasteTests.assess(try Self.fixture("ipsec-split-gone.txt"))
        #expect(split.findings.first { $0.id == FindingID.splitDefault }?.commands
            == ["sudo route -n delete -net 0.0.0.0/1", "sudo route -n delete -net 128.0.0.0/1"], "\(Self.said(split))")
        let general = CapturePasteTests.assess(try Self.fixture("ipsec-default-gone.txt"))
        #expect(general.findings.first { $0.id == FindingID.splitDefault }?.commands == ["sudo route -n delete default"], "\(Self.said(general))")
    }

    /// Controls: the system's own interfaces (`en5`, `bridge100`) are never dead ends, whatever
    /// ifconfig answered of them; and the answer read after a command that may have started the
    /// VPN again (`open -a …`) does not speak for the routes read before it.
    @Test(arguments: ["ipsec-split-gone.txt", "ipsec-default-gone.txt"])
    func theSystemsOwnNamesAndOtherMomentsAreNoOutage(file: String) throws {
        for name in ["en5", "bridge100"] {
            let renamed = CapturePasteTests.assess(try Self.fixture(file).replacingOccurrences(of: "ipsec0", with: name))
            #expect(!renamed.findings.contains { $0.severity == .critical }, "\(name) \(file): \(Self.said(renamed))")
        }
        let between = try Self.fixture(file).swapping("user@MBP ~ % ifconfig ipsec0", "user@MBP ~ % open -a \"Cisco Secure Client\"\nuser@MBP ~ % ifconfig ipsec0")
        #expect(!CapturePasteTests.assess(between).findings.contains { $0.severity == .critical }, "\(file) with a command between")
    }

    // MARK: F6: the local route of a utun's own address

    /// Whether the audit says the two listings were taken at different times.
    static func disagrees(_ assessment: Assessment) -> Bool {
        assessment.snapshot.readingProblems.contains { $0.contains("disagree on interface indexes") }
    }

    /// Tailscale's address on utun4 has the local route `fd7a:115c:a1e0::1234:5678 link#19 UHL
    /// lo0`: `link#19` is utun4's index, not lo0's. With `grep -v fe80` taking out lo0's own
    /// `fe80::1%lo0 link#1` row, the old code took 19 for lo0's index, said ifconfig and netstat
    /// were taken at different times, no longer took the whole listing as proof, and the split
    /// default into the gone utun5 fell from critical to unknown (the status assertion fails).
    @Test(arguments: ["outage-unfiltered.txt", "outage-grep-v-fe80.txt"])
    func theLocalRouteOfATunnelsAddressGivesLoopbackNoIndex(file: String) throws {
        let assessment = CapturePasteTests.assess(try Self.fixture(file))
        #expect(!Self.disagrees(assessment), "\(file): \(assessment.snapshot.readingProblems)")
        #expect(assessment.status == .critical && assessment.status.exitCode == 2, "\(file): \(Self.said(assessment))")
        let finding = try #require(assessment.findings.first { $0.id == FindingID.splitDefault })
        #expect(finding.ifname == "utun5" && finding.severity == .critical)
        #expect(finding.commands == ["sudo route -n delete -net 0.0.0.0/1 10.8.0.1", "sudo route -n delete -net 128.0.0.0/1 10.8.0.1"])
    }

    /// The same Mac without the outage: OK, and no note that the listings disagree.
    @Test func aHealthyFilteredTableHasNoDisagreement() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("healthy-grep-v-fe80.txt"))
        #expect(!Self.disagrees(assessment), "\(assessment.snapshot.readingProblems)")
        #expect(assessment.status == .ok, "\(Self.said(assessment))")
    }

    /// The control: utun4's own rows naming another index than ifconfig's (`link#21` for its
    /// subnet, as after Tailscale re-created it between the two) still disagree.
    @Test func aTunnelsOwnRowsOfAnotherIndexStillDisagree() throws {
        let text = try Self.fixture("healthy-grep-v-fe80.txt")
            .swapping("100.64/10          link#19", "100.64/10          link#21")
            .swapping("100.100.100.100/32 link#19", "100.100.100.100/32 link#21")
        let assessment = CapturePasteTests.assess(text)
        #expect(Self.disagrees(assessment), "\(assessment.snapshot.readingProblems)")
        #expect(assessment.snapshot.readingProblems.contains { $0.contains("utun4: index 19 in ifconfig, 21 in netstat") })
    }

    // MARK: Round 47 F4: a row's Netif over its `link#N`

    /// The routes each listed interface is shown with, by name.
    static func routes(_ assessment: Assessment) -> [String: [Route]] {
        Dictionary(assessment.interfaces.map { ($0.interface.name, $0.routes) }, uniquingKeysWith: { a, _ in a })
    }

    /// jc's real Mojave capture (kellyjonbrazil/jc, osx-10.14.6: `ifconfig` and `netstat -rnl` of
    /// different boots): ifconfig gives utun3 and utun4 indexes 19 and 20, netstat gives them to
    /// VMware's vmnet1 and vmnet8. The listings disagree, so no route is tied across them: the
    /// vmnet rows are never utun3's or utun4's, whatever their `link#N`.
    @Test func aRealCaptureOfTwoBootsTiesNoVmnetRouteToAUtun() throws {
        let text = "kbrazil-mac:~ kbrazil$ ifconfig\n" + (try CaptureProofTests.fixture("round47/jc-mojave-ifconfig.txt"))
            + "kbrazil-mac:~ kbrazil$ netstat -rnl\n" + (try CaptureProofTests.fixture("round47/jc-mojave-netstat-rnl.txt"))
        let assessment = CapturePasteTests.assess(text)
        #expect(Self.disagrees(assessment), "\(assessment.snapshot.readingProblems)")
        for (name, routes) in Self.routes(assessment) where name.hasPrefix("utun") {
            let foreign = routes.filter { $0.nextHops.contains { $0.interfaceName != nil && $0.interfaceName != name } }
            #expect(foreign.isEmpty, "\(name): \(foreign.map(\.display))")
        }
        #expect(!Self.routes(assessment)["utun3", default: []].contains { $0.destination.description == "192.168.101.0/24" })
        #expect(!Self.routes(assessment)["utun4", default: []].contains { $0.destination.description == "192.168.71.0/24" })
    }

    /// The shape of round 47's repro: `192.168.101 link#6 UC vmnet1` where ifconfig gave utun1
    /// index 6; and a dead tunnel's `0/1 link#6 UCS utun7` there, which is utun7's, never the
    /// live utun1's.
    @Test(arguments: ["192.168.101        link#6             UC          vmnet1      !", "0/1                link#6             UCS          utun7"])
    func aLinkIndexOfAnotherListedInterfaceIsNotTied(row: String) {
        let text = """
            % ifconfig -a
            lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
            \tinet 127.0.0.1 netmask 0xff000000
            \tinet6 ::1 prefixlen 128
            \tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1
            gif0: flags=8010<POINTOPOINT,MULTICAST> mtu 1280
            stf0: flags=0<> mtu 1280
            en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
            \tether f0:18:98:03:d9:30
            \tinet6 fe80::8b7:1281:7499:b504%en0 prefixlen 64 secured scopeid 0x4
            \tinet 192.168.1.72 netmask 0xffffff00 broadcast 192.168.1.255
            \tstatus: active
            utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 2000
            \tinet6 fe80::cec:23d0:8cf7:c88e%utun0 prefixlen 64 scopeid 0x5
            utun1: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
            \tinet6 fe80::cf42:647e:9077:7bcb%utun1 prefixlen 64 scopeid 0x6
            % netstat -rn -f inet
            Routing tables

            Internet:
            Destination        Gateway            Flags        Netif Expire
            default            192.168.1.254      UGSc           en0
            127                127.0.0.1          UCS            lo0
            192.168.1          link#4             UCS            en0      !
            \(row)
            % 
            """
        let assessment = CapturePasteTests.assess(text)
        #expect(Self.disagrees(assessment), "\(assessment.snapshot.readingProblems)")
        #expect(Self.routes(assessment)["utun1"] == [], "\(Self.routes(assessment)["utun1"]?.map(\.display) ?? [])")
        if row.contains("utun7") {
            #expect(Self.routes(assessment)["utun7"]?.map(\.destination.description) == ["0.0.0.0/1"], "\(Self.routes(assessment))")
            #expect(assessment.status != .ok)
        }
    }
}
