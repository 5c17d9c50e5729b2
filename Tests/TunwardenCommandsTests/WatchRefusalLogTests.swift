#if os(Linux)
import Testing
@testable import TunwardenCommands

/// `watch --reap` judges at every change; a journal that stays damaged must not put the same
/// refusal in the log at each judgement, yet a new refusal, or the same one an hour on, is logged.
@Suite struct WatchRefusalLogTests {
    @Test func theSameRefusalIsLoggedOnceAnHour() {
        let check = RepairCheck()
        let start = ContinuousClock.now
        let damaged = "watch: reap refused, nothing changed: line 3 is not a journal record"
        #expect(check.isNew(refusal: damaged, now: start))
        #expect(!check.isNew(refusal: damaged, now: start + .seconds(1)))
        #expect(!check.isNew(refusal: damaged, now: start + .seconds(3599)))
        // Another reason is news at once.
        let unwritable = "watch: reap refused, nothing changed: the journal cannot be written"
        #expect(check.isNew(refusal: unwritable, now: start + .seconds(3599)))
        #expect(check.isNew(refusal: damaged, now: start + .seconds(3600)))
        #expect(check.isNew(refusal: damaged, now: start + .seconds(7200)))
        // Once a reap is no longer refused, the next refusal is news again.
        check.refusal = nil
        #expect(check.isNew(refusal: damaged, now: start + .seconds(7201)))
    }
}
#endif
