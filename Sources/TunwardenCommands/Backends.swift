import Inventory
import TunwardenCore

/// The one place that chooses the inventory backend for the platform tunwarden runs on.
enum Backends {
    static func live(namespace: String?) throws -> any InventoryBackend {
        #if os(Linux)
        return LinuxInventory(namespaceName: namespace)
        #else
        throw InventoryError("live inventory of this platform is not supported yet; audit a captured snapshot instead")
        #endif
    }
}
