import ArgumentParser
import Foundation
import Storage
import TunwardenCore

/// `tunwarden journal`: what the reaper removed, and how to make it again.
public struct JournalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Show the reap journal: each run, what it removed or skipped, and the commands that recreate each device.",
        usage: "tunwarden journal [<options>]",
        discussion: """
        With --netns NAME (or the configuration's netns) only the runs that acted in that namespace are \
        shown; it need not exist any more. Without it every run is shown, and each run in a named \
        namespace says which.

        A record cut short by a write that did not finish (a full disk, a signal) is reported on standard \
        error with its byte offset and skipped; the rest is shown. Any other line that is not a record \
        makes the journal damaged: nothing is shown and the exit code is 3. reap and watch --reap \
        refuse it too, with the same words, and change nothing: mend the line it names, or move the \
        journal aside and keep it.
        """
    )

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var state: StateDirectoryOption

    @Option(name: .long, help: ArgumentHelp("The journal file (default: journal.jsonl in the state directory).", valueName: "path"))
    public var journal: String?

    @Option(name: .long, help: "Output: table (for people; the default) or json (the records as stored).")
    public var format: ListingFormat?

    public init() {}

    public func validate() throws {
        if state.noState {
            throw ValidationError("--no-state skips observations, and journal reads none: drop --no-state (to read another journal, give --journal PATH)")
        }
        try OptionCheck.path(journal, "--journal")
    }

    public func run() throws {
        let settings = try Settings.load(global, for: .reap)
        let path = settings.text(journal, "journal") ?? settings.stateDirectory(given: state.stateDirectory) + "/journal.jsonl"
        let absence = Journal(path: path).absence()
        if let mistake = misnamed(absence, settings) {
            Terminal.error(mistake)
            throw ExitCode(ExitCode.validationFailure.rawValue)
        }
        var records: [JournalRecord]
        do {
            let contents = try Journal(path: path).contents()
            for torn in contents.torn { Terminal.warning("\(torn)") }
            records = contents.records
        } catch let error as StorageError where error.isPermission {
            Terminal.error(StateDirectoryOption.refusal(error, command: "journal"))
            throw ExitCode(AuditStatus.unknown.exitCode)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(AuditStatus.unknown.exitCode)
        }
        let namespace = settings.namespace(global)
        if let namespace {
            let all = records
            records = records.filter { $0.netns == namespace }
            if records.isEmpty, all.count > 0, format != .json {
                Terminal.write("The journal at \(path) has no run in namespace \(namespace); \(Self.elsewhere(all)).\n")
                return
            }
        }
        if format == .json {
            Terminal.write(JournalRecord.json(records, pretty: Terminal.isTerminal) + [10])
            return
        }
        guard !records.isEmpty else {
            Terminal.write(absence == nil ? "The journal at \(path) is empty: nothing has been reaped since it was created or rotated.\n"
                                          : "There is no journal at \(path) yet: nothing has been reaped with it.\n")
            return
        }
        Terminal.write(Self.render(records))
    }

    /// The usage error for a journal path typed on the command line (`--journal`, or `--state-dir`
    /// when it decides the path) whose directory does not exist: a mistyped path, not a journal
    /// that no reap has written yet. Nil for a path from the configuration file or the default,
    /// whose directory a first reap creates.
    func misnamed(_ absence: Journal.Absence?, _ settings: Settings) -> String? {
        let option: (name: String, value: String)
        if let journal {
            option = ("--journal", journal)
        } else if let directory = state.stateDirectory, settings.text(nil, "journal") == nil {
            option = ("--state-dir", directory)
        } else {
            return nil
        }
        let problem: String
        switch absence {
        case let .noDirectory(directory)?: problem = "the directory \(directory) does not exist"
        case let .notADirectory(directory)?: problem = "\(directory) is not a directory"
        case .noFile?, nil: return nil
        }
        return "\(option.name) \(option.value): \(problem), so no reap has written a journal there; give the \(option.name) that reap was given"
    }

    /// What the journal holds, in the units a person counts: runs and the devices they named (a
    /// device has an intent and a result record, which are the journal's business, not theirs).
    /// "its 1 run, on 1 device, was in another namespace".
    static func elsewhere(_ records: [JournalRecord]) -> String {
        let runs = Set(records.map(\.run)).count
        let devices = Set(records.map { "\($0.run) \($0.ifindex)" }).count
        let counted = "its \(runs) run\(runs == 1 ? "" : "s"), on \(devices) device\(devices == 1 ? "" : "s")"
        return counted + (runs == 1 ? ", was in another namespace" : ", were in other namespaces")
    }

    /// Runs in order, each with its devices, their outcome and their recreate commands.
    static func render(_ records: [JournalRecord]) -> String {
        var runs: [String] = []
        var byRun: [String: [JournalRecord]] = [:]
        for record in records {
            if byRun[record.run] == nil { runs.append(record.run) }
            byRun[record.run, default: []].append(record)
        }
        var text = ""
        for run in runs {
            let entries = byRun[run] ?? []
            let intents = entries.filter { $0.type == .intent }
            let results = Dictionary(entries.filter { $0.type == .result }.map { ($0.ifindex, $0) }, uniquingKeysWith: { _, last in last })
            let started = entries.first.map { Timestamp.format($0.time) } ?? "?"
            let namespace = entries.first?.netns.map { ", namespace \($0)" } ?? ""
            let deleted = results.values.count { $0.result == .deleted }
            // Of every device the run named: its intents, and results without one (a repair's, or
            // a device it deleted without planning it, counted apart).
            let indices = intents.map(\.ifindex) + results.keys.filter { index in !intents.contains { $0.ifindex == index } }.sorted()
            let unplanned = indices.filter { results[$0]?.unplanned == true }
            text += "Run \(run.prefix(8)) at \(started)\(namespace): \(deleted) deleted of \(indices.count - unplanned.count)"
            if !unplanned.isEmpty {
                text += "; also deleted \(unplanned.count) device\(unplanned.count == 1 ? "" : "s") not planned, a failure"
            }
            text += "\n"
            for index in indices {
                let intent = intents.first { $0.ifindex == index }
                let result = results[index]
                let name = intent?.ifname ?? result?.ifname ?? "?"
                let kind = intent?.prior?.kind.rawValue ?? result?.kind ?? "device"
                let outcome = result?.result?.rawValue ?? "interrupted (no result recorded)"
                text += "  \(outcome.count < 8 ? outcome.padding(toLength: 8, withPad: " ", startingAt: 0) : outcome) \(kind) \(name) (ifindex \(index))"
                if let detail = result?.detail { text += ": \(detail)" }
                text += "\n"
                if let commands = intent?.recreate, result?.result != .skipped {
                    for command in commands { text += "           \(command)\n" }
                }
            }
        }
        return text
    }
}
