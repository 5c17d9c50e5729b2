import Foundation

/// The facts of one namespace and the verdicts kept for them.
///
/// Interfaces are kept in slots: a loaded snapshot's interfaces take slots in its order (a
/// capture may list two interfaces under one index, or list them out of index order, and is
/// judged as listed), and a link that appears later takes a new slot, placed by its index.
/// Events name links by index, which leads to the slot that holds it now.
final class NamespaceFacts {
    typealias Slot = Int

    /// Everything but the interfaces and routes, which are kept below.
    var metadata: Snapshot
    var links: [Slot: NetworkInterface] = [:]
    /// Slots in the order snapshots list interfaces: the loaded snapshot's, then by index.
    var order: [Slot] = []
    var nextSlot: Slot = 0
    var slotByIndex: [Int: Slot] = [:]
    var slotByName: [String: Slot] = [:]
    /// Whether two slots ever shared a name (only a capture lists a name twice).
    var duplicateNames = false
    /// Which links name each index as their link (a veth's peer, a lower device) or master.
    var referrers: [Int: Set<Slot>] = [:]
    var routes: [Route] = []
    var routesByIndex: [Int: [Route]] = [:]
    /// The routes that take a source address, by it (see `Heuristics.routesBySource`).
    var routesBySource: [[UInt8]: [Route]] = [:]
    /// The kernel tunnels that send from an address, by it (see `Heuristics.tunnelsByLocal`).
    var tunnelsByLocal: [[UInt8]: [String]] = [:]
    var holderIndex: Heuristics.HolderIndex
    var stacking: Heuristics.Stacking?
    var verdicts: [Slot: (assessed: AssessedInterface, findings: [Finding])] = [:]
    var dirty = Set<Slot>()
    /// The holder scan's summary the kept findings name (`from`) and the one they are to name
    /// (`to`), while only that changed since the last judgement (see `reword`).
    var rewording: (from: (singleQueue: String, multiQueue: String), to: (singleQueue: String, multiQueue: String))?
    /// Set by a load: every interface is to be judged, in order, with nothing judged before
    /// (the one-shot audit's whole path, kept free of the bookkeeping changes need).
    var freshlyLoaded = false
    /// Whether `ensureIndexes` has built the tables changes need.
    private(set) var indexesBuilt = false
    /// A load's verdicts' findings, by position in the verdict list, until the tables are built.
    var loadedFindings: [[Finding]] = []
    /// Verdicts a streamed load gave its links as they arrived, for the load's judgement to take
    /// instead of judging again: every tunnel's, as the lists are kept, or some, by position.
    /// Dropped by the first change.
    var wholeArrivals: ArrivalVerdicts?
    var arrivalVerdicts: [Int: (assessed: AssessedInterface, findings: [Finding])] = [:]
    /// Whether every verdict counts as changed (after a load), for `takeChanges`.
    var allChanged = false
    /// The interfaces in `order`, kept as changes arrive, so that a snapshot is had without
    /// gathering them again.
    var interfaceList: [NetworkInterface] = []
    /// Whether `order` is in index order, so that positions are found by binary search: always
    /// but for a capture listed out of order, which gets no events.
    private(set) var indexOrdered = true
    /// The verdicts in `order` and their slots: kept as verdicts change while `indexOrdered`,
    /// gathered again otherwise.
    var assessedList: [AssessedInterface] = []
    var assessedSlots: [Slot] = []
    /// The interfaces' findings joined in list order, each with its interface's index, waiting to
    /// be sorted with the snapshot-scope findings by the next assessment (after a load, or when
    /// gathered again).
    var joinedFindings: (findings: [Finding], owners: [Int]) = ([], [])
    /// Every finding in report order. Kept as verdicts change while the list is by index and a
    /// change touches few interfaces, so that a watcher's burst neither gathers nor sorts the
    /// thousands of findings it did not touch; nil while `joinedFindings` waits.
    var sorted: SortedFindings?
    /// How many interfaces' findings were moved one at a time since the last assessment (see
    /// `findingsPatchLimit`).
    var findingsPatched = 0
    /// What the namespace's history adds (see `JudgingEngine.setHistoryFindings`): kept with
    /// the snapshot-scope findings, after them.
    var historyFindings: [Finding] = []
    /// The verdicts' counts by state and kind, kept as verdicts change.
    var counts = VerdictCounts()
    var listStale = true
    var findingsStale = true
    var judgedCount = 0
    /// Slots whose verdict changed for observations, and keys whose verdict went, since the last `takeChanges`.
    var changedSlots = Set<Slot>()
    var removedKeys: [(index: Int, name: String)] = []
    /// The keys (`index:name`) of devices that went (their link removed) since the last
    /// `takeChanges`: another device arriving under one within the burst is not the one that went.
    var departedKeys = Set<String>()
    /// Slots of tun and tap devices that a link change since the last `takeChanges` showed
    /// attached (`AttachEvidence`), whatever the link read after it showed: a hold shorter than a
    /// burst restarts the orphaned run all the same.
    var attachSeen = Set<Slot>()

    /// `streamed`: the finished stream the snapshot came from, whose verdicts given on arrival
    /// are taken instead of judging those interfaces again (see `StreamedSnapshot`).
    init(_ snapshot: Snapshot, streamed: StreamedSnapshot? = nil) {
        if let streamed {
            if streamed.judgedEveryTunnel { wholeArrivals = streamed.arrivals } else { arrivalVerdicts = streamed.verdictsByPosition }
        }
        metadata = snapshot
        metadata.interfaces = []
        metadata.routes = []
        holderIndex = Heuristics.HolderIndex(snapshot.holders, namespaceNames: snapshot.namespaceNames)
        // Slots are the snapshot's positions; the tables changes need are built when the first
        // change comes (`ensureIndexes`): a one-shot audit never needs them.
        order = Array(snapshot.interfaces.indices)
        nextSlot = snapshot.interfaces.count
        routes = snapshot.routes
        routesByIndex = Heuristics.routesPerInterface(routes)
        routesBySource = Heuristics.routesBySource(routes)
        tunnelsByLocal = Heuristics.tunnelsByLocal(snapshot.interfaces)
        interfaceList = snapshot.interfaces
        indexOrdered = snapshot.interfaces.indices.dropFirst().allSatisfy { snapshot.interfaces[$0 - 1].index < snapshot.interfaces[$0].index }
        freshlyLoaded = true
    }

    /// Builds the tables changes are applied through (by slot, by index, by name, who names
    /// whom) and the verdicts of a load's judgement, once.
    func ensureIndexes() {
        guard !indexesBuilt else { return }
        indexesBuilt = true
        wholeArrivals = nil
        arrivalVerdicts = [:]
        let count = interfaceList.count
        links.reserveCapacity(count)
        slotByIndex.reserveCapacity(count)
        slotByName.reserveCapacity(count)
        for position in order.indices {
            let slot = order[position]
            let interface = interfaceList[position]
            links[slot] = interface
            if slotByIndex[interface.index] == nil { slotByIndex[interface.index] = slot }
            if slotByName[interface.name] == nil { slotByName[interface.name] = slot } else { duplicateNames = true }
            noteReferences(of: interface, in: slot, adding: true)
        }
        if !freshlyLoaded {
            verdicts.reserveCapacity(assessedSlots.count)
            for (position, slot) in assessedSlots.enumerated() { verdicts[slot] = (assessedList[position], loadedFindings[position]) }
            loadedFindings = []
        }
        if !indexOrdered { listStale = true }
    }

    /// The snapshot these facts make up (the lists are shared, not copied).
    var snapshot: Snapshot {
        var snapshot = metadata
        snapshot.interfaces = interfaceList
        snapshot.routes = routes
        return snapshot
    }

    /// Dates the facts: the snapshot they make up was true at `time`, when the boot clock read
    /// `bootClock` (see `Snapshot.bootClock`).
    func setTime(_ time: Date, bootClock: TimeInterval?) {
        metadata.takenAt = time
        metadata.bootClock = bootClock
    }

    func markAllDirty() {
        if !freshlyLoaded { dirty = Set(order) }
    }
}
