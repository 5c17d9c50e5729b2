import Inventory
import TunwardenCore
#if canImport(Darwin)
import Darwin
#endif

/// The one place that chooses the inventory backend for the platform tunwarden runs on.
enum Backends {
    /// The live system's inventory of a namespace (nil: the process's own); a `patient` one, a
    /// reap's, waits out interrupted dumps and reads what the recreate commands give back.
    static func live(namespace: String?, patient: Bool = false) throws -> any InventoryBackend {
        #if os(Linux)
        var inventory = LinuxInventory(namespaceName: namespace)
        // A reap would rather wait for a quiet moment than refuse because links are coming and going.
        if patient {
            inventory.snapshotAttempts = 10
            inventory.readsDeviceSysctls = true
        }
        return inventory
        #elseif os(macOS)
        if namespace != nil { throw InventoryError("--netns is for Linux network namespaces") }
        return DarwinInventory(privileged: geteuid() == 0)
        #else
        throw InventoryError("live inventory of this platform is not supported; audit a captured snapshot with --from instead")
        #endif
    }
}
