import Foundation

/// The bookkeeping behind applying changes: which slots a link's change touches, finding a slot
/// by index, name or position, keeping the verdict list and the sorted findings in step where
/// that costs less than gathering them again, and naming routes' next hops after their devices.
/// It also hands over what changed since it was last asked (`takeChanges`): the verdicts that
/// changed, in list order, and the keys whose verdict went, none of them a key still in use.
extension NamespaceFacts {
    /// Whether an interface counts in `Heuristics.Stacking`: it has a master, or is stacked on a
    /// lower device (a veth's link is its peer, not a lower device).
    private static func shapesStacking(_ interface: NetworkInterface) -> Bool {
        interface.master != nil || (interface.link != nil && interface.kind != .veth)
    }

    /// Marks what a link's arrival, change or departure touches: itself, the links it names and
    /// the links that name it; every feth, whose verdict names its peer by name; and a device
    /// whose name is shared with a removed one (holders are found by name).
    func touchLink(_ index: Int, slot: Slot, old: NetworkInterface?, new: NetworkInterface?) {
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
        // A kernel tunnel's local address ties the devices that have it to the tunnel, which
        // their verdicts name.
        if old?.tunnelLocal != nil || new?.tunnelLocal != nil {
            tunnelsByLocal = Heuristics.tunnelsByLocal(interfaceList)
            dirtyTunsHaving(Set([old?.tunnelLocal, new?.tunnelLocal].compactMap { $0?.bytes }))
        }
    }

    /// The slots of interfaces with this name: one, but a capture may list a name twice.
    func slots(named name: String) -> [Slot] {
        guard let first = slotByName[name] else { return [] }
        return [first] + (duplicateNames ? order.filter { $0 != first && links[$0]?.name == name } : [])
    }

    /// Stops finding `slot` by a name it no longer has; another slot of that name (a capture may
    /// list one twice) is found by it instead.
    func forgetName(_ name: String, of slot: Slot) {
        guard slotByName[name] == slot else { return }
        slotByName[name] = slots(named: name).dropFirst().first
    }

    func noteReferences(of interface: NetworkInterface, in slot: Slot, adding: Bool) {
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
    func store(_ interface: NetworkInterface, in slot: Slot) {
        links[slot] = interface
        if let position = position(of: slot, index: interface.index) { interfaceList[position] = interface }
    }

    /// Where a slot sits in `order` (and the interface list): found by its index when the order
    /// is by index, else by looking.
    func position(of slot: Slot, index: Int) -> Int? {
        if indexOrdered {
            let position = insertionPoint(index)
            if position < order.count, order[position] == slot { return position }
        }
        return order.firstIndex(of: slot)
    }

    /// Takes a verdict, with its findings, that went out of the verdict list.
    func dropFromList(_ slot: Slot, index: Int, findings: [Finding]) {
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

    /// Notes that the interface with this index raised other findings: they are moved in the
    /// sorted findings while those are kept by index and few have changed, and gathered again
    /// otherwise.
    func changeFindings(of index: Int, from old: [Finding], to new: [Finding]) {
        guard !findingsStale else { return }
        if findingsPatched < Self.findingsPatchLimit, indexOrdered, !listStale, sorted != nil {
            findingsPatched += 1
            sorted?.replace(owner: index, old: old, new: new)
        } else {
            findingsStale = true
        }
    }

    /// Where a verdict for this index sits, or would go, in the verdict list (index order).
    func listPosition(_ index: Int) -> Int? {
        Heuristics.firstPosition(notBelow: index, count: assessedList.count) { assessedList[$0].interface.index }
    }

    /// Where a new link with this index goes in `order`: after every slot with a smaller index.
    func insertionPoint(_ index: Int) -> Int {
        Heuristics.firstPosition(notBelow: index, count: order.count) { interfaceList[$0].index }
    }

    /// Gives a route's next hops the names of their devices, as the inventory does.
    func nameHops(_ route: inout Route) {
        for position in route.nextHops.indices {
            if let index = route.nextHops[position].interfaceIndex, let name = slotByIndex[index].flatMap({ links[$0]?.name }) {
                route.nextHops[position].interfaceName = name
            }
        }
    }

    func renameInRoutes(_ index: Int, to name: String) {
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
    func rebuildRoutesByIndex(touching changed: [Route]) {
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
        allChanged ? assessedList.contains(where: test)
            : (attachSeen.isEmpty ? changedSlots : changedSlots.union(attachSeen)).contains { verdicts[$0].map { test($0.assessed) } ?? false }
    }

    func removalsInclude(where test: (Int, String) -> Bool) -> Bool {
        removedKeys.contains { test($0.index, $0.name) }
    }

    func takeChanges() -> (changed: [AssessedInterface], removed: [(index: Int, name: String)]) {
        defer {
            changedSlots.removeAll()
            removedKeys.removeAll()
            departedKeys.removeAll()
            attachSeen.removeAll()
        }
        defer { allChanged = false }
        // A device seen attached counts as changed, marked so (`AssessedInterface.attachSeen`).
        let seen = Set(attachSeen.compactMap { verdicts[$0]?.assessed.interface.index })
        func marked(_ assessed: AssessedInterface) -> AssessedInterface {
            guard seen.contains(assessed.interface.index) else { return assessed }
            var marked = assessed
            marked.attachSeen = true
            return marked
        }
        if allChanged { return (seen.isEmpty ? assessedList : assessedList.map(marked), []) }
        // In list order: by index, without a pass over every slot, when the list is by index.
        let slots = attachSeen.isEmpty ? changedSlots : changedSlots.union(attachSeen)
        let changed = (indexOrdered
            ? slots.compactMap { verdicts[$0]?.assessed }.sorted { $0.interface.index < $1.interface.index }
            : order.filter(slots.contains).compactMap { verdicts[$0]?.assessed }).map(marked)
        // A key removed and then used again (a name given back, even by the same interface
        // renamed away and back within one burst, whose verdict then did not change) is not
        // removed, unless its device went: another device that took its ifindex and name within
        // the burst (moved in from another namespace) is a new one, whose observation starts afresh.
        let kept = Set(changed.map { "\($0.interface.index):\($0.interface.name)" })
        return (changed, removedKeys.filter { key in
            departedKeys.contains("\(key.index):\(key.name)")
                || !kept.contains("\(key.index):\(key.name)") && slotByIndex[key.index].flatMap { verdicts[$0]?.assessed.interface.name } != key.name
        })
    }
}
