import Foundation
import Testing
import TunwardenCore

@Suite struct HistoryTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func samples(_ counts: [(TimeInterval, Int)]) -> [CountSample] {
        counts.map { CountSample(time: t0 + $0.0, count: $0.1) }
    }

    @Test func leakGrowthNeedsEnoughNetNewWithinTheWindow() {
        let policy = GrowthPolicy(growth: 5, window: 3600)
        let history = samples([(0, 40), (1800, 41), (3600, 44)])
        // At t0+5400 the window starts at t0+1800 (41): 46 is +5.
        let finding = policy.finding(history, current: 46, now: t0 + 5400)
        #expect(finding?.id == "leak-growth")
        #expect(finding?.severity == .warning)
        #expect(finding?.evidence.hasPrefix("5 net new tunnel-style interfaces in 1h (41 → 46)") == true)
        #expect(policy.finding(history, current: 45, now: t0 + 5400) == nil)
        // Shorter history than the window: measured from the oldest sample.
        #expect(policy.finding(samples([(0, 10)]), current: 15, now: t0 + 60) != nil)
        #expect(policy.finding([], current: 100, now: t0) == nil)
    }

    func assessment(orphans: [String], live: [String] = []) -> Assessment {
        let interfaces = orphans.enumerated().map { Build.tun($0.offset + 2, $0.element) }
            + live.enumerated().map { Build.tun($0.offset + 100, $0.element, persistent: false) }
        return Heuristics.assess(Build.snapshot(interfaces))
    }

    @Test func alertsFireOnTransitionsAndNewOrphansOnly() {
        var history = NamespaceHistory()
        let first = assessment(orphans: ["t1"])
        let alert = AlertDecision.decide(first, history: history, host: "h")
        #expect(alert?.event == "transition")
        #expect(alert?.previousStatus == .ok)
        #expect(alert?.newOrphans == ["t1"])
        AlertDecision.remember(first, alert: alert, in: &history)

        // Unchanged: silent.
        #expect(AlertDecision.decide(assessment(orphans: ["t1"]), history: history, host: "h") == nil)
        // Same status, one more orphan: new-orphan.
        let second = assessment(orphans: ["t1", "t2"])
        let more = AlertDecision.decide(second, history: history, host: "h")
        #expect(more?.event == "new-orphan")
        #expect(more?.newOrphans == ["t2"])
        AlertDecision.remember(second, alert: more, in: &history)
        // Back to ok: resolved.
        let clean = assessment(orphans: [], live: ["vpn0"])
        let resolved = AlertDecision.decide(clean, history: history, host: "h")
        #expect(resolved?.event == "resolved")
        #expect(resolved?.status == .ok)
        AlertDecision.remember(clean, alert: resolved, in: &history)
        #expect(history.alerts.map(\.event) == ["transition", "new-orphan", "resolved"])
        #expect(AlertDecision.decide(clean, history: history, host: "h") == nil)
        // A clean first run raises nothing.
        #expect(AlertDecision.decide(clean, history: NamespaceHistory(), host: "h") == nil)
    }

    @Test func historiesAreBoundedAndOldStateFilesStillDecode() throws {
        var history = NamespaceHistory()
        for i in 0..<(NamespaceHistory.maximumSamples + 10) { history.addSample(CountSample(time: t0 + Double(i), count: i)) }
        #expect(history.counts.count == NamespaceHistory.maximumSamples)
        #expect(history.counts.first?.count == 10)
        let old = #"{"version":1,"namespaces":{}}"#
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(try decoder.decode(Observations.self, from: Data(old.utf8)).histories.isEmpty)
        // What the writer produces, the decoder reads.
        var observations = Observations()
        observations.histories["net:[1]"] = history
        let bytes = observations.json()
        #expect(try decoder.decode(Observations.self, from: Data(bytes)) == observations)
    }

    @Test func textfileMetrics() {
        var history = NamespaceHistory()
        history.reapedTotal = 12
        let a = assessment(orphans: ["t1", "t2"], live: ["vpn0"])
        let text = TextfileMetrics.render(a, history: history, now: t0)
        for line in [
            "# TYPE tunwarden_interfaces gauge",
            "tunwarden_interfaces{kind=\"tun\",state=\"live\"} 1",
            "tunwarden_interfaces{kind=\"tun\",state=\"orphaned\"} 2",
            "tunwarden_findings{id=\"orphaned-tun\",severity=\"warning\"} 2",
            "tunwarden_tunnel_limit 95",
            "tunwarden_status 1",
            "# TYPE tunwarden_reaped_total counter",
            "tunwarden_reaped_total 12",
            "tunwarden_last_run_timestamp_seconds 1800000000",
        ] {
            #expect(text.split(separator: "\n").contains(Substring(line)), "missing: \(line)")
        }
        #expect(text.hasSuffix("\n"))
    }

    @Test func sparklines() {
        #expect(Sparkline.render([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█")
        #expect(Sparkline.render([5, 5, 5]) == "▁▁▁")
        #expect(Sparkline.render(Array(0..<600), width: 60).count == 60)
        #expect(Sparkline.render([]) == "")
    }
}
