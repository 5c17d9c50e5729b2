import Foundation
import Testing
@testable import TunwardenCore

/// The JSON of every record tunwarden writes, byte for byte against files kept in the tests
/// (`Golden/`): the audit report with its interface entries and findings, a reap report, an
/// alert, the observations of the state file and a namespace's history. A change to any of them shows here as a diff
/// to read and, when it is meant, to keep: run with TUNWARDEN_UPDATE_GOLDEN=1 to rewrite the files
/// (and document the change in the README's schema).
@Suite struct GoldenJSONTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let moment = Date(timeIntervalSince1970: 1_764_720_000)

    /// An assessment exercising every optional member: holders, addresses, routes with gateways
    /// and several next hops, tun details, traffic counters, a veth peer, context interfaces.
    static func judged() -> Assessment {
        var orphan = Build.tun(7, "kure_tun")
        orphan.stats = TrafficCounters(rxPackets: 1, txPackets: 2, rxBytes: 3, txBytes: UInt64.max)
        // (The kernel's own link-local address, IFA_PROTO 3, which the recreate commands leave to it.)
        var linkLocal = InterfaceAddress(local: IPAddress("fe80::1")!, prefixLength: 64, scope: "link")
        linkLocal.addressProtocol = 3
        orphan.addresses = [InterfaceAddress(local: IPAddress("10.8.0.2")!, prefixLength: 24, peer: IPAddress("10.8.0.1"), scope: "global"),
                            linkLocal,
                            InterfaceAddress(local: IPAddress("10.9.0.1")!, prefixLength: 24, scope: "global", broadcast: IPAddress("10.9.0.255"),
                                             label: "kure_tun:\\x01", flags: ["permanent", "noprefixroute"], validLifetime: 300,
                                             preferredLifetime: 0, metric: 9)]
        var live = Build.tun(8, "vpn\"0", carrier: true)
        live.tun = TunDetails(persistent: true, multiQueue: true, packetInfo: false, vnetHeader: true, owner: 1000, group: 27,
                              numQueues: 2, numDisabledQueues: 1)
        let veth = NetworkInterface(index: 9, name: "veth1", kind: .veth, infoKind: "veth", flags: ["BROADCAST", "UP"], operstate: "UP",
                                    carrier: true, mtu: 1500, group: 0, master: 3, link: 12, linkNetnsID: 4,
                                    hardwareAddress: "aa:bb:cc:dd:ee:ff", peerName: "eth0")
        let ethernet = NetworkInterface(index: 2, name: "eth0", kind: .other, infoKind: nil, flags: ["UP"], mtu: 1500)
        var multipath = Build.route("198.18.0.0/15", 7)
        multipath.nextHops = [NextHop(gateway: IPAddress("10.8.0.1"), interfaceIndex: 7, interfaceName: "kure_tun"),
                              NextHop(gateway: IPAddress("10.8.0.3"), interfaceIndex: 7, interfaceName: "kure_tun")]
        multipath.metric = 50
        multipath.routeProtocol = .static
        return Heuristics.assess(Build.snapshot([ethernet, orphan, live, veth],
                                                routes: [multipath, Build.route("128.0.0.0/1", 7), Build.route("192.0.2.0/24", 2)],
                                                holders: [Build.holder(42, "vpn\"0"), Build.holder(43, "gone0", here: false)]))
    }

    /// `judged()`, taken at a fixed moment.
    static func assessment() -> Assessment {
        var snapshot = judged().snapshot
        snapshot.takenAt = moment
        snapshot.namespaceIdentity = "netns-cookie:1@boot:golden"
        return Heuristics.assess(snapshot)
    }

    /// Compares `bytes` with the golden file. `keyOrderFree`: the record is a map whose keys are
    /// written in hash order (the observations' interfaces), so it is compared as a value.
    func check(_ name: String, _ bytes: [UInt8], keyOrderFree: Bool = false) throws {
        let file = Self.directory.appendingPathComponent(name)
        if keyOrderFree {
            let value = try JSONSerialization.jsonObject(with: Data(bytes))
            if ProcessInfo.processInfo.environment["TUNWARDEN_UPDATE_GOLDEN"] == "1" {
                try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys]).write(to: file)
                return
            }
            let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: file))
            #expect((value as? NSDictionary) == (golden as? NSDictionary), "\(name) differs from Golden/\(name) as a value")
            return
        }
        let text = String(decoding: bytes, as: UTF8.self) + "\n"
        if ProcessInfo.processInfo.environment["TUNWARDEN_UPDATE_GOLDEN"] == "1" {
            try Data(text.utf8).write(to: file)
            return
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(text == golden, "\(name) differs from Golden/\(name); if the change is meant, rewrite it with TUNWARDEN_UPDATE_GOLDEN=1")
        // Valid JSON, whatever else changes.
        #expect((try? JSONSerialization.jsonObject(with: Data(bytes))) != nil)
    }

    @Test func theAuditReport() throws {
        try check("audit-report.json", AuditReport(Self.assessment(), includeContext: true).json(pretty: true))
    }

    @Test func theAuditReportWithObservations() throws {
        let assessment = Self.assessment()
        var observations = Observations()
        observations.record(assessment, namespace: assessment.snapshot.namespaceIdentity, at: Self.moment.addingTimeInterval(-3600))
        try check("audit-report-observed.json", AuditReport(assessment, observations: observations).json(pretty: true))
        try check("observations.json", observations.json(pretty: true), keyOrderFree: true)
    }

    @Test func theReapReport() throws {
        let assessment = Self.assessment()
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: assessment.snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0, protect: ["vpn*"]), now: Self.moment)
        let results = plan.items.map { ReapItemResult(ifname: $0.ifname, ifindex: $0.interface.index, kind: $0.interface.kind, result: .deleted, detail: nil) }
        try check("reap-plan.json", ReapReport(plan: plan, results: nil).json(pretty: true))
        try check("reap-report.json", ReapReport(plan: plan, results: results).json(pretty: true))
        // A reap that first repaired what a killed one left: one device given back, one not.
        let repairs = [
            ReapRepair(run: "20251203T000000Z-1234", ifname: "mq0", ifindex: 9, result: .skipped,
                       detail: "run 20251203T000000Z-1234 was interrupted before deleting it; renamed back, set up again, group 0 restored"),
            ReapRepair(run: "20251203T000000Z-1234", ifname: "mq1", ifindex: 10, result: .failed,
                       detail: "run 20251203T000000Z-1234 was interrupted before fencing it; set up again, but it lacks what it had before: route 10.99.0.0/16"),
        ]
        try check("reap-report-repairs.json", ReapReport(plan: plan, results: results, repairs: repairs).json(pretty: true))
        // A dry run after a killed reap: what the real run would repair first.
        try check("reap-plan-pending.json", ReapReport(plan: plan, results: nil,
                                                       pendingRepairs: [PendingRepair(run: "20251203T000000Z-1234", ifname: "mq0", ifindex: 9)]).json(pretty: true))
        #expect(repairs.map(\.line) == [
            "Repaired mq0 (ifindex 9): run 20251203T000000Z-1234 was interrupted before deleting it; renamed back, set up again, group 0 restored",
            "Could not repair mq1 (ifindex 10): run 20251203T000000Z-1234 was interrupted before fencing it; set up again, but it lacks what it had before: route 10.99.0.0/16",
        ])
    }

    @Test func theAlert() throws {
        let alert = try #require(AlertDecision.decide(Self.assessment(), history: NamespaceHistory(), host: "golden-host"))
        try check("alert.json", alert.json(pretty: true))
    }

    /// `history --format json`: count samples, what was last alerted, the alerts that fired.
    @Test func theHistory() throws {
        let assessment = Self.assessment()
        var history = NamespaceHistory()
        history.addSample(CountSample(time: Self.moment.addingTimeInterval(-7200), count: 1))
        history.addSample(CountSample(time: Self.moment, count: assessment.interfaces.count))
        let alert = try #require(AlertDecision.decide(assessment, history: history, host: "golden-host"))
        AlertDecision.remember(assessment, alert: alert, in: &history)
        history.reapedTotal = 4
        try check("history.json", history.json(pretty: true))
        try check("history-empty.json", NamespaceHistory().json(pretty: true))
    }
}
