import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Journal {
    /// The records of the journal's last run: the run id of its last complete record, and every
    /// record of that run that sits in the unbroken stretch at the end of the file. A reap that was
    /// killed between its intent and result records is always the last run (the next reap repairs
    /// it before writing anything of its own), so this is all `repair` needs, and it is read
    /// backwards from the end: a journal of any size costs only its last run. Lines that do not
    /// parse (a torn last line) are left out. Empty when there is no journal.
    public func lastRun() throws -> [JournalRecord] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return [] }
            throw StorageError(path: path, problem: "cannot be read (\(String(cString: strerror(errno))))",
                               advice: "Check its permissions (tunwarden normally runs as root).")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return [] }
        let decoder = Self.decoder()
        var end = Int(info.st_size)
        var carry: [UInt8] = []
        var records: [JournalRecord] = []
        var run: String?
        let chunk = 1 << 20
        while end > 0 {
            let start = max(0, end - chunk)
            var buffer = [UInt8](repeating: 0, count: end - start)
            let count = buffer.withUnsafeMutableBytes { preadAll(fd, $0, at: start) }
            guard count == end - start else { break }
            buffer += carry
            // Everything before the first newline may be the end of a line in the chunk before.
            var lines = buffer.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            carry = start > 0 ? Array(lines.removeFirst()) : []
            for line in lines.reversed() where !line.isEmpty {
                guard let record = try? decoder.decode(JournalRecord.self, from: Data(line)) else { continue }
                if run == nil { run = record.run }
                guard record.run == run else { return records.reversed() }
                records.append(record)
            }
            end = start
        }
        if !carry.isEmpty, let record = try? decoder.decode(JournalRecord.self, from: Data(carry)), record.run == run {
            records.append(record)
        }
        return records.reversed()
    }
}
