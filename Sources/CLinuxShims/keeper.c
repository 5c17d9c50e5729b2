#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "CLinuxShims.h"
#include "forked.h"

/* The keeper is a fork of this multi-threaded process that never executes anything else: forked
   by the system call (tw_raw_fork, no atfork handler, no C library lock), it makes system calls
   only from then on (see forked.h), and forks the command the same way. */

/* How long the keeper waits for what it sent SIGKILL to, in seconds: a process stuck in the
   kernel (a hung NFS or FUSE server) may not die at once, and is left to die unwaited for. */
enum { TW_KEEPER_PATIENCE = 5 };

static long tw_elapsed_ms(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* SIGKILL to `pid`, a child of the keeper's: through a pidfd where the kernel has them. Either
   way it reaches that process and no other, since a child's number is not given to another
   process before its parent has waited for it. */
static void tw_kill_child(pid_t pid) {
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
        long sent = syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        int code = errno;
        close(pidfd);
        if (sent == 0 || code != ENOSYS) return;
    } else if (errno != ENOSYS) {
        return;
    }
#endif
    kill(pid, SIGKILL);
}

/* Reads the numbers in the file at `path` (separated by anything else), calling `found` with each
   and `argument`; false when the file cannot be opened. */
static int tw_each_number(const char *path, void (*found)(unsigned long long, void *), void *argument) {
    int fd;
    do { fd = open(path, O_RDONLY | O_CLOEXEC); } while (fd < 0 && errno == EINTR);
    if (fd < 0) return 0;
    char buffer[4096];
    unsigned long long number = 0;
    int digits = 0;
    for (;;) {
        ssize_t got = read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        for (ssize_t i = 0; i < got; i++) {
            if (buffer[i] >= '0' && buffer[i] <= '9') {
                number = number * 10 + (unsigned long long)(buffer[i] - '0');
                digits = 1;
            } else {
                if (digits) found(number, argument);
                number = 0;
                digits = 0;
            }
        }
    }
    if (digits) found(number, argument);
    close(fd);
    return 1;
}

static void tw_kill_listed(unsigned long long pid, void *unused) {
    (void)unused;
    tw_kill_child((pid_t)pid);
}

struct tw_linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* The fourth field of /proc/PID/stat, its parent, follows the last ')' (the name before it may
   hold anything). The fields there come from the process's task, not its memory: reading them
   takes no lock of its address space. */
static void tw_kill_if_child_by_stat(const char *name) {
    char path[64] = "/proc/";
    size_t length = strnlen(name, 20);
    memcpy(path + 6, name, length);
    memcpy(path + 6 + length, "/stat", 6);
    int fd;
    do { fd = open(path, O_RDONLY | O_CLOEXEC); } while (fd < 0 && errno == EINTR);
    if (fd < 0) return;
    char stat[1024];
    ssize_t got;
    do { got = read(fd, stat, sizeof stat - 1); } while (got < 0 && errno == EINTR);
    close(fd);
    if (got <= 0) return;
    stat[got] = 0;
    char *after = strrchr(stat, ')');
    if (!after || after[1] != ' ' || !after[2] || after[3] != ' ') return;
    unsigned long long parent = 0, pid = 0;
    for (char *digit = after + 4; *digit >= '0' && *digit <= '9'; digit++) parent = parent * 10 + (unsigned long long)(*digit - '0');
    for (const char *digit = name; *digit >= '0' && *digit <= '9'; digit++) pid = pid * 10 + (unsigned long long)(*digit - '0');
    if (parent == (unsigned long long)getpid() && pid > 0) tw_kill_child((pid_t)pid);
}

/* SIGKILL to every child the keeper has: listed by the kernel in /proc/self/task/TID/children
   (the keeper has one thread), or, on a kernel built without that file, found by the parent
   named in each /proc/PID/stat. Neither reads another process's memory (its environment, say),
   which a process stuck in the kernel holding its memory-map lock would keep waiting for ever. */
static void tw_kill_children(void) {
    char path[64] = "/proc/self/task/";
    char *end = tw_decimal(path + 16, (unsigned long long)getpid());
    memcpy(end, "/children", 10);
    if (tw_each_number(path, tw_kill_listed, NULL)) return;
    int directory;
    do { directory = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC); } while (directory < 0 && errno == EINTR);
    if (directory < 0) return;
    char entries[4096] __attribute__((aligned(8)));
    for (;;) {
        long got = syscall(SYS_getdents64, directory, entries, sizeof entries);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        for (long offset = 0; offset < got;) {
            struct tw_linux_dirent64 *entry = (struct tw_linux_dirent64 *)(entries + offset);
            if (entry->d_name[0] >= '1' && entry->d_name[0] <= '9') tw_kill_if_child_by_stat(entry->d_name);
            offset += entry->d_reclen;
        }
    }
    close(directory);
}

/* Ends everything the keeper has been given (what the command left running, at any depth, as
   each one's parent dies) and waits for it: SIGKILL to every child, then each one that died is
   waited for, until none is left or TW_KEEPER_PATIENCE has passed. */
static void tw_end_adopted(const sigset_t *child_signal) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        tw_kill_children();
        pid_t reaped;
        int any = 0;
        while ((reaped = waitpid(-1, NULL, WNOHANG)) > 0) any = 1;
        if (reaped < 0 && errno == ECHILD) return;
        if (tw_elapsed_ms(&start) >= TW_KEEPER_PATIENCE * 1000) return;
        if (!any) {
            struct timespec tick = { 0, 10 * 1000 * 1000 };
            sigtimedwait(child_signal, NULL, &tick);
        }
    }
}

/* Ends the keeper as the command ended: with its exit status, or by the signal that killed it
   (with no core dump of the keeper's own). */
static void tw_end_as(const siginfo_t *ended) {
    if (ended->si_code == CLD_EXITED) _exit(ended->si_status & 0xff);
    int number = ended->si_status;
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, number);
    kill(getpid(), number);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    _exit(128 + number);
}

static void tw_report_failure(int report, int code) {
    ssize_t written;
    do { written = write(report, &code, sizeof code); } while (written < 0 && errno == EINTR);
}

/* The keeper: runs the command and stays its parent, the child subreaper of all it starts. */
static void tw_keep(const char *path, char *const argv[], char *const envp[], const int fds[3], int report) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    struct sigaction standard;
    memset(&standard, 0, sizeof standard);
    standard.sa_handler = SIG_DFL;
    sigemptyset(&standard.sa_mask);
    for (int number = 1; number < NSIG; number++) {
        if (number != SIGKILL && number != SIGSTOP) sigaction(number, &standard, NULL);
    }
    /* Without it (before Linux 3.4) what the command leaves running goes to init, unended. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    /* Copied out of the way first, so that none of 0, 1 and 2 is overwritten before it is read. */
    int copies[3];
    for (int target = 0; target < 3; target++) {
        copies[target] = fcntl(fds[target], F_DUPFD_CLOEXEC, 3);
        if (copies[target] < 0) { tw_report_failure(report, errno); _exit(127); }
    }
    for (int target = 0; target < 3; target++) {
        if (dup2(copies[target], target) < 0) { tw_report_failure(report, errno); _exit(127); }
    }
    tw_close_all_but(report);
    pid_t command = tw_raw_fork();
    if (command < 0) { tw_report_failure(report, errno); _exit(127); }
    if (command == 0) {
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, envp);
        tw_report_failure(report, errno);
        _exit(127);
    }
    /* Set from this side too, so the group exists before any signal is sent to it. */
    setpgid(command, 0);
    close(report);
    /* The command's output ends when the command and all it started are gone, not the keeper. */
    for (int target = 0; target < 3; target++) close(target);

    sigset_t asked;
    sigemptyset(&asked);
    sigaddset(&asked, SIGTERM);
    sigaddset(&asked, SIGUSR1);
    sigaddset(&asked, SIGCHLD);
    sigset_t child_signal;
    sigemptyset(&child_signal);
    sigaddset(&child_signal, SIGCHLD);
    siginfo_t ended;
    int ending = 0;
    struct timespec ending_since = { 0, 0 };
    for (;;) {
        /* Not waited for yet: until it is, its number (and its group's) stays its own. */
        memset(&ended, 0, sizeof ended);
        if (waitid(P_PID, (id_t)command, &ended, WEXITED | WNOHANG | WNOWAIT) == 0 && ended.si_pid == command) break;
        if (ending && tw_elapsed_ms(&ending_since) >= TW_KEEPER_PATIENCE * 1000) {
            ended.si_code = CLD_KILLED;
            ended.si_status = SIGKILL;
            break;
        }
        struct timespec tick = { 0, 100 * 1000 * 1000 };
        int taken = ending ? sigtimedwait(&child_signal, NULL, &tick) : sigwaitinfo(&asked, NULL);
        if (taken == SIGTERM) {
            if (kill(-command, SIGTERM) != 0) kill(command, SIGTERM);
        } else if (taken == SIGUSR1) {
            kill(-command, SIGKILL);
            kill(command, SIGKILL);
            ending = 1;
            clock_gettime(CLOCK_MONOTONIC, &ending_since);
        }
        /* While ending, what it adopted is killed at once and at every tick, not only once the
           command is gone: the watcher stops waiting for the keeper after a bound, and a command
           stuck in the kernel must not keep the keeper from ending the rest meanwhile. */
        if (ending) tw_kill_children();
    }
    /* What is left in its group, before the command is waited for. */
    kill(-command, SIGKILL);
    if (ended.si_pid == command) waitpid(command, NULL, 0);
    tw_end_adopted(&child_signal);
    tw_end_as(&ended);
}

int tw_spawn_kept(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, int stderr_fd, int *pid) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    pid_t keeper = tw_raw_fork();
    if (keeper < 0) {
        int code = errno;
        close(report[0]);
        close(report[1]);
        return code;
    }
    if (keeper == 0) {
        int fds[3] = { stdin_fd, stdout_fd, stderr_fd };
        tw_keep(path, argv, envp, fds, report[1]);
    }
    close(report[1]);
    /* End of file once the command runs the program; an errno when it could not. */
    int code = 0;
    ssize_t got;
    do { got = read(report[0], &code, sizeof code); } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof code && code != 0) {
        while (waitpid(keeper, NULL, 0) < 0 && errno == EINTR) {}
        return code;
    }
    *pid = keeper;
    return 0;
}
#endif
