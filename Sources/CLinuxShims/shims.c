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
