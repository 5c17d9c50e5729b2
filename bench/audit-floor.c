/*
 * The floor under a whole `tunwarden audit`: every kernel read the audit needs for its proof, from
 * the smallest client that can make them, and nothing else: no decoding, no judging, no output.
 * bench/audit-10k.py compiles it with the system's C compiler and times it beside tunwarden, so
 * that the audit's time can be read against what the kernel alone costs for the same facts.
 *
 * It makes the requests tunwarden's Linux inventory makes in the inspected namespace, on two
 * threads as tunwarden does: the link dump (RTM_GETLINK with IFLA_EXT_MASK =
 * RTEXT_FILTER_SKIP_STATS) on one; on the other the addresses and routes of both families, the
 * sockets (sock_diag: packet, TCP, UDP, UDP-Lite and raw of both families, XDP), the IPv6 multicast
 * memberships (RTM_GETMULTICAST), /proc/net/igmp, and the holder scan's walk of every process's
 * descriptors (/proc/PID/fd, and fdinfo for each tun descriptor). It reads every datagram into a
 * reused buffer and looks at message headers only (to find each dump's end). The reads of other
 * namespaces (stacked devices there), nftables and tc are left out: they are small and depend on
 * what else the machine runs, so the floor stays a floor. It is a measuring tool: it fails loudly
 * (exit 1, with a message) instead of timing reads that did not happen.
 *
 * Usage: audit-floor /run/netns/NAME
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif
#ifndef RTM_GETMULTICAST
#define RTM_GETMULTICAST 58
#endif

static void fail(const char *what)
{
    fprintf(stderr, "audit-floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Sends one dump request of `type` with `payload`, reads every datagram of the answer, and
 * returns how many messages it held. */
static long dump(int protocol, unsigned short type, const void *payload, size_t length)
{
    int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (sock < 0)
        fail("socket");
    struct {
        struct nlmsghdr header;
        char payload[128];
    } request;
    memset(&request, 0, sizeof request);
    request.header.nlmsg_len = NLMSG_LENGTH(length);
    request.header.nlmsg_type = type;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.header.nlmsg_seq = 1;
    memcpy(request.payload, payload, length);
    if (send(sock, &request, request.header.nlmsg_len, 0) != (ssize_t)request.header.nlmsg_len)
        fail("send");
    /* 64 KiB: larger than any datagram the kernel builds for a dump (32 KiB at most). */
    char *buffer = malloc(65536);
    long messages = 0;
    for (;;) {
        ssize_t got = recv(sock, buffer, 65536, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            fail("recv");
        }
        int left = (int)got;
        for (struct nlmsghdr *message = (struct nlmsghdr *)buffer; NLMSG_OK(message, left);
             message = NLMSG_NEXT(message, left)) {
            if (message->nlmsg_type == NLMSG_ERROR) {
                int code = -((struct nlmsgerr *)NLMSG_DATA(message))->error;
                /* A protocol this kernel was built without: tunwarden moves on the same way. */
                if (code == ENOENT || code == EOPNOTSUPP || code == EAFNOSUPPORT)
                    goto done;
                errno = code;
                fail("dump");
            }
            if (message->nlmsg_type == NLMSG_DONE)
                goto done;
            messages++;
        }
    }
done:
    free(buffer);
    close(sock);
    return messages;
}

static void *link_dump(void *unused)
{
    (void)unused;
    struct {
        struct ifinfomsg link;
        struct rtattr maskHeader;
        __u32 mask;
    } payload;
    memset(&payload, 0, sizeof payload);
    payload.maskHeader.rta_type = IFLA_EXT_MASK;
    payload.maskHeader.rta_len = RTA_LENGTH(sizeof(__u32));
    payload.mask = RTEXT_FILTER_SKIP_STATS;
    long links = dump(NETLINK_ROUTE, RTM_GETLINK, &payload, sizeof payload);
    fprintf(stderr, "audit-floor: %ld links\n", links);
    return NULL;
}

static void read_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    static __thread char buffer[65536];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
    close(fd);
}

/* The holder scan's walk: every descriptor of every process, and the fdinfo of each tun one. */
static long scan_processes(void)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        fail("/proc");
    long tun = 0;
    struct dirent *process;
    while ((process = readdir(proc))) {
        if (process->d_name[0] < '0' || process->d_name[0] > '9')
            continue;
        char path[300], target[300];
        snprintf(path, sizeof path, "/proc/%s/fd", process->d_name);
        DIR *fds = opendir(path);
        if (!fds)
            continue;
        struct dirent *fd;
        while ((fd = readdir(fds))) {
            if (fd->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "/proc/%s/fd/%s", process->d_name, fd->d_name);
            ssize_t length = readlink(path, target, sizeof target - 1);
            if (length <= 0)
                continue;
            target[length] = 0;
            if (strcmp(target, "/dev/net/tun") == 0) {
                snprintf(path, sizeof path, "/proc/%s/fdinfo/%s", process->d_name, fd->d_name);
                read_file(path);
                tun++;
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return tun;
}

static void socket_dumps(void)
{
    struct packet_diag_request {
        __u8 family, protocol;
        __u16 pad;
        __u32 ino, show, cookie[2];
    } packet = { .family = AF_PACKET, .show = 3 };
    dump(NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, &packet, sizeof packet);
    const __u8 families[] = { AF_INET, AF_INET6 };
    const __u8 protocols[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_RAW };
    for (int f = 0; f < 2; f++)
        for (int p = 0; p < 4; p++) {
            struct inet_diag_req_v2 inet;
            memset(&inet, 0, sizeof inet);
            inet.sdiag_family = families[f];
            inet.sdiag_protocol = protocols[p];
            inet.idiag_states = protocols[p] == IPPROTO_RAW ? 0xffffffff : 0xffffffbf;
            dump(NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, &inet, sizeof inet);
        }
    struct xdp_diag_request {
        __u8 family, protocol;
        __u16 pad;
        __u32 ino, show, cookie[2];
    } xdp = { .family = 44 /* AF_XDP */, .show = 1 };
    dump(NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, &xdp, sizeof xdp);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: audit-floor /run/netns/NAME\n");
        return 64;
    }
    int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (ns < 0)
        fail(argv[1]);
    if (setns(ns, CLONE_NEWNET) != 0)
        fail("setns");
    pthread_t links;
    if (pthread_create(&links, NULL, link_dump, NULL) != 0)
        fail("pthread_create");

    for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
        struct ifaddrmsg address = { .ifa_family = family };
        dump(NETLINK_ROUTE, RTM_GETADDR, &address, sizeof address);
        struct rtmsg route = { .rtm_family = family };
        dump(NETLINK_ROUTE, RTM_GETROUTE, &route, sizeof route);
    }
    socket_dumps();
    struct ifaddrmsg multicast = { .ifa_family = AF_INET6 };
    dump(NETLINK_ROUTE, RTM_GETMULTICAST, &multicast, sizeof multicast);
    read_file("/proc/thread-self/net/igmp");
    long tun = scan_processes();
    fprintf(stderr, "audit-floor: %ld tun descriptors\n", tun);

    pthread_join(links, NULL);
    return 0;
}
