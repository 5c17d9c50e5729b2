#!/usr/bin/env python3
"""Captures real rtnetlink replies for the codec tests, independently of tunwarden's own code.

Run as root: python3 capture.py DIR. It builds a throwaway network namespace with known devices,
addresses and routes, dumps links, addresses and routes from inside it with a plain netlink socket,
provokes one refused request (for an extended-ack error), writes each reply stream to DIR, and
removes the namespace. The byte-level tests assert the values set up here.
"""
import os, socket, struct, subprocess, sys, time, fcntl

NS = "tw-capture-%d" % os.getpid()
OUT = sys.argv[1] if len(sys.argv) > 1 else "."

def ip(*args):
    subprocess.run(["ip", "-n", NS] + list(args), check=True)

def dump(sock, msg_type, payload, seq):
    hdr = struct.pack("=IHHII", 16 + len(payload), msg_type, 0x301, seq, 0)
    sock.send(hdr + payload)
    stream = b""
    while True:
        data = sock.recv(65536)
        stream += data
        off = 0
        done = False
        while off + 16 <= len(data):
            length, mtype = struct.unpack_from("=IH", data, off)
            if mtype in (2, 3):
                done = True
            off += (length + 3) & ~3
        if done:
            return stream

def request(sock, msg_type, flags, payload, seq):
    sock.send(struct.pack("=IHHII", 16 + len(payload), msg_type, flags, seq, 0) + payload)
    return sock.recv(65536)

def attr(t, data):
    a = struct.pack("=HH", 4 + len(data), t) + data
    return a + b"\0" * (((len(a) + 3) & ~3) - len(a))

def main():
    subprocess.run(["ip", "netns", "add", NS], check=True)
    holder = None
    try:
        ip("link", "set", "lo", "up")
        ip("tuntap", "add", "dev", "kure_tun", "mode", "tun")                  # ifindex 2
        ip("tuntap", "add", "dev", "tap0", "mode", "tap")                      # ifindex 3
        ip("tuntap", "add", "dev", "mq0", "mode", "tun", "multi_queue", "user", "1000", "group", "100")  # 4
        ip("link", "add", "va", "type", "veth", "peer", "name", "vb")          # 5, 6 (order per kernel)
        ip("link", "set", "kure_tun", "up")
        ip("addr", "add", "10.8.0.1/24", "dev", "kure_tun")
        ip("addr", "add", "10.9.0.1", "peer", "10.9.0.2/32", "dev", "kure_tun")
        ip("route", "add", "0.0.0.0/1", "dev", "kure_tun")
        ip("route", "add", "128.0.0.0/1", "dev", "kure_tun", "metric", "7")
        ip("route", "add", "192.0.2.0/24", "dev", "kure_tun", "table", "100")
        ip("link", "set", "va", "up")
        ip("link", "set", "vb", "up")
        ip("addr", "add", "2001:db8::1/64", "dev", "va", "nodad")
        ip("addr", "add", "198.51.100.1/24", "dev", "va")
        ip("addr", "add", "203.0.113.1/24", "dev", "vb")
        ip("route", "add", "198.18.0.0/15", "nexthop", "via", "198.51.100.2", "dev", "va",
           "nexthop", "via", "203.0.113.2", "dev", "vb")
        ip("route", "add", "2001:db8:1::/48", "via", "2001:db8::2", "dev", "va")
        # Some traffic inside the namespace, so the veth counters are not all zero: a datagram to an
        # address behind va makes the kernel send ARP requests out of va, which vb receives.
        subprocess.run(["ip", "netns", "exec", NS, "python3", "-c",
                        "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('198.51.100.2', 9))"], check=True)
        time.sleep(1.5)

        # A socket belongs to the namespace it is made in: make it inside, with libc's setns.
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        CLONE_NEWNET = 0x40000000
        me = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open("/run/netns/" + NS, os.O_RDONLY)
        assert libc.setns(target, CLONE_NEWNET) == 0
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        assert libc.setns(me, CLONE_NEWNET) == 0
        sock.setsockopt(270, 11, 1)  # NETLINK_EXT_ACK
        sock.setsockopt(270, 10, 1)  # NETLINK_CAP_ACK
        sock.bind((0, 0))
        # Links as tunwarden asks for them: RTEXT_FILTER_SKIP_STATS (8).
        with open(os.path.join(OUT, "link-dump.bin"), "wb") as f:
            f.write(dump(sock, 18, struct.pack("=BxHiII", 0, 0, 0, 0, 0) + attr(29, struct.pack("=I", 8)), 1))
        with open(os.path.join(OUT, "addr-dump.bin"), "wb") as f:
            f.write(dump(sock, 22, struct.pack("=BBBBI", 0, 0, 0, 0, 0), 2))
        with open(os.path.join(OUT, "route-dump.bin"), "wb") as f:
            f.write(dump(sock, 26, struct.pack("=BBBBBBBBI", 0, 0, 0, 0, 0, 0, 0, 0, 0), 3))
        # A link of a kind no driver provides: refused with an extended-ack text.
        bad = struct.pack("=BxHiII", 0, 0, 0, 0, 0) + attr(3, b"bad0\0") + attr(18, attr(1, b"nosuchkind\0"))
        with open(os.path.join(OUT, "error-extack.bin"), "wb") as f:
            f.write(request(sock, 16, 0x1 | 0x4 | 0x400 | 0x200, bad, 4))
    finally:
        subprocess.run(["ip", "netns", "del", NS])


if __name__ == "__main__":
    main()
