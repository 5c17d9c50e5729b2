import Foundation
import TunwardenCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When to colour output for people: `--color auto|always|never`.
public enum ColorChoice: String, CaseIterable, Sendable {
    case auto, always, never
}

/// Standard output and error, and what the terminal allows.
enum Terminal {
    /// Whether standard output is a terminal.
    static var isTerminal: Bool { isatty(1) == 1 }

    /// Whether to colour when `--color` chose `choice`: always with `always`, never with `never`;
    /// with `auto` only on a terminal that is not `TERM=dumb`, and never when NO_COLOR is set
    /// (https://no-color.org).
    static func colorEnabled(_ choice: ColorChoice) -> Bool {
        switch choice {
        case .always: return true
        case .never: return false
        case .auto:
            let environment = ProcessInfo.processInfo.environment
            return isTerminal && (environment["NO_COLOR"].map(\.isEmpty) ?? true) && environment["TERM"] != "dumb"
        }
    }

    /// The width to fit output for people to: the terminal's, when standard output is one
    /// (COLUMNS when set, else the kernel's window size, else 80); nil for a pipe or a file, whose
    /// output is never fitted or wrapped, so that it does not depend on who runs it where.
    static var width: Int? {
        guard isTerminal else { return nil }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), (20...10_000).contains(columns) { return columns }
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 20 { return Int(size.ws_col) }
        return 80
    }

    /// Makes the standard streams safe to write to, whatever they are, before anything is written:
    /// a reader that went away (`| head`) makes a write fail with EPIPE instead of killing the
    /// process with SIGPIPE, and a stream that was closed (`>&-`, `2>&-`) is reopened on /dev/null,
    /// so that no file or socket tunwarden opens later takes its number and receives its output.
    /// Output that is lost counts as a failed write (see `exit`).
    static func prepareStandardStreams() {
        // A handler that does nothing rather than SIG_IGN: exec(2) resets a handled signal to its
        // default in the programs tunwarden starts (--alert-exec), where an ignored one stays ignored.
        signal(SIGPIPE) { _ in }
        // Lower numbers first: open(2) takes the lowest free number, which is then this one.
        for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
            _ = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
            if descriptor == 1 { Output.noteLost() }
        }
    }

    /// Writes text to standard output in one go (a text report is not split into many writes).
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { writeOut(UnsafeRawBufferPointer($0)) }
    }

    /// Writes bytes to standard output in one go.
    static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeOut($0) }
    }

    /// Writes bytes to standard output in one go, straight from where they lie.
    static func write(_ bytes: UnsafeRawBufferPointer) {
        writeOut(bytes)
    }

    /// Writes to standard output, straight from memory (no copy into `Data`). Once a write has
    /// failed (closed, full, a reader that went away), nothing more is written there: the rest of
    /// the run goes on, and `exit` reports the loss.
    private static func writeOut(_ bytes: UnsafeRawBufferPointer) {
        guard !Output.lost else { return }
        if !writeAll(1, bytes) { Output.noteLost() }
    }

    /// Writes to standard error. A failure is ignored: messages there are for a person or a
    /// journal, and losing them must not change what the run does or its exit code.
    private static func writeError(_ text: String) {
        var text = text
        text.withUTF8 { _ = writeAll(2, UnsafeRawBufferPointer($0)) }
    }

    /// Passes on to standard error what a child (`--alert-exec`) wrote, at most `limit` bytes of
    /// it, after `heading` as a note when one is given; a last line is ended.
    static func relay(errorOutput: [UInt8], limit: Int, heading: String? = nil) {
        guard !errorOutput.isEmpty else { return }
        if let heading { note(heading) }
        var bytes = Array(errorOutput.prefix(limit))
        if errorOutput.count > limit { bytes += Array("\n… (cut at \(limit) bytes)".utf8) }
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        bytes.withUnsafeBytes { _ = writeAll(2, $0) }
    }

    /// Writes all of `bytes` to `descriptor`, going on after partial writes, interruptions and a
    /// non-blocking descriptor's EAGAIN; false when the descriptor takes no more.
    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var next = bytes.baseAddress else { return true }
        var left = bytes.count
        while left > 0 {
            let written = Foundation.write(descriptor, next, left)
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    if poll(&ready, 1, -1) >= 0 || errno == EINTR { continue }
                }
                return false
            }
            next += written
            left -= written
        }
        return true
    }

    /// Ends the process with `code` at once. Output was written unbuffered, so nothing is lost;
    /// what is skipped is freeing a report's worth of objects one by one, which on a host with tens
    /// of thousands of interfaces is a measurable part of the run.
    ///
    /// When standard output could not be written, a run that would exit 0 exits 1 instead, so a
    /// caller never takes a report it did not get for a clean one; any other code stands, since
    /// it already says more (a warning, a critical finding, a refusal) than the lost output.
    static func exit(_ code: Int32) -> Never {
        Foundation.exit(code == 0 && Output.lost ? 1 : code)
    }

    /// Logs a line on standard error (`tunwarden: …`), with a syslog priority prefix under systemd
    /// (which sets JOURNAL_STREAM for services whose standard error goes to the journal).
    /// A log line is one line: a control character in `message` (a newline in a namespace's
    /// name, say, which would start a line of its own, with any priority it claims) is written
    /// `\xHH`, never raw.
    static func log(_ message: String, priority: Int = 6) {
        let prefix = underJournal ? "<\(priority)>" : ""
        writeError("\(prefix)tunwarden: \(oneLine(message))\n")
    }

    /// `text` with every control character (C0, DEL, C1) written `\xHH` per byte.
    static func oneLine(_ text: String) -> String {
        InterfaceName.escaping(text, isControl)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
    }

    /// Whether standard error goes to systemd's journal; read once (the environment of a process
    /// does not change under it, and a watcher logs at every burst that changes a count).
    private static let underJournal = getenv("JOURNAL_STREAM") != nil

    /// Prints `tunwarden: note: …` to standard error.
    static func note(_ message: String) {
        writeError("tunwarden: note: \(message)\n")
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
        writeError(text)
    }

    /// Prints `tunwarden: error: …` to standard error.
    static func error(_ message: String) {
        writeError("tunwarden: error: \(message)\n")
    }
}

/// Whether some of standard output was lost. Set from whichever thread wrote, read at exit.
private enum Output {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var wasLost = false

    static var lost: Bool { lock.withLock { wasLost } }

    static func noteLost() { lock.withLock { wasLost = true } }
}
