/// How many verdicts a namespace has in each state and of the kinds whole-namespace rules ask
/// about, kept as verdicts come, change and go: an assessment then needs no pass over thousands
/// of verdicts to count them, to find one that could not be judged, or to learn that there is
/// no utun for the hoard rule to look at.
struct VerdictCounts: Equatable {
    private var byState = [0, 0, 0, 0]
    /// By kind (its position in `InterfaceKind.allCases`) and state, four states to a kind.
    private var byKindState = [Int](repeating: 0, count: InterfaceKind.allCases.count * 4)
    private(set) var utun = 0
    private(set) var holderDevices = 0

    init() {}

    /// The counts of a list of verdicts.
    init(_ verdicts: [AssessedInterface]) {
        for position in verdicts.indices { add(verdicts[position]) }
    }

    mutating func add(_ verdict: AssessedInterface) { count(verdict, by: 1) }
    mutating func remove(_ verdict: AssessedInterface) { count(verdict, by: -1) }

    private mutating func count(_ verdict: AssessedInterface, by step: Int) {
        byState[Self.slot(verdict.state)] += step
        byKindState[Self.kindSlot(verdict.interface.kind) * 4 + Self.slot(verdict.state)] += step
        switch verdict.interface.kind {
        case .utun:
            utun += step
            holderDevices += step
        case .tun, .tap: holderDevices += step
        default: break
        }
    }

    func count(_ state: InterfaceState) -> Int { byState[Self.slot(state)] }

    /// The counts by state, as `Assessment.stateCounts` keeps them (states with none left out).
    var stateCounts: [InterfaceState: Int] {
        var counts: [InterfaceState: Int] = [:]
        for state in [InterfaceState.live, .orphaned, .suspect, .unknown] where count(state) > 0 { counts[state] = count(state) }
        return counts
    }

    /// The kinds and states that have verdicts, with how many, in kind and then state order.
    var kindStateCounts: [KindStateCount] {
        var counts: [KindStateCount] = []
        for (kindSlot, kind) in InterfaceKind.allCases.enumerated() {
            for state in [InterfaceState.live, .orphaned, .suspect, .unknown] where byKindState[kindSlot * 4 + Self.slot(state)] > 0 {
                counts.append(KindStateCount(kind: kind, state: state, count: byKindState[kindSlot * 4 + Self.slot(state)]))
            }
        }
        return counts
    }

    private static func kindSlot(_ kind: InterfaceKind) -> Int {
        InterfaceKind.allCases.firstIndex(of: kind)!
    }

    private static func slot(_ state: InterfaceState) -> Int {
        switch state {
        case .live: 0
        case .orphaned: 1
        case .suspect: 2
        case .unknown: 3
        }
    }
}

/// How many verdicts there are of one kind in one state.
public struct KindStateCount: Sendable, Equatable {
    public var kind: InterfaceKind
    public var state: InterfaceState
    public var count: Int
}
