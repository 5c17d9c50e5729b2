import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Holders and device states read across a command that may change interfaces (a VPN restarted
/// or reconnected, time let pass) say nothing of the earlier listing's interfaces: XNU gives a
/// new utun the lowest free unit, so a VPN that reconnects after its daemon was killed takes the
/// numbers the leaked utuns had, and Tunnelblick reopens `/dev/tun0` that an earlier `ifconfig`
/// showed `closed`. Nothing of such a pairing may be planned away.
@Suite struct CaptureReconnectTests {
    /// The session's commands between `netstat -rn` and `sudo lsof -nP | grep utun_control`.
    static let reconnect = """
    jane@MacBook-Pro ~ % sudo killall -9 nesessionmanager
    Password:
    jane@MacBook-Pro ~ % scutil --nc start "WireGuard"
    jane@MacBook-Pro ~ % scutil --nc status "WireGuard" | head -1
    Connected

    """

    /// The fixture (ifconfig -a and netstat -rn with utun4–6 leaked; then a reconnect; then lsof
    /// showing a new nesessionmanager with units 5–7, unit 7 shared with WireGuard's provider)
    /// with `between` in place of the reconnect.
    static func session(between: String) throws -> String {
        let text = try CaptureProofTests.fixture("nesession-lsof-after-reconnect.txt")
        #expect(text.contains(reconnect))
        return text.replacingOccurrences(of: reconnect, with: between)
    }

    /// Commands that may change which process holds which utun, or let time pass in which a VPN
    /// may reconnect.
    static let changes = [
        reconnect, "jane@MacBook-Pro ~ % sleep 600\n", "jane@MacBook-Pro ~ % open -a WireGuard\n",
        "jane@MacBook-Pro ~ % sudo launchctl kickstart -k system/com.apple.nesessionmanager\n",
        "jane@MacBook-Pro ~ % ping -c 5 -i 60 1.1.1.1\n", "jane@MacBook-Pro ~ % sudo wg-quick up wg0\n",
    ]

    @Test(arguments: changes)
    func holdersReadAcrossAChangeAreTiedToNoListedUtun(between: String) throws {
        let text = try Self.session(between: between)
        let assessment = CapturePasteTests.assess(text)
        #expect(!assessment.findings.contains { $0.id == FindingID.utunHoard }, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(CaptureHoardTests.reapCommands(text).isEmpty, "\(between): \(CaptureHoardTests.reapCommands(text))")
        for name in ["utun4", "utun5", "utun6"] {
            let unit = try #require(assessment.interfaces.first { $0.interface.name == name })
            #expect(unit.holders.isEmpty && !unit.holdersKnown && unit.state != .orphaned, "\(between): \(name) \(unit.state) \(unit.holders)")
            #expect(unit.reason.contains("lsof was taken at another moment than the interface listing"), "\(between): \(unit.reason)")
        }
        // Said without --verbose, with the units it concerns.
        let problem = assessment.snapshot.readingProblems.first { $0.contains("lsof") }
        #expect(problem?.contains("utun4, utun5, utun6") == true && problem?.contains("another moment") == true, "\(assessment.snapshot.readingProblems)")
    }

    /// Listed again after the change, the utuns are of lsof's moment, and its holders are theirs.
    @Test func aListingOfLsofsMomentTiesItsHolders() throws {
        let text = try CaptureProofTests.fixture("nesession-lsof-after-reconnect.txt")
        let listing = try #require(text.range(of: "jane@MacBook-Pro ~ % netstat -rn"))
        let again = text.replacingOccurrences(of: "jane@MacBook-Pro ~ % sudo lsof", with: String(text[..<listing.lowerBound]) + "jane@MacBook-Pro ~ % sudo lsof")
        let assessment = CapturePasteTests.assess(again)
        #expect(assessment.interfaces.first { $0.interface.name == "utun4" }?.holders.map(\.display) == ["nesessionmanager[9120]"])
        #expect(assessment.findings.contains { $0.id == FindingID.utunHoard }, "\(assessment.findings.map(\.evidence))")
    }

    /// lsof first, the interface listings after the change: the same.
    @Test func holdersReadBeforeAChangeAreTiedToNoLaterListing() throws {
        let text = try CaptureProofTests.fixture("nesession-lsof-after-reconnect.txt")
        let lsof = try #require(text.range(of: "jane@MacBook-Pro ~ % sudo lsof"))
        let reordered = String(text[lsof.lowerBound...]).replacingOccurrences(of: "jane@MacBook-Pro ~ % \n", with: "")
            + "jane@MacBook-Pro ~ % sleep 600\n" + String(text[..<lsof.lowerBound]).replacingOccurrences(of: Self.reconnect, with: "")
        let assessment = CapturePasteTests.assess(reordered)
        #expect(!assessment.findings.contains { $0.id == FindingID.utunHoard }, "\(assessment.findings.map(\.evidence))")
        #expect(CaptureHoardTests.reapCommands(reordered).isEmpty)
    }

    /// The control: lsof of the listings' moment ties its holders to them. A unit that another
    /// process holds too (WireGuard's provider, which nesessionmanager handed the utun) is in use
    /// by it, not an idle member of the hoard; its routes stay.
    @Test func holdersOfTheListingsMomentAreTiedToThem() throws {
        let text = try Self.session(between: "")
        let assessment = CapturePasteTests.assess(text)
        let hoard = try #require(assessment.findings.first { $0.id == FindingID.utunHoard }, "\(assessment.findings.map(\.evidence))")
        #expect(hoard.evidence.contains("nesessionmanager[9120] holds 3 utun interfaces, 2 of them idle (no address or route beyond link-local): utun4, utun5."), "\(hoard.evidence)")
        #expect(hoard.evidence.contains("utun6 is held by com.wireg[9188] too"), "\(hoard.evidence)")
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(commands.count == 4 && !commands.contains { $0.contains("utun6") }, "\(commands)")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.holders.map(\.display) == ["nesessionmanager[9120]", "com.wireg[9188]"])
    }

    /// nesessionmanager holds utun4–7: utun6 has a ULA address, utun7 is WireGuard's provider's
    /// too. The pile is its own three, two of them idle: a hoard, whose plan leaves utun6 and utun7
    /// alone (utun7 was once an idle unit, its link-local routes planned away).
    @Test func aSharedUnitIsNoIdleUnitButLeavesThePileAHoard() throws {
        let text = try CaptureProofTests.fixture("nesession-hoard-shared-unit.txt")
        let hoard = try #require(CapturePasteTests.assess(text).findings.first { $0.id == FindingID.utunHoard })
        #expect(hoard.evidence.contains("nesessionmanager[448] holds 4 utun interfaces, 2 of them idle (no address or route beyond link-local): utun4, utun5."), "\(hoard.evidence)")
        #expect(hoard.evidence.contains("utun7 is held by com.wireg[1561] too, which uses it."), "\(hoard.evidence)")
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(commands.count == 4 && !commands.contains { $0.contains("utun6") || $0.contains("utun7") }, "\(commands)")
    }

    /// A plan item's holders agree with their verb: one holder closes it, two close it.
    @Test func thePlanSaysWhoClosesAUtunInGoodGrammar() {
        var utun = NetworkInterface(index: 21, name: "utun6", kind: .utun)
        utun.addresses = []
        let route = Route(destination: IPPrefix("fe80::/64")!, nextHops: [NextHop(gateway: nil, interfaceIndex: 21, interfaceName: "utun6")])
        let two = ReapItem(action: .removeRoutes, interface: utun, evidence: "", orphanedSince: nil, routes: [route],
                           holders: [Holder(pid: 9120, comm: "nesession"), Holder(pid: 9188, comm: "com.wireg")])
        #expect(ReapPlan.describe(two, now: Date(), conditional: true).hasSuffix("until nesession[9120] and com.wireg[9188] close it"))
        var one = two
        one.holders.removeLast()
        #expect(ReapPlan.describe(one, now: Date(), conditional: true).hasSuffix("until nesession[9120] closes it"))
    }

    /// The hoard judged from `ifconfig -a` and lsof of one moment, then a change, then
    /// `netstat -rn`: the link-local routes read are those of whatever tunnels have the units
    /// now (a tunnel still connecting has only those), so none is planned away, and the finding
    /// says why. With nothing between, the routes are the listing's and are planned.
    @Test(arguments: ["jane@MacBook-Pro ~ % sudo killall -9 nesessionmanager\n", "jane@MacBook-Pro ~ % sleep 600\n",
                      "jane@MacBook-Pro ~ % /Applications/WireGuard.app/Contents/MacOS/WireGuard &\n",
                      "jane@MacBook-Pro ~ % sudo launchctl kickstart -k system/com.apple.nesessionmanager\n"])
    func routesReadAfterAChangeAreNoIdleUnitsRoutes(between: String) throws {
        let text = try CaptureProofTests.fixture("nesession-routes-after-killall.txt")
        let change = "jane@MacBook-Pro ~ % sudo killall -9 nesessionmanager\n"
        #expect(text.contains(change))
        let assessment = CapturePasteTests.assess(text.replacingOccurrences(of: change, with: between))
        #expect(CaptureHoardTests.reapCommands(text.replacingOccurrences(of: change, with: between)).isEmpty, "\(between)")
        let hoard = assessment.findings.first { $0.id == FindingID.utunHoard }
        #expect(hoard?.reapable != true && hoard?.evidence.contains("at another moment than its listing") == true, "\(between): \(hoard?.evidence ?? "no hoard")")
        let control = text.replacingOccurrences(of: change, with: "jane@MacBook-Pro ~ % echo done\ndone\n")
        #expect(!CaptureHoardTests.reapCommands(control).isEmpty)
    }

    // MARK: tuntaposx

    /// Tunnelblick's tun0 shown `closed` before a reconnect, the routes read after it: they are
    /// the new session's, and nothing is planned away.
    @Test(arguments: [
        "MacBook-Pro:~ bob$ open -a Tunnelblick\nMacBook-Pro:~ bob$ sleep 20\n",
        "MacBook-Pro:~ bob$ osascript -e 'tell application \"Tunnelblick\" to connect \"work\"'\ntrue\n",
        "MacBook-Pro:~ bob$ sleep 20\n",
        "MacBook-Pro:~ bob$ sudo openvpn --config ~/work.ovpn --daemon\n",
        // An app started by its path, capitals, blanks and all: an unknown command, which may
        // have opened the device again.
        "MacBook-Pro:~ bob$ /Applications/Tunnelblick.app/Contents/MacOS/Tunnelblick &\n[1] 4242\n",
        "MacBook-Pro:~ bob$ /Applications/Tunnelblick.app/Contents/MacOS/Tunnelblick\n",
        "MacBook-Pro:~ bob$ \"/Library/Application Support/Tunnelblick/Shared/openvpnstart\" start work.tblk 0\n",
        "MacBook-Pro:~ bob$ /Library/Application\\ Support/Tunnelblick/Shared/openvpnstart start work.tblk 0\n",
        "MacBook-Pro:~ bob$ ~/Downloads/OpenVPN-Reconnect\n",
        "MacBook-Pro:~ bob$ OpenVPNConnect --connect work\n",
    ])
    func aClosedStatusSaysNothingOfRoutesReadAfterAChange(between: String) throws {
        let text = try CaptureProofTests.fixture("tunnelblick-closed-then-reconnect.txt")
            .replacingOccurrences(of: "MacBook-Pro:~ bob$ open -a Tunnelblick\nMacBook-Pro:~ bob$ sleep 20\n", with: between)
        let assessment = CapturePasteTests.assess(text)
        let tun0 = try CaptureTuntaposxTests.verdict(assessment)
        #expect(tun0.state == .unknown && !tun0.holdersKnown, "\(between): \(tun0.state) \(tun0.reason)")
        #expect(tun0.reason.contains("said `closed` at another moment than the routes into it were read"), "\(between): \(tun0.reason)")
        #expect(!assessment.findings.contains { $0.severity == .critical || $0.reapable }, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty)
    }

    /// The control: with nothing between, `closed` speaks for the routes, and they are planned away
    /// (without the session's ps, whose running openvpn doubts it: round 37 F4).
    @Test func aClosedStatusOfTheRoutesMomentStands() throws {
        let text = CaptureShellSyntaxTests.withoutPs(try CaptureProofTests.fixture("tunnelblick-closed-then-reconnect.txt"))
            .replacingOccurrences(of: "MacBook-Pro:~ bob$ open -a Tunnelblick\nMacBook-Pro:~ bob$ sleep 20\n", with: "")
        let assessment = CapturePasteTests.assess(text)
        #expect(try CaptureTuntaposxTests.verdict(assessment).state == .orphaned)
        #expect(assessment.status == .critical)
        #expect(CaptureTuntaposxTests.plan(assessment).items.map(\.ifname) == ["tun0"])
    }

    /// An lsof row of a process with `/dev/tun0` open contradicts `closed`: the two were read at
    /// different times (Tunnelblick connected from its menu, with no command), and the routes
    /// are not judged dead. Without a status line, such a row shows the tun held.
    @Test func anLsofRowWithTheDeviceOpenContradictsClosed() throws {
        let text = try CaptureProofTests.fixture("tunnelblick-closed-lsof-dev-tun0.txt")
        let assessment = CapturePasteTests.assess(text)
        let tun0 = try CaptureTuntaposxTests.verdict(assessment)
        #expect(tun0.state == .unknown && !tun0.holdersKnown, "\(tun0.state) \(tun0.reason)")
        // (ps names lsof's `openvpn-2` from its path.)
        #expect(tun0.reason.contains("lsof shows openvpn[412] with /dev/tun0 open"), "\(tun0.reason)")
        #expect(!assessment.findings.contains { $0.severity == .critical || $0.reapable }, "\(assessment.findings.map(\.evidence))")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty)

        // With a header, without grep, and for a tap; and without a status line: held.
        let lsof = "% sudo lsof -nP\nCOMMAND     PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\nopenvpn   4242 root    5u   CHR   33,0   0t2240  637 /dev/tun0\n"
        let held = CapturePasteTests.assess(CaptureTuntaposxTests.openVPN(status: nil, more: lsof + CaptureTuntaposxTests.psRows))
        let heldTun = try CaptureTuntaposxTests.verdict(held)
        #expect(heldTun.state == .live && heldTun.holders.map(\.display) == ["openvpn[4242]"], "\(heldTun.state) \(heldTun.reason)")
        #expect(heldTun.reason.contains("lsof shows it with /dev/tun0 open"), "\(heldTun.reason)")
        let closed = CapturePasteTests.assess(CaptureTuntaposxTests.openVPN(status: "closed", more: lsof))
        #expect(try CaptureTuntaposxTests.verdict(closed).state == .unknown)
        #expect(CaptureTuntaposxTests.plan(closed).items.isEmpty)
        // An lsof from before the process was killed says nothing of the later `closed`.
        let before = lsof + "% sudo killall openvpn\n" + CaptureTuntaposxTests.openVPN(status: "closed")
        #expect(try CaptureTuntaposxTests.verdict(CapturePasteTests.assess(before)).state == .orphaned)
    }

    /// `closed` and the routes read together, then a change (`open -a Tunnelblick`, `sleep`, the
    /// app started by its path), then an lsof that shows a process with `/dev/tun0` open: the
    /// newest word on the device is that it is open, and the routes read before are the ones
    /// the reconnected VPN adds again. Nothing is planned away, whatever the lsof's shape.
    @Test(arguments: [
        ("% open -a Tunnelblick\n% sleep 20\n", "% sudo lsof -nP | grep -E \"tun0|utun\"\nPassword:\n"),
        ("% sleep 600\n", "% sudo lsof -nP\nCOMMAND     PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\n"),
        ("% sudo openvpn --config ~/work.ovpn --daemon\n", "% sudo lsof /dev/tun0\nCOMMAND     PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\n"),
    ])
    func anLsofRowOfALaterMomentWithTheDeviceOpenContradictsClosed(between: String, lsof: String) throws {
        let later = between + lsof + "openvpn-2   412 root    5u    CHR   33,0  0t2240   637 /dev/tun0\n"
        let assessment = CapturePasteTests.assess(CaptureTuntaposxTests.openVPN(status: "closed", more: later))
        let tun0 = try CaptureTuntaposxTests.verdict(assessment)
        #expect(tun0.state != .orphaned, "\(between): \(tun0.state) \(tun0.reason)")
        #expect(tun0.reason.contains("with /dev/tun0 open"), "\(between): \(tun0.reason)")
        #expect(!assessment.findings.contains { $0.severity == .critical || $0.reapable }, "\(between): \(assessment.findings.map(\.evidence))")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty)
    }

    /// The reviewer's session: `closed` and the routes read together, then `open -a Tunnelblick`
    /// and `sleep 20`, then a ps (no lsof) that lists Tunnelblick and its openvpn: the VPN may
    /// have opened `/dev/tun0` again, and the routes be the ones it adds anew. Nothing is planned.
    @Test func aLaterProcessListingOfTheVPNContradictsClosed() throws {
        let assessment = CapturePasteTests.assess(try CaptureProofTests.fixture("tunnelblick-closed-then-ps-later.txt"))
        let tun0 = try CaptureTuntaposxTests.verdict(assessment)
        #expect(tun0.state == .unknown, "\(tun0.state) \(tun0.reason)")
        #expect(tun0.reason.contains("a process listing of the paste shows Tunnelblick[398] and openvpn[412] running"), "\(tun0.reason)")
        #expect(!assessment.findings.contains { $0.severity == .critical || $0.reapable }, "\(assessment.findings.map(\.evidence))")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty)
    }

    /// Other changes and other listings that show a program that opens tun devices running later:
    /// `closed` is doubted whatever the listing's shape.
    @Test(arguments: [
        ("% sleep 600\n", "% ps auxww | grep [o]penvpn\nroot  4242   0.0  0.1 4101232  6240   ??  Ss   10:02AM   0:00.21 /usr/local/opt/openvpn/sbin/openvpn --config /etc/openvpn/work.conf --daemon\n"),
        ("% open -a Tunnelblick\n", "% pgrep -lf openvpn\n412 /Applications/Tunnelblick.app/Contents/Resources/openvpn/openvpn-2.5.8-openssl-1.1.1s/openvpn --cd /tmp --daemon\n"),
        ("% sudo brew services start openvpn\n", CaptureTuntaposxTests.psRows),
    ])
    func aLaterProcessListingOfAProgramThatOpensTunsContradictsClosed(between: String, ps: String) throws {
        let assessment = CapturePasteTests.assess(CaptureTuntaposxTests.openVPN(status: "closed", more: between + ps))
        let tun0 = try CaptureTuntaposxTests.verdict(assessment)
        #expect(tun0.state == .unknown, "\(between): \(tun0.state) \(tun0.reason)")
        #expect(tun0.reason.contains("a process listing of the paste shows openvpn["), "\(between): \(tun0.reason)")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty)
    }

    /// The controls: a ps before the block with a change since (the VPN may have died), or a later
    /// one that shows no program that opens tun devices, leaves `closed` standing, and the routes
    /// are planned away. One of the same moment (no command between) does not (round 37 F4): a
    /// VPN reconnecting from its menu, or OpenVPN restarting, closes and reopens the device with
    /// no command typed.
    @Test func aProcessListingOfAnEarlierMomentOrOfOtherProgramsLeavesClosedStanding() throws {
        let fixture = try CaptureProofTests.fixture("tunnelblick-closed-then-ps-later.txt")
        let change = "MacBook-Pro:~ bob$ open -a Tunnelblick\nMacBook-Pro:~ bob$ sleep 20\n"
        #expect(fixture.contains(change))
        let sameMoment = fixture.replacingOccurrences(of: change, with: "")
        let otherPrograms = fixture.replacingOccurrences(of: "  398 /Applications/Tunnelblick.app/Contents/MacOS/Tunnelblick\n", with: "")
            .replacingOccurrences(of: "  412 /Applications/Tunnelblick.app/Contents/Resources/openvpn/openvpn-2.5.8-openssl-1.1.1s/openvpn\n", with: "  412 /usr/sbin/cupsd\n")
        let earlier = CaptureTuntaposxTests.psRows + "% sudo killall openvpn\n" + CaptureTuntaposxTests.openVPN(status: "closed")
        let sameAssessment = CapturePasteTests.assess(sameMoment)
        #expect(try CaptureTuntaposxTests.verdict(sameAssessment).state == .unknown, "same moment")
        #expect(CaptureTuntaposxTests.plan(sameAssessment).items.isEmpty, "same moment")
        for (label, text) in [("other programs", otherPrograms), ("earlier", earlier)] {
            #expect(text != fixture)
            let assessment = CapturePasteTests.assess(text)
            let tun0 = try CaptureTuntaposxTests.verdict(assessment)
            #expect(tun0.state == .orphaned, "\(label): \(tun0.reason)")
            #expect(CaptureTuntaposxTests.plan(assessment).items.map(\.ifname) == ["tun0"], "\(label)")
        }
    }

    /// A tap's device row is read as a tun's is.
    @Test func anLsofRowOfATapDeviceIsReadToo() throws {
        let text = CaptureTuntaposxTests.openVPN(status: "closed").replacingOccurrences(of: "tun0", with: "tap0")
            + "% sudo lsof -nP | grep tap0\nopenvpn   4242 root    5u   CHR   33,0   0t2240  637 /dev/tap0\n"
        let assessment = CapturePasteTests.assess(text)
        let tap0 = try CaptureTuntaposxTests.verdict(assessment, "tap0")
        #expect(tap0.state == .unknown && tap0.reason.contains("with /dev/tap0 open"), "\(tap0.reason)")
        #expect(CaptureTuntaposxTests.plan(assessment).items.isEmpty)
    }
}
