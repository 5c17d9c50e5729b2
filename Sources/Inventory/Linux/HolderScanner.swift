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
///
/// Every descriptor table of a process is read, each once: `/proc/PID/fd` shows only the main
/// thread's, so a thread that unshared its table (unshare(CLONE_FILES)), or a process whose main
/// thread exited while others run on, holds descriptors that only `/proc/PID/task/TID/fd` shows.
/// A scan of a /proc that does not show every process (tunwarden in a child PID namespace) is
/// never complete.
struct HolderScanner {
    /// The /proc mount to scan.
    var procRoot = "/proc"
    /// Whether this process may inspect every other one: CAP_SYS_PTRACE (resolving descriptors,
    /// reading fdinfo) and CAP_DAC_READ_SEARCH (listing other users' fd directories) effective.
    var privileged = HolderScanner.hasInspectionCapabilities()
    /// Whether two tasks share one descriptor table. When it fails for any reason but a task
    /// having exited, every table of that process is read (and of every later one, for ENOSYS:
    /// a kernel without kcmp).
    var sameDescriptorTable: (Int32, Int32) -> Sys.Outcome<Bool> = Sys.sameDescriptorTable

    /// The inode of the initial PID namespace (PROC_PID_INIT_INO, include/linux/proc_ns.h).
    static let initialPIDNamespace: UInt64 = 4_026_531_836

    /// What the scan learns besides attachments: how many processes run in each network namespace
    /// (by namespace inode), with one pid from each to name the namespace to the kernel.
    struct NamespaceCensus {
        var processes: [UInt64: (count: Int, samplePID: Int32)] = [:]
        /// Processes whose namespace link could not be read; the kernel can still say which
        /// namespace id each is in (RTM_GETNSID by pid).
        var hiddenPIDs: [Int32] = []
        /// The namespace files the processes' main descriptor tables keep open (nil when the scan
        /// did not get that far), for the look at other namespaces' links.
        var heldNamespaces: NamespaceDescriptors?
    }

    /// What reading one descriptor table found.
    enum TableRead {
        /// The attached tun descriptors: number and interface.
        case read([(fd: Int32, ifname: String)])
        /// The task exited while it was read.
        case gone
        /// The table could not be read, for this errno.
        case refused(Int32)
    }

    func scan(inspectedNamespace: UInt64) -> (HolderScan, NamespaceCensus) {
        var census = NamespaceCensus()
        var held: NamespaceDescriptors? = NamespaceDescriptors(procRoot: procRoot)
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
        let pidNamespace = pidNamespaceProblem()
        // kcmp names tasks by their ids in this process's PID namespace, which are the ids this
        // /proc shows only when it shows this namespace.
        var compareTables = pidNamespace == nil

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
        processLoop: for entry in entries {
            guard let pid = Int32(entry), pid > 0 else { continue }
            // Descriptors decide whether the scan is complete: a process whose descriptors cannot be
            // listed might hold anything.
            let mainTable: TableRead
            switch Sys.openDirectory("\(entry)/fd", relativeTo: procDir) {
            case let .ok(fd): mainTable = readTable(entry, directory: fd, procDir: procDir, noting: &held)
            case let .failed(code):
                if code == ENOENT || code == ESRCH { continue }
                refused(pid, code)
                continue
            }
            if case .gone = mainTable { continue }
            scanned += 1
            // Only a process with more than one thread can have more than one table, and the
            // count of threads costs one stat: a single-threaded process has no tasks walked.
            var tasks: [Int32] = []
            switch Sys.linkCount("\(entry)/task", relativeTo: procDir) {
            case let .ok(links) where links > 3:
                switch Sys.listDirectory(path: "\(entry)/task", relativeTo: procDir) {
                case let .ok(names): tasks = names.compactMap { Int32($0) }.filter { $0 != pid }
                case let .failed(code) where code != ENOENT && code != ESRCH:
                    refused(pid, code)
                    continue processLoop
                case .failed: break
                }
            case .ok: break
            case let .failed(code):
                if code != ENOENT && code != ESRCH {
                    refused(pid, code)
                    continue processLoop
                }
            }
            // The namespace says where an attachment belongs. Some processes hide it even from root
            // (a supervisor outside our user namespace); that only matters if they hold a device.
            // A main thread that exited takes its link with it; a live thread's names the namespace.
            var namespaceInode = Self.namespace(of: entry, procDir: procDir)
            for task in tasks where namespaceInode == nil {
                namespaceInode = Self.namespace(of: "\(entry)/task/\(task)", procDir: procDir)
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
            // Tables read without kcmp may be one table read twice: each descriptor counts once.
            var seen: Set<String> = []
            func note(_ found: [(fd: Int32, ifname: String)], namespace: UInt64?) {
                for (fd, ifname) in found where seen.insert("\(fd) \(ifname)").inserted {
                    let (comm, uid) = identity ?? (Self.comm(entry, procDir: procDir), Self.uid(entry, procDir: procDir))
                    identity = (comm, uid)
                    let holder = Holder(pid: pid, comm: comm, uid: uid, fd: fd, netns: namespace.map { "net:[\($0)]" })
                    // An unidentifiable namespace is never taken to be the inspected one.
                    attachments.append(HolderAttachment(holder: holder, ifname: ifname, inInspectedNamespace: namespace == inspectedNamespace))
                }
            }
            switch mainTable {
            case let .read(found): note(found, namespace: namespaceInode)
            case let .refused(code):
                refused(pid, code)
                continue processLoop
            case .gone: continue processLoop
            }

            // The tasks whose tables were read: the main thread's is `/proc/PID/fd`.
            var tablesRead: [Int32] = [pid]
            var compareHere = compareTables
            for task in tasks {
                if compareHere {
                    var shared = false
                    for reader in tablesRead {
                        switch sameDescriptorTable(reader, task) {
                        case let .ok(same): shared = same
                        case let .failed(code) where code == ESRCH: continue
                        case let .failed(code):
                            compareHere = false
                            if code == ENOSYS { compareTables = false }
                        }
                        if shared || !compareHere { break }
                    }
                    if shared { continue }
                }
                let path = "\(entry)/task/\(task)"
                switch Sys.openDirectory("\(path)/fd", relativeTo: procDir) {
                case let .ok(fd):
                    // Namespaces are taken from main tables alone, as the reaper's last look takes
                    // them (see `NamespaceDescriptors`).
                    var unnoted: NamespaceDescriptors?
                    switch readTable(path, directory: fd, procDir: procDir, noting: &unnoted) {
                    case let .read(found):
                        // A descriptor belongs to the namespace of the thread whose table holds it.
                        if !found.isEmpty { note(found, namespace: Self.namespace(of: path, procDir: procDir) ?? namespaceInode) }
                        tablesRead.append(task)
                    case .gone: continue
                    case let .refused(code):
                        refused(pid, code)
                        continue processLoop
                    }
                case let .failed(code):
                    if code == ENOENT || code == ESRCH { continue }
                    refused(pid, code)
                    continue processLoop
                }
            }
        }
        census.heldNamespaces = held
        var reasons: [String] = []
        if let pidNamespace { reasons.append(pidNamespace) }
        if !unreadable.isEmpty {
            let sample = unreadable.prefix(3).map(String.init).joined(separator: ", ")
            reasons.append("\(unreadable.count) of \(unreadable.count + scanned) processes could not be read (\(Sys.describe(unreadableReason)); pid \(sample)\(unreadable.count > 3 ? ", …" : ""))")
        }
        if reasons.isEmpty {
            return (HolderScan(complete: true, attachments: attachments, processesScanned: scanned, opaquePIDs: opaque), census)
        }
        return (HolderScan(complete: false, incompleteReason: reasons.joined(separator: "; "), remedy: pidNamespace == nil ? nil : Self.pidNamespaceRemedy,
                           attachments: attachments, processesScanned: scanned, opaquePIDs: opaque), census)
    }

    /// Reads the descriptor table of the task at `task` (`PID` or `PID/task/TID` under /proc),
    /// whose `fd` directory is open as `directory` (taken over), and notes in `held` (when there
    /// is one) the namespace files its descriptors keep open.
    func readTable(_ task: String, directory: Int32, procDir: Int32, noting held: inout NamespaceDescriptors?) -> TableRead {
        guard case let .ok(descriptors) = Sys.listDirectory(directory) else {
            // The task exited while its descriptors were listed.
            return .gone
        }
        var found: [(fd: Int32, ifname: String)] = []
        for descriptor in descriptors {
            // A descriptor that cannot be resolved might be /dev/net/tun: without the right to
            // inspect the process (CAP_SYS_PTRACE for another user's), listing works but
            // resolving does not, and that must not pass for "holds nothing".
            let target: String
            switch Sys.readLink("\(task)/fd/\(descriptor)", relativeTo: procDir) {
            case let .ok(resolved): target = resolved
            case let .failed(code):
                if code == ENOENT || code == ESRCH { continue }
                return .refused(code)
            }
            guard let number = Int32(descriptor) else { continue }
            // The tun driver by its device number, wherever its node is (`mknod mytun c 10 200`):
            // only a descriptor of a file (not a socket, pipe or anonymous inode) is looked at.
            if target != "/dev/net/tun" {
                guard target.hasPrefix("/") else {
                    if NamespaceDescriptors.mayBeNamespace(target) { held?.note(pid: task, number: descriptor, target: target) }
                    continue
                }
                switch Sys.isTunNode("\(task)/fd/\(descriptor)", relativeTo: procDir) {
                case let .ok(file) where file.isTun: break
                case let .ok(file):
                    if file.device == held?.device { held?.note(pid: task, number: descriptor, target: target, identity: (file.device, file.inode)) }
                    continue
                case let .failed(code):
                    if code == ENOENT || code == ESRCH { continue }
                    return .refused(code)
                }
            }
            switch Sys.readSmallFile("\(task)/fdinfo/\(descriptor)", relativeTo: procDir) {
            case let .ok(info):
                // A /dev/net/tun descriptor without a name in `iff:` is not attached to any device.
                // One without the line is no tun descriptor (the driver prints it for every one): a
                // namespace file bound at /dev/net/tun in another mount namespace reads so.
                if let ifname = Self.attachedInterface(fdinfo: info) {
                    found.append((number, ifname))
                } else if target == "/dev/net/tun", !Self.hasInterfaceLine(fdinfo: info) {
                    held?.note(pid: task, number: descriptor, target: target, relativeTo: procDir)
                }
            case let .failed(code):
                if code == ENOENT || code == ESRCH { continue }
                return .refused(code)
            }
        }
        return .read(found)
    }

    /// The network namespace inode of the task at `task` (`PID` or `PID/task/TID` under /proc),
    /// or nil when its link cannot be read.
    static func namespace(of task: String, procDir: Int32) -> UInt64? {
        guard case let .ok(target) = Sys.readLink("\(task)/ns/net", relativeTo: procDir) else { return nil }
        return namespaceInode(target)
    }

    // MARK: the PID namespace

    /// What to do when the scan cannot see every process because of the PID namespace.
    static let pidNamespaceRemedy = "Run tunwarden in the host's PID namespace (on the host, in a container started with `--pid=host`, or through `nsenter -t 1 -p -m tunwarden …`)"

    /// Why this /proc may not show every process on the machine, or nil when it shows them all:
    /// the scan is then incomplete, however much of it could be read.
    func pidNamespaceProblem() -> String? {
        var link: String?
        if case let .ok(target) = Sys.readLink("\(procRoot)/self/ns/pid") { link = target }
        var status: [UInt8]?
        if case let .ok(bytes) = Sys.readSmallFile("\(procRoot)/self/status") { status = bytes }
        return Self.pidNamespaceProblem(namespaceLink: link, status: status, procRoot: procRoot)
    }

    /// Why a scan of `procRoot` may miss processes, from what it says of tunwarden itself: the
    /// link `self/ns/pid` (`pid:[INODE]`) and `self/status`. A scan sees every process only when
    /// tunwarden runs in the initial PID namespace (inode PROC_PID_INIT_INO) and reads a /proc of
    /// that namespace (`NSpid:` then lists one id: the ids run from the /proc's namespace down to
    /// tunwarden's own). Kernels before 4.1 print no `NSpid:`; the inode decides alone there.
    static func pidNamespaceProblem(namespaceLink: String?, status: [UInt8]?, procRoot: String) -> String? {
        guard let namespaceLink, let inode = namespaceInode(namespaceLink, type: "pid") else {
            return "cannot tell which PID namespace tunwarden runs in (\(procRoot)/self/ns/pid cannot be read), so processes outside it may be missing from \(procRoot)"
        }
        if inode != initialPIDNamespace {
            return "tunwarden runs in a PID namespace other than the host's (\(namespaceLink)), where \(procRoot) shows only that namespace's processes: a process outside it may hold any device"
        }
        if let status, let ids = Self.statusField("NSpid", in: status), ids.count > 1 {
            return "\(procRoot) belongs to a PID namespace other than tunwarden's (NSpid: \(ids.joined(separator: " "))), so it may not show every process"
        }
        return nil
    }

    /// The whitespace-separated values of a `Name:` line of a /proc status file.
    static func statusField(_ name: String, in status: [UInt8]) -> [String]? {
        for line in String(decoding: status, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init)
        }
        return nil
    }

    /// Whether CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH are in this process's effective set.
    static func hasInspectionCapabilities() -> Bool {
        ProcessCapabilities.missing([ProcessCapabilities.sysPtrace, ProcessCapabilities.dacReadSearch]).isEmpty
    }

    /// `net:[4026531840]` → 4026531840 (and likewise for another namespace `type`).
    static func namespaceInode(_ link: String, type: String = "net") -> UInt64? {
        guard link.hasPrefix(type + ":["), link.hasSuffix("]") else { return nil }
        return UInt64(link.dropFirst(type.count + 2).dropLast())
    }

    /// The interface named by the `iff:\t<name>` line of a tun descriptor's fdinfo, as the text
    /// `InterfaceName` makes of the name's exact bytes (those after the tab, up to the line's end);
    /// nil when there is no such line or its name is empty (a descriptor not attached to a device).
    static func attachedInterface(fdinfo: [UInt8]) -> String? {
        guard let name = interfaceLine(fdinfo: fdinfo), !name.isEmpty else { return nil }
        return InterfaceName.text(name)
    }

    /// Whether fdinfo has an `iff:` line, empty or not: tun_chr_show_fdinfo prints one for every
    /// tun descriptor.
    static func hasInterfaceLine(fdinfo: [UInt8]) -> Bool {
        interfaceLine(fdinfo: fdinfo) != nil
    }

    /// The bytes after `iff:\t` on that line of fdinfo, or nil when there is no such line.
    private static func interfaceLine(fdinfo: [UInt8]) -> ArraySlice<UInt8>? {
        let prefix: [UInt8] = Array("iff:\t".utf8)
        var lineStart = 0
        while lineStart < fdinfo.count {
            let lineEnd = fdinfo[lineStart...].firstIndex(of: 0x0a) ?? fdinfo.count
            if fdinfo[lineStart..<lineEnd].starts(with: prefix) { return fdinfo[(lineStart + prefix.count)..<lineEnd] }
            lineStart = lineEnd + 1
        }
        return nil
    }

    /// The process's name. A process sets its own (prctl PR_SET_NAME) to any bytes, so it is
    /// escaped like an interface name: a holder called ESC[2J must not clear the terminal of the
    /// person reading the report.
    static func comm(_ entry: String, procDir: Int32) -> String {
        guard case let .ok(bytes) = Sys.readSmallFile("\(entry)/comm", relativeTo: procDir) else { return "?" }
        return InterfaceName.text(bytes.last == 10 ? bytes.dropLast() : bytes[...])
    }

    /// The real uid, from the `Uid:` line of /proc/PID/status.
    static func uid(_ entry: String, procDir: Int32) -> UInt32? {
        guard case let .ok(bytes) = Sys.readSmallFile("\(entry)/status", relativeTo: procDir) else { return nil }
        return statusField("Uid", in: bytes)?.first.flatMap { UInt32($0) }
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
