#if os(Linux)
import Foundation
import Glibc
import Netlink
import TunwardenCore

/// Reading what a new device takes in the namespace the reaper acts in: its
/// `net.ipv4.conf.default.*` and `net.ipv6.conf.default.*`, against which the recreate commands
/// decide which of a device's own sysctls to set again (`RecreateCommands.deviceSysctlLines`).
/// `/proc/sys/net` shows the namespace of the thread that looks, so a thread inside the namespace
/// reads them. Read only where recreate commands are written (the JSON plan, the journal), not
/// by an audit.
extension LinuxReaper {
    /// The defaults of the namespace this reaper acts in (the one `--netns` names, else the
    /// caller's own), or why they could not be read.
    public func namespaceSysctlDefaults() -> NamespaceSysctlDefaults? {
        do {
            let held = try holdNamespace()
            return withExtendedLifetime(held) { Self.sysctlDefaults(namespaceFD: held?.descriptor) }
        } catch {
            return NamespaceSysctlDefaults(unreadable: "\(error)")
        }
    }

    /// The defaults of the namespace behind `namespaceFD` (nil: the calling thread's own), read
    /// under `procRoot`.
    static func sysctlDefaults(namespaceFD: Int32?, procRoot: String = "/proc") -> NamespaceSysctlDefaults {
        guard let namespaceFD else { return readSysctlDefaults(procRoot: procRoot) }
        do {
            return try NamespaceThread.run(in: namespaceFD) { readSysctlDefaults(procRoot: procRoot) }
        } catch {
            return NamespaceSysctlDefaults(unreadable: "cannot enter the namespace to read them: \(error)")
        }
    }

    /// Reads every setting's `default` file in the calling thread's namespace. A file the kernel
    /// does not have is left out (a kernel built without the feature); any other failure, or none
    /// read at all, makes the whole unreadable.
    static func readSysctlDefaults(procRoot: String) -> NamespaceSysctlDefaults {
        var values: [DeviceSysctl.Family: [String: Int64]] = [:]
        for setting in DeviceSysctl.all + [DeviceSysctl.disableIPv6] {
            let path = "\(procRoot)/sys/\(setting.directory)/default/\(setting.key)"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT { continue }
                return NamespaceSysctlDefaults(unreadable: "\(path) cannot be opened: \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 64)
            var count: Int
            repeat { count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } } while count < 0 && errno == EINTR
            guard count > 0, let text = String(validating: buffer.prefix(count), as: UTF8.self),
                  let value = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                return NamespaceSysctlDefaults(unreadable: "\(path) does not hold a number")
            }
            values[setting.family, default: [:]][setting.key] = value
        }
        guard !values.isEmpty else { return NamespaceSysctlDefaults(unreadable: "\(procRoot)/sys/net/ipv4/conf/default and \(procRoot)/sys/net/ipv6/conf/default hold none of them") }
        return NamespaceSysctlDefaults(values: values)
    }
}
#endif
