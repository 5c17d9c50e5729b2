import Foundation

extension Heuristics {
    /// Why BPF programs traffic control runs on a device through tcx (`programs`, each in words:
    /// `HolderScan.tcPrograms`) tie it to something, in words (nil when none are attached): a
    /// process holding the program's bpf_link, or someone who attached it, set it up to process
    /// the device's packets; deleting the device detaches it for good, since a device made again
    /// under the same name gets no program. The reaper's last look says it the same way (`now`:
    /// attached since the plan).
    public static func tcProgramReason(_ programs: [String], now: Bool = false) -> String? {
        guard let named = firstAndMore(programs) else { return nil }
        return "tc BPF \(named) \(programs.count == 1 ? "is" : "are") \(now ? "now " : "")attached to it through tcx (`bpftool net` names who attached "
            + "\(programs.count == 1 ? "it" : "them")): set up to process its packets, and deleting it detaches \(programs.count == 1 ? "the program" : "them"), "
            + "leaving a process's bpf_link defunct"
    }
}
