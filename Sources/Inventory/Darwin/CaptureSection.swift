import Foundation
import TunwardenCore

/// The words between two command lines, with the command that printed them (if any).
///
/// A section is read once, by `read(into:)`, each tool's records by the `Capture…` file named for
/// that tool. What the reading learns along the way is kept here: how many records of each
/// listing it read, where listings were cut, left out or interrupted, and what the command line
/// says of the moment they show. Whether a listing counts as whole rests on these, so that a
/// capture never claims more than its text shows.
struct Section {
    let text: CaptureText
    let range: Range<Int>
    let command: ShellCommand?
    let hint: ShellCommand.Tool?

    /// The netstat table being read: the family of its section title.
    var family: AddressFamily?
    var familiesSeen: Set<AddressFamily> = []
    var netstatHeader = false
    var cutShort = false
    var psLayout: PsLayout?
    /// `psLayout` is what the command line's options print (`ps ax`, `pgrep -l`), not what a
    /// header or a row's shape showed.
    var psLayoutFromCommand = false
    /// The section's command is a `pgrep` without `-l`, which prints pids alone; and the pids it
    /// printed.
    var pgrepPIDsOnly = false
    var pgrepPIDs: [String] = []
    var lsofPIDs: Set<Int32> = []
    var lsofRows = 0
    var psRows = 0
    var ifconfigBlocks = 0
    var ifconfigFragment = false
    var sawLoopback = false
    /// The names of the first blocks, up to three, when the first is lo0: `ifconfig -a` lists
    /// lo0 first and gif0 and stf0 right after it on every macOS (10.14 to 15 seen), which
    /// output pieced together from single blocks (`ifconfig lo0; ifconfig en0`) does not.
    var loopbackRun: [String] = []
    var skippedLines: [Int] = []

    init(text: CaptureText, range: Range<Int>, command: ShellCommand?, hint: ShellCommand.Tool?) {
        self.text = text
        self.range = range
        self.command = command
        self.hint = hint
    }

    var tool: ShellCommand.Tool? { shapeOnly ? nil : command?.tool ?? hint }
    /// The command's own output is not used, and the section is read by shape alone.
    var shapeOnly = false
    var file: String { text.file }

    func at(_ position: Int) -> String { "\(file):\(text.line(position))" }

    var sectionRoutes = 0
    var sectionFamilies: Set<AddressFamily> { Set(sectionFamilyCounts.keys) }
    var psHeaderSeen = false
    var lsofHeaderSeen = false
    /// The columns between PID and USER that the last lsof header named (see `LsofIdColumns`).
    var lsofHeaderColumns: [String]?
    /// The lines of lsof rows holding a utun whose words could not be lined up with lsof's
    /// columns in exactly one way: whose sockets they are is unknown.
    var unmappedLsofRows: [Int] = []
    /// The lines of lsof's field output (`-F`: `p412`, `cidentityservicesd`,
    /// `n[ctl com.apple.net.utun_control id 7 unit 1]`) that name a utun control socket.
    var lsofFieldLines: [Int] = []
    /// The lines of lsof rows cut before their utun control socket's unit was whole (see
    /// `controlSocketName`): whose socket each was is unknown.
    var cutUtunRows: [Int] = []
    /// How many routes were recorded before this section, and the rows this section read
    /// (recorded here or, the same row, before).
    var routesAtStart = 0
    var sectionKeys: Set<CaptureContents.RouteKey> = []
    /// The interface each general (not interface-scoped) destination of this section's rows
    /// leaves through, and the first destination found leaving through two (see `readRouteRow`).
    var generalRouteNetifs: [String: String] = [:]
    var destinationOfTwoNetifs: String?
    /// Which listing was read last, for an elision mark after it.
    var lastRecord: RecordKind?
    var elided = false
    /// An elision mark came before any listing of the section.
    var elidedBeforeAnything = false
    /// A line in the route table was not a row that could be read.
    var rowsSkipped = false
    /// How many lines shaped as route rows could not be read as one.
    var unreadRows = 0
    /// A netstat section title was read since the last header (`Internet6:` starts the second
    /// table of one `netstat -rn`).
    var titleSinceHeader = false
    var sectionFamilyCounts: [AddressFamily: Int] = [:]

    enum RecordKind {
        case ifconfig, netstat, ps

        /// The listing tool that prints such records.
        var tool: ShellCommand.Tool {
            switch self {
            case .ifconfig: .ifconfig
            case .netstat: .netstat
            case .ps: .ps
            }
        }
    }
    /// A line that is no tool's output came after an interface block (see `read`).
    var gapAfterBlock = false
    /// A body line of this section's interface blocks kept its indent: the listing did not lose
    /// its tabs, so an unindented line after a block is read by its first word alone, never by
    /// its shape (see `isBodyLine`).
    var ifconfigBodyIndented = false
    /// The moments at which this section's interface blocks, and its ps rows, were read: a
    /// listing without its command line is recorded when its section ends, after a line between
    /// it and the next listing may have started another moment.
    var interfaceMoments: Set<Int> = []
    var psMoment: Int?
    /// An elision mark came after ps rows.
    var psElided = false
    /// Where a `^C` line shows the section's command was interrupted (see `read`).
    var interruptedAt: Int?
    /// Why listings of an interrupted section are partial.
    var interruptedReason: String { "`\(command?.display.prefix(60) ?? "")` was interrupted with ^C" }
    /// How far each ps row that starts a line reaches (see `psRowsCutAtWidth`).
    var psRowSpans: [Int] = []
    /// What follows this section's command line may be of more than one moment (see
    /// `mixedOutput`): its listings are not taken as whole.
    var mixedMoments = false
    /// The section's command line runs its commands again and again (a loop, `watch`): each
    /// block or table it printed is whole, but of a moment of its own.
    var repeated = false
    /// The text ends inside a code block it opened, after this section: its last listing was cut,
    /// unless a prompt after it shows the shell came back (`promptAfterLastRecord`).
    var cutAtEnd = false
    /// A bare prompt came after the last listing read: the listing ran to its end.
    var promptAfterLastRecord = false
    /// Listing tools the command line pipes on after another of its commands (`netstat -rn;
    /// ifconfig | head -20`): their listings here are cut.
    var pipedOn: Set<ShellCommand.Tool> = []
    /// The lsof the command line runs after its first command, piped only into a grep that keeps
    /// every holder row (see `ShellCommand.holderListing`): lsof rows here are judged as that
    /// command's, as they would be under a line of its own.
    var holderListing: ShellCommand?
    /// The section's command line lists every interface with a plain `ifconfig` after commands
    /// that print no interface blocks (`date; ifconfig -a`): see `ShellCommand.listsEveryInterface`.
    var listsEveryInterface = false
    /// The interfaces this section's blocks named.
    var sectionInterfaceNames: Set<String> = []
    /// The pids of this section's ps rows.
    var psPIDs: Set<Int32> = []
    /// A line of this section's ps listing that is no row but names ZeroTier.
    var psStrayOwnerLine: String?
    /// The last line of the ps listing that was no row and no command text, until the next row.
    var psNoteLine: String?
    /// Whether a ps row of pid 1 (launchd) was read.
    var psSawLaunchd = false
    /// What showed that rows of the ps listing were left out (`psElided`), as the paste shows it
    /// (`'[Message truncated]' was put in for rows left out`).
    var psElidedReason: String?
    /// A prompt or another listing came after the last ps row of the section: ps ran to its end
    /// there (see `psEndReason`).
    var psEndShown = false
    /// The first line after the last ps row that is neither a row, a prompt nor markup
    /// (`[Message clipped]  View entire message`, `(continued in next comment)`): what the paste
    /// put where ps's output stopped showing.
    var psTail: String?
    /// The section ends where the next command line starts (not at the end of the text, nor where
    /// a new message or a jump of the lines' stamps starts another moment).
    var endsAtCommand = false
    /// Where the command starts in each ps row that starts a line, counted as `psRowSpans` are.
    var psCommandOffsets: [Int] = []
    /// The pid and command of each ps row that starts a line, in the order of `psRowSpans`.
    var psSpanRows: [(pid: Int32, command: String)] = []
    /// Listing tools that a line of this section that is no command line named with a pipeline
    /// that may cut their output (see `namedCut`), with the words it named.
    var namedCuts: [ShellCommand.Tool: String] = [:]
    /// The listings this section read after such a line, with its words: each is partial.
    var cutByNamedLine: [ShellCommand.Tool: String] = [:]

    /// `lines 3, 5–9 and 12` from sorted line numbers.
    static func describe(lines: [Int]) -> String {
        var runs: [String] = []
        var start = lines[0], previous = lines[0]
        for line in lines.dropFirst() + [Int.min] {
            if line == previous + 1 { previous = line; continue }
            runs.append(start == previous ? "\(start)" : "\(start)–\(previous)")
            start = line
            previous = line
        }
        let word = lines.count == 1 ? "line" : "lines"
        if runs.count > 12 { return "\(word) \(runs.prefix(12).joined(separator: ", ")) and \(runs.count - 12) more runs" }
        return "\(word) \(runs.joined(separator: ", "))"
    }
}
