import Foundation
import Inventory
import Testing
@testable import Reaper
import Storage
import TestSupport
@testable import TunwardenCore

/// Stand-in macOS tools: each prints its recorded output and logs the arguments it was called with.
final class StandInTools {
    let directory: TemporaryDirectory
    var log: String { directory.path + "/calls.log" }

    /// How the stand-in `route` answers, as Apple's route(8) does (`newroute(); exit(0);`): it
    /// exits 0 whether or not the kernel did the request, and says which only in what it prints.
    enum RouteAnswer {
        /// Prints what route prints on success (`delete net 0.0.0.0: gateway 10.8.0.5`).
        case succeeds
        /// Prints the same line with `: not in table` (ESRCH) and still exits 0.
        case notInTable
        /// `-ifscope` names an interface that no longer exists: `route: bad interface name`, exit 1.
        case badInterfaceName
        /// Exits 0 and prints nothing, as a route that did nothing would.
        case silent
    }

    /// What `netstat -rn` lists once `route` has run, as the reaper's look after acting reads it.
    static let emptyTable = "Routing tables\nInternet:\nDestination Gateway Flags Netif Expire\nInternet6:\nDestination Gateway Flags Netif Expire\n"

    /// `lsofStatus`: what lsof exits with after printing its listing (1: some file could not be listed).
    /// `netstatAfter`: what netstat lists after the first `route` call (by default, no route).
    init(ifconfig: String, netstat: String, lsof: String, ps: String, failing: String? = nil, lsofStatus: Int = 0,
         route: RouteAnswer = .succeeds, netstatAfter: String = StandInTools.emptyTable) throws {
        directory = try TemporaryDirectory()
        try set("ifconfig.txt", ifconfig)
        try set("netstat.txt", netstat)
        try set("lsof.txt", lsof)
        try set("ps.txt", ps)
        try set("netstat-after.txt", netstatAfter)
        for (tool, listing) in [("ifconfig", "-a"), ("netstat", "-rn"), ("lsof", "-nP"), ("ps", "-axww")] {
            let file = ["ifconfig": "ifconfig.txt", "netstat": "netstat.txt", "lsof": "lsof.txt", "ps": "ps.txt"][tool]!
            try script(tool, """
            #!/bin/sh
            echo "\(tool) $*" >> "\(log)"
            \(tool == "netstat" ? "if [ \"$1\" = -rn ] && [ -f \"\(directory.path)/acted\" ]; then cat \"\(directory.path)/netstat-after.txt\"; exit 0; fi" : "")
            if [ "$1" = "\(listing)" ]; then cat "\(directory.path)/\(file)"; exit \(tool == "lsof" ? lsofStatus : 0); fi
            \(failing == tool ? "echo '\(tool): permission denied' >&2; exit 1" : "exit 0")
            """)
        }
        // The line route prints: `VERB host|net DEST[: gateway GATEWAY]`, an IPv4 DEST cut at `/`.
        let answer: String
        switch route {
        case .succeeds: answer = "echo \"$line\""
        case .notInTable: answer = "echo 'route: writing to routing socket: not in table' >&2; echo \"$line: not in table\""
        case .badInterfaceName: answer = "echo 'route: bad interface name' >&2; exit 1"
        case .silent: answer = ":"
        }
        try script("route", """
        #!/bin/sh
        echo "route $*" >> "\(log)"
        touch "\(directory.path)/acted"
        \(failing == "route" ? "echo 'route: writing to routing socket: not in table' >&2; exit 1" : "")
        verb=; kind=net; dest=; gw=; v6=; skip=
        for w in "$@"; do
          if [ -n "$skip" ]; then skip=; continue; fi
          case "$w" in
            -host) kind=host ;;
            -inet6) v6=1 ;;
            -ifscope) skip=1 ;;
            -*) ;;
            *) if [ -z "$verb" ]; then verb=$w; elif [ -z "$dest" ]; then dest=$w; elif [ -z "$gw" ]; then gw=$w; fi ;;
          esac
        done
        [ -z "$v6" ] && dest=${dest%%/*}
        line="$verb $kind $dest"
        [ -n "$gw" ] && line="$line: gateway $gw"
        \(answer)
        exit 0
        """)
    }

    func set(_ file: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory.path + "/" + file))
    }

    func script(_ name: String, _ body: String) throws {
        let path = directory.path + "/" + name
        try Data(body.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
    }

    var tools: DarwinTools { DarwinTools(searchPath: [directory.path]) }

    /// The calls that change something (not the listings).
    func changes() -> [String] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).filter { !["ifconfig -a", "ifconfig -a -v", "netstat -rn", "lsof -nP", "ps -axww -o pid,comm"].contains($0) }
    }
}

@Suite struct DarwinReaperTests {
    static let ifconfig = """
    utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet6 fe80::1%utun0 prefixlen 64 scopeid 0xf
    utun1: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet6 fe80::2%utun1 prefixlen 64 scopeid 0x10
    utun2: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet6 fe80::3%utun2 prefixlen 64 scopeid 0x11
    feth8846: flags=8943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 2800
    \tether 66:65:74:68:22:8e
    \tpeer: feth3846
    feth3846: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> metric 5000 mtu 2800
    \tether b6:a3:48:18:44:6b
    \tinet 10.147.20.93 netmask 0xffffff00 broadcast 10.147.20.255
    \tpeer: feth8846
    """
    static let netstat = """
    Routing tables
    Internet:
    Destination Gateway Flags Netif Expire
    Internet6:
    Destination Gateway Flags Netif Expire
    default fe80::%utun0 UGcIg utun0
    fe80::%utun0/64 fe80::1%utun0 UcI utun0
    default fe80::%utun1 UGcIg utun1
    fe80::%utun2/64 fe80::3%utun2 UcI utun2
    """
    static let lsof = """
    COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME
    launchd 1 root cwd DIR 1,17 640 2 /
    nesession 596 root 12u systm 0x1 0t0 [ctl com.apple.net.utun_control id 4 unit 1]
    nesession 596 root 13u systm 0x2 0t0 [ctl com.apple.net.utun_control id 4 unit 2]
    nesession 596 root 14u systm 0x3 0t0 [ctl com.apple.net.utun_control id 4 unit 3]
    """
    static let ps = "PID COMM\n1 /sbin/launchd\n596 /usr/libexec/nesessionmanager\n"

    func plan(_ standIns: StandInTools) throws -> ReapPlan {
        let snapshot = try DarwinInventory(tools: standIns.tools, privileged: true).snapshot()
        return ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                             policy: ReapPolicy(minimumAge: 0), now: snapshot.takenAt)
    }

    @Test func liveBackendReadsTheToolsLikeACapture() throws {
        let standIns = try StandInTools(ifconfig: Self.ifconfig, netstat: Self.netstat, lsof: Self.lsof, ps: Self.ps)
        let snapshot = try DarwinInventory(tools: standIns.tools, privileged: true).snapshot()
        #expect(snapshot.platform == .darwin)
        #expect(snapshot.interfaces.map(\.name) == ["utun0", "utun1", "utun2", "feth8846", "feth3846"])
        #expect(snapshot.holders.complete)
        #expect(snapshot.holders.attachments.map(\.holder.display) == ["nesessionmanager[596]", "nesessionmanager[596]", "nesessionmanager[596]"])
        func lsofCalls() throws -> Int {
            try String(contentsOfFile: standIns.log, encoding: .utf8).split(separator: "\n").filter { $0 == "lsof -nP" }.count
        }
        #expect(try lsofCalls() == 1)
        let unprivileged = try DarwinInventory(tools: standIns.tools, privileged: false).snapshot()
        #expect(!unprivileged.holders.complete)
        // Without root lsof cannot see every process, so it is not run at all.
        #expect(try lsofCalls() == 1)
    }

    @Test func reapIssuesExactlyThePlannedCommands() throws {
        let standIns = try StandInTools(ifconfig: Self.ifconfig, netstat: Self.netstat, lsof: Self.lsof, ps: Self.ps)
        let journal = Journal(path: standIns.directory.path + "/journal.jsonl")
        let results = try DarwinReaper(tools: standIns.tools, privileged: true).execute(try plan(standIns), journal: journal, runID: "t")
        #expect(results.map(\.outcome) == [.deleted, .deleted, .deleted, .deleted, .deleted])
        #expect(standIns.changes() == [
            "ifconfig feth8846 destroy",
            "ifconfig feth3846 destroy",
            "route -n delete -inet6 default fe80::%utun0 -ifscope utun0",
            "route -n delete -inet6 -net fe80::%utun0/64 -ifscope utun0",
            "route -n delete -inet6 default fe80::%utun1 -ifscope utun1",
            "route -n delete -inet6 -net fe80::%utun2/64 -ifscope utun2",
        ])
        let records = try journal.read()
        #expect(records.filter { $0.type == .intent }.count == 5)
        let feth = try #require(records.first { $0.type == .intent && $0.ifname == "feth3846" })
        #expect(feth.recreate == ["ifconfig feth3846 create", "ifconfig feth3846 peer feth8846", "ifconfig feth3846 mtu 2800",
                                  "ifconfig feth3846 inet 10.147.20.93/24 alias", "ifconfig feth3846 up"])
        let utun = try #require(records.first { $0.type == .intent && $0.ifname == "utun0" })
        #expect(utun.recreate == ["route -n add -inet6 default fe80::%utun0 -ifscope utun0", "route -n add -inet6 -net fe80::%utun0/64 -interface utun0 -ifscope utun0"])
    }

    @Test func whatChangedSinceThePlanIsSkipped() throws {
        let standIns = try StandInTools(ifconfig: Self.ifconfig, netstat: Self.netstat, lsof: Self.lsof, ps: Self.ps)
        let planned = try plan(standIns)
        // ZeroTier started again, and utun2's route went away.
        try standIns.set("ps.txt", Self.ps + "7011 /Library/Application Support/ZeroTier/One/zerotier-one\n")
        try standIns.set("netstat.txt", Self.netstat.replacingOccurrences(of: "fe80::%utun2/64 fe80::3%utun2 UcI utun2", with: ""))
        let results = try DarwinReaper(tools: standIns.tools, privileged: true)
            .execute(planned, journal: Journal(path: standIns.directory.path + "/journal.jsonl"), runID: "t")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0.outcome) })
        #expect(byName == ["feth8846": .skipped, "feth3846": .skipped, "utun0": .deleted, "utun1": .deleted, "utun2": .skipped])
        #expect(!standIns.changes().contains { $0.hasPrefix("ifconfig") })
    }

    /// A closed tuntaposx tun0 on the live system: reap removes the routes into it with `route -n
    /// delete` and never runs `ifconfig tun0 destroy` (tuntaposx's kext owns tun0), not even for
    /// a plan that asks for it; once a process has opened tun0 again, its routes are left alone.
    @Test func aClosedTunsRoutesAreRemovedAndTheTunIsNeverDestroyed() throws {
        let ifconfig = """
        lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384 index 1
        \tinet 127.0.0.1 netmask 0xff000000
        en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500 index 6
        \tinet 192.168.2.20 netmask 0xffffff00 broadcast 192.168.2.255
        \tstatus: active
        tun0: flags=8851<UP,POINTOPOINT,RUNNING,SIMPLEX,MULTICAST> mtu 1500 index 21
        \tinet 10.8.0.6 --> 10.8.0.5 netmask 0xffffffff
        \tclosed
        """
        let netstat = """
        Routing tables
        Internet:
        Destination Gateway Flags Netif Expire
        0/1 10.8.0.5 UGSc tun0
        default 192.168.2.1 UGScg en0
        128.0/1 10.8.0.5 UGSc tun0
        """
        let lsof = "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n"
        let standIns = try StandInTools(ifconfig: ifconfig, netstat: netstat, lsof: lsof, ps: Self.ps)
        let planned = try plan(standIns)
        #expect(planned.items.map(\.action) == [.removeRoutes] && planned.items.map(\.ifname) == ["tun0"])
        let tun0 = try #require(planned.items.first).interface
        var asking = planned
        asking.items.append(ReapItem(action: .deleteInterface, interface: tun0, evidence: "closed", routes: []))
        let journal = Journal(path: standIns.directory.path + "/journal.jsonl")
        let results = try DarwinReaper(tools: standIns.tools, privileged: true).execute(asking, journal: journal, runID: "t")
        #expect(standIns.changes() == ["route -n delete -net 0.0.0.0/1 10.8.0.5", "route -n delete -net 128.0.0.0/1 10.8.0.5"])
        #expect(results.filter { $0.outcome == .deleted }.count == 1 && results.filter { $0.outcome == .skipped }.count == 1, "\(results)")
        let intent = try #require(try journal.read().first { $0.type == .intent && $0.ifname == "tun0" })
        #expect(intent.recreate == ["route -n add -net 0.0.0.0/1 10.8.0.5", "route -n add -net 128.0.0.0/1 10.8.0.5"])

        // OpenVPN opened tun0 again: the plan made while it was closed changes nothing.
        let reopened = try StandInTools(ifconfig: ifconfig.replacingOccurrences(of: "\tclosed", with: "\topen (pid 4242)"), netstat: netstat, lsof: lsof, ps: Self.ps)
        let skipped = try DarwinReaper(tools: reopened.tools, privileged: true)
            .execute(planned, journal: Journal(path: reopened.directory.path + "/journal.jsonl"), runID: "t")
        #expect(skipped.map(\.outcome) == [.skipped] && skipped.first?.detail == "no longer closed, or its routes gone, since the plan was made")
        #expect(reopened.changes().isEmpty)
    }

    /// A host route and a /32 net route to one address into a closed tun0 (`10.8.0.1 … UGHS` and
    /// `10.8.0.1/32 … UGSc`, round 48): each is deleted by its own command, the host route with
    /// `-host` (no mask) and the net route with `-net 10.8.0.1/32` (the mask of all ones), and
    /// each is put back as it was.
    @Test func aHostRouteAndANetRouteToOneAddressAreEachDeletedByItsOwnCommand() throws {
        let ifconfig = """
        lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384 index 1
        \tinet 127.0.0.1 netmask 0xff000000
        tun0: flags=8851<UP,POINTOPOINT,RUNNING,SIMPLEX,MULTICAST> mtu 1500 index 21
        \tinet 10.8.0.6 --> 10.8.0.5 netmask 0xffffffff
        \tclosed
        """
        let netstat = "Routing tables\nInternet:\nDestination Gateway Flags Netif Expire\n10.8.0.1 10.8.0.5 UGHS tun0\n10.8.0.1/32 10.8.0.5 UGSc tun0\n"
        let standIns = try StandInTools(ifconfig: ifconfig, netstat: netstat, lsof: "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n", ps: Self.ps)
        let journal = Journal(path: standIns.directory.path + "/journal.jsonl")
        let results = try DarwinReaper(tools: standIns.tools, privileged: true).execute(try plan(standIns), journal: journal, runID: "t")
        #expect(results.map(\.outcome) == [.deleted], "\(results)")
        #expect(standIns.changes() == ["route -n delete -host 10.8.0.1 10.8.0.5", "route -n delete -net 10.8.0.1/32 10.8.0.5"], "\(standIns.changes())")
        let intent = try #require(try journal.read().first { $0.type == .intent && $0.ifname == "tun0" })
        #expect(intent.recreate == ["route -n add -host 10.8.0.1 10.8.0.5", "route -n add -net 10.8.0.1/32 10.8.0.5"])
    }

    @Test func aFailingCommandIsReportedWithItsError() throws {
        let standIns = try StandInTools(ifconfig: Self.ifconfig, netstat: Self.netstat, lsof: Self.lsof, ps: Self.ps, failing: "route")
        let results = try DarwinReaper(tools: standIns.tools, privileged: true)
            .execute(try plan(standIns), journal: Journal(path: standIns.directory.path + "/journal.jsonl"), runID: "t")
        let utun0 = try #require(results.first { $0.ifname == "utun0" })
        #expect(utun0.outcome == .failed)
        #expect(utun0.detail?.contains("route: writing to routing socket: not in table") == true)
        #expect(results.first { $0.ifname == "feth8846" }?.outcome == .deleted)
    }

    @Test func notRootChangesNothing() throws {
        let standIns = try StandInTools(ifconfig: Self.ifconfig, netstat: Self.netstat, lsof: Self.lsof, ps: Self.ps)
        let planned = try plan(standIns)
        #expect(throws: ReapRefusal.self) {
            try DarwinReaper(tools: standIns.tools, privileged: false).execute(planned, journal: Journal(path: standIns.directory.path + "/j.jsonl"), runID: "t")
        }
        #expect(standIns.changes().isEmpty)
    }

    @Test func captureWritesEveryToolsOutput() throws {
        let standIns = try StandInTools(ifconfig: Self.ifconfig, netstat: Self.netstat, lsof: Self.lsof, ps: Self.ps)
        let target = try TemporaryDirectory()
        let (written, failed) = try standIns.tools.capture(into: target.path + "/snap")
        #expect(written == ["ifconfig.txt", "netstat.txt", "lsof.txt", "ps.txt"])
        #expect(failed.isEmpty)
        let captured = try CapturedInventory(path: target.path + "/snap").snapshot()
        #expect(captured.interfaces.count == 5)
        #expect(captured.missingSources.isEmpty)
    }

    /// lsof exits 1 with its listing when some file could not be listed: the capture keeps that
    /// listing, as the live inventory does; an lsof that exits 1 with nothing is a failure.
    @Test func captureKeepsTheListingOfAnLsofThatExits1() throws {
        let complaining = try StandInTools(ifconfig: Self.ifconfig, netstat: Self.netstat, lsof: Self.lsof, ps: Self.ps, lsofStatus: 1)
        let target = try TemporaryDirectory()
        let (written, failed) = try complaining.tools.capture(into: target.path + "/snap")
        #expect(written == ["ifconfig.txt", "netstat.txt", "lsof.txt", "ps.txt"] && failed.isEmpty, "\(failed)")
        let captured = try CapturedInventory(path: target.path + "/snap").snapshot()
        let live = try DarwinInventory(tools: complaining.tools, privileged: true).snapshot()
        #expect(captured.holders == live.holders && captured.missingSources.isEmpty)
        let silent = try StandInTools(ifconfig: Self.ifconfig, netstat: Self.netstat, lsof: "", ps: Self.ps, lsofStatus: 1)
        let (_, failedSilent) = try silent.tools.capture(into: target.path + "/empty")
        #expect(failedSilent == ["lsof -nP (for lsof.txt)"])
        #expect(!FileManager.default.fileExists(atPath: target.path + "/empty/lsof.txt"))
    }
}

/// `tunwarden reap --from` and `audit --from` end to end: plans for captures, never executes.
@Suite struct CapturedReapCommandTests {
    @Test func reapFromACapturePrintsTheCommandsAndRunsNothing() throws {
        let capture = try TemporaryDirectory()
        for (file, text) in [("ifconfig.txt", DarwinReaperTests.ifconfig), ("netstat.txt", DarwinReaperTests.netstat),
                             ("lsof.txt", DarwinReaperTests.lsof), ("ps.txt", DarwinReaperTests.ps)] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: capture.path + "/" + file))
        }
        let dry = try Shell.capture([Shell.tunwardenBinary, "reap", "--from", capture.path, "--dry-run"])
        #expect(dry.status == 0)
        for line in ["    sudo ifconfig feth8846 destroy", "    sudo route -n delete -inet6 default fe80::%utun0 -ifscope utun0",
                     "    sudo route -n delete -inet6 -net fe80::%utun0/64 -ifscope utun0",
                     "2 interfaces to delete, 3 to clear of stale routes."] {
            #expect(dry.stdout.contains(line), "missing: \(line)")
        }
        let json = try Shell.capture([Shell.tunwardenBinary, "reap", "--from", capture.path, "--dry-run", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let items = try #require(object["plan"] as? [[String: Any]])
        #expect(items.first { $0["ifname"] as? String == "utun0" }?["action"] as? String == "remove-routes")
        #expect(items.first { $0["ifname"] as? String == "feth8846" }?["commands"] as? [String] == ["ifconfig feth8846 destroy"])
        let refused = try Shell.capture([Shell.tunwardenBinary, "reap", "--from", capture.path])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("add --dry-run"))
        let audit = try Shell.capture([Shell.tunwardenBinary, "audit", "--from", capture.path, "--format", "nagios"])
        #expect(audit.status == 1)
        #expect(audit.stdout.hasPrefix("TUNWARDEN WARNING: 2 orphaned-feth (feth8846, feth3846); 1 utun-hoard |"))
        let missing = try Shell.capture([Shell.tunwardenBinary, "audit", "--from", capture.path + "/nope"])
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("does not exist"))
    }

    /// One pasted file, as a forum post: prose around ifconfig and a `ps auxww | grep` whose only
    /// row is the grep itself, line breaks lost, and no lsof at all. (Without `ww` the daemon's
    /// row could have been cut before grep saw it: see `CapturePsWidthTests`.)
    static let pastedPost = """
    Hallo zusammen, nach dem Absturz von ZeroTier sieht mein Mac so aus:
    mia@Mias-Air ~ % ifconfig -a
    lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
    \tinet 127.0.0.1 netmask 0xff000000
    en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
    \tinet 192.168.178.20 netmask 0xffffff00 broadcast 192.168.178.255
    \tstatus: active
    feth2210: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 2800
    \tinet 10.147.17.4 netmask 0xffffff00 broadcast 10.147.17.255
    \tpeer: feth7210
    feth7210: flags=8943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 2800
    \tpeer: feth2210
    mia@Mias-Air ~ % ps auxww | grep -i zerotier
    mia  5120   0.0  0.0 408626880   1360 s000  S+    9:41AM   0:00.00 grep -i zerotier
    mia@Mias-Air ~ % 
    Danke!
    """

    @Test(arguments: [false, true])
    func aPastedFileIsAuditedAndPlannedEndToEnd(flat: Bool) throws {
        let capture = try TemporaryDirectory()
        defer { capture.remove() }
        let text = flat ? Self.pastedPost.split(whereSeparator: \.isNewline).joined(separator: " ") : Self.pastedPost
        let file = capture.path + "/post.txt"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let dry = try Shell.capture([Shell.tunwardenBinary, "reap", "--from", file, "--dry-run"])
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("    sudo ifconfig feth2210 destroy") && dry.stdout.contains("    sudo ifconfig feth7210 destroy"), "\(dry.stdout)")
        let audit = try Shell.capture([Shell.tunwardenBinary, "audit", "--from", file, "--format", "nagios"])
        #expect(audit.status == 1)
        #expect(audit.stdout.hasPrefix("TUNWARDEN WARNING: 2 orphaned-feth (feth2210, feth7210)"), "\(audit.stdout)")
        let verbose = try Shell.capture([Shell.tunwardenBinary, "audit", "--from", file, "-v"])
        #expect(verbose.stderr.contains("post.txt:") && verbose.stderr.contains("not tool output"), "\(verbose.stderr)")
        if !flat { #expect(verbose.stderr.contains("post.txt:2: command `ifconfig -a`"), "\(verbose.stderr)") }
        let prose = capture.path + "/prose.txt"
        try Data("Hi, my VPN broke my network after the update. Any ideas? Thanks.\n".utf8).write(to: URL(fileURLWithPath: prose))
        let refused = try Shell.capture([Shell.tunwardenBinary, "audit", "--from", prose])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("nothing tunwarden can read"))
    }
}
