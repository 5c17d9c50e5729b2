import Foundation

/// When the watcher looks again at the tun and tap devices the kernel announces no attach or
/// detach for (down or orphaned ones).
///
/// Two kinds of look share one schedule. A periodic look comes every `interval`, or further
/// apart where a look costs more than `periodicBudget` of a core at that interval (on a host with
/// tens of thousands of devices a look is mostly the kernel's link dump), but never more than
/// `longestInterval` apart. A look is also asked for when a tun node is opened or closed
/// (`asked(at:)`): soon after, for the attach (TUNSETIFF) that follows an open at once or the
/// letting go that follows the last close, and again later, for one that takes its time. Every
/// look spends its CPU time from a credit that refills at `askedBudget` of a core up to
/// `creditLimit`, and an asked look waits while the credit is spent: a few opens in a row are
/// answered at once, and a storm of them is held to the budget. A clock set back neither refills
/// nor drains the credit.
struct LookSchedule {
    var interval: TimeInterval
    /// A look may take a tenth of a per cent of a core: at 10,000 tun devices (a look of about 60 ms,
    /// mostly the kernel's dump) that is one a minute, which the node events leave as a net for
    /// what they cannot hear.
    var periodicBudget = 0.001
    var longestInterval: TimeInterval = 60
    var askedBudget = 0.1
    let creditLimit: TimeInterval
    var delays: (soon: TimeInterval, later: TimeInterval) = (0.025, 1)

    private var lastLook: Date
    private var lastCost: TimeInterval = 0
    private var soon: Date?
    private var later: Date?
    /// The credit of CPU time as it was at `creditAt`; negative while spent.
    private var credit: TimeInterval
    private var creditAt: Date

    /// A schedule whose first periodic look is `interval` after `start`, with its credit full.
    init(start: Date, interval: TimeInterval = 5, creditLimit: TimeInterval = 1) {
        self.interval = interval
        self.creditLimit = creditLimit
        lastLook = start
        credit = creditLimit
        creditAt = start
    }

    /// A tun node was opened or closed at `time`.
    mutating func asked(at time: Date) {
        soon = soon ?? time.addingTimeInterval(delays.soon)
        later = time.addingTimeInterval(delays.later)
    }

    /// Forgets the looks asked for (there is nothing to look at).
    mutating func dropAsked() {
        (soon, later) = (nil, nil)
    }

    /// When the next look is due.
    var due: Date {
        let spacing = max(interval, min(longestInterval, lastCost / periodicBudget))
        let periodic = lastLook.addingTimeInterval(spacing)
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
        credit = min(creditLimit, credit + max(0, time.timeIntervalSince(creditAt)) * askedBudget) - cost
        creditAt = time
    }
}
