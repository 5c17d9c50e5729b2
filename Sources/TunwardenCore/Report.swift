import Foundation

/// The audit as JSON: the stable schema documented in README.md.
///
/// Keys follow iproute2's names where one exists. A key never changes type; optional keys are
/// left out when they do not apply rather than set to null.
public struct AuditReport: Encodable, Sendable {
    public struct Summary: Encodable, Sendable {
        public var tunnels: Int
        public var live: Int
        public var orphaned: Int
        public var suspect: Int
        public var unknown: Int
        public var limit: Int
        public var warn: Int
        public var holdersKnown: Bool

        enum CodingKeys: String, CodingKey {
            case tunnels, live, orphaned, suspect, unknown, limit, warn, holdersKnown = "holders_known"
        }
    }

    public struct InterfaceEntry: Encodable, Sendable {
        var interface: NetworkInterface
        var state: InterfaceState
        var reason: String
        var holdersKnown: Bool
        var holders: [Holder]
        var routes: [Route]
        var observation: InterfaceObservation?

        init(interface: NetworkInterface, state: InterfaceState, reason: String, holdersKnown: Bool, holders: [Holder],
             routes: [Route], observation: InterfaceObservation?) {
            self.interface = interface
            self.state = state
            self.reason = reason
            self.holdersKnown = holdersKnown
            self.holders = holders
            self.routes = routes
            self.observation = observation
        }

        /// The entry of an assessed (tunnel-style) interface.
        init(_ assessed: AssessedInterface, observation: InterfaceObservation?) {
            self.init(interface: assessed.interface, state: assessed.state, reason: assessed.reason, holdersKnown: assessed.holdersKnown,
                      holders: assessed.holders, routes: assessed.routes, observation: observation)
        }

        enum CodingKeys: String, CodingKey {
            case ifindex, ifname, kind, infoKind = "info_kind", state, stateReason = "state_reason", firstSeen = "first_seen",
                 orphanedSince = "orphaned_since", idleSince = "idle_since", holdersSeen = "holders_seen", flags, operstate,
                 carrier, mtu, group, master, link, linkNetnsID = "link_netnsid", peer, address, tun,
                 holdersKnown = "holders_known", holders, addrInfo = "addr_info", routes, stats64
        }

        public func encode(to encoder: any Encoder) throws {
            if let sink = (encoder as? StreamEncoder)?.directSink { return try write(to: sink) }
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(interface.index, forKey: .ifindex)
            try c.encode(interface.name, forKey: .ifname)
            try c.encode(interface.kind, forKey: .kind)
            try c.encodeIfPresent(interface.infoKind, forKey: .infoKind)
            try c.encode(state, forKey: .state)
            try c.encode(reason, forKey: .stateReason)
            try c.encodeIfPresent(observation.map { Timestamp.format($0.firstSeen) }, forKey: .firstSeen)
            try c.encodeIfPresent(observation?.orphanedSince.map(Timestamp.format), forKey: .orphanedSince)
            try c.encodeIfPresent(observation?.idleSince.map(Timestamp.format), forKey: .idleSince)
            try c.encodeIfPresent(observation?.holdersSeen, forKey: .holdersSeen)
            try c.encode(interface.flags, forKey: .flags)
            try c.encodeIfPresent(interface.operstate, forKey: .operstate)
            try c.encodeIfPresent(interface.carrier, forKey: .carrier)
            try c.encodeIfPresent(interface.mtu, forKey: .mtu)
            try c.encodeIfPresent(interface.group, forKey: .group)
            try c.encodeIfPresent(interface.master, forKey: .master)
            try c.encodeIfPresent(interface.link, forKey: .link)
            try c.encodeIfPresent(interface.linkNetnsID, forKey: .linkNetnsID)
            try c.encodeIfPresent(interface.peerName, forKey: .peer)
            try c.encodeIfPresent(interface.hardwareAddress, forKey: .address)
            try c.encodeIfPresent(interface.tun, forKey: .tun)
            try c.encode(holdersKnown, forKey: .holdersKnown)
            try c.encode(holders, forKey: .holders)
            try c.encode(interface.addresses, forKey: .addrInfo)
            try c.encode(routes, forKey: .routes)
            try c.encodeIfPresent(interface.stats, forKey: .stats64)
        }

        /// The same members as `encode(to:)`, written straight into tunwarden's own writer: a
        /// report holds one entry per interface, tens of thousands on a leaking host.
        func write(to sink: JSONSink) throws {
            sink.openObject()
            sink.field("ifindex", interface.index)
            sink.field("ifname", interface.name)
            sink.field("kind", interface.kind.rawValue)
            sink.field("info_kind", ifPresent: interface.infoKind)
            sink.field("state", state.rawValue)
            sink.field("state_reason", reason)
            if let observation {
                sink.field("first_seen", timestamp: observation.firstSeen)
                sink.field("orphaned_since", ifPresent: observation.orphanedSince)
                sink.field("idle_since", ifPresent: observation.idleSince)
                if let seen = observation.holdersSeen { sink.field("holders_seen", strings: seen) }
            }
            sink.field("flags", strings: interface.flags)
            sink.field("operstate", ifPresent: interface.operstate)
            sink.field("carrier", ifPresent: interface.carrier)
            sink.field("mtu", ifPresent: interface.mtu)
            sink.field("group", ifPresent: interface.group)
            sink.field("master", ifPresent: interface.master)
            sink.field("link", ifPresent: interface.link)
            sink.field("link_netnsid", ifPresent: interface.linkNetnsID)
            sink.field("peer", ifPresent: interface.peerName)
            sink.field("address", ifPresent: interface.hardwareAddress)
            if let tun = interface.tun {
                sink.key("tun")
                sink.openObject()
                sink.field("persist", ifPresent: tun.persistent)
                sink.field("multi_queue", ifPresent: tun.multiQueue)
                sink.field("pi", ifPresent: tun.packetInfo)
                sink.field("vnet_hdr", ifPresent: tun.vnetHeader)
                sink.field("owner", ifPresent: tun.owner)
                sink.field("group", ifPresent: tun.group)
                sink.field("numqueues", ifPresent: tun.numQueues)
                sink.field("numdisabledqueues", ifPresent: tun.numDisabledQueues)
                sink.close()
            }
            sink.field("holders_known", holdersKnown)
            sink.field("holders", records: holders)
            sink.field("addr_info", records: interface.addresses)
            sink.field("routes", records: routes)
            if let stats = interface.stats {
                sink.key("stats64")
                stats.write(to: sink)
            }
            sink.close()
        }
    }

    public var version = 1
    public var platform: String
    public var netns: String?
    public var status: AuditStatus
    public var summary: Summary
    public var findings: [Finding]
    /// The judged snapshot the interface entries are made from, one at a time as they are
    /// written (a leaking host has tens of thousands: they are never all copied at once).
    let assessment: Assessment
    let rows: [AuditTable.Row]
    /// Routes by interface index, for the context interfaces listed (assessed ones carry their own).
    let contextRoutes: [Int: [Route]]
    let observations: [String: InterfaceObservation]?

    /// How many interfaces the report lists.
    public var interfaceCount: Int { rows.count }

    /// The entry of the `position`th interface listed.
    func entry(_ position: Int) -> InterfaceEntry {
        let (interface, state, reason, holdersKnown, holders, routes) = AuditTable.row(rows[position], of: assessment, contextRoutes: contextRoutes)
        return InterfaceEntry(interface: interface, state: state, reason: reason, holdersKnown: holdersKnown,
                              holders: holders, routes: routes,
                              observation: observations?[Observations.key(interface.index, interface.name)])
    }

    enum CodingKeys: String, CodingKey { case version, platform, netns, status, summary, interfaces, findings }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(platform, forKey: .platform)
        try c.encodeIfPresent(netns, forKey: .netns)
        try c.encode(status, forKey: .status)
        try c.encode(summary, forKey: .summary)
        try c.encode(rows.indices.map(entry), forKey: .interfaces)
        try c.encode(findings, forKey: .findings)
    }

    /// `observations` are tunwarden's own records for the inspected namespace, when it keeps any.
    public init(_ assessment: Assessment, includeContext: Bool = false, observations: Observations? = nil) {
        self.assessment = assessment
        platform = assessment.snapshot.platform.rawValue
        netns = assessment.snapshot.namespace
        status = assessment.status
        summary = Summary(
            tunnels: assessment.interfaces.count, live: assessment.count(.live), orphaned: assessment.count(.orphaned),
            suspect: assessment.count(.suspect), unknown: assessment.count(.unknown), limit: assessment.policy.limit,
            warn: assessment.policy.effectiveWarn, holdersKnown: assessment.snapshot.holders.complete
        )
        rows = AuditTable.rows(assessment, includeContext: includeContext)
        contextRoutes = includeContext ? Heuristics.routesPerInterface(assessment.snapshot.routes) : [:]
        self.observations = observations.map { $0.namespaces[assessment.snapshot.namespaceIdentity] ?? [:] }
        findings = assessment.findings
    }

    /// The report as UTF-8 JSON, pretty-printed or compact, keys in schema order.
    public func json(pretty: Bool) throws -> [UInt8] {
        JSONSegment.joined(try jsonSegments(pretty: pretty))
    }

    /// The same JSON in consecutive pieces, to be written out one after the other.
    public func jsonSegments(pretty: Bool) throws -> [JSONSegment] {
        // Large arrays are encoded into buffers of their own; the rest is small.
        try JSONWriter.encodeSegments(self, pretty: pretty, capacity: rows.count < 2048 ? 4096 + rows.count * JSONSink.entryBytes(pretty: pretty) : 64 * 1024)
    }
}
