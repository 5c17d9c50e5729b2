#if os(Linux)
import Foundation
import Glibc
import Netlink
import TunwardenCore

/// Reading what a new device takes in a namespace: its `net.ipv4.conf.default.*` and
/// `net.ipv6.conf.default.*`, against which the recreate commands decide which of a device's own
/// sysctls to set again (`RecreateCommands.deviceSysctlLines`). `/proc/sys/net` shows the
/// namespace of the thread that looks, so a thread inside the namespace reads them. The reaper
/// reads them only where recreate commands are written (the JSON plan, the journal), never an
/// audit.
public enum SysctlDefaults {
    /// The defaults of the namespace behind `namespaceFD` (nil: the calling thread's own), read
    /// under `procRoot`, or why they could not be read.
    public static func read(namespaceFD: Int32?, procRoot: String = "/proc") -> NamespaceSysctlDefaults {
        do {
            return try NamespaceThread.run(in: namespaceFD) { read(procRoot: procRoot) }
        } catch {
            return NamespaceSysctlDefaults(unreadable: "cannot enter the namespace to read them: \(error)")
        }
    }

    /// Reads every setting's `default` file in the calling thread's namespace. A file the kernel
    /// does not have is left out (a kernel built without the feature); any other failure, or none
    /// read at all, makes the whole unreadable.
    static func read(procRoot: String) -> NamespaceSysctlDefaults {
        var values: [DeviceSysctl.Family: [String: Int64]] = [:]
        for setting in DeviceSysctl.all + [DeviceSysctl.disableIPv6] {
            let path = "\(procRoot)/sys/\(setting.directory)/default/\(setting.key)"
            switch Sys.readSmallFile(path, limit: 64) {
            case .failed(ENOENT):
                continue
            case let .failed(code):
                return NamespaceSysctlDefaults(unreadable: "\(path) cannot be read: \(Sys.describe(code))")
            case let .ok(bytes):
                guard let text = String(validating: bytes, as: UTF8.self),
                      let value = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    return NamespaceSysctlDefaults(unreadable: "\(path) does not hold a number")
                }
                values[setting.family, default: [:]][setting.key] = value
            }
        }
        guard !values.isEmpty else { return NamespaceSysctlDefaults(unreadable: "\(procRoot)/sys/net/ipv4/conf/default and \(procRoot)/sys/net/ipv6/conf/default hold none of them") }
        return NamespaceSysctlDefaults(values: values)
    }
}
#endif
