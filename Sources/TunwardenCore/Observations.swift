import Foundation

/// What tunwarden has seen of one interface across runs. The kernel keeps no creation time for
/// links, so ages come only from these observations.
public struct InterfaceObservation: Decodable, JSONRecord, Sendable, Equatable {
    public var ifindex: Int
    public var ifname: String
    public var kind: InterfaceKind
    public var firstSeen: Date
    public var lastSeen: Date
    /// When it was first seen orphaned in the current unbroken run of orphaned observations, on
    /// the wall clock: shown, never used to count the grace period (a clock step would move it).
    public var orphanedSince: Date?
    /// The boot clock's reading (`Snapshot.bootClock`) at the first observation of the current
    /// orphaned run that had one: what the grace period counts from (see `orphanedAge`). Nil while
    /// not orphaned, on a platform without a boot clock, and for an orphan first seen by a
    /// tunwarden that did not keep it, until the next observation sets it (so its age counts from
    /// then, never from before). Kept in the state database only, in no JSON.
    public var orphanedSinceBoot: TimeInterval? = nil
    /// The traffic counters when last read (nil where the platform reports none).
    public var traffic: TrafficCounters?
    /// When the counters were last seen to move; nil while they have not moved since first seen.
    public var lastTrafficChange: Date?
    /// The most recent distinct holders seen (`comm[pid]`), oldest first, at most `holdersSeenLimit`.
    public var holdersSeen: [String]?
    /// What tells the device seen from another at its ifindex under its name (`DeviceIdentity`),
    /// as last seen; nil for one recorded by a tunwarden that did not keep it, until the next
    /// observation. Kept in the state database only, in no JSON.
    public var identity: DeviceIdentity? = nil

    /// How many past holders an observation remembers.
    public static let holdersSeenLimit = 8

    enum CodingKeys: String, CodingKey {
        case ifindex, ifname, kind, firstSeen = "first_seen", lastSeen = "last_seen", orphanedSince = "orphaned_since",
             traffic, lastTrafficChange = "last_traffic_change", holdersSeen = "holders_seen"
    }

    public init(ifindex: Int, ifname: String, kind: InterfaceKind, firstSeen: Date, lastSeen: Date, orphanedSince: Date?) {
        self.ifindex = ifindex
        self.ifname = ifname
        self.kind = kind
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.orphanedSince = orphanedSince
    }

    /// How long the interface has been seen orphaned at `now`, when the boot clock read
    /// `bootClock` (the snapshot's `agingClock`); nil when it is not orphaned. With a boot clock,
    /// the time that really passed in this boot since `orphanedSinceBoot`, whatever the wall clock
    /// did meanwhile (stepped by NTP's first sync, a resumed virtual machine, `date -s`); zero
    /// when that reading is not kept yet. Without one (macOS, a capture), the wall clock's
    /// difference from `orphanedSince`.
    public func orphanedAge(at now: Date, bootClock: TimeInterval?) -> TimeInterval? {
        guard let orphanedSince else { return nil }
        guard let bootClock else { return now.timeIntervalSince(orphanedSince) }
        return orphanedSinceBoot.map { max(0, bootClock - $0) } ?? 0
    }

    /// Since when the interface has carried no traffic, as far as tunwarden has seen: the last
    /// change of its counters, or its first sighting. Nil when its counters are not known.
    public var idleSince: Date? {
        traffic == nil ? nil : lastTrafficChange ?? firstSeen
    }

    /// Takes in counters read at `now`; a change (or a counter reset) moves the last-change time.
    /// Returns whether anything changed.
    @discardableResult
    public mutating func noteTraffic(_ counters: TrafficCounters?, at now: Date) -> Bool {
        guard let counters else { return false }
        defer { traffic = counters }
        guard let previous = traffic else { return true }
        guard previous != counters else { return false }
        lastTrafficChange = now
        return true
    }

    /// Whether `counters` prove that a process was attached to the tun or tap since the counters
    /// last kept were read: its packet counters moved. The tun driver counts a received packet
    /// only for one a process wrote (`tun_get_user`) and a sent one only for one it queued to an
    /// attached queue (`tun_net_xmit` counts a drop without one), so they stand still while
    /// nothing is attached. False for other kinds, whose counters move by themselves, and when
    /// either reading is missing.
    public func packetsMoved(to counters: TrafficCounters?, kind: InterfaceKind) -> Bool {
        guard kind == .tun || kind == .tap, let counters, let traffic else { return false }
        return counters.rxPackets != traffic.rxPackets || counters.txPackets != traffic.txPackets
    }

    /// Remembers holders seen now, keeping the most recent distinct ones.
    public mutating func noteHolders(_ holders: [Holder]) {
        guard !holders.isEmpty else { return }
        var seen = holdersSeen ?? []
        for holder in holders {
            let label = "\(holder.comm)[\(holder.pid)]"
            seen.removeAll { $0 == label }
            seen.append(label)
        }
        holdersSeen = Array(seen.suffix(Self.holdersSeenLimit))
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("ifindex", ifindex)
            json.field("ifname", ifname)
            json.field("kind", kind.rawValue)
            json.field("first_seen", firstSeen)
            json.field("last_seen", lastSeen)
            json.field("orphaned_since", orphanedSince)
            json.field("traffic", traffic)
            json.field("last_traffic_change", lastTrafficChange)
            json.field("holders_seen", holdersSeen)
        }
    }
}

extension InterfaceObservation {
    /// What is known of `entry` after seeing it at `now`, when the boot clock read `bootClock`
    /// (the snapshot's `agingClock`): `previous` (nil: seen for the first time) with its last
    /// sighting, traffic, holders and orphaned-since times brought up to date. An orphan whose
    /// boot-clock reading is not kept yet (recorded before it was) gets this one: its age counts
    /// from now.
    ///
    /// A device that is not the one `previous` saw (`replacement(of:by:)`: another moved in under
    /// its ifindex and name) starts afresh: first seen now, orphaned since now.
    public static func continuing(_ previous: InterfaceObservation?, with entry: AssessedInterface, at now: Date,
                                  bootClock: TimeInterval? = nil) -> InterfaceObservation {
        let previous = previous.flatMap { replacement(of: $0, by: entry.interface).isEmpty ? $0 : nil }
        var observation = previous ?? InterfaceObservation(
            ifindex: entry.interface.index, ifname: entry.interface.name, kind: entry.interface.kind,
            firstSeen: now, lastSeen: now, orphanedSince: nil
        )
        observation.lastSeen = now
        observation.identity = DeviceIdentity(entry.interface)
        let used = observation.packetsMoved(to: entry.interface.stats, kind: entry.interface.kind) || entry.attachSeen
        observation.noteTraffic(entry.interface.stats, at: now)
        observation.noteHolders(entry.holders)
        switch entry.state {
        case .orphaned where used:
            // Attached since the last look, however briefly: its orphaned run starts again.
            observation.orphanedSince = now
            observation.orphanedSinceBoot = bootClock
        case .orphaned:
            observation.orphanedSince = observation.orphanedSince ?? now
            observation.orphanedSinceBoot = observation.orphanedSinceBoot ?? bootClock
        // Not knowing is not a reason to forget: an unknown run keeps the orphaned-since times.
        case .unknown: break
        case .live, .suspect:
            observation.orphanedSince = nil
            observation.orphanedSinceBoot = nil
        }
        return observation
    }

    /// What tells `interface`, at the ifindex and under the name `previous` was seen at, from the
    /// device `previous` saw (`DeviceIdentity`; its counters going back, for a tun or tap); empty
    /// when nothing does, or when `previous` kept no identity (the next observation keeps one).
    public static func replacement(of previous: InterfaceObservation, by interface: NetworkInterface) -> [String] {
        guard let identity = previous.identity else { return [] }
        return DeviceIdentity(interface).differences(from: identity)
            + (DeviceIdentity.countersWentBack(from: previous.traffic, to: interface.stats, kind: interface.kind).map { [$0] } ?? [])
    }

    /// Whether the two say the same of an interface apart from when it was last seen, which is
    /// kept per namespace, not per interface (so an unchanged interface costs no write).
    public func matches(_ other: InterfaceObservation) -> Bool {
        var other = other
        other.lastSeen = lastSeen
        return self == other
    }
}

/// Everything tunwarden remembers between runs, per network namespace.
///
/// An interface is identified by namespace, index and name: a device deleted and made again gets
/// a new index and starts a new history. A device that arrives under an ifindex and name seen
/// before (moved in from another namespace) but is not the device seen there (`DeviceIdentity`)
/// starts a new history too. A namespace is identified by `NamespaceIdentity`: one
/// incarnation in one boot, so a namespace made again, or the machine rebooted, starts afresh.
public struct Observations: Decodable, JSONRecord, Sendable, Equatable {
    public var version = 1
    /// Keyed by namespace identity (`netns-cookie:4103@boot:…`, see `NamespaceIdentity`), then by
    /// `ifindex:ifname`.
    public var namespaces: [String: [String: InterfaceObservation]] = [:]
    /// Per namespace identity: counts over time, what was last alerted, what was reaped.
    public var histories: [String: NamespaceHistory] = [:]
    /// One namespace's observations in the order of the assessment they were recorded from (the
    /// `i`th is of `assessment.interfaces[i]`), as a recording returns them: a report or table of
    /// that assessment finds each by position, where ten thousand lookups by key cost
    /// milliseconds. Not stored, and not part of what makes two observations equal.
    public var recordedOrder: RecordedOrder?

    public struct RecordedOrder: Sendable {
        public let namespace: String
        public let list: [InterfaceObservation]

        public init(namespace: String, list: [InterfaceObservation]) {
            self.namespace = namespace
            self.list = list
        }
    }

    public init() {}

    public static func == (a: Observations, b: Observations) -> Bool {
        a.version == b.version && a.namespaces == b.namespaces && a.histories == b.histories
    }

    enum CodingKeys: String, CodingKey { case version, namespaces, histories }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        namespaces = try c.decode([String: [String: InterfaceObservation]].self, forKey: .namespaces)
        // State files written before histories existed have none.
        histories = try c.decodeIfPresent([String: NamespaceHistory].self, forKey: .histories) ?? [:]
    }

    /// The observations as the state file of tunwarden before state.db held them (the file
    /// `StateDatabase` imports once). Its maps are written in the order the dictionaries hold their keys.
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("version", version)
            json.object("namespaces") { json in
                for (namespace, interfaces) in namespaces {
                    json.object(named: namespace) { json in
                        for (key, observation) in interfaces { json.field(named: key, observation) }
                    }
                }
            }
            json.object("histories") { json in
                for (namespace, history) in histories { json.field(named: namespace, history) }
            }
        }
    }

    /// Room for the state file: a few hundred bytes per interface, a few thousand per history.
    public var jsonSizeHint: Int {
        namespaces.values.reduce(1024) { $0 + $1.count * 300 } + histories.count * 8192
    }

    /// How `namespaces` keys an interface: `ifindex:ifname`.
    public static func key(_ index: Int, _ name: String) -> String { String(index) + ":" + name }

    /// The observation of an interface, if it has been seen before. (Where a recording left the
    /// namespace's observations only in `recordedOrder`, they are searched there.)
    public func observation(of interface: NetworkInterface, in namespace: String) -> InterfaceObservation? {
        if namespaces[namespace] == nil, let order = recordedOrder, order.namespace == namespace {
            return order.list.first { $0.ifindex == interface.index && $0.ifname == interface.name }
        }
        return namespaces[namespace]?[Self.key(interface.index, interface.name)]
    }

    /// The observation of `interface`, which is at `position` of an assessment of `namespace`: by
    /// position when the observations were recorded from that assessment (see `recordedOrder`),
    /// by key otherwise.
    public func observation(of interface: NetworkInterface, at position: Int, in namespace: String) -> InterfaceObservation? {
        if let order = recordedOrder, order.namespace == namespace, position < order.list.count,
           order.list[position].ifindex == interface.index, order.list[position].ifname == interface.name {
            return order.list[position]
        }
        return observation(of: interface, in: namespace)
    }

    /// Records an assessment made at `now`: new interfaces get a first-seen time, orphans an
    /// orphaned-since time (kept while they stay orphaned, cleared when they stop being orphaned),
    /// and interfaces that are gone are forgotten. Recording a Linux namespace of this boot also
    /// forgets the Linux namespaces of other boots (and of state files written before identities
    /// named their boot), with their histories: those namespaces are gone for good.
    public mutating func record(_ assessment: Assessment, namespace: String, at now: Date) {
        if let boot = NamespaceIdentity.bootID(of: namespace) { forgetOtherBoots(than: boot) }
        let previous = namespaces[namespace] ?? [:]
        var current: [String: InterfaceObservation] = [:]
        current.reserveCapacity(assessment.interfaces.count)
        for entry in assessment.interfaces {
            let key = Self.key(entry.interface.index, entry.interface.name)
            current[key] = InterfaceObservation.continuing(previous[key], with: entry, at: now, bootClock: assessment.snapshot.agingClock)
        }
        namespaces[namespace] = current
        histories[namespace, default: NamespaceHistory()].addSample(CountSample(time: now, count: assessment.interfaces.count))
    }

    /// Drops the observations and histories of Linux namespaces that do not belong to `boot`.
    mutating func forgetOtherBoots(than boot: String) {
        func gone(_ identity: String) -> Bool { NamespaceIdentity.isLinux(identity) && NamespaceIdentity.bootID(of: identity) != boot }
        if namespaces.keys.contains(where: gone) { namespaces = namespaces.filter { !gone($0.key) } }
        if histories.keys.contains(where: gone) { histories = histories.filter { !gone($0.key) } }
    }

    /// Takes in traffic counters read between inventories (the watcher's `--stats-interval`
    /// sampling) for interfaces already observed; others wait for the next inventory. Returns
    /// whether any observation changed.
    public mutating func noteTraffic(_ interfaces: [NetworkInterface], namespace: String, at now: Date) -> Bool {
        guard var current = namespaces[namespace] else { return false }
        var changed = false
        for interface in interfaces {
            let key = Self.key(interface.index, interface.name)
            guard var observation = current[key] else { continue }
            // An orphan used since the last reading starts its orphaned run again; its boot-clock
            // reading comes with the next inventory, and its age counts from then.
            if observation.orphanedSince != nil, observation.packetsMoved(to: interface.stats, kind: interface.kind) {
                observation.orphanedSince = now
                observation.orphanedSinceBoot = nil
            }
            if observation.noteTraffic(interface.stats, at: now) {
                current[key] = observation
                changed = true
            }
        }
        if changed { namespaces[namespace] = current }
        return changed
    }
}

extension Observations {
    /// Interface indexes, as the kernel keeps them (a positive int).
    public static let ifindexBounds: ClosedRange<Int> = 1...Int(Int32.max)
    /// Tunnel counts in the history: there cannot be more interfaces than indexes.
    public static let countBounds: ClosedRange<Int> = 0...Int(Int32.max)
    /// The reaped total: JSON's exact integers, far beyond any real total, so adding a run's
    /// deletions to it can never overflow.
    public static let reapedTotalBounds: ClosedRange<Int> = 0...(1 << 53)

    /// The first number read from a state file that lies outside its bounds, described for a
    /// message (nil when every one is within them). Such a file was not written by tunwarden, and
    /// is treated as damaged rather than letting its numbers reach arithmetic.
    public var numberOutOfBounds: String? {
        func outside(_ what: String, _ value: Int, _ bounds: ClosedRange<Int>) -> String {
            "\(what) is \(value), outside \(bounds.lowerBound) to \(bounds.upperBound)"
        }
        for (namespace, interfaces) in namespaces {
            if let bad = interfaces.values.first(where: { !Self.ifindexBounds.contains($0.ifindex) }) {
                return outside("the ifindex of \(bad.ifname) in \(namespace)", bad.ifindex, Self.ifindexBounds)
            }
        }
        for (namespace, history) in histories {
            if let bad = history.counts.first(where: { !Self.countBounds.contains($0.count) }) {
                return outside("a tunnel count in the history of \(namespace)", bad.count, Self.countBounds)
            }
            if !Self.reapedTotalBounds.contains(history.reapedTotal) {
                return outside("the reaped total of \(namespace)", history.reapedTotal, Self.reapedTotalBounds)
            }
        }
        return nil
    }
}

/// A duration given as text that tunwarden does not take, and why.
public enum DurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a non-negative number with an optional unit (s, m, h, d).
    case notADuration(String)
    /// A number other than 0 with no unit, which could mean seconds as well as minutes.
    case missingUnit(String)
    /// Shorter than the setting allows.
    case tooShort(String, minimum: TimeInterval)
    /// Longer than `DurationText.maximum`.
    case tooLong(String)

    /// The words for a number without a unit: "needs a unit; got '15': write 15s, 15m, 15h or 15d
    /// (…)". It names the value and every reading of it, so the fix is one copy away.
    static func missingUnitText(_ text: String) -> String {
        let number = text.trimmingCharacters(in: .whitespaces)
        let spellings = ["s", "m", "h"].map { number + $0 }.joined(separator: ", ") + " or \(number)d"
        return "needs a unit; got '\(text)': write \(spellings) (seconds, minutes, hours or days; only 0 goes without one)"
    }

    /// What a message says after the setting's name: "must be at most 36500d (100 years); got '1e308d'".
    public var description: String {
        switch self {
        case let .notADuration(text): "expected a duration like 90s, 15m, 2h or 1d; got '\(text)'"
        case let .missingUnit(text): Self.missingUnitText(text)
        case let .tooShort(text, minimum): "must be at least \(DurationText.exact(minimum)); got '\(text)'"
        case let .tooLong(text): "must be at most \(DurationText.format(DurationText.maximum)) (100 years); got '\(text)'"
        }
    }
}
