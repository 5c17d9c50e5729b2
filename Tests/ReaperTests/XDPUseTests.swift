#if os(Linux)
import Foundation
import Testing
import TestSupport

/// Two ways a live process uses a tap with no tun descriptor, through XDP: a program attached to
/// it by a bpf_link the process holds, and an AF_XDP socket bound to it. Neither shows in a holder
/// scan, and deleting the tap detaches the program or leaves the socket bound to nothing. Tested
/// against the real kernel as root in a throwaway namespace; a kernel that refuses bpf(2) or
/// AF_XDP here leaves the case untested (the script says so instead of "ready").
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct XDPUseTests {
    /// Holds an XDP program (XDP_PASS) on the device named by the first argument through a
    /// bpf_link ("link"), or an AF_XDP socket bound to its queue 0 ("xsk"); prints "ready", or
    /// "nobpf" when the kernel refuses.
    static let holder = BPFScript.prelude + """
    import mmap, socket, sys, time
    name, mode = sys.argv[1], sys.argv[2]
    index = socket.if_nametoindex(name)
    keep = []
    try:
        if mode == "link":
            code = ctypes.create_string_buffer(bytes.fromhex("b7000000020000009500000000000000"))
            licence = ctypes.create_string_buffer(b"GPL")
            program = bpf(5, struct.pack("IIQQIIQII16sII", 6, 2, ctypes.addressof(code), ctypes.addressof(licence), 0, 0, 0, 0, 0, b"twxdp", 0, 37))
            keep.append(bpf(28, struct.pack("IIII", program, index, 37, 0)))
        else:
            xsk = socket.socket(44, socket.SOCK_RAW, 0)
            area = mmap.mmap(-1, 4096 * 64)
            start = ctypes.addressof(ctypes.c_char.from_buffer(area))
            xsk.setsockopt(283, 4, struct.pack("QQIIII", start, 4096 * 64, 4096, 0, 0, 0))
            for option in (5, 6, 2): xsk.setsockopt(283, option, struct.pack("I", 64))
            address = ctypes.create_string_buffer(struct.pack("HHIII", 44, 2, index, 0, 0))
            if libc.bind(xsk.fileno(), address, 16) < 0: raise OSError(ctypes.get_errno(), "bind")
            keep += [xsk, area]
    except OSError:
        sys.stdout.write("nobpf\\n")
        sys.stdout.flush()
        sys.exit(0)
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)
    """

    /// The holder started, or nil when this kernel refuses what it needs (said on standard
    /// error: the case is then untested here).
    static func start(_ ns: TestNamespace, _ device: String, _ mode: String) throws -> Process? {
        do {
            return try ns.python(holder, [device, mode])
        } catch let error as ShellError where error.output.hasPrefix("nobpf") {
            FileHandle.standardError.write(Data("XDPUseTests: this kernel refuses \(mode == "link" ? "bpf(2)" : "AF_XDP"); the case is not tested here\n".utf8))
            return nil
        }
    }

    func verdict(_ ns: TestNamespace, _ device: String) throws -> (state: String?, reason: String?) {
        let entries = try ns.auditedInterfaces()
        let entry = entries.first { $0["ifname"] as? String == device }
        return (entry?["state"] as? String, entry?["state_reason"] as? String)
    }

    /// A tap with an XDP program attached is configured to carry traffic: suspect, and kept; once
    /// the process holding the link is gone, the program goes with it and the tap is an orphan.
    @Test func aTapWithAnXDPProgramAttachedIsKept() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "xdp0", "mode", "tap")
        guard let holder = try Self.start(ns, "xdp0", "link") else { return }
        let (stateName, reason) = try verdict(ns, "xdp0")
        #expect(stateName == "suspect" && reason?.contains("an XDP program (id ") == true, "\(stateName ?? "-"): \(reason ?? "-")")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try ns.ip("link", "show", "dev", "xdp0").contains("xdp0"))
        ns.release(holder)
        #expect(try verdict(ns, "xdp0").state == "orphaned")
    }

    /// A tap an AF_XDP socket is bound to is used: suspect where the kernel says which device each
    /// AF_XDP socket uses; where it cannot (no xsk_diag), every unheld tap is unknown while such a
    /// socket is open in the namespace, so no plan holds it.
    @Test func aTapAnAFXDPSocketIsBoundToIsKept() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "xsk0", "mode", "tap")
        try ns.ip("link", "set", "xsk0", "up")
        guard let holder = try Self.start(ns, "xsk0", "xsk") else { return }
        let (stateName, reason) = try verdict(ns, "xsk0")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        if stateName == "suspect" {
            #expect(reason?.contains("AF_XDP") == true, "\(reason ?? "-")")
            #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        } else {
            // The kernel cannot tell which device the socket uses: the audit says the tap may be
            // used, and no plan holds it (the last look would refuse too).
            #expect(stateName == "unknown" && reason?.contains("AF_XDP socket is open in the namespace") == true, "\(stateName ?? "-"): \(reason ?? "-")")
            #expect(result.status == 0 && result.stdout.contains("Nothing to reap") && result.stdout.contains("is unknown") && !result.stdout.contains("Deleted"),
                    "not planned: stdout: \(result.stdout)\nstderr: \(result.stderr)")
        }
        #expect(try ns.ip("link", "show", "dev", "xsk0").contains("xsk0"), "stdout: \(result.stdout)")
        ns.release(holder)
        #expect(try verdict(ns, "xsk0").state == "orphaned")
        let after = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(after.status == 0 && after.stdout.contains("Deleted tap xsk0"), "stdout: \(after.stdout)\nstderr: \(after.stderr)")
    }
}
#endif
