import TunwardenCore

/// Where a command speaks: its report on standard output, notes, warnings and errors on standard
/// error, a question to a person on standard input, and what the terminal at the other end allows.
///
/// `TerminalConsole` is the process's own streams; a test gives a run one that records what it
/// said, so that a command's logic can be run and checked without starting a process.
protocol Console {
    /// Whether standard output is a terminal: JSON is then indented, and tables are for a person.
    var isTerminal: Bool { get }
    /// Whether standard input is a terminal a person can answer a question on.
    var inputIsTerminal: Bool { get }
    /// Whether standard error is a terminal, where progress lines make sense.
    var errorIsTerminal: Bool { get }
    /// The width to fit output for people to, or nil when output must never be fitted or wrapped.
    var width: Int? { get }
    /// Whether output is coloured when `--color` chose `choice`.
    func colorEnabled(_ choice: ColorChoice) -> Bool
    /// Writes bytes of the report to standard output, all of them in one go (a large JSON report
    /// comes in the few pieces it was written in, one call each).
    func write(_ bytes: UnsafeRawBufferPointer)
    /// Prints `tunwarden: note: …` on standard error.
    func note(_ message: String)
    /// Prints `tunwarden: warning: …` on standard error: something is wrong, and the run goes on.
    func warning(_ message: String)
    /// Prints `tunwarden: error: …` on standard error.
    func error(_ message: String)
    /// Writes to standard error without a newline (progress lines, questions).
    func progress(_ text: String)
    /// One line a person typed, without its newline; nil at the end of input.
    func readLine() -> String?
}

extension Console {
    func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }
}

/// The process's own standard streams and terminal (see `Terminal`).
struct TerminalConsole: Console {
    var isTerminal: Bool { Terminal.isTerminal }
    var inputIsTerminal: Bool { Terminal.inputIsTerminal }
    var errorIsTerminal: Bool { Terminal.errorIsTerminal }
    var width: Int? { Terminal.width }
    func colorEnabled(_ choice: ColorChoice) -> Bool { Terminal.colorEnabled(choice) }
    func write(_ bytes: UnsafeRawBufferPointer) { Terminal.write(bytes) }
    func note(_ message: String) { Terminal.note(message) }
    func warning(_ message: String) { Terminal.warning(message) }
    func error(_ message: String) { Terminal.error(message) }
    func progress(_ text: String) { Terminal.progress(text) }
    func readLine() -> String? { Swift.readLine() }
}
