import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finding damage anywhere in the journal before a reap adds to it: a line that is neither a
/// record nor a record cut short. A reap (and `watch --reap`) refuses such a journal, as
/// `tunwarden journal` refuses to show it, and says which line to mend or to move aside.
extension Journal {
    /// The error for damage at line `line` (nil: unknown), starting at byte `offset`: what it is,
    /// and what to do about it. The same words for every reader, so that `reap` and `journal`
    /// say one thing.
    func damaged(line: Int?, offset: Int, problem: String) -> StorageError {
        StorageError(path: path,
                     problem: "\(line.map { "line \($0)" } ?? "the last line") is not a journal record (\(problem)); it starts at byte \(offset)",
                     advice: "The journal is append-only: no reap adds to a damaged one or changes anything while it is damaged. "
                        + "Mend that line by hand if it can be read, or move the journal aside and keep it for the record "
                        + "(a reap then starts a new one; any device an intent in the old one fenced is not given back by it, so look at its intents by hand).",
                     isCorrupt: true)
    }

    /// The number of the line that starts at byte `offset` (counting from 1): read on the way
    /// to reporting damage found by a reader that walks the journal backwards, which does not
    /// count lines. Nil when the file cannot be read that far.
    func lineNumber(at offset: Int, fd: Int32) -> Int? {
        var lines = 1, position = 0
        var chunk = [UInt8](repeating: 0, count: Self.scanStep)
        while position < offset {
            let count = chunk.withUnsafeMutableBytes { preadAll(fd, UnsafeMutableRawBufferPointer(rebasing: $0[..<min($0.count, offset - position)]), at: position) }
            guard count > 0 else { return nil }
            lines += chunk[..<count].count { $0 == UInt8(ascii: "\n") }
            position += count
        }
        return lines
    }

    /// Throws the damage error for the journal's first line that no record is written as, and
    /// that is not a record cut short, wherever it lies. Every line of the file is read, but
    /// only its bytes are looked at: a record as tunwarden writes it is one JSON object on one
    /// line, starting with `{` and ending with `}`, and holds no control byte (JSON escapes
    /// them), so a block of NULs, a cut, or a torn sector shows without decoding any record.
    /// Only a line that fails that look is decoded, to tell a record cut short (skipped, as
    /// everywhere) from damage. A line that keeps that shape but no longer decodes (a changed
    /// letter) is found by the readers that decode: the look for open intents, which decodes
    /// every record since the last reap's checkpoint and every open intent, and
    /// `tunwarden journal`, which decodes them all.
    public func checkForDamage() throws {
        guard let (fd, size) = try openForReading() else { return }
        defer { close(fd) }
        let decoder = Self.decoder()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        // The line being read: where it starts, its number, its first and last bytes so far, and
        // whether it holds a control byte.
        var lineStart = 0, line = 1, position = 0
        var first: UInt8?, last: UInt8 = 0, control = false
        func finish(at end: Int) throws {
            defer { lineStart = end + 1; line += 1; first = nil; control = false }
            guard let first, control || first != UInt8(ascii: "{") || last != UInt8(ascii: "}") else { return }
            let bytes = Self.bytes(fd, from: lineStart, to: end)
            if (try? decoder.decode(JournalRecord.self, from: Data(bytes))) != nil || CutShortJSON.isCutShort(bytes) { return }
            throw damaged(line: line, offset: lineStart, problem: control ? "it holds bytes no record holds, such as NULs" : "it is not one whole JSON object")
        }
        while position < size {
            let count = chunk.withUnsafeMutableBytes { preadAll(fd, $0, at: position) }
            guard count > 0 else {
                throw StorageError(path: path, problem: "cannot be read (\(count < 0 ? String(cString: strerror(errno)) : "it shrank while being read"))", advice: "Check the disk.")
            }
            try chunk.withUnsafeBufferPointer { buffer in
                for index in 0..<count {
                    let byte = buffer[index]
                    if byte == UInt8(ascii: "\n") {
                        try finish(at: position + index)
                        continue
                    }
                    if first == nil { first = byte }
                    if byte < 0x20 { control = true }
                    last = byte
                }
            }
            position += count
        }
        // The bytes after the last line end were looked at by `checkTail` (a record cut short there is reported, not damage).
    }

    /// The file's bytes from `start` up to `end` (not included).
    private static func bytes(_ fd: Int32, from start: Int, to end: Int) -> [UInt8] {
        guard end > start else { return [] }
        var bytes = [UInt8](repeating: 0, count: end - start)
        let count = bytes.withUnsafeMutableBytes { preadAll(fd, $0, at: start) }
        return Array(bytes.prefix(max(0, count)))
    }
}
