import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A transcript's listings are one moment only when nothing that changes the tables ran between
/// them: a VPN started after `ifconfig -a` makes a tunnel that listing could not show.
@Suite struct CaptureMomentTests {
    static let ifconfig = "user@mbp ~ % ifconfig -a\n" + CapturePasteTests.loAndEn0 + "\n"
    static let netstat = """
    user@mbp ~ % netstat -rn -f inet
    Routing tables

    Internet:
    Destination        Gateway            Flags               Netif Expire
    0/1                10.66.66.1         UGSc                utun6
    default            192.168.2.1        UGScg                 en0
    128.0/1            10.66.66.1         UGSc                utun6

    """

    /// Commands that start or stop a tunnel, or change routes, between the two listings.
    @Test(arguments: [
        "user@mbp ~ % sudo wg-quick up wg0\n[+] Interface for wg0 is utun6\n[#] route -q -n add -inet 0.0.0.0/1 -interface utun6\n",
        "user@mbp ~ % open -a \"ClashX Pro\"\n",
        "user@mbp ~ % sudo openvpn --config client.ovpn --daemon\n",
        "user@mbp ~ % sudo route -n add -net 0.0.0.0/1 10.66.66.1\nadd net 0.0.0.0: gateway 10.66.66.1\n",
        "user@mbp ~ % scutil --nc start \"Work VPN\"\n",
        "user@mbp ~ % sudo ifconfig utun6 up\n",
    ])
    func aTunnelMadeBetweenTheListingsIsNotGone(between: String) {
        let assessment = CapturePasteTests.assess(Self.ifconfig + between + Self.netstat)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(between)")
        // Listed again after the command, the listing speaks for the routes' moment.
        let again = CapturePasteTests.assess(Self.ifconfig + between + Self.ifconfig + Self.netstat)
        #expect(again.status == .critical, "\(between) then ifconfig -a again")
    }

    /// Reading commands between them change nothing: the tunnel missing from a whole listing
    /// is gone.
    @Test(arguments: ["user@mbp ~ % route -n get default\n   route to: default\n  interface: en0\n", "user@mbp ~ % sw_vers\nProductName:\tmacOS\n",
                      "user@mbp ~ % ping -c 1 1.1.1.1\nPING 1.1.1.1 (1.1.1.1): 56 data bytes\n", "user@mbp ~ % ifconfig en0\n", ""])
    func readingBetweenTheListingsKeepsOneMoment(between: String) {
        let assessment = CapturePasteTests.assess(Self.ifconfig + between + Self.netstat)
        #expect(assessment.status == .critical, "\(between): \(assessment.findings.map(\.evidence))")
    }

    /// A second round of listings is the table of now: a tunnel only the first `ifconfig -a`
    /// showed is gone by the second, and routes still naming it lead nowhere.
    @Test(arguments: ["user@mbp ~ % sudo killall -9 ClashX\n", "ClashX crashed here, then I ran the same commands again:\n"])
    func aLaterRoundOfListingsIsTheTableOfNow(between: String) {
        let withTunnel = Self.ifconfig.replacingOccurrences(of: "\tstatus: active", with: "\tstatus: active\nutun6: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1500\n\tinet 10.66.66.2 --> 10.66.66.1 netmask 0xffffffff")
        let assessment = CapturePasteTests.assess(withTunnel + Self.netstat + between + Self.ifconfig + Self.netstat)
        #expect(assessment.status == .critical, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.interfaces.contains { $0.interface.name == "utun6" && $0.state == .live })
        // The first round alone, or both rounds with the tunnel in each, is a live tunnel.
        #expect(CapturePasteTests.assess(withTunnel + Self.netstat + between + withTunnel + Self.netstat).status == .ok)
    }

    /// Every process at another moment than the feth pair's listing says nothing of whether
    /// ZeroTier runs with it.
    @Test func aPsListingOfAnotherMomentDecidesNoFeth() {
        let ps = "user@mbp ~ % ps auxww\nUSER               PID  %CPU %MEM      VSZ    RSS   TT  STAT STARTED      TIME COMMAND\n"
            + CaptureOwnerTests.launchd + "\n"
        let pair = CaptureOwnerTests.pair("feth1207", "feth6207", psRows: []).components(separatedBy: "% ps auxww")[0]
        let later = ps + "user@mbp ~ % sudo launchctl load /Library/LaunchDaemons/com.zerotier.one.plist\n" + pair
        #expect(!CapturePasteTests.assess(later).findings.contains { $0.id == FindingID.orphanedFeth })
        #expect(CapturePasteTests.assess(ps + pair).findings.contains { $0.id == FindingID.orphanedFeth })
    }

    /// ping's `100.0% packet loss` ends in `%` like a zsh prompt but is output: the listings
    /// around it stay one moment.
    @Test func aPercentageIsNotAPrompt() {
        let ping = "user@mbp ~ % ping -c 2 1.1.1.1\nPING 1.1.1.1 (1.1.1.1): 56 data bytes\nRequest timeout for icmp_seq 0\n\n--- 1.1.1.1 ping statistics ---\n2 packets transmitted, 0 packets received, 100.0% packet loss\n"
        #expect(CapturePasteTests.assess(Self.ifconfig + ping + Self.netstat).status == .critical)
        #expect(!ShellCommand.isPrompt("100.0%") && !ShellCommand.isPrompt("50%") && ShellCommand.isPrompt("%") && ShellCommand.isPrompt("host%"))
    }

    @Test func whichCommandsMayChangeTheTables() throws {
        func command(_ line: String) throws -> ShellCommand {
            let text = CaptureText(file: "t", text: "% " + line)
            return try #require(ShellCommand.recognize(in: text, at: 0), "\(line)")
        }
        for line in ["wg-quick up wg0", "open -a Tailscale", "sudo route delete default", "ifconfig feth0 create", "networksetup -setv6off Wi-Fi",
                     "launchctl kickstart -k system/com.zerotier.one", "tunwarden reap --from x", "killall openvpn", "tailscale up",
                     "brew services restart zerotier-one", "pfctl -f /etc/pf.conf", "ipconfig set en0 DHCP"] {
            #expect(try command(line).mayChangeTables, "\(line)")
        }
        for line in ["route -n get default", "ifconfig utun3", "netstat -rn", "sudo lsof -nP", "ps auxww", "scutil --nc list", "networksetup -listallnetworkservices",
                     "launchctl list", "cat /etc/hosts", "tunwarden audit", "tailscale status", "brew services list", "pfctl -s rules",
                     "ipconfig getifaddr en0"] {
            #expect(try !command(line).mayChangeTables, "\(line)")
        }
    }
}
