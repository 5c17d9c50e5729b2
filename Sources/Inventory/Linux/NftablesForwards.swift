#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// nftables rules whose `fwd` or `dup` statements send packets to a device (`fwd to "tap0"` in a
/// netdev ingress chain of another device), or whose x_tables TEE target (iptables-nft's `-j TEE
/// --oif tap0`) duplicates them to it: a device configured into another's traffic, though no
/// process holds it; deleting it leaves the rule sending that traffic nowhere.
public enum NftablesForwards {
    /// What the namespace's rules send packets to.
    public struct Found: Equatable, Sendable {
        /// How many statements send packets to each ifindex (a map counts once for each of its
        /// values).
        public var counts: [Int: Int] = [:]
        /// Why some statement's device is known only as packets come (nil: every one is known),
        /// in words that name the rule: then any device may be the one.
        public var unresolved: String?
        /// The base chains and flowtables hooked on devices, by name or prefix.
        public var hooks = NftablesHooks()
        /// The rules that duplicate packets to a device by its name (an x_tables TEE target's
        /// `--oif`, through iptables-nft or iptables-legacy), in words, by the name's bytes.
        public var byName: [[UInt8]: [String]] = [:]
        /// The rules and sets that match each ifindex (`iif "vpn0"`, a set of type iface_index):
        /// not a forward, but read from the same generation of the same ruleset.
        public var indexUses: [Int: [NftablesIndexUse]] = [:]

        public init(counts: [Int: Int] = [:], unresolved: String? = nil, hooks: NftablesHooks = NftablesHooks(), byName: [[UInt8]: [String]] = [:],
                    indexUses: [Int: [NftablesIndexUse]] = [:]) {
            self.counts = counts
            self.unresolved = unresolved
            self.hooks = hooks
            self.byName = byName
            self.indexUses = indexUses
        }
    }

    /// The rules' forwards, over `client` (a NETLINK_NETFILTER client in the namespace): the rules,
    /// the chains and flowtables hooked on devices, then the maps the rules look devices up in (and
    /// the maps those are filled from as packets come), all from one generation of the ruleset
    /// (read again when it changed in between). None where the kernel has no nftables. Throws when
    /// the lists cannot be had.
    public static func found(client: RtnetlinkClient, attempts: Int = 5) throws -> Found {
        for _ in 0..<attempts {
            var found = Found()
            var generations = Set<UInt16>()
            var maps = Set<NftablesRule.Device>()
            // What rules put into each map as packets come, with the words that name each rule.
            var fills: [NftablesRule.Device: [(data: NftablesRule.Device, rule: String)]] = [:]
            // The rules that look a packet's iif or oif up in each set, by the set's family, table and name.
            var lookups: [SetKey: [NftablesIndexUse]] = [:]
            do {
                try client.dumpEach(operation: "NFT_MSG_GETRULE", request: { NftablesRule.rulesDumpRequest(sequence: $0) },
                                    restart: { found = Found(); generations = []; maps = []; fills = [:]; lookups = [:] }) { message in
                    guard message.header.type == NftablesRule.ruleMessage else { return }
                    let rule = try NftablesRule.decodeRule(message.payload)
                    generations.insert(rule.generation)
                    let named = "an nftables rule (table \(familyName(rule.family)) \(text(rule.table)), chain \(text(rule.chain)))"
                    for device in rule.devices {
                        switch device {
                        case let .index(index): found.counts[Int(index), default: 0] += 1
                        case let .named(name): found.byName[name, default: []].append(named)
                        case .map: maps.insert(device)
                        case let .runtime(what):
                            found.unresolved = found.unresolved ?? "\(named) sends packets to a device it picks as packets come (from \(what))"
                        }
                    }
                    let place = "\(familyName(rule.family)) \(text(rule.table))/\(text(rule.chain))"
                    for match in rule.indexMatches {
                        switch match.target {
                        case let .index(index): found.indexUses[Int(index), default: []].append(NftablesIndexUse(place: place, key: match.key))
                        case let .set(name): lookups[SetKey(family: rule.family, table: rule.table, name: name), default: []].append(NftablesIndexUse(place: place, key: match.key))
                        case let .bounds(how):
                            found.unresolved = found.unresolved ?? "\(named) matches packets' devices by \(how) of their indices (\(match.key))"
                        }
                    }
                    for fill in rule.mapFills {
                        fills[.map(family: rule.family, table: rule.table, name: fill.map), default: []].append((fill.data, named))
                    }
                }
            } catch NetlinkError.kernel(_, let code, _) where [EOPNOTSUPP, EPROTONOSUPPORT].contains(code) {
                // The kernel has no nftables: no rule can exist.
                return Found()
            }
            for flowtables in [false, true] {
                var hooked: [[UInt8]: [String]] = [:], prefixed: [[UInt8]: [String]] = [:]
                do {
                    try client.dumpEach(operation: flowtables ? "NFT_MSG_GETFLOWTABLE" : "NFT_MSG_GETCHAIN",
                                        request: { NftablesRule.hooksDumpRequest(flowtables: flowtables, sequence: $0) },
                                        restart: { (hooked, prefixed) = ([:], [:]) }) { message in
                        guard message.header.type == (flowtables ? NftablesRule.flowtableMessage : NftablesRule.chainMessage) else { return }
                        let found = try NftablesRule.decodeHooked(message.payload, flowtable: flowtables)
                        generations.insert(found.generation)
                        let what = "\(flowtables ? "flowtable" : "chain") \(familyName(found.family)) \(text(found.table)) \(text(found.name))"
                        for device in found.devices { hooked[device, default: []].append(what) }
                        for prefix in found.prefixes { prefixed[prefix, default: []].append(what) }
                    }
                } catch NetlinkError.kernel(_, let code, _) where flowtables && code == EOPNOTSUPP {
                    // A kernel without flowtables has none.
                }
                found.hooks.byName.merge(hooked, uniquingKeysWith: +)
                found.hooks.byPrefix.merge(prefixed, uniquingKeysWith: +)
            }
            do {
                try readIndexSets(client: client, lookups: lookups, into: &found.indexUses, unresolved: &found.unresolved, generations: &generations)
            } catch NetlinkError.kernel(_, let code, _) where code == ENOENT {
                // A set gone since the sets were listed: the ruleset changed; read it again.
                continue
            }
            do {
                var pending = Array(maps)
                while let device = pending.popLast() {
                    guard case let .map(family, table, name) = device else { continue }
                    for (data, rule) in fills[device] ?? [] {
                        switch data {
                        case let .index(index): found.counts[Int(index), default: 0] += 1
                        case let .named(device): found.byName[device, default: []].append(rule)
                        case .map: if maps.insert(data).inserted { pending.append(data) }
                        case let .runtime(what):
                            found.unresolved = found.unresolved ?? "\(rule) fills map \(text(name)), through which packets are sent to devices, "
                                + "with a device it picks as packets come (from \(what))"
                        }
                    }
                    var values: [UInt32] = []
                    var others = 0
                    try client.dumpEach(operation: "NFT_MSG_GETSETELEM", request: {
                        NftablesRule.setElementsDumpRequest(sequence: $0, family: family, table: table, set: name)
                    }, restart: { (values, others) = ([], 0) }) { message in
                        guard message.header.type == NftablesRule.setElementMessage else { return }
                        let listed = try NftablesRule.decodeSetElementValues(message.payload)
                        generations.insert(listed.generation)
                        values += listed.values
                        others += listed.others
                    }
                    for value in values { found.counts[Int(value), default: 0] += 1 }
                    if others > 0 {
                        found.unresolved = found.unresolved ?? "nftables map \(text(name)) (table \(familyName(family)) \(text(table))), through which packets "
                            + "are sent to devices, holds \(others) value\(others == 1 ? "" : "s") that \(others == 1 ? "is" : "are") not a device index alone"
                    }
                }
            } catch NetlinkError.kernel(_, let code, _) where code == ENOENT {
                // A map gone since the rules were listed: the ruleset changed; read it again.
                continue
            }
            if generations.count <= 1 { return found }
        }
        throw NetlinkError.dumpInterrupted(operation: "NFT_MSG_GETRULE with the maps it uses", attempts: attempts)
    }

    /// The same for the namespace behind `namespaceFD` (nil: this process's own), on a socket of
    /// its own; `Unreadable` when the rules cannot be had. A kernel without nftables (no
    /// NETLINK_NETFILTER) has none. Where nf_tables is a module that is not loaded, no rule can
    /// exist, and none is asked for: asking would make the kernel load it.
    public static func found(namespaceFD: Int32?, modules: String = "/proc/modules") -> Result<Found, SocketUse.Unreadable> {
        if !mayHaveRules(modules: modules) { return .success(Found()) }
        do {
            guard let socket = try NetlinkSocket.ifSupported(namespaceFD: namespaceFD, netlinkProtocol: NftablesRule.netlinkProtocol) else { return .success(Found()) }
            return .success(try found(client: RtnetlinkClient(transport: socket)))
        } catch {
            return .failure(SocketUse.Unreadable(description: "the kernel's list of nftables rules could not be read: \(error)"))
        }
    }

    /// Whether nftables can hold rules without being loaded first: it is loaded (listed in
    /// `modules`), built in (the kernel lists no modules, or `modules.builtin` names it), or it
    /// cannot be told.
    static func mayHaveRules(modules: String) -> Bool {
        KernelModules.mayBeActive(["nf_tables"], modules: modules)
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A set of a table, as rules name it.
    struct SetKey: Hashable {
        var family: UInt8
        var table: [UInt8]
        var name: [UInt8]
    }

    /// Adds to `uses` the elements of every set whose keys are or hold device indices (`type
    /// iface_index`, `typeof iif`, the anonymous set of `iif { "lo", "vpn0" }`, a concatenation
    /// such as `type iface_index . ipv4_addr` or `iif . tcp dport { "vpn0" . 22 }`): each element
    /// names the rules that look packets' devices up in its set (`lookups`), or, when none does,
    /// the set alone. Only such sets' elements are asked for. A set holding an interval of indices
    /// too wide to read (or one without an end) sets `unresolved`: any device may be in it.
    static func readIndexSets(client: RtnetlinkClient, lookups: [SetKey: [NftablesIndexUse]], into uses: inout [Int: [NftablesIndexUse]],
                              unresolved: inout String?, generations: inout Set<UInt16>) throws {
        var sets: [NftablesRule.SetDefinition] = []
        try client.dumpEach(operation: "NFT_MSG_GETSET", request: { NftablesRule.setsDumpRequest(sequence: $0) }, restart: { sets = [] }) { message in
            guard message.header.type == NftablesRule.setMessage else { return }
            let set = try NftablesRule.decodeSet(message.payload)
            generations.insert(set.generation)
            if !set.indexOffsets.isEmpty { sets.append(set) }
        }
        for set in sets {
            var elements: [NftablesRule.IndexElement] = []
            try client.dumpEach(operation: "NFT_MSG_GETSETELEM", request: {
                NftablesRule.setElementsDumpRequest(sequence: $0, family: set.family, table: set.table, set: set.name)
            }, restart: { elements = [] }) { message in
                guard message.header.type == NftablesRule.setElementMessage else { return }
                let listed = try NftablesRule.decodeSetElementKeys(message.payload, offsets: set.indexOffsets, networkOrder: set.flags & NftablesRule.intervalSet != 0)
                generations.insert(listed.generation)
                elements += listed.elements
            }
            let (keys, wide) = NftablesRule.indices(of: elements)
            let label = set.flags & NftablesRule.anonymousSet != 0 ? "an anonymous set" : "set \(text(set.name))"
            if wide {
                unresolved = unresolved ?? "nftables \(label) of table \(familyName(set.family)) \(text(set.table)) holds a range of device indices too wide to read"
            }
            let rules = lookups[SetKey(family: set.family, table: set.table, name: set.name)] ?? []
            let named = rules.isEmpty ? [NftablesIndexUse(place: "\(familyName(set.family)) \(text(set.table))", set: label)]
                : rules.map { NftablesIndexUse(place: $0.place, key: $0.key, set: label) }
            for key in Set(keys) { uses[Int(key), default: []] += named }
        }
    }

    /// The name `nft` gives a table's family (NFPROTO_*).
    static func familyName(_ family: UInt8) -> String {
        [1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"][family] ?? "family \(family)"
    }
}
#endif
