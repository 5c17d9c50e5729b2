#!/usr/bin/env python3
"""Benchmark: what a large reap journal costs a reap, and `tunwarden journal`.

Reaps two orphaned tun devices (one with an address and routes) in a throwaway network namespace
to get real journal records, writes a journal of --megabytes MB from them (each run with its own
run id, names and ifindexes), then times, with the namespace left empty, `tunwarden --netns NS
reap --yes --min-age 0 --journal J` (which checks the journal before planning; nothing is reaped
so nothing is appended) and `tunwarden journal --journal J` (which reads it all). Prints the
median wall time and the largest peak RSS of --runs runs of each. The namespace and the
temporary directory are removed at the end, whatever happens. Needs root.

Usage: sudo python3 bench/journal-70m.py [--megabytes N] [--runs R] [--binary PATH] [--also PATH]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time, uuid
import shipped

parser = argparse.ArgumentParser()
parser.add_argument("--megabytes", type=int, default=70)
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--binary", help="the tunwarden to measure (default: build the shipped configuration)")
parser.add_argument("--also", action="append", default=[], help="another tunwarden to time in the same run (repeatable)")
args = parser.parse_args()
if os.geteuid() != 0:
    sys.exit("bench/journal-70m.py: run as root (it makes a throwaway network namespace)")
binaries = [shipped.binary(args.binary, "bench/journal-70m.py")] + [shipped.binary(path, "bench/journal-70m.py") for path in args.also]
environment = dict(os.environ, TUNWARDEN_CONFIG="/dev/null")


def timed(command):
    """Runs `command`; returns its wall time in seconds and its peak RSS in MB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"bench/journal-70m.py: {' '.join(command)} exited {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss / 1024


NS = f"twbench-{os.getpid()}"
work = tempfile.mkdtemp(prefix="tunwarden-bench-")
subprocess.run(["ip", "netns", "add", NS], check=True)
try:
    for command in (["tuntap", "add", "dev", "g0", "mode", "tun"], ["link", "set", "g0", "up"],
                    ["addr", "add", "10.9.0.1/24", "dev", "g0"], ["route", "add", "0.0.0.0/1", "dev", "g0"],
                    ["tuntap", "add", "dev", "g1", "mode", "tap"]):
        subprocess.run(["ip", "-n", NS] + command, check=True)
    sample = os.path.join(work, "sample.jsonl")
    subprocess.run([binaries[0], "--netns", NS, "reap", "--yes", "--min-age", "0", "--state-dir", work, "--journal", sample],
                   check=True, stdout=subprocess.DEVNULL, env=environment)
    records = [json.loads(line) for line in open(sample)]

    journal = os.path.join(work, "journal.jsonl")
    target, written, run = args.megabytes * 1024 * 1024, 0, 0
    with open(journal, "w") as out:
        while written < target:
            run_id = str(uuid.uuid4())
            text = ""
            for record in records:
                copy = dict(record, run=run_id, ifname=f"{record['ifname']}_{run}", ifindex=record["ifindex"] + run)
                if "recreate" in copy:
                    copy["recreate"] = [c.replace(f" {record['ifname']} ", f" {copy['ifname']} ") for c in copy["recreate"]]
                text += json.dumps(copy, separators=(",", ":")) + "\n"
            out.write(text)
            written += len(text)
            run += 1
    print(f"journal: {written / 1024 / 1024:.1f} MB, {run * len(records)} records")

    for binary in binaries:
        state = tempfile.mkdtemp(dir=work)
        for name, command in (("reap (checks the journal)", [binary, "--netns", NS, "reap", "--yes", "--min-age", "0", "--state-dir", state, "--journal", journal]),
                              ("journal (reads it all)", [binary, "journal", "--journal", journal])):
            samples = [timed(command) for _ in range(args.runs)]
            print(f"{binary}: {name}: median {statistics.median(s for s, _ in samples):.2f} s, peak RSS {max(m for _, m in samples):.0f} MB")
finally:
    subprocess.run(["ip", "netns", "del", NS])
    shutil.rmtree(work, ignore_errors=True)
