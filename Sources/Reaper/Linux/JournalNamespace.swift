#if os(Linux)
import Inventory
import TunwardenCore

extension LinuxReaper {
    /// Where the journal's recreate commands make the devices again, so that they act there when
    /// replayed from anywhere: the namespace `--netns` named, or the calling thread's own,
    /// identified by its device and inode among the names under `namespaceDirectory` (by their
    /// bytes: a name that is not UTF-8 is given to `ip -n` exactly, and said so). A caller's
    /// namespace with no name, other than process 1's, is named by its identity.
    func journalNamespace() -> RecreatePlace {
        if let namespaceName { return RecreatePlace(namespace: namespaceName) }
        guard let current = NamespaceNames.identifyCurrent(directory: namespaceDirectory) else { return RecreatePlace() }
        if let text = current.name {
            return RecreatePlace(name: InterfaceName.kernelBytes(text), identity: current.identity)
        }
        return RecreatePlace(unnamedIdentity: current.isInitial ? nil : current.identity)
    }

    /// `journalNamespace()`, as the plan and its JSON give it.
    public func recreatePlace() -> RecreatePlace? { journalNamespace() }
}
#endif
