#!/usr/bin/env python3
"""Benchmark: reaping 10,000 orphaned tun devices, against `ip link del` one at a time.

In a throwaway network namespace: makes N persistent, unheld tun devices and times one whole
`tunwarden --netns NS reap --min-age 0 --yes` (plan, re-verification, journal, attach, group,
batched deletion, verification); then makes M more and times `ip -n NS link del` for each, one
after another. Prints both, the per-device times and their ratio. State and journal go to a
temporary directory; the namespace is removed at the end, whatever happens. Needs root.

Usage: sudo python3 bench/reap-10k.py [--devices N] [--serial M] [--binary PATH]
"""
import argparse, os, shutil, subprocess, sys, tempfile, time
import shipped

parser = argparse.ArgumentParser()
parser.add_argument("--devices", type=int, default=10000)
parser.add_argument("--serial", type=int, default=300, help="devices deleted one at a time with ip link del")
parser.add_argument("--binary", help="the tunwarden to measure (default: build the shipped configuration)")
args = parser.parse_args()
if os.geteuid() != 0:
    sys.exit("bench/reap-10k.py: run as root (it makes a throwaway network namespace)")
binary = shipped.binary(args.binary, "bench/reap-10k.py")

NS = f"twbench-{os.getpid()}"
state = tempfile.mkdtemp(prefix="tunwarden-bench-")
subprocess.run(["ip", "netns", "add", NS], check=True)
try:
    batch = "".join(f"tuntap add dev r{i} mode tun\n" for i in range(args.devices))
    subprocess.run(["ip", "-n", NS, "-batch", "-"], input=batch.encode(), check=True)
    start = time.perf_counter()
    run = subprocess.run([binary, "--netns", NS, "reap", "--min-age", "0", "--yes", "--state-dir", state],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reap_seconds = time.perf_counter() - start
    left = subprocess.run(["ip", "-n", NS, "-o", "link", "show"], capture_output=True, text=True).stdout.count("\n") - 1
    summary = [line for line in run.stdout.splitlines() if line.startswith("Reaped")]
    print(f"tunwarden reap: {args.devices} devices in {reap_seconds:.2f} s (exit {run.returncode}; {left} left; {summary[0] if summary else run.stderr.strip()})")

    batch = "".join(f"tuntap add dev s{i} mode tun\n" for i in range(args.serial))
    subprocess.run(["ip", "-n", NS, "-batch", "-"], input=batch.encode(), check=True)
    start = time.perf_counter()
    for i in range(args.serial):
        subprocess.run(["ip", "-n", NS, "link", "del", f"s{i}"], check=True)
    serial_seconds = time.perf_counter() - start

    per_reap = reap_seconds / args.devices * 1000
    per_serial = serial_seconds / args.serial * 1000
    print(f"ip link del, one at a time: {args.serial} devices in {serial_seconds:.2f} s")
    print(f"per device: tunwarden {per_reap:.3f} ms, ip link del {per_serial:.2f} ms: {per_serial / per_reap:.0f}x")
    print(f"ip link del for {args.devices} would take about {per_serial * args.devices / 1000:.0f} s (target for tunwarden: < 3 s)")
finally:
    subprocess.run(["ip", "netns", "del", NS])
    shutil.rmtree(state, ignore_errors=True)
