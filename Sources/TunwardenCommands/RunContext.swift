import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Inventory
import Reaper
import Storage
import TunwardenConfig
import TunwardenCore

/// Everything one run of a command works with, decided once when it starts: its settings, the
/// system it inspects and acts on, the state directory, and where it speaks.
///
/// `live` builds the context a command line gets. A test builds one with a stand-in inventory and
/// reaper, a temporary state directory and a recording console, and runs a command's logic with
/// it (`run(in:)`), without root and without touching the machine's interfaces.
struct RunContext {
    var settings: Settings
    /// The state directory: observations, the lock runs take in turn, the default journal.
    var stateDirectory: String
    var console: any Console
    /// Whether the process has root's privileges, which reaping needs.
    var isPrivileged: Bool
    /// The capabilities reaping needs that the process lacks although it runs as root (dropped by
    /// a container or a unit), by name; empty when it has them all.
    var lackedForReaping: [String] = []
    /// The live system's inventory of a namespace (nil: the process's own). `patient` asks for one
    /// that waits out interrupted dumps, as a reap would rather do than refuse.
    var inventory: (_ namespace: String?, _ patient: Bool) throws -> any InventoryBackend
    /// What carries out reap plans in a namespace (nil: the process's own) of this system.
    var reaper: (_ namespace: String?) throws -> any PlanReaper
    /// Whether the process ends with this run (a command line's), so that what the run leaves
    /// allocated need not be freed (see `keepUntilExit`).
    var endsTheProcess = false

    /// The context of a run from the command line: the configuration file `global` names (a bad
    /// one ends the run with exit code 64), the state directory `--state-dir` gives or the file
    /// sets, this process's streams and privileges, and this platform's inventory and reaper.
    static func live(_ global: GlobalOptions, for section: ConfigSection, stateDirectory given: String?) throws -> RunContext {
        let settings = try Settings.load(global, for: section)
        var context = RunContext(settings: settings, stateDirectory: settings.stateDirectory(given: given), console: TerminalConsole(),
                                 isPrivileged: geteuid() == 0, inventory: Backends.live, reaper: LiveReaper.make, endsTheProcess: true)
        #if os(Linux)
        if context.isPrivileged { context.lackedForReaping = ProcessCapabilities.missing([ProcessCapabilities.netAdmin]) }
        #endif
        return context
    }

    /// Keeps `values` allocated until the process ends, when this run ends it. A run's last
    /// values (an assessment of 10,000 interfaces, its observations, its table) are tens of
    /// thousands of allocations; freeing them one by one took about 3 ms at the end of an audit,
    /// and ending the process frees them at once. A test's run frees them as usual.
    func keepUntilExit(_ values: Any...) {
        guard endsTheProcess else { return }
        RunContext.keptUntilExit.append(values)
    }

    /// What `keepUntilExit` keeps; touched only by the thread a command runs on.
    nonisolated(unsafe) private static var keptUntilExit: [Any] = []

    /// The inventory a run judges: a captured snapshot (a directory or one pasted file, on any OS)
    /// when `capture` names one, otherwise the live system.
    ///
    /// Reading a paste from a terminal (`--from -` typed with nothing piped in) waits for the
    /// person: a note says so and how to end it, instead of a silent wait.
    func backend(capture: String?, namespace: String?, patient: Bool = false) throws -> any InventoryBackend {
        if let capture {
            if capture == "-", isatty(STDIN_FILENO) != 0 {
                console.note("reading a paste from the terminal: paste the output, then press Ctrl-D on a line of its own")
            }
            return CapturedInventory(path: capture)
        }
        return try inventory(namespace, patient)
    }

    /// Prints a message about settings that contradict each other and gives exit code 64 to throw.
    func reject(_ message: String) -> ExitCode {
        console.error(message)
        return ExitCode(ExitCode.validationFailure.rawValue)
    }
}

/// Carries out reap plans on one system: the reaper of the platform tunwarden runs on, or a
/// stand-in in tests.
protocol PlanReaper {
    /// Carries out `plan`, journaling an intent before acting and a result after, and returns one
    /// result per item in plan order. Throws `ReapRefusal` when nothing was changed and
    /// `ReapJournalIncomplete`, with every result, when it acted but could not journal the results.
    func execute(_ plan: ReapPlan, journal: Journal, runID: String, progress: ((_ done: Int, _ total: Int) -> Void)?) throws -> [ReapResult]
    /// The same, with `linkWatch`, begun (`watchLinks()`) before the plan's inventory: a planned
    /// device that the watch saw leave is not taken for another that arrived under its ifindex
    /// and name since.
    func execute(_ plan: ReapPlan, journal: Journal, runID: String, linkWatch: PlanLinkWatch?,
                 progress: ((_ done: Int, _ total: Int) -> Void)?) throws -> [ReapResult]
    /// A watch on the link notifications of this reaper's namespace, to begin before a plan's
    /// inventory; nil where the platform has none, or it cannot be had.
    func watchLinks() -> PlanLinkWatch?
    /// The intent records of this reaper's namespace among `records` that no result answers:
    /// what a reap killed outright left behind, or a reap acting right now.
    func unfinishedIntents(_ records: [JournalRecord]) -> [JournalRecord]
    /// The intents of this reaper's namespace in the newest rotated journal (`Journal.rotated`)
    /// that `repairInterrupted` would repair: a killed run's, whatever state its devices are in,
    /// with no result in `journal` either.
    func unfinishedRotatedIntents(_ journal: Journal) -> [JournalRecord]
    /// Undoes what the reaps behind the journal's unfinished intents of this namespace left on
    /// the devices, whatever was appended after them, journals a result for each, and returns
    /// what became of each device. The caller holds the reaping locks.
    func repairInterrupted(journal: Journal) throws -> [ReapRepair]
    /// The signal (SIGTERM, SIGINT, SIGHUP) that stopped the last `execute` early, or 0.
    var stoppingSignal: Int32 { get }
    /// The neighbour entries made by hand of the devices `items` plans to delete, by ifindex,
    /// for the plan's recreate commands; throws when they cannot be listed.
    func neighboursMadeByHand(of items: [ReapItem]) throws -> [Int: [RecreateCommands.Neighbour]]
    /// What the devices `items` plans to delete have that the recreate commands do not make
    /// again, by ifindex, as the words of `#` lines of those commands; throws when it cannot be read.
    func unrecreated(of items: [ReapItem]) throws -> [Int: [String]]
    /// What the devices `items` plans to delete have beyond their link dump (sysctl files,
    /// neighbour parameters, multicast addresses added by hand), by ifindex, for the plan's
    /// recreate commands; throws when it cannot be read.
    func extraSettings(of items: [ReapItem]) throws -> [Int: DeviceExtraSettings]
    /// Where the recreate commands the reaper journals make the devices again (the namespace it
    /// acts in, by the name `ip -n` is given); nil where its commands name no namespace.
    func recreatePlace() -> RecreatePlace?
    /// What a new device takes in the namespace the recreate commands make the devices again in
    /// (its `net.ipv4.conf.default.*`, `net.ipv6.conf.default.*`), or why it could not be read;
    /// nil on a platform whose commands set no sysctls.
    func namespaceSysctlDefaults() -> NamespaceSysctlDefaults?
}

/// This platform's reaper, as a run from the command line uses it.
enum LiveReaper {
    static func make(namespace: String?) throws -> any PlanReaper {
        #if os(Linux)
        return LinuxReaper(namespaceName: namespace)
        #elseif os(macOS)
        return DarwinPlanReaper(reaper: DarwinReaper(privileged: geteuid() == 0))
        #else
        throw ReapRefusal("reaping this platform's interfaces is not supported yet; nothing was changed")
        #endif
    }
}

extension PlanReaper {
    /// A platform without link notifications carries a plan out on what it sees alone.
    func execute(_ plan: ReapPlan, journal: Journal, runID: String, linkWatch: PlanLinkWatch?,
                 progress: ((_ done: Int, _ total: Int) -> Void)?) throws -> [ReapResult] {
        try execute(plan, journal: journal, runID: runID, progress: progress)
    }

    func watchLinks() -> PlanLinkWatch? { nil }

    /// A reaper that fences nothing leaves nothing for a repair to find after a rotation.
    func unfinishedRotatedIntents(_ journal: Journal) -> [JournalRecord] { [] }

    /// A platform whose devices carry no neighbour entries the reaper gives back has none to list.
    func neighboursMadeByHand(of items: [ReapItem]) throws -> [Int: [RecreateCommands.Neighbour]] { [:] }

    /// A platform whose recreate commands name nothing they leave out has nothing to read.
    func unrecreated(of items: [ReapItem]) throws -> [Int: [String]] { [:] }

    /// A platform whose devices carry nothing beyond their link dump has nothing to read.
    func extraSettings(of items: [ReapItem]) throws -> [Int: DeviceExtraSettings] { [:] }

    /// A reaper whose commands name no namespace gives none.
    func recreatePlace() -> RecreatePlace? { nil }

    /// A platform whose recreate commands set no sysctls reads no defaults.
    func namespaceSysctlDefaults() -> NamespaceSysctlDefaults? { nil }

    /// Whether `journal` (or, after a rotation, the newest rotated journal) holds intents of this
    /// reaper's namespace for `repairInterrupted` to repair; `open`: the journal's open intents.
    func hasSomethingToRepair(_ journal: Journal, open: OpenIntents) -> Bool {
        !unfinishedIntents(open.records).isEmpty || !unfinishedRotatedIntents(journal).isEmpty
    }
}

#if os(Linux)
extension LinuxReaper: PlanReaper {
    var stoppingSignal: Int32 { Self.interruptingSignal }

    func execute(_ plan: ReapPlan, journal: Journal, runID: String, progress: ((_ done: Int, _ total: Int) -> Void)?) throws -> [ReapResult] {
        try execute(plan, journal: journal, runID: runID, linkWatch: nil, progress: progress)
    }
}
#endif

#if os(macOS)
/// The macOS reaper: it runs the system's tools one by one, fences nothing and catches no
/// signal, so a run cut short leaves nothing to repair.
struct DarwinPlanReaper: PlanReaper {
    var reaper: DarwinReaper

    func execute(_ plan: ReapPlan, journal: Journal, runID: String, progress: ((_ done: Int, _ total: Int) -> Void)?) throws -> [ReapResult] {
        try reaper.execute(plan, journal: journal, runID: runID)
    }

    func unfinishedIntents(_ records: [JournalRecord]) -> [JournalRecord] { [] }
    func repairInterrupted(journal: Journal) throws -> [ReapRepair] { [] }
    var stoppingSignal: Int32 { 0 }
}
#endif
