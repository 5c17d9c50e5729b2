import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A device's full state before it was removed, as the journal keeps it.
///
/// Keys added after the first version (`txqlen`, `ifalias`, `master`, `master_ifname`, and the
/// address keys beyond family, local, prefixlen, address and scope) are optional, so journals
/// written before them stay readable.
public struct PriorState: Codable, Sendable, Equatable {
    public var kind: InterfaceKind
    public var infoKind: String?
    public var flags: [String]
    public var mtu: Int?
    public var group: UInt32?
    public var txQueueLength: UInt32?
    /// IFLA_IFALIAS as `InterfaceName` text.
    public var alias: String?
    /// The ifindex of the bridge or bond the device was a port of, and that master's name as
    /// `InterfaceName` text.
    public var master: Int?
    public var masterName: String?
    public var address: String?
    public var tun: TunDetails?
    public var addresses: [InterfaceAddress]
    public var routes: [Route]

    public init(_ interface: NetworkInterface, routes: [Route]) {
        kind = interface.kind
        infoKind = interface.infoKind
        flags = interface.flags
        mtu = interface.mtu
        group = interface.group
        txQueueLength = interface.txQueueLength
        alias = interface.alias
        master = interface.master
        masterName = interface.masterName
        address = interface.hardwareAddress
        tun = interface.tun
        addresses = interface.addresses
        self.routes = routes
    }

    enum CodingKeys: String, CodingKey {
        case kind, infoKind = "info_kind", flags, mtu, group, txQueueLength = "txqlen", alias = "ifalias", master
        case masterName = "master_ifname", address, tun, addresses = "addr_info", routes
    }
}

/// One line of the journal: an intent (written and flushed before acting) or a result (after).
public struct JournalRecord: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case intent, result }
    public enum Outcome: String, Codable, Sendable { case deleted, skipped, failed }

    @ISO8601Text public var time: Date
    /// Groups the records of one reap.
    public var run: String
    public var type: Kind
    public var netns: String?
    public var ifname: String
    public var ifindex: Int
    /// Intent records: the device as it was.
    public var prior: PriorState?
    /// Intent records: the commands that would make the device again.
    public var recreate: [String]?
    /// Result records: what happened, and why when it was skipped or failed.
    public var result: Outcome?
    public var detail: String?
    /// Intent records of a Linux reap: the private link group the device is moved into while it
    /// is fenced and verified, so that a run killed before its result records (SIGKILL, a power
    /// cut) can be recognised and undone by the next one.
    public var fenceGroup: UInt32?
    /// Intent records of a Linux reap: the private name (an alternative name for a single-queue
    /// device, the new name of a multi-queue one) the device carries while fenced, as
    /// `InterfaceName` text.
    public var fenceName: String?

    enum CodingKeys: String, CodingKey {
        case time, run, type, netns, ifname, ifindex, prior, recreate, result, detail
        case fenceGroup = "fence_group", fenceName = "fence_name"
    }

    public init(time: Date, run: String, type: Kind, netns: String?, ifname: String, ifindex: Int, prior: PriorState? = nil,
                recreate: [String]? = nil, result: Outcome? = nil, detail: String? = nil, fenceGroup: UInt32? = nil, fenceName: String? = nil) {
        self.fenceGroup = fenceGroup
        self.fenceName = fenceName
        self.time = time
        self.run = run
        self.type = type
        self.netns = netns
        self.ifname = ifname
        self.ifindex = ifindex
        self.prior = prior
        self.recreate = recreate
        self.result = result
        self.detail = detail
    }
}

/// The append-only JSON-lines journal of everything the reaper removes.
///
/// Records are appended, never rewritten, and flushed to disk before `append` returns. Before a
/// reap acts, `checkWritable` proves the journal can take its records: a journal that is corrupt
/// or cannot be written stops the reap before anything is deleted.
public struct Journal: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Every record, oldest first; an empty list when there is no journal yet.
    public func read() throws -> [JournalRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw StorageError(path: path, problem: "cannot be read", advice: "Check its permissions (tunwarden normally runs as root).")
            }
            return []
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var records: [JournalRecord] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            do {
                records.append(try decoder.decode(JournalRecord.self, from: Data(line)))
            } catch {
                throw StorageError(path: path, problem: "line \(number + 1) is not a journal record (\(StateStore.describe(error)))",
                                   advice: "The journal is append-only and tunwarden will not add to a damaged one: move it aside and keep it for the record.")
            }
        }
        if let last = data.last, last != UInt8(ascii: "\n") {
            throw StorageError(path: path, problem: "ends in an incomplete line (a write was cut short)",
                               advice: "Move it aside and keep it for the record; a new journal is started.")
        }
        return records
    }

    /// Proves that records can be appended: the journal parses and its directory and file accept writes.
    public func checkWritable() throws {
        _ = try read()
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        } catch {
            throw StorageError(path: directory, problem: "cannot be created (\(error.localizedDescription))",
                               advice: "Choose another --journal path, or run as root.")
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw StorageError(path: path, problem: "cannot be opened for appending (\(String(cString: strerror(errno))))",
                               advice: "Choose another --journal path, or run as root.")
        }
        close(fd)
    }

    /// Appends records as JSON lines in one write and flushes them to disk.
    public func append(_ records: [JournalRecord]) throws {
        guard !records.isEmpty else { return }
        var data = Data()
        for record in records {
            data.append(contentsOf: try JSONWriter.encode(record, capacity: 1024))
            data.append(UInt8(ascii: "\n"))
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw StorageError(path: path, problem: "cannot be opened for appending (\(String(cString: strerror(errno))))",
                               advice: "Choose another --journal path, or run as root.")
        }
        defer { close(fd) }
        var failure = writeAll(fd, data)
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if failure != 0 {
            throw StorageError(path: path, problem: "could not be written (\(String(cString: strerror(failure))))",
                               advice: "Check the disk; records of this run may be missing from the journal.")
        }
    }
}
