/// A watch on the link notifications of the namespace a reap plan is made in, begun before the
/// plan's inventory (by `reap`; by `watch --reap` once its plan is made from the events it read)
/// and kept until the plan is carried out: a removal of a planned device's
/// ifindex it tells of proves that a device found there later is not the planned one, whatever it
/// is called (see `LinuxReaper.reverify`). Opaque outside the reaper; nil where the platform has
/// no such notifications.
public final class PlanLinkWatch: @unchecked Sendable {
    /// The platform's watch (on Linux, a `LinkDepartures`).
    let source: AnyObject

    init(source: AnyObject) {
        self.source = source
    }
}
