#!/usr/bin/env python3
"""Stress test: no device is ever deleted while a process holds it, whatever races the reaper.

In a throwaway network namespace: makes N orphaned persistent tun/tap devices, a third of them
multi-queue and a sixth with names that are not UTF-8 (a 0xff or 0xfe byte); starts several
attacker processes that attach to random targets at random moments (by the target's name bytes,
with its own flags, holding what they get) and one that renames random targets back and forth;
and, while they run, one `tunwarden --netns NS reap --yes --min-age 0 --format json`. Afterwards:

- no attacker may find its device deleted under it (TUNGETIFF answering EBADFD);
- every device reported deleted is gone (by ifindex), every device reported skipped still exists;
- the journal's result records say exactly what the report says.

Each run uses a fresh namespace and state directory, removed at the end whatever happens. Exits
1 when any run broke a promise. Needs root. The test suite runs it small (ReaperSafetyTests);
the full size is the default here.

Usage: sudo python3 bench/reap-stress.py [--devices N] [--runs K] [--attackers A] [--binary PATH]
"""
import argparse, errno, fcntl, json, os, random, signal, socket, struct, subprocess, sys, tempfile, time, shutil

TUNSETIFF, TUNGETIFF, TUNSETPERSIST = 0x400454CA, 0x800454D2, 0x400454CB
SIOCSIFNAME = 0x8923
IFF_TUN, IFF_TAP, IFF_NO_PI, IFF_MULTI_QUEUE = 0x0001, 0x0002, 0x1000, 0x0100


def flags_of(target):
    flags = (IFF_TAP if target["tap"] else IFF_TUN) | IFF_NO_PI
    return flags | IFF_MULTI_QUEUE if target["mq"] else flags


def targets_for(count, seed):
    """The devices of one run: names as bytes, with their type and queue mode."""
    rng = random.Random(seed)
    result = []
    for i in range(count):
        kind = i % 6
        if kind == 0:
            name = b"x\xff" + str(i).encode()          # not UTF-8, single-queue
        elif kind == 3:
            name = b"y\xfe" + str(i).encode()          # not UTF-8, multi-queue
        else:
            name = (b"mq" if kind in (1, 4) else b"sq") + str(i).encode()
        result.append({"name": name.hex(), "mq": kind in (1, 3, 4), "tap": rng.random() < 0.3})
    return result


def create(listing):
    """Inside the namespace: makes every target persistent and unheld."""
    for target in json.load(open(listing)):
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", bytes.fromhex(target["name"]), flags_of(target)))
        fcntl.ioctl(fd, TUNSETPERSIST, 1)
        os.close(fd)


def attack(listing, seed, out):
    """Inside the namespace: attaches to random targets until SIGTERM, then reports every
    descriptor whose device was deleted while attached."""
    targets = json.load(open(listing))
    rng = random.Random(seed)
    # A parent may have spawned us with SIGTERM blocked (Foundation's Process does).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    held, attempts, attached = [], 0, 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        target = rng.choice(targets)
        fd = os.open("/dev/net/tun", os.O_RDWR)
        attempts += 1
        try:
            answer = fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", bytes.fromhex(target["name"]), flags_of(target)))
            attached += 1
            # A name nobody answers to makes a new, non-persistent device: not one of ours.
            persist = struct.unpack("16sH22x", fcntl.ioctl(fd, TUNGETIFF, bytes(40)))[1] & 0x0800
            held.append((fd, target["name"], bool(persist)))
        except OSError:
            os.close(fd)
        if len(held) > 40:
            os.close(held.pop(rng.randrange(len(held)))[0])
        time.sleep(rng.random() * 0.004)
    deleted = []
    for fd, name, persist in held:
        try:
            fcntl.ioctl(fd, TUNGETIFF, bytes(40))
        except OSError as error:
            if error.errno == errno.EBADFD:
                deleted.append(name)
    json.dump({"attempts": attempts, "attached": attached, "held_at_end": len(held), "deleted_while_attached": deleted}, open(out, "w"))


def rename(listing, seed, out):
    """Inside the namespace: renames random targets to NAME+'r' and back until SIGTERM."""
    targets = json.load(open(listing))
    rng = random.Random(seed)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    renamed, done = {}, 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        name = bytes.fromhex(rng.choice(targets)["name"])
        old, new = (name + b"r", name) if name in renamed else (name, name + b"r")
        try:
            fcntl.ioctl(sock, SIOCSIFNAME, struct.pack("16s16s8x", old, new))
            done += 1
            if new.endswith(b"r"):
                renamed[name] = True
            else:
                renamed.pop(name, None)
        except OSError:
            pass
        time.sleep(rng.random() * 0.008)
    json.dump({"renames": done}, open(out, "w"))


def in_namespace(ns, *arguments):
    return ["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__)] + list(arguments)


def links(ns):
    # iproute2 writes names that are not UTF-8 into its JSON as raw bytes.
    dump = subprocess.run(["ip", "-n", ns, "-j", "link", "show"], capture_output=True, check=True).stdout
    return {link["ifindex"]: link for link in json.loads(dump.decode("utf-8", "surrogateescape"))}


def one_run(binary, count, attackers, seed):
    ns = f"twbench-stress-{os.getpid()}-{seed}"
    work = tempfile.mkdtemp(prefix="tunwarden-stress-")
    listing = os.path.join(work, "targets.json")
    json.dump(targets_for(count, seed), open(listing, "w"))
    problems = []
    subprocess.run(["ip", "netns", "add", ns], check=True)
    workers = []
    try:
        subprocess.run(in_namespace(ns, "--create", listing), check=True)
        for number in range(attackers):
            workers.append((subprocess.Popen(in_namespace(ns, "--attack", listing, str(seed * 100 + number), os.path.join(work, f"attacker{number}.json"))),
                            os.path.join(work, f"attacker{number}.json")))
        workers.append((subprocess.Popen(in_namespace(ns, "--rename", listing, str(seed * 100 + 99), os.path.join(work, "renamer.json"))),
                        os.path.join(work, "renamer.json")))
        time.sleep(0.3)
        start = time.perf_counter()
        reap = subprocess.run([binary, "--netns", ns, "reap", "--yes", "--min-age", "0", "--format", "json", "--state-dir", work],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - start
        time.sleep(0.2)
        # `ip netns exec` execs python directly, so the worker is the process itself.
        for process, _ in workers:
            process.send_signal(signal.SIGTERM)
        for process, _ in workers:
            process.wait(timeout=60)
        reports = [json.load(open(path)) for _, path in workers]
        # What the attackers did, whatever the reap answered.
        raced = {"attached": sum(r.get("attached", 0) for r in reports), "renames": sum(r.get("renames", 0) for r in reports)}
        for report in reports:
            for name in report.get("deleted_while_attached", []):
                problems.append(f"deleted while attached: {bytes.fromhex(name)!r}")
        if reap.returncode == 3 and "nothing was changed" in reap.stderr:
            # An honest refusal (the kernel kept interrupting the plan's dumps): nothing may be gone.
            dump = subprocess.run(["ip", "-n", ns, "-d", "-j", "link", "show"], capture_output=True, check=True).stdout
            persistent = sum(1 for link in json.loads(dump.decode("utf-8", "surrogateescape"))
                             if link.get("linkinfo", {}).get("info_data", {}).get("persist"))
            if persistent != count:
                problems.append(f"refused with 'nothing was changed', but {count - persistent} devices are gone")
            return problems, {"outcomes": {"refused": reap.stderr.strip()[:120]}, **raced}, seconds
        if reap.returncode not in (0, 1):
            problems.append(f"reap exited {reap.returncode}: {reap.stderr.strip()}")
            return problems, {}, seconds
        report = json.loads(reap.stdout)
        now = links(ns)
        outcomes = {}
        for result in report.get("results") or []:
            outcomes[result["result"]] = outcomes.get(result["result"], 0) + 1
            present = result["ifindex"] in now
            if result["result"] == "deleted" and present:
                problems.append(f"reported deleted but still there: {result['ifname']} (ifindex {result['ifindex']})")
            if result["result"] == "skipped" and not present and "deleted by something else" not in (result.get("detail") or ""):
                problems.append(f"reported skipped but gone: {result['ifname']} (ifindex {result['ifindex']}): {result.get('detail')}")
        journal = [json.loads(line) for line in open(os.path.join(work, "journal.jsonl")) if line.strip()]
        journaled = {(r["ifindex"], r["result"]) for r in journal if r["type"] == "result"}
        reported = {(r["ifindex"], r["result"]) for r in report.get("results") or []}
        if journaled != reported:
            problems.append(f"journal and report differ: {len(journaled ^ reported)} results")
        reasons = {}
        for result in report.get("results") or []:
            if result["result"] != "deleted":
                reason = (result.get("detail") or "")[:150]
                reasons[reason] = reasons.get(reason, 0) + 1
        stats = {"outcomes": outcomes, "reasons": reasons, **raced}
        return problems, stats, seconds
    finally:
        for process, _ in workers:
            if process.poll() is None:
                process.kill()
        for pid in subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", ns])
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("--create", "--attack", "--rename"):
        {"--create": create, "--attack": attack, "--rename": rename}[sys.argv[1]](*sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--attackers", type=int, default=4)
    parser.add_argument("--binary", help="the tunwarden to test (default: build the shipped configuration)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/reap-stress.py: run as root (it makes throwaway network namespaces)")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import shipped
    binary = shipped.binary(args.binary, "bench/reap-stress.py")
    failures = 0
    for run in range(args.runs):
        problems, stats, seconds = one_run(binary, args.devices, args.attackers, random.randrange(1 << 30))
        print(f"run {run + 1}: {args.devices} devices, reap {seconds:.2f} s, {stats.get('outcomes')}, "
              f"{stats.get('attached', 0)} attaches, {stats.get('renames', 0)} renames: "
              + ("ok" if not problems else f"{len(problems)} problems"), flush=True)
        for reason, number in sorted(stats.get("reasons", {}).items(), key=lambda pair: -pair[1]):
            print(f"  {number} × {reason}")
        for problem in problems[:20]:
            print(f"  {problem}")
        failures += bool(problems)
    print(f"{args.runs - failures} of {args.runs} runs kept every promise")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
