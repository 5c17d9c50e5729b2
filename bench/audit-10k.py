#!/usr/bin/env python3
"""Benchmark: a whole `tunwarden audit` against iproute2, on 10,000 tun devices.

Makes a throwaway network namespace holding N persistent tun devices (some held by a process,
some with addresses and routes), then times, in the same run and interleaved, whole processes:
  tunwarden --netns NS audit --format json   (links, addresses, routes, holders, findings, JSON)
  tunwarden --netns NS audit                 (as people type it: the table, keeping observations)
  tunwarden --netns NS audit --format nagios --textfile F
                                             (as the packaged hourly timer runs it, keeping observations)
  ip -n NS -j -d link show                   (a link dump alone)
  ip netns exec NS ip tuntap show            (a link dump, then three sysfs reads per tun device)
and prints the median wall time and peak RSS of each, and the ratios. Beside them it times the
floor no rtnetlink tool can go under: the kernel's link dump alone, from the minimal C client in
bench/linkdump-floor.c (built with the system's C compiler; skipped without one), and tunwarden's
own start-up (`--version`); their sum against the 5x line says whether that target can be met on
this machine at all. A second floor, bench/audit-floor.c, makes every kernel read the audit's proof
needs (links, addresses, routes, sockets, multicast memberships, every process's descriptors) on
two threads as tunwarden does, and nothing else: what is left between it and the 0.7x line is all
the time decoding, judging and writing JSON can have. The namespace and its holder are removed at the end, whatever happens. Needs
root. Touches nothing outside the namespace.

Usage: sudo python3 bench/audit-10k.py [--devices N] [--addressed N] [--split-defaults N] [--runs R] [--binary PATH] [--also PATH]... [--show-runs]
"""
import argparse, os, resource, shutil, signal, statistics, subprocess, sys, tempfile, time
import shipped

parser = argparse.ArgumentParser()
parser.add_argument("--devices", type=int, default=10000)
parser.add_argument("--held", type=int, default=100, help="devices attached by a holder process")
parser.add_argument("--addressed", type=int, default=200,
                    help="devices set up with an address (each a /24 route into a dead tunnel): raise it to see how judging scales with dead routes")
parser.add_argument("--split-defaults", type=int, default=0,
                    help="devices given 0.0.0.0/1 and 128.0.0.0/1, each pair at a metric of its own, as leaked VPN tunnels leave them: raise it to see how judging scales with devices that each could capture default traffic")
parser.add_argument("--runs", type=int, default=7)
parser.add_argument("--binary", help="the tunwarden to measure (default: build the shipped configuration)")
parser.add_argument("--also", action="append", default=[], metavar="PATH",
                    help="another tunwarden binary to time in the same run, interleaved (repeatable): an A/B comparison")
parser.add_argument("--show-runs", action="store_true", help="print every run's time, not only the median and minimum")
args = parser.parse_args()

if os.geteuid() != 0:
    sys.exit("bench/audit-10k.py: run as root (it makes a throwaway network namespace)")
binary = shipped.binary(args.binary, "bench/audit-10k.py")
also = [shipped.binary(path, "bench/audit-10k.py") for path in args.also]


def build_floor(name):
    """Compiles bench/NAME.c into a temporary directory; returns its path, or None (with a
    message) where there is no C compiler or the build fails."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not compiler:
        print(f"bench/audit-10k.py: no C compiler; the floor of bench/{name}.c is not measured", file=sys.stderr)
        return None
    out = os.path.join(tempfile.mkdtemp(prefix="tunwarden-floor-"), name)
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.c")
    if subprocess.run([compiler, "-O2", "-o", out, source, "-lpthread"]).returncode != 0:
        print(f"bench/audit-10k.py: bench/{name}.c did not build; its floor is not measured", file=sys.stderr)
        shutil.rmtree(os.path.dirname(out), ignore_errors=True)
        return None
    return out


NS = f"twbench-{os.getpid()}"
HOLDER = r"""
import fcntl, os, struct, sys, time
for name in sys.argv[1:]:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(3600)
"""

def measure(argv):
    """Runs argv once; returns (seconds, peak RSS in MiB, exit status)."""
    start = time.perf_counter()
    # Standard error to /dev/null, not an unread pipe: a full pipe would stall the process.
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024.0, proc.returncode

holder = None
floor = None
audit_floor = None
also_states = {}
subprocess.run(["ip", "netns", "add", NS], check=True)
try:
    floor = build_floor("linkdump-floor")
    audit_floor = build_floor("audit-floor")
    t0 = time.perf_counter()
    batch = "".join(f"tuntap add dev bt{i} mode tun\n" for i in range(args.devices))
    subprocess.run(["ip", "-n", NS, "-batch", "-"], input=batch.encode(), check=True)
    # A few devices up with addresses and routes, so the address and route dumps carry something.
    extra = "".join(f"link set bt{i} up\naddr add 10.{i // 250 % 256}.{i % 250}.1/24 dev bt{i}\n" for i in range(0, min(args.addressed, args.devices, 64000)))
    subprocess.run(["ip", "-n", NS, "-batch", "-"], input=extra.encode(), check=True)
    # Leaked VPN tunnels, each with its split default (OpenVPN's def1, wg-quick's 0/1 + 128/1).
    split = "".join(f"link set bt{i} up\nroute add 0.0.0.0/1 dev bt{i} metric {i + 1}\nroute add 128.0.0.0/1 dev bt{i} metric {i + 1}\n"
                    for i in range(min(args.split_defaults, args.devices)))
    if split:
        subprocess.run(["ip", "-n", NS, "-batch", "-"], input=split.encode(), check=True)
    held = [f"bt{i}" for i in range(args.devices - args.held, args.devices)]
    holder = subprocess.Popen(["ip", "netns", "exec", NS, "python3", "-c", HOLDER] + held, stdout=subprocess.PIPE)
    assert holder.stdout.readline() == b"ready\n"
    print(f"setup: {args.devices} tun devices ({args.held} held) in {NS} in {time.perf_counter() - t0:.1f} s")

    # Side by side with iproute2, which keeps no state: --no-state. The run that also keeps
    # tunwarden's observations (as a timer job does) is measured on its own line, with its state
    # in a temporary directory, never the host's /var/lib/tunwarden.
    state = tempfile.mkdtemp(prefix="tunwarden-bench-")
    also_states.update({path: tempfile.mkdtemp(prefix="tunwarden-bench-") for path in also})
    # `tunwarden audit` with no options, as people type it: the text table, keeping observations.
    text_state = tempfile.mkdtemp(prefix="tunwarden-bench-")
    also_states.update({(path, "text"): tempfile.mkdtemp(prefix="tunwarden-bench-") for path in also})
    # What packaging/systemd/tunwarden-audit.service runs every hour: one Nagios line and the
    # textfile metrics, keeping observations.
    timer_state = tempfile.mkdtemp(prefix="tunwarden-bench-")
    also_states.update({(path, "timer"): tempfile.mkdtemp(prefix="tunwarden-bench-") for path in also})
    def timer(path, directory):
        return [path, "--netns", NS, "audit", "--state-dir", directory, "--format", "nagios", "--textfile", os.path.join(directory, "t.prom")]
    commands = {
        "tunwarden audit --format json": [binary, "--netns", NS, "audit", "--no-state", "--format", "json"],
        "  (same, keeping observations)": [binary, "--netns", NS, "audit", "--state-dir", state, "--format", "json"],
        **{f"  (also {path})": [path, "--netns", NS, "audit", "--no-state", "--format", "json"] for path in also},
        # Each other binary keeps its observations in a directory of its own (formats differ).
        **{f"  (also {path}, keeping observations)": [path, "--netns", NS, "audit", "--state-dir", also_states[path],
                                                      "--format", "json"] for path in also},
        "tunwarden audit (as typed: text)": [binary, "--netns", NS, "audit", "--state-dir", text_state],
        **{f"  (also {path}, as typed)": [path, "--netns", NS, "audit", "--state-dir", also_states[(path, "text")]] for path in also},
        "tunwarden audit (as the timer runs it)": timer(binary, timer_state),
        **{f"  (also {path}, as the timer)": timer(path, also_states[(path, "timer")]) for path in also},
        "ip -j -d link show": ["ip", "-n", NS, "-j", "-d", "link", "show"],
        "ip tuntap show": ["ip", "netns", "exec", NS, "ip", "tuntap", "show"],
    }
    if floor:
        commands["floor: link dump alone (C)"] = [floor, f"/run/netns/{NS}"]
        commands["floor: tunwarden --version"] = [binary, "--version"]
    if audit_floor:
        commands["floor: every read of the audit (C)"] = [audit_floor, f"/run/netns/{NS}"]
    results = {name: [] for name in commands}
    for name, argv in commands.items():  # one warm-up each
        measure(argv)
    for _ in range(args.runs):
        for name, argv in commands.items():
            results[name].append(measure(argv))

    print(f"\n{'command':34} {'median ms':>10} {'min ms':>8} {'peak RSS MiB':>13}  exit")
    medians = {}
    for name, runs in results.items():
        times = [r[0] * 1000 for r in runs]
        medians[name] = statistics.median(times)
        print(f"{name:34} {medians[name]:10.1f} {min(times):8.1f} {max(r[1] for r in runs):13.1f}  {sorted({r[2] for r in runs})}")
        if args.show_runs:
            print("   ", " ".join(f"{t:.1f}" for t in times))
    # The kernel counts a child's peak from before its exec too, when it was this Python.
    spawn_rss = measure(["true"])[1]
    print(f"(a peak RSS of {spawn_rss:.1f} MiB or less is the spawning Python's own: the command used no more than that)")
    tw = medians["tunwarden audit --format json"]
    print(f"\ntunwarden --no-state / ip -j -d link show: {tw / medians['ip -j -d link show']:.2f}x  (target <= 0.7)")
    kept = medians["  (same, keeping observations)"]
    print(f"tunwarden keeping observations / ip -j -d link show: {kept / medians['ip -j -d link show']:.2f}x  (target <= 1.0)")
    typed = medians["tunwarden audit (as typed: text)"]
    print(f"tunwarden audit as typed (text, keeping observations) / ip -j -d link show: {typed / medians['ip -j -d link show']:.2f}x  (target <= 1.0)")
    timed = medians["tunwarden audit (as the timer runs it)"]
    print(f"tunwarden audit as the timer runs it (nagios, textfile, keeping observations) / ip -j -d link show: "
          f"{timed / medians['ip -j -d link show']:.2f}x  (target <= 1.0)")
    for path in also:
        print(f"  (also {path}): --no-state {medians[f'  (also {path})'] / medians['ip -j -d link show']:.2f}x, "
              f"keeping observations {medians[f'  (also {path}, keeping observations)'] / medians['ip -j -d link show']:.2f}x, "
              f"as typed {medians[f'  (also {path}, as typed)'] / medians['ip -j -d link show']:.2f}x, "
              f"as the timer {medians[f'  (also {path}, as the timer)'] / medians['ip -j -d link show']:.2f}x")
    print(f"ip tuntap show / tunwarden:     {medians['ip tuntap show'] / tw:.2f}x  (target >= 5)")
    rss = max(r[1] for r in results["tunwarden audit --format json"])
    print(f"tunwarden peak RSS:             {rss:.1f} MiB (target < 64)")
    if floor:
        dump, start = medians["floor: link dump alone (C)"], medians["floor: tunwarden --version"]
        line = medians["ip tuntap show"] / 5
        print(f"ip tuntap show / link dump alone: {medians['ip tuntap show'] / dump:.2f}x  (the most any rtnetlink tool could reach)")
        print(f"5x line (ip tuntap show / 5):   {line:.1f} ms")
        print(f"floor (dump alone + start-up):  {dump + start:.1f} ms  "
              + ("(above the 5x line: the target cannot be met in this run)" if dump + start > line
                 else f"(leaves {line - dump - start:.1f} ms for addresses, routes, holders, decoding, judging and JSON)"))
    if audit_floor and floor:
        reads, start = medians["floor: every read of the audit (C)"], medians["floor: tunwarden --version"]
        target = 0.7 * medians["ip -j -d link show"]
        print(f"floor (every read of the audit, two threads, + start-up): {reads + start:.1f} ms = "
              f"{(reads + start) / medians['ip -j -d link show']:.2f}x of ip -j -d link show; "
              + (f"leaves {target - reads - start:.1f} ms of the 0.7x line ({target:.1f} ms) for decoding, judging and JSON, "
                 f"on {os.cpu_count()} CPUs the reads keep busy"
                 if reads + start < target else "above the 0.7x line: that target cannot be met in this run"))
finally:
    if holder:
        holder.kill()
        holder.wait()
    pids = subprocess.run(["ip", "netns", "pids", NS], capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["ip", "netns", "del", NS])
    if "state" in globals():
        shutil.rmtree(state, ignore_errors=True)
    if "text_state" in globals():
        shutil.rmtree(text_state, ignore_errors=True)
    if "timer_state" in globals():
        shutil.rmtree(timer_state, ignore_errors=True)
    for directory in also_states.values():
        shutil.rmtree(directory, ignore_errors=True)
    for built in (floor, audit_floor):
        if built:
            shutil.rmtree(os.path.dirname(built), ignore_errors=True)
