import Foundation
import TunwardenCore

/// One line of the journal: an intent (written and flushed before acting) or a result (after).
public struct JournalRecord: Decodable, JSONRecord, Sendable, Equatable {
    public enum Kind: String, Decodable, Sendable { case intent, result }
    public typealias Outcome = ReapOutcome

    public var time: Date
    /// Groups the records of one reap.
    public var run: String
    public var type: Kind
    public var netns: String?
    public var ifname: String
    public var ifindex: Int
    /// Intent records: the device as it was.
    public var prior: PriorState?
    /// Intent records: the commands that would make the device again.
    public var recreate: [String]?
    /// Result records: what happened, and why when it was skipped or failed.
    public var result: Outcome?
    public var detail: String?
    /// Intent records of a Linux reap: the private link group the device is moved into while it
    /// is fenced and verified, so that a run killed before its result records (SIGKILL, a power
    /// cut) can be recognised and undone by the next one.
    public var fenceGroup: UInt32?
    /// Intent records of a Linux reap: the private name (an alternative name for a single-queue
    /// device, the new name of a multi-queue one) the device carries while fenced, as
    /// `InterfaceName` text.
    public var fenceName: String?
    /// Intent records of a Linux reap: the identity of the namespace it acted in, one incarnation
    /// in one boot (see `NamespaceIdentity`), so that only a reap in that same namespace takes the
    /// record for its own to repair: not one in a namespace made again under the same name, or
    /// after a restart, or one in another namespace that has no name either. Nil in records
    /// written before it was kept.
    public var namespaceIdentity: String?
    /// On the last record of an append a reaper makes under the journal's lock: every intent of
    /// the journal up to and including this record that no result up to this record answers, by
    /// run (see `Journal.openIntents()`), so that a look for unfinished intents reads back no
    /// further than here. Nil on every other record, and in records written before it was kept.
    public var openRuns: [OpenRun]?
    /// Result records of a Linux reap, or of the repair of one: true when the device is still
    /// there and still bears part of its fence (its private name, group or alternative name, or
    /// it is down from it), because giving it back failed, or because the deletion left it there
    /// (or may have: its answer was lost and the check failed too). Such a result says what happened, but
    /// does not answer its intent: the next reap in that namespace gives the device back from the
    /// intent, as it does what a reap killed outright left. Nil on every other record.
    public var leftFenced: Bool?
    /// Result records with `leftFenced`, from reaps that know it: why the intent is left open,
    /// for the words of the repair that takes it up next. Nil on every other record, and in
    /// records written before it was kept.
    public var leftOpen: LeftOpen?

    /// Result records of a device the reap deleted without planning it (`unplanned`): its kind
    /// ("veth", "macvlan"), since no intent records it. Nil on every other record.
    public var kind: String?
    /// Result records: true for a device the reap deleted without planning it (one that joined a
    /// batch's private link group after the last look, or one the kernel deleted with a device
    /// the batch deleted); its result is failed. Nil on every other record.
    public var unplanned: Bool?

    /// Whether this is a result that answers its intent for good (see `leftFenced`).
    public var answersIntent: Bool { type == .result && leftFenced != true }

    enum CodingKeys: String, CodingKey {
        case time, run, type, netns, ifname, ifindex, prior, recreate, result, detail
        case fenceGroup = "fence_group", fenceName = "fence_name", namespaceIdentity = "netns_id", openRuns = "open_runs", leftFenced = "left_fenced"
        case leftOpen = "left_open", kind, unplanned
    }

    public init(time: Date, run: String, type: Kind, netns: String?, ifname: String, ifindex: Int, prior: PriorState? = nil,
                recreate: [String]? = nil, result: Outcome? = nil, detail: String? = nil, fenceGroup: UInt32? = nil, fenceName: String? = nil,
                namespaceIdentity: String? = nil, leftFenced: Bool? = nil, leftOpen: LeftOpen? = nil, kind: String? = nil, unplanned: Bool? = nil) {
        self.leftOpen = leftOpen
        self.kind = kind
        self.unplanned = unplanned
        self.leftFenced = leftFenced
        self.fenceGroup = fenceGroup
        self.fenceName = fenceName
        self.namespaceIdentity = namespaceIdentity
        self.time = time
        self.run = run
        self.type = type
        self.netns = netns
        self.ifname = ifname
        self.ifindex = ifindex
        self.prior = prior
        self.recreate = recreate
        self.result = result
        self.detail = detail
    }

    /// One line of the journal, and one element of `journal --format json`, which lists the
    /// records with the keys in the same order.
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("time", time)
            json.field("run", run)
            json.field("type", type.rawValue)
            json.field("netns", netns)
            json.field("ifname", ifname)
            json.field("ifindex", ifindex)
            json.field("prior", prior)
            json.field("recreate", recreate)
            json.field("result", result?.rawValue)
            json.field("detail", detail)
            json.field("fence_group", fenceGroup)
            json.field("fence_name", fenceName)
            json.field("netns_id", namespaceIdentity)
            json.field("left_fenced", leftFenced)
            json.field("left_open", leftOpen?.rawValue)
            json.field("kind", kind)
            json.field("unplanned", unplanned)
            json.field("open_runs", openRuns)
        }
    }

    /// Records as `journal --format json` prints them: a JSON array of the records as the journal
    /// holds them, compact or pretty-printed.
    public static func json(_ records: [JournalRecord], pretty: Bool) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty, capacity: records.count * (pretty ? 2048 : 1024))
        writer.array { json in
            for record in records { json.element(record) }
        }
        return writer.bytes
    }
}
