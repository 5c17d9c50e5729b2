#!/usr/bin/env python3
"""Captures real iptables TEE rules for the codec tests, independently of tunwarden's own code.

Run as root, with iptables-nft, iptables-legacy and ip6tables-legacy installed: python3
capture-xtables.py DIR. It builds a throwaway network namespace with tap tapmon and a veth pair,
and gives it `-t mangle -j TEE --gateway … --oif tapmon` rules and one TEE rule without --oif:
through iptables-nft (nftables rules whose `target` expression carries struct xt_tee_tginfo),
dumped with a plain NETLINK_NETFILTER socket; and through iptables-legacy and ip6tables-legacy
(x_tables), whose mangle tables are read with getsockopt IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES
(and the IP6T_ ones) from inside the namespace. It writes the rule dump and each table's entries
(the bytes after struct ipt_get_entries' 40-byte header) to DIR, and removes the namespace. The
byte-level tests assert the values set up here.
"""
import ctypes, os, socket, struct, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture import dump  # noqa: E402 (the same framing as the rtnetlink captures)

NS = "tw-capture-xt-%d" % os.getpid()
OUT = sys.argv[1] if len(sys.argv) > 1 else "."
NETLINK_NETFILTER = 12

def run(*args):
    subprocess.run(["ip", "netns", "exec", NS] + list(args), check=True)

subprocess.run(["ip", "netns", "add", NS], check=True)
try:
    run("ip", "link", "set", "lo", "up")
    run("ip", "tuntap", "add", "dev", "tapmon", "mode", "tap")
    run("ip", "link", "add", "va", "type", "veth", "peer", "name", "vb")
    run("iptables-nft", "-t", "mangle", "-A", "PREROUTING", "-i", "va", "-j", "TEE", "--gateway", "10.9.7.2", "--oif", "tapmon")
    run("iptables-nft", "-t", "mangle", "-A", "PREROUTING", "-i", "vb", "-j", "TEE", "--gateway", "10.9.7.3")
    run("iptables-legacy", "-t", "mangle", "-A", "PREROUTING", "-i", "va", "-j", "TEE", "--gateway", "10.9.7.2", "--oif", "tapmon")
    run("iptables-legacy", "-t", "mangle", "-A", "FORWARD", "-j", "TEE", "--gateway", "10.9.7.3")
    run("ip6tables-legacy", "-t", "mangle", "-A", "PREROUTING", "-i", "va", "-j", "TEE", "--gateway", "fd00::2", "--oif", "tapmon")

    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNET = 0x40000000
    me = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + NS, os.O_RDONLY)
    assert libc.setns(target, CLONE_NEWNET) == 0
    nfnl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    raw4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    with open("/proc/thread-self/net/ip_tables_names") as f:
        assert "mangle" in f.read().split()
    assert libc.setns(me, CLONE_NEWNET) == 0
    nfnl.bind((0, 0))
    # NFT_MSG_GETRULE (subsystem 10 << 8 | 7) for every family.
    with open(os.path.join(OUT, "nft-tee-rule-dump.bin"), "wb") as f:
        f.write(dump(nfnl, 10 << 8 | 7, struct.pack("=BBH", 0, 0, 0), 1))

    def entries(sock, level):
        # struct ipt_getinfo: name[32], valid_hooks, hook_entry[5], underflow[5], num_entries, size (84 bytes).
        info = ctypes.create_string_buffer(b"mangle", 84)
        length = ctypes.c_uint32(84)
        assert libc.getsockopt(sock.fileno(), level, 64, info, ctypes.byref(length)) == 0, os.strerror(ctypes.get_errno())
        size = struct.unpack_from("=I", info.raw, 80)[0]
        # struct ipt_get_entries: name[32], size, then the entries from offset 40.
        get = ctypes.create_string_buffer(40 + size)
        get.raw = b"mangle".ljust(32, b"\0") + struct.pack("=I", size) + b"\0" * (4 + size)
        length = ctypes.c_uint32(40 + size)
        assert libc.getsockopt(sock.fileno(), level, 65, get, ctypes.byref(length)) == 0, os.strerror(ctypes.get_errno())
        return get.raw[40:40 + size]
    with open(os.path.join(OUT, "xt-mangle-entries.bin"), "wb") as f:
        f.write(entries(raw4, 0))           # SOL_IP, IPT_SO_GET_INFO 64, IPT_SO_GET_ENTRIES 65
    with open(os.path.join(OUT, "xt6-mangle-entries.bin"), "wb") as f:
        f.write(entries(raw6, 41))          # SOL_IPV6, IP6T_SO_GET_INFO 64, IP6T_SO_GET_ENTRIES 65
finally:
    subprocess.run(["ip", "netns", "del", NS])
