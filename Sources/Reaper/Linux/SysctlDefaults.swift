#if os(Linux)
import Inventory
import TunwardenCore

/// The namespace defaults the reaper's recreate commands compare a device's own sysctls with
/// (`Inventory.SysctlDefaults` reads them).
extension LinuxReaper {
    /// The defaults of the namespace this reaper acts in (the one `--netns` names, else the
    /// caller's own), or why they could not be read.
    public func namespaceSysctlDefaults() -> NamespaceSysctlDefaults? {
        do {
            let held = try holdNamespace()
            return withExtendedLifetime(held) { SysctlDefaults.read(namespaceFD: held?.descriptor) }
        } catch {
            return NamespaceSysctlDefaults(unreadable: "\(error)")
        }
    }
}
#endif
