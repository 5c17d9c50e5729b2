import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A journal rotated away, as the shipped logrotate entry (packaging/logrotate/tunwarden) rotates
/// it: renamed to `PATH.1`, with a new empty journal made at `PATH`. A reap killed outright before
/// a rotation left its intents in the rotated journal, and the reap that repairs it journals its
/// results in the current one; so does a reap whose run spans the rotation.
extension Journal {
    /// The newest rotated journal, `PATH.1`, which the logrotate entry's `delaycompress` leaves
    /// uncompressed. Older ones (`PATH.2.gz` and on) are compressed and never read on their own:
    /// `tunwarden reap --journal` naming one, uncompressed, reads it.
    public var rotated: Journal { Journal(path: path + ".1") }

    /// The intents of the newest rotated journal that no result in it answers (see
    /// `openIntents()`, which bounds the read by its last checkpoint), oldest first; empty when
    /// there is none, or when it cannot be read (then only this journal is looked in, and a
    /// device still fenced says where else to look).
    public func rotatedOpenIntents() -> [JournalRecord] {
        rotatedOpenLook().records
    }

    /// The look `rotatedOpenIntents` makes, with the lines it skipped among a run's intents;
    /// `OpenIntents.none` when there is no rotated journal or it cannot be read.
    public func rotatedOpenLook() -> OpenIntents {
        (try? rotated.openIntents()) ?? .none
    }

    /// Those of `intents` (intent records of the rotated journal) that no result record in this
    /// journal answers either: a result in this journal for the same run and ifindex means the run
    /// spanned the rotation, or was repaired since. Reads this journal whole, forward, decoding
    /// only the lines that name one of the runs. A reap asks it whenever the rotated journal holds
    /// open intents of its namespace (until the next rotation, since their answers lie here).
    public func unanswered(_ intents: [JournalRecord]) throws -> [JournalRecord] {
        guard !intents.isEmpty, let (fd, size) = try openForReading() else { return intents }
        defer { close(fd) }
        let runs = Set(intents.map(\.run))
        let needles = runs.map { Array($0.utf8) }.filter { !$0.isEmpty }
        let decoder = Self.decoder()
        var answered = Set<String>()
        var pending: [UInt8] = []
        var position = 0
        while position < size {
            var chunk = [UInt8](repeating: 0, count: min(Self.scanStep, size - position))
            let count = chunk.withUnsafeMutableBytes { preadAll(fd, $0, at: position) }
            guard count > 0 else {
                throw StorageError(path: path, problem: "cannot be read (\(count < 0 ? String(cString: strerror(errno)) : "it shrank while being read"))",
                                   advice: "Check the disk.")
            }
            position += count
            pending += chunk.prefix(count)
            var lineStart = 0
            while let end = pending[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[lineStart..<end]
                lineStart = end + 1
                guard needles.contains(where: { Self.contains(line, $0) }),
                      let record = try? decoder.decode(JournalRecord.self, from: Data(line)),
                      record.answersIntent, runs.contains(record.run) else { continue }
                answered.insert("\(record.run)|\(record.ifindex)")
            }
            pending.removeFirst(lineStart)
        }
        return intents.filter { !answered.contains("\($0.run)|\($0.ifindex)") }
    }

    /// Whether `needle` occurs in `line`.
    private static func contains(_ line: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, line.count >= needle.count else { return false }
        var start = line.startIndex
        while let found = line[start...].firstIndex(of: first) {
            guard found + needle.count <= line.endIndex else { return false }
            if line[found..<(found + needle.count)].elementsEqual(needle) { return true }
            start = found + 1
        }
        return false
    }
}
