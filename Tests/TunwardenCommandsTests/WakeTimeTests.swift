import Foundation
import Testing
@testable import TunwardenCommands

/// When the watch loop sleeps until: the first deadline, except that what a due judgement will
/// serve (reaping, recording what waits) never wakes it before that judgement.
@Suite struct WakeTimeTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func theFirstDeadlineWakesTheLoop() {
        let stats = now.addingTimeInterval(60), look = now.addingTimeInterval(5)
        #expect(WatchLoop.wakeTime(judgement: nil, servedByJudgement: [nil, nil], others: [stats, look, nil]) == look)
        #expect(WatchLoop.wakeTime(judgement: now.addingTimeInterval(0.2), servedByJudgement: [], others: [stats, look]) == now.addingTimeInterval(0.2))
        #expect(WatchLoop.wakeTime(judgement: nil, servedByJudgement: [], others: []) == .distantFuture)
    }

    @Test func whatAJudgementServesWaitsForIt() {
        let judgement = now.addingTimeInterval(0.2), past = now.addingTimeInterval(-1), stats = now.addingTimeInterval(60)
        // Past due, with a judgement coming: the judgement, not the past (a poll that never sleeps).
        #expect(WatchLoop.wakeTime(judgement: judgement, servedByJudgement: [past, past], others: [stats]) == judgement)
        // With none coming, they wake the loop themselves.
        #expect(WatchLoop.wakeTime(judgement: nil, servedByJudgement: [nil, past], others: [stats]) == past)
        #expect(WatchLoop.wakeTime(judgement: nil, servedByJudgement: [now.addingTimeInterval(0.5)], others: [stats]) == now.addingTimeInterval(0.5))
    }
}
