import Foundation

extension FindingRules {
    /// The findings about tun and tap devices.
    static let tun: [FindingRule] = [
        FindingRule(id: FindingID.orphanedTun, severity: "warning", reap: .deleteInterface, scope: .interface,
                    summary: "a persistent tun/tap with no carrier (and, multi-queue, no queue the kernel counts) and no holder in a complete scan"),
        FindingRule(id: FindingID.holderElsewhere, severity: "info", reap: nil, scope: .interface,
                    summary: "a device of the same name is held in another namespace, which proves nothing either way"),
        FindingRule(id: FindingID.carrierWithoutHolder, severity: "info", reap: nil, scope: .interface,
                    summary: "a tun has carrier but nobody holds it (TUNSETCARRIER?)"),
        FindingRule(id: FindingID.stackedTun, severity: "info", reap: nil, scope: .interface,
                    summary: "a tun/tap nobody holds has links stacked on it (in any namespace), is a port of a bridge or bond, has sockets bound to it (packet sockets, SO_BINDTODEVICE, raw and ping sockets) or to an address only it has, has multicast groups or packet-socket memberships held on it by sockets, shares a multipath route with another device, has an address other routes take as source or a kernel tunnel sends from, has an XDP program or a tc program (tcx) attached, receives another device's packets through a tc mirred action (to it, or to a shared tc block it is a port of), an nftables fwd or dup, or an iptables TEE --oif (iptables-nft or legacy), or sends a vxlan's packets out (bridge fdb … via), or has an nftables chain or flowtable hooked on it, or is matched by index by an nftables rule or set (iif, oif, fib … oif, a set of type iface_index), selected by index by an IPsec policy (ip xfrm policy … dev) or named by index by an MPTCP endpoint (ip mptcp endpoint … dev) or matched as input device by a tc filter (u32, fw or flower indev, route fromif), or has a host address (/32, /128, no peer, no routes but the kernel's) that wildcard listeners answer on"),
    ]
}

/// Judging tun and tap devices: held, attached, stacked, or orphaned.
extension Heuristics {
    // MARK: tun and tap

    /// The words around `scanSummary` in an orphaned tun's finding: the engine finds them there
    /// to put a new summary in place (`NamespaceFacts.reword`).
    static let scanPhrase = (opening: "no process holds it (", closing: ").")

    /// What the holder scan covered, as an orphan's evidence states it: the same for every
    /// interface of one kind (single- or multi-queue) in one snapshot, so it is put together once.
    /// Where some processes cannot be inspected, what the kernel shows of the device comes before
    /// that caveat, and no bracket opens inside the evidence's own. The kernel counts the queues
    /// of a multi-queue device only: of a single-queue one it shows the carrier, which a queue's
    /// attach turns on but its holder can turn off again (TUNSETCARRIER), so only the reaper's
    /// exclusive attach, refused while any queue is attached, rules those processes out.
    static func scanSummary(_ scan: HolderScan, multiQueue: Bool) -> String {
        let opaque = scan.opaquePIDs
        let them = opaque.count == 1 ? "the 1 more process" : "the \(opaque.count) more processes"
        guard !opaque.isEmpty else { return "\(scan.processesScanned) processes scanned" }
        return multiQueue
            ? "\(scan.processesScanned) processes scanned, and the kernel shows no queue attached, which rules out \(them) that cannot be inspected even with every privilege: pid \(Self.sample(opaque))"
            : "\(scan.processesScanned) processes scanned; \(them) that cannot be inspected even with every privilege, pid \(Self.sample(opaque)), "
                + "\(opaque.count == 1 ? "is" : "are") ruled out only by the reaper's exclusive attach, as a holder can turn a single-queue tun's carrier off with TUNSETCARRIER"
    }

    /// Why sockets tie the device with ifindex `index` to a process, in words (nil when none do):
    /// packet sockets bound to it or with a membership on it, sockets bound to it with
    /// SO_BINDTODEVICE, raw and ping sockets bound to it (each named, with its process where
    /// known), multicast groups joined on it, and `ownAddresses`, addresses only it has that
    /// sockets are bound to (see `socketsOnOwnAddresses`; the raw and ping sockets among them
    /// named from `lists.rawAddresses`). The reaper's last look says it the same way.
    public static func socketUse(_ lists: SocketLists, index: Int, ownAddresses: [(address: IPAddress, sockets: Int)] = [], now: Bool = false) -> String? {
        var parts: [String] = []
        let are = { (count: Int) in count == 1 ? " is" : "s are" }
        let now = now ? " now" : ""
        if let packet = lists.packet[index], packet > 0 { parts.append("\(packet) packet socket\(are(packet))\(now) bound to it (tcpdump, a DHCP client)") }
        if let members = lists.packetMemberships[index], members > 0 {
            parts.append("\(members) packet socket\(now)\(members == 1 ? " has" : "s have") a membership on it (PACKET_ADD_MEMBERSHIP: promiscuous, all-multicast or a multicast address, as a sniffer reading every device sets)")
        }
        if let bound = lists.bound[index], bound > 0 {
            parts.append("\(bound) socket\(are(bound))\(now) bound to it (SO_BINDTODEVICE or a link-local address on it: a server that listens only on it; or AF_XDP: a program that takes its packets from the driver)")
        }
        if let raw = lists.raw[index], let named = firstAndMore(raw) {
            parts.append("\(named) \(raw.count == 1 ? "is" : "are")\(now) bound to it "
                + "(SO_BINDTODEVICE or SO_BINDTOIFINDEX: `ping -I`, a VRRP daemon such as keepalived, a router-advertisement or DHCP client)")
        }
        if let groups = lists.multicastGroups[index], let named = firstAndMore(groups) {
            parts.append("a socket\(now) holds multicast group \(named) on it (IP_ADD_MEMBERSHIP or IPV6_JOIN_GROUP: an mDNS responder, a DHCPv6 or router-advertisement server)")
        }
        for (address, sockets) in ownAddresses {
            let raw = lists.rawAddresses[address.bytes] ?? []
            let others = sockets - raw.count
            if others > 0 {
                parts.append("\(others) socket\(are(others))\(now) bound to its address \(address), which no other device has (a server listening on it, as dnsmasq --bind-interfaces does), and deleting it deletes the address")
            }
            if let named = firstAndMore(raw) {
                parts.append("\(named) \(raw.count == 1 ? "is" : "are")\(now) bound to its address \(address), which no other device has, and deleting it deletes the address")
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ") + ": a process uses it without a tun descriptor"
    }

    /// The addresses of `interface` that sockets are bound to (`HolderScan.addressSockets`) and
    /// that no other device has (`heldElsewhere`, asked only of an address some socket is bound
    /// to), each with how many sockets.
    static func socketsOnOwnAddresses(of interface: NetworkInterface, addressSockets: [[UInt8]: Int],
                                      heldElsewhere: ([UInt8]) -> Bool) -> [(address: IPAddress, sockets: Int)] {
        guard !addressSockets.isEmpty else { return [] }
        var found: [(address: IPAddress, sockets: Int)] = []
        for address in interface.addresses {
            guard let sockets = addressSockets[address.local.bytes], sockets > 0, !found.contains(where: { $0.address == address.local }),
                  !heldElsewhere(address.local.bytes) else { continue }
            found.append((address.local, sockets))
        }
        return found
    }

    /// Why deleting `interface` would cut other devices' paths, in words (nil when it would not):
    /// the kernel deletes an IPv4 multipath route whole when any device it leaves through goes
    /// (`fib_sync_down_dev`), so such a route that also leaves through a live device depends on
    /// this one. (An IPv6 multipath route only loses the hop through the device.)
    static func sharedRoutes(of interface: NetworkInterface, in routes: [Route]) -> String? {
        var others: Set<String> = []
        var shared: [Route] = []
        for route in routes where route.family == .inet {
            let elsewhere = route.nextHops.compactMap { hop in
                hop.interfaceIndex.flatMap { $0 == interface.index ? nil : (hop.interfaceName ?? "ifindex \($0)") }
            }
            guard !elsewhere.isEmpty else { continue }
            shared.append(route)
            others.formUnion(elsewhere)
        }
        guard let first = shared.first else { return nil }
        let devices = others.sorted()
        let which = shared.count == 1 ? "its route \(first.destination)\(first.table == .main ? "" : " (table \(first.table))") also leaves"
                                      : "\(shared.count) of its routes (\(first.destination), …) also leave"
        return "\(which) through \(devices.joined(separator: ", ")): the kernel deletes an IPv4 multipath route whole with any of its devices, so deleting it would cut \(devices.count == 1 ? "that device's" : "those devices'") path too"
    }

    /// Why traffic-control actions that send packets to a device tie it to others, in words (nil
    /// when none do); the reaper's last look says it the same way.
    public static func redirectReason(_ count: Int, now: Bool = false) -> String? {
        guard count > 0 else { return nil }
        return "\(count == 1 ? "a tc action (mirred) \(now ? "now " : "")sends" : "\(count) tc actions (mirred) \(now ? "now " : "")send") another device's packets to it, and would send them nowhere once it is gone"
    }

    /// The first of `names` and how many more there are (`an ICMP echo socket of ping[9] and 2
    /// more`), as the reasons name what ties a device; nil for none.
    static func firstAndMore(_ names: [String]) -> String? {
        guard let first = names.first else { return nil }
        return names.count > 1 ? "\(first) and \(names.count - 1) more" : first
    }

    /// Why vxlan forwarding entries that send packets out through a device (`vxlans`, their
    /// names) tie it to an overlay, in words (nil when none do); the reaper's last look says it
    /// the same way.
    public static func viaReason(_ vxlans: [String], now: Bool = false) -> String? {
        guard let named = firstAndMore(vxlans) else { return nil }
        return "forwarding entries of \(named) \(now ? "now " : "")send packets out through it (bridge fdb … via), "
            + "and would point at a device that is gone once it is deleted"
    }

    /// Why nftables statements that send packets to a device tie it to others, in words (nil when
    /// none do); the reaper's last look says it the same way.
    public static func forwardReason(_ count: Int, now: Bool = false) -> String? {
        guard count > 0 else { return nil }
        return "\(count == 1 ? "an nftables rule \(now ? "now " : "")sends" : "\(count) nftables statements \(now ? "now " : "")send") packets to it (fwd or dup), and would send them nowhere once it is gone"
    }

    /// Why rules that duplicate packets to a device by its name (`rules`, each in words: iptables
    /// `-j TEE --oif`) tie it to others, in words (nil when none do); the reaper's last look says
    /// it the same way.
    public static func namedForwardReason(_ rules: [String], now: Bool = false) -> String? {
        guard let named = firstAndMore(rules) else { return nil }
        return "\(named) \(now ? "now " : "")\(rules.count == 1 ? "duplicates" : "duplicate") another device's packets to it by its name "
            + "(TEE --oif), and would send them nowhere once it is gone"
    }

    /// Why nftables chains or flowtables hooked on a device tie it to others, in words (nil when
    /// none are); the reaper's last look says it the same way.
    public static func hookReason(_ hooks: [String], now: Bool = false) -> String? {
        guard let named = firstAndMore(hooks) else { return nil }
        return "nftables \(named) \(hooks.count == 1 ? "is" : "are") \(now ? "now " : "")hooked on it (a firewall or fast path set up for it), "
            + "which deleting it would unhook (older kernels release such a chain, rules and all)"
    }

    /// Why an XDP program attached to a device ties it to something, in words (nil when none is):
    /// a process holding its bpf_link, or someone who set it up with `ip link set … xdp`, means
    /// the device to carry traffic, and deleting it detaches the program.
    /// The reaper's last look says it the same way (`now`: attached since the plan).
    public static func xdpReason(program: UInt32?, now: Bool = false) -> String? {
        guard let program else { return nil }
        return "an XDP program\(program == 0 ? "" : " (id \(program))") is \(now ? "now " : "")attached to it (`bpftool net` names who attached it): it was set up to process its packets, and deleting it detaches the program"
    }

    /// How many alternative names a device can have before the kernel refuses another: it counts
    /// each as 132 bytes (an attribute of ALTIFNAMSIZ) and refuses a list that would reach 65,535
    /// (net/core/rtnetlink.c, `rtnl_linkprop`), so the 497th.
    static let altNameCapacity = 496

    /// Whether a reap may delete an orphaned tun or tap for what the device itself is: persistent,
    /// with no alternative name a process could attach through past a multi-queue fence, room in
    /// its list of alternative names for a single-queue fence's, and no name of a reap's private
    /// form (`privateLookalike(_:)`). The other half is what its routes would do under the fence
    /// (`CarrierFence`): `orphaned-tun` is reapable only when both hold, and the plan names a
    /// device that only its routes keep back.
    static func deletableDevice(_ interface: NetworkInterface) -> Bool {
        let multiQueue = interface.tun?.multiQueue == true
        return interface.tun?.persistent == true && !(multiQueue && !interface.altNames.isEmpty)
            && (multiQueue || interface.altNames.count < altNameCapacity) && privateLookalike(interface) == nil
    }

    /// Whether a device bears the fence a Linux reap puts on what it is about to delete: a
    /// private name (`tw` and 13 hex digits) and a random link group from 2^24 up. A multi-queue
    /// device is renamed to the private name; a single-queue one keeps its name and gets the
    /// private name as an alternative name. Its own name, group and alternative names are in the
    /// reap's journal; judged as it stands, the device would be recorded and alerted as a new
    /// orphan under the private name, or planned with the fence taken for its own state (the
    /// recreate commands would put the fence back). The name's shape alone proves nothing (any
    /// device may be named so): a device that has it without the group is judged as any, but
    /// never reaped (see `privateLookalike(_:)`).
    static func fencedByReap(_ interface: NetworkInterface) -> Bool {
        guard (interface.group ?? 0) >= 0x0100_0000 else { return false }
        if isPrivateName(interface.name) { return true }
        return interface.tun?.multiQueue != true && interface.altNames.contains(where: isPrivateName)
    }

    /// "fenced by a reap (its private name and link group N)": what marks `interface` as fenced.
    static func fenceMarks(_ interface: NetworkInterface) -> String {
        let group = (interface.group ?? 0) >= 0x0100_0000 ? " and link group \(interface.group ?? 0)" : ""
        let name = Self.isPrivateName(interface.name) ? "its private name"
            : "its private alternative name \(interface.altNames.first(where: Self.isPrivateName) ?? "")"
        return "fenced by a reap (\(name)\(group))"
    }

    /// Why a device a reap fenced stays fenced when a reap has looked for the intent records that
    /// would give it back, in `journal` and in the newest rotated journal (`journal` + `.1`), and
    /// found none without a result: nothing gives it back by itself, so the words say where its
    /// records may be. Nil when `interface` bears no fence.
    public static func unclaimedFence(_ interface: NetworkInterface, journal: String) -> String? {
        guard fencedByReap(interface) else { return nil }
        return "\(fenceMarks(interface)), and no intent record without a result in \(journal) or \(journal).1 names it, so no reap gives it back by itself: "
            + "if the reap that fenced it was killed and its journal was rotated further, `tunwarden reap --journal \(journal).N` does "
            + "(`gunzip -k \(journal).N.gz` first); if a reap could not give it back, `tunwarden journal` says why; "
            + "a reap acting on it now with another journal gives it back or deletes it itself"
    }

    /// The name of the form a reap's private names have that a device bears without a fence
    /// group, its own or an alternative one; nil for none, or for a fenced device. A reap killed
    /// after it named its fence and before it set the group leaves such a device, and so may an
    /// ordinary one be named: it is judged as any, but not reaped, since a reap whose journal
    /// this run did not read may have fenced it (the next reap with that journal gives it back).
    static func privateLookalike(_ interface: NetworkInterface) -> String? {
        guard !fencedByReap(interface) else { return nil }
        if isPrivateName(interface.name) { return interface.name }
        return interface.tun?.multiQueue != true ? interface.altNames.first(where: isPrivateName) : nil
    }

    /// Whether a name is of the form a reap's private names have: `tw` and 13 hex digits.
    static func isPrivateName(_ name: String) -> Bool {
        name.utf8.count == 15 && name.hasPrefix("tw") && name.dropFirst(2).allSatisfy { "0123456789abcdef".contains($0) }
    }

    static func judgeTun(_ interface: NetworkInterface, holders: [Holder], elsewhere: [HolderAttachment], scan: HolderScan,
                         scanText: String, uppers: [String] = [], master: String? = nil, routes: [Route] = [], sourced: [Route],
                         tunnelsSourced: [(address: IPAddress, tunnels: [String])] = [],
                         ownAddressSockets: [(address: IPAddress, sockets: Int)] = [], policyRules: [PolicyRule]? = nil,
                         findings: inout [Finding]) -> (InterfaceState, String) {
        let tun = interface.tun ?? TunDetails()
        let kind = interface.kind.rawValue
        if tun.persistent == false {
            return (.live, "not persistent: the kernel removes it when its last holder closes, so something holds it")
        }
        if !holders.isEmpty { return (.live, "held") }
        if Self.fencedByReap(interface) {
            return (.unknown, "\(fenceMarks(interface)): a reap is acting on it, or was killed while it did (the next `tunwarden reap` or `tunwarden watch --reap` in this namespace with that reap's journal gives it back first (for a device moved here since it was fenced, the next one in the namespace it was fenced in, once it can enter this one), from the killed run's intent records in that journal or in the newest one logrotate rotated away, its name with `.1` added; from one rotated further, only `tunwarden reap --journal` naming it, uncompressed, does), or could not give it back (`tunwarden journal` says why, and the next reap in this namespace tries again)")
        }
        let queues = Int(tun.numQueues ?? 0) + Int(tun.numDisabledQueues ?? 0)
        if queues > 0 {
            return (.live, "\(queues) queue\(queues == 1 ? "" : "s") attached")
        }
        let opaque = scan.opaquePIDs
        if interface.carrier == true {
            guard scan.complete else {
                return (.live, "carrier on, so a queue is attached (holders could not be read)")
            }
            if !opaque.isEmpty, tun.numQueues == nil {
                return (.live, "carrier on, so a queue is attached (perhaps by a process that cannot be inspected: pid \(Self.sample(opaque)))")
            }
            if !elsewhere.isEmpty {
                return (.live, "carrier on; held from another namespace by " + elsewhere.map(\.holder.display).joined(separator: ", "))
            }
            findings.append(Finding(
                id: FindingID.carrierWithoutHolder, severity: .info, ifname: interface.name, reapable: false,
                evidence: "\(kind) \(interface.name) (ifindex \(interface.index)) has carrier but no process holds it in any namespace; carrier may have been forced with TUNSETCARRIER. Not touched."
            ))
            return (.suspect, "carrier on but no holder found")
        }
        guard scan.complete else {
            return (.unknown, "no carrier, but holders could not be read")
        }
        if !elsewhere.isEmpty {
            let names = elsewhere.map { "\($0.holder.display) in \($0.holder.netns ?? "a namespace it hides")" }.joined(separator: ", ")
            findings.append(Finding(
                id: FindingID.holderElsewhere, severity: .info, ifname: interface.name, reapable: false,
                evidence: "\(kind) \(interface.name) has no carrier and no holder here, but \(names) holds a device of the same name; names are per namespace, so this proves nothing either way. Not touched."
            ))
            return (.unknown, "a device of the same name is held in another namespace")
        }
        // Processes closed even to a fully privileged scan might hold it. For a multi-queue device
        // the kernel rules them out by its count of attached and disabled queues; for a
        // single-queue device it shows only the carrier, which its one queue's attach turns on and
        // a holder can turn off (TUNSETCARRIER): not proof, and the evidence says so, but the
        // reaper's exclusive attach, refused while any queue is attached, is, before it deletes
        // anything.
        let kernelRulesOut = tun.multiQueue == true ? tun.numQueues != nil && tun.numDisabledQueues != nil : tun.multiQueue == false
        if !opaque.isEmpty, !kernelRulesOut {
            return (.unknown, "no carrier, but \(opaque.count) process\(opaque.count == 1 ? "" : "es") cannot be inspected (pid \(Self.sample(opaque))) and the kernel does not report how many queues are attached")
        }
        // (Without a tie or a socket on its own addresses there is nothing to say: the lists are
        // gathered only then.)
        if scan.socketsTie(interface.index) || !ownAddressSockets.isEmpty,
           let reason = Self.socketUse(scan.socketLists, index: interface.index, ownAddresses: ownAddressSockets) {
            findings.append(Finding(
                id: FindingID.stackedTun, severity: .info, ifname: interface.name, reapable: false,
                evidence: "\(kind) \(interface.name) (ifindex \(interface.index)) has no carrier and no holder, but \(reason). Not touched."
            ))
            return (.suspect, reason)
        }
        let keptFor: String? = Self.nftablesIndexReason(scan.nftablesIndexUses[interface.index] ?? [])
            ?? Self.xfrmPolicyReason(scan.xfrmPolicies[interface.index] ?? [])
            ?? Self.tcFilterIndexReason(scan.tcFilterMatches[interface.index] ?? [])
            ?? Self.mptcpEndpointReason(scan.mptcpEndpoints[interface.index] ?? [])
            ?? Self.servedAddressReason(interface, routes: routes, listeners: scan.wildcardListeners)
        let configured: String? = Self.sharedRoutes(of: interface, in: routes) ?? Self.sourcedRoutesReason(sourced)
            ?? tunnelsSourced.first.flatMap({ Self.tunnelLocalReason($0.tunnels, address: $0.address) }) ?? Self.xdpReason(program: interface.xdpProgram)
            ?? Self.tcProgramReason(scan.tcPrograms[interface.index] ?? [])
            ?? Self.redirectReason(scan.redirects[interface.index] ?? 0) ?? Self.forwardReason(scan.forwards[interface.index] ?? 0)
            ?? Self.viaReason(scan.vxlanVias[interface.index] ?? [])
            ?? Self.hookReason(scan.nftablesHooks.on(interface: interface.name))
            ?? Self.namedForwardReason(scan.forwardsByName.isEmpty ? [] : scan.forwardsByName[InterfaceName.kernelBytes(interface.name)] ?? [])
        if let reason = configured ?? keptFor {
            findings.append(Finding(
                id: FindingID.stackedTun, severity: .info, ifname: interface.name, reapable: false,
                evidence: "\(kind) \(interface.name) (ifindex \(interface.index)) has no carrier and no holder, but \(reason). Not touched."
            ))
            return (.suspect, reason)
        }
        if !uppers.isEmpty || master != nil {
            var parts: [String] = []
            if !uppers.isEmpty {
                parts.append("\(uppers.joined(separator: ", ")) \(uppers.count == 1 ? "sits" : "sit") on it, and deleting it would delete \(uppers.count == 1 ? "that" : "them") too")
            }
            if let master {
                var port = "it is a port of \(master)"
                if interface.name == master + "-nic" { port += " (libvirt keeps <bridge>-nic as the bridge's placeholder port, unheld on purpose)" }
                parts.append(port)
            }
            let reason = parts.joined(separator: "; ")
            findings.append(Finding(
                id: FindingID.stackedTun, severity: .info, ifname: interface.name, reapable: false,
                evidence: "\(kind) \(interface.name) (ifindex \(interface.index)) has no carrier and no holder, but it has been configured into something: \(reason). Not touched."
            ))
            return (.suspect, reason)
        }
        if let provisioned = Self.judgeProvisioned(interface, kind: kind, findings: &findings) { return provisioned }
        // Unused as far as holders and configuration show; but a socket of a list the kernel could
        // not give may use it (the reaper deletes nothing without those lists).
        if let unknown = scan.socketsUnknown {
            return (.unknown, "no carrier and no holder, but which device each socket is bound to cannot be known (\(unknown)), so a socket may use it")
        }
        if let unknown = scan.forwardsUnknown {
            return (.unknown, "no carrier and no holder, but \(unknown)")
        }
        // What this process could not read, most often for want of a privilege: a device of
        // another namespace sitting on it, a rule naming it, a tcx program (see `useUnknownFinding`).
        if let unknown = scan.stackingUnknown {
            return (.unknown, "no carrier and no holder, but a device of another namespace may sit on it: \(unknown)")
        }
        if let unknown = scan.rulesUnknown {
            return (.unknown, "no carrier and no holder, but a rule may match it by index or send packets to it: \(unknown)")
        }
        if let unknown = scan.tcProgramsUnknown {
            return (.unknown, "no carrier and no holder, but \(unknown), so one may process its packets")
        }
        let persistent = tun.persistent == true
        let persistence = persistent ? "persistent" : "persistence not reported"
        let queueText = tun.numQueues != nil ? ", 0 queues attached" : ""
        // The reaper fences a multi-queue device by renaming it, which an attach by an
        // alternative name would get past: it deletes none that has one.
        let altNamed = tun.multiQueue == true && !interface.altNames.isEmpty
        var altNameText = altNamed
            ? " It is not reaped while it has alternative names (\(interface.altNames.joined(separator: ", "))), through which a process could attach "
                + "to it past the reaper's fence; `ip link property del dev \(ShellWord.quote(InterfaceName.kernelBytes(interface.name))) altname NAME` for each lets reap delete it."
            : ""
        // A single-queue device is fenced through one more alternative name, which the kernel
        // refuses once the device's list of them is full.
        let altNamesFull = tun.multiQueue != true && interface.altNames.count >= Self.altNameCapacity
        if altNamesFull {
            altNameText += " It is not reaped while its list of alternative names is full (\(interface.altNames.count) names; the kernel takes no more), "
                + "since the reaper fences it through one more; `ip link property del dev \(ShellWord.quote(InterfaceName.kernelBytes(interface.name))) altname NAME` "
                + "for one of them lets reap delete it."
        }
        let lookalike = Self.privateLookalike(interface)
        if let lookalike {
            altNameText += " It is not reaped while \(lookalike == interface.name ? "its name" : "its alternative name \(lookalike)") has the form of a reap's private name "
                + "(`tw` and 13 hex digits) without a reap's link group: a reap killed while it fenced the device leaves it so, and the next reap with that reap's "
                + "journal gives it back; an ordinary device is reaped once \(lookalike == interface.name ? "renamed" : "that alternative name is removed")."
        }
        // Its fence would make live the routes the kernel passes by: a reap leaves it out of its plan.
        let woken = CarrierFence.woken(of: interface, routes: routes, policyRules: policyRules)
        if !woken.isEmpty {
            altNameText += " A reap leaves it alone: " + CarrierFence.reason(woken,
                                                                             quotedDevice: ShellWord.quote(InterfaceName.kernelBytes(interface.name))) + "."
        }
        findings.append(Finding(
            id: FindingID.orphanedTun, severity: .warning, ifname: interface.name, reapable: Self.deletableDevice(interface) && woken.isEmpty,
            evidence: Text.join(kind, " ", interface.name, " (ifindex ", String(interface.index), ") is ", persistence, ", has no carrier", queueText,
                                ", and ", Self.scanPhrase.opening, scanText, Self.scanPhrase.closing, altNameText)
        ))
        return (.orphaned, persistent ? "persistent, no carrier, no process attached" : "persistence not reported, no carrier, no process attached")
    }
}
