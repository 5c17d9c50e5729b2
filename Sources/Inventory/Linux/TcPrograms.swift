#if os(Linux)
import CLinuxShims
import Glibc
import Netlink
import TunwardenCore

/// BPF programs that traffic control runs on a device through tcx (Linux 6.6 and later: what
/// Cilium and libbpf 1.3 and later attach, `bpftool net attach tcx_ingress`): set up to process
/// that device's packets, by a process holding the bpf_link or by BPF_PROG_ATTACH. Deleting the
/// device detaches the program and leaves the link defunct: a device made again under its name
/// gets no program. Neither the link dump nor the qdiscs show them (tcx needs no clsact), so the
/// kernel is asked device by device (BPF_PROG_QUERY, as `bpftool net` does), in the namespace the
/// device is in, since an ifindex names a device only there.
///
/// The question costs two system calls per device; it is asked only when a program of a type
/// traffic control can run is loaded anywhere on the machine (one walk over the loaded
/// programs' ids), since without one no device has any attached.
///
/// Not looked for: a program attached through a netkit device (only netkit devices take them,
/// and no tun/tap is one), the classic `tc filter … bpf` (cls_bpf) and `action bpf` (act_bpf),
/// which live in a clsact or ingress qdisc's filters, and a devmap entry through which an XDP
/// program elsewhere redirects packets into the device.
public enum TcPrograms {
    /// The tcx programs attached to each of `indices` in the namespace behind `namespaceFD` (nil:
    /// this thread's own), each in words (`program 42 (ingress, bpf_link 7)`); devices with none
    /// are left out. `Unreadable` when the loaded programs cannot be listed or a device cannot be
    /// asked (without CAP_SYS_ADMIN and CAP_NET_ADMIN): then any of them may have one.
    public static func attached(to indices: [Int], namespaceFD: Int32?) -> Result<[Int: [String]], SocketUse.Unreadable> {
        guard !indices.isEmpty else { return .success([:]) }
        var loaded: Int32 = 0
        switch tw_bpf_tc_programs_loaded(&loaded) {
        case 0: if loaded == 0 { return .success([:]) }
        case ENOSYS: return .success([:])
        case let code:
            return .failure(SocketUse.Unreadable(description: "the loaded BPF programs cannot be listed (\(Sys.describe(code))), so whether a tc program is attached through tcx cannot be known"))
        }
        do {
            return try NamespaceThread.run(in: namespaceFD) { () -> Result<[Int: [String]], SocketUse.Unreadable> in
                var found: [Int: [String]] = [:]
                for index in indices {
                    for egress in [false, true] {
                        switch query(index, egress: egress) {
                        case let .success(programs): if !programs.isEmpty { found[index, default: []] += programs }
                        case let .failure(problem): return .failure(problem)
                        }
                    }
                }
                return .success(found)
            }
        } catch {
            return .failure(SocketUse.Unreadable(description: "the namespace cannot be entered to ask which tc programs are attached through tcx: \(error)"))
        }
    }

    /// The tcx programs on one direction of the device with this ifindex in the calling thread's
    /// namespace, in words; none for a device that is gone or a kernel without tcx.
    static func query(_ index: Int, egress: Bool) -> Result<[String], SocketUse.Unreadable> {
        var room = 64
        while true {
            var programs = [UInt32](repeating: 0, count: room), links = [UInt32](repeating: 0, count: room)
            var count = UInt32(room)
            let code = tw_bpf_tcx_query(Int32(index), egress ? 1 : 0, &programs, &links, &count)
            switch code {
            case 0:
                let direction = egress ? "egress" : "ingress"
                return .success((0..<min(Int(count), room)).map { position in
                    "program \(programs[position]) (\(direction)\(links[position] == 0 ? ", attached without a bpf_link" : ", bpf_link \(links[position])"))"
                })
            case ENOSPC where Int(count) > room && room < 65536: room = Int(count)
            case ENODEV, EINVAL: return .success([])
            default:
                return .failure(SocketUse.Unreadable(description: "the kernel could not be asked which tc programs are attached through tcx to ifindex \(index) (\(Sys.describe(code)))"))
            }
        }
    }
}
#endif
