import Foundation
import Inventory
import Testing
@testable import Reaper
import Storage
import TestSupport
@testable import TunwardenCore

/// Apple's route(8) exits 0 whether or not the kernel did a request (`newroute(); exit(0);`), and
/// says which only in what it prints: the reaper counts a route command done only when route
/// printed its success line, and reads the table again afterwards.
@Suite struct DarwinRouteReplyTests {
    @Test func theSuccessLineIsTheOneNewrouteWrites() {
        let cases: [([String], String)] = [
            (["route", "-n", "delete", "-net", "0.0.0.0/1", "10.8.0.5"], "delete net 0.0.0.0: gateway 10.8.0.5"),
            (["route", "-n", "delete", "-net", "0.0.0.0/1", "10.8.0.5", "-ifscope", "tun0"], "delete net 0.0.0.0: gateway 10.8.0.5"),
            (["route", "-n", "delete", "-inet6", "default", "fe80::%utun0", "-ifscope", "utun0"], "delete net default: gateway fe80::%utun0"),
            (["route", "-n", "delete", "-inet6", "-net", "fe80::%utun0/64", "-ifscope", "utun0"], "delete net fe80::%utun0/64"),
            (["route", "-n", "delete", "-host", "10.8.0.1", "10.8.0.5"], "delete host 10.8.0.1: gateway 10.8.0.5"),
            (["route", "-n", "delete", "-net", "10.8.0.1/32", "10.8.0.5"], "delete net 10.8.0.1: gateway 10.8.0.5"),
            (["route", "-n", "delete", "default", "-interface", "tun0"], "delete net default: gateway tun0"),
        ]
        for (command, line) in cases { #expect(RouteReply.successLine(command) == line, "\(command)") }
    }

    @Test func onlyTheSuccessLineIsSuccess() {
        let command = ["route", "-n", "delete", "-net", "0.0.0.0/1", "10.8.0.5", "-ifscope", "tun0"]
        #expect(RouteReply.judge(command, status: 0, stdout: "delete net 0.0.0.0: gateway 10.8.0.5\n", stderr: "") == .done)
        let refused = RouteReply.judge(command, status: 0, stdout: "delete net 0.0.0.0: gateway 10.8.0.5: not in table\n",
                                       stderr: "route: writing to routing socket: not in table\n")
        guard case .refused(let why) = refused else { Issue.record("\(refused)"); return }
        #expect(why.contains("not in table"))
        guard case .refused = RouteReply.judge(command, status: 0, stdout: "", stderr: "") else { Issue.record("silent"); return }
        #expect(RouteReply.judge(command, status: 1, stdout: "", stderr: "route: bad interface name\n") == .interfaceGone("route: bad interface name"))
        // Without -ifscope, "bad interface name" cannot be route's answer about the scope.
        guard case .refused = RouteReply.judge(["route", "-n", "delete", "default"], status: 1, stdout: "", stderr: "route: bad interface name") else {
            Issue.record("unscoped"); return
        }
    }

    func run(_ standIns: StandInTools) throws -> [ReapResult] {
        let snapshot = try DarwinInventory(tools: standIns.tools, privileged: true).snapshot()
        let assessment = Heuristics.assess(snapshot)
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: "darwin", policy: ReapPolicy(minimumAge: 0), now: Date())
        return try DarwinReaper(tools: standIns.tools, privileged: true)
            .execute(plan, journal: Journal(path: standIns.directory.path + "/journal.jsonl"), runID: "t")
    }

    /// route exits 0 and prints `…: not in table`: the item failed, with route's words; it is
    /// never journaled deleted. (ifconfig's exit status is its answer: the feth is deleted.)
    @Test func aDeleteTheKernelRefusedIsAFailureThoughRouteExitedZero() throws {
        let standIns = try StandInTools(ifconfig: DarwinReaperTests.ifconfig, netstat: DarwinReaperTests.netstat, lsof: DarwinReaperTests.lsof,
                                        ps: DarwinReaperTests.ps, route: .notInTable, netstatAfter: DarwinReaperTests.netstat)
        let results = try run(standIns)
        for name in ["utun0", "utun1", "utun2"] {
            let result = try #require(results.first { $0.ifname == name })
            #expect(result.outcome == .failed && result.detail?.contains(": not in table`") == true, "\(result)")
        }
        #expect(results.first { $0.ifname == "feth8846" }?.outcome == .deleted)
    }

    /// route exits 0 and prints nothing: no confirmation, no deletion.
    @Test func aSilentRouteIsNoDeletion() throws {
        let standIns = try StandInTools(ifconfig: DarwinReaperTests.ifconfig, netstat: DarwinReaperTests.netstat, lsof: DarwinReaperTests.lsof,
                                        ps: DarwinReaperTests.ps, route: .silent, netstatAfter: DarwinReaperTests.netstat)
        let results = try run(standIns)
        let utun0 = try #require(results.first { $0.ifname == "utun0" })
        #expect(utun0.outcome == .failed && utun0.detail?.contains("exited 0 but printed nothing") == true, "\(utun0)")
    }

    /// route prints its success line, yet the table read afterwards still holds the route: failed.
    @Test func aRouteStillListedAfterwardsIsAFailure() throws {
        let after = DarwinReaperTests.netstat.replacingOccurrences(of: "default fe80::%utun1 UGcIg utun1\n", with: "")
        let standIns = try StandInTools(ifconfig: DarwinReaperTests.ifconfig, netstat: DarwinReaperTests.netstat, lsof: DarwinReaperTests.lsof,
                                        ps: DarwinReaperTests.ps, route: .succeeds, netstatAfter: after)
        let results = try run(standIns)
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["utun1"]?.outcome == .deleted, "\(results)")
        #expect(byName["utun0"]?.outcome == .failed && byName["utun0"]?.detail?.contains("still lists") == true, "\(results)")
        #expect(byName["utun2"]?.outcome == .failed, "\(results)")
    }

    /// The holder closed the utun between the last look and the act: `-ifscope utunN` gets "bad
    /// interface name" (exit 1). Its routes went with it: skipped, saying so, never a failure.
    @Test func aUtunGoneBeforeTheActIsSaidToHaveTakenItsRoutes() throws {
        let standIns = try StandInTools(ifconfig: DarwinReaperTests.ifconfig, netstat: DarwinReaperTests.netstat, lsof: DarwinReaperTests.lsof,
                                        ps: DarwinReaperTests.ps, route: .badInterfaceName)
        let results = try run(standIns)
        let utun0 = try #require(results.first { $0.ifname == "utun0" })
        #expect(utun0.outcome == .skipped, "\(utun0)")
        #expect(utun0.detail?.contains("utun0 no longer exists") == true && utun0.detail?.contains("takes its routes with it") == true, "\(utun0)")
        #expect(utun0.detail?.contains("bad interface name") == true)
        #expect(!results.contains { $0.outcome == .failed }, "\(results)")
    }
}
