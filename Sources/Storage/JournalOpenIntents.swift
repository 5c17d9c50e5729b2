import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one run's intents that no result answers lie in the journal, as a checkpoint
/// (`JournalRecord.openRuns`) lists them.
public struct OpenRun: Decodable, JSONRecord, Sendable, Equatable {
    /// The run's id.
    public var run: String
    /// The byte offset of the run's first intent record. A reaper journals a run's intents in one
    /// append, so they lie together from there.
    public var at: Int
    /// The ifindexes of the run's intents that no result answers; nil when none of them is
    /// answered.
    public var ifindexes: [Int]?
    /// The run's open intents that a result left open (`JournalRecord.leftFenced`), with why, as
    /// the last such result said (empty when none was); nil in a checkpoint written before the
    /// reasons were kept, which leaves them unknown.
    public var leftOpen: [LeftOpenDevice]?

    public init(run: String, at: Int, ifindexes: [Int]? = nil, leftOpen: [LeftOpenDevice]? = nil) {
        self.run = run
        self.at = at
        self.ifindexes = ifindexes
        self.leftOpen = leftOpen
    }

    enum CodingKeys: String, CodingKey {
        case run, at, ifindexes = "ifindex", leftOpen = "left_open"
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("run", run)
            json.field("at", at)
            if let ifindexes {
                json.array("ifindex") { json in
                    for index in ifindexes { json.element(index) }
                }
            }
            json.field("left_open", leftOpen)
        }
    }
}

/// The intents of a journal that no result answers, whatever was appended after them: what reaps
/// killed outright left (or a reap acting right now), in every namespace, with where they lie so
/// that the next checkpoint can name them.
public struct OpenIntents: Sendable {
    /// The open intents, oldest first.
    public var records: [JournalRecord]
    /// How many bytes of the journal the look read.
    public var bytesRead: Int
    /// Each run with open intents: where its intents start, how many intents it journaled, and
    /// the ifindexes of those still open, in journal order.
    var blocks: [String: Block]
    /// The lines found among a run's intents that are no record (cut short, or a block of NULs
    /// a crash or a torn sector left), by run: each was skipped and the intents after it were
    /// read, but one of them may have been an intent of that run, whose device no look finds.
    public var skippedLines: [String: [TornRecord]] = [:]

    struct Block: Sendable {
        var at: Int
        var total: Int
        var open: [Int]
        /// By ifindex, why the last result that left an open intent open said it did.
        var leftOpen: [Int: LeftOpen] = [:]
        /// The run came from a checkpoint written before the reasons were kept (no `left_open`):
        /// whether a result before it left an intent open, and why, is not known.
        var causesUnknown = false
    }

    /// Whether what left the intent of run `run` for ifindex `ifindex` open is known: false when
    /// a checkpoint written before the reasons were kept is all that tells of it, and no result
    /// since said why.
    public func causeKnown(run: String, ifindex: Int) -> Bool {
        guard let block = blocks[run] else { return true }
        return !block.causesUnknown || block.leftOpen[ifindex] != nil
    }

    /// Why a result left the intent of run `run` for ifindex `ifindex` open, as the last such
    /// result said (`unsaid` for one written before the reasons were kept); nil when no result
    /// did: the run was killed, or could not write its results.
    public func leftOpen(run: String, ifindex: Int) -> LeftOpen? {
        blocks[run]?.leftOpen[ifindex]
    }

    /// What a journal that does not exist holds.
    public static let none = OpenIntents(records: [], bytesRead: 0, blocks: [:])

    init(records: [JournalRecord], bytesRead: Int, blocks: [String: Block], skippedLines: [String: [TornRecord]] = [:]) {
        self.records = records
        self.bytesRead = bytesRead
        self.blocks = blocks
        self.skippedLines = skippedLines
    }

    /// The checkpoint for the last of `records`, appended at `offsets`: these open intents, less
    /// those the records answer, with the intents among the records.
    func runs(after records: [JournalRecord], at offsets: [Int]) -> [OpenRun] {
        let blocks = self.after(records, at: offsets).blocks
        return blocks.filter { !$0.value.open.isEmpty }.sorted { $0.value.at < $1.value.at }.map { run, block in
            let left = block.open.compactMap { index in block.leftOpen[index].map { LeftOpenDevice(ifindex: index, cause: $0) } }
            // Always said (empty when no result left an intent open), but for a run whose reasons
            // are not known: its absence tells the next look so.
            return OpenRun(run: run, at: block.at, ifindexes: block.open.count == block.total ? nil : block.open, leftOpen: block.causesUnknown ? nil : left)
        }
    }

    /// These open intents once `records`, appended at `offsets`, follow them: their intents
    /// added, and the intents their results answer taken away, so that a later append under the
    /// same lock (a reap's results after its intents) carries a checkpoint that names the
    /// intents a result left open (`JournalRecord.leftFenced`).
    func after(_ records: [JournalRecord], at offsets: [Int]) -> OpenIntents {
        var next = self
        for (record, offset) in zip(records, offsets) {
            switch record.type {
            case .intent:
                var block = next.blocks[record.run] ?? Block(at: offset, total: 0, open: [])
                block.total += 1
                block.open.append(record.ifindex)
                next.blocks[record.run] = block
                next.records.append(record)
            case .result:
                guard record.answersIntent else {
                    if record.leftFenced == true { next.blocks[record.run]?.leftOpen[record.ifindex] = record.leftOpen ?? .unsaid }
                    continue
                }
                next.blocks[record.run]?.leftOpen[record.ifindex] = nil
                next.blocks[record.run]?.open.removeAll { $0 == record.ifindex }
                next.records.removeAll { $0.run == record.run && $0.ifindex == record.ifindex }
            }
        }
        next.blocks = next.blocks.filter { !$0.value.open.isEmpty }
        return next
    }
}

extension Journal {
    /// Every intent of the journal that no result answers, whatever was appended after it.
    ///
    /// The journal is read backwards from its end, only as far as the last checkpoint: the
    /// `open_runs` a reaper puts on the last record of each append it makes under the journal's
    /// lock (its intents, its results, its repairs of killed runs), which names every intent open
    /// up to that record and where its run's intents lie. Those are then read where they lie, and
    /// nothing older: a look costs the records since the last append of a reaper, plus the intents
    /// still open (a reap killed outright that no reap in its namespace has repaired yet),
    /// however large the journal. A journal written before checkpoints is read back to its start,
    /// once: the next reaper append puts one in. A checkpoint whose intents are not where it says
    /// (the journal was cut or rewritten since) is not trusted, and the whole journal is read.
    /// A record cut short is left out; any other line read that is not a record is damage, and
    /// throws (see `Journal.damaged`). Empty when there is no journal.
    public func openIntents() throws -> OpenIntents {
        guard let (fd, size) = try openForReading() else { return .none }
        defer { close(fd) }
        if let found = try look(fd, size: size, trustingCheckpoints: true) { return found }
        return try look(fd, size: size, trustingCheckpoints: false)!
    }

    /// One device of one run.
    private struct Device: Hashable {
        var run: String
        var ifindex: Int
    }

    /// The look `openIntents` describes; nil when a checkpoint it trusted proved wrong (only when
    /// `trustingCheckpoints`: otherwise it reads the whole journal).
    private func look(_ fd: Int32, size: Int, trustingCheckpoints: Bool) throws -> OpenIntents? {
        let decoder = Self.decoder()
        var lines = BackwardLines(fd: fd, end: size, path: path)
        var answered = Set<Device>()
        // Why the newest result that left each device's intent open said it did (read newest first).
        var leftOpen: [Device: LeftOpen] = [:]
        var open: [(record: JournalRecord, offset: Int)] = []
        var blocks: [String: OpenIntents.Block] = [:]
        var checkpoint: [OpenRun]?
        while let (offset, line) = try lines.next() {
            guard let record = try decode(line, at: offset, fd: fd, decoder: decoder) else { continue }
            let device = Device(run: record.run, ifindex: record.ifindex)
            switch record.type {
            case .result:
                if record.answersIntent { answered.insert(device) }
                if record.leftFenced == true, leftOpen[device] == nil { leftOpen[device] = record.leftOpen ?? .unsaid }
            case .intent:
                var block = blocks[record.run] ?? OpenIntents.Block(at: offset, total: 0, open: [])
                block.at = offset
                block.total += 1
                blocks[record.run] = block
                if !answered.contains(device) { open.append((record, offset)) }
            }
            if trustingCheckpoints, let runs = record.openRuns {
                checkpoint = runs
                break
            }
        }
        var read = lines.bytesRead
        // The runs the walk saw whole (those the checkpoint does not name): their blocks as seen.
        let listed = Set((checkpoint ?? []).map(\.run))
        var found: [String: OpenIntents.Block] = [:]
        for (record, _) in open.reversed() where !listed.contains(record.run) {
            guard let block = blocks[record.run] else { continue }
            found[record.run, default: OpenIntents.Block(at: block.at, total: block.total, open: [])].open.append(record.ifindex)
            if let cause = leftOpen[Device(run: record.run, ifindex: record.ifindex)] { found[record.run]?.leftOpen[record.ifindex] = cause }
        }
        var seen = Set(open.map { Device(run: $0.record.run, ifindex: $0.record.ifindex) })
        var skipped: [String: [TornRecord]] = [:]
        for listed in checkpoint ?? [] {
            guard let block = try readBlock(fd, of: listed.run, at: listed.at, size: size, decoder: decoder) else { return nil }
            read += block.bytes
            if !block.skipped.isEmpty { skipped[listed.run] = block.skipped }
            let wanted = listed.ifindexes.map(Set.init)
            var entry = OpenIntents.Block(at: listed.at, total: block.records.count, open: [])
            entry.causesUnknown = listed.leftOpen == nil
            let listedLeft = Dictionary((listed.leftOpen ?? []).map { ($0.ifindex, $0.cause) }, uniquingKeysWith: { a, _ in a })
            for (record, offset) in block.records where wanted?.contains(record.ifindex) ?? true {
                let device = Device(run: record.run, ifindex: record.ifindex)
                guard !answered.contains(device) else { continue }
                entry.open.append(record.ifindex)
                // A result after the checkpoint is newer than what the checkpoint says.
                if let cause = leftOpen[device] ?? listedLeft[record.ifindex] { entry.leftOpen[record.ifindex] = cause }
                if seen.insert(device).inserted { open.append((record, offset)) }
            }
            if !entry.open.isEmpty { found[listed.run] = entry }
        }
        open.sort { $0.offset < $1.offset }
        return OpenIntents(records: open.map(\.record), bytesRead: read, blocks: found, skippedLines: skipped)
    }

    /// The intent records of run `run` that start at `at` and lie together, with their offsets,
    /// how many bytes were read, and the lines between two of them that are no record (cut short,
    /// or NULs): each is skipped and the reading goes on, since the run's later intents stand
    /// (a line not decoded is skipped everywhere else too). The block ends at the first record
    /// that is not an intent of that run. Nil when no intent of that run starts there.
    private func readBlock(_ fd: Int32, of run: String, at: Int, size: Int,
                           decoder: JSONDecoder) throws -> (records: [(JournalRecord, Int)], bytes: Int, skipped: [TornRecord])? {
        guard at >= 0, at < size else { return nil }
        if at > 0 {
            var before: UInt8 = 0
            guard pread(fd, &before, 1, off_t(at - 1)) == 1, before == UInt8(ascii: "\n") else { return nil }
        }
        var records: [(JournalRecord, Int)] = []
        var position = at
        var pending: [UInt8] = []
        var bytes = 0
        // Skipped since the last intent: among the run's intents only if another one follows.
        var skippedSince: [TornRecord] = []
        var skipped: [TornRecord] = []
        reading: while position < size {
            var chunk = [UInt8](repeating: 0, count: min(Self.scanStep, size - position))
            let count = chunk.withUnsafeMutableBytes { preadAll(fd, $0, at: position) }
            guard count > 0 else { break }
            bytes += count
            let start = position - pending.count
            pending += chunk.prefix(count)
            position += count
            var lineStart = 0
            while let end = pending[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { lineStart = end + 1 }
                guard end > lineStart else { continue }
                guard let record = try decode(pending[lineStart..<end], at: start + lineStart, fd: fd, decoder: decoder) else {
                    // Without an intent before it, the checkpoint does not lead to the run's intents.
                    guard !records.isEmpty else { break reading }
                    skippedSince.append(TornRecord(path: path, offset: start + lineStart, length: end - lineStart))
                    continue
                }
                guard record.type == .intent, record.run == run else { break reading }
                records.append((record, start + lineStart))
                skipped += skippedSince
                skippedSince = []
            }
            pending.removeFirst(lineStart)
        }
        return records.isEmpty ? nil : (records, bytes, skipped)
    }

    /// The record `line` (starting at byte `offset`) holds; nil for a record cut short, which is
    /// skipped as everywhere. Any other line that is not a record is damage, thrown with its line
    /// number: skipping it could skip the intent of a killed run, whose device would then never
    /// be given back.
    private func decode(_ line: some Collection<UInt8>, at offset: Int, fd: Int32, decoder: JSONDecoder) throws -> JournalRecord? {
        do {
            return try decoder.decode(JournalRecord.self, from: Data(line))
        } catch {
            if CutShortJSON.isCutShort(line) { return nil }
            throw damaged(line: lineNumber(at: offset, fd: fd), offset: offset, problem: StateStore.describe(error))
        }
    }

    /// How much of the journal one read takes when looking for open intents.
    static let scanStep = 64 * 1024
}

/// The lines of a file from its end backwards, each with its offset; empty lines are skipped.
/// Reads `Journal.scanStep` bytes at a time, keeping only the line not yet finished.
private struct BackwardLines {
    let fd: Int32
    let path: String
    /// The file's bytes from `start` to the end of the next line to give, not yet given.
    private var tail: [UInt8] = []
    private var start: Int
    private(set) var bytesRead = 0

    init(fd: Int32, end: Int, path: String) {
        self.fd = fd
        self.path = path
        start = end
    }

    mutating func next() throws -> (offset: Int, line: [UInt8])? {
        while true {
            while let last = tail.last, last == UInt8(ascii: "\n") { tail.removeLast() }
            if let cut = tail.lastIndex(of: UInt8(ascii: "\n")) {
                // Copied out, so that cutting it off the end moves nothing.
                let line = Array(tail[(cut + 1)...])
                tail.removeSubrange(cut...)
                return (start + cut + 1, line)
            }
            if start == 0 {
                guard !tail.isEmpty else { return nil }
                defer { tail = [] }
                return (0, tail)
            }
            let from = max(0, start - Journal.scanStep)
            var chunk = [UInt8](repeating: 0, count: start - from)
            let count = chunk.withUnsafeMutableBytes { preadAll(fd, $0, at: from) }
            guard count == start - from else {
                throw StorageError(path: path, problem: "cannot be read (\(count < 0 ? String(cString: strerror(errno)) : "it shrank while being read"))",
                                   advice: "Check the disk.")
            }
            bytesRead += count
            tail = chunk + tail
            start = from
        }
    }
}
