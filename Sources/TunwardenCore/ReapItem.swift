import Foundation

/// One device the reaper will remove, or whose stale routes it will remove, with why and what goes with it.
public struct ReapItem: Sendable, Equatable {
    public var action: ReapAction = .deleteInterface
    /// The device as it was when planned: the journal records it whole.
    public var interface: NetworkInterface
    /// The finding's evidence.
    public var evidence: String
    public var orphanedSince: Date?
    /// How long it has been seen orphaned when planned, on the clock the grace period counts on
    /// (see `InterfaceObservation.orphanedAge`): what the plan says, not `orphanedSince`'s
    /// distance from the wall clock, which a step may have moved.
    public var orphanedFor: TimeInterval?
    /// Routes that disappear with the device (or, for `removeRoutes`, the routes removed).
    public var routes: [Route]
    /// Who holds the interface (for `removeRoutes`: the process that keeps the utun alive).
    public var holders: [Holder] = []
    /// Its neighbour entries made by hand, which go with the device and which the recreate
    /// commands give back: read for the plan where the platform can (the reaper reads them again
    /// when it acts, for the journal).
    public var neighbours: [RecreateCommands.Neighbour] = []
    /// The keys (`RecreateCommands.routeKey`) of `routes` that a route through another device
    /// shares, each with how this device's routes stood among the others: the recreate commands
    /// add such a route beside the others (`ip route prepend` or `append`), since `ip route add`
    /// fails with File exists while they are there.
    public var sharedRouteKeys: [String: RecreateCommands.SharedRouteKey] = [:]

    public var ifname: String { interface.name }

    /// Whether the item is carried out with macOS's tools (`DarwinCommands`): it is a utun's,
    /// a feth's or a tuntaposx device's.
    public var onMacOS: Bool { interface.kind == .utun || interface.kind == .feth || interface.tuntaposx != nil }
}

/// An orphan that is not a target, and why.
public struct ReapExclusion: Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        /// Seen orphaned for less than the minimum age; reapable from the given time.
        case tooYoung(reapableAt: Date)
        case protected(pattern: String)
        case kindNotSelected
        /// Given back damaged in this run by the repair of a reap killed outright: not deleted in
        /// the same run, whose intent records would hold only what was left of it (the killed
        /// run's hold all it had, and the repair's result says what it lacks). The next run
        /// plans it as any orphan.
        case repairFailed
        /// A single-queue tun/tap that is up with routes the kernel passes by only because it has
        /// no carrier (`CarrierFence`): the reaper's fence would turn its carrier on and send
        /// their traffic into it, or may: the routes by what is known of them.
        case carrierWouldWakeRoutes(CarrierFence.Woken)
        /// One side of a pair (a feth or a veth, see `ReapPlan.keepPairsWhole`) whose peer the
        /// plan keeps: deleting this side would unpeer the peer (feth) or delete it (veth).
        /// `because`: why the peer is kept, nil when it is no target at all (not orphaned, not
        /// reapable).
        indirect case peerKept(peer: String, because: Reason?)
    }

    public var ifname: String
    public var reason: Reason

    public init(ifname: String, reason: Reason) {
        self.ifname = ifname
        self.reason = reason
    }
}
