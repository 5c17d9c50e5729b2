import Foundation

extension AuditTable {
    /// How many reasons the table lists without `--verbose`.
    static let undecidedReasons = 8
    /// How many interfaces a reason names without `--verbose`.
    static let undecidedNames = 6

    /// Why the interfaces that are neither live nor orphaned are unknown or suspect, under the
    /// table: its columns have no room for a reason, and "unknown" alone tells a user neither
    /// what was missing nor what to run to decide it. Interfaces with the same state and reason
    /// share a line (ten thousand unreadable holders make one), in the order they are listed.
    /// Empty when every interface is decided.
    static func undecidedText(_ assessment: Assessment, width: Int?, verbose: Bool) -> String {
        var order: [Reason] = []
        var names: [Reason: [String]] = [:]
        for position in assessment.interfaces.indices {
            let state = assessment.interfaces[position].state
            guard state == .unknown || state == .suspect else { continue }
            let reason = Reason(state: state, text: assessment.interfaces[position].reason)
            if names[reason] == nil { order.append(reason) }
            names[reason, default: []].append(assessment.interfaces[position].interface.name)
        }
        guard !order.isEmpty else { return "" }
        var out = "\nUnknown or suspect, and why:\n"
        for reason in order.prefix(verbose ? order.count : undecidedReasons) {
            let all = names[reason] ?? []
            let shown = verbose ? all : Array(all.prefix(undecidedNames))
            let more = all.count - shown.count
            let head = "  \(reason.state.rawValue) \(shown.joined(separator: ", "))\(more > 0 ? " and \(more) more" : ""): "
            out += TextLayout.wrap(reason.text, width: width, prefix: head, indent: 6).joined(separator: "\n") + "\n"
        }
        if !verbose, order.count > undecidedReasons {
            out += "  (\(order.count - undecidedReasons) more reasons; --verbose lists every one)\n"
        }
        return out
    }

    /// A state and the reason given for it, which interfaces share.
    struct Reason: Hashable {
        var state: InterfaceState
        var text: String
    }
}
