#!/usr/bin/env python3
"""Captures real nftables replies for the codec tests, independently of tunwarden's own code.

Run as root, with nft installed: python3 capture-nft.py DIR. It builds a throwaway network
namespace with two devices and a veth pair, gives it nftables rules that send packets to them
(fwd and dup, by constant and through a map, and one whose device is known only as packets come),
dumps the rules and the map's elements from inside it with a plain NETLINK_NETFILTER socket,
writes each reply stream to DIR, and removes the namespace. The byte-level tests assert the
values set up here.
"""
import ctypes, os, socket, struct, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture import attr, dump  # noqa: E402 (the same framing as the rtnetlink captures)

NS = "tw-capture-nft-%d" % os.getpid()
OUT = sys.argv[1] if len(sys.argv) > 1 else "."
NETLINK_NETFILTER = 12

def ip(*args):
    subprocess.run(["ip", "-n", NS] + list(args), check=True)

def nft(*args):
    subprocess.run(["ip", "netns", "exec", NS, "nft"] + list(args), check=True)

subprocess.run(["ip", "netns", "add", NS], check=True)
try:
    ip("link", "set", "lo", "up")
    ip("tuntap", "add", "dev", "kure_tun", "mode", "tun")                  # ifindex 2
    ip("tuntap", "add", "dev", "tap0", "mode", "tap")                      # ifindex 3
    ip("link", "add", "va", "type", "veth", "peer", "name", "vb")          # 4, 5 (order per kernel)
    nft("add", "table", "netdev", "t")
    nft("add", "chain", "netdev", "t", "c", "{ type filter hook ingress device va priority 0; }")
    nft("add", "map", "netdev", "t", "devs", "{ type mark : iface_index; }")
    nft("add", "element", "netdev", "t", "devs", '{ 1 : "tap0", 2 : "vb" }')
    nft("add", "rule", "netdev", "t", "c", "counter")
    nft("add", "rule", "netdev", "t", "c", "fwd", "to", '"tap0"')
    nft("add", "rule", "netdev", "t", "c", "dup", "to", '"kure_tun"')
    nft("add", "rule", "netdev", "t", "c", "fwd", "to", "meta", "mark", "map", "@devs")
    nft("add", "rule", "netdev", "t", "c", "fwd", "to", "iif")
    nft("add", "table", "ip", "f")
    nft("add", "chain", "ip", "f", "p", "{ type filter hook prerouting priority 0; }")
    nft("add", "rule", "ip", "f", "p", "dup", "to", "10.0.0.2", "device", '"tap0"')

    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNET = 0x40000000
    me = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + NS, os.O_RDONLY)
    assert libc.setns(target, CLONE_NEWNET) == 0
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    assert libc.setns(me, CLONE_NEWNET) == 0
    sock.bind((0, 0))
    # NFT_MSG_GETRULE (subsystem 10 << 8 | 7) for every family.
    with open(os.path.join(OUT, "nft-rule-dump.bin"), "wb") as f:
        f.write(dump(sock, 10 << 8 | 7, struct.pack("=BBH", 0, 0, 0), 1))
    # NFT_MSG_GETSETELEM (10 << 8 | 13) of netdev (5) table t, map devs.
    with open(os.path.join(OUT, "nft-setelem-dump.bin"), "wb") as f:
        f.write(dump(sock, 10 << 8 | 13, struct.pack("=BBH", 5, 0, 0) + attr(1, b"t\0") + attr(2, b"devs\0"), 2))
finally:
    subprocess.run(["ip", "netns", "del", NS])
