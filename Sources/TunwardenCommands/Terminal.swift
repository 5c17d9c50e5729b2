import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard output and error, and what the terminal allows.
enum Terminal {
    /// Whether standard output is a terminal.
    static var isTerminal: Bool { isatty(1) == 1 }

    /// Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
    static var colorEnabled: Bool {
        isTerminal && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
    }

    /// Writes text to standard output in one go (large reports are not split into many writes).
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { writeOut(UnsafeRawBufferPointer($0)) }
    }

    /// Writes bytes to standard output in one go.
    static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeOut($0) }
    }

    /// Writes a piece of a report to standard output, from where it lies.
    static func write(_ segment: JSONSegment) {
        segment.withUnsafeBytes { writeOut($0) }
    }

    /// Writes all of `bytes` to standard output, straight from memory (no copy into `Data`), going
    /// on after partial writes and interruptions. A closed or failing output ends the writing (a
    /// reader that went away, as `| head` does, wants no more).
    private static func writeOut(_ bytes: UnsafeRawBufferPointer) {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = Foundation.write(1, next, left)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            next += written
            left -= written
        }
    }

    /// Ends the process with `code` at once. Output was written unbuffered, so nothing is lost;
    /// what is skipped is freeing a report's worth of objects one by one, which on a host with tens
    /// of thousands of interfaces is a measurable part of the run.
    static func exit(_ code: Int32) -> Never {
        Foundation.exit(code)
    }

    /// Logs a line on standard error (`tunwarden: …`), with a syslog priority prefix under systemd
    /// (which sets JOURNAL_STREAM for services whose standard error goes to the journal).
    static func log(_ message: String, priority: Int = 6) {
        let prefix = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil ? "<\(priority)>" : ""
        FileHandle.standardError.write(Data("\(prefix)tunwarden: \(message)\n".utf8))
    }

    /// Prints `tunwarden: note: …` to standard error.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("tunwarden: note: \(message)\n".utf8))
    }

    /// Prints `tunwarden: warning: …` to standard error: something is wrong, and the run goes on.
    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("tunwarden: warning: \(message)\n".utf8))
    }

    /// Whether standard input is a terminal a person can answer on.
    static var inputIsTerminal: Bool { isatty(0) == 1 }

    /// Whether standard error is a terminal (for progress lines).
    static var errorIsTerminal: Bool { isatty(2) == 1 }

    /// Writes to standard error without a newline (progress lines).
    static func progress(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Prints `tunwarden: error: …` to standard error.
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("tunwarden: error: \(message)\n".utf8))
    }
}
