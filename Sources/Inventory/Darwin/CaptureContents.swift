import Foundation
import TunwardenCore

/// Everything read from a capture: the records recognised, what each listing covers (so that
/// what a listing leaves out is unknown rather than absent), and notes on what was left aside.
struct CaptureContents {
    typealias IfconfigEntry = DarwinParsers.IfconfigEntry

    var interfaces: [IfconfigEntry] = []
    var ifconfigSeen = false
    /// Some listing named every interface (plain `ifconfig`, `-a`, `-v`), not one or a fragment.
    var interfacesComplete = false
    /// Why interface listings under an ifconfig command line were not taken as every interface
    /// (`ifconfig | grep utun` went through grep), for the reason of a tunnel they do not show.
    var interfaceListingLimits: [String] = []

    var routes: [DarwinParsers.NetstatRow] = []
    var netstatSeen = false
    /// Families some route listing showed, and the filters (`grep`, a cut-off paste) each went through.
    var routeListings: [(families: Set<AddressFamily>, filter: TextFilter?)] = []

    var holders: [DarwinParsers.UtunHolder] = []
    /// When lsof showed each of `holders` (see `CapturedInventory.holderScan`): an lsof read
    /// across a command that may change interfaces (a VPN that reconnects takes the lowest free
    /// unit, one a leaked utun had) says nothing of who held an earlier listing's utuns.
    var holderStamps: [DarwinParsers.UtunHolder: Set<Stamp>] = [:]
    /// When each interface was last listed.
    var interfaceStamps: [String: Stamp] = [:]
    /// When routes into each interface were read (also rows a later listing superseded).
    var routeStamps: [String: Set<Stamp>] = [:]
    /// Processes lsof showed with a tuntaposx device open (`openvpn … CHR … /dev/tun0`).
    var deviceOpeners: [DeviceOpener] = []
    var lsofSeen = false
    /// Why the lsof listings do not cover every process; empty when one does.
    var lsofLimits: [String] = []
    var lsofWhole = false
    /// Processes some lsof listing covered.
    var lsofPIDs: Set<Int32> = []

    var processes: [Int32: String] = [:]
    /// When a process listing showed each of `processes` running.
    var processStamps: [Int32: Set<Stamp>] = [:]
    /// Process rows ps cut at the terminal's width, with the command as shown, and when: what
    /// such a row runs may be any program (see `CapturedInventory.closedStatusDoubt`).
    var cutProcessRows: [(pid: Int32, shown: String, stamp: Stamp)] = []
    var psSeen = false
    /// What each process listing (ps, pgrep, or a `ps | grep` that printed nothing) covers, in
    /// the order read, with its moment: listings of different moments are evidence of different
    /// times, and a cut listing says nothing a whole one of its moment does not settle.
    var processListings: [(moment: Int, filter: TextFilter?)] = []
    /// Set when output other than ps shows a feth pair's owner runs (`zerotier-cli` answered):
    /// no ps listing then proves it does not.
    var ownerAnswered: TextFilter?

    /// What is already recorded, so that a listing pasted twice counts once, in constant time per
    /// record (a hostile paste may hold hundreds of thousands).
    var interfacePositions: [String: Int] = [:]
    var routeKeys: Set<RouteKey> = []
    /// The moments at which rows already read were read again (the first moment is the row's).
    var repeatedRouteMoments: [RouteKey: Set<Int>] = [:]
    var holderKeys: Set<DarwinParsers.UtunHolder> = []

    /// When a record was read: its file, and the moment within that file (see `moment`). The
    /// files of a capture directory are read in a fixed order, not the order they were made in,
    /// and `tunwarden snapshot` makes them together: moments compare within one file only.
    struct Stamp: Hashable {
        var file: String
        var moment: Int
        /// Of a capture directory's files with no known order: two files are two moments.
        var unordered = false

        /// Whether nothing the capture shows came between the two: they are of one file and one
        /// moment, or of two files of a capture directory taken together (`tunwarden snapshot`).
        func isSameMoment(as other: Stamp) -> Bool {
            file != other.file ? !(unordered || other.unordered) : moment == other.moment
        }

        /// Whether this was read after `other` in the same file, with a command
        /// between them that may have changed the tables; of two files with no known order,
        /// either may be the later.
        func isLater(than other: Stamp) -> Bool {
            file == other.file ? moment > other.moment : unordered || other.unordered
        }
    }

    /// The stamp of what is read now from `file`.
    func stamp(_ file: String) -> Stamp {
        Stamp(file: momentGroup ?? file, moment: moment, unordered: unorderedFiles)
    }

    /// A process that lsof showed with a tuntaposx device (`/dev/tunN`, `/dev/tapN`) open: it uses
    /// the interface of that name, whatever an ifconfig status line of another moment said.
    struct DeviceOpener: Hashable {
        var pid: Int32
        /// lsof's COMMAND column (cut to nine characters).
        var command: String
        /// The interface the device is (`tun0` for `/dev/tun0`).
        var ifname: String
        /// When the lsof listing was read.
        var stamp: Stamp
    }

    /// A route row without where it was read.
    struct RouteKey: Hashable {
        var destination: IPPrefix
        var gateway: IPAddress?
        var flags: String
        var netif: String
        var linkIndex: Int?
        var zone: String?
    }

    /// What was left aside as not tool output (for --verbose), and rows that could not be read.
    var notes: [String] = []
    var problems: [String] = []
    /// Linux listings set aside (see `Section.skipLinuxListing`): the file, which listing, and
    /// the lines it took.
    var linuxListings: [(file: String, listing: String, place: String)] = []
    /// Some section held output of a Mac's tools that the reader recognised, read or left aside
    /// with a note (a listing, `route get`, ifconfig's answer, scutil's): the capture is a Mac's,
    /// whatever Linux output it also holds.
    var macOutputSeen = false
    /// Whether the text had no words at all.
    var isBlank = true
    /// The capture's first words, for a refusal.
    var firstWords = ""

    /// The capture directory's files have no known order (see `CapturedInventory.fileOrder`):
    /// each is a moment of its own, none later than another, and none replaces what another showed.
    var unorderedFiles = false
    /// Among files of no known order, the name of the group of files taken together that the
    /// file being read belongs to (a snapshot's `ifconfig.txt`, `netstat.txt`, `lsof.txt` and
    /// `ps.txt`, beside other pastes): what they show is stamped as one file's, of one moment.
    var momentGroup: String?
    /// The file being read is of the same moment as the one before (see `momentGroup`).
    var continuesMoment = false
    /// How many routes were read before the file being read.
    var routesBeforeFile = 0
    /// tuntaposx devices whose status lines in files of no known order disagree, with what each said.
    var disputedDeviceStatus: [String: String] = [:]

    /// How many commands that may change interfaces or routes (`wg-quick up`, `open -a`,
    /// `sudo route add`) the capture has shown so far: listings read at different moments may
    /// show different times' tables.
    var moment = 0
    /// The moments at which some listing named every interface.
    var completeInterfaceMoments: Set<Int> = []
    /// The time the last `date` output showed (see `CaptureReader.readShownTime`).
    var lastShownDate: Date?
    /// The time of day the last `date` or `uptime` that printed only one showed (`date +%T`), in
    /// seconds (see `CaptureReader.shownClock`).
    var lastShownClock: Int?
    /// The time of day the last prompt that shows one showed, in seconds.
    var lastPromptClock: Int?
    /// The interfaces whose header stood in the middle of its line and whose body could not be
    /// read behind the same prefix: their addresses are unknown.
    var unreadBodies: [String] = []
    /// The note for a line that stood after a listing and is no tool output, prompt or command
    /// (see `Section.noteGap`), until the next listing starts a moment after it.
    var unshownGap: String?
    /// Some listing of the file being read has been read.
    var listingReadInFile = false
    /// Interfaces `route get` output named as its route's, with where (see `Section.skipRouteGet`).
    var routeGetInterfaces: [String: String] = [:]
    /// A general default route `route get` output showed, or half of a split default (see
    /// `Section.routeGetDefault`).
    struct RouteGetDefault {
        var family: AddressFamily
        /// The route's destination: the family's default (length 0) or one half of it
        /// (`0.0.0.0/1`, `128.0.0.0/1`, `::/1`, `8000::/1`).
        var destination: IPPrefix
        var interface: String
        var gateway: IPAddress?
        /// Its flags as netstat prints them (`UGSc` for `<UP,GATEWAY,STATIC,PRCLONING>`).
        var flags: String
        /// The moment it was read at (see `moment`).
        var moment: Int
        /// The output's file and line, for messages.
        var place: String
    }
    /// The general default routes (and halves of split defaults) `route get` output showed, in
    /// the order read.
    var routeGetDefaults: [RouteGetDefault] = []
    /// The history number the last prompt that showed one showed (see `CaptureReader.historyNumber`).
    var lastHistoryNumber: Int?
    /// The host the last prompt that named one named.
    var promptHost: String?
    /// The last command line ran something on another machine (`ssh host …`): the next one is
    /// back on this one, or on that one, but of another moment either way.
    var elsewhere = false
    /// Route lines that could not be read and may have routed into a tunnel or taken default
    /// traffic (see `Section.noteUnreadableRow`): where each is, and the tunnels it names.
    var unreadableRouteRows: [(place: String, tunnels: [String], wide: Bool)] = []
    /// Route listings under a `netstat -r` command line of which no row could be read.
    var unreadableRouteListings: [String] = []
    /// The moment at which each file the capture shows saving output into (`> if.txt`) was saved.
    var savedAt: [String: Int] = [:]
    /// Indexes a route row's `link#N` gives a name that the interface listing gives another.
    var indexConflicts: [String] = []
    /// The file of the last listing of every interface.
    var completeListingFile: String?
    /// Interfaces one listing of every interface showed and a later one of the same moment did not
    /// (see `Section.recordWholeInterfaceListing`): neither listed nor gone.
    var disputedNames: Set<String> = []
    /// Interfaces output other than a listing showed to exist (see `Section.sighted`), with the
    /// moments it ran at.
    var sightings: [String: Set<Int>] = [:]
    /// The output behind each of `sightings`, with its file and line, for the reasons that cite it.
    var sightingSources: [String: [String]] = [:]
    /// `netstat -i` rows whose Name may be cut to its column (see `Section.readInterfaceTableRows`):
    /// the name as shown, the index its `<Link#N>` row gives, the moment, and the output's place.
    var cutSightings: [(name: String, index: Int?, moment: Int, source: String)] = []
    /// The moments at which process listings were read, whole or not.
    var psMoments: Set<Int> { Set(processListings.map(\.moment)) }

    /// Records a process listing read at the current moment, with the filter it went through
    /// (nil when it lists every process).
    mutating func addProcessListing(_ filter: TextFilter?) {
        processListings.append((moment, filter))
    }

    /// Some process listing lists every process.
    var psWhole: Bool { processListings.contains { $0.filter == nil } }

    /// The filters of the process listings read at any of `moments`, in the order read; nil when
    /// one of them lists every process.
    func processFilters(at moments: Set<Int>) -> [TextFilter]? {
        let listings = processListings.filter { moments.contains($0.moment) }
        return listings.contains { $0.filter == nil } ? nil : listings.compactMap(\.filter)
    }
    /// Interfaces ifconfig said do not exist (`ifconfig: interface utun4 does not exist`), with
    /// the moments it said so (see `Section.readAbsence`): routes into one read at such a moment
    /// lead into a tunnel that is gone, though no listing of every interface shows it.
    var goneAt: [String: Set<Int>] = [:]
    /// Listing commands sudo refused to run (`sudo: a password is required`), by tool, with
    /// sudo's words: a capture without that tool's output says why.
    var sudoFailures: [ShellCommand.Tool: String] = [:]

    /// Whether anything at all was recognised.
    var readSomething: Bool { ifconfigSeen || netstatSeen || lsofSeen || psSeen }

    /// What each route listing showed, before a later one superseded it: its families, and the
    /// interfaces its rows name.
    var routeListingNames: [(families: Set<AddressFamily>, names: Set<String>)] = []

    /// Whether a tunnel the routes name, but the listing of every interface does not, may have
    /// come after that listing rather than gone before it: the capture holds several route
    /// listings of a family it has routes in, and not all of them name it, so routes came or
    /// went between them (a VPN connected between two netstats) and the interface listing's
    /// time is not known to be the routes' time.
    ///
    /// Likewise when no route naming it was read at the moment of a listing of every interface:
    /// a command between them may have made the tunnel (a VPN started after `ifconfig -a`), or
    /// taken it away with its routes.
    /// (`moments` is `routeMoments()`, made once for all the names asked about.)
    func mayHaveComeSince(_ name: String, families: Set<AddressFamily>, moments: [String: Set<Int>]) -> Bool {
        let relevant = routeListingNames.filter { !$0.families.isDisjoint(with: families) }
        if relevant.count > 1 && !relevant.allSatisfy({ $0.names.contains(name) }) { return true }
        let named = moments[name] ?? []
        return !named.isEmpty && named.isDisjoint(with: completeInterfaceMoments)
    }

    /// The moments at which routes naming each interface were read.
    func routeMoments() -> [String: Set<Int>] {
        var moments: [String: Set<Int>] = [:]
        for row in routes {
            moments[row.netif, default: []].insert(row.moment)
            if let again = repeatedRouteMoments[Section.key(row)] { moments[row.netif, default: []].formUnion(again) }
        }
        return moments
    }
}
