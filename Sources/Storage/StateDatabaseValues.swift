import Foundation
import TunwardenCore

/// What a namespace is called, for `history`: the `ip netns` name it had, or that it is this
/// host's own (the namespace process 1 runs in).
public struct NamespaceLabel: Sendable, Equatable {
    public var name: String?
    public var isHost: Bool

    public init(name: String?, isHost: Bool = false) {
        self.name = name
        self.isHost = isHost
    }
}

/// The alert sinks a run delivers to.
public struct AlertSinkSet: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let exec = AlertSinkSet(rawValue: 1)
    public static let webhook = AlertSinkSet(rawValue: 2)
}

/// The sinks a run has, by what they are: the `--alert-exec` command line and the
/// `--alert-webhook` URL. Besides the runs of its own namespace, an alert is told only by a run
/// that has the very sink of the run that decided it, not by any sink of the kind: runs of other
/// namespaces sharing the state directory (one watcher per namespace, each paging its own team)
/// have other commands. Nil for a kind the run has none of.
public struct SinkAddresses: Sendable, Hashable {
    public var exec: String?
    public var webhook: String?

    public init(exec: String? = nil, webhook: String? = nil) {
        self.exec = exec
        self.webhook = webhook
    }
}

/// How a recording run judges leak growth and decides on alerts.
public struct AlertJudging: Sendable {
    public var growth: GrowthPolicy
    /// The sinks this run delivers to: it claims what they are owed when it decides an alert.
    public var sinks: AlertSinkSet
    /// The sinks the run has (whether it claims when deciding or not): those an alert it decides
    /// is owed to.
    public var addresses = SinkAddresses()
    /// The host's name for the alert, asked for only when there is one.
    public var host: @Sendable () -> String
    /// A watcher's hold-down of improvements (see `AlertDecision.Hold`); nil alerts every change
    /// at once, as the one-shot runs do.
    public var hold: AlertDecision.Hold?

    public init(growth: GrowthPolicy, sinks: AlertSinkSet, hold: AlertDecision.Hold? = nil, host: @escaping @Sendable () -> String) {
        self.growth = growth
        self.sinks = sinks
        self.hold = hold
        self.host = host
    }
}

/// An alert to deliver, as kept in the database: decided once, by one run, and claimed by the
/// run that delivers it.
public struct PendingAlert: Sendable, Equatable {
    public var id: Int64
    public var time: Date
    public var event: String
    public var status: AuditStatus
    public var previousStatus: AuditStatus
    /// Nothing was alerted in the namespace before (`previousStatus` is the ok an empty history stands for).
    public var first: Bool
    public var summary: String
    public var newOrphans: [String]
    /// The alert's JSON, as sinks are given it.
    public var body: [UInt8]
    /// The sinks this claim is for: those still undelivered that the claiming run has.
    public var sinks: AlertSinkSet
    /// Delivery attempts made before this one.
    public var attempts: Int
    /// The alerts this delivery stands for (see `StateDatabase.claimOwed`): this one, and those
    /// its sinks were not told before it.
    public var covers: [Int64]
    /// The namespace it is about, in words, for a log line (nil: not known).
    public var namespace: String?

    public init(id: Int64, time: Date, event: String, status: AuditStatus, previousStatus: AuditStatus, first: Bool, summary: String,
                newOrphans: [String], body: [UInt8], sinks: AlertSinkSet, attempts: Int) {
        self.id = id
        self.time = time
        self.event = event
        self.status = status
        self.previousStatus = previousStatus
        self.first = first
        self.summary = summary
        self.newOrphans = newOrphans
        self.body = body
        self.sinks = sinks
        self.attempts = attempts
        covers = [id]
    }
}

/// What recording an inventory did.
public struct Recording {
    /// What the history adds to the assessment recorded (a `leak-growth` finding), to be added
    /// with `Assessment.adding` (or kept in a judging engine): the recording copies no findings.
    public var historyFindings: [Finding]
    /// The inspected namespace's observations after recording, with its history (`counts` holds
    /// the samples from the growth window's start on, not all of them).
    public var observations: Observations
    /// The alert this run decided on, as decided (for the run's log); nil when nothing is to be alerted.
    public var alert: PendingAlert?
    /// What this run's sinks are owed in the namespace, with the alert decided, claimed for it to
    /// deliver now (see `StateDatabase.claimOwed`).
    public var claimed: [PendingAlert] = []
    /// Another run had recorded a newer inventory: nothing was written, no alert decided.
    public var wasStale: Bool
    /// The wall clock went back since the namespace was last recorded: this recording was made
    /// all the same (see `ClockStep`), and the caller says so once.
    public var clockStep: ClockStep? = nil
    /// Since when an improvement is held back under `AlertJudging.hold` (the status alerted is
    /// left remembered as it was); nil when none is.
    public var heldSince: Date? = nil
    /// The devices remembered as alerted though they are orphans no more, by name, with when
    /// they stopped being ones (kept while `AlertJudging.hold`'s hold-down runs): among the names
    /// the recording touched (`keptAmong`), or all of them when that is nil.
    public var kept: [String: Date] = [:]
    public var keptAmong: Set<String>? = nil
}

/// A key of an observed interface: its index and its name.
public struct InterfaceKey: Sendable, Hashable {
    public var ifindex: Int
    public var ifname: String

    public init(ifindex: Int, ifname: String) {
        self.ifindex = ifindex
        self.ifname = ifname
    }

    public init(_ interface: NetworkInterface) {
        self.init(ifindex: interface.index, ifname: interface.name)
    }
}
