#if os(Linux)
import Glibc
import TunwardenCore

/// Finds the processes that hold tun/tap devices, by walking /proc.
///
/// A descriptor holds a device when it points at /dev/net/tun and its fdinfo carries an
/// `iff:\t<name>` line (drivers/net/tun.c, tun_chr_show_fdinfo). The name is only unique within a
/// network namespace, so every attachment records the holder's namespace. Processes that exit
/// during the scan are skipped; a process that cannot be read makes the scan incomplete, and an
/// incomplete scan never supports the claim that nobody holds a device. A process that stays
/// closed although the scanner holds every privilege reading needs is recorded as opaque instead
/// (see `HolderScan.opaquePIDs`).
struct HolderScanner {
    /// The /proc mount to scan.
    var procRoot = "/proc"
    /// Whether this process may inspect every other one: CAP_SYS_PTRACE (resolving descriptors,
    /// reading fdinfo) and CAP_DAC_READ_SEARCH (listing other users' fd directories) effective.
    var privileged = HolderScanner.hasInspectionCapabilities()

    /// What the scan learns besides attachments: how many processes run in each network namespace
    /// (by namespace inode), with one pid from each to name the namespace to the kernel.
    struct NamespaceCensus {
        var processes: [UInt64: (count: Int, samplePID: Int32)] = [:]
        /// Processes whose namespace link could not be read; the kernel can still say which
        /// namespace id each is in (RTM_GETNSID by pid).
        var hiddenPIDs: [Int32] = []
    }

    func scan(inspectedNamespace: UInt64) -> (HolderScan, NamespaceCensus) {
        var census = NamespaceCensus()
        guard case let .ok(procFD) = Sys.openDirectory(procRoot) else {
            return (.unavailable("\(procRoot) cannot be opened"), census)
        }
        guard case let .ok(entries) = Sys.listDirectory(procFD) else {
            return (.unavailable("\(procRoot) cannot be listed"), census)
        }
        guard case let .ok(procDir) = Sys.openDirectory(procRoot) else {
            return (.unavailable("\(procRoot) cannot be opened"), census)
        }
        defer { close(procDir) }

        var attachments: [HolderAttachment] = []
        var unreadable: [Int32] = []
        var unreadableReason: Int32 = 0
        var opaque: [Int32] = []
        /// Records a process that could not be read: opaque if nothing more could have been done.
        func refused(_ pid: Int32, _ code: Int32) {
            if privileged, code == EACCES || code == EPERM {
                opaque.append(pid)
            } else {
                unreadable.append(pid)
                unreadableReason = code
            }
        }
        var scanned = 0
        for entry in entries {
            guard let pid = Int32(entry), pid > 0 else { continue }
            // Descriptors decide whether the scan is complete: a process whose descriptors cannot be
            // listed might hold anything.
            let fdDir: Int32
            switch Sys.openDirectory("\(entry)/fd", relativeTo: procDir) {
            case let .ok(fd): fdDir = fd
            case let .failed(code):
                if code == ENOENT || code == ESRCH { continue }
                refused(pid, code)
                continue
            }
            guard case let .ok(descriptors) = Sys.listDirectory(fdDir) else {
                // The process exited while its descriptors were listed.
                continue
            }
            scanned += 1
            // The namespace says where an attachment belongs. Some processes hide it even from root
            // (a supervisor outside our user namespace); that only matters if they hold a device.
            var namespaceInode: UInt64?
            if case let .ok(target) = Sys.readLink("\(entry)/ns/net", relativeTo: procDir) {
                namespaceInode = Self.namespaceInode(target)
            }
            if let namespaceInode {
                let previous = census.processes[namespaceInode]
                census.processes[namespaceInode] = ((previous?.count ?? 0) + 1, previous?.samplePID ?? pid)
            } else {
                census.hiddenPIDs.append(pid)
            }

            // Read once per process, and only for one that holds a device: one process (a VPN
            // daemon, a container runtime) can hold hundreds.
            var identity: (comm: String, uid: UInt32?)?
            descriptorLoop: for descriptor in descriptors {
                // A descriptor that cannot be resolved might be /dev/net/tun: without the right to
                // inspect the process (CAP_SYS_PTRACE for another user's), listing works but
                // resolving does not, and that must not pass for "holds nothing".
                let target: String
                switch Sys.readLink("\(entry)/fd/\(descriptor)", relativeTo: procDir) {
                case let .ok(resolved): target = resolved
                case let .failed(code):
                    if code == ENOENT || code == ESRCH { continue }
                    refused(pid, code)
                    break descriptorLoop
                }
                guard target == "/dev/net/tun" else { continue }
                switch Sys.readSmallFile("\(entry)/fdinfo/\(descriptor)", relativeTo: procDir) {
                case let .ok(info):
                    // A /dev/net/tun descriptor without `iff:` is not attached to any device.
                    guard let ifname = Self.attachedInterface(fdinfo: info) else { continue }
                    let (comm, uid) = identity ?? (Self.comm(entry, procDir: procDir), Self.uid(entry, procDir: procDir))
                    identity = (comm, uid)
                    let holder = Holder(pid: pid, comm: comm, uid: uid, fd: Int32(descriptor), netns: namespaceInode.map { "net:[\($0)]" })
                    // An unidentifiable namespace is never taken to be the inspected one.
                    attachments.append(HolderAttachment(holder: holder, ifname: ifname, inInspectedNamespace: namespaceInode == inspectedNamespace))
                case let .failed(code):
                    if code == ENOENT || code == ESRCH { continue }
                    refused(pid, code)
                    break descriptorLoop
                }
            }
        }
        if unreadable.isEmpty {
            return (HolderScan(complete: true, attachments: attachments, processesScanned: scanned, opaquePIDs: opaque), census)
        }
        let sample = unreadable.prefix(3).map(String.init).joined(separator: ", ")
        let reason = "\(unreadable.count) of \(unreadable.count + scanned) processes could not be read (\(Sys.describe(unreadableReason)); pid \(sample)\(unreadable.count > 3 ? ", …" : ""))"
        return (HolderScan(complete: false, incompleteReason: reason, attachments: attachments, processesScanned: scanned, opaquePIDs: opaque), census)
    }

    /// Whether CAP_SYS_PTRACE (19) and CAP_DAC_READ_SEARCH (2) are in this process's effective set.
    static func hasInspectionCapabilities() -> Bool {
        guard case let .ok(bytes) = Sys.readSmallFile("/proc/self/status") else { return false }
        let status = String(decoding: bytes, as: UTF8.self)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
        let needed: UInt64 = (1 << 19) | (1 << 2)
        return mask & needed == needed
    }

    /// `net:[4026531840]` → 4026531840.
    static func namespaceInode(_ link: String) -> UInt64? {
        guard link.hasPrefix("net:["), link.hasSuffix("]") else { return nil }
        return UInt64(link.dropFirst(5).dropLast())
    }

    /// The interface named by the `iff:\t<name>` line of a tun descriptor's fdinfo, as the text
    /// `InterfaceName` makes of the name's exact bytes (those after the tab, up to the line's end);
    /// nil when there is no such line or its name is empty (a descriptor not attached to a device).
    static func attachedInterface(fdinfo: [UInt8]) -> String? {
        let prefix: [UInt8] = Array("iff:\t".utf8)
        var lineStart = 0
        while lineStart < fdinfo.count {
            let lineEnd = fdinfo[lineStart...].firstIndex(of: 0x0a) ?? fdinfo.count
            if fdinfo[lineStart..<lineEnd].starts(with: prefix) {
                let name = fdinfo[(lineStart + prefix.count)..<lineEnd]
                return name.isEmpty ? nil : InterfaceName.text(name)
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    static func comm(_ entry: String, procDir: Int32) -> String {
        guard case let .ok(bytes) = Sys.readSmallFile("\(entry)/comm", relativeTo: procDir) else { return "?" }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: "\n")
    }

    /// The real uid, from the `Uid:` line of /proc/PID/status.
    static func uid(_ entry: String, procDir: Int32) -> UInt32? {
        guard case let .ok(bytes) = Sys.readSmallFile("\(entry)/status", relativeTo: procDir) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("Uid:") {
            return line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { UInt32($0) }
        }
        return nil
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let first = s.first, set.contains(first) { s.removeFirst() }
        while let last = s.last, set.contains(last) { s.removeLast() }
        return String(s)
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String { self[...].trimmingCharacters(in: set) }
}
#endif
