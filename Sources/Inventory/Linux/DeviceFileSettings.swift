#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// Reading, for the devices a reap deletes, what only files under /proc say of them: their own
/// sysctl files that the kernel's arrays do not carry (`FileSysctl`: `ra_honor_pio_life`,
/// `regen_min_advance`, and any a kernel newer than `DeviceSysctl`'s table has), and the
/// link-layer multicast addresses added to them by hand (`/proc/net/dev_mcast`). Both are the
/// namespace's: a thread inside it reads them. The reaper reads them only where recreate commands
/// are written, never for an audit.
public enum DeviceFileSettings {
    /// Settings that have a file but that the recreate commands give back by other means or
    /// cannot give back, so that they are not read here: `disable_ipv6` and `addr_gen_mode`
    /// (given back with the link's settings), `stable_secret` (a secret no file shows until set,
    /// named in a `#` line where it matters) and `mc_forwarding` (read-only).
    static let elsewhere: [DeviceSysctl.Family: Set<String>] = [
        .ipv4: ["mc_forwarding"],
        .ipv6: ["disable_ipv6", "addr_gen_mode", "stable_secret", "mc_forwarding"],
    ]

    /// What the files say of each of `devices` (ifindex and name's bytes), by ifindex, in the
    /// namespace behind `namespaceFD` (nil: the calling thread's own), read under `procRoot`:
    /// `fileSysctls`, `staticMulticast`, and in `unreadable` what could not be read.
    public static func read(devices: [(index: Int, name: [UInt8])], namespaceFD: Int32?, procRoot: String = "/proc") -> [Int: DeviceExtraSettings] {
        guard !devices.isEmpty else { return [:] }
        do {
            return try NamespaceThread.run(in: namespaceFD) { read(devices: devices, procRoot: procRoot) }
        } catch {
            var found: [Int: DeviceExtraSettings] = [:]
            for device in devices {
                found[device.index] = DeviceExtraSettings(unreadable: ["its sysctl files beyond the kernel's arrays and its link-layer multicast addresses "
                    + "could not be read (cannot enter the namespace: \(error)); any set by hand are not recreated"])
            }
            return found
        }
    }

    /// `read(devices:namespaceFD:procRoot:)` in the calling thread's namespace.
    static func read(devices: [(index: Int, name: [UInt8])], procRoot: String) -> [Int: DeviceExtraSettings] {
        var found: [Int: DeviceExtraSettings] = [:]
        for family in [DeviceSysctl.Family.ipv4, .ipv6] {
            let directory = "\(procRoot)/sys/net/\(family.rawValue)/conf"
            let keys: [String]
            switch Sys.listDirectory(path: "\(directory)/default") {
            case let .ok(names):
                let known = Set(DeviceSysctl.all.filter { $0.family == family }.map(\.key)).union(elsewhere[family] ?? [])
                keys = names.filter { !known.contains($0) }.sorted()
            case .failed(ENOENT):
                continue
            case let .failed(code):
                for device in devices {
                    found[device.index, default: DeviceExtraSettings()].unreadable.append("its net.\(family.rawValue).conf settings beyond the kernel's array "
                        + "could not be listed (\(directory)/default: \(Sys.describe(code))); any set by hand are not recreated")
                }
                continue
            }
            for key in keys {
                let defaultValue = text(Sys.readSmallFile("\(directory)/default/\(key)", limit: 4096))
                for device in devices {
                    let path = Sys.Path(directory).appending(device.name).appending(Array(key.utf8))
                    switch Sys.readSmallFile(path, limit: 4096) {
                    case .failed(ENOENT):
                        continue
                    case let .failed(code):
                        found[device.index, default: DeviceExtraSettings()].unreadable.append("its net.\(family.rawValue).conf.\(InterfaceName.text(device.name)).\(key) "
                            + "could not be read (\(Sys.describe(code))) and is not recreated")
                    case let .ok(bytes):
                        // A file that cannot be written cannot have been set.
                        guard Sys.writable(path), let value = text(.ok(bytes)) else { continue }
                        found[device.index, default: DeviceExtraSettings()].fileSysctls
                            .append(FileSysctl(family: family, key: key, value: value, defaultValue: defaultValue))
                    }
                }
            }
        }
        switch NamespaceProcFile.read("dev_mcast", namespaceFD: nil, procRoot: procRoot) {
        case let .success(bytes):
            let added = staticMulticast(bytes ?? [], of: Set(devices.map(\.index)))
            for (index, addresses) in added { found[index, default: DeviceExtraSettings()].staticMulticast = addresses }
        case let .failure(reason):
            for device in devices {
                found[device.index, default: DeviceExtraSettings()].unreadable.append("its link-layer multicast addresses could not be listed "
                    + "(\(reason.description)); any added by hand (`ip maddr add`) are not recreated")
            }
        }
        return found
    }

    /// A sysctl file's text without its line end; nil when it could not be read or is not UTF-8.
    static func text(_ outcome: Sys.Outcome<[UInt8]>) -> String? {
        guard case let .ok(bytes) = outcome, let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    /// The link-layer multicast addresses of `/proc/net/dev_mcast` (lines `IFINDEX NAME USERS
    /// GLOBAL_USE HEX`, net/core/dev_addr_lists.c) that were added by hand to one of `indices`,
    /// by ifindex, in the file's order, written `01:00:5e:01:02:03`. An address added with
    /// SIOCADDMULTI (`ip maddr add`) has a global use of 1, and `ip maddr` shows it `static`; the
    /// kernel's own and those sockets join have 0. A line that does not read so is passed over.
    static func staticMulticast(_ file: [UInt8], of indices: Set<Int>) -> [Int: [String]] {
        var found: [Int: [String]] = [:]
        for line in file.split(separator: UInt8(ascii: "\n")) {
            // The ifindex first, read in place: the file lists every device of the namespace.
            var index = 0
            for byte in line.prefix(while: { $0 >= 0x30 && $0 <= 0x39 }).prefix(10) { index = index * 10 + Int(byte - 0x30) }
            guard indices.contains(index) else { continue }
            let fields = line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
            guard fields.count == 5, Int(String(decoding: fields[0], as: UTF8.self)) == index,
                  let global = Int(String(decoding: fields[3], as: UTF8.self)), global > 0 else { continue }
            let hex = Array(fields[4])
            guard hex.count % 2 == 0, hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { continue }
            let pairs = stride(from: 0, to: hex.count, by: 2).map { String(decoding: hex[$0..<$0 + 2], as: UTF8.self) }
            found[index, default: []].append(pairs.joined(separator: ":"))
        }
        return found
    }
}
#endif
