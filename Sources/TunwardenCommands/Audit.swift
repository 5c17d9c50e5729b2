import ArgumentParser
import Foundation
import Storage
import TunwardenCore

/// How a report is printed.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json, nagios
}

/// `tunwarden audit`: one inventory, judged once, printed for people or programs.
public struct Audit: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Inventory tunnel interfaces and their routes, and report what is orphaned, leaking or dangerous.",
        discussion: """
        Each tunnel-style interface (tun, tap, veth, vxlan, geneve, gre, gretap, ipip, sit, ip6tnl, ip6gre, \
        vti, xfrm, wireguard) gets a state:
          live      something uses it (a holder, an attached queue, or a kernel-owned tunnel)
          orphaned  persistent, no queue attached, and no process holds it
          suspect   looks abandoned but cannot be proven so (a veth whose peer is gone)
          unknown   cannot be judged (holders unreadable: run as root)

        On macOS (or for a capture from one, with --from) utun and feth interfaces are judged too.

        Findings: orphaned-tun, dead-tunnel-route, split-default, tunnel-count, holder-unknown, \
        holder-in-other-netns, carrier-without-holder, veth-peer-missing, veth-peer-netns-empty, \
        utun-hoard, orphaned-feth, capture-missing. The JSON schema is in README.md.

        Without root, holders of other users' processes cannot be read; tunwarden then calls nothing \
        orphaned and exits 3 (unknown) unless something is worse.
        """
    )

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var state: StateOptions

    @Option(name: .long, help: "Output: table (for people), json (for programs), nagios (one plugin line).")
    public var format: OutputFormat = .table

    @Option(name: .long, help: ArgumentHelp("Tunnel-style interfaces at which the count is critical.", valueName: "n"))
    public var limit: Int = 95

    @Option(name: .long, help: ArgumentHelp("Count from which the count is a warning (default: 80% of --limit).", valueName: "n"))
    public var warn: Int?

    @Flag(name: .long, help: "Also list interfaces that are not tunnels (as context).")
    public var all = false

    @Option(name: .long, help: ArgumentHelp(
        "Audit a captured macOS snapshot instead of this system: a directory of ifconfig.txt, netstat.txt, lsof.txt, ps.txt.",
        discussion: "Missing files are reported as unknown, never guessed. Works on any OS. Capture with `tunwarden snapshot DIR` on the Mac.",
        valueName: "dir"))
    public var from: String?

    public init() {}

    public func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1 (got \(limit))") }
        if let warn {
            guard warn >= 1, warn <= limit else {
                throw ValidationError("--warn must be between 1 and --limit (\(limit)); got \(warn)")
            }
        }
        if from != nil, global.netns != nil { throw ValidationError("--from audits a captured snapshot; --netns makes no sense with it") }
    }

    public func run() throws {
        let policy = AuditPolicy(limit: limit, warnAt: warn)
        let snapshot: Snapshot
        do {
            snapshot = try Backends.select(from: from, namespace: global.netns).snapshot()
        } catch {
            let reason = "\(error)"
            switch format {
            case .nagios: print(NagiosLine.unknown(reason))
            case .json: print(#"{"version":1,"status":"unknown","error":\#(JSONWriter.string(reason))}"#)
            case .table: break
            }
            Terminal.error(reason)
            throw ExitCode(AuditStatus.unknown.exitCode)
        }
        let assessment = Heuristics.assess(snapshot, policy: policy)
        // A captured snapshot is a look at another machine: it is not added to this one's observations.
        let observations = state.noState || from != nil ? nil : Self.observe(assessment, store: state.store)
        switch format {
        case .table:
            Terminal.write(AuditTable.render(assessment, includeContext: all, color: Terminal.colorEnabled, observations: observations))
        case .json:
            for segment in try AuditReport(assessment, includeContext: all, observations: observations).jsonSegments(pretty: Terminal.isTerminal) {
                Terminal.write(segment)
            }
            Terminal.write("\n")
        case .nagios:
            Terminal.write(NagiosLine.render(assessment) + "\n")
        }
        Terminal.exit(assessment.status.exitCode)
    }
}

extension Audit {
    /// Adds this assessment to the observations and saves them. A state file that cannot be read
    /// is left as it is and the audit goes on without ages; one that cannot be written is reported.
    static func observe(_ assessment: Assessment, store: StateStore) -> Observations? {
        var observations: Observations
        do {
            observations = try store.load()
        } catch {
            Terminal.note("observations not used: \(error)")
            return nil
        }
        observations.record(assessment, namespace: assessment.snapshot.namespaceIdentity, at: assessment.snapshot.takenAt)
        do {
            try store.save(observations)
        } catch {
            Terminal.note("observations not saved: \(error)")
        }
        return observations
    }
}
