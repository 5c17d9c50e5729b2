import Foundation
import Testing
import TunwardenCore

/// The watcher's hold-down of improvements (`AlertDecision.damp`): a daemon restarting in a loop
/// on its persistent tun raises one alert, not a "resolved" and a "new orphan" per restart, while
/// a worsening or an orphan never alerted before is alerted at once.
@Suite struct ImprovementHoldTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func assessment(orphans: [String], live: [String] = [], limit: Int = 95) -> Assessment {
        let interfaces = orphans.enumerated().map { Build.tun($0.offset + 2, $0.element) }
            + live.enumerated().map { Build.tun($0.offset + 100, $0.element, persistent: false) }
        return Heuristics.assess(Build.snapshot(interfaces), policy: AuditPolicy(limit: limit))
    }

    /// Decides and damps at `now` as a watcher does, remembering only what is not held; returns
    /// the alert made, and leaves `hold.since` as the watcher keeps it.
    func judge(_ assessment: Assessment, at now: Date, history: inout NamespaceHistory, hold: inout AlertDecision.Hold) -> AlertDecision.Alert? {
        let (alert, heldSince) = AlertDecision.damp(AlertDecision.decide(assessment, history: history, host: "h"), now: now, hold: hold)
        hold.since = heldSince
        if heldSince == nil { AlertDecision.remember(assessment, alert: alert, in: &history) }
        return alert
    }

    @Test func aResolvedIsHeldUntilItHasLastedAndARelapseWithinItIsNoChange() throws {
        var history = NamespaceHistory(), hold = AlertDecision.Hold(holdDown: 60)
        let orphaned = assessment(orphans: ["vpn0"]), attached = assessment(orphans: [], live: ["vpn0"])
        // The first transition is a worsening: alerted at once.
        let first = try #require(judge(orphaned, at: t0, history: &history, hold: &hold))
        #expect(first.event == "transition" && first.newOrphans == ["vpn0"] && hold.since == nil)
        // Re-attached: held, and what was alerted stays remembered.
        #expect(judge(attached, at: t0 + 1, history: &history, hold: &hold) == nil)
        #expect(hold.since == t0 + 1 && history.alertedStatus == .warning && history.alertedOrphans == ["vpn0"])
        // Closed again within the hold-down: neither a transition nor a new orphan; the hold ends.
        #expect(judge(orphaned, at: t0 + 2, history: &history, hold: &hold) == nil)
        #expect(hold.since == nil)
        // Re-attached once more: held from then, still held 59 s on.
        #expect(judge(attached, at: t0 + 3, history: &history, hold: &hold) == nil)
        #expect(judge(attached, at: t0 + 62, history: &history, hold: &hold) == nil)
        #expect(hold.since == t0 + 3)
        // Lasted 60 s: resolved, once.
        let resolved = try #require(judge(attached, at: t0 + 63, history: &history, hold: &hold))
        #expect(resolved.event == "resolved" && resolved.previousStatus == .warning && resolved.status == .ok && hold.since == nil)
        #expect(judge(attached, at: t0 + 64, history: &history, hold: &hold) == nil)
        #expect(history.alerts.map(\.event) == ["transition", "resolved"] && history.alertedOrphans.isEmpty)
        // Orphaned after that: alerted, and a new orphan again.
        let again = try #require(judge(orphaned, at: t0 + 65, history: &history, hold: &hold))
        #expect(again.event == "transition" && again.newOrphans == ["vpn0"])
    }

    @Test func aNewOrphanOrAWorseningDuringAHoldIsAlertedAtOnce() throws {
        var history = NamespaceHistory(), hold = AlertDecision.Hold(holdDown: 60)
        _ = try #require(judge(assessment(orphans: ["vpn0"]), at: t0, history: &history, hold: &hold))
        #expect(judge(assessment(orphans: [], live: ["vpn0"]), at: t0 + 1, history: &history, hold: &hold) == nil)
        // Another device orphaned while the first one's recovery is held: a new orphan, at once.
        let other = try #require(judge(assessment(orphans: ["vpn1"], live: ["vpn0"]), at: t0 + 2, history: &history, hold: &hold))
        #expect(other.event == "new-orphan" && other.newOrphans == ["vpn1"] && hold.since == nil)
        // Worse than alerted (over the limit): at once, whatever is held.
        var worse = NamespaceHistory(), held = AlertDecision.Hold(holdDown: 60)
        _ = try #require(judge(assessment(orphans: ["a0"], limit: 3), at: t0, history: &worse, hold: &held))
        #expect(judge(assessment(orphans: [], live: ["a0"], limit: 3), at: t0 + 1, history: &worse, hold: &held) == nil)
        let critical = try #require(judge(assessment(orphans: ["a0", "a1", "a2"], limit: 3), at: t0 + 2, history: &worse, hold: &held))
        #expect(critical.status == .critical && critical.previousStatus == .warning && held.since == nil)
        // Better than critical but not ok (the count back under the limit, an orphan left): held too.
        #expect(judge(assessment(orphans: ["a0"], limit: 3), at: t0 + 3, history: &worse, hold: &held) == nil)
        #expect(held.since == t0 + 3 && worse.alertedStatus == .critical)
        let down = try #require(judge(assessment(orphans: ["a0"], limit: 3), at: t0 + 63, history: &worse, hold: &held))
        #expect(down.event == "transition" && down.status == .warning && down.previousStatus == .critical)
    }

    @Test func noHoldDownAlertsEveryImprovementAtOnce() throws {
        var history = NamespaceHistory(), hold = AlertDecision.Hold(holdDown: 0)
        _ = try #require(judge(assessment(orphans: ["vpn0"]), at: t0, history: &history, hold: &hold))
        let resolved = try #require(judge(assessment(orphans: [], live: ["vpn0"]), at: t0 + 1, history: &history, hold: &hold))
        #expect(resolved.event == "resolved" && hold.since == nil)
    }
}
