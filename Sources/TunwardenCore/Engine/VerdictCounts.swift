/// How many verdicts a namespace has of each kind in each state, kept as verdicts come, change
/// and go: an assessment then needs no pass over thousands of verdicts to count them by state or
/// by kind (for the metrics), to find one that could not be judged, or to learn that there is no
/// utun for the hoard rule to look at.
struct VerdictCounts: Equatable {
    /// By kind (its position in `InterfaceKind.allCases`) and state, four states to a kind.
    private var byKindState = [Int](repeating: 0, count: InterfaceKind.allCases.count * 4)

    init() {}

    /// The counts of a list of verdicts.
    init(_ verdicts: [AssessedInterface]) {
        for position in verdicts.indices { add(verdicts[position]) }
    }

    mutating func add(_ verdict: AssessedInterface) { count(verdict, by: 1) }
    mutating func remove(_ verdict: AssessedInterface) { count(verdict, by: -1) }

    private mutating func count(_ verdict: AssessedInterface, by step: Int) {
        byKindState[Self.kindSlot(verdict.interface.kind) * 4 + Self.slot(verdict.state)] += step
    }

    func count(_ state: InterfaceState) -> Int {
        InterfaceKind.allCases.indices.reduce(0) { $0 + byKindState[$1 * 4 + Self.slot(state)] }
    }

    /// How many verdicts there are of this kind.
    func count(of kind: InterfaceKind) -> Int {
        byKindState[(Self.kindSlot(kind) * 4)..<(Self.kindSlot(kind) * 4 + 4)].reduce(0, +)
    }

    var utun: Int { count(of: .utun) }
    /// Verdicts of the kinds a process holds (tun, tap, utun).
    var holderDevices: Int { count(of: .tun) + count(of: .tap) + count(of: .utun) }

    /// The kinds and states that have verdicts, with how many, in kind and then state order.
    var kindStateCounts: [KindStateCount] {
        var counts: [KindStateCount] = []
        for (kindSlot, kind) in InterfaceKind.allCases.enumerated() {
            for state in Self.states where byKindState[kindSlot * 4 + Self.slot(state)] > 0 {
                counts.append(KindStateCount(kind: kind, state: state, count: byKindState[kindSlot * 4 + Self.slot(state)]))
            }
        }
        return counts
    }

    private static let states: [InterfaceState] = [.live, .orphaned, .suspect, .unknown]

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
