#!/usr/bin/env python3
"""Captures real traffic-control replies for the codec tests, independently of tunwarden's own code.

Run as root, with tc installed: python3 capture-tc.py DIR. It builds a throwaway network namespace
with taps, a veth pair and shared tc block 22 (tapin is bound to it by its ingress, tapout by its
egress), gives veth va a `mirred` action that mirrors to every port of block 22
(TCA_MIRRED_BLOCKID, Linux 6.8+, which iproute2 may not write yet: sent here by hand) and one that
mirrors to tapdev, dumps the mirred actions and the qdiscs from inside it with a plain rtnetlink
socket, writes each reply stream to DIR, and removes the namespace. The byte-level tests assert
the values set up here.
"""
import ctypes, os, socket, struct, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture import attr, dump, request  # noqa: E402 (the same framing as the rtnetlink captures)

NS = "tw-capture-tc-%d" % os.getpid()
OUT = sys.argv[1] if len(sys.argv) > 1 else "."

def ip(*args):
    subprocess.run(["ip", "-n", NS] + list(args), check=True)

def tc(*args):
    subprocess.run(["ip", "netns", "exec", NS, "tc"] + list(args), check=True)

subprocess.run(["ip", "netns", "add", NS], check=True)
try:
    ip("link", "set", "lo", "up")
    ip("tuntap", "add", "dev", "tapin", "mode", "tap")                     # ifindex 2
    ip("tuntap", "add", "dev", "tapout", "mode", "tap")                    # ifindex 3
    ip("tuntap", "add", "dev", "tapdev", "mode", "tap")                    # ifindex 4
    ip("link", "add", "va", "type", "veth", "peer", "name", "vb")          # 5, 6 (order per kernel)
    tc("qdisc", "add", "dev", "tapin", "ingress_block", "22", "clsact")
    tc("qdisc", "add", "dev", "tapout", "egress_block", "22", "clsact")
    tc("qdisc", "add", "dev", "va", "clsact")

    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNET = 0x40000000
    me = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + NS, os.O_RDONLY)
    assert libc.setns(target, CLONE_NEWNET) == 0
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    assert libc.setns(me, CLONE_NEWNET) == 0
    sock.bind((0, 0))
    # RTM_NEWACTION (48): mirred index 7, egress mirror (2), action pipe (3), to block 22:
    # TCA_ACT_TAB { 1 { TCA_ACT_KIND "mirred", TCA_ACT_OPTIONS { TCA_MIRRED_PARMS, TCA_MIRRED_BLOCKID (4) } } }.
    parms = struct.pack("=IIiiiiI", 7, 0, 3, 0, 0, 2, 0)
    options = attr(2, parms) + attr(4, struct.pack("=I", 22))
    action = attr(1, b"mirred\0") + attr(2 | 0x8000, options)
    reply = request(sock, 48, 0x1 | 0x4 | 0x400 | 0x200, struct.pack("=BBH", 0, 0, 0) + attr(1 | 0x8000, attr(1 | 0x8000, action)), 1)
    error = struct.unpack_from("=i", reply, 16)[0]
    assert error == 0, "RTM_NEWACTION with a block id: %s" % os.strerror(-error)
    tc("filter", "add", "dev", "va", "ingress", "protocol", "all", "prio", "1", "u32", "match", "u32", "0", "0", "action", "mirred", "index", "7")
    tc("filter", "add", "dev", "va", "ingress", "protocol", "all", "prio", "2", "u32", "match", "u32", "0", "0",
       "action", "mirred", "egress", "mirror", "dev", "tapdev")
    # RTM_GETACTION (50) of kind mirred: TCA_ACT_TAB { 1 { TCA_ACT_KIND "mirred" } }.
    with open(os.path.join(OUT, "tc-action-dump.bin"), "wb") as f:
        f.write(dump(sock, 50, struct.pack("=BBH", 0, 0, 0) + attr(1 | 0x8000, attr(1 | 0x8000, attr(1, b"mirred\0"))), 2))
    # RTM_GETQDISC (38) of every device: struct tcmsg, all zero.
    with open(os.path.join(OUT, "qdisc-dump.bin"), "wb") as f:
        f.write(dump(sock, 38, struct.pack("=BBHiIII", 0, 0, 0, 0, 0, 0, 0), 3))
finally:
    subprocess.run(["ip", "netns", "del", NS])
