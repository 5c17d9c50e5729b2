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

    /// A count hovering at the threshold keeps the finding once a recorded sample reached it,
    /// until no more than half the threshold remain; a count that never reached it raises none.
    @Test func leakGrowthOnceReachedStaysWhileMoreThanHalfRemain() {
        let policy = GrowthPolicy(growth: 5, window: 3600)
        #expect(policy.kept == 2)
        // Baseline 10 at t0; a sample at 16 (+6) reached the threshold.
        let reached = samples([(0, 10), (60, 14), (120, 16)])
        for (current, kept) in [(16, true), (15, true), (14, true), (13, true), (12, false), (10, false), (9, false)] {
            let finding = policy.finding(reached, current: current, now: t0 + 180)
            #expect((finding != nil) == kept, "\(current)")
            if current < 15, let finding {
                #expect(finding.evidence.contains("after 6 within the window"), "\(finding.evidence)")
                #expect(finding.evidence.contains("stays until 2 or fewer remain"), "\(finding.evidence)")
            }
        }
        // Never reached (+4 at most): nothing below the threshold, the threshold itself raises it.
        let hovering = samples([(0, 10), (60, 14), (120, 12), (150, 14)])
        #expect(policy.finding(hovering, current: 14, now: t0 + 180) == nil)
        #expect(policy.finding(hovering, current: 15, now: t0 + 180) != nil)
        // A sample that reached it counts no more once it is the baseline: measured from 16 (at
        // t0+120, the last sample before the window), +4 raises nothing.
        let old = samples([(0, 10), (120, 16), (200, 17)])
        #expect(policy.finding(old, current: 20, now: t0 + 3750) == nil)
        #expect(policy.finding(old, current: 21, now: t0 + 3750) != nil)
        // With a threshold of one, the finding stays while one net new remains.
        let one = GrowthPolicy(growth: 1, window: 3600)
        #expect(one.finding(samples([(0, 3), (10, 4)]), current: 4, now: t0 + 20) != nil)
        #expect(one.finding(samples([(0, 3), (10, 4)]), current: 3, now: t0 + 20) == nil)
    }

    /// A leaking host's alert carries at most `findingsLimit` findings, those about its new
    /// orphans among them however late they come, and says how many there were; a small host's
    /// carries them all and no total.
    @Test func anAlertCarriesAtMostAHundredFindingsThoseOfItsNewOrphansAmongThem() throws {
        let names = (0..<300).map { "o\($0)" }
        var history = NamespaceHistory()
        let first = assessment(orphans: Array(names.prefix(299)))
        let alert = try #require(AlertDecision.decide(first, history: history, host: "h"))
        // The count over the limit (a finding about no one interface) first, then 99 orphans.
        #expect(alert.findings.count == AlertDecision.findingsLimit)
        #expect(alert.findings.first?.id == "tunnel-count")
        #expect(alert.findings.dropFirst().map(\.ifname) == names.prefix(99).map { $0 })
        #expect(alert.findingsTotal == 300)
        #expect(String(decoding: alert.json(), as: UTF8.self).hasSuffix(#","findings_total":300}"#))
        AlertDecision.remember(first, alert: alert, in: &history)
        // One more orphan, the last in report order: its finding is carried.
        let more = assessment(orphans: names)
        let next = try #require(AlertDecision.decide(more, history: history, host: "h"))
        #expect(next.event == "new-orphan" && next.newOrphans == ["o299"])
        #expect(next.findings.count == AlertDecision.findingsLimit)
        #expect(next.findings.contains { $0.ifname == "o299" })
        #expect(next.findings.first?.id == "tunnel-count")
        #expect(next.findings.dropFirst().filter { $0.ifname != "o299" }.map(\.ifname) == names.prefix(98).map { $0 })
        #expect(next.findingsTotal == 301)
        // In report order: the new orphan's finding comes last, as in the report.
        #expect(next.findings.last?.ifname == "o299")
        // A small host: every finding, no total.
        let small = try #require(AlertDecision.decide(assessment(orphans: ["s1", "s2"]), history: NamespaceHistory(), host: "h"))
        #expect(small.findings.count == 2 && small.findingsTotal == nil)
        #expect(!String(decoding: small.json(), as: UTF8.self).contains("findings_total"))
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
        #expect(Sparkline.render([5, 5, 5]) == "▄▄▄", "a constant count is not drawn as none")
        #expect(Sparkline.render([0, 0]) == "▁▁")
        #expect(Sparkline.render(Array(0..<600), width: 60).count == 60)
        #expect(Sparkline.render([]) == "")
    }
}
