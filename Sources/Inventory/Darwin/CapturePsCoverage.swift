import Foundation
import TunwardenCore

/// Whether a ps listing shows every process, and if not, why: a listing is taken as every
/// process only when its command line (or, without one, its header and launchd's row) says it
/// lists them all, nothing marks rows left out, and its end is shown. That last is what a
/// clipped paste lacks: a mail client's `[Message clipped]  View entire message`, a forum's
/// `(continued in next comment)`, or the first rows of a listing pasted alone look like a short
/// listing of every process, and a feth pair whose owner is in the part not shown must not pass
/// for orphaned.
extension Section {
    /// How many rows a listing of every process must hold to be taken as whole when nothing after
    /// it shows that ps ended there: a Mac runs hundreds of processes (even a fresh login runs
    /// more than 200), and macOS `ps aux` sorts them by CPU (`-u` implies `-r`), so launchd, pid 1,
    /// among the first rows proves nothing.
    static let wholeListingRows = 100

    /// Whether what follows the ps listing shows that ps ran to its end: a prompt or another
    /// listing came after its last row in the section, the next command line follows it, or the
    /// section is a capture directory's `ps.txt`, whose end is the output's.
    var psEndProven: Bool { psEndShown || endsAtCommand || hint == .ps }

    /// Why the ps listing may be partial when a line that is no row ends it and nothing after that
    /// line shows ps ended (see `psTail`); nil otherwise.
    var psTailReason: String? {
        guard !psEndProven, let psTail else { return nil }
        return "the ps listing may be partial: its last row is followed by '\(psTail)', not by a prompt or another command's output, so rows the paste does not hold may follow"
    }

    /// Why a listing that would be taken as every process may be partial: too few rows for a Mac,
    /// with nothing after them to show that ps ended there; nil when neither holds.
    var psShortReason: String? {
        guard !psEndProven, psRows < Self.wholeListingRows else { return nil }
        return "the ps listing may be partial: nothing after its \(psRows) rows (a prompt, another command's output) shows that ps ended there, "
            + "and a Mac runs hundreds of processes; `ps aux` sorts them by CPU, so launchd among the first rows does not make them every process"
    }

    /// Takes the line at `position` as what follows the ps listing's last row, when it is the
    /// first such line and neither a row, a prompt, a web page's markup (`</details>`) nor a
    /// Markdown rule (`---`). (A fence holds no words.)
    mutating func noteTail(at position: Int, _ shown: String?) {
        guard psRows > 0, psTail == nil, text.startsLine(position) else { return }
        var end = position
        while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
        let words = (position..<end).map { text[$0] }
        if words.allSatisfy(ShellCommand.isMarkup) || (words.count == 1 && words[0].count >= 3 && words[0].allSatisfy { "-=*_".contains($0) }) {
            return
        }
        psTail = shown.map { String($0.prefix(80)) } ?? text.excerpt(position..<end, limit: 80)
    }

    /// Why a ps command line without `a`, `-A` or `-e` does not list every process. On macOS, `ps`
    /// alone lists this user's processes that have a terminal; `x` adds this user's processes
    /// without one, so `ps x` and `ps ux` still leave out other users' (root's daemons).
    static func ownProcessesOnly(_ command: ShellCommand) -> String {
        let bsdLetters = command.arguments.first.map { $0.hasPrefix("-") ? "" : $0 } ?? ""
        if command.hasOption("x") || bsdLetters.contains("x") {
            return "`\(command.display)` lists only this user's processes and leaves out other users', root's daemons among them (add a, as in ps auxww)"
        }
        return "`\(command.display)` lists only this user's processes that have a terminal (run ps auxww)"
    }

    /// Records what this section's ps listing shows of the processes: every one, or those a
    /// filter let through, or (with the reason) too little to tell what does not run.
    mutating func finishProcessListing(into contents: inout CaptureContents) {
        if psRows > 0 || psHeaderSeen {
            contents.psSeen = true
            for row in psRowsReachingWidth { contents.cutProcessRows.append((row.pid, row.command, contents.stamp(file))) }
            if mixedMoments || pipedOn.contains(.ps) {
                contents.addProcessListing(.unseen(Self.mixedOutput(command)))
            } else if let cut = cutByNamedLine[.ps] {
                contents.addProcessListing(.unseen("a line before the ps listing names `\(cut)`, which may have cut or filtered it"))
            } else if interruptedAt != nil {
                contents.addProcessListing(.unseen(interruptedReason))
            } else if let stray = psStrayOwnerLine {
                // A line that is no row names ZeroTier (`Support/ZeroTier/One/zerotier-one` under
                // a row a forum's box wrapped): a row of it was wrapped or cut.
                contents.addProcessListing(.unseen("a line of the ps listing that is no row names ZeroTier ('\(stray.prefix(50))'): a row was wrapped or cut"))
            } else if let command, Self.isPgrep(command) {
                // pgrep lists only what its pattern matched (the name, or with -f the command
                // line): what it shows runs, and nothing else is known.
                contents.addProcessListing(.unseen("`\(command.display.prefix(60))` lists only the processes its pattern matched"))
            } else if command.map({ PathText.lastComponent($0.name) == "top" }) == true {
                contents.addProcessListing(.unseen("top lists the processes it sorts first, not every one"))
            } else if psElided {
                contents.addProcessListing(.unseen("part of the ps listing was left out (\(psElidedReason ?? "a mark stands for rows left out"))"))
            } else if let unended = psTailReason {
                contents.addProcessListing(.unseen(unended))
            } else if psRowsCutAtWidth {
                contents.addProcessListing(.unseen("ps cut its rows at the terminal's width, so commands may be cut off (run it as ps auxww)"))
            } else if let command, command.tool == .ps {
                // A second grep that drops only the first one's own row (`| grep -v grep`), and a
                // sort, drop nothing else.
                let filters = command.filters.filter { !($0.inverted && $0.patterns == ["grep"]) }
                let reshaping = command.reshaping.filter { !$0.hasPrefix("sort") }
                if !command.unread.isEmpty {
                    // `ps aux |head -6`, `ps auxww > ps.txt; head -6 ps.txt`.
                    contents.addProcessListing(.unseen(Self.unreadWords(command)))
                } else if !reshaping.isEmpty || filters.count > 1 {
                    // `| grep -i zerotier | head -1`, `| grep -v root`: what the first grep kept,
                    // something after it may have dropped.
                    contents.addProcessListing(.unseen("`\(command.display)` cut the listing, or filtered it again, after its first grep"))
                } else if let filter = filters.first {
                    if let unmatched = psRowMissingPattern(filter, contents: contents) {
                        contents.addProcessListing(.unseen("a row grep let through does not hold its pattern ('\(unmatched.prefix(50))'): rows were wrapped or cut"))
                    } else {
                        contents.addProcessListing(trusted(filter))
                    }
                } else if !command.reshaping.isEmpty || Self.psSelections.contains(where: { command.value(of: $0) != nil }) || command.hasOption("T") {
                    contents.addProcessListing(.unseen("`\(command.display)` lists only some processes"))
                } else if command.arguments.isEmpty || (!command.hasOption("a") && !command.hasOption("A") && !command.hasOption("e")
                                                        && !(command.arguments.first?.contains("a") ?? false)) {
                    contents.addProcessListing(.unseen(Self.ownProcessesOnly(command)))
                } else if !psSawLaunchd {
                    contents.addProcessListing(Self.withoutLaunchd)
                } else {
                    contents.addProcessListing(psShortReason.map { .unseen($0) })
                }
            } else if psHeaderSeen {
                if psSawLaunchd {
                    contents.addProcessListing(psShortReason.map { .unseen($0) })
                } else {
                    contents.addProcessListing(Self.withoutLaunchd)
                }
            } else if let grep = contents.processes.values.sorted().first(where: { $0.hasPrefix("grep ") }),
                      let filter = TextFilter.grep(grep.split(separator: " ").dropFirst().map { ShellCommand.unquote(String($0)) }) {
                // `ps aux | grep -i zerotier` pasted without its command line shows the grep
                // itself, and with it the filter the listing went through (and not whether its
                // ps was told -ww). ps shows its arguments without their quotes: with more than
                // one word after the options, the pattern may have been several (`'ZeroTier One'`).
                let words = grep.split(separator: " ").dropFirst().filter { !$0.hasPrefix("-") }
                contents.addProcessListing(words.count > 1 ? .unseen("`\(grep.prefix(60))` may have had a pattern of several words, whose quotes ps does not show")
                    : trusted(filter))
            } else {
                contents.addProcessListing(.unseen("the ps rows have no header, so the listing was filtered"))
            }
        }
    }
}

extension Section {
    /// The options with which macOS ps lists only the processes they select: by pid (`-p`), by
    /// user (`-U`, `-u`), by real group (`-G`) or by terminal (`-t`; `-T`, which takes no value,
    /// selects the terminal ps runs on).
    static let psSelections: [Character] = ["p", "U", "u", "G", "t"]

    /// A ps listing that lacks launchd, which every listing of all processes has as pid 1: it
    /// is one user's (`ps ux`), the first rows of a sorted one (`ps aux | head`), or cut short.
    static let withoutLaunchd = TextFilter.unseen("launchd, pid 1, is not in the ps listing, so it is not every process: `ps ux` shows one user's, `ps aux | head` the first few")

    /// A filtered ps listing whose rows may have been cut before the filter saw them: it can show
    /// that a process runs, never that one does not.
    static func cutBeforeFiltering(_ filter: TextFilter) -> TextFilter {
        .unseen("`\(filter.text)` saw rows that ps may have cut at the terminal's width first, so a long command can be missing; run ps auxww | \(filter.text)")
    }
}
