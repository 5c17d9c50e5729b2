import Foundation

/// The audit as JSON: the stable schema documented in README.md (version 1).
///
/// Keys follow iproute2's names where one exists. A key never changes type; optional keys are
/// left out when they do not apply rather than set to null.
public struct AuditReport: JSONRecord, Sendable {
    public struct Summary: JSONRecord, Sendable {
        public var tunnels: Int
        public var live: Int
        public var orphaned: Int
        public var suspect: Int
        public var unknown: Int
        public var limit: Int
        public var warn: Int
        public var holdersKnown: Bool

        public func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("tunnels", tunnels)
                json.field("live", live)
                json.field("orphaned", orphaned)
                json.field("suspect", suspect)
                json.field("unknown", unknown)
                json.field("limit", limit)
                json.field("warn", warn)
                json.field("holders_known", holdersKnown)
            }
        }
    }

    /// One interface of the report: what the kernel says of it, the verdict, its holders and
    /// routes, and what tunwarden's observations add.
    public struct InterfaceEntry: JSONRecord, Sendable {
        var interface: NetworkInterface
        var state: InterfaceState
        var reason: String
        var holdersKnown: Bool
        var holders: [Holder]
        var routes: [Route]
        var observation: InterfaceObservation?
        /// Whether the device its IFLA_LINK names, in this namespace, is down (see `lowerDown`).
        var lowerDown: Bool

        init(interface: NetworkInterface, state: InterfaceState, reason: String, holdersKnown: Bool, holders: [Holder],
             routes: [Route], observation: InterfaceObservation?, lowerDown: Bool = false) {
            self.interface = interface
            self.state = state
            self.reason = reason
            self.holdersKnown = holdersKnown
            self.holders = holders
            self.routes = routes
            self.observation = observation
            self.lowerDown = lowerDown
        }

        public func write(to json: inout JSONWriter) {
            Self.write(interface, state: state, reason: reason, holdersKnown: holdersKnown, holders: holders, routes: routes,
                       observation: observation, lowerDown: lowerDown, to: &json)
        }

        /// Writes an entry from its parts where they lie, without gathering them into an entry
        /// first (a copy of each of tens of thousands of interfaces). With `lowerDown` the flags
        /// end with `M-DOWN`, as `ip link` ends them when the device IFLA_LINK names is down.
        static func write(_ interface: NetworkInterface, state: InterfaceState, reason: String, holdersKnown: Bool, holders: [Holder],
                          routes: [Route], observation: InterfaceObservation?, lowerDown: Bool = false, to json: inout JSONWriter) {
            json.object { json in
                json.field("ifindex", interface.index)
                json.field("ifname", interface.name)
                json.field("kind", interface.kind.rawValue)
                json.field("info_kind", interface.infoKind)
                json.field("state", state.rawValue)
                json.field("state_reason", reason)
                json.field("first_seen", observation?.firstSeen)
                json.field("orphaned_since", observation?.orphanedSince)
                json.field("idle_since", observation?.idleSince)
                json.field("holders_seen", observation?.holdersSeen)
                json.field("flags", lowerDown ? interface.flags + ["M-DOWN"] : interface.flags)
                json.field("operstate", interface.operstate)
                json.field("carrier", interface.carrier)
                json.field("mtu", interface.mtu)
                json.field("group", interface.group)
                json.field("master", interface.master)
                json.field("link", interface.linkFromKindData ? nil : interface.link)
                json.field("link_netnsid", interface.linkNetnsID)
                json.field("peer", interface.peerName)
                json.field("address", interface.hardwareAddress)
                json.field("tun", interface.tun)
                json.field("holders_known", holdersKnown)
                json.field("holders", holders)
                json.field("addr_info", interface.addresses)
                json.field("routes", routes)
                json.field("stats64", interface.stats)
            }
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
    let observations: Observations?
    /// The interfaces (by index) whose IFLA_LINK device, in this namespace, is down or not listed,
    /// as `ip link` tells them (`M-DOWN`): a veth whose peer is down, a macvlan on a device that is.
    let lowerDown: Set<Int>

    /// How many interfaces the report lists.
    public var interfaceCount: Int { rows.count }

    /// The entry of the `position`th interface listed.
    func entry(_ position: Int) -> InterfaceEntry {
        let (interface, state, reason, holdersKnown, holders, routes) = AuditTable.row(rows[position], of: assessment, contextRoutes: contextRoutes)
        return InterfaceEntry(interface: interface, state: state, reason: reason, holdersKnown: holdersKnown,
                              holders: holders, routes: routes,
                              observation: observations?.observation(of: interface, in: assessment.snapshot.namespaceIdentity),
                              lowerDown: lowerDown.contains(interface.index))
    }

    public func write(to json: inout JSONWriter) {
        write(to: &json, entries: nil)
    }

    /// Writes the report; `entries`, when given, are its interface entries written already, in
    /// order, by `writeEntries` into fragments (`JSONWriter.fragment` at `entriesDepth`), and
    /// are spliced in instead of being written here; `findings` likewise, by `writeFindings`.
    public func write(to json: inout JSONWriter, entries: [JSONWriter]?, findings writtenFindings: JSONWriter? = nil) {
        json.object { json in
            json.field("version", version)
            json.field("platform", platform)
            json.field("netns", netns)
            json.field("status", status.rawValue)
            json.field("summary", summary)
            json.array("interfaces") { json in
                if let entries {
                    for part in entries { json.splice(part) }
                } else {
                    writeEntries(rows.indices, to: &json)
                }
            }
            json.array("findings") { json in
                if let writtenFindings { json.splice(writtenFindings) } else { writeFindings(to: &json) }
            }
        }
    }

    /// Writes the findings, as the elements of the "findings" array (as deep as the entries).
    public func writeFindings(to json: inout JSONWriter) {
        for finding in findings { json.element(finding) }
    }

    /// How deep the interface entries are: in the report's object, in its "interfaces" array.
    public static let entriesDepth = 2

    /// Writes the entries of the interfaces listed at `positions`, one at a time as they are
    /// written (a leaking host has tens of thousands, and they are never all copied at once).
    public func writeEntries(_ positions: Range<Int>, to json: inout JSONWriter) {
        for position in positions {
            switch rows[position] {
            case let .assessed(index):
                // Written from the assessment in place: see `InterfaceEntry.write(_:state:…)`.
                let observation = observations?.observation(of: assessment.interfaces[index].interface, at: index,
                                                            in: assessment.snapshot.namespaceIdentity)
                json.element { json in
                    InterfaceEntry.write(assessment.interfaces[index].interface, state: assessment.interfaces[index].state,
                                         reason: assessment.interfaces[index].reason, holdersKnown: assessment.interfaces[index].holdersKnown,
                                         holders: assessment.interfaces[index].holders, routes: assessment.interfaces[index].routes,
                                         observation: observation, lowerDown: lowerDown.contains(assessment.interfaces[index].interface.index), to: &json)
                }
            case .context:
                json.element(entry(position))
            }
        }
    }

    /// Room for the compact report: a few hundred bytes per interface entry and finding.
    public var jsonSizeHint: Int { 4096 + rows.count * 700 + findings.count * 400 }

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
        self.observations = observations
        findings = assessment.findings
        lowerDown = Self.lowerDown(in: assessment.snapshot.interfaces)
    }

    /// See `lowerDown`. A vxlan's lower device is not its IFLA_LINK, and one in another namespace
    /// (IFLA_LINK_NETNSID) is not looked up, as ip does not look it up.
    static func lowerDown(in interfaces: [NetworkInterface]) -> Set<Int> {
        let linked = { (interface: NetworkInterface) in interface.link != nil && !interface.linkFromKindData && interface.linkNetnsID == nil }
        // Nearly every host of thousands of tuns has no such link: no table of them is made.
        guard interfaces.contains(where: linked) else { return [] }
        let up = Dictionary(interfaces.map { ($0.index, $0.isUp) }, uniquingKeysWith: { first, _ in first })
        return Set(interfaces.filter { linked($0) && up[$0.link!] != true }.map(\.index))
    }
}
