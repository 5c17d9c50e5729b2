#!/usr/bin/env python3
"""Benchmark: the watcher with 10,000 tun devices in a throwaway namespace.

Measures, with the release binary:
  - peak RSS of `tunwarden watch` holding 10,000 tunnel interfaces (target <= 64 MB);
  - CPU time and wake-ups (voluntary context switches) over a quiet period with no changes
    (target: only the scheduled ones);
  - churn: a veth pair created and one deleted every 200 ms for --churn seconds, with the watcher's
    CPU beside `ip monitor all` watching the same churn (target: <= 3x, and < 5% of one core);
  - latency from a holder's exit to the orphaned-tun alert (target: median <= 100 ms, max <= 250 ms);
  - latency from a process attaching to a down orphan to the watcher counting it live;
  - a storm of 2,000 creations and 2,000 deletions: time until the watcher's picture is final.
State goes to a temporary directory; the namespace and every process are removed at the end.
Needs root.

Usage: sudo python3 bench/watch.py [--devices N] [--quiet SECONDS] [--binary PATH]
"""
import argparse, os, shutil, signal, statistics, subprocess, sys, tempfile, time
import shipped

parser = argparse.ArgumentParser()
parser.add_argument("--devices", type=int, default=10000)
parser.add_argument("--quiet", type=float, default=60.0)
parser.add_argument("--latency-runs", type=int, default=5)
parser.add_argument("--churn", type=float, default=20.0, help="seconds of veth churn")
parser.add_argument("--binary", help="the tunwarden to measure (default: build the shipped configuration)")
args = parser.parse_args()
if os.geteuid() != 0:
    sys.exit("bench/watch.py: run as root (it makes a throwaway network namespace)")
binary = shipped.binary(args.binary, "bench/watch.py")

NS = f"twbench-{os.getpid()}"
# Device names of this run's own: the holder scan matches holders to devices by name, so a process
# elsewhere holding a device of the same name (another namespace's "w9900") would make this
# namespace's one "unknown" and the counts waited for below would never come.
TAG = f"b{os.getpid() % 100000}"
state = tempfile.mkdtemp(prefix="tunwarden-bench-")
HOLDER = r"""
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0001 | 0x1000))
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(3600)
"""
log_path = os.path.join(state, "watch.err")
watcher = None

def log():
    with open(log_path, errors="replace") as f:
        return f.read()

def wait_for(text, timeout=60.0, after=0):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if text in log()[after:]:
            return time.perf_counter() - start
        time.sleep(0.005)
    tail = "".join(log()[after:].splitlines(keepends=True)[-5:])
    raise SystemExit(f"bench/watch.py: timed out waiting for {text!r}; the watcher's log ends:\n{tail}")

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def cpu_precise(pid):
    """CPU time of the process's threads now running, in seconds, to the nanosecond
    (/proc/PID/task/TID/schedstat), and the set of those threads. /proc/PID/stat counts in clock
    ticks (10 ms), too coarse for `ip monitor`, which uses a few tens of milliseconds here; a
    thread that ended is missing from this sum, so it is used only where the threads stayed."""
    total, tids = 0, set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
            tids.add(tid)
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9, tids

def switches(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("voluntary_ctxt_switches"):
            return int(line.split()[1])
    return 0

def batch(lines):
    subprocess.run(["ip", "-n", NS, "-batch", "-"], input="".join(l + "\n" for l in lines).encode(), check=True)

subprocess.run(["ip", "netns", "add", NS], check=True)
try:
    batch([f"tuntap add dev {TAG}w{i} mode tun" for i in range(args.devices)])
    metrics = os.path.join(state, "watch.prom")
    watcher = subprocess.Popen([binary, "--netns", NS, "watch", "--state-dir", state, "--limit", str(args.devices * 10), "--textfile", metrics],
                               stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
    wait_for("watch: watching")
    rss = max(int(line.split()[1]) for line in open(f"/proc/{watcher.pid}/status") if line.startswith("VmHWM"))
    print(f"watcher with {args.devices} tun devices: peak RSS {rss / 1024:.1f} MiB (target <= 64)")

    before, woke = cpu_seconds(watcher.pid), switches(watcher.pid)
    time.sleep(args.quiet)
    used = cpu_seconds(watcher.pid) - before
    print(f"quiet {args.quiet:.0f} s: {used * 1000:.0f} ms of CPU ({used / args.quiet * 100:.3f}%), "
          f"{switches(watcher.pid) - woke} wake-ups (voluntary context switches)")

    # Churn: a veth pair made and one deleted every 200 ms, watched by tunwarden and `ip monitor all`.
    monitor = subprocess.Popen(["ip", "-n", NS, "monitor", "all"], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    watcher_before, monitor_before = cpu_seconds(watcher.pid), cpu_seconds(monitor.pid)
    (watcher_precise, watcher_tids), (monitor_precise, monitor_tids) = cpu_precise(watcher.pid), cpu_precise(monitor.pid)
    start = time.perf_counter()
    pair = 0
    while time.perf_counter() - start < args.churn:
        lines = [f"link add cva{pair} type veth peer name cvb{pair}"]
        if pair >= 2:
            lines.append(f"link del cva{pair - 2}")
        batch(lines)
        pair += 1
        time.sleep(max(0, start + pair * 0.2 - time.perf_counter()))
    time.sleep(1)
    watcher_used = cpu_seconds(watcher.pid) - watcher_before
    monitor_used = cpu_seconds(monitor.pid) - monitor_before
    # To the nanosecond where the threads stayed the same (in clock ticks otherwise).
    # (Not where schedstat is missing or says 0: a kernel without CONFIG_SCHED_INFO.)
    now_precise, now_tids = cpu_precise(watcher.pid)
    if now_tids and now_tids == watcher_tids and now_precise > watcher_precise:
        watcher_used = now_precise - watcher_precise
    now_precise, now_tids = cpu_precise(monitor.pid)
    if now_tids and now_tids == monitor_tids and now_precise > monitor_precise:
        monitor_used = now_precise - monitor_precise
    monitor.terminate(); monitor.wait()
    elapsed = time.perf_counter() - start
    batch([f"link del cva{p}" for p in range(max(0, pair - 2), pair)])
    ratio = f"{watcher_used / monitor_used:.1f}x" if monitor_used > 0 else "(ip monitor used no measurable CPU)"
    print(f"churn {args.churn:.0f} s ({pair} pairs made, {max(0, pair - 2)} deleted): watcher {watcher_used * 1000:.0f} ms of CPU "
          f"({watcher_used / elapsed * 100:.2f}% of a core), ip monitor all {monitor_used * 1000:.0f} ms; ratio {ratio}")
    time.sleep(1)

    latencies = []
    for run in range(args.latency_runs):
        name = f"{TAG}l{run}"
        batch([f"tuntap add dev {name} mode tun"])
        holder = subprocess.Popen(["ip", "netns", "exec", NS, "python3", "-c", HOLDER, name], stdout=subprocess.PIPE)
        assert holder.stdout.readline() == b"ready\n"
        time.sleep(0.5)
        mark = len(log())
        holder.kill(); holder.wait()
        latencies.append(wait_for(f"new orphans: {name}", timeout=10, after=mark))
        time.sleep(0.3)
    print(f"holder exit -> alert: median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms (target: median <= 100, max <= 250)")

    # A process attaches to a down orphan: no event; the watcher's look at orphans notices.
    attach = []
    # On the devices the latency runs made (a holder of one not made yet would make it, live).
    for run in range(min(3, args.latency_runs)):
        name = f"{TAG}l{run}"
        mark = len(log())
        start = time.perf_counter()
        holder = subprocess.Popen(["ip", "netns", "exec", NS, "python3", "-c", HOLDER, name], stdout=subprocess.PIPE)
        assert holder.stdout.readline() == b"ready\n"
        expected = args.devices + args.latency_runs - 1
        attach.append(wait_for(f"{args.devices + args.latency_runs} tunnel interfaces, {expected} orphaned", timeout=30, after=mark))
        mark = len(log())
        holder.kill(); holder.wait()
        wait_for(f"{args.devices + args.latency_runs} orphaned", timeout=10, after=mark)
    print(f"holder attaches to a down orphan -> counted live: median {statistics.median(attach) * 1000:.0f} ms, max {max(attach) * 1000:.0f} ms")

    # The storm: the watcher logs only changes of its summary, which ends where it began, so the
    # final judgement is seen in the metrics file it rewrites after every judgement.
    mark = len(log())
    start = time.perf_counter()
    batch([f"tuntap add dev {TAG}s{i} mode tun" for i in range(2000)] + [f"link del {TAG}s{i}" for i in range(2000)])
    storm_end = time.time()
    expected = args.devices + args.latency_runs
    line = f'tunwarden_interfaces{{kind="tun",state="orphaned",netns="{NS}"}} {expected}'
    while time.perf_counter() - start < 120:
        if os.stat(metrics).st_mtime > storm_end and line in open(metrics).read():
            break
        time.sleep(0.01)
    else:
        raise SystemExit("bench/watch.py: the watcher's picture did not settle after the storm")
    print(f"storm of 2000 creations and 2000 deletions: settled {time.perf_counter() - start:.2f} s after it began, "
          f"{time.time() - storm_end:.2f} s after it ended{' (with an ENOBUFS resync)' if 'resynchronising' in log()[mark:] else ''}")
    watcher.send_signal(signal.SIGTERM)
    start = time.perf_counter()
    watcher.wait(timeout=5)
    print(f"SIGTERM -> exit {watcher.returncode} in {(time.perf_counter() - start) * 1000:.0f} ms")
finally:
    if watcher and watcher.poll() is None:
        watcher.kill(); watcher.wait()
    for pid in subprocess.run(["ip", "netns", "pids", NS], capture_output=True, text=True).stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["ip", "netns", "del", NS])
    shutil.rmtree(state, ignore_errors=True)
