import Foundation
import Reaper
import Storage
import TunwardenCore

/// The grace period applied again once the question is answered: the question waits as long as
/// nobody answers, and a planned device may be used meanwhile (a VM stopped and started again, a
/// VPN daemon restarting), which the plan's "orphaned for 22s" says nothing about.
extension Reap {
    /// What is left of `plan` by the time its question was answered, and why the rest is
    /// skipped: a fresh inventory is recorded with the observations, as the plan's was, and
    /// planned again by the same rules (`policy`, `--min-age` above all). A planned device whose
    /// packet counters moved since the plan, whose carrier came on since the plan
    /// (`AttachEvidence`: a holder that attached and let go, sending nothing, leaves only that;
    /// recorded as a hold seen), or that the new plan would not delete yet for its grace period,
    /// is skipped, each for the reason the observations give (`restartedRun`). Everything else
    /// the reaper's own re-verification judges (gone, renamed, attached now, and replaced:
    /// another device under its name and ifindex, which also starts a grace period of its own),
    /// in its own words.
    static func recheckedAfterQuestion(_ plan: ReapPlan, planned snapshot: Snapshot, backend: any InventoryBackend, store: StateStore?,
                                       policy: ReapPolicy) throws -> (plan: ReapPlan, skipped: [ReapResult]) {
        let now = try backend.snapshot()
        // Another namespace under the name: the reaper refuses the whole plan, in its words.
        guard now.namespaceIdentity == plan.namespaceIdentity else { return (plan, []) }
        // A holder scan that is not complete is neither recorded nor planned from, as the plan
        // itself refuses one; the packet counters below still tell a device used meanwhile.
        let before = Dictionary(snapshot.interfaces.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        // A planned device whose carrier came on since the plan had a process attach while the
        // question waited, though none may hold it now (one seen attached now the reaper's own
        // checks name, in their words).
        let planned = Set(plan.items.map(\.interface.index))
        let attachedMeanwhile = Dictionary(now.interfaces.compactMap { device -> (Int, UInt32)? in
            guard planned.contains(device.index), device.carrier != true, (device.tun?.numQueues ?? 0) == 0, (device.tun?.numDisabledQueues ?? 0) == 0,
                  let times = AttachEvidence.carrierOns(of: device, since: before[device.index]) else { return nil }
            return (device.index, times)
        }, uniquingKeysWith: { first, _ in first })
        var waiting: [String: Date] = [:]
        // What the observations said before this look is recorded: what other looks (a watcher,
        // an audit) saw while the question waited.
        var earlier: Observations?
        if now.holders.complete {
            earlier = try store.flatMap { try $0.database(create: false)?.observations(namespace: plan.namespaceIdentity) }
            var assessment = Heuristics.assess(now)
            // Recorded as a hold seen: the orphaned run starts again, for later runs too.
            for position in assessment.interfaces.indices where attachedMeanwhile[assessment.interfaces[position].interface.index] != nil {
                assessment.interfaces[position].attachSeen = true
            }
            let observations = try store.map { try record(assessment, in: $0) } ?? Observations()
            let again = ReapPlan.make(assessment, observations: observations, namespaceKey: plan.namespaceIdentity, policy: policy, now: now.takenAt)
            // (A pair's side waits with its peer: `reapableAt` is the peer's then.)
            waiting = Dictionary(again.excluded.compactMap { exclusion -> (String, Date)? in
                exclusion.reason.reapableAt.map { (exclusion.ifname, $0) }
            }, uniquingKeysWith: { first, _ in first })
        }
        let current = Dictionary(now.interfaces.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        var kept = plan
        var skipped: [ReapResult] = []
        kept.items = plan.items.filter { item in
            guard let device = current[item.interface.index], device.name == item.ifname else { return true }
            // Another device under its name and ifindex: the reaper says so.
            guard DeviceIdentity.replacement(of: item.interface, by: device).isEmpty else { return true }
            var why: [String] = []
            if let was = before[item.interface.index]?.stats, let counters = device.stats,
               was.rxPackets != counters.rxPackets || was.txPackets != counters.txPackets {
                why.append("its packet counters moved while the question waited (received \(counters.rxPackets - min(counters.rxPackets, was.rxPackets)), "
                    + "sent \(counters.txPackets - min(counters.txPackets, was.txPackets))): a process was attached")
            }
            let countersMoved = !why.isEmpty
            let attached = attachedMeanwhile[item.interface.index]
            let due = waiting[item.ifname]
            if due != nil, !countersMoved {
                // Beside an attach seen by its carrier, only what another look saw is more to say.
                let run = restartedRun(of: item, earlier: earlier?.observation(of: device, in: plan.namespaceIdentity), plannedAt: snapshot.takenAt)
                if attached == nil || run.hasPrefix("another look") { why.append(run) }
            }
            if let times = attached, !countersMoved {
                why.append("a process attached to it while the question waited (its carrier came on \(times == 1 ? "once" : "\(times) times") since the plan was made)")
            }
            guard !why.isEmpty else { return true }
            let clock = due.map { " (reapable at \(Timestamp.format($0)), in \(DurationText.exact($0.timeIntervalSince(now.takenAt))))" } ?? ""
            skipped.append(ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind, outcome: .skipped,
                                      detail: "\(why.joined(separator: "; ")); its grace period (--min-age) starts again\(clock)"))
            return false
        }
        // A pair goes whole: the side whose peer is skipped now stays with it.
        let skippedNames = Set(skipped.map(\.ifname))
        kept.items.removeAll { item in
            guard let peer = ReapPlan.pairPeer(of: item.interface, among: snapshot.interfaces), skippedNames.contains(peer.name) else { return false }
            skipped.append(ReapResult(ifname: item.ifname, ifindex: item.interface.index, kind: item.interface.kind, outcome: .skipped,
                                      detail: "its peer \(peer.name) is skipped, and deleting one side of a pair takes the other's link with it"))
            return true
        }
        return (kept, skipped)
    }

    /// Why the orphaned run of the device planned as `item`, not replaced since, started again
    /// while the question waited though its packet counters did not move, as the observations
    /// tell: `earlier` is what they held of it before this look was recorded (the plan's own
    /// look at `plannedAt`, or a later one by a watcher or an audit).
    static func restartedRun(of item: ReapItem, earlier: InterfaceObservation?, plannedAt: Date) -> String {
        guard let earlier else {
            return "tunwarden's record of it is gone from the state database since the plan was made (removed, or moved aside as damaged), so how long it has been orphaned counts from now"
        }
        let holders = earlier.holdersSeen.flatMap(\.last).map { "; the last holder tunwarden saw was \($0)" } ?? ""
        guard let since = earlier.orphanedSince else {
            return "another look since the plan was made (a watcher's or an audit's) found it not orphaned (held by a process, or in use otherwise)\(holders)"
        }
        if let plannedSince = item.orphanedSince, since > plannedSince {
            if let moved = earlier.lastTrafficChange, moved > plannedAt {
                return "another look since the plan was made saw its packet counters move at \(Timestamp.format(moved)): a process was attached"
            }
            return "another look since the plan was made found it not orphaned (held by a process, or in use otherwise), and orphaned again from \(Timestamp.format(since))\(holders)"
        }
        return "how long it has been orphaned could not be counted since the plan was made (the boot clock's reading at the start of its orphaned run is not kept, or the clock went back), so it counts from now"
    }
}
