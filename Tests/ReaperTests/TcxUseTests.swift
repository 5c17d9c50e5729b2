#if os(Linux)
import Foundation
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// A tc BPF program attached to a tap through tcx (Linux 6.6 and later): by a bpf_link a live
/// process holds, as Cilium and libbpf attach per-endpoint programs, or by BPF_PROG_ATTACH, which
/// leaves it in the device. Neither shows in a holder scan, the link dump or the qdiscs, and
/// deleting the tap detaches the program for good. Tested against the real kernel as root in a
/// throwaway namespace; a kernel without tcx leaves the case untested (said on standard error).
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct TcxUseTests {
    /// Loads a tc program (return 0, "pass") and attaches it to the ingress of the device named
    /// by the first argument through tcx: by a bpf_link it holds ("link"), or by BPF_PROG_ATTACH
    /// ("attach", which stays once it exits); prints "ready", or "nobpf" when the kernel refuses.
    static let holder = BPFScript.prelude + """
    import socket, sys, time
    name, mode = sys.argv[1], sys.argv[2]
    try:
        index = socket.if_nametoindex(name)
        code = ctypes.create_string_buffer(bytes.fromhex("b7000000000000009500000000000000"))
        licence = ctypes.create_string_buffer(b"GPL")
        program = bpf(5, struct.pack("IIQQIIQII16sII", 3, 2, ctypes.addressof(code), ctypes.addressof(licence), 0, 0, 0, 0, 0, b"twtcx", 0, 0))
        if mode == "link":
            link = bpf(28, struct.pack("IIII", program, index, 46, 0))
        else:
            bpf(8, struct.pack("IIIII", index, program, 46, 0, 0))
    except OSError:
        sys.stdout.write("nobpf\\n")
        sys.stdout.flush()
        sys.exit(0)
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)
    """

    /// The holder started, or nil when this kernel refuses tcx (said on standard error).
    static func start(_ ns: TestNamespace, _ device: String, _ mode: String, test: String = #function) throws -> Process? {
        do {
            return try ns.python(holder, [device, mode])
        } catch let error as ShellError where error.output.hasPrefix("nobpf") {
            FileHandle.standardError.write(Data("\(test): this kernel refuses a tcx attachment; the case is not tested here\n".utf8))
            return nil
        }
    }

    /// A tap with a tc program attached through tcx, by a live process's bpf_link or left in the
    /// device by BPF_PROG_ATTACH, is suspect and kept by the reap, which deletes the tap beside
    /// it; once the process holding the link is gone, the program goes with it and the tap is an
    /// orphan again.
    @Test func aTapWithATcxProgramAttachedIsKept() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for device in ["tcxl0", "tcxa0", "tcxf0"] { try ns.ip("tuntap", "add", "dev", device, "mode", "tap") }
        // Started and gone first: what it attached stays in the device.
        let attacher = try Self.start(ns, "tcxa0", "attach")
        if let attacher { ns.release(attacher) }
        guard let holder = try Self.start(ns, "tcxl0", "link") else { return }
        let verdicts = try ns.auditedVerdicts()
        #expect(verdicts["tcxl0"]?.state == "suspect", "\(verdicts)")
        #expect(verdicts["tcxl0"]?.reason.contains("(ingress, bpf_link ") == true && verdicts["tcxl0"]?.reason.contains("attached to it through tcx") == true, "\(verdicts)")
        if attacher != nil {
            #expect(verdicts["tcxa0"]?.state == "suspect" && verdicts["tcxa0"]?.reason.contains("(ingress, attached without a bpf_link)") == true, "\(verdicts)")
        }
        #expect(verdicts["tcxf0"]?.state == "orphaned", "\(verdicts)")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0 && result.stdout.contains("Deleted tap tcxf0"), "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try ns.ip("link", "show", "dev", "tcxl0").contains("tcxl0"), "stdout: \(result.stdout)")
        #expect(try ns.ip("link", "show", "dev", "tcxa0").contains("tcxa0"), "stdout: \(result.stdout)")
        ns.release(holder)
        #expect(try ns.auditedVerdicts()["tcxl0"]?.state == "orphaned")
    }

    /// The last look before deleting: a tcx program attached to a target after the plan, by a
    /// process that holds its bpf_link, keeps it; the target beside it is deleted.
    @Test func aTcxProgramAttachedAfterThePlanKeepsTheTarget() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for device in ["tcxn0", "tcxn1"] { try ns.ip("tuntap", "add", "dev", device, "mode", "tap") }
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(Set(plan.items.map(\.ifname)) == ["tcxn0", "tcxn1"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        let holder = Locked<Process?>(nil)
        let refused = Locked(false)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            do {
                let started = try Self.start(ns, "tcxn0", "link")
                holder.mutate { $0 = started }
                refused.mutate { $0 = started == nil }
            } catch {
                Issue.record("the holder did not start: \(error)")
            }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "tcx")
        let process = holder.value
        defer { if let process { ns.release(process) } }
        guard !refused.value else { return }
        let outcome = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(outcome["tcxn0"]?.outcome == .skipped && outcome["tcxn0"]?.detail?.contains("now attached to it through tcx") == true, "\(results)")
        #expect(outcome["tcxn1"]?.outcome == .deleted, "\(results)")
        #expect(try ns.ip("link", "show", "dev", "tcxn0").contains("tcxn0"))
    }
}
#endif
