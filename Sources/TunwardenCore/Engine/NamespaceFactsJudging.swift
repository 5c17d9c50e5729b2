import Foundation

/// Judging the facts: the assessment of the namespace as it stands, built from the verdicts kept
/// for its interfaces. After a load every interface is judged once, in order, or takes the
/// verdict its stream gave it as it arrived; after changes only the dirty interfaces are judged
/// again. Either way the assessment lists its interfaces and findings in report order, and is
/// the one a snapshot of the same facts, loaded afresh, would give.
extension NamespaceFacts {
    func assessment(policy: AuditPolicy) -> Assessment {
        let snapshot = self.snapshot
        if freshlyLoaded {
            judgeLoaded(snapshot: snapshot, policy: policy)
            rewording = nil
        }
        if let rewording {
            reword(from: rewording.from, to: rewording.to)
            self.rewording = nil
        }
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

    /// The kernel tunnels that send from an address, by it: this namespace's (`tunnelsByLocal`)
    /// and those of other namespaces that send from here (`HolderScan.foreignTunnelLocals`).
    var allTunnelsByLocal: [[UInt8]: [String]] {
        let foreign = holderIndex.scan.foreignTunnelLocals
        return foreign.isEmpty ? tunnelsByLocal : tunnelsByLocal.merging(foreign, uniquingKeysWith: +)
    }

    /// What judging an interface needs from the namespace as it stands.
    private func context(snapshot: Snapshot, policy: AuditPolicy) -> Heuristics.JudgingContext {
        let stacking = self.stacking ?? Heuristics.Stacking(snapshot.interfaces, foreign: snapshot.foreignUppers)
        self.stacking = stacking
        let links = self.links
        let slotByIndex = self.slotByIndex
        let slotByName = self.slotByName
        let tunnelsByLocal = allTunnelsByLocal
        return Heuristics.JudgingContext(snapshot: snapshot, policy: policy, holders: holderIndex, stacking: stacking,
                                         nameOf: { slotByIndex[$0].flatMap { links[$0]?.name } },
                                         hasInterface: { slotByName[$0] != nil }, routesBySource: routesBySource, tunnelsByLocal: tunnelsByLocal,
                                         addressElsewhere: Self.addressElsewhere(links.values, asked: !holderIndex.scan.addressSockets.isEmpty || !routesBySource.isEmpty
                                                                                    || !tunnelsByLocal.isEmpty))
    }

    /// Whether a device other than the one with the given ifindex carries an address, answered
    /// from one pass over `interfaces` that maps every address to the devices carrying it: it is
    /// asked of each address a socket is bound to, thousands of them on a host whose DNS server
    /// binds every address, and of each address routes take as source or tunnels send from. Nothing is built when it
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
            let tunnelsByLocal = allTunnelsByLocal
            context = Heuristics.JudgingContext(snapshot: snapshot, policy: policy, holders: holderIndex, stacking: stacking,
                                                nameOf: { names[$0] }, hasInterface: { present.contains($0) }, routesBySource: routesBySource,
                                                tunnelsByLocal: tunnelsByLocal,
                                                addressElsewhere: Self.addressElsewhere(interfaces, asked: !holderIndex.scan.addressSockets.isEmpty || !routesBySource.isEmpty
                                                                                           || !tunnelsByLocal.isEmpty))
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
