import Foundation
import Testing
@testable import TunwardenCommands

/// When the watcher looks at orphan candidates: periodic looks within their budget, looks asked
/// for by tun node events soon after, and a storm of events held to its budget.
struct LookScheduleTests {
    let start = Date(timeIntervalSince1970: 1_000_000)

    @Test func periodicLooksComeEveryIntervalOrFurtherApartWhenCostly() {
        var schedule = LookSchedule(start: start, interval: 5)
        #expect(schedule.due == start.addingTimeInterval(5))
        schedule.looked(at: start.addingTimeInterval(5), cost: 0.002)
        #expect(schedule.due == start.addingTimeInterval(10))
        // A look of 20 ms (3,000 devices) may take 0.1% of a core: one every 20 s.
        schedule.looked(at: start.addingTimeInterval(10), cost: 0.02)
        #expect(abs(schedule.due.timeIntervalSince(start) - 30) < 1e-6)
        // One of 64 ms (10,000 devices), or one that took a second (a holder scan of a huge
        // host), leaves a minute at most.
        schedule.looked(at: start.addingTimeInterval(30), cost: 0.064)
        #expect(schedule.due == start.addingTimeInterval(90))
        schedule.looked(at: start.addingTimeInterval(90), cost: 1)
        #expect(schedule.due == start.addingTimeInterval(150))
    }

    @Test func aClockSetBackNeitherRefillsNorDrainsTheCredit() {
        var schedule = LookSchedule(start: start, interval: 3600)
        schedule.looked(at: start, cost: 2)
        // Spent: a look asked for waits until 10% of a core has paid back the second owed (10 s).
        schedule.asked(at: start.addingTimeInterval(1))
        #expect(schedule.due == start.addingTimeInterval(10))
        // The clock goes back an hour: no debt of an hour is added.
        schedule.looked(at: start.addingTimeInterval(-3600), cost: 0)
        schedule.asked(at: start.addingTimeInterval(-3599))
        #expect(schedule.due == start.addingTimeInterval(-3600 + 10))
    }

    @Test func anOpenAsksForALookSoonAndAnotherASecondLater() {
        var schedule = LookSchedule(start: start, interval: 3600)
        let open = start.addingTimeInterval(100)
        // An open, and then a close, each ask for the same two looks; after them comes only the
        // periodic look, an hour after the last.
        for asked in [open, open.addingTimeInterval(10)] {
            schedule.asked(at: asked)
            #expect(schedule.due == asked.addingTimeInterval(0.025))
            schedule.looked(at: schedule.due, cost: 0.064)
            #expect(schedule.due == asked.addingTimeInterval(1))
            schedule.looked(at: schedule.due, cost: 0.064)
            #expect(schedule.due == asked.addingTimeInterval(3601))
        }
        // With nothing to look at, what was asked for is dropped.
        schedule.asked(at: open.addingTimeInterval(20))
        schedule.dropAsked()
        #expect(schedule.due == open.addingTimeInterval(3611))
    }

    @Test func aFewOpensInARowAreAnsweredAtOnce() {
        var schedule = LookSchedule(start: start, interval: 3600)
        for second in 1...5 {
            let open = start.addingTimeInterval(Double(second) * 0.3)
            schedule.asked(at: open)
            #expect(schedule.due == open.addingTimeInterval(0.025), "open \(second)")
            schedule.looked(at: schedule.due, cost: 0.064)
        }
    }

    @Test func aStormOfOpensIsHeldToTheBudget() {
        for cost in [0.001, 0.064, 0.5] {
            var schedule = LookSchedule(start: start, interval: 5)
            var spent = 0.0, looks = 0
            // An open every 10 ms for 60 s.
            for tick in 0..<6000 {
                let now = start.addingTimeInterval(Double(tick) * 0.01)
                schedule.asked(at: now)
                if schedule.due <= now {
                    schedule.looked(at: now, cost: cost)
                    spent += cost
                    looks += 1
                }
            }
            // At most 10% of a core, plus the credit it starts with and one look's overshoot.
            #expect(spent <= 0.1 * 60 + 1 + cost, "cost \(cost): \(spent) s in \(looks) looks")
            // And not starved: most of the budget is used, or, for cheap looks, one comes within
            // about the soon delay of each open.
            #expect(Double(looks) >= min(0.1 * 60 * 0.8 / cost, 60 / 0.05), "cost \(cost): \(spent) s in \(looks) looks")
        }
    }
}
