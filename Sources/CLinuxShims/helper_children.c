/* Helper children: short-lived forks that enter another process's namespace or take a copy of
   one of its descriptors to ask the kernel what it alone can answer there (the device a raw
   socket is bound to, the network namespaces sockets were made in), each ended with SIGKILL and
   waited for, so that none outlives the question. */
#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "CLinuxShims.h"
#include "forked.h"

static void tw_answer(int out, int status, int stage, int value) {
    int message[3] = { status, stage, value };
    ssize_t written;
    do { written = write(out, message, sizeof message); } while (written < 0 && errno == EINTR);
}

/* Helper children that had not ended a moment after SIGKILL, waited for later, and the slots
   promised to helpers under way (each may end up in the table). Any thread may start a helper:
   the table and the count of promised slots are touched only with the lock held, which no
   helper child ever takes, so that a fork made while another thread holds it cannot hang one. */
static pthread_mutex_t tw_unfinished_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t tw_unfinished[64];
static int tw_unfinished_count;
static int tw_unfinished_promised;

/* Waits for those in the table that have ended since; the lock is held. */
static void tw_wait_unfinished(void) {
    for (int i = 0; i < tw_unfinished_count;) {
        if (waitpid(tw_unfinished[i], NULL, WNOHANG) != 0) {
            tw_unfinished[i] = tw_unfinished[--tw_unfinished_count];
        } else {
            i++;
        }
    }
}

/* The last helper child the calling thread started (for tests: whether it is gone on return). */
static _Thread_local pid_t tw_last_helper_pid;

int tw_last_helper(void) { return tw_last_helper_pid; }

/* Whether a new helper child may be started, with a slot of the table promised to it when it
   may: not while every slot holds one that has not ended or is promised to a helper under way,
   since the table could not keep track of another. A promise is kept by `tw_end_helper` or given
   back by `tw_unpromise` when no helper was started. */
static int tw_may_fork_helper(void) {
    pthread_mutex_lock(&tw_unfinished_lock);
    tw_wait_unfinished();
    int may = tw_unfinished_count + tw_unfinished_promised < (int)(sizeof tw_unfinished / sizeof tw_unfinished[0]);
    if (may) tw_unfinished_promised++;
    pthread_mutex_unlock(&tw_unfinished_lock);
    return may;
}

/* Gives back the slot promised to a helper that was not started (no pipe, no fork). */
static void tw_unpromise(void) {
    pthread_mutex_lock(&tw_unfinished_lock);
    tw_unfinished_promised--;
    pthread_mutex_unlock(&tw_unfinished_lock);
}

/* Ends a helper child whose answer came, or did not come in time: SIGKILL (one still asking must
   not go on once its asker has moved on; it is this process's child, not waited for yet, so its
   number is still its own), then waited for up to a tenth of a second. One the kernel holds
   longer (closing a file whose FUSE server never answers) takes the slot promised to it, and is
   waited for by a later call. */
static void tw_end_helper(pid_t child) {
    kill(child, SIGKILL);
    int pidfd = tw_pidfd_open(child);
    if (pidfd >= 0) {
        struct pollfd ended = { .fd = pidfd, .events = POLLIN };
        int polled;
        do { polled = poll(&ended, 1, 100); } while (polled < 0 && errno == EINTR);
        close(pidfd);
    }
    pid_t waited;
    for (int tries = pidfd >= 0 ? 99 : 0; ; tries++) {
        do { waited = waitpid(child, NULL, WNOHANG); } while (waited < 0 && errno == EINTR);
        if (waited != 0 || tries >= 100) break;
        usleep(1000);
    }
    pthread_mutex_lock(&tw_unfinished_lock);
    tw_unfinished_promised--;
    if (waited == 0) tw_unfinished[tw_unfinished_count++] = child;
    pthread_mutex_unlock(&tw_unfinished_lock);
}

int tw_ask_bound_device(int pid, int thread, int fd, unsigned long long inode, int timeout_ms, int *stage, int *value) {
    *stage = 0;
    *value = 0;
    if (!tw_may_fork_helper()) { *value = EAGAIN; return 2; }
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) { *value = errno; tw_unpromise(); return 2; }
    pid_t child = tw_raw_fork();
    if (child < 0) {
        *value = errno;
        close(ends[0]);
        close(ends[1]);
        tw_unpromise();
        return 2;
    }
    if (child == 0) {
        int out = ends[1];
        tw_close_all_but(out);
        int pidfd = -1;
#ifdef SYS_pidfd_open
        /* PIDFD_THREAD is O_EXCL (include/uapi/linux/pidfd.h; Linux 6.9). */
        pidfd = thread > 0 ? (int)syscall(SYS_pidfd_open, thread, O_EXCL) : (int)syscall(SYS_pidfd_open, pid, 0);
#else
        errno = ENOSYS;
#endif
        if (pidfd < 0) { int code = errno; tw_answer(out, code == ESRCH ? 1 : 2, 1, code); _exit(0); }
        int copy = -1;
#ifdef SYS_pidfd_getfd
        do { copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0); } while (copy < 0 && errno == EINTR);
#else
        errno = ENOSYS;
#endif
        if (copy < 0) { int code = errno; tw_answer(out, (code == EBADF || code == ESRCH) ? 1 : 2, 2, code); _exit(0); }
        /* The copy's link names its open file without asking the file's filesystem: a descriptor
           the process swapped meanwhile for a file on a FUSE mount whose server never answers is
           told apart here and never looked at. (Closing it, which _exit does, may wait on that
           server: the answer is sent first, and the parent does not wait for this child.) */
        char path[48] = "/proc/self/fd/";
        *tw_decimal(path + 14, (unsigned long long)copy) = 0;
        char expected[48] = "socket:[";
        char *end = tw_decimal(expected + 8, inode);
        *end++ = ']';
        *end = 0;
        char link[64];
        ssize_t length = readlink(path, link, sizeof link);
        if (length != (ssize_t)(end - expected) || memcmp(link, expected, (size_t)length) != 0) { tw_answer(out, 1, 0, 0); _exit(0); }
        int index = 0;
        socklen_t size = sizeof index;
        if (getsockopt(copy, SOL_SOCKET, 62 /* SO_BINDTOIFINDEX */, &index, &size) != 0) { tw_answer(out, 2, 3, errno); _exit(0); }
        tw_answer(out, 0, 0, index);
        _exit(0);
    }
    close(ends[1]);
    struct pollfd ready = { .fd = ends[0], .events = POLLIN };
    int polled;
    do { polled = poll(&ready, 1, timeout_ms); } while (polled < 0 && errno == EINTR);
    int message[3];
    ssize_t got = -1;
    if (polled > 0) { do { got = read(ends[0], message, sizeof message); } while (got < 0 && errno == EINTR); }
    close(ends[0]);
    tw_last_helper_pid = child;
    tw_end_helper(child);
    if (got != (ssize_t)sizeof message) return 3;
    *stage = message[1];
    *value = message[2];
    return message[0];
}

/* One report of the child of tw_socket_namespaces: a namespace (kind 0, with its descriptor), a
   socket that could not be asked (kind 2), or the end (kind 1). */
struct tw_socket_report { int kind, index, stage, value; unsigned long long inode; };

static void tw_report(int out, struct tw_socket_report report, int fd) {
    struct iovec part = { .iov_base = &report, .iov_len = sizeof report };
    union { char buffer[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&control, 0, sizeof control);
        message.msg_control = control.buffer;
        message.msg_controllen = sizeof control.buffer;
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(header), &fd, sizeof fd);
    }
    ssize_t sent;
    do { sent = sendmsg(out, &message, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
}

int tw_socket_namespaces(int count, const int *pids, const int *fds, const unsigned long long *inodes,
                         int join_count, const char *const *join_paths,
                         int known_count, const unsigned long long *known, int timeout_ms,
                         int *out_fds, unsigned long long *out_inodes, int *out_index, int *out_count,
                         int *refused, int *refused_index, int *stage, int *value) {
    *out_count = 0;
    *refused = 0;
    *refused_index = -1;
    *stage = 0;
    *value = 0;
    if (!tw_may_fork_helper()) return EAGAIN;
    /* The inodes the child has sent, kept in memory it has of its own after the fork (the child
       of a threaded process must not allocate). */
    unsigned long long *sent_inodes = calloc(count > 0 ? (size_t)count : 1, sizeof *sent_inodes);
    if (!sent_inodes) { tw_unpromise(); return ENOMEM; }
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) { int code = errno; free(sent_inodes); tw_unpromise(); return code; }
    pid_t child = tw_raw_fork();
    if (child < 0) {
        int code = errno;
        close(ends[0]);
        close(ends[1]);
        free(sent_inodes);
        tw_unpromise();
        return code;
    }
    if (child == 0) {
        int out = ends[1];
        tw_close_all_but(out);
        int sent_count = 0;
        int pidfd = -1, pidfd_of = 0;
        /* Into the holders' net_cls and net_prio groups first: a copy takes its receiver's. */
        char own[24];
        size_t own_length = (size_t)(tw_decimal(own, (unsigned long long)getpid()) - own);
        for (int j = 0; j < join_count; j++) {
            int group = open(join_paths[j], O_WRONLY | O_CLOEXEC);
            ssize_t written = -1;
            if (group >= 0) {
                do { written = write(group, own, own_length); } while (written < 0 && errno == EINTR);
                int code = errno;
                close(group);
                errno = code;
            }
            if (written != (ssize_t)own_length) {
                struct tw_socket_report failed = { 2, 0, 4, errno ? errno : EIO, 0 };
                for (int i = 0; i < count; i++) { failed.index = i; tw_report(out, failed, -1); }
                struct tw_socket_report done = { 1, 0, 0, 0, 0 };
                tw_report(out, done, -1);
                _exit(0);
            }
        }
        for (int i = 0; i < count; i++) {
            struct tw_socket_report report = { 2, i, 0, 0, 0 };
            if (pids[i] != pidfd_of) {
                if (pidfd >= 0) close(pidfd);
                pidfd_of = pids[i];
#ifdef SYS_pidfd_open
                pidfd = (int)syscall(SYS_pidfd_open, pids[i], 0);
#else
                pidfd = -1;
                errno = ENOSYS;
#endif
                if (pidfd < 0 && errno != ESRCH) { report.stage = 1; report.value = errno; tw_report(out, report, -1); }
            }
            if (pidfd < 0) continue;
            int copy = -1;
#ifdef SYS_pidfd_getfd
            do { copy = (int)syscall(SYS_pidfd_getfd, pidfd, fds[i], 0); } while (copy < 0 && errno == EINTR);
#else
            errno = ENOSYS;
#endif
            if (copy < 0) {
                if (errno != EBADF && errno != ESRCH) { report.stage = 2; report.value = errno; tw_report(out, report, -1); }
                continue;
            }
            /* Only the socket noted is asked: a descriptor swapped meanwhile for another file (one
               on a FUSE mount whose server never answers) is told apart by the copy's link and
               left open, untouched, until this child exits. */
            char path[48] = "/proc/self/fd/";
            *tw_decimal(path + 14, (unsigned long long)copy) = 0;
            char expected[48] = "socket:[";
            char *end = tw_decimal(expected + 8, inodes[i]);
            *end++ = ']';
            *end = 0;
            char link[64];
            ssize_t length = readlink(path, link, sizeof link);
            if (length != (ssize_t)(end - expected) || memcmp(link, expected, (size_t)length) != 0) continue;
            int namespace = ioctl(copy, 0x894C /* SIOCGSKNS */);
            if (namespace < 0) {
                report.stage = 3;
                report.value = errno;
                tw_report(out, report, -1);
                close(copy);
                continue;
            }
            close(copy);
            struct stat info;
            int new_one = fstat(namespace, &info) == 0;
            for (int k = 0; new_one && k < known_count; k++) if (known[k] == (unsigned long long)info.st_ino) new_one = 0;
            for (int k = 0; new_one && k < sent_count; k++) if (sent_inodes[k] == (unsigned long long)info.st_ino) new_one = 0;
            if (new_one) {
                sent_inodes[sent_count++] = (unsigned long long)info.st_ino;
                struct tw_socket_report found = { 0, i, 0, 0, (unsigned long long)info.st_ino };
                tw_report(out, found, namespace);
            }
            close(namespace);
        }
        struct tw_socket_report done = { 1, 0, 0, 0, 0 };
        tw_report(out, done, -1);
        _exit(0);
    }
    close(ends[1]);
    free(sent_inodes);
    int result = -1;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms) break;
        struct pollfd ready = { .fd = ends[0], .events = POLLIN };
        int polled;
        do { polled = poll(&ready, 1, (int)(timeout_ms - elapsed)); } while (polled < 0 && errno == EINTR);
        if (polled <= 0) break;
        struct tw_socket_report report;
        struct iovec part = { .iov_base = &report, .iov_len = sizeof report };
        union { char buffer[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
        struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer };
        ssize_t got;
        do { got = recvmsg(ends[0], &message, MSG_CMSG_CLOEXEC); } while (got < 0 && errno == EINTR);
        if (got != (ssize_t)sizeof report) break;
        int passed = -1;
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        if (header && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) memcpy(&passed, CMSG_DATA(header), sizeof passed);
        if (report.kind == 1) { result = 0; break; }
        if (report.kind == 2) {
            if ((*refused)++ == 0) { *refused_index = report.index; *stage = report.stage; *value = report.value; }
            continue;
        }
        if (passed < 0) continue;
        if (*out_count >= count) { close(passed); continue; }
        out_fds[*out_count] = passed;
        out_inodes[*out_count] = report.inode;
        out_index[*out_count] = report.index;
        (*out_count)++;
    }
    close(ends[0]);
    tw_last_helper_pid = child;
    tw_end_helper(child);
    return result;
}
#endif
