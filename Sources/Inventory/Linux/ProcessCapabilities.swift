#if os(Linux)
import Glibc

/// This process's effective capabilities, as `/proc/self/status` lists them (`CapEff`). Running as
/// root is not enough to hold them: a container, a unit's `CapabilityBoundingSet=` or `setpriv`
/// can take some away from uid 0.
public enum ProcessCapabilities {
    /// Capability numbers from include/uapi/linux/capability.h, with the names people know.
    public static let dacReadSearch = (number: 2, name: "CAP_DAC_READ_SEARCH")
    public static let netAdmin = (number: 12, name: "CAP_NET_ADMIN")
    public static let sysPtrace = (number: 19, name: "CAP_SYS_PTRACE")
    public static let netRaw = (number: 13, name: "CAP_NET_RAW")
    public static let sysAdmin = (number: 21, name: "CAP_SYS_ADMIN")

    /// A capability: its number and the name people know.
    public typealias Capability = (number: Int, name: String)

    /// What could not be read, as one clause for a verdict's reason: each of `problems` (what
    /// could not be read, and why), then the capabilities their reading needs that this process
    /// lacks, named as the cause (`…; reading these needs CAP_NET_ADMIN, which this process
    /// lacks`). Nil when nothing went unread.
    public static func unreadBecause(_ problems: [(String, needs: [Capability])], status path: String = "/proc/self/status") -> String? {
        guard !problems.isEmpty else { return nil }
        var needed: [Capability] = []
        for (_, needs) in problems {
            for capability in needs where !needed.contains(where: { $0.number == capability.number }) { needed.append(capability) }
        }
        let lacking = missing(needed, status: path)
        let text = problems.map(\.0).joined(separator: "; ")
        guard !lacking.isEmpty else { return text }
        return text + "; reading \(problems.count == 1 ? "it" : "these") needs \(lacking.joined(separator: " and ")), which this process lacks"
    }

    /// The names of those of `needed` that are not in the effective set; all of them when the set
    /// cannot be read.
    public static func missing(_ needed: [(number: Int, name: String)], status path: String = "/proc/self/status") -> [String] {
        guard case let .ok(bytes) = Sys.readSmallFile(path),
              let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: " \t"), radix: 16) else {
            return needed.map(\.name)
        }
        return needed.filter { mask & (1 << UInt64($0.number)) == 0 }.map(\.name)
    }
}
#endif
