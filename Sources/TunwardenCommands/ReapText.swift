import Foundation
import TunwardenCore

/// What `reap` prints for people: the plan, in the conditional, and the results, in the past.
extension Reap {
    /// The plan for people: one line per target (with `commands`, the macOS commands that carry
    /// it out under it, each as a person types it as root), then what was left out and why. `clock` says
    /// whether orphans' ages are kept (observations); without them no orphan ever comes of age.
    /// `unknown`: the tunnels whose state could not be told, each with why; when nothing is
    /// planned, they are named, since one is never reaped.
    static func describe(_ plan: ReapPlan, now: Date, conditional: Bool, commands: Bool = false, clock: Bool = true,
                         unknown: [(name: String, reason: String)] = []) -> String {
        var text = ""
        for item in plan.items {
            text += ReapPlan.describe(item, now: now, conditional: conditional) + "\n"
            // Each command as a person copies it onto the Mac: whole, one to a line, with the
            // sudo it needs there, as the audit's findings give theirs.
            if commands { for command in DarwinCommands.reap(item) { text += "    \(DarwinCommands.asRoot(command.joined(separator: " ")))\n" } }
        }
        let young = plan.excluded.compactMap { exclusion -> (String, Date)? in
            if case let .tooYoung(at) = exclusion.reason { return (exclusion.ifname, at) }
            return nil
        }.sorted { $0.1 < $1.1 }
        var protected = 0
        for exclusion in plan.excluded {
            switch exclusion.reason {
            case let .protected(pattern):
                text += "Protected \(exclusion.ifname) (matches the protect pattern '\(Glob.display(pattern))').\n"
                protected += 1
            case .repairFailed:
                text += "Left \(exclusion.ifname) alone: given back damaged by the repair above; the killed run's intent records in the journal (`tunwarden journal`) hold all it had.\n"
            case let .carrierWouldWakeRoutes(woken):
                text += "Left \(exclusion.ifname) alone: \(CarrierFence.reason(woken, quotedDevice: ShellWord.quote(InterfaceName.kernelBytes(exclusion.ifname)))).\n"
            case let .peerKept(peer, because):
                // Destroying a feth unpeers its peer, deleting a veth deletes its peer: a pair goes whole.
                text += "Kept \(exclusion.ifname): its peer \(peer) \(because?.peerClause ?? "is not to be deleted"), and deleting one side of a pair takes the other's link with it.\n"
            default:
                break
            }
        }
        if !young.isEmpty {
            // "Reapable" means what the audit's [reapable] means: eligible. What keeps these back
            // is the grace period, whose clock starts when tunwarden first saw each orphaned.
            let one = young.count == 1
            text += "\(young.count) reapable orphaned interface\(one ? " is" : "s are") waiting out the grace period (--min-age), "
                + "counted from when tunwarden first saw \(one ? "it" : "each") orphaned"
            if !clock {
                text += ", and with --no-state no clock runs, so \(one ? "its" : "their") grace period never ends; run without --no-state (observations keep when each was first seen orphaned), or set --min-age 0.\n"
            } else {
                text += ". " + young.prefix(5).enumerated().map { position, entry in
                    "\(entry.0)\(position == 0 ? " is due" : "") at \(Timestamp.format(entry.1)) (in \(DurationText.exact(entry.1.timeIntervalSince(now))))"
                }.joined(separator: ", ")
                text += young.count > 5 ? ", and \(young.count - 5) more later" : ""
                text += "; --min-age changes the grace period.\n"
            }
        }
        let leftAlone = plan.excluded.contains {
            switch $0.reason {
            case .carrierWouldWakeRoutes, .repairFailed, .peerKept: true
            default: false
            }
        }
        if plan.items.isEmpty, protected > 0 || leftAlone, young.isEmpty {
            text += protected > 0 && !leftAlone
                ? "Nothing to reap: every reapable orphan is protected.\n" : "Nothing to reap: every orphan is protected or was left alone.\n"
        } else if plan.items.isEmpty {
            text += young.isEmpty ? "Nothing to reap: no orphaned interface is reapable.\n" : "Nothing to reap now.\n"
            if let first = unknown.first {
                text += "\(unknown.count) tunnel interface\(unknown.count == 1 ? " is" : "s are") unknown, and none is reaped until it can be told "
                    + "orphaned (`tunwarden audit` says why for each): \(first.name): \(first.reason)\(unknown.count > 1 ? "; and \(unknown.count - 1) more" : "")\n"
            }
        } else {
            let deletions = plan.items.count { $0.action == .deleteInterface }
            let clearings = plan.items.count - deletions
            var parts: [String] = []
            if deletions > 0 { parts.append("\(deletions) interface\(deletions == 1 ? "" : "s") to delete") }
            if clearings > 0 { parts.append("\(clearings) to clear of stale routes") }
            text += parts.joined(separator: ", ") + ".\n"
        }
        return text
    }

    /// `text` fitted to a terminal `width` columns wide, as the audit's findings are: each line
    /// wrapped at word boundaries under a hanging indent of four, so that the plan a person must
    /// read before answering y/N is read without scrolling sideways. Indented lines (a capture's
    /// commands, meant to be copied) are left whole. With `width` nil (a pipe or a file) the text
    /// is returned as it is.
    static func fitted(_ text: String, width: Int?) -> String {
        guard let width else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasPrefix(" ") || line.isEmpty ? String(line) : TextLayout.wrap(String(line), width: width, indent: 4).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// "Deleted …" lines and, with `summary`, the closing summary.
    static func describe(_ results: [ReapItemResult], summary withSummary: Bool = true) -> String {
        var text = ""
        for result in results {
            switch result.result {
            case .deleted: text += "Deleted \(result.kind.rawValue) \(result.ifname) (ifindex \(result.ifindex))\n"
            case .skipped: text += "Skipped \(result.kind.rawValue) \(result.ifname) (ifindex \(result.ifindex)): \(result.detail ?? "")\n"
            case .failed where result.unplanned:
                text += "Also deleted \(result.kind == .other ? "device" : result.kind.rawValue) \(result.ifname) (ifindex \(result.ifindex)), which was not planned: \(result.detail ?? "")\n"
            case .failed: text += "Failed to delete \(result.kind.rawValue) \(result.ifname) (ifindex \(result.ifindex)): \(result.detail ?? "")\n"
            }
        }
        guard withSummary else { return text }
        let deleted = results.count { $0.result == .deleted }
        let unplanned = results.count { $0.unplanned }
        var summary = "Reaped \(deleted) of \(results.count - unplanned)"
        let skipped = results.filter { $0.result == .skipped }
        // Each skipped one has its line above; the summary names a few, not thousands on one line.
        if !skipped.isEmpty {
            let named = skipped.prefix(3).map { "\($0.ifname) \($0.detail ?? "")" }.joined(separator: ", ")
            summary += "; \(skipped.count) skipped: " + named + (skipped.count > 3 ? ", and \(skipped.count - 3) more (each above)" : "")
        }
        let failed = results.count { $0.result == .failed }
        if failed > unplanned { summary += "; \(failed - unplanned) failed" }
        if unplanned > 0 {
            let names = results.filter(\.unplanned).map(\.ifname).joined(separator: ", ")
            summary += "; also deleted \(unplanned) device\(unplanned == 1 ? "" : "s") not planned (\(names)), a failure"
        }
        return text + summary + ".\n"
    }
}
