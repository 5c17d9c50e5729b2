import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// tuntaposx's `tunN` and `tapN` (the tun/tap kext of older OpenVPN and Tunnelblick setups) in
/// pastes: the kext's status line in each block, `open (pid N)` or `closed`, says whether a
/// process uses the interface. An open one is live and held by that pid; the routes into a closed
/// one lead nowhere and may be planned away; the interface itself is never planned for deletion.
@Suite struct CaptureTuntaposxTests {
    /// An OpenVPN client's tun0 whose block ends with `status` (none when nil), and a split
    /// default into it beside en0's default, as `ifconfig -a` and `netstat -rn -f inet` print
    /// them. `filter` lists only tun0's block, through that grep (`ifconfig | grep -A3 tun0`).
    static func openVPN(status: String?, filter: String? = nil, more: String = "") -> String {
        let others = filter != nil ? "" : """
        lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
        \tinet 127.0.0.1 netmask 0xff000000
        en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
        \tether 3c:22:fb:00:00:01
        \tinet 192.168.2.20 netmask 0xffffff00 broadcast 192.168.2.255
        \tstatus: active

        """
        return "% ifconfig" + (filter.map { " | \($0)" } ?? " -a") + "\n" + others + """
        tun0: flags=8851<UP,POINTOPOINT,RUNNING,SIMPLEX,MULTICAST> mtu 1500
        \tinet 10.8.0.6 --> 10.8.0.5 netmask 0xffffffff

        """ + (status.map { "\t\($0)\n" } ?? "") + """
        % netstat -rn -f inet
        Routing tables

        Internet:
        Destination        Gateway            Flags               Netif Expire
        0/1                10.8.0.5           UGSc                 tun0
        default            192.168.2.1        UGScg                 en0
        10.8.0.1/32        10.8.0.5           UGSc                 tun0
        10.8.0.5           10.8.0.6           UHr                  tun0
        128.0/1            10.8.0.5           UGSc                 tun0

        """ + more
    }

    static let psRows = "% ps -axww -o pid,comm\n  PID COMM\n    1 /sbin/launchd\n 4242 /usr/local/opt/openvpn/sbin/openvpn\n"

    static func verdict(_ assessment: Assessment, _ name: String = "tun0") throws -> AssessedInterface {
        try #require(assessment.interfaces.first { $0.interface.name == name }, "\(assessment.interfaces.map(\.interface.name))")
    }

    static func plan(_ assessment: Assessment) -> ReapPlan {
        ReapPlan.make(assessment, observations: Observations(), namespaceKey: assessment.snapshot.namespaceIdentity,
                      policy: ReapPolicy(minimumAge: 0), now: assessment.snapshot.takenAt)
    }

    /// `open (pid 4242)`: tun0 is live, held by that pid, which ps names; the split default into
    /// it explains where traffic goes (info), and no route of it is planned away.
    @Test func anOpenTunIsLiveAndHeldByTheProcessThatOpenedIt() throws {
        let named = CapturePasteTests.assess(Self.openVPN(status: "open (pid 4242)", more: Self.psRows))
        let tun0 = try Self.verdict(named)
        #expect(tun0.state == .live && tun0.interface.kind == .tun, "\(tun0.reason)")
        #expect(tun0.holders.map(\.display) == ["openvpn[4242]"] && tun0.holdersKnown)
        #expect(tun0.reason.hasPrefix("held by openvpn[4242]: its ifconfig status line says `open (pid 4242)`"), "\(tun0.reason)")
        #expect(named.status == .ok, "\(named.findings.map(\.evidence))")
        #expect(!named.findings.contains { $0.severity == .critical || $0.reapable }, "\(named.findings.map(\.evidence))")
        let split = try #require(named.findings.first { $0.id == FindingID.splitDefault })
        #expect(split.severity == .info && split.evidence.contains("held by openvpn[4242]"), "\(split.evidence)")
        #expect(Self.plan(named).items.isEmpty)
        // Without ps the pid stands alone, and the verdict says why; the status line, not lsof,
        // says who holds it, so no lsof is asked for.
        let bare = CapturePasteTests.assess(Self.openVPN(status: "open (pid 4242)"))
        let unnamed = try Self.verdict(bare)
        #expect(unnamed.state == .live && unnamed.holders.map(\.pid) == [4242], "\(unnamed.reason)")
        #expect(unnamed.reason.contains("the capture has no ps output to name it"), "\(unnamed.reason)")
        #expect(!bare.findings.contains { $0.id == FindingID.holderUnknown }, "\(bare.findings.map(\.evidence))")
        #expect(bare.status == .ok)
        // A whole ps without that pid: the descriptor lives on in a process the opener forked.
        let gone = try Self.verdict(CapturePasteTests.assess(Self.openVPN(status: "open (pid 4242)", more: "% ps -axww -o pid,comm\n  PID COMM\n    1 /sbin/launchd\n% \n")))
        #expect(gone.state == .live && gone.reason.contains("lists no process 4242"), "\(gone.reason)")
    }

    /// `closed`: nothing reads what goes into tun0, so its split default blackholes every packet
    /// (critical), its other routes are dead, and the plan removes the routes, never tun0.
    @Test func aClosedTunsRoutesLeadNowhereAndArePlannedAwayButTheTunStays() throws {
        let assessment = CapturePasteTests.assess(Self.openVPN(status: "closed"))
        let tun0 = try Self.verdict(assessment)
        #expect(tun0.state == .orphaned && tun0.holders.isEmpty && tun0.holdersKnown)
        #expect(tun0.reason.contains("no process has /dev/tun0 open") && tun0.reason.contains("`ifconfig tun0 destroy` cannot remove"), "\(tun0.reason)")
        #expect(assessment.status == .critical)
        let split = try #require(assessment.findings.first { $0.id == FindingID.splitDefault }, "\(assessment.findings.map(\.evidence))")
        #expect(split.severity == .critical && split.reapable && split.ifname == "tun0")
        #expect(split.routes?.map { $0.destination.description } == ["0.0.0.0/1", "128.0.0.0/1"])
        #expect(split.evidence.contains("into tun0, which is closed (its ifconfig status line says no process has /dev/tun0 open)"), "\(split.evidence)")
        let dead = try #require(assessment.findings.first { $0.id == FindingID.deadTunnelRoute }, "\(assessment.findings.map(\.evidence))")
        #expect(dead.severity == .warning && dead.reapable && dead.evidence.contains("route -n delete -net 10.8.0.1/32 10.8.0.5"), "\(dead.evidence)")
        // One finding per route: the split's pieces are not dead-tunnel-routes as well.
        #expect(assessment.findings.filter { $0.id == FindingID.deadTunnelRoute }.count == 1)

        let plan = Self.plan(assessment)
        #expect(plan.items.count == 1 && plan.excluded.isEmpty)
        let item = try #require(plan.items.first)
        #expect(item.action == .removeRoutes && item.ifname == "tun0" && item.onMacOS)
        let commands = DarwinCommands.reap(item).map { $0.joined(separator: " ") }
        #expect(commands == ["route -n delete -net 0.0.0.0/1 10.8.0.5", "route -n delete -net 128.0.0.0/1 10.8.0.5",
                             "route -n delete -net 10.8.0.1/32 10.8.0.5", "route -n delete -host 10.8.0.5"], "\(commands)")
        #expect(!commands.contains { $0.contains("destroy") })
        #expect(ReapPlan.describe(item, now: Date(), conditional: true).hasPrefix("Would remove 4 routes into closed tun tun0: "))
        // The JSON plan gives macOS's commands, and those that would put the routes back.
        let json = String(decoding: ReapReport(plan: plan, results: nil).json(pretty: false), as: UTF8.self)
        #expect(json.contains(#""commands":["route -n delete -net 0.0.0.0/1 10.8.0.5""#) && json.contains(#""recreate":["route -n add -net 0.0.0.0/1 10.8.0.5""#), "\(json)")
        // Even a finding that calls it a reapable orphan (as a Linux tun's would) plans no deletion.
        let asking = assessment.adding([Finding(id: FindingID.orphanedTun, severity: .warning, ifname: "tun0", reapable: true, evidence: "orphaned")])
        #expect(Self.plan(asking).items.map(\.action) == [.removeRoutes])
        // --only tap leaves it out; --protect keeps it.
        let onlyTap = ReapPlan.make(assessment, observations: Observations(), namespaceKey: "k", policy: ReapPolicy(minimumAge: 0, onlyKinds: [.tap]),
                                    now: assessment.snapshot.takenAt)
        #expect(onlyTap.items.isEmpty && onlyTap.excluded.map(\.ifname) == ["tun0"])
    }

    /// The grace period of a closed tun's routes counts from when it was first seen closed, not
    /// from when it was first seen: they became stale when OpenVPN closed /dev/tun0.
    @Test func theRoutesOfAClosedTunWaitForTheMinimumAgeFromWhenItClosed() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let open = CapturePasteTests.assess(Self.openVPN(status: "open (pid 4242)"))
        let closed = CapturePasteTests.assess(Self.openVPN(status: "closed"))
        var observations = Observations()
        observations.record(open, namespace: "k", at: now - 2000)
        observations.record(closed, namespace: "k", at: now - 300)
        let young = ReapPlan.make(closed, observations: observations, namespaceKey: "k", policy: ReapPolicy(minimumAge: 900), now: now)
        #expect(young.items.isEmpty && young.excluded == [ReapExclusion(ifname: "tun0", reason: .tooYoung(reapableAt: now + 600))])
        let old = ReapPlan.make(closed, observations: observations, namespaceKey: "k", policy: ReapPolicy(minimumAge: 900), now: now + 600)
        #expect(old.items.map(\.ifname) == ["tun0"])
    }

    /// A general default route into a closed tun is critical as one into a gone tunnel is, and
    /// the plan removes it by its gateway, with en0's scoped default beside it or with none: the
    /// default-via-tunnel warning, about a tunnel that carries the default, is not raised for
    /// one that carries nothing.
    @Test(arguments: ["default            192.168.2.1        UGScIg                en0\n", ""])
    func aDefaultRouteIntoAClosedTunIsCriticalAndPlannedAway(scoped: String) throws {
        let text = Self.openVPN(status: "closed").replacingOccurrences(of: "default            192.168.2.1        UGScg                 en0\n",
                                                                       with: "default            10.8.0.5           UGSc                 tun0\n" + scoped)
        let assessment = CapturePasteTests.assess(text)
        let gone = try #require(assessment.findings.first { $0.id == FindingID.splitDefault && $0.routes?.contains { $0.destination.length == 0 } == true },
                                "\(assessment.findings.map(\.evidence))")
        #expect(gone.severity == .critical && gone.reapable && gone.evidence.hasPrefix("The IPv4 default route leaves through tun0, which is closed"), "\(gone.evidence)")
        #expect(!assessment.findings.contains { $0.id == FindingID.defaultViaTunnel }, "\(assessment.findings.map(\.evidence))")
        let commands = Self.plan(assessment).items.flatMap(DarwinCommands.reap).map { $0.joined(separator: " ") }
        #expect(commands.contains("route -n delete default 10.8.0.5") && !commands.contains { $0.contains("destroy") }, "\(commands)")
    }

    /// Docker's tap1 (docker-tuntap-osx), open: live, held by the process ps names; no lsof is
    /// needed, and it is counted as a tunnel but in no hoard of that process's utuns.
    @Test func anOpenTapIsLiveAndHeldByItsOpener() throws {
        let text = """
        $ ifconfig -a
        lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
        \tinet 127.0.0.1 netmask 0xff000000
        en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
        \tinet 192.168.2.20 netmask 0xffffff00 broadcast 192.168.2.255
        \tstatus: active
        tap1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500
        \tether 5a:c9:9b:9d:15:07
        \tinet 10.0.75.1 netmask 0xfffffffc broadcast 10.0.75.3
        \tmedia: autoselect
        \tstatus: active
        \topen (pid 12174)
        $ netstat -rn -f inet
        Destination        Gateway            Flags               Netif Expire
        default            192.168.2.1        UGScg                 en0
        10.0.75/30         link#14            UC                   tap1      !
        $ ps -axww -o pid,comm
          PID COMM
            1 /sbin/launchd
        12174 /Applications/Docker.app/Contents/MacOS/com.docker.hyperkit
        """
        let assessment = CapturePasteTests.assess(text)
        let tap1 = try Self.verdict(assessment, "tap1")
        #expect(tap1.interface.kind == .tap && tap1.state == .live, "\(tap1.reason)")
        #expect(tap1.holders.map(\.display) == ["com.docker.hyperkit[12174]"] && tap1.reason.contains("has /dev/tap1 open"), "\(tap1.reason)")
        #expect(assessment.status == .ok && assessment.findings.isEmpty, "\(assessment.findings.map(\.evidence))")
        #expect(Self.plan(assessment).items.isEmpty)
    }

    /// A block without the status line (an edited paste, a filter that dropped it): who holds
    /// the tun is unknown, and the verdict says what would show it.
    @Test func aBlockWithoutTheStatusLineLeavesTheHolderUnknown() throws {
        let assessment = CapturePasteTests.assess(Self.openVPN(status: nil))
        let tun0 = try Self.verdict(assessment)
        #expect(tun0.state == .unknown && !tun0.holdersKnown && tun0.holders.isEmpty)
        #expect(tun0.reason.hasPrefix("no status line in its ifconfig block (an edited paste, or a driver other than tuntaposx)"), "\(tun0.reason)")
        #expect(tun0.reason.contains("`open (pid N)`") && tun0.reason.contains("`closed`"), "\(tun0.reason)")
        #expect(assessment.status == .unknown)
        let split = try #require(assessment.findings.first { $0.id == FindingID.splitDefault })
        #expect(split.severity == .info && split.evidence.contains("Whether tun0 is still in use is unknown"), "\(split.evidence)")
        #expect(AuditTable.render(assessment).contains("(unknown)"))
        #expect(Self.plan(assessment).items.isEmpty)
    }

    /// `ifconfig | grep -A3 tun0` keeps the status line, which says what it says; `grep -A1`
    /// drops it, and the verdict names the grep as why it may be missing.
    @Test func aFilteredListingIsReadForWhatItShows() throws {
        let kept = CapturePasteTests.assess(Self.openVPN(status: "closed", filter: "grep -A3 tun0"))
        #expect(try Self.verdict(kept).state == .orphaned)
        #expect(kept.findings.first { $0.id == FindingID.splitDefault }?.severity == .critical)
        #expect(Self.plan(kept).items.map(\.ifname) == ["tun0"])
        let cut = CapturePasteTests.assess(Self.openVPN(status: nil, filter: "grep -A1 tun0"))
        let tun0 = try Self.verdict(cut)
        #expect(tun0.state == .unknown && tun0.reason.hasPrefix("no status line in its ifconfig block (`ifconfig | grep -A1 tun0` may have left lines of it out)"),
                "\(tun0.reason)")
        #expect(Self.plan(cut).items.isEmpty)
    }

    /// Status lines that lost their tab (a paste through a chat) or every line break (one long
    /// line) are read all the same.
    @Test func aStatusLineIsReadWithoutItsIndentOrLineBreaks() throws {
        for status in ["open (pid 4242)", "closed"] {
            let text = Self.openVPN(status: status)
            let unindented = text.replacingOccurrences(of: "\n\t", with: "\n")
            let oneLine = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
            for paste in [unindented, oneLine] {
                let tun0 = try Self.verdict(CapturePasteTests.assess(paste))
                #expect(tun0.state == (status == "closed" ? .orphaned : .live), "\(status): \(tun0.reason)")
            }
        }
    }

    /// Only `tun` or `tap` with digits after it is tuntaposx's: a status-like line in another
    /// block is not read as one, and `tunnel0` stays context.
    @Test func onlyTunAndTapWithAUnitAreTuntaposx() throws {
        #expect(CapturedInventory.kind(of: "tun15") == .tun && CapturedInventory.kind(of: "tap0") == .tap)
        #expect(CapturedInventory.kind(of: "tunnel0") == .other && CapturedInventory.kind(of: "tap") == .other && CapturedInventory.kind(of: "utun3") == .utun)
        let entries = try DarwinParsers.ifconfig("bridge0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tclosed\n"
            + "tap0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tether 5a:c9:9b:9d:15:07\n\topen (pid 0)\n")
        #expect(entries.map(\.deviceStatus) == [nil, nil])
    }
}
