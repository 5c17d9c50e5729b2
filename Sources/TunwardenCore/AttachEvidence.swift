/// What a reading of a Linux tun or tap device (a dump's, or a link notification's) proves of a
/// process attached to it, beyond the holders a scan finds at one moment. A holder that attaches
/// and lets go between two looks, sending nothing, leaves no holder, no packet and, once gone, no
/// carrier; what it leaves is the carrier it turned on meanwhile (drivers/net/tun.c: an attach
/// to a device without a queue turns the carrier on, the last detach turns it off) and, on a
/// multi-queue device, the queue counts a notification sent meanwhile carries. The grace period
/// (`--min-age`) starts again on such evidence as it does on a holder seen.
public enum AttachEvidence {
    /// Whether `interface`, as read now, proves that a queue was attached to it since `earlier`
    /// (the same device as read before; nil when not read before): its count of carrier-ons is
    /// higher, whether it is up or down; or, as a notification sent meanwhile shows it, a queue
    /// is attached or disabled, or its carrier is on while it is up (the kernel announces a
    /// carrier change only then). A device bearing a reap's private name (`Heuristics.isPrivateName`),
    /// its own or an alternative one, shows nothing: that attach is tunwarden's own fence, and
    /// such a device is never reaped under that name. Other kinds show nothing.
    public static func shown(by interface: NetworkInterface, since earlier: NetworkInterface?) -> Bool {
        guard interface.kind == .tun || interface.kind == .tap, let tun = interface.tun else { return false }
        guard !Heuristics.isPrivateName(interface.name), !interface.altNames.contains(where: Heuristics.isPrivateName) else { return false }
        if carrierOns(of: interface, since: earlier) != nil { return true }
        if (tun.numQueues ?? 0) > 0 || (tun.numDisabledQueues ?? 0) > 0 { return true }
        return interface.isUp && interface.carrier == true
    }

    /// Whether the carrier of `interface` came on since `earlier` was read: how many times, or
    /// nil when it did not or either reading lacks the count. Only the count is weighed, so a
    /// holder attached now (which other checks name) is not told from one that came and went.
    public static func carrierOns(of interface: NetworkInterface, since earlier: NetworkInterface?) -> UInt32? {
        guard interface.kind == .tun || interface.kind == .tap, let now = interface.tun?.carrierUpCount,
              let before = earlier?.tun?.carrierUpCount, now > before else { return nil }
        return now - before
    }
}
