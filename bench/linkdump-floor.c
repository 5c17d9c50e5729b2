/*
 * The floor under `tunwarden audit`: the kernel's RTM_GETLINK dump of one network namespace and
 * nothing else, from the smallest client that can ask for it. bench/audit-10k.py compiles it with
 * the system's C compiler and times it beside tunwarden and iproute2, so that every ratio it prints
 * can be read against what no rtnetlink tool can avoid paying.
 *
 * It asks exactly what tunwarden's link dump asks (IFLA_EXT_MASK = RTEXT_FILTER_SKIP_STATS), reads
 * every datagram into one reused buffer, decodes nothing but the message headers (to find the end
 * and to count links), and exits. It is a measuring tool: it checks just enough to fail loudly
 * (exit 1, with a message) instead of timing a dump that did not happen.
 *
 * Usage: linkdump-floor /run/netns/NAME
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif

static int fail(const char *what)
{
    fprintf(stderr, "linkdump-floor: %s: %s\n", what, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: linkdump-floor /run/netns/NAME\n");
        return 64;
    }
    int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (ns < 0)
        return fail(argv[1]);
    if (setns(ns, CLONE_NEWNET) != 0)
        return fail("setns");
    int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (sock < 0)
        return fail("socket");

    struct {
        struct nlmsghdr header;
        struct ifinfomsg link;
        struct rtattr maskHeader;
        __u32 mask;
    } request;
    memset(&request, 0, sizeof request);
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = RTM_GETLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.header.nlmsg_seq = 1;
    request.maskHeader.rta_type = IFLA_EXT_MASK;
    request.maskHeader.rta_len = RTA_LENGTH(sizeof(__u32));
    request.mask = RTEXT_FILTER_SKIP_STATS;
    if (send(sock, &request, sizeof request, 0) != (ssize_t)sizeof request)
        return fail("send");

    /* 64 KiB: larger than any datagram the kernel builds for a dump (32 KiB at most). */
    static char buffer[65536];
    long links = 0, bytes = 0;
    for (;;) {
        ssize_t got = recv(sock, buffer, sizeof buffer, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return fail("recv");
        }
        bytes += got;
        int left = (int)got;
        for (struct nlmsghdr *message = (struct nlmsghdr *)buffer; NLMSG_OK(message, left);
             message = NLMSG_NEXT(message, left)) {
            if (message->nlmsg_seq != 1)
                continue;
            if (message->nlmsg_flags & NLM_F_DUMP_INTR) {
                fprintf(stderr, "linkdump-floor: the dump was interrupted; run it again\n");
                return 1;
            }
            if (message->nlmsg_type == NLMSG_ERROR) {
                errno = -((struct nlmsgerr *)NLMSG_DATA(message))->error;
                return fail("RTM_GETLINK");
            }
            if (message->nlmsg_type == NLMSG_DONE) {
                fprintf(stderr, "linkdump-floor: %ld links, %ld bytes\n", links, bytes);
                return 0;
            }
            if (message->nlmsg_type == RTM_NEWLINK)
                links++;
        }
    }
}
