/// ANSI colouring that is a no-op when disabled.
struct Painter {
    var enabled: Bool

    func wrap(_ code: String, _ text: String) -> String { enabled ? Self.start(code) + text + Self.end : text }

    /// What starts colouring with `code` (`1`: bold), and what ends it.
    static func start(_ code: String) -> String { "\u{1B}[\(code)m" }
    static let end = "\u{1B}[0m"

    /// The colour of an interface's state, or nil when disabled (or for a row with no state).
    func code(_ state: InterfaceState?) -> String? {
        guard enabled else { return nil }
        switch state {
        case .orphaned: return "33"
        case .suspect: return "35"
        case .unknown: return "36"
        case .live: return "32"
        case nil: return nil
        }
    }

    func severity(_ severity: Severity, _ text: String) -> String {
        switch severity {
        case .critical: wrap("1;31", text)
        case .warning: wrap("33", text)
        case .info: wrap("36", text)
        }
    }
}
