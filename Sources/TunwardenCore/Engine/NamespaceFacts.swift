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
    private var links: [Slot: NetworkInterface] = [:]
    /// Slots in the order snapshots list interfaces: the loaded snapshot's, then by index.
    private var order: [Slot] = []
    private var nextSlot: Slot = 0
    private var slotByIndex: [Int: Slot] = [:]
    private var slotByName: [String: Slot] = [:]
    /// Whether two slots ever shared a name (only a capture lists a name twice).
    private var duplicateNames = false
    /// Which links name each index as their link (a veth's peer, a lower device) or master.
    private var referrers: [Int: Set<Slot>] = [:]
    private var routes: [Route] = []
    private var routesByIndex: [Int: [Route]] = [:]
    /// The routes that take a source address, by it (see `Heuristics.routesBySource`).
    private var routesBySource: [[UInt8]: [Route]] = [:]
    private var holderIndex: Heuristics.HolderIndex
    private var stacking: Heuristics.Stacking?
    private var verdicts: [Slot: (assessed: AssessedInterface, findings: [Finding])] = [:]
    private var dirty = Set<Slot>()
    /// Set by a load: every interface is to be judged, in order, with nothing judged before
    /// (the one-shot audit's whole path, kept free of the bookkeeping changes need).
    private var freshlyLoaded = false
    /// Whether `ensureIndexes` has built the tables changes need.
    private var indexesBuilt = false
    /// A load's verdicts' findings, by position in the verdict list, until the tables are built.
    private var loadedFindings: [[Finding]] = []
    /// Verdicts a streamed load gave its links as they arrived, for the load's judgement to take
    /// instead of judging again: every tunnel's, as the lists are kept, or some, by position.
    /// Dropped by the first change.
    private var wholeArrivals: ArrivalVerdicts?
    private var arrivalVerdicts: [Int: (assessed: AssessedInterface, findings: [Finding])] = [:]
    /// Whether every verdict counts as changed (after a load), for `takeChanges`.
    private var allChanged = false
    /// The interfaces in `order`, kept as changes arrive, so that a snapshot is had without
    /// gathering them again.
    private var interfaceList: [NetworkInterface] = []
    /// Whether `order` is in index order, so that positions are found by binary search: always
    /// but for a capture listed out of order, which gets no events.
    private var indexOrdered = true
    /// The verdicts in `order` and their slots: kept as verdicts change while `indexOrdered`,
    /// gathered again otherwise.
    private var assessedList: [AssessedInterface] = []
    private var assessedSlots: [Slot] = []
    /// The interfaces' findings joined in list order, each with its interface's index, waiting to
    /// be sorted with the snapshot-scope findings by the next assessment (after a load, or when
    /// gathered again).
    private var joinedFindings: (findings: [Finding], owners: [Int]) = ([], [])
    /// Every finding in report order. Kept as verdicts change while the list is by index and a
    /// change touches few interfaces, so that a watcher's burst neither gathers nor sorts the
    /// thousands of findings it did not touch; nil while `joinedFindings` waits.
    private var sorted: SortedFindings?
    /// What the namespace's history adds (see `JudgingEngine.setHistoryFindings`): kept with
    /// the snapshot-scope findings, after them.
    var historyFindings: [Finding] = []
    /// The verdicts' counts by state and kind, kept as verdicts change.
    private var counts = VerdictCounts()
    private var listStale = true
    private var findingsStale = true
    var judgedCount = 0
    /// Slots whose verdict changed for observations, and keys whose verdict went, since the last `takeChanges`.
    private var changedSlots = Set<Slot>()
    private var removedKeys: [(index: Int, name: String)] = []

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
        interfaceList = snapshot.interfaces
        indexOrdered = snapshot.interfaces.indices.dropFirst().allSatisfy { snapshot.interfaces[$0 - 1].index < snapshot.interfaces[$0].index }
        freshlyLoaded = true
    }

    /// Builds the tables changes are applied through (by slot, by index, by name, who names
    /// whom) and the verdicts of a load's judgement, once.
    private func ensureIndexes() {
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

    /// Dates the facts: the snapshot they make up was true at `time`.
    func setTime(_ time: Date) {
        metadata.takenAt = time
    }

    func markAllDirty() {
        if !freshlyLoaded { dirty = Set(order) }
    }

    // MARK: applying changes

    /// Applies one change; returns false when it only repeated what was known.
    func apply(_ change: FactChange) -> Bool {
        ensureIndexes()
        switch change {
        case var .link(interface):
            let slot: Slot
            let old: NetworkInterface?
            if let existing = slotByIndex[interface.index] {
                slot = existing
                old = links[existing]
            } else {
                slot = nextSlot
                nextSlot += 1
                old = nil
                let position = insertionPoint(interface.index)
                order.insert(slot, at: position)
                interfaceList.insert(interface, at: position)
                slotByIndex[interface.index] = slot
            }
            interface.addresses = old?.addresses ?? []
            interface.masterName = interface.master.flatMap { $0 > 0 ? slotByIndex[$0].flatMap { links[$0]?.name } : nil }
            // A link read again and found as it was (the watcher's looks) changes nothing.
            if let old, old == interface { return false }
            if let old {
                noteReferences(of: old, in: slot, adding: false)
                if old.name != interface.name { forgetName(old.name, of: slot) }
                // Observations are kept by index and name: a renamed interface is a new one.
                if old.name != interface.name, verdicts[slot] != nil { removedKeys.append((old.index, old.name)) }
            }
            store(interface, in: slot)
            if let other = slotByName[interface.name], other != slot { duplicateNames = true }
            slotByName[interface.name] = slot
            noteReferences(of: interface, in: slot, adding: true)
            touchLink(interface.index, slot: slot, old: old, new: interface)
            if metadata.platform == .linux, old?.isUp == true, !interface.isUp { flushIPv4Routes(of: interface.index) }
            if old?.name != interface.name {
                // Routes name their devices, and ports their master.
                renameInRoutes(interface.index, to: interface.name)
                for port in referrers[interface.index] ?? [] where links[port]?.master == interface.index {
                    if var renamed = links[port] {
                        renamed.masterName = interface.name
                        store(renamed, in: port)
                    }
                }
            }
        case let .linkRemoved(index):
            guard let slot = slotByIndex.removeValue(forKey: index), let old = links.removeValue(forKey: slot) else { return false }
            noteReferences(of: old, in: slot, adding: false)
            if let position = position(of: slot, index: index) {
                order.remove(at: position)
                interfaceList.remove(at: position)
            }
            forgetName(old.name, of: slot)
            if let gone = verdicts.removeValue(forKey: slot) {
                counts.remove(gone.assessed)
                removedKeys.append((old.index, old.name))
                dropFromList(slot, index: index, findings: gone.findings)
            }
            changedSlots.remove(slot)
            dirty.remove(slot)
            for port in referrers[index] ?? [] where links[port]?.master == index {
                if var orphaned = links[port] {
                    orphaned.masterName = nil
                    store(orphaned, in: port)
                }
            }
            touchLink(index, slot: slot, old: old, new: nil)
            // The kernel deletes a device's routes with it without announcing each deletion, and
            // those its addresses were the source of.
            let gone = routes.filter { $0.nextHops.contains { $0.interfaceIndex == index } }
            if !gone.isEmpty {
                routes.removeAll { $0.nextHops.contains { $0.interfaceIndex == index } }
                rebuildRoutesByIndex(touching: gone)
            }
            if metadata.platform == .linux {
                for address in old.addresses {
                    dirtySourcing(address)
                    if address.family == .inet { flushRoutesSourced(from: address.local) }
                }
            }
        case let .addressAdded(index, address):
            guard let slot = slotByIndex[index], var interface = links[slot] else { return false }
            dirtySourcing(address)
            if let position = interface.addresses.firstIndex(where: { $0.isSameAssignment(as: address) }) {
                interface.addresses[position] = address
            } else {
                interface.addresses.append(address)
            }
            store(interface, in: slot)
            dirty.insert(slot)
        case let .addressRemoved(index, address):
            guard let slot = slotByIndex[index], var interface = links[slot] else { return false }
            dirtySourcing(address)
            let hadIPv4 = interface.addresses.contains { $0.family == .inet }
            interface.addresses.removeAll { $0.isSameAssignment(as: address) }
            store(interface, in: slot)
            dirty.insert(slot)
            if metadata.platform == .linux, hadIPv4, !interface.addresses.contains(where: { $0.family == .inet }) { flushIPv4Routes(of: index) }
            if metadata.platform == .linux, address.family == .inet { flushRoutesSourced(from: address.local) }
        case let .routeAdded(route):
            let identity = route.identity
            put(route) { $0.identity == identity }
        case let .routeReplaced(route):
            let base = route.baseIdentity
            put(route) { $0.baseIdentity == base }
        case let .routeRemoved(route):
            let identity = route.identity
            let removed = routes.filter { $0.identity == identity }
            guard !removed.isEmpty else { return false }
            routes.removeAll { $0.identity == identity }
            rebuildRoutesByIndex(touching: removed)
        case let .holders(scan, namespaceNames):
            let next = Heuristics.HolderIndex(scan, namespaceNames: namespaceNames)
            if scan.complete != holderIndex.scan.complete {
                // Every verdict says whether its holders are known.
                markAllDirty()
            } else if next.scanText != holderIndex.scanText || scan.incompleteReason != holderIndex.scan.incompleteReason
                || scan.socketsUnknown != holderIndex.scan.socketsUnknown || scan.forwardsUnknown != holderIndex.scan.forwardsUnknown
                || scan.nftablesHooks.byPrefix != holderIndex.scan.nftablesHooks.byPrefix
                || scan.remedy != holderIndex.scan.remedy || scan.opaquePIDs != holderIndex.scan.opaquePIDs
                || namespaceNames != holderIndex.namespaceNames {
                // Every verdict that names the scan depends on it.
                for slot in order where links[slot].map({ [.tun, .tap, .utun].contains($0.kind) }) ?? false { dirty.insert(slot) }
            }
            // And the interfaces whose holders changed, whatever their kind (holders are found by
            // name), or the nftables chains hooked on them (by name too).
            for name in Set(holderIndex.byName.keys).union(next.byName.keys) where holderIndex.byName[name] != next.byName[name] {
                for slot in slots(named: name) { dirty.insert(slot) }
            }
            let (hooked, hooking) = (holderIndex.scan.nftablesHooks.byName, scan.nftablesHooks.byName)
            for name in Set(hooked.keys).union(hooking.keys) where hooked[name] != hooking[name] {
                for slot in slots(named: InterfaceName.text(name)) { dirty.insert(slot) }
            }
            // And those rules duplicate packets to by name (iptables TEE --oif).
            let (teed, teeing) = (holderIndex.scan.forwardsByName, scan.forwardsByName)
            for name in Set(teed.keys).union(teeing.keys) where teed[name] != teeing[name] {
                for slot in slots(named: InterfaceName.text(name)) { dirty.insert(slot) }
            }
            // And those whose sockets, redirects or forwards changed (found by index), and those
            // with an address whose sockets changed.
            let (wasBound, isBound) = (holderIndex.scan.addressSockets, scan.addressSockets)
            let (wasRaw, isRaw) = (holderIndex.scan.rawAddressSockets, scan.rawAddressSockets)
            dirtyTunsHaving(Set(Set(wasBound.keys).union(isBound.keys).filter { wasBound[$0] != isBound[$0] })
                .union(Set(wasRaw.keys).union(isRaw.keys).filter { wasRaw[$0] != isRaw[$0] }))
            let (was, now) = (holderIndex.scan.socketLists, scan.socketLists)
            for index in Set(was.packetMemberships.keys).union(now.packetMemberships.keys).union(was.multicastGroups.keys).union(now.multicastGroups.keys)
                .union(was.raw.keys).union(now.raw.keys)
            where was.packetMemberships[index] != now.packetMemberships[index] || was.multicastGroups[index] != now.multicastGroups[index]
                || was.raw[index] != now.raw[index] {
                if let slot = slotByIndex[index] { dirty.insert(slot) }
            }
            for index in Set(holderIndex.scan.packetSockets.keys).union(scan.packetSockets.keys)
                .union(holderIndex.scan.boundSockets.keys).union(scan.boundSockets.keys)
                .union(holderIndex.scan.redirects.keys).union(scan.redirects.keys)
                .union(holderIndex.scan.forwards.keys).union(scan.forwards.keys)
            where holderIndex.scan.packetSockets[index] != scan.packetSockets[index] || holderIndex.scan.boundSockets[index] != scan.boundSockets[index]
                || holderIndex.scan.redirects[index] != scan.redirects[index] || holderIndex.scan.forwards[index] != scan.forwards[index] {
                if let slot = slotByIndex[index] { dirty.insert(slot) }
            }
            holderIndex = next
            metadata.holders = scan
            metadata.namespaceNames = namespaceNames
        case let .peerNamespaces(peers):
            guard peers != metadata.peerNamespaces else { return false }
            metadata.peerNamespaces = peers
            for slot in order where links[slot]?.kind == .veth && links[slot]?.linkNetnsID != nil { dirty.insert(slot) }
        case let .processNames(names):
            guard names != metadata.processNames else { return false }
            metadata.processNames = names
            for slot in order where links[slot]?.kind == .feth { dirty.insert(slot) }
        }
        return true
    }

    /// Adds a route (its hops named), in place of the routes it `replaces`.
    private func put(_ route: Route, replacing replaces: (Route) -> Bool) {
        var route = route
        nameHops(&route)
        let replaced = routes.filter(replaces)
        if !replaced.isEmpty { routes.removeAll(where: replaces) }
        routes.append(route)
        rebuildRoutesByIndex(touching: replaced + [route])
    }

    /// Drops the IPv4 routes whose every next hop leaves through this device, as Linux does,
    /// without announcing it, when the device is set down or loses its last IPv4 address (IPv6
    /// announces its deletions; a multipath route keeps its other next hops).
    private func flushIPv4Routes(of index: Int) {
        func flushed(_ route: Route) -> Bool { route.family == .inet && !route.nextHops.isEmpty && route.nextHops.allSatisfy { $0.interfaceIndex == index } }
        let gone = routes.filter(flushed)
        guard !gone.isEmpty else { return }
        routes.removeAll(where: flushed)
        rebuildRoutesByIndex(touching: gone)
    }

    /// Marks the tun and tap devices that have `address`, when routes take it as source or sockets
    /// are bound to it: whether another device has it too decides whether those routes would go
    /// with them, and whether those sockets use them.
    private func dirtySourcing(_ address: InterfaceAddress) {
        guard (address.family == .inet && routesBySource[address.local.bytes] != nil)
            || holderIndex.scan.addressSockets[address.local.bytes] != nil else { return }
        dirtyTunsHaving([address.local.bytes])
    }

    /// Marks the tun and tap devices that have one of these addresses.
    private func dirtyTunsHaving(_ addresses: Set<[UInt8]>) {
        guard !addresses.isEmpty else { return }
        for slot in order {
            guard let link = links[slot], link.kind == .tun || link.kind == .tap else { continue }
            if link.addresses.contains(where: { addresses.contains($0.local.bytes) }) { dirty.insert(slot) }
        }
    }

    /// Drops the main table's IPv4 routes that take `address` as source once no device has it,
    /// as Linux does, without announcing it, when the address is removed (`fib_sync_down_addr`).
    private func flushRoutesSourced(from address: IPAddress) {
        guard let sourced = routesBySource[address.bytes], !sourced.isEmpty else { return }
        for slot in order where links[slot]?.hasIPv4Address(address.bytes) == true { return }
        routes.removeAll { $0.family == .inet && $0.table == .main && $0.preferredSource?.bytes == address.bytes }
        rebuildRoutesByIndex(touching: sourced)
    }

    /// Whether an interface counts in `Heuristics.Stacking`: it has a master, or is stacked on a
    /// lower device (a veth's link is its peer, not a lower device).
    private static func shapesStacking(_ interface: NetworkInterface) -> Bool {
        interface.master != nil || (interface.link != nil && interface.kind != .veth)
    }

    /// Marks what a link's arrival, change or departure touches: itself, the links it names and
    /// the links that name it; every feth, whose verdict names its peer by name; and a device
    /// whose name is shared with a removed one (holders are found by name).
    private func touchLink(_ index: Int, slot: Slot, old: NetworkInterface?, new: NetworkInterface?) {
        if new != nil { dirty.insert(slot) }
        for interface in [old, new].compactMap({ $0 }) {
            for other in [interface.link, interface.master].compactMap({ $0 }) {
                if let target = slotByIndex[other] { dirty.insert(target) }
            }
        }
        for other in referrers[index] ?? [] where links[other] != nil { dirty.insert(other) }
        // What is stacked on what changes only with a link that is stacked on another, is a
        // port of one, or is the lower device or master of one; a veth's link is its peer.
        if [old, new].contains(where: { $0.map(Self.shapesStacking) ?? false })
            || (referrers[index] ?? []).contains(where: { other in links[other].map { $0.master == index || ($0.link == index && $0.kind != .veth) } ?? false }) {
            stacking = nil
        }
        if old?.kind == .feth || new?.kind == .feth {
            for other in order where links[other]?.kind == .feth { dirty.insert(other) }
        }
        if let old, old.name != new?.name { for named in slots(named: old.name) { dirty.insert(named) } }
    }

    /// The slots of interfaces with this name: one, but a capture may list a name twice.
    private func slots(named name: String) -> [Slot] {
        guard let first = slotByName[name] else { return [] }
        return [first] + (duplicateNames ? order.filter { $0 != first && links[$0]?.name == name } : [])
    }

    /// Stops finding `slot` by a name it no longer has; another slot of that name (a capture may
    /// list one twice) is found by it instead.
    private func forgetName(_ name: String, of slot: Slot) {
        guard slotByName[name] == slot else { return }
        slotByName[name] = slots(named: name).dropFirst().first
    }

    private func noteReferences(of interface: NetworkInterface, in slot: Slot, adding: Bool) {
        for target in [interface.link, interface.master].compactMap({ $0 }) where target > 0 {
            if adding {
                referrers[target, default: []].insert(slot)
            } else {
                referrers[target]?.remove(slot)
                if referrers[target]?.isEmpty == true { referrers[target] = nil }
            }
        }
    }

    /// Keeps a slot's interface, in the slot and in the interface list.
    private func store(_ interface: NetworkInterface, in slot: Slot) {
        links[slot] = interface
        if let position = position(of: slot, index: interface.index) { interfaceList[position] = interface }
    }

    /// Where a slot sits in `order` (and the interface list): found by its index when the order
    /// is by index, else by looking.
    private func position(of slot: Slot, index: Int) -> Int? {
        if indexOrdered {
            let position = insertionPoint(index)
            if position < order.count, order[position] == slot { return position }
        }
        return order.firstIndex(of: slot)
    }

    /// Takes a verdict, with its findings, that went out of the verdict list.
    private func dropFromList(_ slot: Slot, index: Int, findings: [Finding]) {
        if !findings.isEmpty { changeFindings(of: index, from: findings, to: []) }
        guard !listStale else { return }
        if let position = listPosition(index), assessedSlots[position] == slot {
            assessedList.remove(at: position)
            assessedSlots.remove(at: position)
        } else {
            listStale = true
        }
    }

    /// How many interfaces' findings may be moved one at a time between two assessments: past
    /// that, gathering and sorting every finding again costs less (each move shifts the findings
    /// after it).
    static let findingsPatchLimit = 32
    private var findingsPatched = 0

    /// Notes that the interface with this index raised other findings: they are moved in the
    /// sorted findings while those are kept by index and few have changed, and gathered again
    /// otherwise.
    private func changeFindings(of index: Int, from old: [Finding], to new: [Finding]) {
        guard !findingsStale else { return }
        if findingsPatched < Self.findingsPatchLimit, indexOrdered, !listStale, sorted != nil {
            findingsPatched += 1
            sorted?.replace(owner: index, old: old, new: new)
        } else {
            findingsStale = true
        }
    }

    /// Where a verdict for this index sits, or would go, in the verdict list (index order).
    private func listPosition(_ index: Int) -> Int? {
        Heuristics.firstPosition(notBelow: index, count: assessedList.count) { assessedList[$0].interface.index }
    }

    /// Where a new link with this index goes in `order`: after every slot with a smaller index.
    private func insertionPoint(_ index: Int) -> Int {
        Heuristics.firstPosition(notBelow: index, count: order.count) { interfaceList[$0].index }
    }

    /// Gives a route's next hops the names of their devices, as the inventory does.
    private func nameHops(_ route: inout Route) {
        for position in route.nextHops.indices {
            if let index = route.nextHops[position].interfaceIndex, let name = slotByIndex[index].flatMap({ links[$0]?.name }) {
                route.nextHops[position].interfaceName = name
            }
        }
    }

    private func renameInRoutes(_ index: Int, to name: String) {
        guard routesByIndex[index] != nil else { return }
        var renamed: [Route] = []
        for position in routes.indices where routes[position].nextHops.contains(where: { $0.interfaceIndex == index }) {
            for hop in routes[position].nextHops.indices where routes[position].nextHops[hop].interfaceIndex == index {
                routes[position].nextHops[hop].interfaceName = name
            }
            renamed.append(routes[position])
        }
        // (The devices whose addresses they take as source name them in their verdicts.)
        rebuildRoutesByIndex(touching: renamed)
    }

    /// Re-derives the routes of each device and marks the devices the given routes leave through.
    private func rebuildRoutesByIndex(touching changed: [Route]) {
        routesByIndex = Heuristics.routesPerInterface(routes)
        routesBySource = Heuristics.routesBySource(routes)
        for route in changed {
            for hop in route.nextHops {
                if let index = hop.interfaceIndex, let slot = slotByIndex[index] { dirty.insert(slot) }
            }
        }
        // And the tun and tap devices whose addresses the changed routes take as source.
        dirtyTunsHaving(Set(Heuristics.routesBySource(changed).keys))
    }

    func changesInclude(where test: (AssessedInterface) -> Bool) -> Bool {
        allChanged ? assessedList.contains(where: test) : changedSlots.contains { verdicts[$0].map { test($0.assessed) } ?? false }
    }

    func removalsInclude(where test: (Int, String) -> Bool) -> Bool {
        removedKeys.contains { test($0.index, $0.name) }
    }

    func takeChanges() -> (changed: [AssessedInterface], removed: [(index: Int, name: String)]) {
        defer {
            changedSlots.removeAll()
            removedKeys.removeAll()
        }
        defer { allChanged = false }
        if allChanged { return (assessedList, []) }
        // In list order: by index, without a pass over every slot, when the list is by index.
        let changed = indexOrdered
            ? changedSlots.compactMap { verdicts[$0]?.assessed }.sorted { $0.interface.index < $1.interface.index }
            : order.filter(changedSlots.contains).compactMap { verdicts[$0]?.assessed }
        // A key removed and then used again (a name given back, even by the same interface
        // renamed away and back within one burst, whose verdict then did not change) is not removed.
        let kept = Set(changed.map { "\($0.interface.index):\($0.interface.name)" })
        return (changed, removedKeys.filter { key in
            !kept.contains("\(key.index):\(key.name)") && slotByIndex[key.index].flatMap { verdicts[$0]?.assessed.interface.name } != key.name
        })
    }

    // MARK: judging

    func assessment(policy: AuditPolicy) -> Assessment {
        let snapshot = self.snapshot
        if freshlyLoaded { judgeLoaded(snapshot: snapshot, policy: policy) }
        if !dirty.isEmpty { judgeDirty(snapshot: snapshot, policy: policy) }
        if listStale {
            assessedList = []
            assessedSlots = []
            assessedList.reserveCapacity(verdicts.count)
            for slot in order {
                guard let verdict = verdicts[slot] else { continue }
                assessedList.append(verdict.assessed)
                assessedSlots.append(slot)
            }
            listStale = !indexOrdered
            findingsStale = true
        }
        if findingsStale {
            sorted = nil
            joinedFindings = ([], [])
            for position in assessedSlots.indices {
                guard let found = verdicts[assessedSlots[position]]?.findings, !found.isEmpty else { continue }
                joinedFindings.findings += found
                joinedFindings.owners += repeatElement(assessedList[position].interface.index, count: found.count)
            }
            findingsStale = false
        }
        let whole = Heuristics.snapshotFindings(assessedList, counts: counts, snapshot: snapshot, policy: policy) + historyFindings
        if sorted == nil {
            // Taken out first, so that the findings are moved into the sorted list, not copied.
            let joined = joinedFindings
            joinedFindings = ([], [])
            sorted = SortedFindings(interfaceFindings: joined.findings, owners: joined.owners, whole: whole)
        } else if sorted?.whole != whole {
            sorted?.setWhole(whole)
        }
        let findings = sorted?.all ?? []
        findingsPatched = 0
        return Assessment(snapshot: snapshot, policy: policy, interfaces: assessedList, findings: findings,
                          status: Heuristics.status(findings: findings, anyUnknown: counts.count(.unknown) > 0, noInterfaces: assessedList.isEmpty,
                                                   inReportOrder: true),
                          counts: counts)
    }

    /// What judging an interface needs from the namespace as it stands.
    private func context(snapshot: Snapshot, policy: AuditPolicy) -> Heuristics.JudgingContext {
        let stacking = self.stacking ?? Heuristics.Stacking(snapshot.interfaces, foreign: snapshot.foreignUppers)
        self.stacking = stacking
        let links = self.links
        let slotByIndex = self.slotByIndex
        let slotByName = self.slotByName
        return Heuristics.JudgingContext(snapshot: snapshot, policy: policy, holders: holderIndex, stacking: stacking,
                                         nameOf: { slotByIndex[$0].flatMap { links[$0]?.name } },
                                         hasInterface: { slotByName[$0] != nil }, routesBySource: routesBySource,
                                         addressElsewhere: Self.addressElsewhere(links.values, asked: !holderIndex.scan.addressSockets.isEmpty || !routesBySource.isEmpty))
    }

    /// Whether a device other than the one with the given ifindex carries an address, answered
    /// from one pass over `interfaces` that maps every address to the devices carrying it: it is
    /// asked of each address a socket is bound to, thousands of them on a host whose DNS server
    /// binds every address, and of each address routes take as source. Nothing is built when it
    /// will not be `asked`.
    static func addressElsewhere(_ interfaces: some Sequence<NetworkInterface>, asked: Bool) -> ([UInt8], Int) -> Bool {
        guard asked else { return { _, _ in false } }
        var carriers: [[UInt8]: [Int]] = [:]
        for interface in interfaces {
            for address in interface.addresses where carriers[address.local.bytes]?.contains(interface.index) != true {
                carriers[address.local.bytes, default: []].append(interface.index)
            }
        }
        return { address, index in carriers[address]?.contains { $0 != index } ?? false }
    }

    /// Judges a freshly loaded namespace: every interface, in order, straight into the lists.
    private func judgeLoaded(snapshot: Snapshot, policy: AuditPolicy) {
        freshlyLoaded = false
        if let whole = wholeArrivals {
            // Every tunnel was judged as it arrived, in order: its lists are these lists (slots
            // are positions in a load).
            wholeArrivals = nil
            assessedList = whole.list
            assessedSlots = whole.positions
            counts = VerdictCounts(whole.list)
            joinedFindings = (whole.joinedFindings, whole.joinedOwners)
            sorted = nil
            loadedFindings = whole.findings
            judgedCount += whole.list.count
            allChanged = true
            listStale = false
            findingsStale = false
            return
        }
        let context: Heuristics.JudgingContext
        if indexesBuilt {
            context = self.context(snapshot: snapshot, policy: policy)
        } else {
            // The look-ups only veth and feth verdicts need, built only when there is one.
            let interfaces = interfaceList
            let names = interfaces.contains { $0.kind == .veth }
                ? Dictionary(interfaces.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first }) : [:]
            let present = interfaces.contains { $0.kind == .feth } ? Set(interfaces.map(\.name)) : []
            let stacking = Heuristics.Stacking(interfaces, foreign: snapshot.foreignUppers)
            self.stacking = stacking
            context = Heuristics.JudgingContext(snapshot: snapshot, policy: policy, holders: holderIndex, stacking: stacking,
                                                nameOf: { names[$0] }, hasInterface: { present.contains($0) }, routesBySource: routesBySource,
                                                addressElsewhere: Self.addressElsewhere(interfaces, asked: !holderIndex.scan.addressSockets.isEmpty || !routesBySource.isEmpty))
        }
        assessedList = []
        assessedSlots = []
        joinedFindings = ([], [])
        sorted = nil
        counts = VerdictCounts()
        loadedFindings = []
        assessedList.reserveCapacity(order.count)
        assessedSlots.reserveCapacity(order.count)
        if indexesBuilt { verdicts.reserveCapacity(order.count) } else { loadedFindings.reserveCapacity(order.count) }
        for position in order.indices where interfaceList[position].kind.isTunnelStyle {
            let slot = order[position]
            var findings: [Finding] = []
            let assessed: AssessedInterface
            if let verdict = arrivalVerdicts[position] {
                (assessed, findings) = verdict
            } else {
                assessed = Heuristics.judge(interfaceList[position], routes: routesByIndex[interfaceList[position].index] ?? [],
                                            context: context, findings: &findings)
            }
            if indexesBuilt { verdicts[slot] = (assessed, findings) } else { loadedFindings.append(findings) }
            assessedList.append(assessed)
            assessedSlots.append(slot)
            counts.add(assessed)
            if !findings.isEmpty {
                joinedFindings.findings += findings
                joinedFindings.owners += repeatElement(assessed.interface.index, count: findings.count)
            }
            judgedCount += 1
        }
        arrivalVerdicts = [:]
        allChanged = true
        // Freshly gathered in order; kept up to date by changes only where positions can be
        // found by index (see `ensureIndexes`).
        listStale = false
        findingsStale = false
    }

    private func judgeDirty(snapshot: Snapshot, policy: AuditPolicy) {
        ensureIndexes()
        let context = context(snapshot: snapshot, policy: policy)
        // Past a few interfaces, gathering and sorting every finding again costs less than
        // moving findings one interface at a time.
        if dirty.count > Self.findingsPatchLimit { findingsStale = true }
        for slot in dirty {
            guard let interface = links[slot], interface.kind.isTunnelStyle else {
                if let gone = verdicts.removeValue(forKey: slot) {
                    counts.remove(gone.assessed)
                    removedKeys.append((gone.assessed.interface.index, gone.assessed.interface.name))
                    dropFromList(slot, index: gone.assessed.interface.index, findings: gone.findings)
                }
                changedSlots.remove(slot)
                continue
            }
            var findings: [Finding] = []
            let assessed = Heuristics.judge(interface, routes: routesByIndex[interface.index] ?? [], context: context, findings: &findings)
            let before = verdicts[slot]
            if let before { counts.remove(before.assessed) }
            counts.add(assessed)
            if let before = before?.assessed {
                if before.state != assessed.state || before.holders != assessed.holders || before.interface.stats != assessed.interface.stats
                    || before.interface.name != assessed.interface.name || before.interface.kind != assessed.interface.kind {
                    changedSlots.insert(slot)
                }
            } else {
                changedSlots.insert(slot)
            }
            if before.map({ $0.findings != findings }) ?? !findings.isEmpty {
                changeFindings(of: interface.index, from: before?.findings ?? [], to: findings)
            }
            verdicts[slot] = (assessed, findings)
            if !listStale, let position = listPosition(interface.index) {
                if position < assessedSlots.count, assessedSlots[position] == slot {
                    assessedList[position] = assessed
                } else if before == nil {
                    assessedList.insert(assessed, at: position)
                    assessedSlots.insert(slot, at: position)
                } else {
                    listStale = true
                }
            }
            judgedCount += 1
        }
        dirty.removeAll(keepingCapacity: true)
    }
}
