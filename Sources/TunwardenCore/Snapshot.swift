import Foundation

/// What is known about another network namespace that a veth peer lives in, keyed by the id this
/// namespace gives it.
public struct PeerNamespace: Sendable, Equatable {
    /// The namespace's name under /run/netns, when it has one.
    public var name: String?
    /// Processes running in it; nil when that could not be determined.
    public var processCount: Int?
    /// The address families it forwards packets of (`net.ipv4.ip_forward`,
    /// `net.ipv6.conf.all.forwarding`); nil when not read, which is the case unless the namespace
    /// is kept by name and runs no process.
    public var forwards: Set<AddressFamily>?

    public init(name: String? = nil, processCount: Int?, forwards: Set<AddressFamily>? = nil) {
        self.name = name
        self.processCount = processCount
        self.forwards = forwards
    }
}

/// The system a snapshot describes: judgements differ (a macOS utun is never orphaned; only macOS
/// routes are interface-scoped).
public enum Platform: String, Sendable {
    case linux, darwin
}

/// Everything one inventory pass saw: the input to every heuristic.
public struct Snapshot: Sendable, Equatable {
    public var platform: Platform
    /// The named network namespace inspected, or nil for the caller's own.
    public var namespace: String?
    /// The inspected namespace's identity, which keys tunwarden's observations: on Linux one
    /// incarnation of the namespace in one boot (see `NamespaceIdentity`), never shared with a
    /// namespace made after it; `darwin` for a Mac, `capture:DIR` for a capture.
    public var namespaceIdentity: String
    public var takenAt: Date
    /// The machine's boot clock when the inventory was taken: seconds since boot on a clock that
    /// no one steps (Linux's CLOCK_BOOTTIME, which counts suspended time too), read beside
    /// `takenAt` by whoever took the inventory; nil where none was read (macOS, a capture). The
    /// grace period before an orphan is reaped counts on it (see `agingClock`); `takenAt` is only
    /// shown. Not in the JSON schema.
    public var bootClock: TimeInterval?
    public var interfaces: [NetworkInterface]
    /// Whether the namespace's kernel marks the addresses it makes itself (IFA_PROTO: `kernel_lo`
    /// on `::1`, `kernel_ra`, `kernel_ll` on a link-local address), as any address of it
    /// carrying one of those marks shows. Where it marks, a link-local address without the mark
    /// was added by hand, whatever it looks like (see `RecreateCommands.madeByKernel`).
    public var kernelMarksAddresses: Bool {
        interfaces.contains { $0.addresses.contains { (1...3).contains($0.addressProtocol ?? 0) } }
    }
    public var routes: [Route]
    public var holders: HolderScan
    /// Other namespaces by the id this namespace gives them (only those a peer lives in are needed).
    public var peerNamespaces: [Int32: PeerNamespace]
    /// The policy routing rules of both families, in the kernel's order (priority, then the
    /// order they were added), when they were read (Linux); nil when not: a Mac, a capture, or a
    /// rule dump that failed (`policyRulesProblem`). Without them every table is judged as one
    /// all traffic reaches. Not in the JSON schema.
    public var policyRules: [PolicyRule]?
    /// Why the policy rules could not be read, when their dump failed: findings that would have
    /// judged by them say so. Not in the JSON schema.
    public var policyRulesProblem: String?
    /// Whether the interface list is known (a captured snapshot may lack `ifconfig` output).
    public var interfacesKnown = true
    /// Interfaces a captured snapshot shows did not exist when its routes into them were read,
    /// though it does not list every interface (`ifconfig utun4` answered `interface utun4 does
    /// not exist`): routes into them lead into a tunnel that is gone. Not in the JSON schema.
    public var goneInterfaces: Set<String> = []
    /// Running processes by pid, when known (macOS `ps`); nil when not captured.
    public var processNames: [Int32: String]?
    /// Inputs a captured snapshot lacked, with what each would have told ("lsof.txt: holders").
    public var missingSources: [String] = []
    /// Links of other network namespaces stacked on this one's, by the lower's ifindex, each as
    /// `NAME (namespace LABEL)` (Linux: a macvlan moved into a container's namespace). The kernel
    /// deletes them with their lower. Not in the JSON schema.
    public var foreignUppers: [Int: [String]] = [:]
    /// Those of `holders.vxlanVias` that vxlans of other namespaces send through (Linux), kept
    /// apart for a watcher, which reads the namespace's own again without them. Not in the JSON schema.
    public var foreignVias: [Int: [String]] = [:]
    /// Names of other network namespaces (`ip netns` names) by the kernel's `net:[INODE]`, for
    /// holders found in them; only those a finding may name. Not in the JSON schema.
    public var namespaceNames: [String: String] = [:]
    /// For a capture: the filters its process listings went through (`ps aux | grep zerotier`),
    /// each of which may have left a process out; empty when one lists every process. One whose
    /// filter certainly shows a program's rows settles whether that program runs.
    public var processFilters: [TextFilter] = []
    /// For a capture: the filter its route listing went through (`netstat -rn | grep utun`); nil
    /// when it lists every route of `routeFamilies`.
    public var routeFilter: TextFilter?
    /// For a capture: the address families whose route tables it lists; nil for every family.
    public var routeFamilies: Set<AddressFamily>?
    /// For a capture: interfaces some of whose routes were read at another moment than the
    /// interface was listed, with a command between them that may have changed the tables
    /// (`sudo killall -9 nesessionmanager`, `sleep 600`), each with why. Those routes may be
    /// another tunnel's, which took the unit since. Not in the JSON schema.
    public var routesOfOtherMoment: [String: String] = [:]
    /// For a capture: route rows into an interface that could not be read, by the interface's
    /// name, or under "" for rows whose interface is unknown (a `default` or `0/1` row cut
    /// short), each with where: such a row may be any route, so the capture does not show every
    /// route into that interface. Not in the JSON schema.
    public var unreadableRoutes: [String: String] = [:]
    /// For a capture without a routing table that lists a family's general default: where `route
    /// get` showed that default (`route -n get default`: `interface: utun12`, no IFSCOPE flag), by
    /// family; `routes` holds it as the family's general default. Not in the JSON schema.
    public var routeLookups: [AddressFamily: String] = [:]
    /// For a capture: whether it shows route rows none of which could be read (a routing table
    /// cut by `| cut -c1-45`), or a row of a default route that could not be read, so that where
    /// default traffic goes is unknown and no answer is OK. Not in the JSON schema.
    public var routesUnread = false
    /// What reading a capture left aside because it is not tool output (prompts, banners, prose,
    /// other commands), each naming its file and lines: shown with --verbose.
    public var readingNotes: [String] = []
    /// Rows of tool output that could not be read and were skipped, each naming its file and
    /// line: always shown, since the judgement lacks them.
    public var readingProblems: [String] = []

    /// `bootClock` where observations keyed by this snapshot's namespace identity can count ages
    /// on it: only an identity that names its boot (see `NamespaceIdentity`) keeps one boot's
    /// readings from being compared with another's. Nil otherwise: ages count on the wall clock.
    public var agingClock: TimeInterval? {
        NamespaceIdentity.bootID(of: namespaceIdentity) != nil ? bootClock : nil
    }

    /// Whether an interface the snapshot does not hold (`existing` are the names it holds) is
    /// known to be gone: every interface is listed, or the capture showed this one gone.
    public func isGone(_ name: String, existing: Set<String>) -> Bool {
        !existing.contains(name) && (interfacesKnown || goneInterfaces.contains(name))
    }

    /// Whether the capture lists every route of `family` that leaves through any interface with
    /// `word` among its row's words (`default`), so that a route it does not show does not exist.
    public func listsEveryRoute(of family: AddressFamily, withWord word: String) -> Bool {
        (routeFamilies?.contains(family) ?? true) && (routeFilter?.certainlyShows(word: word) ?? true)
    }

    public init(platform: Platform, namespace: String? = nil, namespaceIdentity: String = "default", takenAt: Date = Date(),
                interfaces: [NetworkInterface], routes: [Route], holders: HolderScan, peerNamespaces: [Int32: PeerNamespace] = [:]) {
        self.platform = platform
        self.namespace = namespace
        self.namespaceIdentity = namespaceIdentity
        self.takenAt = takenAt
        self.interfaces = interfaces
        self.routes = routes
        self.holders = holders
        self.peerNamespaces = peerNamespaces
    }
}
