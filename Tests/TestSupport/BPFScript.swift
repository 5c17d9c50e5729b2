/// Python that scripts in the kernel tests begin with to call bpf(2) through ctypes, for tests
/// that load and attach BPF programs the way Cilium, libbpf or an XDP daemon would.
public enum BPFScript {
    /// Defines `libc` (with errno) and `bpf(command, attr)`, which passes `attr` (bytes, padded
    /// to 256) to bpf(2) and returns its result or raises OSError with the kernel's errno. The
    /// call's number is this machine's; on an architecture not listed every call raises ENOSYS,
    /// which the scripts report as a kernel that refuses.
    public static let prelude = """
    import ctypes, os, struct
    libc = ctypes.CDLL(None, use_errno=True)
    BPF_NUMBER = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351}.get(os.uname().machine)
    def bpf(command, attr):
        if BPF_NUMBER is None: raise OSError(38, "bpf(2) number unknown here")
        buffer = ctypes.create_string_buffer(attr, 256)
        result = libc.syscall(BPF_NUMBER, command, buffer, 256)
        if result < 0: raise OSError(ctypes.get_errno(), "bpf")
        return result

    """
}
