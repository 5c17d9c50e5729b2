#if os(Linux)
import Glibc

/// Whether a kernel facility that is often a module can hold anything yet, told without loading
/// it: asking a netlink family whose module is not loaded makes the kernel load it.
enum KernelModules {
    /// Whether any of `names` is loaded (listed in `modules`, as /proc/modules lists it), built in
    /// (the kernel lists no modules, or `modules.builtin` names it), or it cannot be told.
    static func mayBeActive(_ names: [String], modules: String) -> Bool {
        let lines = { (path: String) -> [Substring]? in
            guard case let .ok(bytes) = Sys.readSmallFile(path, limit: 4 << 20) else { return nil }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        }
        guard let listed = lines(modules) else { return true }      // no modules: built in or absent
        if listed.contains(where: { line in names.contains { line.hasPrefix("\($0) ") } }) { return true }
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let builtin = lines("/lib/modules/\(release)/modules.builtin") else { return true }
        return builtin.contains { line in names.contains { line.hasSuffix("/\($0).ko") } }
    }
}
#endif
