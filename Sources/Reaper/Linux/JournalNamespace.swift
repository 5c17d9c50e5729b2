#if os(Linux)
import Inventory
import TunwardenCore

extension LinuxReaper {
    /// How the journal names the namespace a reap acts in, so that its recreate commands act there
    /// too when replayed from anywhere.
    struct JournalNamespace: Equatable {
        /// The name `ip -n` is given: `--netns`, or the name `ip netns` knows the caller's namespace
        /// by (a reap run through `ip netns exec NAME`).
        var name: String?
        /// The identity (`net:[INODE]`) of a caller's namespace that has no name and is not the one
        /// process 1 runs in: the commands must be run inside it, and say so.
        var unnamedIdentity: String?
    }

    /// The namespace `--netns` named, or the calling thread's own, identified by its inode among
    /// the names under `namespaceDirectory`.
    func journalNamespace() -> JournalNamespace {
        if let namespaceName { return JournalNamespace(name: namespaceName) }
        guard let current = NamespaceNames.identifyCurrent(directory: namespaceDirectory) else { return JournalNamespace() }
        // The name as `ip -n` is given it: the file's bytes, which a journal line can carry only
        // when they are UTF-8.
        if let text = current.name, let name = String(validating: InterfaceName.kernelBytes(text), as: UTF8.self) {
            return JournalNamespace(name: name)
        }
        return JournalNamespace(unnamedIdentity: current.isInitial ? nil : current.identity)
    }
}
#endif
