import Foundation

/// When the watcher looks again at the tun and tap devices the kernel announces no attach or
/// detach for (down or orphaned ones).
///
/// Two kinds of look share one schedule. A periodic look comes every `interval`, or further
/// apart where a look costs more than `periodicBudget` of a core at that interval (on a host with
/// tens of thousands of devices a look is mostly the kernel's link dump). A look is also asked
/// for when a tun node is opened or closed (`asked(at:opened:)`): soon after, for the attach
/// (TUNSETIFF) that follows an open at once or the letting go that follows the last close, and
/// after an open again later, for an attach that takes its time. Every look spends
/// its CPU time from a credit that refills at `askedBudget` of a core up to `creditLimit`, and an asked
/// look waits while the credit is spent: a few opens in a row are answered at once, and a storm
/// of them is held to the budget.
struct LookSchedule {
    var interval: TimeInterval = 5
    var periodicBudget = 0.0025
    var askedBudget = 0.1
    var creditLimit: TimeInterval = 1
    var delays: (soon: TimeInterval, later: TimeInterval) = (0.025, 1)

    private var lastLook: Date
    private var lastCost: TimeInterval = 0
    private var soon: Date?
    private var later: Date?
    /// The credit of CPU time as it was at `creditAt` (full at first); negative while spent.
    private var credit: TimeInterval = 1
    private var creditAt: Date

    /// A schedule whose first periodic look is `interval` after `start`.
    init(start: Date, interval: TimeInterval = 5) {
        self.interval = interval
        lastLook = start
        creditAt = start
    }

    /// A tun node was opened (`opened`) or closed at `time`.
    mutating func asked(at time: Date, opened: Bool = true) {
        soon = soon ?? time.addingTimeInterval(delays.soon)
        if opened { later = time.addingTimeInterval(delays.later) }
    }

    /// Forgets the looks asked for (there is nothing to look at).
    mutating func dropAsked() {
        (soon, later) = (nil, nil)
    }

    /// When the next look is due.
    var due: Date {
        let periodic = lastLook.addingTimeInterval(max(interval, lastCost / periodicBudget))
        guard let asked = [soon, later].compactMap({ $0 }).min() else { return periodic }
        let affordable = creditAt.addingTimeInterval(max(0, -credit) / askedBudget)
        return min(periodic, max(asked, affordable))
    }

    /// A look was taken at `time` and cost `cost` seconds of CPU.
    mutating func looked(at time: Date, cost: TimeInterval) {
        lastLook = time
        lastCost = cost
        if let due = soon, due <= time { soon = nil }
        if let due = later, due <= time { later = nil }
        credit = min(creditLimit, credit + time.timeIntervalSince(creditAt) * askedBudget) - cost
        creditAt = time
    }
}
