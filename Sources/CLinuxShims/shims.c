#ifdef __linux__
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <linux/cn_proc.h>
#include <linux/filter.h>
#include <linux/connector.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "CLinuxShims.h"
#include "forked.h"

static int saved_argc;
static char *const *saved_argv;

/* glibc calls the main program's constructors with (argc, argv, envp). */
__attribute__((constructor)) static void tw_save_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

int tw_saved_argc(void) { return saved_argv ? saved_argc : 0; }

char *const *tw_saved_argv(void) { return saved_argv; }

int tw_setns(int fd, int nstype) { return setns(fd, nstype); }

int tw_unshare(int flags) { return unshare(flags); }
int tw_clone_newnet(void) { return CLONE_NEWNET; }
int tw_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int tw_ioctl_int(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }
int tw_gettid(void) { return (int)syscall(SYS_gettid); }

int tw_is_char_device(int dirfd, const char *path, unsigned major, unsigned minor,
                      unsigned long long *device, unsigned long long *inode) {
    struct statx info;
    if (statx(dirfd, path, AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, &info) != 0) return -1;
    *device = makedev(info.stx_dev_major, info.stx_dev_minor);
    *inode = info.stx_ino;
    return S_ISCHR(info.stx_mode) && info.stx_rdev_major == major && info.stx_rdev_minor == minor;
}

int tw_kcmp_files(int pid1, int pid2) {
#ifdef SYS_kcmp
    return (int)syscall(SYS_kcmp, (pid_t)pid1, (pid_t)pid2, KCMP_FILES, 0UL, 0UL);
#else
    errno = ENOSYS;
    return -1;
#endif
}

static volatile sig_atomic_t tw_stop = 0;
static volatile sig_atomic_t tw_reload = 0;

static int tw_signal_pipe[2] = { -1, -1 };

static void tw_watch_handler(int number) {
    if (number == SIGHUP) tw_reload = 1; else tw_stop = number;
    int saved = errno;
    char byte = 1;
    if (tw_signal_pipe[1] >= 0) (void)!write(tw_signal_pipe[1], &byte, 1);
    errno = saved;
}

int tw_watch_signal_fd(void) { return tw_signal_pipe[0]; }

void tw_install_watch_signals(void) {
    if (tw_signal_pipe[0] < 0 && pipe2(tw_signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        tw_signal_pipe[0] = tw_signal_pipe[1] = -1;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = tw_watch_handler;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
    /* A process inherits its parent's signal mask across exec (a parent spawning from a thread
       that blocks everything is common): unblock what the watcher must hear. */
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGINT);
    sigaddset(&wanted, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &wanted, NULL);
}

int tw_stop_requested(void) { return tw_stop; }

int tw_reload_pending(void) { return tw_reload; }

int tw_take_reload(void) {
    int pending = tw_reload;
    tw_reload = 0;
    return pending;
}

int tw_proc_events_open(void) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) return -errno;
    struct sockaddr_nl address;
    memset(&address, 0, sizeof address);
    address.nl_family = AF_NETLINK;
    address.nl_groups = CN_IDX_PROC;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) { int e = errno; close(fd); return -e; }
    /* Nothing passes until the caller names processes: not even the subscription's answer. */
    int filtered = tw_proc_events_filter(fd, NULL, 0);
    if (filtered < 0) { close(fd); return filtered; }
    /* nlmsghdr, then cn_msg, then the operation. */
    char request[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))] __attribute__((aligned(NLMSG_ALIGNTO)));
    memset(request, 0, sizeof request);
    struct nlmsghdr *header = (struct nlmsghdr *)request;
    header->nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op));
    header->nlmsg_type = NLMSG_DONE;
    struct cn_msg *message = NLMSG_DATA(header);
    message->id.idx = CN_IDX_PROC;
    message->id.val = CN_VAL_PROC;
    message->len = sizeof(enum proc_cn_mcast_op);
    enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
    memcpy(message->data, &op, sizeof op);
    if (send(fd, request, header->nlmsg_len, 0) < 0) { int e = errno; close(fd); return -e; }
    return fd;
}

int tw_proc_events_filter(int fd, const int *tgids, int count) {
    /* Classic BPF reads words in network byte order; the connector writes them in the host's. */
    enum { event = NLMSG_HDRLEN + sizeof(struct cn_msg) };
    const unsigned what = event + offsetof(struct proc_event, what);
    const unsigned pid = event + offsetof(struct proc_event, event_data.exit.process_pid);
    const unsigned tgid = event + offsetof(struct proc_event, event_data.exit.process_tgid);
    int every = count < 0 || count > TW_PROC_FILTER_MAX;
    struct sock_filter program[8 + 2 * TW_PROC_FILTER_MAX];
    int n = 0;
    /* Only exits. */
    program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, what);
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_EXIT), 1, 0);
    program[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
    if (every) {
        /* Of every process, but not of each thread (a thread's exit has a pid of its own). */
        program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, pid);
        program[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
        program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, tgid);
        program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 1, 0);
        program[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
        program[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
    } else {
        /* Of any thread of the processes asked for: a process whose first thread ended early
           ends with another thread's exit. Each comparison is followed by its accept, so no
           jump is longer than one instruction whatever the count. */
        program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, tgid);
        for (int i = 0; i < count; i++) {
            program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl((unsigned)tgids[i]), 0, 1);
            program[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
        }
        program[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
    }
    struct sock_fprog filter = { .len = (unsigned short)n, .filter = program };
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &filter, sizeof filter) != 0) {
        int e = errno;
        /* A filter left from before could hide the exits of processes it does not name. */
        int none = 0;
        setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &none, sizeof none);
        return -e;
    }
    return every ? 1 : 0;
}

int tw_netlink_keep_family(int fd, unsigned char family) {
    /* The family is the first byte after the message header (ndm_family, ifi_family, rtm_family);
       a byte needs no thought of byte order. A message too short to have one is dropped. */
    struct sock_filter program[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NLMSG_HDRLEN),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, family, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog filter = { .len = sizeof program / sizeof program[0], .filter = program };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &filter, sizeof filter) == 0 ? 0 : -errno;
}

int tw_proc_events_read(int fd, int *tgids, int max) {
    char buffer[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
    ssize_t length;
    do { length = recv(fd, buffer, sizeof buffer, 0); } while (length < 0 && errno == EINTR);
    if (length < 0) return -errno;
    int count = 0;
    for (struct nlmsghdr *header = (struct nlmsghdr *)buffer; NLMSG_OK(header, (size_t)length);
         header = NLMSG_NEXT(header, length)) {
        if (header->nlmsg_type == NLMSG_ERROR || header->nlmsg_type == NLMSG_NOOP) continue;
        struct cn_msg *message = NLMSG_DATA(header);
        if (header->nlmsg_len < NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(struct proc_event))) continue;
        struct proc_event *event = (struct proc_event *)message->data;
        if (event->what == PROC_EVENT_EXIT && count < max) tgids[count++] = event->event_data.exit.process_tgid;
    }
    return count;
}

static volatile sig_atomic_t tw_reap_caught = 0;
static struct sigaction tw_reap_previous[3];
static sigset_t tw_reap_previous_mask;
static const int tw_reap_signals[3] = { SIGTERM, SIGINT, SIGHUP };

static void tw_reap_handler(int number) {
    tw_reap_caught = number;
    /* The handler the reap replaced hears the signal too: a watcher's stop or reload is not
       lost to the reap it interrupts. (A plain reap had the default action there, never run; an
       ignored signal keeps being ignored and never comes here.) */
    for (int i = 0; i < 3; i++) {
        if (tw_reap_signals[i] != number || (tw_reap_previous[i].sa_flags & SA_SIGINFO)) continue;
        void (*previous)(int) = tw_reap_previous[i].sa_handler;
        /* (Installed over itself, by two reaps at once in one process, it is not called again.) */
        if (previous != SIG_DFL && previous != SIG_IGN && previous != NULL && previous != tw_reap_handler) previous(number);
    }
}

void tw_install_reap_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = tw_reap_handler;
    sigemptyset(&action.sa_mask);
    tw_reap_caught = 0;
    for (int i = 0; i < 3; i++) {
        sigaction(tw_reap_signals[i], &action, &tw_reap_previous[i]);
        /* A signal the reap was started ignoring (`nohup`, an asynchronous command's SIGINT) stays
           ignored: it was not meant to stop anything. */
        if (!(tw_reap_previous[i].sa_flags & SA_SIGINFO) && tw_reap_previous[i].sa_handler == SIG_IGN) {
            sigaction(tw_reap_signals[i], &tw_reap_previous[i], NULL);
        }
    }
    /* A stop or reload a watcher heard before the act phase began interrupts it as one heard
       during it would: the plan was made before the stop, or with the settings being replaced. */
    if (tw_stop) tw_reap_caught = tw_stop;
    else if (tw_reload) tw_reap_caught = SIGHUP;
    /* The thread that acts must hear them even if it inherited a mask that blocks them. */
    sigset_t wanted;
    sigemptyset(&wanted);
    for (int i = 0; i < 3; i++) sigaddset(&wanted, tw_reap_signals[i]);
    pthread_sigmask(SIG_UNBLOCK, &wanted, &tw_reap_previous_mask);
}

int tw_reap_signal(void) { return tw_reap_caught; }

void tw_restore_reap_signals(void) {
    pthread_sigmask(SIG_SETMASK, &tw_reap_previous_mask, NULL);
    for (int i = 0; i < 3; i++) sigaction(tw_reap_signals[i], &tw_reap_previous[i], NULL);
}
#endif

int tw_pidfd_open(int pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int tw_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, int stderr_fd, int *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int result = posix_spawn_file_actions_init(&actions);
    if (result != 0) return result;
    result = posix_spawnattr_init(&attributes);
    if (result != 0) { posix_spawn_file_actions_destroy(&actions); return result; }
    int fds[3] = { stdin_fd, stdout_fd, stderr_fd };
    for (int target = 0; target < 3 && result == 0; target++) {
        result = posix_spawn_file_actions_adddup2(&actions, fds[target], target);
    }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    if (result == 0) result = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    int reset[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2 };
    for (unsigned i = 0; i < sizeof reset / sizeof reset[0]; i++) sigaddset(&defaults, reset[i]);
    if (result == 0) result = posix_spawnattr_setsigmask(&attributes, &none);
    if (result == 0) result = posix_spawnattr_setsigdefault(&attributes, &defaults);
    /* A process group of its own: stopping the child signals the group, and so what it started. */
    if (result == 0) result = posix_spawnattr_setpgroup(&attributes, 0);
    if (result == 0) result = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    pid_t child = 0;
    if (result == 0) result = posix_spawn(&child, path, &actions, &attributes, argv, envp);
    if (result == 0) *pid = child;
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return result;
}

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

/* The bpf(2) commands and attach types used below, by number: headers older than Linux 6.6 do
 * not name the tcx ones, and these numbers are the kernel's ABI. */
enum {
    TW_BPF_PROG_GET_NEXT_ID = 11, TW_BPF_PROG_GET_FD_BY_ID = 13, TW_BPF_OBJ_GET_INFO_BY_FD = 15,
    TW_BPF_PROG_QUERY = 16, TW_BPF_PROG_TYPE_SCHED_CLS = 3, TW_BPF_PROG_TYPE_SCHED_ACT = 4,
    TW_BPF_TCX_INGRESS = 46, TW_BPF_TCX_EGRESS = 47,
};

static long tw_bpf(int command, void *attr, unsigned size) {
    long result;
    do { result = syscall(__NR_bpf, command, attr, size); } while (result < 0 && errno == EINTR);
    return result;
}

int tw_bpf_tc_programs_loaded(int *loaded) {
    *loaded = 0;
    unsigned id = 0;
    for (;;) {
        uint32_t next[4] = { id, 0, 0, 0 };
        if (tw_bpf(TW_BPF_PROG_GET_NEXT_ID, next, sizeof next) < 0) return errno == ENOENT ? 0 : errno;
        id = next[1];
        uint32_t by_id[4] = { id, 0, 0, 0 };
        long fd = tw_bpf(TW_BPF_PROG_GET_FD_BY_ID, by_id, sizeof by_id);
        if (fd < 0) {
            if (errno == ENOENT) continue;
            return errno;
        }
        uint32_t info[8];
        memset(info, 0, sizeof info);
        uint64_t get[2];
        uint32_t *words = (uint32_t *)get;
        words[0] = (uint32_t)fd;
        words[1] = sizeof info;
        get[1] = (uint64_t)(uintptr_t)info;
        long asked = tw_bpf(TW_BPF_OBJ_GET_INFO_BY_FD, get, sizeof get);
        int code = errno;
        close((int)fd);
        if (asked < 0) return code;
        if (info[0] == TW_BPF_PROG_TYPE_SCHED_CLS || info[0] == TW_BPF_PROG_TYPE_SCHED_ACT) {
            *loaded = 1;
            return 0;
        }
    }
}

int tw_bpf_tcx_query(int ifindex, int egress, unsigned *programs, unsigned *links, unsigned *count) {
    uint64_t attr[8];
    memset(attr, 0, sizeof attr);
    uint32_t *words = (uint32_t *)attr;
    words[0] = (uint32_t)ifindex;
    words[1] = egress ? TW_BPF_TCX_EGRESS : TW_BPF_TCX_INGRESS;
    attr[2] = (uint64_t)(uintptr_t)programs;
    words[6] = *count;
    attr[5] = (uint64_t)(uintptr_t)links;
    if (tw_bpf(TW_BPF_PROG_QUERY, attr, sizeof attr) < 0) {
        int code = errno;
        /* More programs than room: the count is still told. */
        if (code == ENOSPC) *count = words[6];
        return code;
    }
    *count = words[6];
    return 0;
}
