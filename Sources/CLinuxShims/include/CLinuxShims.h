#ifndef TUNWARDEN_CLINUXSHIMS_H
#define TUNWARDEN_CLINUXSHIMS_H

/*
 * The few Linux system calls and constants that Swift's Glibc module does not expose
 * (setns needs _GNU_SOURCE; ioctl is variadic; kcmp has no libc wrapper). Each wrapper is a direct call with no
 * policy of its own: retrying EINTR and turning errno into errors is the Swift side's job.
 */
#ifdef __linux__
#include <sys/types.h>
#include <sys/socket.h>
#include <linux/netlink.h>

/// The process's argument count and vector as the C library handed them to the program's
/// constructors, before any Swift code ran (0 and NULL where it handed none). Swift on Linux
/// builds `CommandLine` from /proc/self/cmdline, which is empty where /proc is not mounted or is
/// another PID namespace's; these do not depend on /proc.
int tw_saved_argc(void);
char *const *tw_saved_argv(void);
/// Moves the calling thread into the namespace behind `fd` (see setns(2)).
int tw_setns(int fd, int nstype);
/// Gives the calling thread namespaces of its own (see unshare(2); needs _GNU_SOURCE).
int tw_unshare(int flags);
/// The CLONE_NEWNET namespace type for tw_setns.
int tw_clone_newnet(void);
/// ioctl(2) with a pointer argument.
int tw_ioctl_ptr(int fd, unsigned long request, void *arg);
/// ioctl(2) with an integer argument.
int tw_ioctl_int(int fd, unsigned long request, unsigned long arg);
/// Whether `path` (relative to `dirfd`, followed) is a character device numbered
/// `major`:`minor`: 1 or 0, or -1 with errno set; either way `*device` and `*inode` are set to the
/// file's device (as st_dev encodes it) and inode. statx(2) with AT_STATX_DONT_SYNC, so that a
/// network or FUSE file is answered from what the kernel has cached instead of from its server.
int tw_is_char_device(int dirfd, const char *path, unsigned major, unsigned minor,
                      unsigned long long *device, unsigned long long *inode);
/// The calling thread's kernel thread id (gettid(2)).
int tw_gettid(void);
/// kcmp(2) with KCMP_FILES: 0 when tasks `pid1` and `pid2` share one descriptor table, 1 or 2
/// when they do not (an order), 3 when they cannot be ordered; -1 with errno set on failure
/// (ENOSYS without CONFIG_KCMP, EPERM without the right to inspect both, ESRCH when one is gone).
int tw_kcmp_files(int pid1, int pid2);

/// Installs SIGTERM, SIGINT and SIGHUP handlers that only set flags and write a byte to a pipe
/// (without SA_RESTART, so a blocking poll also returns at once with EINTR). A watcher polls the
/// pipe's read end (`tw_watch_signal_fd`) beside its sockets, so a signal that arrives between
/// its check of the flags and its poll still ends the poll.
void tw_install_watch_signals(void);
/// The read end of the signal pipe (non-blocking), or -1 before the handlers are installed.
int tw_watch_signal_fd(void);
/// The signal (SIGTERM or SIGINT) that asked the watcher to stop, or 0.
int tw_stop_requested(void);
/// Whether SIGHUP arrived since the last call.
int tw_take_reload(void);
/// Whether a SIGHUP is waiting for `tw_take_reload`, without taking it.
int tw_reload_pending(void);

/// Opens a proc connector socket (NETLINK_CONNECTOR, CN_IDX_PROC) subscribed to process events,
/// with a filter that lets nothing through until `tw_proc_events_filter` names processes; returns
/// the descriptor or -errno (it needs CAP_NET_ADMIN in the initial namespaces).
int tw_proc_events_open(void);
/// Reads one datagram of process events and stores the thread-group ids of processes that
/// exited (at most `max`); returns how many, or -errno (-ENOBUFS: events were lost).
int tw_proc_events_read(int fd, int *tgids, int max);

/// The most processes `tw_proc_events_filter` names one by one.
#define TW_PROC_FILTER_MAX 1024

/// Lets only the exits of the processes whose ids (tgids) are given through to the proc events
/// socket `fd` (a socket filter; the exit of any of their threads, as a process whose first
/// thread ended early ends with another's), so that the rest of the system's forks, execs and
/// exits never wake its reader. With a count below 0 or above TW_PROC_FILTER_MAX, every process's
/// exit is let through (never a thread's). Returns 0 when the processes are named one by one, 1 when every
/// exit passes, or -errno, having removed any filter (every event passes). An exit that happens
/// before the filter is in place is not reported: the caller checks that each process it names
/// for the first time is still alive once this returns.
int tw_proc_events_filter(int fd, const int *tgids, int count);

/// Has the kernel drop, before they are queued, the messages reaching the netlink socket `fd`
/// whose family (the first byte after the message header: an rtnetlink ndmsg's, ifinfomsg's or
/// rtmsg's) is not `family` (a socket filter), so that they never wake its reader nor fill its
/// receive buffer. Returns 0, or -errno with no filter attached.
int tw_netlink_keep_family(int fd, unsigned char family);

/// Catches SIGTERM, SIGINT and SIGHUP while a reap acts, so that it can finish or roll back the
/// batch in hand and journal what happened instead of dying half-way. `tw_reap_signal` is the
/// last signal caught (0 for none); `tw_restore_reap_signals` puts back the previous handlers.
/// The handlers they replace (a watcher's, `tw_install_watch_signals`) are called too, and a
/// stop or reload the watcher heard before counts as caught from the start; a signal ignored when
/// the reap began (`nohup`) stays ignored.
void tw_install_reap_signals(void);
int tw_reap_signal(void);
void tw_restore_reap_signals(void);

/// pidfd_open(2): a descriptor that polls readable once process `pid` has exited; -1 with errno
/// set (ENOSYS before Linux 5.3).
int tw_pidfd_open(int pid);
/// Which device the socket behind descriptor `fd` of process `pid` (of thread `thread`, when
/// not 0, whose descriptor table is its own) is bound to, asked by a child process: it copies the
/// descriptor (pidfd_getfd), checks from the copy's /proc link alone (no call into the file's
/// filesystem) that it is the socket with `inode`, and asks SO_BINDTOIFINDEX. Nothing this process
/// does touches the copy, so a descriptor swapped for a file whose filesystem never answers (FUSE)
/// cannot hold it up. Once its answer has come, or `timeout_ms` has passed without one, the child
/// gets SIGKILL and is waited for; one the kernel keeps from dying at once is waited for by a later
/// call; from any thread, at most 64 such children, under way or left, are kept track of, and beyond
/// them no new child is started (refused, EAGAIN). Returns 0 with `*value` the ifindex
/// (0: none), 1 when the descriptor no longer holds that socket, 2 when refused with `*value` the
/// errno and `*stage` 1 (pidfd_open), 2 (pidfd_getfd), 3 (getsockopt) or 0 (pipe or fork), and 3
/// when no answer came within `timeout_ms`.
int tw_ask_bound_device(int pid, int thread, int fd, unsigned long long inode, int timeout_ms, int *stage, int *value);
/// The network namespaces that sockets of other processes were made in (and keep alive), asked
/// by a child process as `tw_ask_bound_device` asks: for each `i` below `count`, descriptor
/// `fds[i]` of process `pids[i]` is copied (pidfd_getfd), checked from the copy's /proc link alone
/// to be the socket with `inodes[i]`, and asked SIOCGSKNS. Each namespace whose inode is not among
/// the `known_count` of `known` comes back once, as a descriptor this process owns, in
/// `out_fds[n]`, with its inode in `out_inodes[n]` and the socket's index in `out_index[n]`
/// (`*out_count` of them; `out_*` have room for `count`). A socket whose process exited or whose
/// descriptor was closed or reused is passed over. A socket that cannot be asked is counted in
/// `*refused`, the first one's index in `*refused_index`, its errno in `*value` and `*stage` 1
/// (pidfd_open), 2 (pidfd_getfd) or 3 (SIOCGSKNS). Before any copy, the child writes its pid into
/// each of the `join_count` files `join_paths` names (the `cgroup.procs` of the cgroup v1 `net_cls`
/// and `net_prio` groups the holders are in, since a copy takes the receiver's); one it cannot
/// write refuses every socket, with `*stage` 4 and its errno. Returns 0, an errno when the child
/// could not be started, or -1 when it gave no full answer within `timeout_ms` (what came is kept).
/// The child is ended and waited for as `tw_ask_bound_device`'s is: none asks on after this returns.
int tw_socket_namespaces(int count, const int *pids, const int *fds, const unsigned long long *inodes,
                         int join_count, const char *const *join_paths,
                         int known_count, const unsigned long long *known, int timeout_ms,
                         int *out_fds, unsigned long long *out_inodes, int *out_index, int *out_count,
                         int *refused, int *refused_index, int *stage, int *value);
/// The process number of the last child `tw_ask_bound_device` or `tw_socket_namespaces` started
/// on the calling thread (0: none), for tests.
int tw_last_helper(void);
/// Starts `path` with `argv` and `envp` (NULL-terminated) by posix_spawn(2): descriptors
/// `stdin_fd`, `stdout_fd` and `stderr_fd` become 0, 1 and 2, every other descriptor is closed in
/// the child (closefrom, glibc 2.34 and later; otherwise only close-on-exec ones are), and signals
/// are unblocked and set back to their defaults; the child leads a process group of its own.
/// Returns 0 with the pid in `*pid`, or an errno.
int tw_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, int stderr_fd, int *pid);
/// Starts `path` as `tw_spawn` does, under a keeper: a fork of this process that runs the
/// command as its child and is the child subreaper (PR_SET_CHILD_SUBREAPER) of all the command
/// starts, so that what it leaves running, in its process group or out of it (`setsid`, a
/// daemon's double fork), becomes the keeper's child when its parent dies, however it changed its
/// environment. The keeper ends as the command ends (its exit status, or the signal that killed
/// it), once it has sent SIGKILL to the command's group and to everything it was given, and
/// waited for them (at most about 5 s for any that do not die at once). Meanwhile SIGTERM to the
/// keeper is passed on to the command's group, and SIGUSR1 ends the command and all it started
/// with SIGKILL. The keeper reads no process's memory and keeps every other signal blocked.
/// Returns 0 with the keeper's pid in `*pid`, or an errno (from the command's execve, say).
int tw_spawn_kept(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, int stderr_fd, int *pid);
/// Whether a BPF program that traffic control can run (type SCHED_CLS or SCHED_ACT, the only
/// ones tcx, netkit, cls_bpf and act_bpf take) is loaded anywhere on the machine: sets `*loaded`
/// to 1 or 0 and returns 0, or returns an errno (EPERM without CAP_SYS_ADMIN; ENOSYS without
/// bpf(2)). With none loaded, no device has a tc program attached, and none need be asked.
int tw_bpf_tc_programs_loaded(int *loaded);
/// BPF_PROG_QUERY of the tcx programs attached to the device with `ifindex` in the calling
/// thread's network namespace, on its ingress (`egress` 0) or egress: up to `*count` program ids
/// into `programs` and, beside each, the id of the bpf_link holding it (0: attached without one,
/// by BPF_PROG_ATTACH) into `links`. Returns 0 with `*count` the number attached, or an errno
/// (ENOSPC: more than `*count`, which is then the number attached; EINVAL: a kernel without tcx,
/// before Linux 6.6; ENODEV: no such device; EPERM: without CAP_NET_ADMIN).
int tw_bpf_tcx_query(int ifindex, int egress, unsigned *programs, unsigned *links, unsigned *count);
#endif

#endif
