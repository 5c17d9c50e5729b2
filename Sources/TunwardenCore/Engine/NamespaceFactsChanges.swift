import Foundation

/// Applying what the kernel reports to the facts, one change at a time: links, addresses,
/// routes, the holder scan, peer namespaces and process names. After each change the facts are
/// what the kernel holds, including what it does without announcing it (the routes a device
/// takes with it when it goes, is set down or loses an address), and every interface whose
/// verdict the change may alter is marked dirty, so that the next assessment judges those again
/// and no others.
extension NamespaceFacts {
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
            if AttachEvidence.shown(by: interface, since: old) { attachSeen.insert(slot) }
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
                departedKeys.insert("\(old.index):\(old.name)")
                dropFromList(slot, index: index, findings: gone.findings)
            }
            changedSlots.remove(slot)
            attachSeen.remove(slot)
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
            } else if scan.incompleteReason != holderIndex.scan.incompleteReason
                || scan.socketsUnknown != holderIndex.scan.socketsUnknown || scan.forwardsUnknown != holderIndex.scan.forwardsUnknown
                || scan.tcProgramsUnknown != holderIndex.scan.tcProgramsUnknown
                || scan.rulesUnknown != holderIndex.scan.rulesUnknown || scan.stackingUnknown != holderIndex.scan.stackingUnknown
                || scan.nftablesHooks.byPrefix != holderIndex.scan.nftablesHooks.byPrefix
                || scan.remedy != holderIndex.scan.remedy || scan.opaquePIDs != holderIndex.scan.opaquePIDs
                || namespaceNames != holderIndex.namespaceNames {
                // Every verdict that names the scan depends on it.
                for slot in order where links[slot].map({ [.tun, .tap, .utun].contains($0.kind) }) ?? false { dirty.insert(slot) }
            } else if next.scanText != holderIndex.scanText {
                // Only the scan's summary changed (a process started or ended): no verdict
                // depends on it, only the words of orphaned tuns' findings (see `reword`).
                rewording = (rewording?.from ?? holderIndex.scanText, next.scanText)
            }
            // Wildcard listeners serve the host addresses of every device: those tun and taps that
            // have one are judged again (see `Heuristics.servedHostAddresses`).
            if scan.wildcardListeners != holderIndex.scan.wildcardListeners {
                for slot in order {
                    guard let link = links[slot], [.tun, .tap].contains(link.kind),
                          link.addresses.contains(where: { $0.prefixLength == $0.family.bits && $0.scope == "global" }) else { continue }
                    dirty.insert(slot)
                }
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
            // And those whose sockets, redirects, forwards, vxlan forwarding entries or tcx programs changed
            // (found by index), and those with an address whose sockets changed.
            let (wasLocal, isLocal) = (holderIndex.scan.foreignTunnelLocals, scan.foreignTunnelLocals)
            dirtyTunsHaving(Set(Set(wasLocal.keys).union(isLocal.keys).filter { wasLocal[$0] != isLocal[$0] }))
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
                .union(holderIndex.scan.vxlanVias.keys).union(scan.vxlanVias.keys)
                .union(holderIndex.scan.tcPrograms.keys).union(scan.tcPrograms.keys)
                .union(holderIndex.scan.nftablesIndexUses.keys).union(scan.nftablesIndexUses.keys)
                .union(holderIndex.scan.xfrmPolicies.keys).union(scan.xfrmPolicies.keys)
                .union(holderIndex.scan.tcFilterMatches.keys).union(scan.tcFilterMatches.keys)
                .union(holderIndex.scan.mptcpEndpoints.keys).union(scan.mptcpEndpoints.keys)
            where holderIndex.scan.packetSockets[index] != scan.packetSockets[index] || holderIndex.scan.boundSockets[index] != scan.boundSockets[index]
                || holderIndex.scan.redirects[index] != scan.redirects[index] || holderIndex.scan.forwards[index] != scan.forwards[index]
                || holderIndex.scan.vxlanVias[index] != scan.vxlanVias[index] || holderIndex.scan.tcPrograms[index] != scan.tcPrograms[index]
                || holderIndex.scan.nftablesIndexUses[index] != scan.nftablesIndexUses[index]
                || holderIndex.scan.xfrmPolicies[index] != scan.xfrmPolicies[index]
                || holderIndex.scan.tcFilterMatches[index] != scan.tcFilterMatches[index]
                || holderIndex.scan.mptcpEndpoints[index] != scan.mptcpEndpoints[index] {
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

    /// Marks the tun and tap devices that have `address`, when routes take it as source, kernel
    /// tunnels send from it or sockets are bound to it: whether another device has it too decides
    /// whether those routes and tunnels would lose it with them, and whether those sockets use them.
    private func dirtySourcing(_ address: InterfaceAddress) {
        guard routesBySource[address.local.bytes] != nil || allTunnelsByLocal[address.local.bytes] != nil
            || holderIndex.scan.addressSockets[address.local.bytes] != nil else { return }
        dirtyTunsHaving([address.local.bytes])
    }

    /// Marks the tun and tap devices that have one of these addresses.
    func dirtyTunsHaving(_ addresses: Set<[UInt8]>) {
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
}
